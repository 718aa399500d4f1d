"""Noticing payments of the bot's links, and announcing each one exactly once.

Each pass reads Omise's event list onward from a cursor kept in the store:
one request when nothing happened, however many links are open. The
``charge.create`` and ``charge.complete`` events of charges made through
the bot's links are recorded with their status, so a charge that is
pending first (PromptPay, mobile banking, 3-D Secure) and settles later is
followed to its end. A slower sweep over ``GET /links`` (at start-up, then
every ``sweep_interval``) catches what events cannot tell: links deleted in
the dashboard (Omise has no event for that), and anything the events
missed. Webhooks (see :mod:`linkbot.web`) only make all of this faster:
a verified one has its charge confirmed at once, an unverified one brings
the next pass forward (see :meth:`PaymentWatcher.nudge`).

A successful charge is counted once in the store, then announced by
whichever pass claims it first. Nothing here knows Telegram: an
:class:`Announcer` does the talking.

Where several instances share one database, passes run on one of them at a
time: the one holding the watcher's lease in the store. The others stand by
and take the lease over once its holder stops renewing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from linkbot import handover
from linkbot.omise import AuthenticationError, Charge, Event, Link, OmiseClient, OmiseError
from linkbot.recent import RecentIds
from linkbot.store import ChargeRecord, LinkRecord, LinkStatus, Notice, OpenLink, Recorded, Store
from linkbot.waits import Stopped, first_of, pause, unless_stopped

logger = logging.getLogger(__name__)

PAGE_LIMIT = 100
# Omise's clock and ours may differ a little; list from a bit before the oldest link.
LIST_MARGIN = timedelta(minutes=5)
# A claim older than this (on the database's clock) belongs to a process that
# died mid-announcement.
CLAIM_LEASE = timedelta(minutes=2)
# Events are read again from this long before the cursor, so one that shows
# up in the list a little late is not skipped; reading one twice changes nothing.
EVENT_OVERLAP = timedelta(minutes=1)
# With no cursor yet (the first pass ever), events are read from this long ago:
# longer than any clock difference between this host and Omise worth having.
FIRST_LOOK_BACK = timedelta(minutes=10)
# A pass reads at most this many pages of events; after a long outage the
# next passes carry on from where this one stopped.
MAX_EVENT_PAGES = 20
# charge.create: a charge was made (a card charge is often successful at
# once). charge.complete: a pending one (PromptPay, mobile banking, 3-D
# Secure) settled. charge.update: anything else changed about it.
CHARGE_EVENTS = frozenset({"charge.create", "charge.complete", "charge.update"})
# A refund's event carries the refund, not the charge: the charge is fetched.
REFUND_EVENT = "refund.create"
CURSOR_KEY = "events_cursor"
# The cursor moves every pass, but is written to the store only this often
# (and whenever an event was handled): a restart re-reads at most this much.
CURSOR_SAVE_INTERVAL = timedelta(minutes=5)
# A notice Telegram refused this many times is given up, with an error in
# the log; one that failed for any other reason (network, 5xx, 429) is tried
# for this long after its first failure, so an outage of hours still ends in it.
MAX_REFUSALS = 30
ANNOUNCE_WITHIN = timedelta(hours=24)
# One announcement may take no longer than this, well inside CLAIM_LEASE, so
# a claim never expires while its announcement is still being sent.
ANNOUNCE_TIMEOUT = 60.0
# A pass stops announcing after this long (or a poll interval, if longer) and
# leaves the rest to the next pass, so a slow Telegram never delays reading Omise.
MIN_ANNOUNCE_BUDGET = 30.0
# Event ids handled by this process, so the overlap costs no store work.
SEEN_EVENTS = 5_000
# The lease that lets one instance at a time run passes. It is renewed (or,
# by a standby, asked for) every LEASE_CHECKS of a poll interval and lasts
# LEASE_TTL intervals: a holder survives a missed renewal, and a standby
# takes over within two intervals after the holder dies.
WATCHER_LEASE = "payment_watcher"
LEASE_CHECKS = 0.5
LEASE_TTL = 1.5
# An unverified webhook runs the next pass early (see nudge()), but passes
# start no closer together than this, and an early pass reads one page of
# events: however many webhooks come, they cost Omise at most one more page
# of events a second.
NUDGE_SPACING = 1.0


class AnnouncementRefused(Exception):
    """The chat service refused the notice itself (not a network or server failure)."""


class Announcer(Protocol):
    """Tells the chat. Raises when the chat could not be told, so it is tried again.

    :class:`AnnouncementRefused` means trying again is unlikely to help.
    """

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None: ...

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None: ...

    async def cancelled(self, record: LinkRecord) -> None: ...


@dataclass
class PassReport:
    open_links: int = 0
    omise_requests: int = 0
    events: int = 0
    new_charges: int = 0
    pending_charges: int = 0
    failed_charges: int = 0
    cancelled: int = 0
    announced: int = 0
    failed_announcements: int = 0
    swept: bool = False
    # Charges whose news this pass recorded, for an early pass to announce.
    recorded: list[str] = field(default_factory=list)

    @property
    def eventful(self) -> bool:
        return bool(
            self.new_charges
            or self.pending_charges
            or self.failed_charges
            or self.cancelled
            or self.failed_announcements
        )

    def summary(self) -> str:
        parts = [
            f"{self.new_charges} paid",
            f"{self.pending_charges} pending",
            f"{self.failed_charges} failed",
            f"{self.announced} announced",
        ]
        if self.failed_announcements:
            parts.append(f"{self.failed_announcements} to retry")
        if self.cancelled:
            parts.append(f"{self.cancelled} cancelled")
        sweep = f", swept {self.open_links} open links" if self.swept else ""
        return f"{', '.join(parts)} ({self.omise_requests} Omise requests{sweep})"


@dataclass(frozen=True, slots=True)
class Health:
    ok: bool
    reason: str
    last_pass: datetime | None


class PaymentWatcher:
    def __init__(
        self,
        omise: OmiseClient,
        store: Store,
        announcer: Announcer,
        *,
        horizon: timedelta = timedelta(days=30),
        interval: float = 20.0,
        sweep_interval: float = 600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_pass: Callable[[float, float | None], None] | None = None,
        on_announced: Callable[[], None] | None = None,
        after_pass: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """``on_pass(seconds, lag)`` hears of every pass in :meth:`run`: how long it took and
        how far the event cursor is behind now (None before the first cursor);
        ``on_announced()`` of every payment announced; ``after_pass()`` is
        awaited after every pass, so work for one instance at a time (finishing
        a dead instance's commands) runs on the lease holder too."""
        self.omise = omise
        # The watcher's queries: its links and their charges, its lease, its event cursor.
        self._charges = store.charges
        self._leases = store.leases
        self._links = store.links
        self._state = store.state
        self.announcer = announcer
        self.horizon = horizon
        self.interval = interval
        self.sweep_interval = timedelta(seconds=sweep_interval)
        self._now = now
        self._started_at = now()
        self.last_pass_at: datetime | None = None
        self.last_sweep_at: datetime | None = None
        self._key_refused = False
        self._cursor: datetime | None = None
        self._cursor_saved: tuple[datetime, datetime] | None = None  # (cursor, when)
        self._reading_on: tuple[datetime, int] | None = None  # (from, offset)
        # Set once a pass has read Omise: what happened while the bot was down is recorded.
        self.caught_up = asyncio.Event()
        self._seen: RecentIds[str] = RecentIds(SEEN_EVENTS)
        self._on_pass = on_pass
        self._on_announced = on_announced
        self._after_pass = after_pass
        # Set while this instance holds the watcher's lease (see run()).
        self._holding = asyncio.Event()
        self.standby = False
        self._nudged = asyncio.Event()

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """Run a pass every ``interval`` seconds until ``stop`` is set. Never raises.

        Passes run only while this instance holds the watcher's lease; until
        then it stands by. On the way out the lease is given up, so a standby
        takes over at its next check.
        """
        self.interval = interval
        self._started_at = self._now()
        leasing = asyncio.create_task(self._keep_lease(stop))
        early = False
        # The regular passes keep their own schedule: an early pass (a nudge's)
        # never puts the next regular one off, however often nudges come.
        regular_due = 0.0
        try:
            while not stop.is_set():
                if not self._holding.is_set():
                    await first_of(stop.wait(), self._holding.wait())
                    # Taking the lease over starts with a whole pass.
                    early = False
                    continue
                started = time.monotonic()
                early = early and started < regular_due
                # Nudges from here on ask for the pass after this one.
                self._nudged.clear()
                await self._pass_or_log(stop, early=early)
                if self._on_pass is not None:
                    self._on_pass(time.monotonic() - started, self.lag())
                if not early:
                    regular_due = started + interval
                    if self._after_pass is not None and not stop.is_set():
                        await self._after_pass_or_log(self._after_pass)
                early = await self._rest(stop, regular_due, started + NUDGE_SPACING)
        finally:
            leasing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await leasing
            await self._give_up_lease()

    def nudge(self) -> None:
        """Run the next pass soon: a webhook says something happened.

        Any number of nudges during a pass, or before :data:`NUDGE_SPACING`
        has passed since it started, make one more pass. A standby instance
        runs no passes, so a nudge changes nothing there. Anyone can send
        an unsigned webhook, so the early pass is a small one (see
        :meth:`run_pass`): the regular passes keep their schedule.
        """
        self._nudged.set()

    async def _rest(self, stop: asyncio.Event, due: float, soonest: float) -> bool:
        """Wait until ``due`` (monotonic), or ``soonest`` if nudged before then, or a stop.

        Returns whether the next pass is early (a nudge's).
        """
        while not stop.is_set():
            now = time.monotonic()
            if now >= due:
                return False
            if self._nudged.is_set() and now >= soonest:
                return True
            if self._nudged.is_set():
                await pause(stop, min(due, soonest) - now)
            else:
                await first_of(stop.wait(), self._nudged.wait(), asyncio.sleep(due - now))
        return False

    async def _pass_or_log(self, stop: asyncio.Event, *, early: bool = False) -> None:
        try:
            report = await self.run_pass(stop, early=early)
            if report.eventful:
                logger.info("Payment pass: %s", report.summary())
        except Stopped:
            # What was recorded stays; the rest is read again at the next start.
            logger.debug("Payment pass cut short by the stop")
        except AuthenticationError:
            logger.error("Payment pass failed: Omise refused OMISE_SECRET_KEY")
        except OmiseError as exc:
            logger.warning("Payment pass skipped, Omise failed: %s", exc.message)
        except Exception:
            logger.exception("Payment pass failed")

    async def _after_pass_or_log(self, after_pass: Callable[[], Awaitable[None]]) -> None:
        try:
            await after_pass()
        except Exception:
            logger.exception("Work after the payment pass failed")

    async def _keep_lease(self, stop: asyncio.Event) -> None:
        """Hold (or wait for) the watcher's lease.

        The instance's own sign of life is not renewed here: the watcher stops
        before the last commands finish (see linkbot.instances).
        """
        ttl = timedelta(seconds=self.interval * LEASE_TTL)
        while not stop.is_set():
            try:
                now = self._now()
                # On the database's clock: a host whose clock runs fast must not
                # see the holder's lease as expired while it is still renewed.
                held = await self._leases.acquire_lease(WATCHER_LEASE, None, ttl)
            except Exception as exc:
                # The database is unreachable: keep the lease's state as it was;
                # the lease itself expires if this goes on.
                logger.warning(
                    "Could not renew the payment watcher's lease (%s)", type(exc).__name__
                )
            else:
                if held and not self._holding.is_set():
                    logger.info("Watching payments (instance %s)", self._leases.instance_id)
                    # Another instance moved the cursor on while this one stood by:
                    # read it back from the store, never write an older one over it.
                    self._cursor = self._cursor_saved = self._reading_on = None
                    # Health counts from here: a standby that takes over is starting.
                    self._started_at, self.last_pass_at = now, None
                    self.standby = False
                    self._holding.set()
                elif not held and not self.standby:
                    if self._holding.is_set():
                        logger.warning("Another instance took over watching payments")
                    else:
                        logger.info("Another instance watches payments; standing by")
                    self._holding.clear()
                    self.standby = True
            await pause(stop, self.interval * LEASE_CHECKS)

    async def _give_up_lease(self) -> None:
        self._holding.clear()
        try:
            await self._leases.release_lease(WATCHER_LEASE)
        except Exception:
            logger.warning("Could not give up the payment watcher's lease; it expires on its own")

    async def run_pass(
        self, stop: asyncio.Event | None = None, *, early: bool = False
    ) -> PassReport:
        """Read what happened since the last pass (and sweep when due), then announce.

        Once ``stop`` is set, reading is cut short (raising :class:`Stopped`)
        and no further notice is begun: a stop is never kept waiting by
        Omise, and a notice is never cut off halfway. An ``early`` pass (a
        nudge's) reads one page of events, sweeps nothing and announces only
        the charges it recorded itself: a notice that failed is tried again
        by the regular passes alone, so its tries are as far apart however
        often the passes are nudged.
        """
        report = PassReport()
        try:
            reading = self._read(report, early=early)
            await (reading if stop is None else unless_stopped(stop, reading))
        except AuthenticationError:
            self._key_refused = True
            raise
        finally:
            # Payments already recorded are announced even when Omise is down.
            budget = max(self.interval, MIN_ANNOUNCE_BUDGET)
            if not early:
                await self.announce_pending(report, budget=budget, stop=stop)
            for charge_id in dict.fromkeys(report.recorded) if early else ():
                await self.announce_pending(report, only=charge_id, budget=budget, stop=stop)
        return report

    async def _read(self, report: PassReport, *, early: bool = False) -> None:
        # Cut short anywhere by a stop: each charge is recorded in one
        # transaction, and the cursor moves only after what it passes.
        await self.read_events(report, pages=1 if early else MAX_EVENT_PAGES)
        # Healthy means Omise is being read; a slow Telegram is a different trouble.
        self._key_refused = False
        self.last_pass_at = self._now()
        self.caught_up.set()
        if not early and self._sweep_due():
            await self._sweep_or_log(report)

    async def _sweep_or_log(self, report: PassReport) -> None:
        # A failing sweep (many pages, one of them refused) must not hold up
        # the events: it is logged and tried again at the next pass.
        try:
            await self.sweep(report)
        except AuthenticationError:
            raise
        except OmiseError as exc:
            logger.warning("Sweep of the open links failed, trying again: %s", exc.message)

    def lag(self) -> float | None:
        """Seconds between now and the event cursor, which is on Omise's clock."""
        if self._cursor is None:
            return None
        return (self._now() - self._cursor).total_seconds()

    def health(self, now: datetime | None = None) -> Health:
        """Whether payments are being watched: a recent successful pass, a key Omise takes."""
        now = now or self._now()
        limit = timedelta(seconds=3 * self.interval)
        if self.standby:
            # Another instance watches: nothing here can stall.
            return Health(True, "standby", self.last_pass_at)
        if self._key_refused:
            return Health(False, "Omise refused the secret key", self.last_pass_at)
        if self.last_pass_at is None:
            waited = now - self._started_at
            if waited <= limit:
                return Health(True, "starting", None)
            return Health(False, f"no payment pass has succeeded in {_seconds(waited)} s", None)
        age = now - self.last_pass_at
        if age > limit:
            return Health(
                False, f"watcher stalled: last pass {_seconds(age)} s ago", self.last_pass_at
            )
        return Health(True, "ok", self.last_pass_at)

    # Events: the per-pass source

    async def read_events(self, report: PassReport, *, pages: int = MAX_EVENT_PAGES) -> None:
        """Record the charges of our links that Omise's events tell about since the cursor.

        At most ``pages`` pages are read; the next pass reads on from there.
        With one page it reads from the cursor itself, since the overlap
        before it may fill a page with events already handled.

        The cursor is a time on Omise's clock (an event's, or the ``to`` of
        a listing), never on ours, so a host clock that is off cannot make
        the watcher skip events.
        """
        now = self._now()
        if self._cursor is None:
            saved = await self._state.get_value(CURSOR_KEY)
            self._cursor = datetime.fromisoformat(saved) if saved else None
        if self._reading_on is not None:
            since, offset = self._reading_on  # the last pass stopped mid-listing
        else:
            # The very first pass has no cursor: the start-up sweep covers what came before.
            overlap = EVENT_OVERLAP if pages > 1 else timedelta(0)
            since = self._cursor - overlap if self._cursor else now - FIRST_LOOK_BACK
            offset = 0
        cursor, handled, self._reading_on = self._cursor, False, None
        for _ in range(pages):
            page = await self.omise.list_events(
                from_=since, offset=offset, limit=PAGE_LIMIT, order="chronological"
            )
            report.omise_requests += 1
            report.events += len(page.data)
            handled = await self._handle_events(page.data, report) or handled
            if page.data:
                cursor = _later(cursor, page.data[-1].created_at)
            offset += len(page.data)
            if not page.data or offset >= page.total:
                break
        else:
            # More events than a pass reads: carry on from here next time,
            # rather than from the cursor's overlap, which may hold them all.
            self._reading_on = (since, offset)
            logger.info("Many events since the last pass; reading on in the next pass")
        if cursor is None:
            # No event yet at all: start from the listing's end, on Omise's clock.
            cursor = page.to
        self._cursor = cursor
        await self._save_cursor(now, force=handled)

    async def _save_cursor(self, now: datetime, *, force: bool) -> None:
        if self._cursor is None:
            return
        if self._cursor_saved is not None:
            saved_cursor, saved_at = self._cursor_saved
            if saved_cursor == self._cursor or (
                not force and now - saved_at < CURSOR_SAVE_INTERVAL
            ):
                return
        await self._state.set_value(CURSOR_KEY, self._cursor.isoformat())
        self._cursor_saved = (self._cursor, now)

    async def _handle_events(self, events: Iterable[Event], report: PassReport) -> bool:
        """Record what new events tell; returns whether any was about a charge of ours."""
        events = [event for event in events if event.id not in self._seen]
        handled = await self._refunds(events, report)
        fresh = [
            charge
            for event in events
            if event.key in CHARGE_EVENTS and (charge := event.charge()) is not None
        ]
        ours = await self._links_of(fresh) if fresh else {}
        for charge in fresh:
            link_id = ours.get(charge.id)
            if link_id is not None:
                await self._record(link_id, charge, report)
                handled = True
        # Only once all of it is recorded: a failure above reads them again.
        for event in events:
            self._seen.add(event.id)
        return handled

    async def _refunds(self, events: list[Event], report: PassReport) -> bool:
        """Refresh the charges of ours that a refund event names (refunds, fees, net)."""
        named = {
            event.data["charge"]
            for event in events
            if event.key == REFUND_EVENT
            and isinstance(event.data, dict)
            and isinstance(event.data.get("charge"), str)
        }
        ours = await self._charges.known_charge_ids(sorted(named))
        for charge_id in sorted(ours):
            charge = await self.omise.retrieve_charge(charge_id)
            report.omise_requests += 1
            if charge.link:
                await self._record(charge.link, charge, report)
        return bool(ours)

    async def _links_of(self, charges: list[Charge]) -> dict[str, str]:
        """The link of ours each charge was paid through, by charge id; others are left out."""
        named = {c.id: c.link for c in charges if c.link}
        known = await self._links.known_link_ids(list(named.values()))
        found = {charge_id: link for charge_id, link in named.items() if link in known}
        # Events in an older API version carry no "link"; the charge's return
        # address is the link's payment URI with "/complete" added.
        unnamed = {
            c.id: c.return_uri.removesuffix("/complete")
            for c in charges
            if not c.link and c.return_uri
        }
        if unnamed:
            by_uri = await self._links.links_by_payment_uri(list(unnamed.values()))
            found.update(
                {charge_id: by_uri[uri] for charge_id, uri in unnamed.items() if uri in by_uri}
            )
        return found

    # The sweep: a slower reconciliation over the links themselves

    def _sweep_due(self) -> bool:
        return self.last_sweep_at is None or self._now() - self.last_sweep_at >= (
            self.sweep_interval
        )

    async def sweep(self, report: PassReport) -> None:
        """Compare each open link with Omise's: missed charges, pending ones, deletions."""
        started = self._now()
        open_links = {r.link_id: r for r in await self._links.open_links(started - self.horizon)}
        report.open_links = len(open_links)
        if open_links:
            unsettled = await self._charges.pending_charge_links()
            await self._scan(open_links, unsettled, report)
        report.swept = True
        self.last_sweep_at = started

    async def _scan(
        self, open_links: dict[str, OpenLink], unsettled: set[str], report: PassReport
    ) -> None:
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
                    await self._update(open_links[link.id], link, link.id in unsettled, report)
            offset += len(page.data)
            if not page.data or offset >= page.total:
                break

    async def _update(
        self, known: OpenLink, link: Link, unsettled: bool, report: PassReport
    ) -> None:
        if unsettled or link.charges.total != known.charges_seen:
            charges = link.charges.data
            if len(charges) < link.charges.total:
                charges = await self._all_charges(link.id, report)
            for charge in charges:
                await self._record(link.id, charge, report)
            await self._links.set_charges_seen(link.id, link.charges.total)
        # A one-time link paid, then deleted in the dashboard, stays paid.
        if (
            link.deleted
            and known.status is not LinkStatus.CANCELLED
            and await self._links.mark_cancelled(link.id)
        ):
            report.cancelled += 1
            refreshed = await self._links.get_link(link.id)
            if refreshed is not None:
                await self._tell_cancelled(refreshed)

    async def _all_charges(self, link_id: str, report: PassReport) -> list[Charge]:
        found: list[Charge] = []
        async for page in self.omise.link_charge_pages(link_id):
            report.omise_requests += 1
            found.extend(page.data)
        return found

    async def _record(self, link_id: str, charge: Charge, report: PassReport) -> Recorded:
        recorded = await self._charges.record_charge(
            ChargeRecord(
                charge_id=charge.id,
                link_id=link_id,
                amount=charge.amount,
                currency=charge.currency,
                status=charge.status,
                created_at=charge.created_at,
                paid_at=charge.paid_at,
                fee=charge.fee,
                fee_vat=charge.fee_vat,
                net=charge.net,
                refunded=charge.refunded_amount or 0,
            )
        )
        if recorded is not Recorded.UNCHANGED:
            report.recorded.append(charge.id)
        if recorded is Recorded.PAID:
            report.new_charges += 1
        elif recorded is Recorded.PENDING:
            report.pending_charges += 1
            logger.info("Charge %s of %s is pending; following it", charge.id, link_id)
        elif recorded is Recorded.FAILED:
            report.failed_charges += 1
        return recorded

    async def _tell_cancelled(self, record: LinkRecord) -> None:
        try:
            await self.announcer.cancelled(record)
        except Exception as exc:
            logger.info("Could not show that %s was cancelled: %s", record.link_id, exc)

    # Webhooks

    async def confirm_charge(self, charge_id: str) -> bool:
        """Act on a webhook's word about a charge, after asking Omise itself.

        Records the charge's status if it belongs to a link the store knows,
        and announces what is due. Returns whether a new payment was recorded.
        """
        charge = await self.omise.retrieve_charge(charge_id)
        if not charge.link or await self._links.get_link(charge.link) is None:
            return False
        recorded = await self._record(charge.link, charge, PassReport())
        # Only this charge: the passes announce the rest, and a webhook worker
        # must not be held up by other notices.
        await self.announce_pending(PassReport(), only=charge.id)
        return recorded is Recorded.PAID

    # Announcing

    async def announce_pending(
        self,
        report: PassReport,
        *,
        only: str | None = None,
        budget: float | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        """Announce every recorded charge not yet announced, each by one claimant only.

        ``only`` limits it to one charge; ``budget`` to that many seconds;
        ``stop``, once set, to the notice being sent.
        """
        started, tried = time.monotonic(), 0
        for charge in await self._charges.unannounced_charges():
            if stop is not None and stop.is_set():
                return
            if only is not None and charge.charge_id != only:
                continue
            if tried and budget is not None and time.monotonic() - started > budget:
                logger.info("Announcing takes long; the rest waits for the next pass")
                return
            tried += 1
            # Judged on the database's clock, as the lease is: another host's
            # clock may be ahead of this one's by more than CLAIM_LEASE.
            if not await self._charges.claim_announcement(charge.charge_id, None, CLAIM_LEASE):
                continue  # another pass has it
            record = await self._links.get_link(charge.link_id)
            if record is None:
                continue
            exc = await self._announce(record, charge)
            if exc is not None:
                report.failed_announcements += 1
                refused = isinstance(exc, AnnouncementRefused)
                refusals, failing_since = await self._charges.release_announcement(
                    charge.charge_id, self._now(), refused=refused
                )
                if not self._give_up(refusals, failing_since):
                    # Not dropped: the next pass tries again.
                    logger.warning(
                        "Could not announce %s yet: %s", charge.charge_id, exc or type(exc)
                    )
                    continue
                logger.error(
                    "Gave up announcing %s of %s (%d refusals): %s",
                    charge.charge_id,
                    charge.link_id,
                    refusals,
                    exc or type(exc),
                )
            else:
                report.announced += 1
                if self._on_announced is not None:
                    self._on_announced()
            await self._charges.mark_announced(charge.charge_id, self._now())

    async def _announce(self, record: LinkRecord, charge: ChargeRecord) -> Exception | None:
        """Tell the link's chat about ``charge``; returns why that failed, None once it is told.

        Cut off (the deadline, a shutdown) once its message was handed to
        Telegram, the notice may have been shown: it counts as told, and is
        not sent again.
        """
        with handover.watching() as sent:
            try:
                async with asyncio.timeout(ANNOUNCE_TIMEOUT):
                    if charge.notice is Notice.FAILED:
                        await self.announcer.payment_failed(record, charge)
                    else:
                        await self.announcer.payment(record, charge)
            except asyncio.CancelledError:
                if sent.out:
                    logger.warning("Announcing %s was cut off on its way", charge.charge_id)
                    await self._charges.mark_announced(charge.charge_id, self._now())
                raise
            except TimeoutError as exc:
                if not sent.out:
                    return exc
                logger.warning(
                    "Telegram did not confirm the notice of %s in time; it may have arrived, "
                    "so it is not sent again",
                    charge.charge_id,
                )
            except Exception as exc:
                return exc
        return None

    def _give_up(self, refusals: int, failing_since: datetime) -> bool:
        return refusals >= MAX_REFUSALS or self._now() - failing_since > ANNOUNCE_WITHIN


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())
