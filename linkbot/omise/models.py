"""Typed Omise objects.

They parse both the 2019-05-29 shape (``created_at``, ``used_at``,
``deleted_at``, uppercase currency) and older ones (``created``, lowercase
currency, ``+00:00`` offsets, a four-field delete body).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

T = TypeVar("T")


class _OmiseObject(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class OmiseList(_OmiseObject, Generic[T]):
    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    offset: int = 0
    limit: int = 20
    total: int = 0
    order: str | None = None
    location: str | None = None
    data: list[T] = Field(default_factory=list)


# A charge ends in one of these; "pending" ones (PromptPay, mobile banking,
# 3-D Secure) settle later into one of them, keeping their id.
FINAL_STATUSES = frozenset({"successful", "failed", "expired", "reversed"})


class Charge(_OmiseObject):
    id: str
    livemode: bool = False
    amount: int
    currency: str
    status: str = ""
    paid: bool = False
    # Absent (not null) in the older shapes, which name the link only in return_uri.
    link: str | None = None
    return_uri: str | None = None
    description: str | None = None
    failure_code: str | None = None
    created_at: datetime = Field(validation_alias=AliasChoices("created_at", "created"))
    paid_at: datetime | None = None
    # What Omise keeps and the merchant receives, in smallest units; None when not told.
    fee: int | None = None
    fee_vat: int | None = None
    net: int | None = None
    refunded_amount: int | None = Field(
        default=None, validation_alias=AliasChoices("refunded_amount", "refunded")
    )

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @model_validator(mode="after")
    def _status_from_flags(self) -> Charge:
        # The oldest API version has no status: derive it as Omise documents it.
        if not self.status:
            status = "successful" if self.paid else "failed" if self.failure_code else "pending"
            object.__setattr__(self, "status", status)
        return self

    @property
    def successful(self) -> bool:
        return self.status == "successful"


class Link(_OmiseObject):
    id: str
    livemode: bool = False
    amount: int
    currency: str
    used: bool = False
    used_at: datetime | None = None
    multiple: bool = False
    title: str
    description: str = ""
    charges: OmiseList[Charge] = Field(default_factory=OmiseList[Charge])
    payment_uri: str
    created_at: datetime = Field(validation_alias=AliasChoices("created_at", "created"))
    deleted: bool = False
    deleted_at: datetime | None = None

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def paid(self) -> bool:
        """A one-time link that a successful charge has used up.

        Omise marks such a link used when the charge succeeds, and the flag
        is the answer: the charge itself may be past the first 20 attempts
        the link embeds, so the embedded list cannot be searched for it.
        """
        return self.used and not self.multiple

    @property
    def closed(self) -> bool:
        """Whether the link can no longer be paid: deleted, or a one-time link used up."""
        return self.deleted or self.paid


class Event(_OmiseObject):
    """An account event; ``data`` is the object it is about, in the account's default version."""

    id: str
    key: str
    livemode: bool = False
    created_at: datetime = Field(validation_alias=AliasChoices("created_at", "created"))
    # Any shape: one odd event must not make the whole page unreadable.
    data: Any = None

    def charge(self) -> Charge | None:
        """The charge a ``charge.*`` event carries, or None when it carries none."""
        if not isinstance(self.data, dict) or self.data.get("object") != "charge":
            return None
        try:
            return Charge.model_validate(self.data)
        except ValidationError:
            return None


class DeletedLink(_OmiseObject):
    """What older API versions answer to ``DELETE /links/{id}``."""

    id: str
    livemode: bool = False
    deleted: bool = True


class ErrorBody(_OmiseObject):
    code: str = "unknown"
    message: str = ""
    location: str | None = None
