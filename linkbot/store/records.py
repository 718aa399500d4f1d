"""What the store hands out and takes: its records, and the states they are in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any


class LinkStatus(enum.StrEnum):
    ACTIVE = "active"
    PAID = "paid"
    CANCELLED = "cancelled"


class Notice(enum.StrEnum):
    """What a chat must be told about a charge."""

    PAID = "paid"
    FAILED = "failed"  # a pending charge that ended failed or expired


class Recorded(enum.StrEnum):
    """What recording a charge's status changed."""

    PENDING = "pending"  # first seen, not settled yet
    PAID = "paid"  # it succeeded: counted in its link's totals, to be announced
    FAILED = "failed"  # settled without payment
    UNCHANGED = "unchanged"


class CommandState(enum.StrEnum):
    PENDING = "pending"  # Omise is being asked, or was when the process died
    DONE = "done"  # the link exists and is recorded
    FAILED = "failed"  # answered with a failure; a repeat is ignored


@dataclass(frozen=True, slots=True)
class LinkRecord:
    link_id: str
    chat_id: int
    message_id: int | None
    creator_id: int
    amount: int
    currency: str
    title: str
    description: str
    multiple: bool
    payment_uri: str
    created_at: datetime
    recorded_at: datetime
    status: LinkStatus = LinkStatus.ACTIVE
    paid_at: datetime | None = None
    paid_count: int = 0
    paid_total: int = 0
    charges_seen: int = 0
    message_chat_id: int | None = None
    inline_message_id: str | None = None
    business_connection_id: str | None = None

    @property
    def editable_message_id(self) -> int | None:
        """The link message's id, if it is in the link's chat (not left behind by a migration)."""
        if self.message_chat_id not in (None, self.chat_id):
            return None
        return self.message_id

    @property
    def answered(self) -> bool:
        """Whether a message shows the link: a reply in a chat, or an edited inline message."""
        return self.message_id is not None or self.inline_message_id is not None


@dataclass(frozen=True, slots=True)
class CommandRecord:
    key: str
    chat_id: int
    message_id: int | None
    user_id: int
    amount: int
    currency: str
    title: str
    description: str
    multiple: bool
    received_at: datetime
    state: CommandState = CommandState.PENDING
    link_id: str | None = None
    inline_message_id: str | None = None
    business_connection_id: str | None = None
    claimed_by: str | None = None


@dataclass(frozen=True, slots=True)
class BusinessConnectionRecord:
    connection_id: str
    user_id: int
    user_chat_id: int
    is_enabled: bool
    can_reply: bool
    can_delete_sent_messages: bool
    can_delete_all_messages: bool
    date: datetime


@dataclass(frozen=True, slots=True)
class OpenLink:
    link_id: str
    created_at: datetime
    status: LinkStatus
    charges_seen: int


@dataclass(frozen=True, slots=True)
class ChargeRecord:
    charge_id: str
    link_id: str
    amount: int
    currency: str
    paid_at: datetime | None = None
    status: str = "successful"
    created_at: datetime | None = None
    fee: int | None = None
    fee_vat: int | None = None
    net: int | None = None
    refunded: int = 0
    position: int = 0
    running_total: int = 0
    notice: Notice | None = None
    claimed_at: datetime | None = None
    announced_at: datetime | None = None
    attempts: int = 0
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class PaymentRow:
    """One successful charge of a link of ours, with its link and chat, for reports."""

    charge_id: str
    link_id: str
    title: str
    description: str
    amount: int
    currency: str
    status: str
    paid_at: datetime
    fee: int | None
    fee_vat: int | None
    net: int | None
    refunded: int
    chat_id: int
    chat_title: str | None


class LinkTaken(Exception):
    """The link is already recorded for another command."""


def link_values(record: LinkRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in LinkRecord.__slots__}
    values["status"] = record.status.value
    return values


def link_from(row: Any) -> LinkRecord:
    values = dict(row)
    values["status"] = LinkStatus(values["status"])
    return LinkRecord(**values)


def command_from(row: Any) -> CommandRecord:
    values = dict(row)
    values["state"] = CommandState(values["state"])
    return CommandRecord(**values)


def charge_values(record: ChargeRecord) -> dict[str, Any]:
    values = {name: getattr(record, name) for name in ChargeRecord.__slots__}
    values["notice"] = record.notice.value if record.notice is not None else None
    return values


def charge_from(row: Any) -> ChargeRecord:
    values = dict(row)
    values["notice"] = Notice(values["notice"]) if values["notice"] else None
    return ChargeRecord(**values)
