"""An amount is never guessed: spaced thousands, currency words and marks around the number."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from string import Formatter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkbot.bot.messages import CATALOG, SUPPORTED, text
from linkbot.commands import CommandError, LinkRequest, parse_link
from linkbot.config import Settings
from linkbot.currency_names import ISO_CODES as _ISO_CODES
from linkbot.currency_names import WORD_CODES as _WORD_CODES
from linkbot.money import (
    CURRENCIES,
    MAX_SMALLEST_UNITS,
    AmountError,
    Currency,
    currency_named,
    format_amount,
    parse_amount,
)
from linkbot.sandbox import fakes
from tests.conftest import GROUP, Chat, make_settings
from tests.test_inline import offer

THB, JPY = CURRENCIES["THB"], CURRENCIES["JPY"]
CODES = sorted(CURRENCIES)
TYPESET_SPACES = ["\u00a0", "\u202f", "\u2009", "\u2007"]
DIRECTION_MARKS = [
    "\u061c",
    "\u200e",
    "\u200f",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
DASHES = ["\u2212", "\u2013", "\u2014", "\u2012", "\u2010", "\ufe63", "\uff0d", "-"]


def parse(typed: str, default: Currency = THB) -> LinkRequest:
    return parse_link(typed, default_currency=default)


def refusal(typed: str, default: Currency = THB) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(typed, default)
    return caught.value


@pytest.mark.parametrize(
    ("typed", "amount", "code", "title"),
    [
        # Thousands grouped by spaces are read whole when nothing else can be meant.
        ("25 000 thb Wedding cake", 2500000, "THB", "Wedding cake"),
        ("25\u00a0000 thb Wedding cake", 2500000, "THB", "Wedding cake"),
        ("25\u202f000 thb Wedding cake", 2500000, "THB", "Wedding cake"),
        ("25\u00a0000 Wedding cake", 2500000, "THB", "Wedding cake"),
        ("25\u202f000 Wedding cake", 2500000, "THB", "Wedding cake"),
        ("1\u2009500 Cake", 150000, "THB", "Cake"),
        ("1 500 บาท Cake", 150000, "THB", "Cake"),
        ("1 500฿ Cake", 150000, "THB", "Cake"),
        ("1 000 000 jpy Car", 1000000, "JPY", "Car"),
        ("25 000.50 thb Cake", 2500050, "THB", "Cake"),
        ("๒๕ ๐๐๐ บาท เค้ก", 2500000, "THB", "เค้ก"),
        ("２５\u3000０００円 ケーキ", 25000, "JPY", "ケーキ"),
        # A number that cannot continue the amount starts the title.
        ("120 2 lattes", 12000, "THB", "2 lattes"),
        ("1 5 Cake", 100, "THB", "5 Cake"),
        ("74.40 500 Cake", 7440, "THB", "500 Cake"),
        ("1,000 500 Cake", 100000, "THB", "500 Cake"),
        ("2 thb 500 ml water", 200, "THB", "500 ml water"),
        # Currency words and symbols after the amount.
        ("500 € Birthday cake", 50000, "EUR", "Birthday cake"),
        ("500 euro Birthday cake", 50000, "EUR", "Birthday cake"),
        ("500 yen Matcha", 500, "JPY", "Matcha"),
        ("500 円 抹茶", 500, "JPY", "抹茶"),
        ("500 ¥ Matcha", 500, "JPY", "Matcha"),
        ("500 ￥ Matcha", 500, "JPY", "Matcha"),
        ("100 baht Tea", 10000, "THB", "Tea"),
        ("100 Baht Tea", 10000, "THB", "Tea"),
        ("100 บาท Tea", 10000, "THB", "Tea"),
        ("100 บ. Tea", 10000, "THB", "Tea"),
        ("5 RM Nasi lemak", 500, "MYR", "Nasi lemak"),
        ("5 ringgit Nasi lemak", 500, "MYR", "Nasi lemak"),
        ("5 $ Tip", 500, "USD", "Tip"),
        ("5 S$ Kaya toast", 500, "SGD", "Kaya toast"),
        ("100 ＴＨＢ Tea", 10000, "THB", "Tea"),
        # Glued after the number.
        ("100บาท Tea", 10000, "THB", "Tea"),
        ("100THB Tea", 10000, "THB", "Tea"),
        ("74.40thb Tea", 7440, "THB", "Tea"),
        ("100.00฿ Tea", 10000, "THB", "Tea"),
        ("500円 抹茶", 500, "JPY", "抹茶"),
        ("５００円 抹茶", 500, "JPY", "抹茶"),
        ("1,500円 抹茶", 1500, "JPY", "抹茶"),
        ("5RM Nasi lemak", 500, "MYR", "Nasi lemak"),
        # A code or symbol before the number, spaced.
        ("THB 100 Tea", 10000, "THB", "Tea"),
        ("฿ 74.40 Latte", 7440, "THB", "Latte"),
        ("RM 5 Nasi lemak", 500, "MYR", "Nasi lemak"),
        ("฿1 500฿ Cake", 150000, "THB", "Cake"),
        # Words that only look like codes start the title.
        ("50 Cup of tea", 5000, "THB", "Cup of tea"),
        ("100 top up", 10000, "THB", "top up"),
        ("80 all day pass", 8000, "THB", "all day pass"),
        ("150 thb pound cake", 15000, "THB", "pound cake"),
        ("100 thb Won ton soup", 10000, "THB", "Won ton soup"),
        # Zero-width marks still change nothing.
        ("74\u200b.40 Latte", 7440, "THB", "Latte"),
    ],
)
def test_what_is_read(typed: str, amount: int, code: str, title: str) -> None:
    request = parse(typed)
    assert (request.amount, request.currency.code, request.title) == (amount, code, title)


@pytest.mark.parametrize(
    ("typed", "reason", "params"),
    [
        (
            "1 500 Cake",
            "amount_spaced",
            {"text": "1 500", "plain": "1500", "grouped": "1,500", "first": "1", "code": "thb"},
        ),
        ("2 500 ml water", "amount_spaced", {"first": "2", "group": "500"}),
        ("฿1 500 Cake", "amount_spaced", {"grouped": "1,500"}),
        ("1 500.50 Cake", "amount_spaced", {"plain": "1500.50", "grouped": "1,500.50"}),
        ("1\u00a0500 250 Cake", "amount_spaced", {"plain": "1500250"}),
        ("25 00 Cake", "amount_spaced_shape", {"text": "25 00", "small": "74.40"}),
        ("25\u00a000 Cake", "amount_spaced_shape", {"text": "25 00"}),
        ("1\u202f5 Cake", "amount_spaced_shape", {"text": "1 5"}),
        ("1 5 thb Cake", "amount_spaced_shape", {"text": "1 5"}),
        ("1 5฿ Cake", "amount_spaced_shape", {"text": "1 5"}),
        ("1000\u00a0500 Cake", "amount_spaced_shape", {}),
        ("74.40 500 thb Cake", "amount_spaced_shape", {}),
        ("100 kwd Dinner", "currency_not_taken", {"name": "KWD", "example": "74.40 thb Hot Latte"}),
        ("100 KWD Dinner", "currency_not_taken", {"name": "KWD"}),
        ("100 php Lunch", "currency_not_taken", {"name": "PHP"}),
        ("100php Lunch", "currency_not_taken", {"name": "PHP"}),
        ("KWD 100 Dinner", "currency_not_taken", {"name": "KWD"}),
        ("₩5000 Kimchi", "currency_not_taken", {"name": "KRW"}),
        ("5000 ₩ Kimchi", "currency_not_taken", {"name": "KRW"}),
        ("100 pesos Lunch", "currency_not_taken", {"name": "pesos"}),
        (
            "5 dollars Tip",
            "currency_ambiguous",
            {"word": "dollars", "example": "74.40 usd Hot Latte"},
        ),
        ("5 ドル Tip", "currency_ambiguous", {"word": "ドル"}),
        ("100 kr Bun", "currency_ambiguous", {"codes": ("DKK", "SEK", "NOK", "ISK")}),
        ("50 cents Candy", "currency_subunit", {"word": "cents"}),
        ("50 สตางค์ Candy", "currency_subunit", {"word": "สตางค์"}),
        ("\u202e0021\u202c Cake", "amount_bidi", {"example": "74.40 thb Hot Latte"}),
        ("\u202e 0021 Cake", "amount_bidi", {}),
        ("00\u200f21 Cake", "amount_bidi", {}),
        ("21 \u202ethb Cake", "amount_bidi", {}),
        ("1 \u2066500 thb Cake", "amount_bidi", {}),
        ("−5 Latte", "amount_not_positive", {}),
        ("–5 Latte", "amount_not_positive", {}),
        ("฿−5 Latte", "amount_not_positive", {}),
        ("100kg Rice", "amount_invalid", {"text": "100kg", "small": "74.40"}),
        ("$5 thb Latte", "currency_conflict", {"symbol": "USD", "code": "THB"}),
        ("100฿ usd Latte", "currency_conflict", {"symbol": "THB", "code": "USD"}),
        ("5 RM", "title_missing", {}),
        ("Euro 2024 scarf", "usage", {}),
    ],
)
def test_what_is_refused(typed: str, reason: str, params: dict[str, str]) -> None:
    refused = refusal(typed)
    assert refused.reason == reason
    assert params.items() <= refused.params.items()


def test_examples_are_in_the_default_currency() -> None:
    assert refusal("100 kwd Dinner", JPY).params["example"] == "500 jpy Hot Latte"
    assert refusal("1 500 Cake", JPY).params["code"] == "jpy"
    assert refusal("100kg Rice", JPY).params["small"] == "500"
    assert refusal("\u202e0021 Cake", JPY).params["example"] == "500 jpy Hot Latte"


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize(
    "typed",
    [
        "1 500 Cake",
        "25 00 Cake",
        "100 kwd Dinner",
        "5 dollars Tip",
        "50 cents Candy",
        "\u202e0021 Cake",
    ],
)
def test_every_refusal_reads_whole_in_every_language(language: str, typed: str) -> None:
    refused = refusal(typed)
    shown = text(refused.reason, language, command="link", **refused.params)
    assert "{" not in shown and "}" not in shown
    template = CATALOG[language][refused.reason]
    for _, field, _, _ in Formatter().parse(template):
        if field in ("grouped", "name", "word", "example", "small"):
            assert str(refused.params[field]) in shown, field


def test_parse_amount_refuses_direction_marks_and_dashes() -> None:
    for mark in DIRECTION_MARKS:
        with pytest.raises(AmountError) as caught:
            parse_amount(f"{mark}74.40", THB)
        assert caught.value.reason == "amount_bidi"
    for dash in DASHES:
        with pytest.raises(AmountError) as caught:
            parse_amount(f"{dash}5", THB)
        assert caught.value.reason == "amount_not_positive"


# Properties


def written(amount: int, currency: Currency) -> tuple[str, str]:
    """The integer part and the ".decimals" of an amount, as plain digits."""
    number = format(Decimal(amount).scaleb(-currency.decimals), f".{currency.decimals}f")
    whole, dot, fraction = number.partition(".")
    return whole, dot + fraction


def groups(whole: str) -> list[str]:
    return f"{int(whole):,}".split(",")


@given(
    amount=st.integers(min_value=1, max_value=MAX_SMALLEST_UNITS),
    code=st.sampled_from(CODES),
    space=st.sampled_from(TYPESET_SPACES),
    word=st.booleans(),
)
def test_typeset_thousands_are_read_exactly(amount: int, code: str, space: str, word: bool) -> None:
    currency = CURRENCIES[code]
    whole, fraction = written(amount, currency)
    typed = space.join(groups(whole)) + fraction + (f" {code.lower()}" if word else "")
    request = parse(f"{typed} Wedding cake", CURRENCIES["THB" if word else code])
    assert (request.amount, request.currency, request.title) == (amount, currency, "Wedding cake")


@given(
    amount=st.integers(min_value=1000, max_value=MAX_SMALLEST_UNITS),
    code=st.sampled_from(CODES),
    after=st.sampled_from(["code", "glued", "none"]),
    title=st.sampled_from(["Cake", "2 lattes", "500 ml water", "thai tea"]),
)
def test_spaced_thousands_are_read_with_a_currency_after_them_or_refused(
    amount: int, code: str, after: str, title: str
) -> None:
    currency = CURRENCIES[code]
    whole, fraction = written(amount, currency)
    spaced = " ".join(groups(whole)) + fraction
    if " " not in spaced:
        return  # under a thousand: one word, nothing to decide
    typed = {"code": f"{spaced} {code}", "glued": f"{spaced}{code.lower()}", "none": spaced}[after]
    try:
        request = parse(f"{typed} {title}", currency)
    except CommandError as exc:
        # Read whole, the groups and a title's leading number can pass the largest amount.
        assert after == "none" and exc.reason in ("amount_spaced", "amount_too_large"), (
            typed,
            exc.reason,
        )
        return
    assert after != "none"
    assert (request.amount, request.currency, request.title) == (amount, currency, title)


SUPPORTED_NAMES = sorted(
    (word, code)
    for word, code in [
        ("฿", "THB"),
        ("baht", "THB"),
        ("บาท", "THB"),
        ("¥", "JPY"),
        ("￥", "JPY"),
        ("円", "JPY"),
        ("yen", "JPY"),
        ("RM", "MYR"),
        ("€", "EUR"),
        ("euro", "EUR"),
        ("£", "GBP"),
        ("$", "USD"),
        ("US$", "USD"),
        ("S$", "SGD"),
        ("HK$", "HKD"),
        ("A$", "AUD"),
        ("CA$", "CAD"),
        ("CN¥", "CNY"),
        ("RMB", "CNY"),
        *[(c.lower(), c) for c in CURRENCIES],
    ]
)


@given(
    name=st.sampled_from(SUPPORTED_NAMES),
    amount=st.integers(min_value=1, max_value=10**8),
    form=st.sampled_from(["{n} {w}", "{n}{w}", "{w}{n}", "{n}\u00a0{w}"]),
    default=st.sampled_from(CODES),
)
def test_a_currency_word_is_never_dropped_into_the_title(
    name: tuple[str, str], amount: int, form: str, default: str
) -> None:
    word, code = name
    currency = CURRENCIES[code]
    number = "".join(written(amount, currency))
    request = parse(form.format(n=number, w=word) + " Matcha", CURRENCIES[default])
    assert (request.amount, request.currency.code, request.title) == (amount, code, "Matcha")


NOT_TAKEN = sorted(_ISO_CODES - _WORD_CODES - set(CURRENCIES))


@pytest.mark.parametrize("code", NOT_TAKEN)
def test_every_code_omise_does_not_take_is_refused_by_name(code: str) -> None:
    for typed in (f"100 {code} Dinner", f"100 {code.lower()} Dinner", f"100{code.lower()} Dinner"):
        refused = refusal(typed)
        assert (refused.reason, refused.params["name"]) == ("currency_not_taken", code)


def test_words_that_are_codes_are_titles() -> None:
    for code in sorted(_WORD_CODES):
        assert currency_named(code.lower()) is None
        assert parse(f"100 {code.lower()} thing").currency == THB


@given(
    amount=st.integers(min_value=1, max_value=MAX_SMALLEST_UNITS),
    code=st.sampled_from(CODES),
    mark=st.sampled_from(DIRECTION_MARKS),
    where=st.integers(min_value=0, max_value=40),
)
def test_a_direction_mark_in_the_amount_is_refused_wherever_it_is(
    amount: int, code: str, mark: str, where: int
) -> None:
    shown = format_amount(amount, code).replace(" ", "")
    at = where % (len(shown) + 1)
    refused = refusal(f"{shown[:at]}{mark}{shown[at:]} {code.lower()} Cake")
    assert refused.reason == "amount_bidi"


@given(dash=st.sampled_from(DASHES), number=st.sampled_from(["5", "74.40", "1,250"]))
def test_any_minus_sign_is_told_the_amount_must_be_positive(dash: str, number: str) -> None:
    assert refusal(f"{dash}{number} Latte").reason == "amount_not_positive"


# Through the bot


async def test_spaced_thousands_make_the_whole_amount(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 25\u202f000 thb Wedding cake", chat=GROUP)
    await chat.send("/multilink 25 000 บาท Wedding cake", chat=GROUP)
    links = list(fake_omise.links.values())
    assert [(link["amount"], link["currency"], link["title"]) for link in links] == [
        (2500000, "THB", "Wedding cake"),
        (2500000, "THB", "Wedding cake"),
    ]
    assert "฿25,000.00" in chat.last_text()


@pytest.mark.parametrize(
    ("command", "language", "shown"),
    [
        ("/link 1 500 Cake", "en", "For 1,500, write 1500 or 1,500."),
        ("/link 1 500 Cake", "th", "หากหมายถึง 1,500 กรุณาเขียนเป็น 1500 หรือ 1,500"),
        ("/link 1 500 Cake", "ja", "金額が 1,500 なら 1500 または 1,500 と書いてください。"),
        ("/link 100 kwd Dinner", "en", "Omise does not take KWD."),
        ("/link 100 kwd Dinner", "th", "Omise ไม่รับสกุลเงิน KWD"),
        ("/link 100 kwd Dinner", "ja", "Omise は KWD を取り扱っていません。"),
        ("/multilink 500 dollars Tip", "en", "“dollars” can mean more than one currency"),
        ("/link \u202e0021\u202c Cake", "en", "invisible marks that change the direction"),
        ("/link −5 Latte", "en", "The amount must be more than zero."),
        ("/link 25 00 Cake", "ja", "空白を入れずに 74.40 や 1,250.50 のように"),
    ],
)
async def test_refusals_are_told_and_create_nothing(
    chat: Chat, fake_omise: fakes.FakeOmise, command: str, language: str, shown: str
) -> None:
    await chat.send(command, language_code=language)
    assert shown in chat.last_text()
    assert fake_omise.requests == []


async def test_inline_mode_reads_amounts_by_the_same_rules(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    result = await offer(chat, "100บาท Thai tea")
    assert "฿100.00" in str(result["title"])
    result = await offer(chat, "1 500 Cake")
    assert result["title"] == "⚠️ Cannot create a link"
    assert "write 1500 or 1,500" in str(result["description"])
    assert fake_omise.requests == []


class TestAYenMerchant:
    @pytest.fixture
    def settings(self, tmp_path: Path, database: str) -> Settings:
        return make_settings(tmp_path, linkbot_database=database, linkbot_default_currency="JPY")

    async def test_examples_are_in_yen(self, chat: Chat, fake_omise: fakes.FakeOmise) -> None:
        await chat.send("/link 100 kwd Dinner")
        assert "/link <code>500 jpy Hot Latte</code>" in chat.last_text()
        await chat.send("/link 1 500 抹茶")
        assert "<code>1 jpy 500 抹茶</code>" in chat.last_text()
        await chat.send("/link 1\u00a0500 抹茶")
        [link] = fake_omise.links.values()
        assert (link["amount"], link["currency"]) == (1500, "JPY")
        assert re.search(r"¥1,500", chat.last_text())
