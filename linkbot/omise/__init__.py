"""Omise API client. Knows nothing about Telegram."""

from linkbot.omise.client import API_VERSION, DEFAULT_API_URL, OmiseClient
from linkbot.omise.errors import (
    AuthenticationError,
    CreateOutcomeUnknown,
    NotFoundError,
    OmiseConnectionError,
    OmiseError,
    OmiseTimeout,
    RateLimitError,
    ServerError,
    UnexpectedResponse,
    ValidationError,
)
from linkbot.omise.models import FINAL_STATUSES, Charge, DeletedLink, Event, Link, OmiseList

__all__ = [
    "API_VERSION",
    "DEFAULT_API_URL",
    "FINAL_STATUSES",
    "AuthenticationError",
    "Charge",
    "CreateOutcomeUnknown",
    "DeletedLink",
    "Event",
    "Link",
    "NotFoundError",
    "OmiseClient",
    "OmiseConnectionError",
    "OmiseError",
    "OmiseList",
    "OmiseTimeout",
    "RateLimitError",
    "ServerError",
    "UnexpectedResponse",
    "ValidationError",
]
