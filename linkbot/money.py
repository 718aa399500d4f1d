"""Currencies and exact amounts.

Amounts are parsed with :class:`decimal.Decimal` into integer smallest units
(satang, sen, cents, yen). No float ever touches an amount, and no step
depends on the decimal context: every digit typed is either kept or the
amount is refused, never rounded.
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

# ISO 4217 minor units that are not 2, for showing links made outside the bot
# (in the Omise dashboard) in currencies it cannot create. Codes whose minor
# unit ISO lists as "N.A." (gold, SDRs, test codes) are shown with 2 like the rest.
_ISO_MINOR_UNITS: dict[str, int] = {
    code: units
    for units, codes in (
        (0, "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"),
        (3, "BHD IQD JOD KWD LYD OMR TND"),
        (4, "CLF UYW"),
    )
    for code in codes.split()
}
_ISO_DEFAULT_MINOR_UNIT = 2

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
# How much of Europe writes 25,000: a dot between thousands. Read with a
# decimal dot it is a thousand times less, so it is refused with both readings.
_DOT_THOUSANDS = re.compile(r"([1-9]\d{0,2})\.(\d{3})")

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
    amount in that currency. More digits after the dot than the currency has
    are refused even when they are zeros: ``25.000`` is 25 to some and 25,000
    to others, and ``1.0000000000000000000000000001`` is not 1.
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
        # Construction from a string is exact whatever the context precision.
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only digits
        raise AmountError("amount_invalid", text=text) from None
    _, coefficient_digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - NaN and Infinity cannot match
        raise AmountError("amount_invalid", text=text)
    coefficient = int("".join(map(str, coefficient_digits)))
    if coefficient == 0:
        raise AmountError("amount_not_positive")
    places = -exponent
    if places > currency.decimals:
        raise _too_precise(text, raw, places, currency)
    # Integer arithmetic: exact for any number of digits, unlike Decimal.scaleb,
    # which rounds to the context precision.
    amount: int = coefficient * 10 ** (currency.decimals - places)
    if amount > MAX_SMALLEST_UNITS:
        raise AmountError("amount_too_large", limit=format_amount(MAX_SMALLEST_UNITS, currency))
    return amount


def _too_precise(text: str, raw: str, places: int, currency: Currency) -> AmountError:
    """Refuse more decimals than ``currency`` has, naming the thousands reading when likely."""
    thousands = _DOT_THOUSANDS.fullmatch(raw)
    if thousands is None:
        return AmountError(
            "amount_too_precise",
            text=text,
            places=places,
            currency=currency.code,
            decimals=currency.decimals,
        )
    whole = int(thousands[1] + thousands[2])
    return AmountError(
        "amount_dot_thousands" if currency.decimals else "amount_dot_thousands_whole",
        text=text,
        places=places,
        currency=currency.code,
        decimals=currency.decimals,
        plain=str(whole),
        grouped=f"{whole:,}",
    )


def minor_units(code: str) -> int:
    """Decimal places of a currency code: linkbot's own, else ISO 4217's (``KWD`` → 3)."""
    known = get_currency(code)
    if known is not None:
        return known.decimals
    return _ISO_MINOR_UNITS.get(code.strip().upper(), _ISO_DEFAULT_MINOR_UNIT)


def _shift(amount: int, places: int) -> Decimal:
    """``amount`` × 10**-``places`` built from its digits, so nothing can round."""
    sign, digits, exponent = Decimal(amount).as_tuple()
    assert isinstance(exponent, int)  # an int is always finite
    return Decimal((sign, digits, exponent - places))


def to_decimal(amount: int, currency: Currency) -> Decimal:
    return _shift(amount, currency.decimals)


def format_amount(amount: int, currency: Currency | str) -> str:
    """``7440, THB`` → ``฿74.40``; ``500, JPY`` → ``¥500``; ``1234, KWD`` → ``1.234 KWD``.

    A currency linkbot does not support (a link made in the Omise dashboard)
    is shown with its ISO 4217 decimals and its code after the number.
    """
    if amount < 0:  # a net after a refund: "-฿25.00", as accounts write it
        return "-" + format_amount(-amount, currency)
    if isinstance(currency, str):
        known = get_currency(currency)
        if known is None:
            places = minor_units(currency)
            return f"{_grouped(_shift(amount, places), places)} {currency.strip().upper()}"
        currency = known
    return f"{currency.symbol}{_grouped(to_decimal(amount, currency), currency.decimals)}"


def _grouped(value: Decimal, places: int) -> str:
    # The value already has exactly ``places`` decimals, so formatting only adds commas.
    return format(value, f",.{places}f")
