"""Reports over a fixed data set, made through the real watcher, the fake Omise and the store.

Fees are the fake's: 3.65 % rounded down, and 7 % VAT on that, rounded down.
Every figure below is worked out by hand from the amounts.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.periods import Period, day_period, parse_period
from linkbot.reports import CurrencyTotals, LinkCounts, Report, Reports
from linkbot.sandbox import fakes
from linkbot.store import ChargeRecord, LinkRecord, Store
from tests.conftest import GROUP, MERCHANT, make_link
from tests.databases import ENGINES


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


BANGKOK = ZoneInfo("Asia/Bangkok")
OTHER_GROUP = -100999


def bangkok_today() -> date:
    return datetime.now(BANGKOK).date()


def local(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BANGKOK)


@pytest.fixture
def reports(store: Store, omise: OmiseClient) -> Reports:
    return Reports(store, omise)


class DataSet:
    edge_day: date  # a day three days back, with payments at 23:59 and at 00:01 the next day
    edge_link: LinkRecord


@pytest.fixture
async def data(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    store: Store,
) -> DataSet:
    # The group: a reusable cake link paid three times (one partly refunded),
    # a latte and a matcha (JPY) paid once, one cancelled, one with a
    # declined card, one with a payment not completed yet, and a reusable pie
    # link whose payments were days ago.
    cake = await make_link(link_service, "1000 Cake", multiple=True, message_id=1)
    latte = await make_link(link_service, "74.40 Hot Latte", message_id=2)
    matcha = await make_link(link_service, "500 jpy Matcha", message_id=3)
    tea = await make_link(link_service, "120 Tea", message_id=4)
    cookie = await make_link(link_service, "80 Cookie", message_id=5)
    juice = await make_link(link_service, "90 Juice", message_id=6)
    pie = await make_link(link_service, "300 Pie", multiple=True, message_id=7)
    # Another group: ramen (JPY) paid and refunded in full, a cake paid once.
    ramen = await make_link(link_service, "2000 jpy Ramen", chat_id=OTHER_GROUP, message_id=1)
    other_cake = await make_link(link_service, "1000 Cake", chat_id=OTHER_GROUP, message_id=2)
    # The merchant's private chat with the bot: a donut.
    donut = await make_link(link_service, "50 Donut", chat_id=MERCHANT, message_id=1)
    await watcher.run_pass()

    cake_charges = [fake_omise.pay(cake.link_id) for _ in range(3)]
    for record in (latte, matcha, ramen, other_cake, donut):
        fake_omise.pay(record.link_id)
    fake_omise.pay(cookie.link_id, status="failed")
    fake_omise.pay(juice.link_id, status="pending")
    assert await store.links.mark_cancelled(tea.link_id)
    await watcher.run_pass()
    fake_omise.refund(cake_charges[0]["id"], 40000)
    [ramen_charge] = [c for c in fake_omise.charges.values() if c["link"] == ramen.link_id]
    fake_omise.refund(ramen_charge["id"])
    await watcher.run_pass()

    # Payments just before and just after a local midnight, placed directly.
    data = DataSet()
    data.edge_day = bangkok_today() - timedelta(days=3)
    data.edge_link = pie
    await store.charges.record_charge(
        ChargeRecord(
            "chrg_test_edge_before",
            pie.link_id,
            30000,
            "THB",
            paid_at=local(data.edge_day, 23, 59),
            created_at=local(data.edge_day, 23, 58),
            fee=1095,
            fee_vat=76,
        )  # Omise did not say the net: amount less fees, 28829
    )
    await store.charges.record_charge(
        ChargeRecord(
            "chrg_test_edge_after",
            pie.link_id,
            30000,
            "THB",
            paid_at=local(data.edge_day + timedelta(days=1), 0, 1),
            created_at=local(data.edge_day + timedelta(days=1), 0, 0),
            refunded=5000,
        )  # no fees known at all: the net is the amount less the refund
    )

    # Outside the bot: two payments from the merchant's web shop (one
    # refunded: still a payment that was made), and one that failed.
    fake_omise.other_charge(25000)
    fake_omise.refund(fake_omise.other_charge(12000)["id"])
    failed = fake_omise.other_charge(9900)
    failed.update(status="failed", paid=False, paid_at=None)
    # Paid through the bot's link after the watcher's last look: still the bot's.
    fake_omise.pay(cake.link_id)
    return data


def today_period() -> Period:
    return parse_period("today", today=bangkok_today(), zone=BANGKOK)


async def test_group_report(reports: Reports, data: DataSet) -> None:
    report = await reports.report(today_period(), chat_id=GROUP["id"])
    assert report == Report(
        period=today_period(),
        chat_id=GROUP["id"],
        totals=[
            # 3 × 1000.00 + 74.40; fees 3 × 36.50 + 2.71, VAT 3 × 2.55 + 0.18;
            # net 3 × 960.95 + 71.51 − 400.00 refunded.
            CurrencyTotals("JPY", 1, 500, 18, 1, 0, 481),
            CurrencyTotals("THB", 4, 307440, 11221, 783, 40000, 255436),
        ],
        # The pie link is paid (earlier) and open; juice (pending) and cookie (declined) are open.
        links=LinkCounts(created=7, paid=4, open=4, cancelled=1),
        best_sellers=[("Cake", 3), ("Hot Latte", 1), ("Matcha", 1)],
        other_payments=None,
    )
    assert not report.empty


async def test_other_group_report_has_only_its_links(reports: Reports, data: DataSet) -> None:
    report = await reports.report(today_period(), chat_id=OTHER_GROUP)
    assert report.totals == [
        # Refunded in full: the fees stay with Omise, so the net is below zero.
        CurrencyTotals("JPY", 1, 2000, 73, 5, 2000, -78),
        CurrencyTotals("THB", 1, 100000, 3650, 255, 0, 96095),
    ]
    assert report.links == LinkCounts(created=2, paid=2, open=0, cancelled=0)
    assert report.best_sellers == [("Cake", 1), ("Ramen", 1)]
    assert report.other_payments is None


async def test_private_report_covers_every_link_and_counts_other_payments(
    reports: Reports, data: DataSet, fake_omise: fakes.FakeOmise
) -> None:
    before = fake_omise.count("GET /charges")
    report = await reports.report(today_period(), chat_id=None)
    assert report.chat_id is None
    assert report.totals == [
        CurrencyTotals("JPY", 2, 2500, 91, 6, 2000, 403),
        CurrencyTotals("THB", 6, 412440, 15053, 1050, 40000, 356337),
    ]
    assert report.links == LinkCounts(created=10, paid=7, open=4, cancelled=1)
    # Titles are counted across chats: the two groups' cakes are one title.
    assert report.best_sellers == [("Cake", 4), ("Donut", 1), ("Hot Latte", 1)]
    # The web shop's two successful charges; not the failed one, nor the bot's own.
    assert report.other_payments == 2
    assert fake_omise.count("GET /charges") - before == 1


async def test_payments_fall_on_the_local_day_they_were_paid(
    reports: Reports, data: DataSet
) -> None:
    before = await reports.report(day_period(data.edge_day, BANGKOK), chat_id=GROUP["id"])
    assert before.totals == [CurrencyTotals("THB", 1, 30000, 1095, 76, 0, 28829)]
    assert before.best_sellers == [("Pie", 1)]
    # Paid, but no link was made that day.
    assert before.links == LinkCounts(0, 0, 0, 0) and not before.empty

    after = await reports.report(
        day_period(data.edge_day + timedelta(days=1), BANGKOK), chat_id=GROUP["id"]
    )
    assert after.totals == [CurrencyTotals("THB", 1, 30000, 0, 0, 5000, 25000, fees_unknown=1)]

    both = parse_period(
        f"{data.edge_day}..{data.edge_day + timedelta(days=1)}",
        today=bangkok_today(),
        zone=BANGKOK,
    )
    report = await reports.report(both, chat_id=GROUP["id"])
    assert report.totals == [CurrencyTotals("THB", 2, 60000, 1095, 76, 5000, 53829, fees_unknown=1)]
    assert report.best_sellers == [("Pie", 2)]

    # In UTC both were paid on the same day (16:59 and 17:01).
    utc_day = await reports.report(day_period(data.edge_day, ZoneInfo("UTC")), chat_id=None)
    assert utc_day.totals == [
        CurrencyTotals("THB", 2, 60000, 1095, 76, 5000, 53829, fees_unknown=1)
    ]


async def test_a_week_holds_the_days_payments_together(reports: Reports, data: DataSet) -> None:
    week = parse_period("week", today=bangkok_today(), zone=BANGKOK)
    report = await reports.report(week, chat_id=GROUP["id"])
    assert report.totals == [
        CurrencyTotals("JPY", 1, 500, 18, 1, 0, 481),
        CurrencyTotals("THB", 6, 367440, 12316, 859, 45000, 309265, fees_unknown=1),
    ]
    assert report.best_sellers == [("Cake", 3), ("Pie", 2), ("Hot Latte", 1)]
    assert report.links == LinkCounts(created=7, paid=4, open=4, cancelled=1)


async def test_a_quiet_period_is_empty(reports: Reports, data: DataSet) -> None:
    quiet = day_period(bangkok_today() - timedelta(days=10), BANGKOK)
    group = await reports.report(quiet, chat_id=GROUP["id"])
    assert group.empty
    assert (group.totals, group.best_sellers) == ([], [])
    assert group.links == LinkCounts(0, 0, 0, 0)
    private = await reports.report(quiet, chat_id=None)
    assert private.empty and private.other_payments == 0


async def test_chats_with_payments(reports: Reports, data: DataSet) -> None:
    assert await reports.chats_with_payments(today_period()) == sorted(
        [GROUP["id"], OTHER_GROUP, MERCHANT]
    )
    assert await reports.chats_with_payments(day_period(data.edge_day, BANGKOK)) == [GROUP["id"]]
    assert (
        await reports.chats_with_payments(day_period(data.edge_day - timedelta(days=1), BANGKOK))
        == []
    )


async def test_other_payments_are_read_a_hundred_at_a_time(
    reports: Reports, store: Store, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    for _ in range(230):
        fake_omise.other_charge(2000)
    report = await reports.report(today_period(), chat_id=None)
    assert report.other_payments == 230
    assert fake_omise.count("GET /charges") == 3
    assert report.empty  # the bot's own links had nothing


async def test_a_charge_paid_the_day_before_is_not_counted(
    reports: Reports, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    # Listed (created within the look-back before the period) but paid before it started.
    period = today_period()
    early = fake_omise.other_charge(2000)
    stamp = (period.start - timedelta(minutes=5)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    early.update(created_at=stamp, paid_at=stamp)
    fake_omise.other_charge(3000)
    assert (await reports.report(period, chat_id=None)).other_payments == 1


async def test_payments_through_links_not_made_by_the_bot_are_other_payments(
    reports: Reports, link_service: LinkService, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    ours = await make_link(link_service, "100 Bagel", multiple=True)
    fake_omise.pay(ours.link_id)
    # The older charge shape names the bot's link only through its return URI.
    older = fake_omise.pay(ours.link_id)
    older.update(link=None)
    # A link the merchant made in the Omise dashboard.
    dashboard = fake_omise.add_link(amount=5000, title="Dashboard")
    fake_omise.pay(dashboard["id"])
    fake_omise.pay(dashboard["id"], status="pending")
    assert (await reports.report(today_period(), chat_id=None)).other_payments == 1


async def test_the_private_report_stands_when_omise_cannot_list_charges(
    reports: Reports, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    for _ in range(250):
        fake_omise.other_charge(2000)
    fake_omise.fail("GET /charges", status=401)
    report = await reports.report(today_period(), chat_id=None)
    assert report.other_payments is None


async def test_other_payments_are_not_counted_past_a_month(
    reports: Reports, fake_omise: fakes.FakeOmise, mock_http: object
) -> None:
    today = datetime.now(BANGKOK).date()
    period = parse_period(f"{today - timedelta(days=90)}..{today}", today=today, zone=BANGKOK)
    report = await reports.report(period, chat_id=None)
    assert report.other_payments is None and fake_omise.count("GET /charges") == 0
