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

from linkbot.currency_names import ISO_CODES, NAMED, SUBUNITS, key

MAX_SMALLEST_UNITS = 10**12
# Long enough for any amount under MAX_SMALLEST_UNITS with grouping and a
# symbol; short enough that a pasted wall of digits is refused before parsing.
_MAX_TOKEN_LENGTH = 32
# What a refusal quotes back of what was typed: enough to recognise it, short
# enough that no reply can outgrow Telegram's 4,096 characters.
ECHO_LENGTH = 40
# The title of the examples refusals show when the merchant typed none.
EXAMPLE_TITLE = "Hot Latte"
_ECHOED = frozenset(["text", "word", "name"])
# Punctuation that may follow a currency word without a space: "100 baht:",
# "100 usd,", "500 円、", "1500 円(税込)". The word is read up to it.
_AFTER_WORD = ",.:;!?()/（）：，、。；！？「」『』【】[]・"
# Of that, what only separates the currency from the title and is dropped.
_SEPARATORS = ",.:;，、。：；．"


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


# A sign written before an amount: ASCII, the minus sign, dashes and their
# full-width and small forms. "−5" is as negative as "-5".
MINUS = frozenset("-\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe58\ufe63\uff0d")

_PLAIN = re.compile(r"\d+(?:\.\d+)?")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# How much of Europe writes 25,000: a dot between thousands. Read with a
# decimal dot it is a thousand times less, so it is refused with both readings.
_DOT_THOUSANDS = re.compile(r"([1-9]\d{0,2})\.(\d{3})")

# Marks that are invisible in a chat but end up inside copied text. They
# change nothing about how the amount looks, so they are dropped.
_INVISIBLE = dict.fromkeys([0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF])
# Marks that change the direction text is shown in: "\u202e0021" shows as
# 1200. An amount holding one is refused, never cleaned, so the number read
# is the number the merchant saw.
BIDI_CONTROLS = frozenset(
    chr(c) for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
)


def echo(params: dict[str, object]) -> dict[str, object]:
    """``params`` with what was typed cut to :data:`ECHO_LENGTH` characters for quoting."""
    return {
        name: f"{value[: ECHO_LENGTH - 1]}…"
        if name in _ECHOED and isinstance(value, str) and len(value) > ECHO_LENGTH
        else value
        for name, value in params.items()
    }


class AmountError(ValueError):
    """An amount that cannot be charged. ``reason`` names the message to show."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = echo(params)


def get_currency(code: str) -> Currency | None:
    return CURRENCIES.get(code.strip().upper())


def normalize_digits(text: str) -> str:
    """Map Thai, full-width and other decimal digits to ASCII and drop zero-width marks.

    A Thai keyboard types ``๗๔.๔๐`` for 74.40; Japanese input methods type
    full-width ``７４``. They are the same number, so they parse to the same
    amount. Every other character is kept, so nothing else changes meaning;
    direction marks too, for the caller to refuse.
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


def has_bidi_control(text: str) -> bool:
    return any(ch in BIDI_CONTROLS for ch in text)


def drop_bidi_controls(text: str) -> str:
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


@dataclass(frozen=True, slots=True)
class AmountParts:
    """An amount token taken apart: ``-฿1,250.50`` or ``100บาท``."""

    prefix: str  # what comes before the number, a sign taken off: "฿", "THB", ""
    negative: bool
    number: str  # digits, dots and commas: "1,250.50"
    suffix: str  # what comes right after the number: "บาท", "thb", "e5", ""


def split_amount(token: str) -> AmountParts | None:
    """Take a token apart around its first number; None when it holds no digit.

    ``token`` is already normalized (:func:`normalize_digits`).
    """
    digit = next((i for i, ch in enumerate(token) if ch.isdigit()), None)
    if digit is None:
        return None
    start = digit
    while start and token[start - 1] in ".,":
        start -= 1  # ".5" is a number to refuse, not a symbol "."
    stop = digit
    while stop < len(token) and (token[stop].isdigit() or token[stop] in ".,"):
        stop += 1
    prefix = token[:start]
    negative = bool(prefix) and (prefix[0] in MINUS or prefix[-1] in MINUS)
    if negative:
        prefix = prefix.strip("".join(MINUS))
    return AmountParts(prefix.strip(), negative, token[start:stop], token[stop:])


def split_symbol(token: str) -> tuple[Currency | None, str]:
    """Split a leading currency symbol off an amount token: ``฿74.40`` → (THB, ``74.40``)."""
    parts = split_amount(token)
    if parts is None or not parts.prefix or parts.negative:
        return None, token
    codes = _codes_of(key(parts.prefix))
    if len(codes) != 1 or codes[0] not in CURRENCIES:
        return None, token
    return CURRENCIES[codes[0]], parts.number + parts.suffix


def names_currency(word: str) -> bool:
    """Whether ``word`` names a currency (or a hundredth of one), taken or not."""
    return leading_name(word) is not None


def leading_name(word: str) -> tuple[str, str] | None:
    """The currency name ``word`` starts with and what follows it, None if it starts with none.

    The whole word first, then its longest run before punctuation: ``baht:``
    → (``baht``, ``:``), ``円(税込)`` → (``円``, ``(税込)``). ``บ.`` is a name
    with its dot.
    """
    for name, rest in runs(word):
        if key(name) in SUBUNITS or _codes_of(key(name)):
            return name, rest
    return None


def runs(word: str) -> list[tuple[str, str]]:
    """``word`` whole, then cut before each punctuation mark in it, longest first."""
    cuts = [len(word)] + [i for i in range(len(word) - 1, 0, -1) if word[i] in _AFTER_WORD]
    return [(word[:cut], word[cut:]) for cut in cuts]


def title_rest(rest: str) -> str:
    """What follows a currency word inside its word, without the separator: ``:`` → ""."""
    return rest.lstrip(_SEPARATORS)


def ends_with_symbol(word: str) -> bool:
    """Whether ``word`` ends with a currency symbol or a name in Thai or Japanese script.

    ``abc$`` or ``ケーキ円`` after an amount may be the currency with a typo; it is
    refused, not taken into the title. Names in Latin letters are not looked
    for inside words: "farm" ends with "RM".
    """
    name = key(word.strip(_AFTER_WORD))
    return any(
        not name[i:].isascii() or not name[i:].isalpha()
        for i in range(1, len(name))
        if _codes_of(name[i:]) or name[i:] in SUBUNITS
    )


# Symbols written after the code they stand for: "USD$", "SGD$", "CNY¥".
_GLUED_SYMBOLS = {"$": ("USD", *NAMED["DOLLAR"]), "¥": ("JPY", "CNY")}


def _codes_of(name: str) -> tuple[str, ...]:
    """The codes a key names; a code glued to its own symbol counts (``USD$``, ``SGD$``)."""
    if name in NAMED:
        return NAMED[name]
    code, symbol = name[:3], name[3:]
    if code in _GLUED_SYMBOLS.get(symbol, ()):
        return (code,)
    return ()


def written_before(word: str) -> bool:
    """Whether a currency word may stand before the amount: a code or a symbol (``RM 5``).

    Words (``euro``, ``yen``, ``baht``) follow the number: "/link Euro 2024
    scarf" is a title with the amount forgotten, not €2,024.
    """
    name = key(word)
    return name in ISO_CODES or name in ("RM", "RP") or not name.isalpha()


def currency_named(word: str) -> Currency | None:
    """The currency ``word`` names (``baht``, ``円``, ``RM``, ``usd``), None if it names none.

    Raises :class:`AmountError` when it names a currency Omise does not take
    (``kwd``, ``₩``), several currencies (``dollars``), or a hundredth of one
    (``cents``): none of these may fall back to the default currency.
    """
    name = key(word)
    if name in SUBUNITS:
        raise AmountError("currency_subunit", word=word)
    codes = _codes_of(name)
    if not codes:
        return None
    taken = [code for code in codes if code in CURRENCIES]
    if len(codes) == 1 and taken:
        return CURRENCIES[taken[0]]
    if taken:
        example = examples(CURRENCIES[taken[0]])["example"]
        raise AmountError("currency_ambiguous", word=word, codes=codes, example=example)
    name = codes[0] if len(codes) == 1 else word
    raise AmountError("currency_not_taken", name=name, codes=tuple(CURRENCIES))


def example_title(title: str, longest: int) -> str:
    """The title to show in an example: the one typed, whole, else :data:`EXAMPLE_TITLE`.

    An example is copied as it is, so it never holds a title cut short (or a
    bare "…") that would become the title of a real link: one longer than
    ``longest``, the longest a link may have, gives way to the example's own.
    """
    return title if title and len(title) <= longest else EXAMPLE_TITLE


def examples(currency: Currency) -> dict[str, str]:
    """Amounts that work in ``currency``, for a refusal to show what would."""
    if currency.decimals:
        small, large = "74.40", "1,250.50"
    else:
        small, large = "500", "1,250"
    return {
        "small": small,
        "large": large,
        "example": f"{small} {currency.code.lower()} {EXAMPLE_TITLE}",
    }


def parse_amount(text: str, currency: Currency) -> int:
    """Parse ``74.40`` or ``1,250.50`` in ``currency`` into smallest units.

    Raises :class:`AmountError` for anything that is not plainly one positive
    amount in that currency. More digits after the dot than the currency has
    are refused even when they are zeros: ``25.000`` is 25 to some and 25,000
    to others, and ``1.0000000000000000000000000001`` is not 1.
    """
    raw = normalize_digits(text.strip())
    if has_bidi_control(raw):
        raise AmountError("amount_bidi", **examples(currency))
    if raw[:1] in MINUS:
        raise AmountError("amount_not_positive")
    if len(raw) > _MAX_TOKEN_LENGTH:
        raise _too_long(text, raw, currency)
    if _PLAIN.fullmatch(raw):
        digits = raw
    elif _GROUPED.fullmatch(raw):
        digits = raw.replace(",", "")
    elif re.fullmatch(r"[\d.,]+", raw) and "," in raw:
        raise AmountError("amount_ambiguous_separators", text=text)
    else:
        raise AmountError("amount_invalid", text=text, **examples(currency))
    try:
        # Construction from a string is exact whatever the context precision.
        value = Decimal(digits)
    except InvalidOperation:  # pragma: no cover - the patterns above admit only digits
        raise AmountError("amount_invalid", text=text, **examples(currency)) from None
    _, coefficient_digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - NaN and Infinity cannot match
        raise AmountError("amount_invalid", text=text, **examples(currency))
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


def _too_long(text: str, raw: str, currency: Currency) -> AmountError:
    """Refuse a token too long to parse by what makes it long: its whole digits or its decimals."""
    if not (_PLAIN.fullmatch(raw) or _GROUPED.fullmatch(raw)):
        return AmountError("amount_invalid", text=text, **examples(currency))
    whole, _, fraction = raw.partition(".")
    if len(whole.replace(",", "").lstrip("0")) > _MAX_TOKEN_LENGTH // 2:
        return AmountError("amount_too_large", limit=format_amount(MAX_SMALLEST_UNITS, currency))
    if not fraction:  # a wall of leading zeros
        return AmountError("amount_invalid", text=text, **examples(currency))
    return _too_precise(text, raw, len(fraction), currency)


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
