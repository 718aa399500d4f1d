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


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The codes of ISO 4217 (list one, as amended up to 2025). A three-letter
# code after an amount that Omise does not take is refused by name rather than
# read as the first word of the title.
_ISO_CODES = _codes(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV
    BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE
    CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD
    HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN
    MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD
    RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS
    TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST
    XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR
    ZMW ZWG ZWL
    """
)
# Codes that are also everyday words ("50 cup of tea", "100 top up", "80 all
# day"): after an amount they start the title, as they always have.
_WORD_CODES = _codes("ALL ANG BAM BOB CHE COP CUP GEL MAD MOP PEN RON RUB SOS TOP TRY XXX")

# Words and symbols merchants in Thailand and Japan type for a currency, before
# or after the amount, spaced or glued (฿74.40, 100บาท, 500 円, 5 RM). Matched
# whole, ignoring case and full-width forms, so "baht" never matches "bahtxyz".
# "$" is USD and "¥" is JPY, as on Omise's own dashboards; the other dollars
# and yuan need their prefix. "pound" is not here: "150 pound cake" is a cake.
_NAMES: tuple[tuple[str, str], ...] = (
    ("THB", "฿ baht bht บาท บ. バーツ"),
    ("JPY", "¥ 円 yen เยน 日本円"),
    ("SGD", "S$ SG$ ดอลลาร์สิงคโปร์ シンガポールドル"),
    ("MYR", "RM ringgit ริงกิต リンギット"),
    ("USD", "$ US$ ดอลลาร์สหรัฐ 米ドル"),
    ("EUR", "€ euro euros ยูโร ユーロ"),
    ("GBP", "£ sterling 英ポンド"),
    ("AUD", "A$ AU$ ดอลลาร์ออสเตรเลีย 豪ドル"),
    ("CAD", "CA$ C$ ดอลลาร์แคนาดา カナダドル"),
    ("CHF", "スイスフラン"),
    ("CNY", "CN¥ RMB yuan หยวน 人民元 人民币"),
    ("HKD", "HK$ ดอลลาร์ฮ่องกง 香港ドル"),
    # Currencies Omise does not take, refused by their code.
    ("KRW", "₩ 원 วอน ウォン"),
    ("INR", "₹"),
    ("PHP", "₱"),
    ("VND", "₫"),
    ("IDR", "Rp rupiah รูเปียห์ ルピア"),
    ("TWD", "NT$"),
    ("NZD", "NZ$"),
    ("BRL", "R$"),
    ("LAK", "₭"),
    ("KHR", "៛ riel เรียล"),
    ("MMK", "kyat จ๊าด"),
    ("ILS", "₪"),
    ("TRY", "₺"),
    ("RUB", "₽"),
    ("UAH", "₴"),
    ("NGN", "₦"),
    ("KZT", "₸"),
    ("BTC", "₿ BTC bitcoin"),
    ("ETH", "ETH"),
    ("USDT", "USDT"),
    # Names shared by several currencies: refused with the codes to choose from.
    ("USD SGD AUD CAD HKD NZD TWD", "dollar dollars ดอลลาร์ ドル"),
    ("DKK SEK NOK ISK", "kr kr."),
    ("CNY HKD TWD", "元"),
    ("CHF XAF XOF", "franc francs"),
    ("PHP MXN ARS CLP COP", "peso pesos"),
    ("INR PKR LKR NPR", "rupee rupees"),
)
# A hundredth of a currency: "50 cents" or "50 satang" is not 50 of the currency.
_SUBUNITS = frozenset(["CENT", "CENTS", "¢", "SATANG", "สตางค์", "銭"])


def _key(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().upper()


_NAMED: dict[str, tuple[str, ...]] = {
    **{code: (code,) for code in _ISO_CODES - _WORD_CODES},
    **{_key(word): tuple(codes.split()) for codes, words in _NAMES for word in words.split()},
}

# A sign written before an amount: ASCII, the minus sign, dashes and their
# full-width and small forms. "−5" is as negative as "-5".
_MINUS = frozenset("-\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe58\ufe63\uff0d")

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


class AmountError(ValueError):
    """An amount that cannot be charged. ``reason`` names the message to show."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


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
    negative = bool(prefix) and (prefix[0] in _MINUS or prefix[-1] in _MINUS)
    if negative:
        prefix = prefix.strip("".join(_MINUS))
    return AmountParts(prefix.strip(), negative, token[start:stop], token[stop:])


def split_symbol(token: str) -> tuple[Currency | None, str]:
    """Split a leading currency symbol off an amount token: ``฿74.40`` → (THB, ``74.40``)."""
    parts = split_amount(token)
    if parts is None or not parts.prefix or parts.negative:
        return None, token
    codes = _NAMED.get(_key(parts.prefix), ())
    if len(codes) != 1 or codes[0] not in CURRENCIES:
        return None, token
    return CURRENCIES[codes[0]], parts.number + parts.suffix


def names_currency(word: str) -> bool:
    """Whether ``word`` names a currency (or a hundredth of one), taken or not."""
    return _key(word) in _NAMED or _key(word) in _SUBUNITS


def written_before(word: str) -> bool:
    """Whether a currency word may stand before the amount: a code or a symbol (``RM 5``).

    Words (``euro``, ``yen``, ``baht``) follow the number: "/link Euro 2024
    scarf" is a title with the amount forgotten, not €2,024.
    """
    key = _key(word)
    return key in _ISO_CODES or key in ("RM", "RP") or not key.isalpha()


def currency_named(word: str) -> Currency | None:
    """The currency ``word`` names (``baht``, ``円``, ``RM``, ``usd``), None if it names none.

    Raises :class:`AmountError` when it names a currency Omise does not take
    (``kwd``, ``₩``), several currencies (``dollars``), or a hundredth of one
    (``cents``): none of these may fall back to the default currency.
    """
    key = _key(word)
    if key in _SUBUNITS:
        raise AmountError("currency_subunit", word=word)
    codes = _NAMED.get(key)
    if codes is None:
        return None
    taken = [code for code in codes if code in CURRENCIES]
    if len(codes) == 1 and taken:
        return CURRENCIES[taken[0]]
    if taken:
        example = examples(CURRENCIES[taken[0]])["example"]
        raise AmountError("currency_ambiguous", word=word, codes=" ".join(codes), example=example)
    name = codes[0] if len(codes) == 1 else word
    raise AmountError("currency_not_taken", name=name, codes=" ".join(CURRENCIES))


def examples(currency: Currency) -> dict[str, str]:
    """Amounts that work in ``currency``, for a refusal to show what would."""
    if currency.decimals:
        small, large = "74.40", "1,250.50"
    else:
        small, large = "500", "1,250"
    return {"small": small, "large": large, "example": f"{small} {currency.code.lower()} Hot Latte"}


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
    if raw[:1] in _MINUS:
        raise AmountError("amount_not_positive")
    if len(raw) > _MAX_TOKEN_LENGTH:
        raise AmountError("amount_too_large", limit=format_amount(MAX_SMALLEST_UNITS, currency))
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
