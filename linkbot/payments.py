"""Noticing payments of the bot's links, and announcing each one exactly once.

The watcher polls Omise on a timer; webhooks (see :mod:`linkbot.web`) only
make it faster. Both go through the same path: a successful charge is
recorded once in the store, then announced by whichever pass claims it
first. Nothing here knows Telegram: an :class:`Announcer` does the talking.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from linkbot.omise import Charge, Link, OmiseClient, OmiseError
from linkbot.store import ChargeRecord, LinkRecord, LinkStatus, OpenLink, Store

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100
# Omise's clock and ours may differ a little; list from a bit before the oldest link.
LIST_MARGIN = timedelta(minutes=5)
# A claim older than this belongs to a process that died mid-announcement.
CLAIM_LEASE = timedelta(minutes=2)


class Announcer(Protocol):
    """Tells the chat. Raises when the chat could not be told, so it is tried again."""

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None: ...

    async def cancelled(self, record: LinkRecord) -> None: ...


@dataclass
class PassReport:
    open_links: int = 0
    omise_requests: int = 0
    new_charges: int = 0
    cancelled: int = 0
    announced: int = 0
    failed_announcements: int = 0

    def summary(self) -> str:
        return (
            f"{self.new_charges} new payment(s), {self.announced} announced, "
            f"{self.failed_announcements} to retry, {self.cancelled} cancelled "
            f"({self.open_links} open link(s), {self.omise_requests} Omise request(s))"
        )


class PaymentWatcher:
    def __init__(
        self,
        omise: OmiseClient,
        store: Store,
        announcer: Announcer,
        *,
        horizon: timedelta = timedelta(days=30),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.omise = omise
        self.store = store
        self.announcer = announcer
        self.horizon = horizon
        self._now = now
        self.last_pass_at: datetime | None = None

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Run a pass every ``interval`` seconds until ``stop`` is set. Never raises."""
        while not stop.is_set():
            started = time.monotonic()
            try:
                report = await self.run_pass()
                if report.new_charges or report.cancelled or report.failed_announcements:
                    logger.info("Payment pass: %s", report.summary())
            except OmiseError as exc:
                logger.warning("Payment pass skipped, Omise failed: %s", exc.message)
            except Exception:
                logger.exception("Payment pass failed")
            remaining = interval - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), max(remaining, 0.0))

    async def run_pass(self) -> PassReport:
        """Look at every open link once, record new payments and cancellations, announce."""
        report = PassReport()
        open_links = {r.link_id: r for r in await self.store.open_links(self._now() - self.horizon)}
        report.open_links = len(open_links)
        if open_links:
            await self._scan(open_links, report)
        await self.announce_pending(report)
        self.last_pass_at = self._now()
        return report

    async def _scan(self, open_links: dict[str, OpenLink], report: PassReport) -> None:
        # One listing, newest first, back to the oldest open link: its cost
        # grows with the number of pages, not with a request per link.
        oldest = min(r.created_at for r in open_links.values())
        missing = set(open_links)
        offset = 0
        while missing:
            page = await self.omise.list_links(
                from_=oldest - LIST_MARGIN,
                offset=offset,
                limit=PAGE_LIMIT,
                order="reverse_chronological",
            )
            report.omise_requests += 1
            for link in page.data:
                if link.id in missing:
                    missing.discard(link.id)
                    await self._update(open_links[link.id], link, report)
            offset += len(page.data)
            if not page.data or offset >= page.total:
                break

    async def _update(self, known: OpenLink, link: Link, report: PassReport) -> None:
        if link.charges.total != known.charges_seen:
            charges = link.charges.data
            if len(charges) < link.charges.total:
                charges = await self._all_charges(link.id, report)
            for charge in charges:
                if await self._record(link.id, charge):
                    report.new_charges += 1
            await self.store.set_charges_seen(link.id, link.charges.total)
        if link.deleted and known.status is not LinkStatus.CANCELLED:
            await self.store.set_status(link.id, LinkStatus.CANCELLED)
            report.cancelled += 1
            refreshed = await self.store.get_link(link.id)
            if refreshed is not None:
                await self._tell_cancelled(refreshed)

    async def _all_charges(self, link_id: str, report: PassReport) -> list[Charge]:
        found: list[Charge] = []
        while True:
            page = await self.omise.list_link_charges(
                link_id, offset=len(found), limit=PAGE_LIMIT, order="chronological"
            )
            report.omise_requests += 1
            found.extend(page.data)
            if not page.data or len(found) >= page.total:
                return found

    async def _record(self, link_id: str, charge: Charge) -> bool:
        if not charge.successful:
            return False
        return await self.store.record_charge(
            ChargeRecord(
                charge_id=charge.id,
                link_id=link_id,
                amount=charge.amount,
                currency=charge.currency,
                paid_at=charge.paid_at or charge.created_at,
            )
        )

    async def _tell_cancelled(self, record: LinkRecord) -> None:
        try:
            await self.announcer.cancelled(record)
        except Exception as exc:
            logger.info("Could not show that %s was cancelled: %s", record.link_id, exc)

    async def confirm_charge(self, charge_id: str) -> bool:
        """Act on a webhook's word that a charge completed, after asking Omise itself.

        Announces only a successful charge of a link the store knows.
        Returns whether the charge was new.
        """
        charge = await self.omise.retrieve_charge(charge_id)
        if not charge.successful or not charge.link:
            return False
        if await self.store.get_link(charge.link) is None:
            return False
        new = await self._record(charge.link, charge)
        await self.announce_pending(PassReport())
        return new

    async def announce_pending(self, report: PassReport) -> None:
        """Announce every recorded charge not yet announced, each by one claimant only."""
        for charge in await self.store.unannounced_charges():
            if not await self.store.claim_announcement(charge.charge_id, self._now(), CLAIM_LEASE):
                continue  # another pass has it
            record = await self.store.get_link(charge.link_id)
            if record is None:
                continue
            try:
                await self.announcer.payment(record, charge)
            except Exception as exc:
                # Not dropped: the next pass tries again.
                await self.store.release_announcement(charge.charge_id)
                report.failed_announcements += 1
                logger.warning("Could not announce %s yet: %s", charge.charge_id, exc)
                continue
            await self.store.mark_announced(charge.charge_id, self._now())
            report.announced += 1
