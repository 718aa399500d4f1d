"""What an Omise webhook says: its signature, and the charge its body names.

Nothing here trusts the request: a signature is checked in constant time
against the shared secret, a timestamp is ASCII digits within five minutes,
and a body is a charge event only when every field of it is what Omise sends.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from dataclasses import dataclass

from pydantic import SecretStr

from linkbot.payments import CHARGE_EVENTS

SIGNATURE_HEADER = "Omise-Signature"
TIMESTAMP_HEADER = "Omise-Signature-Timestamp"
MAX_SIGNATURE_AGE = 300

# Omise ids are short and plain; anything else is not from Omise, and must
# not reach a URL path or sit in memory at any length.
_CHARGE_ID = re.compile(r"chrg_[A-Za-z0-9_]{1,64}")
_EVENT_ID = re.compile(r"[A-Za-z0-9_]{1,64}")
# A number in a header (a timestamp, a length) is ASCII digits: str.isdigit()
# also takes "²" and "١٢", which int() refuses, as it does 4,300 digits and more.
NUMBER = re.compile(r"[0-9]{1,12}")


def verify_signature(
    secret: SecretStr, body: bytes, signatures: str | None, timestamp: str | None, *, now: float
) -> bool:
    """Check ``Omise-Signature``: hex HMAC-SHA256 of ``"{timestamp}.{body}"``.

    The key is the base64-decoded webhook secret. During a secret rotation
    the header holds two comma-separated signatures; either may match.
    Timestamps more than five minutes away from ``now`` are refused, so a
    captured request cannot be replayed later.
    """
    if not signatures or not timestamp or not NUMBER.fullmatch(timestamp):
        return False
    if abs(now - int(timestamp)) > MAX_SIGNATURE_AGE:
        return False
    try:
        key = base64.b64decode(secret.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        key = secret.get_secret_value().encode()
    expected = hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    # compare_digest refuses str with non-ASCII characters: such a candidate is no match.
    return any(
        candidate.isascii() and hmac.compare_digest(expected, candidate.strip().lower())
        for candidate in signatures.split(",")
    )


@dataclass(frozen=True, slots=True)
class ChargeEvent:
    charge_id: str
    event_id: str | None


class NotJson(Exception):
    """A body that is not JSON, or nested too deeply to be read."""


def load_json(body: bytes) -> object:
    """The JSON value of ``body``; raises :class:`NotJson` for anything else."""
    try:
        return json.loads(body)
    # A few hundred KB of "[" exhaust the decoder's recursion limit.
    except (ValueError, RecursionError) as exc:
        raise NotJson(type(exc).__name__) from None


def parse_charge_event(body: bytes) -> ChargeEvent | None:
    """The charge a charge event names, or None for any other body (JSON or not)."""
    try:
        return charge_event_of(load_json(body))
    except NotJson:
        return None


def charge_event_of(event: object) -> ChargeEvent | None:
    """The charge a decoded charge event names, or None for any other value."""
    if not isinstance(event, dict):
        return None
    key = event.get("key")
    if not isinstance(key, str) or key not in CHARGE_EVENTS:
        return None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("object") != "charge":
        return None
    charge_id = data.get("id")
    if not isinstance(charge_id, str) or not _CHARGE_ID.fullmatch(charge_id):
        return None
    event_id = event.get("id")
    valid_event_id = isinstance(event_id, str) and _EVENT_ID.fullmatch(event_id) is not None
    return ChargeEvent(charge_id, event_id if valid_event_id else None)
