from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkbot.money import (
    CURRENCIES,
    MAX_SMALLEST_UNITS,
    AmountError,
    format_amount,
    parse_amount,
    split_symbol,
    to_decimal,
)

THB, JPY, USD = CURRENCIES["THB"], CURRENCIES["JPY"], CURRENCIES["USD"]


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
        ("74.400", 7440),  # trailing zeros are the same amount
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
        ("74.405", THB, "amount_too_precise"),
        ("500.5", JPY, "amount_too_precise"),
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
        (100, "KRW", "100 KRW"),
    ],
)
def test_display(amount: int, code: str, shown: str) -> None:
    assert format_amount(amount, code) == shown


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
