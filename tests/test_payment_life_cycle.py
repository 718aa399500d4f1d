"""Charges that change state: pending first and settled later, failed, seen only through events.

Webhooks are off in all of these: the watcher's own passes must find every
payment. Omise and Telegram are the fakes, through respx.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot

from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import CURSOR_KEY, PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import LinkStatus, Store
from tests.conftest import MERCHANT, make_link


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watcher(
    omise: OmiseClient, store: Store, bot: Bot, settings: Settings, clock: Clock
) -> PaymentWatcher:
    return PaymentWatcher(
        omise,
        store,
        TelegramAnnouncer(bot, store, settings.timezone),
        sweep_interval=600,
        now=clock,
    )


def said(telegram: fakes.FakeTelegram) -> list[str]:
    return [str(call["text"]) for call in telegram.sent("sendMessage")]


async def test_pending_then_successful_is_announced_once(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    charge = fake_omise.pay(record.link_id, status="pending")  # a PromptPay QR scanned
    report = await watcher.run_pass()
    assert report.pending_charges == 1 and said(fake_telegram) == []
    stored = await store.charges.get_charge(charge["id"])
    assert stored is not None and stored.status == "pending"
    assert await store.charges.pending_charge_links() == {record.link_id}

    fake_omise.settle(charge["id"], "successful")  # confirmed in the banking app
    report = await watcher.run_pass()
    assert (report.new_charges, report.announced, report.omise_requests) == (1, 1, 1)
    for _ in range(3):
        await watcher.run_pass()

    [notice] = said(fake_telegram)
    assert notice.startswith("✅ <b>Hot Latte</b> was paid: ฿74.40 at ")
    [edit] = fake_telegram.sent("editMessageText")
    assert "✅ Paid ฿74.40" in edit["text"] and "reply_markup" not in edit
    link = await store.links.get_link(record.link_id)
    assert link is not None and link.status is LinkStatus.PAID and link.paid_total == 7440
    assert await store.charges.pending_charge_links() == set()


@pytest.mark.parametrize(
    ("ending", "words"),
    [("failed", "did not go through"), ("expired", "expired before it was completed")],
)
async def test_pending_that_fails_is_never_announced_as_paid(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    ending: str,
    words: str,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="pending")
    await watcher.run_pass()
    fake_omise.settle(charge["id"], ending)
    for _ in range(4):
        await watcher.run_pass()
    [notice] = said(fake_telegram)
    assert words in notice and "was paid" not in notice
    assert "The link can still be paid" in notice
    assert fake_telegram.sent("editMessageText") == []
    link = await store.links.get_link(record.link_id)
    assert link is not None and link.status is LinkStatus.ACTIVE and link.paid_count == 0


async def test_a_card_declined_at_once_says_nothing(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    fake_omise.pay(record.link_id, status="failed")  # the customer saw it on the payment page
    report = await watcher.run_pass()
    assert report.failed_charges == 1 and said(fake_telegram) == []


async def test_pending_charges_of_a_reusable_link_settle_in_any_order(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    # In the merchant's private chat: a group of customers hears no running totals.
    record = await make_link(link_service, "150 Donation", multiple=True, chat_id=MERCHANT)
    first = fake_omise.pay(record.link_id, status="pending")
    second = fake_omise.pay(record.link_id, status="pending")
    fake_omise.pay(record.link_id)  # a card, paid at once
    await watcher.run_pass()
    fake_omise.settle(second["id"], "successful")
    await watcher.run_pass()
    fake_omise.settle(first["id"], "expired")
    await watcher.run_pass()
    texts = said(fake_telegram)
    assert "Payment 1; ฿150.00 in all" in texts[0]
    assert "Payment 2; ฿300.00 in all" in texts[1]
    assert "expired before it was completed" in texts[2]
    assert len(texts) == 3


async def test_an_idle_pass_is_one_request_whatever_the_number_of_links(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
) -> None:
    for n in range(30):
        await make_link(link_service, f"{20 + n} Item {n}")
    await watcher.run_pass()  # at start-up: the sweep too
    before = len(fake_omise.requests)
    report = await watcher.run_pass()
    assert report.omise_requests == 1 and fake_omise.requests[before:] == ["GET /events"]


async def test_other_charges_on_the_account_are_ignored(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    stranger = fake_omise.add_link(title="Made in the dashboard")
    fake_omise.pay(stranger["id"])
    for _ in range(150):  # the web shop is busy: more than a page of events
        fake_omise.other_charge()
    fake_omise.pay(record.link_id)
    report = await watcher.run_pass()
    assert report.omise_requests == 2 and report.events == 152
    assert len(said(fake_telegram)) == 1 and report.new_charges == 1
    assert {c.link_id for c in await store.charges.link_charges(record.link_id)} == {record.link_id}


async def test_events_in_the_older_shape(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    # The account's default API version is older: events carry "created",
    # a lowercase currency and no "link" field.
    fake_omise.event_version = "legacy"
    record = await make_link(link_service)
    await watcher.run_pass()
    charge = fake_omise.pay(record.link_id, status="pending")
    await watcher.run_pass()
    fake_omise.settle(charge["id"])
    report = await watcher.run_pass()
    assert report.new_charges == 1 and report.omise_requests == 1
    [notice] = said(fake_telegram)
    assert "was paid: ฿74.40" in notice


async def test_the_sweep_catches_what_the_events_missed(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    clock: Clock,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="pending")
    await watcher.run_pass()
    fake_omise.settle(charge["id"])
    fake_omise.events.clear()  # the charge.complete event never shows in the list
    await watcher.run_pass()
    assert said(fake_telegram) == []

    clock.advance(600)
    report = await watcher.run_pass()
    assert report.swept and report.new_charges == 1
    assert len(said(fake_telegram)) == 1


async def test_a_dashboard_deletion_shows_within_one_sweep(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    clock: Clock,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    fake_omise.delete(record.link_id)
    clock.advance(599)
    assert not (await watcher.run_pass()).swept
    clock.advance(1)
    report = await watcher.run_pass()
    assert report.swept and report.cancelled == 1
    [edit] = fake_telegram.sent("editMessageText")
    assert "🚫 Cancelled" in edit["text"]
    link = await store.links.get_link(record.link_id)
    assert link is not None and link.status is LinkStatus.CANCELLED


async def test_the_cursor_survives_a_restart(
    omise: OmiseClient,
    bot: Bot,
    settings: Settings,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    clock: Clock,
) -> None:
    record = await make_link(link_service, "150 Donation", multiple=True, chat_id=MERCHANT)
    first = PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone))
    fake_omise.pay(record.link_id)
    await first.run_pass()
    saved = await store.state.get_value(CURSOR_KEY)
    assert saved is not None

    # Down for a while; a payment meanwhile; a new process reads on from the cursor.
    fake_omise.pay(record.link_id)
    later = PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone))
    later.last_sweep_at = datetime.now(UTC)  # only the events are read
    report = await later.run_pass()
    assert report.new_charges == 1 and report.omise_requests == 1
    assert [t.split(". ")[-1] for t in said(fake_telegram)] == [
        "Payment 1; ฿150.00 in all.",
        "Payment 2; ฿300.00 in all.",
    ]


async def test_a_webhook_and_a_pass_on_one_pending_charge(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="pending")
    assert await watcher.confirm_charge(charge["id"]) is False  # a charge.create webhook
    fake_omise.settle(charge["id"])
    assert await watcher.confirm_charge(charge["id"]) is True  # its charge.complete
    await watcher.run_pass()
    assert await watcher.confirm_charge(charge["id"]) is False  # a replay
    assert len(said(fake_telegram)) == 1


async def test_health(watcher: PaymentWatcher, clock: Clock, fake_omise: fakes.FakeOmise) -> None:
    watcher.interval = 20
    assert watcher.health().reason == "starting" and watcher.health().ok
    clock.advance(61)
    assert not watcher.health().ok
    await watcher.run_pass()
    assert watcher.health().ok and watcher.health().last_pass == clock.now
    clock.advance(61)
    assert watcher.health().reason == "watcher stalled: last pass 61 s ago"
    fake_omise.secret_key = "skey_test_rotated"
    with pytest.raises(Exception, match="authentication"):
        await watcher.run_pass()
    health = watcher.health()
    assert not health.ok and health.reason == "Omise refused the secret key"


async def test_a_host_clock_ahead_of_omises_skips_nothing(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    clock: Clock,
) -> None:
    clock.advance(5 * 60)  # this host's clock runs five minutes fast
    record = await make_link(link_service, "150 Donation", multiple=True)
    await watcher.run_pass()
    for _ in range(3):
        fake_omise.pay(record.link_id)
        await watcher.run_pass()
        clock.advance(20)
    assert len(said(fake_telegram)) == 3


async def test_a_telegram_outage_of_hours_still_ends_in_the_notice(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    clock: Clock,
    store: Store,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    fake_telegram.fail("sendMessage", status=502, times=10_000)
    for _ in range(60):  # 20 minutes of passes, then hours
        await watcher.run_pass()
        clock.advance(20)
    clock.advance(5 * 3600)
    await watcher.run_pass()
    fake_telegram.faults = fakes._Faults()  # Telegram is back
    report = await watcher.run_pass()
    assert report.announced == 1
    assert "was paid" in said(fake_telegram)[-1]


async def test_refused_notices_are_given_up_after_thirty_tries(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    refusal = {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    fake_telegram.fail("sendMessage", status=400, body=refusal, times=10_000)
    for _ in range(29):
        await watcher.run_pass()
    assert len(await store.charges.unannounced_charges()) == 1
    await watcher.run_pass()
    assert await store.charges.unannounced_charges() == []
    assert "Gave up announcing" in caplog.text
    tries = len(fake_telegram.sent("sendMessage"))
    await watcher.run_pass()
    assert len(fake_telegram.sent("sendMessage")) == tries


async def test_a_slow_announcement_gives_its_claim_back_in_time(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    monkeypatch: pytest.MonkeyPatch,
    store: Store,
) -> None:
    monkeypatch.setattr("linkbot.payments.ANNOUNCE_TIMEOUT", 0.05)
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)

    async def stuck(*args: object) -> None:
        await asyncio.sleep(10)  # a chat that never answers, past the 429s and retries

    monkeypatch.setattr(watcher.announcer, "payment", stuck)
    report = await watcher.run_pass()
    assert report.failed_announcements == 1
    [charge] = await store.charges.unannounced_charges()
    assert charge.claimed_at is None  # free for the next pass, not held past its lease


async def test_more_events_than_a_pass_reads_within_one_second(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("linkbot.payments.MAX_EVENT_PAGES", 2)
    record = await make_link(link_service)
    await watcher.run_pass()
    for _ in range(450):  # more than two pages, all inside the overlap
        fake_omise.other_charge()
    fake_omise.pay(record.link_id)
    passes = 0
    while not said(fake_telegram):
        passes += 1
        assert passes <= 3, "the cursor is stuck"
        await watcher.run_pass()
    assert passes == 3


async def test_a_failed_payment_of_a_link_paid_meanwhile(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    slow = fake_omise.pay(record.link_id, status="pending")
    fake_omise.pay(record.link_id)  # someone paid by card meanwhile
    await watcher.run_pass()
    fake_omise.settle(slow["id"], "expired")
    await watcher.run_pass()
    [paid, expired] = said(fake_telegram)
    assert "was paid" in paid
    assert "expired before it was completed." in expired and "can still be paid" not in expired


async def test_fees_and_refunds_are_kept_current(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
) -> None:
    record = await make_link(link_service, "1000 Cake", multiple=True)
    await watcher.run_pass()
    paid = fake_omise.pay(record.link_id)
    other = fake_omise.pay(record.link_id)
    await watcher.run_pass()
    fake_omise.refund(paid["id"], 40000)  # part of it, in the dashboard
    fake_omise.refund(other["id"])  # all of it
    fake_omise.refund(fake_omise.other_charge()["id"])  # not the bot's: costs nothing
    report = await watcher.run_pass()
    assert report.omise_requests == 3  # the events, and the two charges of ours
    stored = {c.charge_id: c for c in await store.charges.link_charges(record.link_id)}
    assert (stored[paid["id"]].fee, stored[paid["id"]].fee_vat) == (paid["fee"], paid["fee_vat"])
    assert stored[paid["id"]].net == 100000 - paid["fee"] - paid["fee_vat"]
    assert (stored[paid["id"]].refunded, stored[other["id"]].refunded) == (40000, 100000)
    for _ in range(2):  # the overlap reads the refund events again: no more requests
        assert (await watcher.run_pass()).omise_requests == 1
    assert len(said(fake_telegram)) == 2  # a refund is no new payment


async def test_a_payment_found_late_is_not_given_up_at_the_first_failure(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    clock: Clock,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    clock.advance(25 * 3600)  # the bot was stopped for a day
    watcher.last_sweep_at = None
    fake_telegram.fail("sendMessage", status=502, times=3)
    assert (await watcher.run_pass()).failed_announcements == 1
    assert (await watcher.run_pass()).announced == 1


async def test_a_notice_telegram_took_but_did_not_confirm_is_not_sent_twice(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    fake_omise.pay(record.link_id)
    fake_telegram.fail("sendMessage", apply=True, delay=1.0)  # shown, but the answer is late
    await watcher.run_pass()
    await watcher.run_pass()
    assert len(said(fake_telegram)) == 1 and len(fake_telegram.messages) == 1


async def test_a_slow_telegram_does_not_make_the_watcher_unhealthy(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    monkeypatch: pytest.MonkeyPatch,
    clock: Clock,
) -> None:
    monkeypatch.setattr("linkbot.payments.MIN_ANNOUNCE_BUDGET", 0.0)
    watcher.interval = 0.0
    for text in ("74.40 Latte", "30 Tea", "50 Cake"):
        fake_omise.pay((await make_link(link_service, text)).link_id)
    calls = 0

    async def slow(*args: object) -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError("Telegram is slow")

    monkeypatch.setattr(watcher.announcer, "payment", slow)
    await watcher.run_pass()
    assert calls == 1  # the rest wait for the next pass
    assert watcher.health().ok and watcher.last_pass_at == clock.now


async def test_a_paid_link_deleted_later_stays_paid(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    store: Store,
    clock: Clock,
) -> None:
    record = await make_link(link_service)
    await watcher.run_pass()
    fake_omise.pay(record.link_id)
    fake_omise.events.clear()  # the event was missed
    fake_omise.delete(record.link_id)
    clock.advance(600)
    report = await watcher.run_pass()
    assert report.new_charges == 1 and report.cancelled == 0
    stored = await store.links.get_link(record.link_id)
    assert stored is not None and stored.status is LinkStatus.PAID
    assert all("Cancelled" not in edit["text"] for edit in fake_telegram.sent("editMessageText"))


async def test_an_expiry_first_seen_through_a_webhook_is_told(
    watcher: PaymentWatcher,
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    record = await make_link(link_service)
    charge = fake_omise.pay(record.link_id, status="pending")
    fake_omise.settle(charge["id"], "expired")
    await watcher.confirm_charge(charge["id"])
    [notice] = said(fake_telegram)
    assert "expired before it was completed" in notice
