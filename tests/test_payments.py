"""The payment watcher and Omise webhooks, with both APIs served by the fakes through respx."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot

from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient, ServerError
from linkbot.payments import CLAIM_LEASE, PassReport, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import LinkStatus, Store
from tests.conftest import GROUP, MERCHANT, Chat, make_link


def notices(telegram: fakes.FakeTelegram) -> list[str]:
    return [str(call["text"]) for call in telegram.sent("sendMessage")]


# The watcher


async def test_one_time_link_paid(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    assert fake_telegram.sent("sendMessage") == []

    fake_omise.pay(record.link_id)
    report = await watcher.run_pass()
    # One request: the event list, which tells of the charge.
    assert (report.new_charges, report.announced, report.omise_requests) == (1, 1, 1)

    [edit] = fake_telegram.sent("editMessageText")
    assert edit["message_id"] == "77"
    assert "✅ Paid ฿74.40 · " in edit["text"] and "reply_markup" not in edit
    [notice] = fake_telegram.sent("sendMessage")
    assert notice["chat_id"] == str(GROUP["id"])
    assert notice["reply_parameters"]["message_id"] == 77
    assert notice["text"].startswith("✅ <b>Hot Latte</b> was paid: ฿74.40 at ")
    stored = await store.links.get_link(record.link_id)
    assert stored is not None and stored.status is LinkStatus.PAID
    assert (stored.paid_count, stored.paid_total) == (1, 7440)

    # Nothing is said twice, and a paid link is no longer swept.
    report = await watcher.run_pass()
    assert (report.omise_requests, report.announced) == (1, 0)
    await watcher.sweep(report)
    assert report.open_links == 0
    assert len(fake_telegram.sent("sendMessage")) == 1


async def test_reusable_link_paid_three_times(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    # In the merchant's private chat: a group of customers hears no running totals.
    record = await make_link(link_service, "150 Donation", multiple=True, chat_id=MERCHANT)
    fake_omise.pay(record.link_id)
    await watcher.run_pass()
    fake_omise.pay(record.link_id)
    fake_omise.pay(record.link_id, status="failed")
    fake_omise.pay(record.link_id)
    await watcher.run_pass()
    await watcher.run_pass()

    texts = notices(fake_telegram)
    assert len(texts) == 3
    assert "Payment 1; ฿150.00 in all" in texts[0]
    assert "Payment 2; ฿300.00 in all" in texts[1]
    assert "Payment 3; ฿450.00 in all" in texts[2]
    last_edit = fake_telegram.sent("editMessageText")[-1]
    assert "✅ 3 payments · ฿450.00 in all" in last_edit["text"]
    assert "reply_markup" in last_edit  # still payable
    stored = await store.links.get_link(record.link_id)
    assert stored is not None and stored.status is LinkStatus.ACTIVE and stored.paid_count == 3


async def test_many_payments_fetch_the_charges_list(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service, "20 Raffle ticket", multiple=True, chat_id=MERCHANT)
    for _ in range(25):
        fake_omise.pay(record.link_id)
    report = await watcher.run_pass()
    assert report.new_charges == 25 and report.announced == 25
    assert fake_omise.count(f"GET /links/{record.link_id}/charges") == 1
    assert "Payment 25; ฿500.00 in all" in notices(fake_telegram)[-1]
    # Unchanged count: the charges list is not fetched again.
    await watcher.run_pass()
    assert fake_omise.count(f"GET /links/{record.link_id}/charges") == 1


async def test_link_deleted_in_the_dashboard(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    record = await make_link(link_service)
    fake_omise.delete(record.link_id)
    report = await watcher.run_pass()
    assert report.cancelled == 1
    stored = await store.links.get_link(record.link_id)
    assert stored is not None and stored.status is LinkStatus.CANCELLED
    [edit] = fake_telegram.sent("editMessageText")
    assert "🚫 Cancelled" in edit["text"] and "reply_markup" not in edit
    assert fake_telegram.sent("sendMessage") == []


async def test_omise_failing_during_a_pass(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    fake_omise.fail("GET /events", status=503, times=4)
    with pytest.raises(ServerError):
        await watcher.run_pass()
    assert fake_telegram.sent("sendMessage") == []
    await watcher.run_pass()
    assert len(fake_telegram.sent("sendMessage")) == 1


async def test_a_failing_sweep_does_not_hold_up_payments(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service, "150 Donation", multiple=True)
    fake_omise.pay(record.link_id)
    fake_omise.fail("GET /links", status=429, times=8)  # two sweeps' worth of tries
    for _ in range(2):
        report = await watcher.run_pass()
        assert not report.swept
    assert len(fake_telegram.sent("sendMessage")) == 1  # the events told of it
    assert (await watcher.run_pass()).swept


async def test_the_loop_survives_failures(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    fake_omise.fail("GET /events", status=500, times=8)  # two whole passes fail
    stop = asyncio.Event()
    loop = asyncio.create_task(watcher.run(0.01, stop))
    for _ in range(500):
        if fake_telegram.sent("sendMessage"):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(loop, 5)
    assert len(fake_telegram.sent("sendMessage")) == 1
    assert fake_omise.count("GET /events") >= 9


async def test_a_failed_telegram_send_is_retried_not_dropped(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    fake_telegram.fail(
        "sendMessage",
        status=400,
        body={"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )
    report = await watcher.run_pass()
    assert report.failed_announcements == 1 and fake_telegram.messages == []
    report = await watcher.run_pass()
    assert report.announced == 1 and len(fake_telegram.messages) == 1


async def test_restart_in_the_middle(
    settings: Settings,
    omise: OmiseClient,
    bot: Bot,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = await make_link(link_service, message_id=1)
    second = await make_link(link_service, "30 Tea", message_id=2)
    fake_omise.pay(first.link_id)
    fake_omise.pay(second.link_id)
    # The first process records both payments, then dies after claiming one
    # announcement and before sending it.
    watcher = PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone))
    await watcher.sweep(PassReport())
    [claimed, _] = await store.charges.unannounced_charges()
    assert await store.charges.claim_announcement(claimed.charge_id, datetime.now(UTC), CLAIM_LEASE)
    await store.close()

    # A new process on the same file.
    reopened = Store.sqlite(settings.linkbot_database)
    await reopened.initialize()
    try:
        # Claims are judged on the database's clock; SQLite's is this host's.
        later = datetime.now(UTC)
        monkeypatch.setattr(reopened.db, "clock", lambda now: later if now is None else now)
        restarted = PaymentWatcher(
            omise, reopened, TelegramAnnouncer(bot, store, settings.timezone), now=lambda: later
        )
        await restarted.run_pass()
        assert len(fake_telegram.messages) == 1  # the claimed one waits for its lease
        later += CLAIM_LEASE + timedelta(seconds=1)
        await restarted.run_pass()
        await restarted.run_pass()
        assert len(fake_telegram.messages) == 2
        assert {m["text"].split("</b>")[0] for m in fake_telegram.messages} == {
            "✅ <b>Hot Latte",
            "✅ <b>Tea",
        }
    finally:
        await reopened.close()


async def test_overlapping_passes_announce_once(
    settings: Settings,
    omise: OmiseClient,
    bot: Bot,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    records = [await make_link(link_service, f"{20 + n} Item {n}", message_id=n) for n in range(5)]
    for record in records:
        fake_omise.pay(record.link_id)
    other_store = Store.sqlite(settings.linkbot_database)  # as a second process would
    try:
        watchers = [
            PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone)),
            PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone)),
            PaymentWatcher(omise, other_store, TelegramAnnouncer(bot, store, settings.timezone)),
        ]
        await asyncio.gather(*(w.run_pass() for w in watchers), *(w.run_pass() for w in watchers))
    finally:
        await other_store.close()
    assert len(fake_telegram.messages) == 5
    assert len({m["text"] for m in fake_telegram.messages}) == 5


async def test_links_past_the_horizon_are_not_watched(
    omise: OmiseClient,
    bot: Bot,
    store: Store,
    settings: Settings,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    future = datetime.now(UTC) + timedelta(days=31)
    watcher = PaymentWatcher(
        omise, store, TelegramAnnouncer(bot, store, settings.timezone), now=lambda: future
    )
    report = await watcher.run_pass()
    assert report.swept and report.open_links == 0
    assert fake_omise.count("GET /links") == 0 and report.new_charges == 0


async def test_status_and_links_show_payments(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    omise: OmiseClient,
    store: Store,
    settings: Settings,
) -> None:
    # A staff-only group that chose to see its figures.
    await chat.send("/report here on", chat=GROUP)
    await chat.send("/multilink 150 Donation", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    fake_omise.pay(link_id)
    fake_omise.pay(link_id)
    watcher = PaymentWatcher(
        omise, store, TelegramAnnouncer(chat.app.bot, store, settings.timezone)
    )
    await watcher.run_pass()
    await chat.send("/links", chat=GROUP)
    assert "Donation</b> · ฿150.00 · active · 2× paid, ฿300.00" in chat.last_text()
    await chat.send(f"/status {link_id}", chat=GROUP)
    assert "Payments: 2 · paid ฿300.00" in chat.last_text()
