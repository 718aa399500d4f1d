"""English, Thai and Japanese: catalogs in step, valid Telegram HTML, and each user's language."""

from __future__ import annotations

import html
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from string import Formatter
from zoneinfo import ZoneInfo

import pytest
import respx
from pydantic import ValidationError
from telegram import BotCommandScopeAllPrivateChats, BotCommandScopeDefault
from telegram.error import BadRequest

from linkbot.bot import build_application
from linkbot.bot.app import MENU, PUBLIC_MENU, menus, register_commands
from linkbot.bot.daily import DailySummary
from linkbot.bot.messages import (
    CATALOG,
    ENGLISH,
    SUPPORTED,
    Html,
    day_text,
    language_for,
    text,
    time_text,
)
from linkbot.config import LANGUAGES
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.reports import Reports
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import CUSTOMER, GROUP, MERCHANT, Chat, make_settings

BANGKOK = ZoneInfo("Asia/Bangkok")
THAI = re.compile(r"[\u0e00-\u0e7f]")
ENGLISH_MONTHS = re.compile(
    r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b", re.IGNORECASE
)

# Shown as the short text of a callback answer (an alert or a toast): 200 characters.
ALERTS = {
    "not_authorized",
    "button_stale",
    "cancelled",
    "cancelled_toast",
    "already_cancelled",
    "already_paid",
    "links_page_gone",
    "link_not_in_chat",
    "qr_cancelled",
    "qr_paid",
    "qr_not_sent",
    "omise_auth",
    "omise_auth_group",
    "omise_not_found",
    "omise_rate_limited",
    "omise_server",
    "omise_timeout",
    "omise_unreachable",
    "omise_unexpected",
    "internal_error",
}
CAPTIONS = {"qr_caption", "export_caption"}
# Telegram takes 64 bytes of callback data, and a button's text should fit a phone.
BUTTON_LENGTH = 32


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in Formatter().parse(template) if field is not None}


def tags(template: str) -> list[str]:
    return sorted(re.findall(r"</?[a-z-]+", template))


def sample(field: str) -> object:
    """A long, awkward value for each placeholder: escaping and limits are tested at once."""
    values: dict[str, object] = {
        "title": "Hot Latte & <Oat> " + "ก" * 180,
        "description": "Oat milk, no sugar & <ice> " + "あ" * 470,
        "amount": "฿1,234,567.89",
        "total": "฿1,234,567.89",
        "paid_total": "฿1,234,567.89",
        "link_id": "link_test_5g022xwp823yimkbzdl",
        "charge_id": "chrg_test_5g022xwp823yimkbzdl",
        "payment_uri": "https://pay.omise.co/links/link_test_5g022xwp823yimkbzdl",
        "body": Html("<b>Hot Latte</b>\n฿74.40 · one-time\n<code>link_test_x</code>"),
        "status": Html("✅ Paid ฿74.40 · 14:05\n"),
        "payments": Html("• ฿74.40 · 14:05 · <code>chrg_test_x</code>\n" * 10),
        "paid": Html(" · 3× paid"),
        "payable": Html(" The link can still be paid."),
        "period": Html("2026-11-01 – 2026-11-27"),
        "authorization": "✅ You may create and manage links.",
        "text": "1.2.3.4.5.6.7.8.9.0.1.2.3.4.5.6.7.8.9.0",
        "message": "amount is too small & <odd>",
        "command": "multilink",
    }
    return values.get(field, "12345")


@pytest.mark.parametrize("language", ["th", "ja"])
def test_every_catalog_has_the_same_keys_placeholders_and_tags(language: str) -> None:
    catalog = CATALOG[language]
    assert set(catalog) == set(ENGLISH)
    for key, template in ENGLISH.items():
        assert placeholders(catalog[key]) == placeholders(template), key
        assert tags(catalog[key]) == tags(template), key


def test_the_settings_know_every_catalog() -> None:
    assert set(LANGUAGES) == set(SUPPORTED) == set(CATALOG)


@pytest.mark.parametrize("language", SUPPORTED)
def test_every_message_renders_as_telegram_takes_it(language: str) -> None:
    for key, template in CATALOG[language].items():
        rendered = text(key, language, **{f: sample(f) for f in placeholders(template)})
        plain = html.unescape(re.sub(r"<[^>]+>", "", rendered))
        if key.startswith("menu_"):
            assert 1 <= len(rendered) <= 256 and "<" not in template, key
        elif key.startswith("button_"):
            assert len(text(key, language, amount="฿1,234,567.89")) <= BUTTON_LENGTH, key
        elif key in CAPTIONS:
            assert fakes.html_problem(rendered, fakes.CAPTION_LIMIT) is None, key
        elif key not in ("day_and_time", "time_of_day", "still_payable"):
            assert fakes.html_problem(rendered) is None, key
        if key in ALERTS:
            assert len(plain) <= 200, key


@pytest.mark.parametrize(
    ("code", "forced", "language"),
    [
        ("th", None, "th"),
        ("th-TH", None, "th"),
        ("ja", None, "ja"),
        ("en-GB", None, "en"),
        ("fr", None, "en"),
        (None, None, "en"),
        ("th", "ja", "ja"),
        (None, "th", "th"),
    ],
)
def test_language_for(code: str | None, forced: str | None, language: str) -> None:
    assert language_for(code, forced) == language


def test_dates_are_written_the_language_s_way() -> None:
    day = date(2026, 11, 27)
    moment = datetime(2026, 11, 27, 14, 5, tzinfo=BANGKOK)
    assert day_text(day, "en") == "2026-11-27"
    assert day_text(day, "th") == "27 พ.ย. 2569"
    assert day_text(day, "ja") == "2026年11月27日"
    assert time_text(moment, "en") == "2026-11-27 14:05"
    assert time_text(moment, "th") == "27 พ.ย. 2569 14:05 น."
    assert time_text(moment, "ja") == "2026年11月27日 14:05"
    assert time_text(moment, "th", today=True) == "14:05 น."
    for language in ("th", "ja"):
        for month in range(1, 13):
            assert not ENGLISH_MONTHS.search(day_text(date(2026, month, 1), language))


def test_linkbot_language_is_checked(tmp_path: Path) -> None:
    assert make_settings(tmp_path).linkbot_language is None
    assert make_settings(tmp_path, linkbot_language=" TH ").linkbot_language == "th"
    with pytest.raises(ValidationError, match="en, th, ja"):
        make_settings(tmp_path, linkbot_language="fr")


# Menus


async def test_menus_are_registered_per_scope_and_language(chat: Chat) -> None:
    await register_commands(chat.app)
    menus_set = chat.telegram.menus
    assert set(menus_set) == {
        (scope, language)
        for scope in ("all_private_chats", "default")
        for language in (None, "th", "ja")
    }
    for language in (None, "th", "ja"):
        private = menus_set[("all_private_chats", language)]
        assert [c["command"] for c in private] == list(MENU)
        # Customers in a group see no command that manages links.
        assert [c["command"] for c in menus_set[("default", language)]] == list(PUBLIC_MENU)
    assert menus_set[("all_private_chats", "th")][0]["description"].startswith("สร้างลิงก์")
    assert menus_set[("all_private_chats", "ja")][0]["description"].startswith("1回限り")
    assert menus_set[("all_private_chats", None)][0]["description"].startswith("Create")
    scopes = {type(scope) for scope, _, _ in menus()}
    assert scopes == {BotCommandScopeAllPrivateChats, BotCommandScopeDefault}


async def test_the_fake_refuses_menus_telegram_refuses(chat: Chat) -> None:
    bot = chat.app.bot
    for commands in ([("Link", "x")], [("link", "")], [("l" * 33, "x")], [("c", "x")] * 101):
        with pytest.raises(BadRequest, match=r"(?i)bot_command"):
            await bot.set_my_commands(commands)
    assert chat.telegram.menus == {}


# Through the real Application


async def test_a_thai_merchant_gets_thai_from_command_to_paid_notice(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
    store: Store,
) -> None:
    await chat.send("/link 74.40 Hot Latte", chat=GROUP, language_code="th")
    link_message = chat.last_reply()
    assert "74.40 · ใช้ครั้งเดียว" in link_message["text"]
    buttons = [b["text"] for row in link_message["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["ชำระ ฿74.40", "QR", "คัดลอกลิงก์", "ยกเลิกลิงก์", "แชร์"]
    assert await store.chats.user_language(MERCHANT) == "th"

    # A customer in the group asks for help in Japanese and is answered in it.
    await chat.send("/help", user_id=CUSTOMER, chat=GROUP, language_code="ja")
    assert "お店のスタッフが作成しています" in chat.last_text()
    assert await store.chats.user_language(CUSTOMER) is None  # customers are not stored

    [link] = fake_omise.links.values()
    fake_omise.pay(link["id"])
    await watcher.run_pass()
    notice = chat.last_text()
    assert notice.startswith("✅ ได้รับชำระ <b>Hot Latte</b> แล้ว: ฿74.40 เมื่อ ")
    assert notice.endswith(" น.")
    [edit] = fake_telegram.sent("editMessageText")
    assert "✅ ชำระแล้ว ฿74.40 · " in edit["text"]


async def test_a_thai_merchant_s_errors_buttons_and_lists(chat: Chat) -> None:
    await chat.send("/link 12.345 Hot Latte", language_code="th")
    assert "มีตัวเลขหลังจุด 3 หลัก" in chat.last_text() and "กรุณาเขียน 12345" in chat.last_text()
    await chat.send("/link 74.40 Hot Latte", language_code="th")
    link_message = chat.last_message()
    [link_id] = re.findall(r"link_test_\w+", chat.last_text())
    await chat.press(f"cancel:{link_id}", link_message, language_code="th")
    answers = chat.telegram.sent("answerCallbackQuery")
    assert answers[-1]["text"].startswith(f"🚫 ยกเลิกลิงก์ {link_id} แล้ว")
    await chat.send("/links", language_code="th")
    assert "ยกเลิกแล้ว" in chat.last_text() and "ลิงก์ในบัญชี Omise" in chat.last_text()
    await chat.press("links:9", link_message, language_code="th")


async def test_a_japanese_user_gets_japanese_help_and_errors(chat: Chat) -> None:
    await chat.send("/help", language_code="ja")
    help_text = chat.last_text()
    assert "リンクの作成と管理ができます。" in help_text and "Omise のモード: テスト" in help_text
    assert f"<code>{MERCHANT}</code>" in help_text
    await chat.send("/link abc Hot Latte", language_code="ja")
    assert chat.last_text().startswith("使い方: /link <code>&lt;金額&gt; [通貨] &lt;商品名&gt;")
    await chat.send("/status link_nope", language_code="ja")
    assert chat.last_text() == "このリンクは、この Omise アカウントに存在しません。"
    await chat.send("/report 2026-11-27", language_code="ja")
    assert "2026年11月27日" in chat.last_text() and "2026-11-27" not in chat.last_text()


async def test_linkbot_language_forces_one_language(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    settings = make_settings(tmp_path, linkbot_language="ja")
    app = build_application(settings, link_service, rate_limiter=None)
    async with app:
        forced = Chat(app, fake_telegram)
        await forced.send("/help", language_code="th")
        assert "リンクの作成と管理ができます。" in forced.last_text()
        await forced.send("/cancel", user_id=CUSTOMER, chat=GROUP, language_code="en")
        assert forced.last_text() == "⛔ この操作は、お店が許可したユーザーのみ行えます。"


async def test_the_daily_summary_speaks_its_reader_s_language(
    chat: Chat,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
    store: Store,
    omise: OmiseClient,
) -> None:
    await chat.send("/report daily on", language_code="ja")
    assert "毎日のまとめがオフになっています" in chat.last_text()
    await chat.send("/link 74.40 Hot Latte", chat=GROUP, language_code="ja")
    [link] = fake_omise.links.values()
    fake_omise.pay(link["id"])
    await watcher.run_pass()
    assert "の支払いがありました" in chat.last_text()
    day = datetime.now(BANGKOK).date()
    loop = DailySummary(
        chat.app.bot,
        Reports(store, omise),
        store,
        at=time(0, 0),
        zone=BANGKOK,
        allowed_users=frozenset({MERCHANT}),
        now=lambda: datetime.now(UTC),
    )
    assert await loop.send_day(day) == (2, True)
    texts = [str(p["text"]) for p in fake_telegram.sent("sendMessage")[-2:]]
    assert any(t.startswith("🗓 <b>全チャットの本日のまとめ</b>") for t in texts)
    assert any(t.startswith("🗓 <b>Café Nok の本日のまとめ</b>") for t in texts)
    assert all(day_text(day, "ja") in t for t in texts)


async def test_a_forced_language_is_the_only_command_menu(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    chat: Chat,
) -> None:
    # An earlier start without LINKBOT_LANGUAGE left a menu per language at Telegram.
    await register_commands(chat.app)
    settings = make_settings(tmp_path, linkbot_language="th")
    async with build_application(settings, link_service, rate_limiter=None) as app:
        await register_commands(app)
    assert set(fake_telegram.menus) == {("all_private_chats", None), ("default", None)}
    private = fake_telegram.menus[("all_private_chats", None)]
    assert [c["command"] for c in private] == list(MENU)
    assert private[0]["description"].startswith("สร้างลิงก์")
    public = fake_telegram.menus[("default", None)]
    assert [c["command"] for c in public] == list(PUBLIC_MENU)
    assert {
        (c["language_code"], c["scope"]["type"]) for c in fake_telegram.sent("deleteMyCommands")
    } == {
        (language, scope) for language in ("th", "ja") for scope in ("all_private_chats", "default")
    }


async def test_the_fake_deletes_menus_as_telegram_does(chat: Chat) -> None:
    bot = chat.app.bot
    await bot.set_my_commands([("help", "Help")], language_code="th")
    assert await bot.delete_my_commands(language_code="th")
    assert await bot.delete_my_commands(language_code="ja")  # none set: still fine
    assert chat.telegram.menus == {}
    with pytest.raises(BadRequest, match="language code"):
        await bot.delete_my_commands(language_code="thai")


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("en", "in any chat – a payment link right there"),
        ("th", "ในแชทใดก็ได้ – ส่งลิงก์ชำระเงินลงในแชทนั้นได้ทันที"),
        ("ja", "どのチャットでもその場に支払いリンクを送信"),
    ],
)
async def test_help_tells_of_inline_mode(chat: Chat, language: str, line: str) -> None:
    await chat.send("/help", language_code=language)
    assert f"<code>@{fakes.BOT_USERNAME} 74.40 Hot Latte</code>" in chat.last_text()
    assert line in chat.last_text()


async def test_a_thai_user_s_inline_query_gets_thai_results(chat: Chat) -> None:
    for typed in ("74.40 Hot Latte", "74.4.0 Hot Latte"):
        update = fakes.inline_query_update(typed, user_id=MERCHANT)
        update["inline_query"]["from"]["language_code"] = "th"
        chat.telegram.note_inline_query(update)
        await chat.feed(update)
    created, problem = (answer["results"][0] for answer in chat.telegram.inline_answers)
    assert created["title"] == "สร้างลิงก์ชำระเงิน — Hot Latte · ฿74.40"
    assert THAI.search(created["description"])
    assert THAI.search(created["input_message_content"]["message_text"])
    assert THAI.search(problem["title"]) and THAI.search(problem["description"])
