"""Persistence of the links created through the bot, one module per concern.

:mod:`~linkbot.store.schema` holds the tables, :mod:`~linkbot.store.engine`
the database (its dialects, transactions and clock), and each concern's
module the queries on its tables: links, commands, charges (and their
announcements), chats (and languages), business connections, leases (and
heartbeats), reports, the inbox, and small state values. :class:`Store`
opens the database and holds one of each; a service keeps only the parts
whose queries it runs.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import URL

from linkbot.store.business import BusinessQueries
from linkbot.store.charges import ChargeQueries
from linkbot.store.chats import ChatQueries
from linkbot.store.commands import CommandQueries
from linkbot.store.engine import (
    POOL_SIZE,
    SSL_MODES,
    AsyncpgOptions,
    Database,
    asyncpg_options,
    postgresql_url,
)
from linkbot.store.inbox import InboxQueries
from linkbot.store.leases import LeaseQueries
from linkbot.store.links import LinkQueries
from linkbot.store.records import (
    BusinessConnectionRecord,
    ChargeRecord,
    CommandRecord,
    CommandState,
    LinkRecord,
    LinkStatus,
    LinkTaken,
    Notice,
    OpenLink,
    PaymentRow,
    Recorded,
)
from linkbot.store.reports import ReportQueries
from linkbot.store.schema import metadata
from linkbot.store.state import StateQueries

__all__ = [
    "POOL_SIZE",
    "SSL_MODES",
    "AsyncpgOptions",
    "BusinessConnectionRecord",
    "BusinessQueries",
    "ChargeQueries",
    "ChargeRecord",
    "ChatQueries",
    "CommandQueries",
    "CommandRecord",
    "CommandState",
    "Database",
    "InboxQueries",
    "LeaseQueries",
    "LinkQueries",
    "LinkRecord",
    "LinkStatus",
    "LinkTaken",
    "Notice",
    "OpenLink",
    "PaymentRow",
    "Recorded",
    "ReportQueries",
    "StateQueries",
    "Store",
    "asyncpg_options",
    "metadata",
    "postgresql_url",
]


class Store:
    """The bot's own records: the database, and the queries of each concern on it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.links = LinkQueries(db)
        self.commands = CommandQueries(db)
        self.charges = ChargeQueries(db)
        self.chats = ChatQueries(db)
        self.business = BusinessQueries(db)
        self.leases = LeaseQueries(db)
        self.reports = ReportQueries(db)
        self.inbox = InboxQueries(db, self.leases)
        self.state = StateQueries(db)

    @classmethod
    def connect(cls, database: str | Path, *, instance_id: str | None = None) -> Store:
        """The store at a PostgreSQL URL, or in an SQLite file at a path."""
        return cls(Database.connect(database, instance_id=instance_id))

    @classmethod
    def postgresql(cls, url: str | URL, *, instance_id: str | None = None) -> Store:
        return cls(Database.postgresql(url, instance_id=instance_id))

    @classmethod
    def sqlite(cls, path: Path | str, *, instance_id: str | None = None) -> Store:
        return cls(Database.sqlite(path, instance_id=instance_id))

    @property
    def instance_id(self) -> str:
        """Names this process in claims and leases; unique per process."""
        return self.db.instance_id

    @property
    def nonce(self) -> str:
        return self.db.nonce

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.db.dialect

    def describe(self) -> str:
        """Where the store is, for logs: the URL without its password, or the file."""
        return self.db.describe()

    async def initialize(self) -> list[str]:
        """Create or upgrade the schema to the newest revision; returns the revisions applied."""
        return await self.db.initialize()

    async def revision(self) -> str | None:
        """The schema revision of the database (None before any)."""
        return await self.db.revision()

    async def close(self) -> None:
        await self.db.close()
