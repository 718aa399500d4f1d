"""Two instances on one database, one host's clock two minutes fast.

Claims and leases are judged on the database's clock, so the fast host
neither takes over an announcement the other is still sending nor the
watcher's lease the other still renews. Each instance is a Store of its
own over the same database, as a second process would have.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot

from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import WATCHER_LEASE, PassReport, PaymentWatcher
from linkbot.store import ChargeRecord, LinkRecord, Store
from tests.conftest import eventually, make_link
from tests.databases import ENGINES

# More than the claim's lease (two minutes): the fast host's own clock says
# every claim of the other host has expired.
AHEAD = timedelta(minutes=2, seconds=5)
INTERVAL = 0.4


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def fast_clock() -> datetime:
    return datetime.now(UTC) + AHEAD


class Announcements:
    """What the instances told, in order; the first notice is held until released."""

    def __init__(self) -> None:
        self.told: list[tuple[str, str]] = []
        self.sending = asyncio.Event()
        self.release = asyncio.Event()

    def of(self, name: str) -> Teller:
        return Teller(self, name)


class Teller:
    def __init__(self, announcements: Announcements, name: str) -> None:
        self.announcements = announcements
        self.name = name

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        self.announcements.told.append((self.name, charge.charge_id))
        if not self.announcements.sending.is_set():
            self.announcements.sending.set()
            await self.announcements.release.wait()  # Telegram is slow to answer

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        await self.payment(record, charge)

    async def cancelled(self, record: LinkRecord) -> None:
        return None


async def test_a_fast_host_does_not_take_over_a_claim_still_being_sent(
    store: Store,
    other: Store,
    omise: OmiseClient,
    link_service: LinkService,
    mock_http: object,
) -> None:
    record = await make_link(link_service)
    charge = ChargeRecord("chrg_test_skew", record.link_id, 7440, "THB", paid_at=datetime.now(UTC))
    await store.charges.record_charge(charge)
    announcements = Announcements()
    slow = PaymentWatcher(omise, store, announcements.of("slow"))
    fast = PaymentWatcher(omise, other, announcements.of("fast"), now=fast_clock)

    sending = asyncio.create_task(slow.announce_pending(PassReport()))
    try:
        await asyncio.wait_for(announcements.sending.wait(), 5)
        # The fast host's pass comes while the notice is still on its way.
        report = PassReport()
        await fast.announce_pending(report)
        assert report.announced == 0
    finally:
        announcements.release.set()
        await sending
    await fast.announce_pending(PassReport())
    assert announcements.told == [("slow", charge.charge_id)]
    assert await store.charges.unannounced_charges() == []


async def test_a_fast_host_does_not_take_over_the_watchers_lease(
    store: Store,
    other: Store,
    omise: OmiseClient,
    bot: Bot,
    settings: Settings,
    mock_http: object,
) -> None:
    def watcher(
        of: Store, now: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> PaymentWatcher:
        announcer = TelegramAnnouncer(bot, of, settings.timezone)
        return PaymentWatcher(omise, of, announcer, interval=INTERVAL, now=now)

    holder, fast = watcher(store), watcher(other, now=fast_clock)
    stop_holder, stop_fast = asyncio.Event(), asyncio.Event()
    holding = asyncio.create_task(holder.run(INTERVAL, stop_holder))
    await eventually(lambda: holder.last_pass_at is not None, 5, "the first watcher's pass")
    standing_by = asyncio.create_task(fast.run(INTERVAL, stop_fast))
    try:
        await eventually(lambda: fast.standby, 5, "the fast host standing by")
        await asyncio.sleep(3 * INTERVAL)  # several renewals and checks of both
        assert fast.standby and not holder.standby
        assert fast.last_pass_at is None
        assert await store.leases.lease_holder(WATCHER_LEASE) == store.instance_id
    finally:
        stop_holder.set()
        stop_fast.set()
        await asyncio.gather(holding, standing_by, return_exceptions=True)
