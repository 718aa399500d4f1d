from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkbot.bot.messages import text
from linkbot.money import (
    CURRENCIES,
    MAX_SMALLEST_UNITS,
    AmountError,
    Currency,
    format_amount,
    minor_units,
    parse_amount,
    split_symbol,
    to_decimal,
)

THB, JPY, USD, EUR = CURRENCIES["THB"], CURRENCIES["JPY"], CURRENCIES["USD"], CURRENCIES["EUR"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("74.40", 7440),
        ("74.4", 7440),
        ("74", 7400),
        ("1,250.50", 125050),
        ("1,250", 125000),
        ("1,000,000.01", 100000001),
        ("0.01", 1),
        ("0074.40", 7440),
        ("74.400", None),  # to much of Europe this is 74,400
        ("25.000", None),
        ("1,250.500", None),
        ("1.0000000000000000000000000001", None),  # 29 significant digits, not 1.00
        ("1.0000000000000000000000000000", None),
        # The classic float bugs: each of these is off by one satang through float.
        ("19.99", 1999),
        ("0.29", 29),
        ("1.15", 115),
        ("4.35", 435),
        ("8.20", 820),
        ("1.005", None),
        ("๗๔.๔๐", 7440),  # Thai digits
        ("７４．４０", 7440),  # full-width digits and point
        ("74\u200b.40", 7440),  # a zero-width space copied along
    ],
)
def test_parse_thb(text: str, expected: int | None) -> None:
    if expected is None:
        with pytest.raises(AmountError):
            parse_amount(text, THB)
    else:
        assert parse_amount(text, THB) == expected


def test_float_would_get_these_wrong() -> None:
    # The reason the parser never uses float: int(float * 100) truncates.
    assert int(float("4.35") * 100) == 434
    assert parse_amount("4.35", THB) == 435


@pytest.mark.parametrize(
    ("text", "currency", "reason"),
    [
        ("0", THB, "amount_not_positive"),
        ("0.00", THB, "amount_not_positive"),
        ("-5", THB, "amount_not_positive"),
        ("74.4050", THB, "amount_too_precise"),
        ("500.5", JPY, "amount_too_precise"),
        ("500.0", JPY, "amount_too_precise"),
        ("500.00", JPY, "amount_too_precise"),
        ("1,250.500", THB, "amount_too_precise"),
        ("0.001", THB, "amount_too_precise"),
        ("1.0000000000000000000000000001", THB, "amount_too_precise"),
        ("12345678901234567890.0000000001", JPY, "amount_too_precise"),
        ("74.405", THB, "amount_dot_thousands"),
        ("74.400", THB, "amount_dot_thousands"),
        ("25.000", THB, "amount_dot_thousands"),
        ("1.500", EUR, "amount_dot_thousands"),
        ("150.000", JPY, "amount_dot_thousands_whole"),
        ("๒๕.๐๐๐", THB, "amount_dot_thousands"),
        ("0.000", THB, "amount_not_positive"),
        ("abc", THB, "amount_invalid"),
        ("1e5", THB, "amount_invalid"),
        ("NaN", THB, "amount_invalid"),
        ("Infinity", THB, "amount_invalid"),
        ("inf", THB, "amount_invalid"),
        ("0x10", THB, "amount_invalid"),
        ("1_000", THB, "amount_invalid"),
        ("1.234,56", THB, "amount_ambiguous_separators"),
        ("1,23", THB, "amount_ambiguous_separators"),
        ("1,2345", THB, "amount_ambiguous_separators"),
        ("12,34.5", THB, "amount_ambiguous_separators"),
        (".5", THB, "amount_invalid"),
        ("5.", THB, "amount_invalid"),
        ("", THB, "amount_invalid"),
        ("10000000000.01", THB, "amount_too_large"),
        ("1000000000001", JPY, "amount_too_large"),
        ("9" * 40, THB, "amount_too_large"),
    ],
)
def test_rejections(text: str, currency: object, reason: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(text, currency)  # type: ignore[arg-type]
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("typed", "currency", "reason", "shown"),
    [
        (
            "25.000",
            THB,
            "amount_dot_thousands",
            "“25.000” has 3 digits after the dot, but THB amounts have at most 2 decimal"
            " places. If you mean 25,000, write 25000 or 25,000.",
        ),
        (
            "1.500",
            EUR,
            "amount_dot_thousands",
            "“1.500” has 3 digits after the dot, but EUR amounts have at most 2 decimal"
            " places. If you mean 1,500, write 1500 or 1,500.",
        ),
        (
            "150.000",
            JPY,
            "amount_dot_thousands_whole",
            "“150.000” has digits after the dot, but JPY amounts have no decimals."
            " If you mean 150,000, write 150000 or 150,000.",
        ),
        (
            "500.0",
            JPY,
            "amount_too_precise",
            "“500.0” has too many decimals: JPY amounts have at most 0 decimal places.",
        ),
        (
            "1234.500",
            THB,
            "amount_too_precise",
            "“1234.500” has too many decimals: THB amounts have at most 2 decimal places.",
        ),
        (
            "25.0000",
            THB,
            "amount_too_precise",
            "“25.0000” has too many decimals: THB amounts have at most 2 decimal places.",
        ),
    ],
)
def test_too_many_decimals_are_explained(
    typed: str, currency: Currency, reason: str, shown: str
) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(typed, currency)
    assert caught.value.reason == reason
    assert text(caught.value.reason, **caught.value.params) == shown


@pytest.mark.parametrize("typed", ["0.500", "1.2345", "1,500.000", "1.500.000", "1000.000"])
def test_thousands_reading_is_offered_only_when_plausible(typed: str) -> None:
    with pytest.raises(AmountError) as caught:
        parse_amount(typed, THB)
    assert not caught.value.reason.startswith("amount_dot_thousands")


@pytest.mark.parametrize(
    ("typed", "currency", "expected"),
    [
        ("1,250.50", THB, 125050),
        ("10,000,000,000.00", THB, MAX_SMALLEST_UNITS),
        ("1000000000000", JPY, MAX_SMALLEST_UNITS),
        ("0000000000000000000000074.40", THB, 7440),
    ],
)
def test_parsing_does_not_depend_on_the_decimal_context(
    typed: str, currency: Currency, expected: int
) -> None:
    with localcontext() as context:
        context.prec = 3
        assert parse_amount(typed, currency) == expected
    with pytest.raises(AmountError), localcontext() as context:
        context.prec = 3
        parse_amount("1.001", THB)


def test_largest_amount_is_accepted() -> None:
    assert parse_amount("10,000,000,000.00", THB) == MAX_SMALLEST_UNITS
    assert parse_amount("1000000000000", JPY) == MAX_SMALLEST_UNITS


@pytest.mark.parametrize(
    ("amount", "code", "shown"),
    [
        (7440, "THB", "฿74.40"),
        (500, "JPY", "¥500"),
        (100, "SGD", "S$1.00"),
        (500, "USD", "$5.00"),
        (350, "EUR", "€3.50"),
        (125050, "THB", "฿1,250.50"),
        (1234567, "JPY", "¥1,234,567"),
        (5, "THB", "฿0.05"),
        (100, "thb", "฿1.00"),
        # Currencies linkbot cannot create, from links made in the Omise dashboard.
        (100, "KRW", "100 KRW"),
        (5000, "KRW", "5,000 KRW"),
        (5000, "krw", "5,000 KRW"),
        (1234, "KWD", "1.234 KWD"),
        (1234567, "kwd", "1,234.567 KWD"),
        (5, "BHD", "0.005 BHD"),
        (12345, "CLF", "1.2345 CLF"),
        (1250, "NZD", "12.50 NZD"),
        (1250, " nzd ", "12.50 NZD"),
        (123456789, "VND", "123,456,789 VND"),
        (7, "XAU", "0.07 XAU"),
        (0, "NZD", "0.00 NZD"),
    ],
)
def test_display(amount: int, code: str, shown: str) -> None:
    assert format_amount(amount, code) == shown


def test_display_is_exact_beyond_the_decimal_context() -> None:
    with localcontext() as context:
        context.prec = 3
        assert format_amount(10**30 + 1, "NZD") == "10,000,000,000,000,000,000,000,000,000.01 NZD"
        assert format_amount(123456789, "THB") == "฿1,234,567.89"
        assert to_decimal(123456789, THB) == Decimal("1234567.89")


# ISO 4217 (list one) minor units other than 2, as amended up to 2024.
ISO_MINOR_UNITS_NOT_2 = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}


@pytest.mark.parametrize(
    ("code", "places"),
    [
        *[
            (code, places)
            for places, codes in ISO_MINOR_UNITS_NOT_2.items()
            for code in codes.split()
        ],
        ("NZD", 2),
        ("INR", 2),
        ("MGA", 2),  # ISO 4217 says 2 although the ariary divides by five
        ("XDR", 2),  # ISO lists no minor unit; shown like the rest
        ("THB", 2),
        ("jpy", 0),
    ],
)
def test_minor_units_follow_iso_4217(code: str, places: int) -> None:
    assert minor_units(code) == places


@pytest.mark.parametrize(
    ("token", "code", "rest"),
    [
        ("฿74.40", "THB", "74.40"),
        ("¥500", "JPY", "500"),
        ("$5", "USD", "5"),
        ("S$1", "SGD", "1"),
        ("HK$10", "HKD", "10"),
        ("€3.50", "EUR", "3.50"),
        ("74", None, "74"),
    ],
)
def test_symbols(token: str, code: str | None, rest: str) -> None:
    currency, remainder = split_symbol(token)
    assert (currency.code if currency else None, remainder) == (code, rest)


@pytest.mark.parametrize("code", sorted(CURRENCIES))
def test_display_round_trips_for_every_currency(code: str) -> None:
    currency = CURRENCIES[code]
    for amount in (1, 99, 100, 7440, 123456789, MAX_SMALLEST_UNITS):
        symbol, number = split_symbol(format_amount(amount, currency))
        assert parse_amount(number.strip(), currency) == amount
        assert symbol is None or symbol.code in (code, "USD", "JPY")


@given(
    code=st.sampled_from(sorted(CURRENCIES)),
    amount=st.integers(min_value=1, max_value=MAX_SMALLEST_UNITS),
)
def test_parse_display_round_trip(code: str, amount: int) -> None:
    currency = CURRENCIES[code]
    shown = format_amount(amount, currency)
    _, number = split_symbol(shown)
    assert parse_amount(number.strip(), currency) == amount
    assert to_decimal(amount, currency) == Decimal(number.strip().replace(",", ""))


def test_a_negative_amount_is_shown_with_the_sign_first() -> None:
    assert format_amount(-2500, "THB") == "-฿25.00"
    assert format_amount(-78, "JPY") == "-¥78"
