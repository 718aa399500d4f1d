"""Words right after the number are read when they say one thing, else refused with what works."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from linkbot.bot.handlers import plain_text
from linkbot.bot.messages import SUPPORTED, text
from linkbot.commands import CommandError, LinkRequest, parse_link
from linkbot.currency_names import MULTIPLIERS
from linkbot.money import CURRENCIES, Currency
from linkbot.sandbox import fakes
from tests.conftest import Chat

THB, JPY = CURRENCIES["THB"], CURRENCIES["JPY"]
CODES = sorted(CURRENCIES)
TELEGRAM_LIMIT = 4096


def parse(typed: str, default: Currency = THB) -> LinkRequest:
    return parse_link(typed, default_currency=default)


def refusal(typed: str, default: Currency = THB) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(typed, default)
    return caught.value


@pytest.mark.parametrize(
    ("typed", "default", "amount", "code", "title"),
    [
        # Currency names of two or three words.
        ("100 US dollars Tip", THB, 10000, "USD", "Tip"),
        ("100 Japanese yen Tip", THB, 100, "JPY", "Tip"),
        ("100 Thai baht Massage", JPY, 10000, "THB", "Massage"),
        ("100 Hong Kong dollars Dim sum", THB, 10000, "HKD", "Dim sum"),
        ("100 Singapore dollars: Kaya toast", THB, 10000, "SGD", "Kaya toast"),
        # A currency word with punctuation glued after it.
        ("100 baht: Massage", JPY, 10000, "THB", "Massage"),
        ("100 usd, Cake", THB, 10000, "USD", "Cake"),
        ("100 yen: Matcha", THB, 100, "JPY", "Matcha"),
        ("500 円、抹茶", THB, 500, "JPY", "抹茶"),
        ("1500 円(税込) ケーキ", THB, 1500, "JPY", "(税込) ケーキ"),
        ("100baht: Massage", JPY, 10000, "THB", "Massage"),
        ("100 บ. Tea", JPY, 10000, "THB", "Tea"),
        # A code glued to its own symbol.
        ("100 USD$ Cake", THB, 10000, "USD", "Cake"),
        ("USD$100 Cake", THB, 10000, "USD", "Cake"),
        ("100 SGD$ Cake", THB, 10000, "SGD", "Cake"),
        # The words the refusals below offer, typed back.
        ("150 thb pound cake", THB, 15000, "THB", "pound cake"),
        ("5 thb k …", THB, 500, "THB", "k …"),
        ("74.40 thb Latte", THB, 7440, "THB", "Latte"),
        # Kept as designed.
        ("CNY 2026 gift box", THB, 202600, "CNY", "gift box"),
        ("1 500 500 thb Cake", THB, 150050000, "THB", "Cake"),
        ("60 100 yen coins", THB, 60100, "JPY", "coins"),
    ],
)
def test_what_is_read(typed: str, default: Currency, amount: int, code: str, title: str) -> None:
    request = parse(typed, default)
    assert (request.amount, request.currency.code, request.title) == (amount, code, title)


@pytest.mark.parametrize(
    ("typed", "default", "reason", "params"),
    [
        # A multiplier after the number: the amount in digits, never ¥5 or ฿2.
        ("5 万円 ケーキ", JPY, "amount_multiplier_currency", {"plain": "50000", "code": "jpy"}),
        ("5 千円 ケーキ", JPY, "amount_multiplier_currency", {"plain": "5000", "code": "jpy"}),
        ("5 千円 ケーキ", THB, "amount_multiplier_currency", {"plain": "5000", "code": "jpy"}),
        ("1 หมื่น บาท มัดจำ", THB, "amount_multiplier", {"plain": "10000"}),
        ("2 million baht Condo deposit", THB, "amount_multiplier", {"grouped": "2,000,000"}),
        ("1.5 million baht Land", THB, "amount_multiplier", {"plain": "1500000"}),
        ("5 k thb Cake", THB, "amount_multiplier", {"plain": "5000", "word": "k"}),
        ("5 K Cake", THB, "amount_multiplier", {"plain": "5000"}),
        ("3 ล้าน ค่าบ้าน", THB, "amount_multiplier", {"plain": "3000000"}),
        ("2 億 土地", JPY, "amount_multiplier", {"plain": "200000000"}),
        ("50 bn thb Bond", THB, "amount_too_large", {}),
        ("5万円 ケーキ", JPY, "amount_multiplier_currency", {"plain": "50000"}),
        # A subunit after a currency, or alone.
        ("50 euro cents Stamp", THB, "currency_subunit", {"example": "0.50 eur Stamp"}),
        ("74 baht 40 satang Latte", THB, "currency_subunit", {"example": "74.40 thb Latte"}),
        ("50 satang Candy", JPY, "currency_subunit", {"example": "0.50 thb Candy"}),
        ("50 セント キャンディ", THB, "currency_subunit", {"word": "セント"}),
        ("50 เซนต์ ลูกอม", THB, "currency_subunit", {"word": "เซนต์"}),
        ("50 sen Candy", THB, "currency_subunit", {"word": "sen"}),
        ("50 US cents Stamp", THB, "currency_subunit", {"word": "cents"}),
        # A currency named in words that are not read.
        ("100 fresh yen Tip", THB, "currency_unclear", {"example": "500 jpy Hot Latte"}),
        ("100 abc$ Tip", THB, "currency_unclear", {"text": "abc$"}),
        ("100 Fiji dollars Tip", THB, "currency_ambiguous", {"word": "dollars"}),
        ("100 New Zealand dollars Tip", THB, "currency_not_taken", {"name": "NZD"}),
        # Names that were missing.
        ("20 ポンド 寄付", THB, "currency_ambiguous", {"example": "74.40 gbp Hot Latte"}),
        ("20 ปอนด์ บริจาค", THB, "currency_ambiguous", {"word": "ปอนด์"}),
        ("20 pounds Donation", THB, "currency_ambiguous", {"word": "pounds"}),
        ("150 pound cake", THB, "currency_ambiguous", {"word": "pound"}),
        ("100 won Bibimbap", THB, "currency_not_taken", {"name": "KRW"}),
        ("100 Won ton soup", THB, "currency_not_taken", {"name": "KRW"}),
        # Punctuation after a name Omise does not take is no way around it.
        ("100 kwd: Dinner", THB, "currency_not_taken", {"name": "KWD"}),
        # No-break spaces everywhere join nothing.
        ("90\u00a0330\u00a0ml\u00a0Coke", THB, "amount_spaced", {"first": "90"}),
        # A zero-width mark does not make an ordinary space a joining one.
        ("25 \u200b\u00a0000 Cake", THB, "amount_spaced", {"grouped": "25,000"}),
        ("25\u00a0\u200b 000 Cake", THB, "amount_spaced", {"grouped": "25,000"}),
        # Too many decimals, however long.
        ("0.000000000000000000000000000000001 Cake", THB, "amount_too_precise", {"places": 33}),
        ("- 5 Cake", THB, "amount_not_positive", {}),
        ("\u2212 5 Cake", THB, "amount_not_positive", {}),
        ("+5 Cake", THB, "amount_invalid", {"text": "+5"}),
        # A spaced reading that would itself be refused is not offered.
        ("1 250.50 ケーキ", JPY, "amount_too_precise", {"currency": "JPY"}),
        ("25 000.505 Cake", THB, "amount_too_precise", {"places": 3}),
        ("999 999 999 999 Cake", THB, "amount_too_large", {}),
    ],
)
def test_what_is_refused(
    typed: str, default: Currency, reason: str, params: dict[str, object]
) -> None:
    refused = refusal(typed, default)
    assert refused.reason == reason, refused.params
    assert params.items() <= refused.params.items()


def test_a_multiplier_reading_is_told_whole() -> None:
    refused = refusal("2 million baht Condo deposit")
    shown = plain_text(text(refused.reason, "en", command="multilink", **refused.params))
    assert "/multilink 2000000 thb Condo deposit" in shown
    assert "/multilink 2 thb million Condo deposit" in shown


# What a refusal offers works when typed, and every refusal fits in a message.

number = st.one_of(
    st.from_regex(r"[1-9]\d{0,2}(\.\d{1,4})?", fullmatch=True),
    st.from_regex(r"[1-9]\d{0,2}( \d{3}){1,5}(\.\d{1,4})?", fullmatch=True),
    st.from_regex(r"[1-9]\d{0,2}( \d{1,4}){1,3}", fullmatch=True),
    st.from_regex(r"0\.\d{1,40}", fullmatch=True),
)
after = st.sampled_from(
    [
        "",
        "k",
        "万円",
        "million baht",
        "หมื่น บาท",
        "thb",
        "usd,",
        "円、",
        "yen:",
        "pounds",
        "won",
        "cents",
        "euro cents",
        "baht 40 satang",
        "US dollars",
        "fresh yen",
        "abc$",
        "kwd",
        "dollars",
        "satang",
        "\u202e",
    ]
)


@given(
    number=number,
    after=after,
    title=st.sampled_from(["Cake", "500 ml water", "ケーキ", ""]),
    default=st.sampled_from(CODES),
    command=st.sampled_from(["link", "multilink"]),
)
@example(number="1 250.50", after="", title="ケーキ", default="JPY", command="link")
@example(number="25 000.505", after="", title="Cake", default="THB", command="multilink")
@example(number="1", after="", title="", default="JPY", command="link")
@settings(max_examples=400)
def test_what_a_refusal_offers_works_when_typed(
    number: str, after: str, title: str, default: str, command: str
) -> None:
    currency = CURRENCIES[default]
    try:
        parse(f"{number} {after} {title}", currency)
        return
    except CommandError as exc:
        refused = exc
    shown = plain_text(text(refused.reason, "en", command=command, **refused.params))
    offered = re.findall(rf"/{command} (.+?)(?: If| Links|$)", shown)
    for typed in offered:
        assert parse(typed, currency).amount > 0, typed
    # Bare numbers are in the currency the amount was in, which may be named
    # in the words rather than the default: "1 00 million baht" in a yen shop.
    code = refused.params.get("code", "")
    for key in ("plain", "grouped", "small", "large"):
        if key in refused.params:
            shown_in = [f"{refused.params[key]} {code} Cake"] if code else []
            readings = [f"{refused.params[key]} {c} Cake" for c in ("", "thb", "jpy")]
            assert any(_parses(t, currency) for t in shown_in or readings), key


def _parses(typed: str, currency: Currency) -> bool:
    try:
        return parse(typed, currency).amount > 0
    except CommandError:
        return False


@given(
    typed=st.one_of(
        st.text(max_size=TELEGRAM_LIMIT),
        st.builds(lambda n, t: "1" + " 000" * n + t, st.integers(0, 1000), st.just(" Cake")),
        st.builds(lambda n: "1" + "x" * n, st.integers(0, TELEGRAM_LIMIT - 1)),
        st.builds(lambda n: "1 " + "&" * n + "$ x", st.integers(0, 4000)),
        st.builds(lambda n: "1" + "\u200b" * n + "kg", st.integers(0, 4000)),
        st.builds(lambda n: "1 00" + " 0" * n + " thb", st.integers(0, 2000)),
        st.builds(lambda a, b: f"5 {a} {b}", st.sampled_from(sorted(MULTIPLIERS)), after),
    ),
    language=st.sampled_from(SUPPORTED),
)
@example(typed="1" + "x" * 4088, language="en")
@example(typed="1" + " 000" * 1000 + " Cake", language="ja")
@example(typed="1 0" + " 0" * 2045, language="th")
@settings(max_examples=300)
def test_every_refusal_fits_in_one_telegram_message(typed: str, language: str) -> None:
    typed = typed[:TELEGRAM_LIMIT]
    try:
        parse(typed)
    except CommandError as refused:
        shown = text(refused.reason, language, command="multilink", **refused.params)
        assert len(shown) <= TELEGRAM_LIMIT, (refused.reason, len(shown))


# Through the bot


async def test_a_direction_mark_glued_to_the_command_is_refused(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    update = fakes.command_update("/link\u202e 0021 \nCake", user_id=0, chat=fakes.private_chat(1))
    assert update["message"]["entities"][0]["length"] == len("/link")
    await chat.send("/link\u202e 0021 \nCake")
    assert "invisible marks that change the direction" in chat.last_text()
    await chat.send("/multilink\u2067 0021 Cake")
    assert "/multilink <code>74.40 thb Hot Latte</code>" in chat.last_text()
    assert fake_omise.requests == []


@pytest.mark.parametrize(
    ("command", "language", "shown"),
    [
        ("/multilink 1 500 Cake", "en", "/multilink <code>1 thb 500 Cake</code>"),
        ("/multilink 100 kwd Dinner", "th", "/multilink <code>74.40 thb Hot Latte</code>"),
        ("/multilink 5 dollars Tip", "ja", "/multilink <code>74.40 usd Hot Latte</code>"),
        ("/multilink 50 cents Candy", "en", "/multilink <code>74.40 thb Hot Latte</code>"),
        ("/multilink 5 万円 ケーキ", "ja", "/multilink <code>50000 jpy ケーキ</code>"),
        ("/multilink 100 fresh yen Tip", "th", "/multilink <code>500 jpy Hot Latte</code>"),
        ("/multilink 74 baht 40 satang Latte", "en", "/multilink <code>74.40 thb Latte</code>"),
        ("/link 1" + "x" * 4088, "en", "“1xxxxxxxxx"),
        ("/link 1" + " 000" * 1000 + " Cake", "ja", "上限"),
    ],
)
async def test_refusals_name_the_command_typed_and_are_answered(
    chat: Chat, fake_omise: fakes.FakeOmise, command: str, language: str, shown: str
) -> None:
    await chat.send(command, language_code=language)
    assert shown in chat.last_text()
    assert len(chat.last_text()) <= TELEGRAM_LIMIT
    assert fake_omise.requests == []
