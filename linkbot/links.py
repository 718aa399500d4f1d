"""What the bot does with links, apart from Telegram: create, cancel, inspect, list.

It ties the Omise client to the store, and owns the rules that keep one
command to one link even when Omise's answer is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from linkbot.commands import LinkRequest
from linkbot.instances import ended_here
from linkbot.omise import (
    Charge,
    CreateOutcomeUnknown,
    Link,
    OmiseClient,
    OmiseError,
    OmiseList,
    ValidationError,
)
from linkbot.omise.client import Order
from linkbot.store import CommandRecord, CommandState, LinkRecord, LinkTaken, Store

logger = logging.getLogger(__name__)

# How far before our own clock a lost create may appear in Omise's list:
# covers clock skew between this host and Omise.
RECONCILE_MARGIN = timedelta(minutes=2)
# Waits before each look at Omise's list after a create whose answer was
# lost; a link created late in the request shows up within them.
RECONCILE_DELAYS: tuple[float, ...] = (0.5, 1.5, 3.0)
PAGE_SIZE = 10
# Commands older than this are not resumed after a restart: the chat has moved on.
RESUME_WINDOW = timedelta(hours=1)
# A repeat of a command that another live instance claimed waits this long
# at most for that one to finish it (create, record, reply), looking every
# COMMAND_POLL seconds; longer than a create and its reconciliation take.
COMMAND_WAIT = timedelta(minutes=2)
COMMAND_POLL = 0.5


def command_key(chat_id: int, message_id: int, business_connection_id: str | None = None) -> str:
    """The key a command message is recorded under.

    A business chat has the customer's id, as the customer's own chat with
    the bot does, and its message ids are the merchant's: its keys carry
    the connection (hashed, as its id has no length Telegram promises).
    """
    if business_connection_id is None:
        return f"{chat_id}:{message_id}"
    return f"b{connection_tag(business_connection_id)}:{chat_id}:{message_id}"


def connection_tag(business_connection_id: str) -> str:
    """A business connection in 16 characters (its id has no length Telegram promises)."""
    return hashlib.sha256(business_connection_id.encode()).hexdigest()[:16]


class LinkNotCreated(Exception):
    """A create failed and Omise's list shows no link for it: retrying is safe."""


class AlreadyCancelled(Exception):
    def __init__(self, link: Link) -> None:
        super().__init__(link.id)
        self.link = link


class AlreadyPaid(Exception):
    def __init__(self, link: Link) -> None:
        super().__init__(link.id)
        self.link = link


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a request for a link came from, keyed so that it makes one link at most.

    ``chat_id`` is the chat the link belongs to: where its command was sent,
    or, for a result chosen in inline mode (posted in a chat the bot may not
    be in), its creator's private chat, which is told about its payments.
    """

    key: str
    chat_id: int
    # The command message, quoted by the reply.
    message_id: int | None = None
    # The inline message that is edited into the link message.
    inline_message_id: str | None = None
    # The merchant's business connection a command in their own chat came through.
    business_connection_id: str | None = None

    @classmethod
    def message(
        cls, chat_id: int, message_id: int, business_connection_id: str | None = None
    ) -> Origin:
        return cls(
            command_key(chat_id, message_id, business_connection_id),
            chat_id,
            message_id=message_id,
            business_connection_id=business_connection_id,
        )

    @classmethod
    def inline(cls, result_id: str, *, user_id: int, inline_message_id: str | None) -> Origin:
        return cls(f"inline:{result_id}", user_id, inline_message_id=inline_message_id)


@dataclass(frozen=True, slots=True)
class Created:
    record: LinkRecord

    @property
    def answered(self) -> bool:
        """Whether a message already shows this link (a repeat of a handled request)."""
        return self.record.answered


@dataclass(frozen=True, slots=True)
class LinkDetails:
    link: Link
    # Every charge of the link, newest first, however many pages Omise needed.
    charges: list[Charge]

    @property
    def paid_charges(self) -> list[Charge]:
        return [c for c in self.charges if c.successful]

    @property
    def paid_total(self) -> int:
        return sum(c.amount for c in self.paid_charges)


@dataclass(frozen=True, slots=True)
class AccountLinks:
    """A page of the account's links, and how many times each was paid."""

    page: OmiseList[Link]
    paid_counts: dict[str, int]


class LinkService:
    def __init__(
        self,
        omise: OmiseClient,
        store: Store,
        *,
        reconcile_delays: Sequence[float] = RECONCILE_DELAYS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        command_wait: timedelta = COMMAND_WAIT,
        command_poll: float = COMMAND_POLL,
    ) -> None:
        self.omise = omise
        # The whole store, which the bot's other services are wired from.
        self.store = store
        # The link service's own queries: the requests, their links, and who is alive.
        self._commands = store.commands
        self._leases = store.leases
        self._links = store.links
        self._command_wait = command_wait
        self._command_poll = command_poll
        self._reconcile_delays = tuple(reconcile_delays)
        self._sleep = sleep
        self._in_flight: set[str] = set()

    async def create(
        self,
        request: LinkRequest,
        *,
        chat_id: int,
        message_id: int,
        creator_id: int,
        business_connection_id: str | None = None,
    ) -> Created | None:
        """Create the link a command message asks for, once per message (see :meth:`create_for`)."""
        return await self.create_for(
            request,
            Origin.message(chat_id, message_id, business_connection_id),
            creator_id=creator_id,
        )

    async def create_for(
        self, request: LinkRequest, origin: Origin, *, creator_id: int
    ) -> Created | None:
        """Create the link a request asks for, once per ``origin.key``.

        A second delivery of the same request returns the first delivery's
        link, or None when there is nothing to say (it is still being
        handled, or it was answered with a failure). Raises
        :class:`LinkNotCreated` when Omise's answer was lost and no link
        turned up, :class:`CreateOutcomeUnknown` when not even that could be
        checked, or another :class:`OmiseError`.
        """
        key = origin.key
        if key in self._in_flight:
            return None
        self._in_flight.add(key)
        try:
            command = CommandRecord(
                key=key,
                chat_id=origin.chat_id,
                message_id=origin.message_id,
                inline_message_id=origin.inline_message_id,
                user_id=creator_id,
                amount=request.amount,
                currency=request.currency.code,
                title=request.title,
                description=request.description,
                multiple=request.multiple,
                received_at=_utcnow(),
                business_connection_id=origin.business_connection_id,
            )
            earlier = await self._commands.claim_command(command)
            if earlier is None:
                return Created(await self._create(command))
            return await self._repeat(earlier)
        finally:
            self._in_flight.discard(key)

    async def _create(self, command: CommandRecord) -> LinkRecord:
        try:
            link = await self.omise.create_link(
                amount=command.amount,
                currency=command.currency,
                title=command.title,
                description=command.description,
                multiple=command.multiple,
            )
        except CreateOutcomeUnknown as exc:
            logger.warning("Create outcome unknown (%s); looking for the link", exc.message)
            return await self._settle(command)
        except OmiseError as exc:
            if isinstance(exc, ValidationError):
                exc.amount, exc.currency = command.amount, command.currency
            await self._commands.fail_command(command.key)
            raise
        try:
            return await self._record(command, link)
        except LinkTaken:
            # Another command, whose own create's answer was lost, adopted this
            # link first (they ask for the same). Look for the other one it made.
            logger.warning("Link %s was adopted by another command; settling", link.id)
            return await self._settle(command)

    async def _repeat(self, command: CommandRecord) -> Created | None:
        command = await self._finished_elsewhere(command)
        if command.state is CommandState.FAILED:
            return None
        if command.state is CommandState.DONE and command.link_id is not None:
            record = await self._links.get_link(command.link_id)
            if record is not None:
                if not record.answered and not await self._take_over(command):
                    return None
                return Created(record)
        if not await self._take_over(command):
            return None
        # The first delivery died between asking Omise and recording the
        # answer: look for its link instead of creating another.
        return Created(await self._settle(command))

    async def _take_over(self, command: CommandRecord) -> bool:
        """Make a command this instance's to finish and answer.

        False when another instance adopted it first (see :meth:`orphans`):
        that one answers it.
        """
        if command.claimed_by == self._commands.instance_id:
            return True
        return await self._commands.adopt_command(command)

    async def _finished_elsewhere(self, command: CommandRecord) -> CommandRecord:
        """Wait while another live instance is still creating or answering ``command``.

        Telegram may deliver a command again to another instance while the
        first is still asking Omise; settling it here meanwhile would tell
        the chat that no link was made. Returns the command as it is once
        that instance has finished (or failed, or died, or taken too long).
        """
        deadline = _utcnow() + self._command_wait
        while await self._held_elsewhere(command) and _utcnow() < deadline:
            if command.state is CommandState.FAILED:
                break
            if command.state is CommandState.DONE and command.link_id is not None:
                record = await self._links.get_link(command.link_id)
                if record is None or record.answered:
                    break  # answered: nothing is left for the other instance to do
            await self._sleep(self._command_poll)
            command = await self._commands.get_command(command.key) or command
        return command

    async def _held_elsewhere(self, command: CommandRecord) -> bool:
        """Whether another instance claimed the command and is still alive."""
        holder = command.claimed_by
        if holder is None or holder == self._commands.instance_id or ended_here(holder):
            return False
        # On the database's clock: the holder's host may keep another time.
        return await self._leases.alive(holder)

    async def _settle(self, command: CommandRecord) -> LinkRecord:
        """Find and record the link a lost create made; if there is none, the command failed."""
        try:
            return await self._reconcile(command, since=command.received_at)
        except (LinkNotCreated, CreateOutcomeUnknown):
            await self._commands.fail_command(command.key)
            raise

    async def _record(self, command: CommandRecord, link: Link) -> LinkRecord:
        """Record ``link`` as the command's. Raises :class:`LinkTaken` if another command has it."""
        record = LinkRecord(
            link_id=link.id,
            chat_id=command.chat_id,
            message_id=None,
            creator_id=command.user_id,
            amount=link.amount,
            currency=link.currency,
            title=link.title,
            description=link.description,
            multiple=link.multiple,
            payment_uri=link.payment_uri,
            created_at=link.created_at,
            recorded_at=_utcnow(),
            business_connection_id=command.business_connection_id,
        )
        await self._commands.finish_command(command.key, record)
        return record

    async def unfinished(self) -> list[tuple[CommandRecord, LinkRecord | Exception]]:
        """Finish what a previous process left undone, for the chat to be told.

        Commands it started but never finished are settled against Omise's
        list; links it made but never replied with are returned to be sent.
        """

        async def not_held_elsewhere(command: CommandRecord) -> bool:
            # What another live instance is working on is left to it.
            return not await self._held_elsewhere(command)

        return await self._adopt_unfinished(_utcnow() - RESUME_WINDOW, not_held_elsewhere)

    async def orphans(self, grace: timedelta) -> list[tuple[CommandRecord, LinkRecord | Exception]]:
        """Finish what another instance claimed and left undone when it died.

        In webhook mode Telegram was told the update arrived before it was
        handled, so it never delivers it again: unless a surviving instance
        finishes the command, nobody answers it. A command counts as
        orphaned once its claimer has shown no sign of life and it is older
        than ``grace`` (an instance just starting may not have shown one
        yet). It is then settled like :meth:`unfinished` does, against
        Omise's list, never by asking for a new link.
        """
        now = _utcnow()
        cutoff = now - grace

        async def orphaned(command: CommandRecord) -> bool:
            holder = command.claimed_by
            if (
                command.key in self._in_flight
                or holder is None
                or holder == self._commands.instance_id
            ):
                return False
            if command.received_at > cutoff:
                return False
            # On the database's clock, which wrote the holder's heartbeat.
            return ended_here(holder) or not await self._leases.alive(holder)

        return await self._adopt_unfinished(now - RESUME_WINDOW, orphaned, announce=True)

    async def _adopt_unfinished(
        self,
        since: datetime,
        may_take: Callable[[CommandRecord], Awaitable[bool]],
        *,
        announce: bool = False,
    ) -> list[tuple[CommandRecord, LinkRecord | Exception]]:
        """Adopt and settle the unfinished commands since ``since`` that ``may_take`` allows.

        Each is adopted first (one conditional UPDATE), so of instances
        starting or sweeping together only one finishes it.
        """
        outcomes: list[tuple[CommandRecord, LinkRecord | Exception]] = []
        for command, record in await self._commands.unanswered_links(since):
            if await may_take(command) and await self._commands.adopt_command(command):
                outcomes.append((command, record))
        for command in await self._commands.pending_commands(since):
            if not (await may_take(command) and await self._commands.adopt_command(command)):
                continue
            if announce:
                logger.warning(
                    "Finishing command %s of instance %s, which stopped",
                    command.key,
                    command.claimed_by,
                )
            try:
                outcomes.append((command, await self._settle(command)))
            except (LinkNotCreated, CreateOutcomeUnknown) as exc:
                outcomes.append((command, exc))
        return outcomes

    async def _reconcile(self, command: CommandRecord, *, since: datetime) -> LinkRecord:
        """Find and record the link a lost create made, or prove there is none.

        Raises :class:`CreateOutcomeUnknown` if Omise cannot be asked.
        """
        last_error: OmiseError | None = None
        for delay in self._reconcile_delays:
            await self._sleep(delay)
            try:
                candidates = await self._candidates(command, since - RECONCILE_MARGIN)
            except OmiseError as exc:
                last_error = exc
                continue
            last_error = None
            # Oldest first: the one the lost request made first. Recording is
            # the claim: a link another command recorded meanwhile is skipped.
            for link in reversed(candidates):
                try:
                    record = await self._record(command, link)
                except LinkTaken:
                    continue
                logger.info("Adopted link %s created by a create whose answer was lost", link.id)
                return record
        if last_error is not None:
            raise CreateOutcomeUnknown(last_error)
        raise LinkNotCreated()

    async def _candidates(self, command: CommandRecord, since: datetime) -> list[Link]:
        """Omise's newest links that match the command and no command has recorded yet."""
        page = await self.omise.list_links(from_=since, order="reverse_chronological", limit=100)
        candidates = [
            link
            for link in page.data
            if not link.deleted
            and link.amount == command.amount
            and link.currency == command.currency
            and link.title == command.title
            and link.description == command.description
            and link.multiple == command.multiple
        ]
        taken = await self._links.known_link_ids([link.id for link in candidates])
        return [link for link in candidates if link.id not in taken]

    async def find(self, link_id: str) -> LinkRecord | None:
        """The bot's own record of a link, if the bot made it."""
        return await self._links.get_link(link_id)

    async def find_by_message(
        self, chat_id: int, message_id: int, *, business_connection_id: str | None = None
    ) -> LinkRecord | None:
        """The link a bot message in a chat shows, if it shows one."""
        return await self._links.find_by_message(
            chat_id, message_id, business_connection_id=business_connection_id
        )

    async def record_reply(
        self, record: LinkRecord, message_id: int, *, chat_id: int | None = None
    ) -> LinkRecord:
        """Remember the message that shows the link (in its own chat unless said otherwise)."""
        chat = record.chat_id if chat_id is None else chat_id
        await self._links.set_message(record.link_id, chat, message_id)
        return replace(record, message_id=message_id, message_chat_id=chat)

    async def record_inline_reply(self, record: LinkRecord, inline_message_id: str) -> LinkRecord:
        """Remember the inline message that now shows the link."""
        await self._links.set_inline_message(record.link_id, inline_message_id)
        return replace(record, inline_message_id=inline_message_id)

    async def cancel(self, link_id: str) -> Link:
        """Deactivate a link. Raises AlreadyCancelled or AlreadyPaid when there is nothing to do."""
        link = await self.omise.retrieve_link(link_id)
        if link.deleted:
            await self._links.mark_cancelled(link_id)
            raise AlreadyCancelled(link)
        if link.paid:
            raise AlreadyPaid(link)
        destroyed = await self.omise.destroy_link(link_id)
        await self._links.mark_cancelled(link_id)
        if isinstance(destroyed, Link):
            return destroyed
        return link.model_copy(update={"deleted": True, "deleted_at": _utcnow()})

    async def current(self, link_id: str) -> Link:
        """The link as Omise has it now: paid or cancelled even if no watcher has seen it yet."""
        return await self.omise.retrieve_link(link_id)

    async def details(self, link_id: str) -> LinkDetails:
        link = await self.omise.retrieve_link(link_id)
        return LinkDetails(link, await self.all_charges(link_id, order="reverse_chronological"))

    async def all_charges(self, link_id: str, *, order: Order = "chronological") -> list[Charge]:
        """Every charge of a link, however many pages Omise needs."""
        return [
            c
            async for page in self.omise.link_charge_pages(link_id, order=order)
            for c in page.data
        ]

    async def account_links(self, page: int) -> AccountLinks:
        links = await self.omise.list_links(
            offset=page * PAGE_SIZE, limit=PAGE_SIZE, order="reverse_chronological"
        )
        # A link embeds only its first 20 charges; a busy one needs its whole list.
        truncated = [link for link in links.data if link.charges.total > len(link.charges.data)]
        complete = await asyncio.gather(*(self.all_charges(link.id) for link in truncated))
        charges = {link.id: link.charges.data for link in links.data}
        charges.update({link.id: found for link, found in zip(truncated, complete, strict=True)})
        counts = {
            link_id: sum(1 for c in found if c.successful) for link_id, found in charges.items()
        }
        return AccountLinks(links, counts)

    async def business_connection_tagged(self, chat_id: int, tag: str) -> str | None:
        """The connection (by :func:`connection_tag`) that links in ``chat_id`` went through."""
        for connection_id in await self._links.business_connections_of_chat(chat_id):
            if connection_tag(connection_id) == tag:
                return connection_id
        return None

    async def chat_links(
        self, chat_id: int, page: int, *, business_connection_id: str | None = None
    ) -> tuple[list[LinkRecord], int]:
        return await self._links.chat_links(
            chat_id,
            offset=page * PAGE_SIZE,
            limit=PAGE_SIZE,
            business_connection_id=business_connection_id,
        )


def _utcnow() -> datetime:
    return datetime.now(UTC)
