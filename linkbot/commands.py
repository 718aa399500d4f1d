"""Pure parsing of command text into requests. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkbot.money import (
    AmountError,
    Currency,
    get_currency,
    looks_like_amount,
    normalize_digits,
    parse_amount,
    split_symbol,
)

# A title shows in the reply, in /links and on Omise's payment page; a
# description only on the payment page. These caps keep every reply well
# inside Telegram's 4096 characters after HTML escaping.
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000

# Omise's ids carry 19 characters after the prefix. The cap leaves room for any
# id, test or live, in a button's callback data ("cancel:<id>", "qr:<id>"),
# which Telegram limits to 64 bytes.
LINK_ID_MAX_SUFFIX = 47
_LINK_ID = re.compile(rf"link_(?:test_)?[0-9a-z]{{1,{LINK_ID_MAX_SUFFIX}}}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CommandError(ValueError):
    """Command text that cannot be turned into a request.

    ``reason`` is a message catalog key; ``params`` fill in its placeholders.
    """

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True, slots=True)
class LinkRequest:
    amount: int
    currency: Currency
    title: str
    description: str
    multiple: bool


def parse_link(text: str, *, default_currency: Currency, multiple: bool = False) -> LinkRequest:
    """Parse ``<amount> [currency] <title> [| <description>]``.

    The word after the amount is a currency only when it is a supported code,
    so ``/link 50 Cup of tea`` is a title and ``/link 50 usd Cup of tea`` is
    not. A leading symbol (``฿74.40``) names the currency too.
    """
    head, bar, tail = _clean(text).partition("|")
    words = head.split()
    if not words:
        raise CommandError("usage")
    amount_token, rest = words[0], words[1:]
    if not looks_like_amount(amount_token):
        raise CommandError("usage")

    symbol_currency, number = split_symbol(normalize_digits(amount_token))
    code_currency = get_currency(rest[0]) if rest else None
    if code_currency is not None:
        rest = rest[1:]
    if symbol_currency and code_currency and symbol_currency != code_currency:
        raise CommandError(
            "currency_conflict", symbol=symbol_currency.code, code=code_currency.code
        )
    currency = code_currency or symbol_currency or default_currency

    try:
        amount = parse_amount(number, currency)
    except AmountError as exc:
        raise CommandError(exc.reason, **exc.params) from None

    title = " ".join(rest)
    description = " ".join(tail.split()) if bar else ""
    if not title:
        raise CommandError("title_missing")
    if len(title) > TITLE_MAX_LENGTH:
        raise CommandError("title_too_long", limit=TITLE_MAX_LENGTH)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise CommandError("description_too_long", limit=DESCRIPTION_MAX_LENGTH)
    return LinkRequest(
        amount=amount,
        currency=currency,
        title=title,
        description=description or title,
        multiple=multiple,
    )


def command_word(text: str | None) -> str | None:
    """The command a message starts with, as its handler is named ("/Link@bot 5" → "link").

    None when the message is not a command.
    """
    if not text or not text.startswith("/"):
        return None
    return text.split(None, 1)[0][1:].split("@", 1)[0].lower()


def parse_link_id(text: str) -> str:
    """Parse the single link id argument of ``/cancel`` and ``/status``."""
    words = _clean(text).split()
    if len(words) != 1 or not _LINK_ID.fullmatch(words[0]):
        raise CommandError("link_id_invalid")
    return words[0]


def parse_page(data: str, prefix: str) -> int | None:
    """Parse callback data such as ``links:3`` into a page number."""
    if not data.startswith(prefix):
        return None
    number = data[len(prefix) :]
    return int(number) if number.isascii() and number.isdigit() and len(number) < 6 else None


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text.replace("\u00a0", " "))
