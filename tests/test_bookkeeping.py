"""/report, /export and the daily summary, through the real Application.

The data set is made the way it happens in life: links made by commands'
service, paid through the fake Omise, recorded by a watcher pass. Figures
are checked against the store's own rows, not against the code under test.
"""

from __future__ import annotations

import asyncio
import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from linkbot import exports
from linkbot.bot.daily import DailySummary
from linkbot.config import Settings
from linkbot.exports import HEADER
from linkbot.links import LinkService
from linkbot.money import CURRENCIES, format_amount, to_decimal
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.periods import day_period
from linkbot.reports import Reports
from linkbot.sandbox import fakes
from linkbot.store import LinkRecord, PaymentRow, Store
from tests.conftest import CUSTOMER, GROUP, MERCHANT, Chat, make_link, make_settings
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


BANGKOK = ZoneInfo("Asia/Bangkok")
SUMMARY_AT = time(21, 0)


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(tmp_path, linkbot_database=database, linkbot_daily_report="21:00")


def today() -> date:
    return datetime.now(BANGKOK).date()


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=BANGKOK).astimezone(UTC)


@dataclass
class Sales:
    latte: LinkRecord
    croissant: LinkRecord
    matcha: LinkRecord
    cookie: LinkRecord
    cake: LinkRecord


@pytest.fixture
async def sales(
    chat: Chat,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    watcher: PaymentWatcher,
    store: Store,
) -> Sales:
    """In the group: a latte paid and partly refunded, croissants paid twice, matcha in
    yen, a cookie left open; in private, a cake; and one payment outside the bot."""
    latte = await make_link(link_service, "74.40 Hot Latte", message_id=11)
    croissant = await make_link(link_service, "150 Croissant & <Jam>", multiple=True, message_id=12)
    matcha = await make_link(link_service, "500 jpy 抹茶ラテ ชาเขียว", message_id=13)
    cookie = await make_link(link_service, "99 Cookie", message_id=14)
    cake = await make_link(
        link_service, '1,250.50 thb Cake, "Birthday"', chat_id=MERCHANT, message_id=15
    )
    latte_charge = fake_omise.pay(latte.link_id)
    fake_omise.pay(croissant.link_id)
    fake_omise.pay(croissant.link_id)
    fake_omise.pay(matcha.link_id)
    fake_omise.pay(cake.link_id)
    fake_omise.other_charge(5000)
    await watcher.run_pass()
    fake_omise.refund(latte_charge["id"], 2000)
    await watcher.run_pass()
    # The group's name, as the bot learns it when the merchant uses it there.
    await store.chats.note_chat(GROUP["id"], GROUP["title"])
    return Sales(latte, croissant, matcha, cookie, cake)


async def rows(store: Store, *, chat_id: int | None) -> list[PaymentRow]:
    period = day_period(today(), BANGKOK)
    return [row async for row in store.reports.payments(period.start, period.end, chat_id=chat_id)]


def private_text(telegram: fakes.FakeTelegram, user_id: int = MERCHANT) -> str:
    """The last message a user got in their private chat with the bot."""
    texts = [str(p["text"]) for p in telegram.sent() if str(p["chat_id"]) == str(user_id)]
    assert texts, f"nothing was sent to {user_id}"
    return texts[-1]


def summaries_to(telegram: fakes.FakeTelegram, chat_id: int) -> list[str]:
    """The daily summaries a chat got (paid notices aside)."""
    return [
        str(p["text"])
        for p in telegram.sent("sendMessage")
        if str(p["chat_id"]) == str(chat_id) and str(p["text"]).startswith("🗓 <b>Today")
    ]


# /report


async def test_report_in_a_group_shows_that_groups_sales(
    chat: Chat, sales: Sales, store: Store
) -> None:
    await chat.send("/report", chat=GROUP)

    answer = private_text(chat.telegram)
    assert "Sales in Café Nok" in answer and today().isoformat() in answer
    group_rows = await rows(store, chat_id=GROUP["id"])
    for code in ("THB", "JPY"):
        mine = [r for r in group_rows if r.currency == code]
        assert f"<b>{code}</b> · {len(mine)} paid" in answer
        assert "Gross: " + format_amount(sum(r.amount for r in mine), code) in answer
        assert "Fees: " + format_amount(sum(r.fee or 0 for r in mine), code) in answer
        assert "VAT on fees: " + format_amount(sum(r.fee_vat or 0 for r in mine), code) in answer
        assert "Refunded: " + format_amount(sum(r.refunded for r in mine), code) in answer
    assert "Gross: ฿374.40" in answer and "Refunded: ฿20.00" in answer
    assert "Gross: ¥500" in answer
    assert "Cake" not in answer and "฿1,250.50" not in answer
    assert "1. Croissant &amp; &lt;Jam&gt; · 2×" in answer
    assert "抹茶ラテ ชาเขียว" in answer
    assert "Links: 4 created" in answer
    assert "other payment" not in answer


async def test_report_in_private_covers_every_chat_and_counts_other_payments(
    chat: Chat, sales: Sales, store: Store
) -> None:
    await chat.send("/report today")

    answer = chat.last_text()
    assert "Sales, all chats" in answer
    thb = [r for r in await rows(store, chat_id=None) if r.currency == "THB"]
    assert len(thb) == 4
    assert "Gross: " + format_amount(sum(r.amount for r in thb), "THB") in answer
    assert "Gross: ฿1,624.90" in answer
    assert "Links: 5 created" in answer
    assert "1 other payment on the Omise account did not come through this bot's links." in answer


async def test_report_of_a_quiet_day_says_so(chat: Chat, sales: Sales) -> None:
    await chat.send("/report yesterday", chat=GROUP)

    assert "Nothing yet" in private_text(chat.telegram)


async def test_report_stays_inside_one_message_with_long_titles(
    chat: Chat, link_service: LinkService, fake_omise: fakes.FakeOmise, watcher: PaymentWatcher
) -> None:
    for number in range(4):
        record = await make_link(link_service, f"20 {'Ü&' * 99}{number}", message_id=40 + number)
        fake_omise.pay(record.link_id)
    await watcher.run_pass()

    await chat.send("/report", chat=GROUP)

    answer = private_text(chat.telegram)
    assert len(answer) < 4096
    assert "…" in answer


@pytest.mark.parametrize("command", ["/report", "/export", "/report daily on"])
async def test_strangers_are_refused(chat: Chat, sales: Sales, command: str) -> None:
    await chat.send(command, user_id=CUSTOMER)

    assert "Only the merchant's authorized users" in chat.last_text()
    assert not chat.telegram.sent("sendDocument")


@pytest.mark.parametrize(
    ("command", "typed"),
    [("/report", "lastweek"), ("/export", "2026-13-01"), ("/report", "2026-11-27..2026-11-01")],
)
async def test_bad_periods_get_the_usage(chat: Chat, command: str, typed: str) -> None:
    await chat.send(f"{command} {typed}", chat=GROUP)

    answer = chat.last_text()
    assert f"“{typed}” is not a period" in answer
    assert f"Usage: {command} [period]" in answer
    assert "<code>2026-11-01..2026-11-27</code>" in answer


# /export


def exported_csv(telegram: fakes.FakeTelegram) -> tuple[dict[str, Any], list[list[str]]]:
    (call,) = telegram.sent("sendDocument")
    content: bytes = call["document"]["content"]
    assert content.startswith(b"\xef\xbb\xbf")
    decoded = content[3:].decode("utf-8")
    assert "\r\n" in decoded and "\n" not in decoded.replace("\r\n", "")
    return call, list(csv.reader(io.StringIO(decoded, newline="")))


async def test_export_in_a_group_is_a_csv_of_that_groups_payments(
    chat: Chat, sales: Sales, store: Store, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/export", chat=GROUP)

    call, table = exported_csv(fake_telegram)
    assert str(call["chat_id"]) == str(MERCHANT)
    assert call["document"]["filename"] == f"linkbot-{today().isoformat()}.csv"
    assert "4 payment(s)" in call["caption"]
    assert table[0] == list(HEADER)
    expected = await rows(store, chat_id=GROUP["id"])
    assert len(table) - 1 == len(expected) == 4
    for line, row in zip(table[1:], expected, strict=True):
        record = dict(zip(HEADER, line, strict=True))
        currency = CURRENCIES[row.currency]

        def major(amount: int | None, currency: Any = currency) -> str:
            return "" if amount is None else format(to_decimal(amount, currency), "f")

        assert record["charge_id"] == row.charge_id
        assert record["link_id"] == row.link_id
        assert record["title"] == row.title
        assert record["currency"] == row.currency
        assert record["amount"] == major(row.amount)
        assert record["fee"] == major(row.fee)
        assert record["vat"] == major(row.fee_vat)
        assert record["net"] == major(row.net)
        assert record["refunded"] == major(row.refunded)
        assert record["status"] == "successful"
        assert record["chat"] == "Café Nok"
        utc = datetime.strptime(record["utc_time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert utc == row.paid_at.replace(microsecond=0)
        assert record["local_time"] == utc.astimezone(BANGKOK).strftime("%Y-%m-%d %H:%M:%S")
    by_title = {line[3]: line for line in table[1:]}
    assert by_title["Hot Latte"][5] == "74.40" and by_title["Hot Latte"][12] == "20.00"
    assert by_title["抹茶ラテ ชาเขียว"][5] == "500" and by_title["抹茶ラテ ชาเขียว"][6] == "JPY"
    assert Decimal(by_title["Hot Latte"][9]) == Decimal("2.71")  # 3.65 % of 74.40, rounded down


async def test_export_in_private_covers_every_chat(
    chat: Chat, sales: Sales, store: Store, fake_telegram: fakes.FakeTelegram
) -> None:
    first = today() - timedelta(days=6)
    await chat.send("/export week")

    call, table = exported_csv(fake_telegram)
    assert str(call["chat_id"]) == str(MERCHANT)
    assert call["document"]["filename"] == f"linkbot-{first}..{today()}.csv"
    assert [line[7] for line in table[1:]] == [r.charge_id for r in await rows(store, chat_id=None)]
    cake = next(line for line in table[1:] if line[2] == sales.cake.link_id)
    assert cake[3] == 'Cake, "Birthday"' and cake[5] == "1250.50"


async def test_exports_stream_one_at_a_time_leaving_the_pool_to_commands(
    sales: Sales, store: Store
) -> None:
    # An export holds its connection while its reader writes the file: a
    # second waits for it, and commands meanwhile get connections at once.
    period = day_period(today(), BANGKOK)
    first = store.reports.payments(period.start, period.end, chat_id=None)
    second = store.reports.payments(period.start, period.end, chat_id=None)
    first_row = await anext(first)

    waiting = asyncio.ensure_future(anext(second))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    # The waiting export holds no connection while it waits.
    assert store.db.engine.sync_engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert await asyncio.wait_for(store.links.get_link(sales.latte.link_id), 2) is not None

    rest = [row async for row in first]
    second_row = await asyncio.wait_for(waiting, 5)
    assert second_row == first_row
    assert len([second_row, *[row async for row in second]]) == 1 + len(rest)


async def test_an_export_that_fails_midway_lets_the_next_one_run(
    sales: Sales, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A full disk while writing the file: the error is kept (as an error
    # handler keeps it while it answers), and the next export still runs.
    written = 0

    def failing_row(payment: PaymentRow, zone: ZoneInfo) -> list[str]:
        nonlocal written
        written += 1
        if written == 2:
            raise OSError(28, "No space left on device")
        return [payment.charge_id]

    monkeypatch.setattr(exports, "csv_row", failing_row)
    period = day_period(today(), BANGKOK)
    with pytest.raises(OSError) as kept:
        async with exports.exported(store.reports, period, chat_id=None, zone=BANGKOK):
            pass
    assert kept.value.errno == 28

    following = store.reports.payments(period.start, period.end, chat_id=None)
    assert await asyncio.wait_for(anext(following), 2) is not None
    await following.aclose()


async def test_export_with_nothing_to_export_sends_no_file(
    chat: Chat, sales: Sales, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/export yesterday", chat=GROUP)

    assert not fake_telegram.sent("sendDocument")
    assert "No payments to export" in private_text(fake_telegram)


# The daily summary


def summary(chat: Chat, store: Store, omise: OmiseClient, clock: list[datetime]) -> DailySummary:
    """A summary loop as one process would run it, its clock set by ``clock[0]``."""
    return DailySummary(
        chat.app.bot,
        Reports(store, omise),
        store,
        at=SUMMARY_AT,
        zone=BANGKOK,
        allowed_users=frozenset({MERCHANT}),
        now=lambda: clock[0],
    )


async def test_daily_summary_goes_once_to_each_chat_that_had_payments(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    day = today()
    clock = [at(day, 20, 59, 59)]
    loop = summary(chat, store, omise, clock)
    assert await loop.check() == 0

    clock[0] = at(day, 21, 0)
    assert await loop.check() == 2
    # The group's summary goes to the merchant privately, named after the group.
    assert summaries_to(fake_telegram, GROUP["id"]) == []
    group_summary, private_summary = sorted(summaries_to(fake_telegram, MERCHANT))
    assert "Today in Café Nok" in group_summary and "Gross: ฿374.40" in group_summary
    assert "Today in this chat" in private_summary and "Gross: ฿1,250.50" in private_summary

    clock[0] = at(day, 21, 0, 30)
    assert await loop.check() == 0
    # A restart within that minute: a new loop on the same store.
    assert await summary(chat, store, omise, clock).check() == 0
    # Even one that finds the day not marked done: the claims hold.
    assert await summary(chat, store, omise, clock).send_day(day) == (0, True)
    assert len(summaries_to(fake_telegram, MERCHANT)) == 2


async def test_daily_summary_catches_up_after_a_late_start(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    clock = [at(today(), 23, 30)]

    assert await summary(chat, store, omise, clock).check() == 2
    assert len(summaries_to(fake_telegram, MERCHANT)) == 2


async def test_daily_summary_skips_empty_days(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/report daily on")
    before = len(fake_telegram.sent("sendMessage"))
    clock = [at(today() + timedelta(days=1), 21, 0)]

    assert await summary(chat, store, omise, clock).check() == 0
    assert len(fake_telegram.sent("sendMessage")) == before


async def test_daily_subscription_on_and_off(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/report daily on")
    assert "every day at 21:00" in chat.last_text()
    assert await store.reports.daily_subscribers() == [MERCHANT]
    # Someone no longer authorized gets nothing, whatever they asked for before.
    await store.reports.set_daily_subscription(CUSTOMER, True, datetime.now(UTC))
    day = today()
    clock = [at(day, 21, 0)]

    assert await summary(chat, store, omise, clock).check() == 2
    (private_summary,) = [
        s for s in summaries_to(fake_telegram, MERCHANT) if "Today, all chats" in s
    ]
    assert "Today, all chats" in private_summary and "Gross: ฿1,624.90" in private_summary
    assert "1 other payment" in private_summary
    assert not summaries_to(fake_telegram, CUSTOMER)

    await chat.send("/report daily off")
    assert "no longer get the daily summary" in chat.last_text()
    assert await store.reports.daily_subscribers() == [CUSTOMER]
    clock[0] = at(day + timedelta(days=1), 21, 0)
    assert await summary(chat, store, omise, clock).check() == 0


async def test_daily_subscription_is_asked_for_in_private(chat: Chat) -> None:
    await chat.send("/report daily on", chat=GROUP)
    assert "in a private chat with me" in chat.last_text()

    await chat.send("/report daily sometimes")
    assert "Usage: /report <code>daily on</code>" in chat.last_text()


def test_text_a_spreadsheet_would_run_is_kept_text() -> None:
    from linkbot.exports import csv_row

    row = PaymentRow(
        charge_id="chrg_test_1",
        link_id="link_test_1",
        title='=HYPERLINK("http://evil.test","Latte")',
        description="+cmd|' /C calc'!A0",
        amount=7440,
        currency="THB",
        status="successful",
        paid_at=datetime(2026, 11, 27, 7, 2, 11, tzinfo=UTC),
        fee=271,
        fee_vat=19,
        net=7150,
        refunded=0,
        chat_id=GROUP["id"],
        chat_title="@SUM(1)",
    )
    cells = csv_row(row, ZoneInfo("Asia/Bangkok"))
    assert cells[3] == "'" + row.title and cells[4] == "'" + row.description
    assert cells[-1] == "'@SUM(1)"
    assert cells[5] == "74.40" and cells[11] == "71.50"  # amounts untouched


async def test_a_long_bad_period_still_gets_its_usage_line(chat: Chat) -> None:
    await chat.send("/report " + "x" * 4000, chat=GROUP)
    answer = chat.last_text()
    assert "x" * 39 + "…" in answer and len(answer) < 1000


async def test_no_daily_summary_for_a_user_no_longer_authorized(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    day = today()
    loop = DailySummary(
        chat.app.bot,
        Reports(store, omise),
        store,
        at=SUMMARY_AT,
        zone=BANGKOK,
        allowed_users=frozenset({CUSTOMER}),  # the merchant's id was taken off the list
        now=lambda: at(day, 21, 0),
    )
    await loop.check()
    assert summaries_to(fake_telegram, MERCHANT) == []
    assert len(summaries_to(fake_telegram, CUSTOMER)) == 1


async def test_the_daily_summary_waits_for_the_watcher_to_catch_up(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    loop = summary(chat, store, omise, [at(today(), 21, 0)])
    stop, caught_up = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(loop.run(stop, interval=0.01, caught_up=caught_up))
    await asyncio.sleep(0.1)
    assert summaries_to(fake_telegram, MERCHANT) == []  # nothing before the first pass
    caught_up.set()
    for _ in range(100):
        if len(summaries_to(fake_telegram, MERCHANT)) == 2:
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(running, 5)
    assert len(summaries_to(fake_telegram, MERCHANT)) == 2


async def test_a_private_chat_once_blocked_still_gets_its_summary(
    chat: Chat, sales: Sales, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    await store.chats.set_forbidden(MERCHANT, datetime.now(UTC))  # blocked once, unblocked since
    await summary(chat, store, omise, [at(today(), 21, 0)]).check()
    assert len(summaries_to(fake_telegram, MERCHANT)) == 2  # its own chat's, and the group's


@pytest.mark.parametrize("fault", [{"status": 503, "times": 10}, {"delay": 1.0, "times": 10}])
async def test_a_private_report_stands_when_omise_fails(
    chat: Chat, sales: Sales, fake_omise: fakes.FakeOmise, fault: dict[str, Any]
) -> None:
    fake_omise.fail("GET /charges", **fault)
    await chat.send("/report")
    answer = chat.last_text()
    assert "Sales, all chats" in answer and "Gross:" in answer
    assert "did not come through this bot's links" not in answer


async def test_an_export_telegram_refuses_says_so(
    chat: Chat, sales: Sales, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.fail(
        "sendDocument",
        status=400,
        body={"ok": False, "error_code": 400, "description": "Bad Request: not enough rights"},
    )
    await chat.send("/export month")

    assert "could not send the file here" in chat.last_text()
