"""The tables, as the newest migration leaves them (see :mod:`linkbot.migrations`)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)


class _UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out (SQLite forgets the offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


metadata = MetaData()

links = Table(
    "links",
    metadata,
    Column("link_id", String(64), primary_key=True),
    Column("chat_id", BigInteger, nullable=False, index=True),
    Column("message_id", BigInteger),
    # The chat the link message is in; differs from chat_id once a group became a supergroup.
    Column("message_chat_id", BigInteger),
    # A link made through inline mode lives in a message of a chat the bot may not be in:
    # set once that message shows the link; it can only be edited through this id.
    Column("inline_message_id", String(255)),
    Column("creator_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("multiple", Boolean, nullable=False),
    Column("payment_uri", Text, nullable=False),
    Column("created_at", _UTCDateTime, nullable=False, index=True),
    # Our own clock, to the microsecond: orders links made within one of Omise's seconds.
    Column("recorded_at", _UTCDateTime, nullable=False, index=True),
    Column("status", String(16), nullable=False, index=True),
    Column("paid_at", _UTCDateTime),
    Column("paid_count", Integer, nullable=False, default=0),
    Column("paid_total", BigInteger, nullable=False, default=0),
    # How many charges (of any status) Omise listed for the link when last looked at.
    Column("charges_seen", Integer, nullable=False, default=0),
    # Set when the link message went into a merchant's own chat through Telegram Business.
    Column("business_connection_id", String(255)),
)

# One row per request for a link (a command message, or a chosen inline
# result), written before Omise is asked: the same update delivered twice
# never creates two links, and a request cut short by a crash can be
# finished after a restart.
commands = Table(
    "commands",
    metadata,
    Column("key", String(128), primary_key=True),
    # The chat the link belongs to (for an inline result, its creator's private chat).
    Column("chat_id", BigInteger, nullable=False),
    # The command message; None for an inline result.
    Column("message_id", BigInteger),
    # The inline message that waits for the link, for an inline result.
    Column("inline_message_id", String(255)),
    Column("user_id", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("multiple", Boolean, nullable=False),
    Column("state", String(16), nullable=False, index=True),
    Column("link_id", String(64)),
    Column("received_at", _UTCDateTime, nullable=False),
    Column("business_connection_id", String(255)),
    # The instance that claimed it; while that one is alive, no other settles it.
    Column("claimed_by", String(64)),
)

# One row per charge of a link of ours, with its last known status. A
# pending charge is looked at again until it settles; a successful one is
# counted once in its link's totals; ``notice`` says what the chat must be
# told, and announced_at is set once it has been.
charges = Table(
    "charges",
    metadata,
    Column("charge_id", String(64), primary_key=True),
    Column("link_id", String(64), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", _UTCDateTime),
    Column("paid_at", _UTCDateTime, index=True),
    # Omise's fee and its VAT, what the merchant receives, and what was refunded.
    Column("fee", BigInteger),
    Column("fee_vat", BigInteger),
    Column("net", BigInteger),
    Column("refunded", BigInteger, nullable=False, default=0),
    # Its place among its link's payments, and the link's total with it.
    Column("position", Integer, nullable=False, default=0),
    Column("running_total", BigInteger, nullable=False, default=0),
    Column("notice", String(16)),
    # Set by the one pass that is announcing it; expires so a crash does not lose it.
    Column("claimed_at", _UTCDateTime),
    Column("announced_at", _UTCDateTime, index=True),
    # How often the chat service refused its notice (network trouble is not counted),
    # and since when its announcement has been failing.
    Column("attempts", Integer, nullable=False, default=0),
    Column("failing_since", _UTCDateTime),
)

# Chats that changed under the bot: removed or blocked (403), or a group
# that became a supergroup (a new chat id).
chats = Table(
    "chats",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("forbidden_at", _UTCDateTime),
    Column("migrated_to", BigInteger),
    # As the bot last saw it: a group's title, or a private chat's person.
    Column("title", Text),
)

# The merchants' Telegram Business accounts connected to the bot, as last told.
business_connections = Table(
    "business_connections",
    metadata,
    Column("connection_id", String(255), primary_key=True),
    Column("user_id", BigInteger, nullable=False, index=True),
    # The owner's private chat with the bot.
    Column("user_chat_id", BigInteger, nullable=False),
    Column("is_enabled", Boolean, nullable=False),
    Column("can_reply", Boolean, nullable=False),
    Column("can_delete_sent_messages", Boolean, nullable=False),
    Column("can_delete_all_messages", Boolean, nullable=False),
    Column("date", _UTCDateTime, nullable=False),
)

# Small named values that must survive a restart (the event cursor).
state = Table(
    "state",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# Work that runs on one instance at a time (the payment watcher), and each
# instance's sign of life: held by ``holder`` until ``expires_at``, renewed
# by it before then, taken over by another once it has expired.
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", _UTCDateTime, nullable=False),
)

# Users who asked for the daily summary in a private chat (/report daily on).
daily_subscribers = Table(
    "daily_subscribers",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("since", _UTCDateTime, nullable=False),
)

# One row per daily summary sent (or being sent): the key is claimed before
# sending, so two loops, or one restarted at that minute, never send it twice.
daily_reports = Table(
    "daily_reports",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_at", _UTCDateTime, nullable=False),
)

# The same, for a group's summary sent to each authorized user privately.
daily_private_reports = Table(
    "daily_private_reports",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("chat_id", BigInteger, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("claimed_at", _UTCDateTime, nullable=False),
)

# Groups whose reports are posted in the group itself (/report here on): a
# merchant's choice for a staff-only group. Any other group holds customers,
# so its figures go to the merchant privately.
report_groups = Table(
    "report_groups",
    metadata,
    Column("chat_id", BigInteger, primary_key=True),
    Column("since", _UTCDateTime, nullable=False),
)

# The language each authorized user's Telegram app last asked for, so what
# the bot says on its own (paid notices, daily summaries) speaks it too.
# Customers are never stored here.
users = Table(
    "users",
    metadata,
    Column("user_id", BigInteger, primary_key=True),
    Column("language", String(8), nullable=False),
    Column("updated_at", _UTCDateTime, nullable=False),
)


# Telegram updates a webhook answered 200 before they were handled: Telegram
# never delivers those again, so each is kept from its 200 until handled
# (``handled_at``), and the updates of an instance that died are adopted by
# another. Handled rows stay a while, so a redelivery to another instance is
# known as one, then are purged.
inbox = Table(
    "inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    # The instance handling it: the one that received it, or the one that adopted it.
    Column("instance_id", String(64), nullable=False),
    Column("received_at", _UTCDateTime, nullable=False),
    Column("handled_at", _UTCDateTime),
)
