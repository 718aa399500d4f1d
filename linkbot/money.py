"""Currencies and exact amounts.

Amounts are parsed with :class:`decimal.Decimal` into integer smallest units
(satang, sen, cents, yen). No float ever touches an amount.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_SMALLEST_UNITS = 10**12
# Long enough for any amount under MAX_SMALLEST_UNITS with grouping and a
# symbol; short enough that a pasted wall of digits is refused before parsing.
_MAX_TOKEN_LENGTH = 32


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    decimals: int
    symbol: str


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("THB", 2, "฿"),
        Currency("JPY", 0, "¥"),
        Currency("SGD", 2, "S$"),
        Currency("MYR", 2, "RM"),
        Currency("USD", 2, "$"),
        Currency("EUR", 2, "€"),
        Currency("GBP", 2, "£"),
        Currency("AUD", 2, "A$"),
        Currency("CAD", 2, "CA$"),
        Currency("CHF", 2, "CHF "),
        Currency("CNY", 2, "CN¥"),
        Currency("DKK", 2, "DKK "),
        Currency("HKD", 2, "HK$"),
    )
}

# Symbols a merchant may type before an amount. "$" means USD and "¥" means
# JPY, as on Omise's own dashboards; the other dollars and yuan need their
# prefix. Longest first so that "HK$" is not read as "$".
_SYMBOLS: tuple[tuple[str, str], ...] = tuple(
    sorted(
        {
            "฿": "THB",
            "¥": "JPY",
            "￥": "JPY",
            "S$": "SGD",
            "RM": "MYR",
            "$": "USD",
            "US$": "USD",
            "€": "EUR",
            "£": "GBP",
            "A$": "AUD",
            "CA$": "CAD",
            "C$": "CAD",
            "CN¥": "CNY",
            "HK$": "HKD",
            "CHF": "CHF",
            "DKK": "DKK",
        }.items(),
        key=lambda item: -len(item[0]),
    )
)

_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")

# Marks that are invisible in a chat but end up inside copied text.
_INVISIBLE = dict.fromkeys(
    [
        0x200B,
        0x200C,
        0x200D,
        0x200E,
        0x200F,
        0x2060,
        0xFEFF,
        *range(0x202A, 0x202F),
        *range(0x2066, 0x206A),
    ]
)


class AmountError(ValueError):
    """An amount that cannot be charged. ``reason`` names the message to show."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def get_currency(code: str) -> Currency | None:
    return CURRENCIES.get(code.strip().upper())


def normalize_digits(text: str) -> str:
    """Map Thai, full-width and other decimal digits to ASCII and drop invisible marks.

    A Thai keyboard types ``๗๔.๔๐`` for 74.40; Japanese input methods type
    full-width ``７４``. They are the same number, so they parse to the same
    amount. Every other character is kept, so nothing else changes meaning.
    """
    out = []
    for ch in text.translate(_INVISIBLE):
        if ch.isdecimal() and not ch.isascii():
            out.append(str(unicodedata.decimal(ch)))
        elif ch in "，．":
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return "".join(out)


def split_symbol(token: str) -> tuple[Currency | None, str]:
    """Split a leading currency symbol off an amount token: ``฿74.40`` → (THB, ``74.40``)."""
    for symbol, code in _SYMBOLS:
        if token.upper().startswith(symbol.upper()):
            return CURRENCIES[code], token[len(symbol) :].lstrip()
    return None, token


def looks_like_amount(token: str) -> bool:
    """Whether a token is meant as an amount (starts with a digit or a symbol)."""
    token = normalize_digits(token)
    _, rest = split_symbol(token)
    return bool(rest) and (rest[0].isdigit() or rest[0] in "-+.")


def parse_amount(text: str, currency: Currency) -> int:
    """Parse ``74.40`` or ``1,250.50`` in ``currency`` into smallest units.

    Raises :class:`AmountError` for anything that is not plainly one positive
    amount in that currency.
    """
    raw = normalize_digits(text.strip())
    if len(raw) > _MAX_TOKEN_LENGTH:
        raise AmountError("amount_too_large", limit=format_amount(MAX_SMALLEST_UNITS, currency))
    if raw.startswith("-"):
        raise AmountError("amount_not_positive")
    if _PLAIN.fullmatch(raw):
        digits = raw
    elif _GROUPED.fullmatch(raw):
        digits = raw.replace(",", "")
    elif re.fullmatch(r"[\d.,]+", raw) and "," in raw:
        raise AmountError("amount_ambiguous_separators", text=text)
    else:
        raise AmountError("amount_invalid", text=text)
    try:
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only digits
        raise AmountError("amount_invalid", text=text) from None
    units = value.scaleb(currency.decimals)
    if units != units.to_integral_value():
        raise AmountError("amount_too_precise", currency=currency.code, decimals=currency.decimals)
    amount = int(units)
    if amount <= 0:
        raise AmountError("amount_not_positive")
    if amount > MAX_SMALLEST_UNITS:
        raise AmountError("amount_too_large", limit=format_amount(MAX_SMALLEST_UNITS, currency))
    return amount


def to_decimal(amount: int, currency: Currency) -> Decimal:
    return Decimal(amount).scaleb(-currency.decimals)


def format_amount(amount: int, currency: Currency | str) -> str:
    """``7440, THB`` → ``฿74.40``; ``500, JPY`` → ``¥500``."""
    if isinstance(currency, str):
        known = get_currency(currency)
        if known is None:
            return f"{amount} {currency.upper()}"
        currency = known
    number = format(to_decimal(amount, currency), f",.{currency.decimals}f")
    return f"{currency.symbol}{number}"
