"""This instance's sign of life in the database, kept apart from any other work.

Other instances judge by it whether the commands and announcements this one
claimed are still being worked on. It is renewed by a task of its own from
start-up until the bot signs off, after its last command, so that neither a
slow payment pass nor a shutdown (the watcher stops first) lets it lapse.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

from linkbot.store import Store
from linkbot.waits import pause

logger = logging.getLogger(__name__)

# Seconds between renewals, at most: a bot polling Omise more often renews
# its heartbeat as often, so others notice its death as soon as its lease.
HEARTBEAT_EVERY = 10.0
# A heartbeat survives this many missed renewals (a database failing over).
# It need not cover a shutdown: its task renews it until the last command
# is finished.
MISSED_RENEWALS = 3
HEARTBEAT_MARGIN = 5.0


@functools.cache
def process_instance_id() -> str:
    """This process's instance id when none is configured: host name, process id, a random part."""
    return f"{_host()}-{os.getpid()}-{secrets.token_hex(2)}"


def ended_here(instance_id: str) -> bool:
    """Whether ``instance_id`` names an earlier process of this host that has ended.

    Only for ids made by :func:`process_instance_id`: a process of this host
    that is no longer running is no longer working on its claims, whatever
    its heartbeat still says, so a bot killed and restarted on the same host
    finishes them at once. An id with this process's own pid proves nothing
    (a restarted container, or a sibling container on the host's network).
    """
    found = _MADE_UP.fullmatch(instance_id)
    if found is None or found["host"] != _host() or instance_id == process_instance_id():
        return False
    pid = int(found["pid"])
    if pid == os.getpid():
        # This process in an earlier life (a restarted container), or a sibling
        # sharing the host name and pid numbering (containers on the host's
        # network): only its heartbeat can tell.
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # running, under another user
    return False


_MADE_UP = re.compile(r"(?P<host>.*)-(?P<pid>\d+)-[0-9a-f]{4}")


def _host() -> str:
    return socket.gethostname()[:32] or "linkbot"


def heartbeat_every(poll_interval: float) -> float:
    """Seconds between renewals for a bot reading Omise every ``poll_interval`` seconds."""
    return min(HEARTBEAT_EVERY, poll_interval)


def heartbeat_ttl(every: float) -> timedelta:
    """How long one renewal shows this instance alive, renewed every ``every`` seconds."""
    return timedelta(seconds=MISSED_RENEWALS * every + HEARTBEAT_MARGIN)


class InstanceIdTaken(Exception):
    """Another running process has this instance id."""


class Heartbeat:
    def __init__(
        self,
        store: Store,
        ttl: timedelta,
        *,
        every: float = HEARTBEAT_EVERY,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._leases = store.leases
        self.ttl = ttl
        self.every = every
        self._sleep = sleep
        self._ending = asyncio.Event()
        self._renewing: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """The first sign of life. Raises :class:`InstanceIdTaken` when another live process
        has this instance id (two processes sharing one would settle each other's claims).

        A heartbeat already there is either a live process's, which renews
        it, or one an earlier run of this id left when it died, which stands
        still: a little over one renewal interval tells them apart.
        """
        if await self._leases.heartbeat(None, self.ttl):
            return
        seen = await self._leases.heartbeat_of(self._leases.instance_id)
        logger.warning(
            "Instance %s already has a heartbeat: waiting up to %.0f s to see whether"
            " its process is still running",
            self._leases.instance_id,
            2 * self.every + 1,
        )
        deadline = time.monotonic() + 2 * self.every + 1
        while True:
            await self._sleep(self.every / 2)
            if await self._leases.heartbeat(None, self.ttl):
                return  # it expired, or its process signed off
            now_seen = await self._leases.heartbeat_of(self._leases.instance_id)
            if now_seen != seen:
                break
            if seen is not None and time.monotonic() >= deadline:
                holder, expires_at = seen
                if await self._leases.take_over_heartbeat(holder, expires_at, self.ttl):
                    logger.info(
                        "Instance %s: the earlier run's heartbeat stood still; taking over",
                        self._leases.instance_id,
                    )
                    return
                break
        raise InstanceIdTaken(
            f"Another running process has the instance id {self._leases.instance_id!r} "
            "(LINKBOT_INSTANCE_ID): each instance needs its own, or none (then one is made up)"
        )

    def keep_up(self) -> None:
        """Renew the heartbeat from now on, in a task of its own, until :meth:`end`."""
        self._renewing = asyncio.create_task(self.run(self._ending))

    async def end(self) -> None:
        """Stop renewing, and take this process's heartbeat away: its claims are free to settle.

        Also after a start cut short, whether or not the heartbeat was shown:
        never another process's heartbeat goes, even one with this instance id.
        """
        self._ending.set()
        if self._renewing is not None:
            await self._renewing
        await self._leases.sign_off()

    async def run(self, stop: asyncio.Event) -> None:
        """Renew the heartbeat until ``stop`` is set. Never raises."""
        while not stop.is_set():
            await pause(stop, self.every)
            if stop.is_set():
                return
            try:
                ours = await self._leases.heartbeat(None, self.ttl)
            except Exception as exc:
                # The database is unreachable: the heartbeat lasts a while on its own.
                logger.warning("Could not renew this instance's heartbeat (%s)", type(exc).__name__)
            else:
                if not ours:
                    logger.error(
                        "Another process took over the instance id %r: its claims and this"
                        " one's are now confused; give each instance its own LINKBOT_INSTANCE_ID",
                        self._leases.instance_id,
                    )
