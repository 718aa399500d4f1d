"""Refusals offer examples that work when copied, in each language's own words and lists."""

from __future__ import annotations

import re

import pytest

from linkbot.bot.handlers import plain_text
from linkbot.bot.locales.en import ENGLISH
from linkbot.bot.locales.ja import JAPANESE
from linkbot.bot.locales.th import THAI
from linkbot.bot.messages import text
from linkbot.commands import CommandError, parse_link
from linkbot.money import CURRENCIES, Currency
from linkbot.sandbox import fakes
from tests.conftest import Chat

THB, JPY = CURRENCIES["THB"], CURRENCIES["JPY"]


def refusal(typed: str, default: Currency = THB) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse_link(typed, default_currency=default)
    return caught.value


def shown(refused: CommandError, language: str = "en") -> str:
    return plain_text(text(refused.reason, language, command="link", **refused.params))


@pytest.mark.parametrize(
    ("typed", "default", "plain", "code"),
    [
        ("5万円 ケーキ", THB, "50000", "jpy"),
        ("3千円 ケーキ", THB, "3000", "jpy"),
        ("5万 ケーキ", JPY, "50000", "jpy"),
        ("5พัน เค้ก", THB, "5000", "thb"),
        ("5พันบาท เค้ก", JPY, "5000", "thb"),
        ("1.5万円 ケーキ", THB, "15000", "jpy"),
        ("1.5 万円 ケーキ", THB, "15000", "jpy"),
        ("5k Cake", THB, "5000", "thb"),
        ("1.5k Cake", THB, "1500", "thb"),
        ("5K", JPY, "5000", "jpy"),
    ],
)
def test_a_multiplier_glued_to_the_number_is_written_out(
    typed: str, default: Currency, plain: str, code: str
) -> None:
    refused = refusal(typed, default)
    assert refused.reason.startswith("amount_multiplier"), refused.reason
    assert (refused.params["plain"], refused.params["code"]) == (plain, code)


def test_a_glued_multiplier_is_quoted_as_typed() -> None:
    refused = refusal("5万円、ケーキ")
    assert (refused.params["text"], refused.params["word"]) == ("5万円", "万円")
    assert "/link 50000 jpy ケーキ" in shown(refused)
    assert refusal("5 万円 ケーキ").params["text"] == "5 万円"


def test_letters_after_the_number_that_multiply_nothing_are_still_no_amount() -> None:
    assert refusal("5kg Rice").reason == "amount_invalid"


def test_a_multiplier_carrying_a_currency_is_not_offered_as_the_title() -> None:
    for typed in ("5 万円 ケーキ", "5万円 ケーキ", "5 พันบาท เค้ก", "5พันบาท เค้ก"):
        refused = refusal(typed)
        for language in ("en", "th", "ja"):
            said = shown(refused, language)
            assert said.count("/link") == 1, said
    refused = refusal("5 k Cake")
    assert "/link 5 thb k Cake" in shown(refused)


@pytest.mark.parametrize(
    ("typed", "default", "example"),
    [
        ("5 万円 ケーキ", THB, "/link 50000 jpy ケーキ"),
        ("5万円", THB, "/link 50000 jpy Hot Latte"),
        ("5 k Cake", THB, "/link 5000 thb Cake"),
        ("1 500 Cake", THB, "/link 1 thb 500 Cake"),
        ("1 500 抹茶 ラテ", JPY, "/link 1 jpy 500 抹茶 ラテ"),
        ("2 500 ml", THB, "/link 2 thb 500 ml"),
        ("5 k " + "x" * 60, THB, "/link 5000 thb " + "x" * 60),
        ("5 k " + "x" * 201, THB, "/link 5000 thb Hot Latte"),
    ],
)
def test_examples_carry_the_title_typed(typed: str, default: Currency, example: str) -> None:
    assert example in shown(refusal(typed, default))


def test_an_example_copied_back_makes_the_title_typed_whole() -> None:
    typed = "5k Premium single-origin coffee beans, 1 kg bag, roasted"
    (example,) = re.findall(r"/link (5000 thb .+?)(?: If|$)", shown(refusal(typed)))
    request = parse_link(example, default_currency=THB)
    assert request.title == "Premium single-origin coffee beans, 1 kg bag, roasted"


def test_an_example_never_ends_in_a_bare_ellipsis() -> None:
    for typed in ("5 万円 ケーキ", "5 k", "1 500 Cake", "2 million baht Condo"):
        refused = refusal(typed)
        for language in ("en", "th", "ja"):
            said = text(refused.reason, language, command="link", **refused.params)
            assert " …</code>" not in said


@pytest.mark.parametrize(
    ("language", "joined"),
    [("en", "THB, JPY, SGD"), ("th", "THB, JPY, SGD"), ("ja", "THB、JPY、SGD")],
)
def test_currency_lists_are_joined_as_the_language_writes_them(language: str, joined: str) -> None:
    assert joined in shown(refusal("100 kwd Dinner"), language)
    said = shown(refusal("100 kr Bun"), language)
    assert joined.replace("THB", "DKK").replace("JPY", "SEK").replace("SGD", "NOK") in said


def test_figures_posted_in_a_group_switched_on_are_told() -> None:
    for catalog in (ENGLISH, THAI, JAPANESE):
        assert "here on" in catalog["report_daily_private"]
        line = next(
            line for line in catalog["help_commands"].splitlines() if "<code>week</code>" in line
        )
        assert "here on" in line, line


def test_the_reviewed_wording_keeps_each_catalog_s_conventions() -> None:
    reviewed = [
        *("amount_spaced", "amount_spaced_shape", "amount_bidi", "currency_not_taken"),
        *("currency_ambiguous", "currency_subunit", "amount_multiplier", "currency_unclear"),
        *("amount_multiplier_currency", "title_missing", "report_daily_private"),
        *("report_here_on", "report_here_off", "report_here_usage", "report_here_group"),
        *("sent_privately_unconfirmed", "private_chat_closed", "private_send_failed"),
        *("export_failed", "help_id_group", "help_customer"),
    ]
    for key in reviewed:
        ja, th = JAPANESE[key], THAI[key]
        assert "例: " not in ja and "）: " not in ja and "3 桁" not in ja, key
        assert "100 分" not in ja and "Telegramから" not in ja, key
        assert "ผู้ใช้ที่ได้รับสิทธิ์" not in th and "ขออีกครั้ง" not in th, key
    for key in ("report_here_off", "report_daily_private"):
        assert "ผู้ใช้ที่ร้านค้าอนุญาต" in THAI[key]
        assert "お店が許可したユーザー" in JAPANESE[key]
    assert "แชทนี้" in THAI["help_customer"].splitlines()[-1]
    assert "このグループ" in JAPANESE["help_customer"].splitlines()[0]
    for key in ("sent_privately_unconfirmed", "private_chat_closed", "private_send_failed"):
        assert "send the command again here" in ENGLISH[key], key
    assert "here off" in ENGLISH["report_here_usage"]


async def test_a_glued_multiplier_is_answered_in_the_chat(
    chat: Chat, fake_omise: fakes.FakeOmise
) -> None:
    await chat.send("/link 5万円 ケーキ", language_code="ja")
    assert "/link <code>50000 jpy ケーキ</code>" in chat.last_text()
    assert fake_omise.requests == []
