from __future__ import annotations

import pytest

from linkbot.commands import (
    DESCRIPTION_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    CommandError,
    LinkRequest,
    parse_link,
    parse_link_id,
    parse_page,
)
from linkbot.money import CURRENCIES

THB = CURRENCIES["THB"]


def parse(text: str, multiple: bool = False) -> LinkRequest:
    return parse_link(text, default_currency=THB, multiple=multiple)


@pytest.mark.parametrize(
    ("text", "amount", "currency", "title", "description"),
    [
        ("74.40 thb Hot Latte", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("74.40 THB Hot Latte", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("74.40 Hot Latte", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("500 jpy Matcha", 500, "JPY", "Matcha", "Matcha"),
        ("5 usd Tip", 500, "USD", "Tip", "Tip"),
        ("฿74.40 Hot Latte", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("¥500 Matcha", 500, "JPY", "Matcha", "Matcha"),
        ("$5 Tip", 500, "USD", "Tip", "Tip"),
        ("$5 usd Tip", 500, "USD", "Tip", "Tip"),
        ("1,250.50 sgd Cake | Birthday cake, 1kg", 125050, "SGD", "Cake", "Birthday cake, 1kg"),
        ("74.40 Hot Latte | Oat milk | no sugar", 7440, "THB", "Hot Latte", "Oat milk | no sugar"),
        ("74.40 Hot Latte |", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("74.40   Hot\n  Latte", 7440, "THB", "Hot Latte", "Hot Latte"),
        ("50 Cup of tea", 5000, "THB", "Cup of tea", "Cup of tea"),
        ("50 thai tea", 5000, "THB", "thai tea", "thai tea"),  # "thai" is no currency
        ("๗๔.๔๐ กาแฟ", 7440, "THB", "กาแฟ", "กาแฟ"),
        ("20 thb <b>&amp;", 2000, "THB", "<b>&amp;", "<b>&amp;"),
    ],
)
def test_parse_link(text: str, amount: int, currency: str, title: str, description: str) -> None:
    request = parse(text)
    assert (request.amount, request.currency.code, request.title, request.description) == (
        amount,
        currency,
        title,
        description,
    )
    assert request.multiple is False


def test_multiple_flag() -> None:
    assert parse("150 Donation", multiple=True).multiple is True


def test_currency_alone_is_not_a_title() -> None:
    with pytest.raises(CommandError) as caught:
        parse("74.40 thb")
    assert caught.value.reason == "title_missing"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "usage"),
        ("   ", "usage"),
        ("Hot Latte", "usage"),
        ("| 74.40", "usage"),
        ("74.40", "title_missing"),
        ("74.40 | description only", "title_missing"),
        ("0 Latte", "amount_not_positive"),
        ("-5 Latte", "amount_not_positive"),
        ("74.4050 thb Latte", "amount_too_precise"),
        ("74.405 thb Latte", "amount_dot_thousands"),
        ("25.000 thb Latte", "amount_dot_thousands"),
        ("€1.500 Latte", "amount_dot_thousands"),
        ("500.5 jpy Latte", "amount_too_precise"),
        ("500.0 jpy Latte", "amount_too_precise"),
        ("150.000 jpy Latte", "amount_dot_thousands_whole"),
        ("¥150.000 Latte", "amount_dot_thousands_whole"),
        ("abc1 Latte", "usage"),
        ("1e5 Latte", "amount_invalid"),
        ("0x10 Latte", "amount_invalid"),
        ("1_000 Latte", "amount_invalid"),
        ("1.234,56 Latte", "amount_ambiguous_separators"),
        ("1,23 Latte", "amount_ambiguous_separators"),
        ("$5 thb Latte", "currency_conflict"),
        ("10000000001 Latte", "amount_too_large"),
        ("20 " + "x" * (TITLE_MAX_LENGTH + 1), "title_too_long"),
        ("20 Latte | " + "x" * (DESCRIPTION_MAX_LENGTH + 1), "description_too_long"),
    ],
)
def test_parse_link_rejections(text: str, reason: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.reason == reason


def test_dot_thousands_refusal_carries_both_readings() -> None:
    with pytest.raises(CommandError) as caught:
        parse("฿25.000 Latte")
    assert caught.value.reason == "amount_dot_thousands"
    assert caught.value.params == {
        "text": "25.000",
        "places": 3,
        "currency": "THB",
        "decimals": 2,
        "plain": "25000",
        "grouped": "25,000",
    }


@pytest.mark.parametrize("text", ["link_test_5g022xwp823yimkbzdl", " link_5g022xwp823yimkbzdl "])
def test_link_id(text: str) -> None:
    assert parse_link_id(text) == text.strip()


@pytest.mark.parametrize(
    "text", ["", "chrg_test_123", "link_test_ABC", "link_test_1 link_test_2", "../charges", "link_"]
)
def test_link_id_rejections(text: str) -> None:
    with pytest.raises(CommandError):
        parse_link_id(text)


@pytest.mark.parametrize(
    ("data", "page"),
    [
        ("links:0", 0),
        ("links:12", 12),
        ("links:-1", None),
        ("links:x", None),
        ("links:٣", None),
        ("cancel:1", None),
        ("links:9999999", None),
    ],
)
def test_parse_page(data: str, page: int | None) -> None:
    assert parse_page(data, "links:") == page
