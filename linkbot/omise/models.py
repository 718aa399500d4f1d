"""Typed Omise objects.

They parse both the 2019-05-29 shape (``created_at``, ``used_at``,
``deleted_at``, uppercase currency) and older ones (``created``, lowercase
currency, ``+00:00`` offsets, a four-field delete body).
"""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

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


class Charge(_OmiseObject):
    id: str
    livemode: bool = False
    amount: int
    currency: str
    status: str
    paid: bool = False
    link: str | None = None
    description: str | None = None
    created_at: datetime = Field(validation_alias=AliasChoices("created_at", "created"))
    paid_at: datetime | None = None

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

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
        """A one-time link that a successful charge has used up."""
        return not self.multiple and self.used and any(c.successful for c in self.charges.data)


class DeletedLink(_OmiseObject):
    """What older API versions answer to ``DELETE /links/{id}``."""

    id: str
    livemode: bool = False
    deleted: bool = True


class ErrorBody(_OmiseObject):
    code: str = "unknown"
    message: str = ""
    location: str | None = None
