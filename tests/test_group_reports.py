"""Money figures stay out of groups: a group holds customers.

/report and /export asked in a group go to the asking merchant's private
chat (the group hears only where they went, or how to open that chat);
the daily summary of a group goes to the authorized users privately; a
staff-only group sees its own only when an authorized user switched it on
(/report here on). /help in a group names no ids and no settings.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Bot
from telegram.error import Forbidden

from linkbot.bot.daily import DailySummary
from linkbot.bot.messages import CATALOG, text
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.reports import Reports
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import CUSTOMER, GROUP, MERCHANT, TELEGRAM_URL, Chat, make_link, make_settings

PARTNER = 3333  # a second authorized user
ADMIN = 4444  # a group administrator, let in by LINKBOT_GROUP_ADMINS
OTHER_GROUP = fakes.group_chat(-1009999999999)
BANGKOK = ZoneInfo("Asia/Bangkok")
# What a report or an export is made of: none of it may reach a group.
FIGURES = re.compile(r"฿|¥|Gross|Net|Fees|VAT|Best sellers|payment\(s\)|Sales in")
START_LINK = f"https://t.me/{fakes.BOT_USERNAME}?start="


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(
        tmp_path,
        linkbot_database=database,
        linkbot_allowed_users=f"{MERCHANT},{PARTNER}",
        linkbot_group_admins="true",
        linkbot_daily_report="21:00",
    )


@pytest.fixture
async def sold(
    link_service: LinkService,
    fake_omise: fakes.FakeOmise,
    fake_telegram: fakes.FakeTelegram,
    watcher: PaymentWatcher,
    store: Store,
) -> None:
    """A latte paid in the group, a cake in the other group; the bot knows both groups' names.

    The paid notices the groups got (as they should) are left out of what the tests read.
    """
    latte = await make_link(link_service, "74.40 Hot Latte", message_id=11)
    cake = await make_link(link_service, "250 Cake", message_id=12, chat_id=OTHER_GROUP["id"])
    fake_omise.pay(latte.link_id)
    fake_omise.pay(cake.link_id)
    await watcher.run_pass()
    await store.chats.note_chat(GROUP["id"], GROUP["title"])
    await store.chats.note_chat(OTHER_GROUP["id"], "Staff room")
    fake_telegram.calls.clear()


def texts_in(telegram: fakes.FakeTelegram, chat_id: int, method: str = "sendMessage") -> list[str]:
    return [
        str(p.get("text") or p.get("caption") or "")
        for p in telegram.sent(method)
        if str(p["chat_id"]) == str(chat_id)
    ]


def in_group(telegram: fakes.FakeTelegram, group: dict[str, Any] = GROUP) -> list[str]:
    """Everything the bot sent into a group, files included."""
    return texts_in(telegram, group["id"]) + texts_in(telegram, group["id"], "sendDocument")


def summary(chat: Chat, store: Store, omise: OmiseClient) -> DailySummary:
    day = datetime.now(BANGKOK).date()
    return DailySummary(
        chat.app.bot,
        Reports(store, omise),
        store,
        at=time(21, 0),
        zone=BANGKOK,
        allowed_users=frozenset({MERCHANT, PARTNER}),
        now=lambda: datetime.combine(day, time(21, 0), tzinfo=BANGKOK).astimezone(UTC),
    )


# /report and /export asked in a group


async def test_a_report_asked_in_a_group_goes_to_the_merchant_privately(
    chat: Chat, sold: None, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/report", chat=GROUP)

    (private,) = texts_in(fake_telegram, MERCHANT)
    assert "Sales in Café Nok" in private and "Gross: ฿74.40" in private
    assert "Cake" not in private and "฿250" not in private  # the other group's sale
    assert in_group(fake_telegram) == ["📬 Sent to you in our private chat."]


async def test_an_export_asked_in_a_group_goes_to_the_merchant_privately(
    chat: Chat, sold: None, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/export", chat=GROUP)

    (document,) = fake_telegram.sent("sendDocument")
    assert str(document["chat_id"]) == str(MERCHANT)
    content = document["document"]["content"].decode("utf-8-sig")
    assert "Hot Latte" in content and "Cake" not in content
    assert in_group(fake_telegram) == ["📬 Sent to you in our private chat."]


@pytest.mark.parametrize("command", ["/report", "/export month", "/export yesterday"])
async def test_a_merchant_without_a_private_chat_is_told_how_to_start_one(
    chat: Chat, sold: None, fake_telegram: fakes.FakeTelegram, command: str
) -> None:
    fake_telegram.never_started(MERCHANT)

    await chat.send(command, chat=GROUP)

    (told,) = in_group(fake_telegram)
    assert START_LINK in told and f"@{fakes.BOT_USERNAME}" in told and "press Start" in told
    assert not FIGURES.search(told)
    # Once they have pressed Start, the same command reaches them.
    await chat.send("/start", chat=fakes.private_chat(MERCHANT))
    await chat.send(command, chat=GROUP)
    assert in_group(fake_telegram)[-1] == "📬 Sent to you in our private chat."
    assert all(not FIGURES.search(text) for text in in_group(fake_telegram))


async def test_the_fake_refuses_to_write_first_as_telegram_does(
    mock_http: object, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.never_started(PARTNER)
    async with Bot(fakes.BOT_TOKEN, base_url=f"{TELEGRAM_URL}/bot") as bot:
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await bot.send_message(PARTNER, "Hello")
        fake_telegram.push(
            fakes.command_update("/start", user_id=PARTNER, chat=fakes.private_chat(PARTNER))
        )
        assert (await bot.send_message(PARTNER, "Hello")).text == "Hello"


async def test_the_groups_answers_speak_each_language(
    chat: Chat, sold: None, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/report", chat=GROUP, language_code="th")
    await chat.send("/report", chat=GROUP, language_code="ja")
    fake_telegram.never_started(MERCHANT)
    await chat.send("/report", chat=GROUP, language_code="th")
    await chat.send("/report", chat=GROUP, language_code="ja")

    thai, japanese, thai_closed, japanese_closed = in_group(fake_telegram)
    assert thai == "📬 บอทส่งให้คุณทางแชทส่วนตัวแล้ว"
    assert japanese == "📬 個人チャットでお送りしました。"
    assert START_LINK in thai_closed and "Start" in thai_closed
    assert START_LINK in japanese_closed and "「開始」" in japanese_closed


# The group's own choice: /report here on|off


async def test_a_staff_group_switched_on_sees_its_own_reports(
    chat: Chat, sold: None, fake_telegram: fakes.FakeTelegram, store: Store
) -> None:
    await chat.send("/report here on", chat=GROUP)
    assert "for everyone in this group to see" in chat.last_text()
    assert await store.reports.report_groups() == {GROUP["id"]}

    await chat.send("/report", chat=GROUP)
    assert "Sales in this chat" in chat.last_text() and "Gross: ฿74.40" in chat.last_text()
    await chat.send("/export", chat=GROUP)
    (document,) = fake_telegram.sent("sendDocument")
    assert str(document["chat_id"]) == str(GROUP["id"])
    assert texts_in(fake_telegram, MERCHANT) == []
    # The other group is untouched by this one's choice.
    await chat.send("/report", chat=OTHER_GROUP)
    assert in_group(fake_telegram, OTHER_GROUP) == ["📬 Sent to you in our private chat."]

    await chat.send("/report here off", chat=GROUP)
    assert "this group sees no figures" in chat.last_text()
    assert await store.reports.report_groups() == set()
    await chat.send("/report", chat=GROUP)
    assert chat.last_text() == "📬 Sent to you in our private chat."


@pytest.mark.parametrize("user_id", [CUSTOMER, ADMIN])
async def test_only_an_authorized_user_switches_a_group_on(
    chat: Chat, fake_telegram: fakes.FakeTelegram, store: Store, user_id: int
) -> None:
    # An administrator may manage the group's links, but not show it the figures.
    fake_telegram.add_member(GROUP["id"], ADMIN, "administrator")

    await chat.send("/report here on", user_id=user_id, chat=GROUP)

    assert "Only the merchant's authorized users" in chat.last_text()
    assert await store.reports.report_groups() == set()


async def test_the_switch_is_explained_where_it_does_not_apply(chat: Chat, store: Store) -> None:
    await chat.send("/report here on")
    assert "in the staff-only group" in chat.last_text()
    await chat.send("/report here always", chat=GROUP)
    assert "Usage, in a staff-only group" in chat.last_text()
    assert await store.reports.report_groups() == set()


async def test_the_choice_follows_a_group_that_became_a_supergroup(store: Store) -> None:
    await store.reports.set_reports_here(-100, True, datetime.now(UTC))
    await store.chats.move_chat(-100, -1005)
    await store.chats.move_chat(-100, -1005)  # told twice, as both service messages do
    assert await store.reports.report_groups() == {-1005}


# The daily summary


async def test_a_groups_daily_summary_goes_to_each_authorized_user_privately(
    chat: Chat, sold: None, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/start", user_id=PARTNER, language_code="ja")

    assert await summary(chat, store, omise).check() == 4

    assert in_group(fake_telegram) == [] and in_group(fake_telegram, OTHER_GROUP) == []
    cake, latte = texts_in(fake_telegram, MERCHANT)  # by chat id
    assert latte.startswith("🗓 <b>Today in Café Nok</b>") and "฿74.40" in latte
    assert cake.startswith("🗓 <b>Today in Staff room</b>") and "฿250.00" in cake
    partner = texts_in(fake_telegram, PARTNER)[1:]  # after the answer to /start
    assert [t.split("</b>")[0] for t in partner] == [
        "🗓 <b>Staff room の本日のまとめ",
        "🗓 <b>Café Nok の本日のまとめ",
    ]
    # Once each: a second loop finds them claimed.
    assert await summary(chat, store, omise).send_day(datetime.now(BANGKOK).date()) == (0, True)


async def test_a_user_without_a_private_chat_is_tried_once_and_the_others_still_get_theirs(
    chat: Chat, sold: None, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.never_started(PARTNER)

    assert await summary(chat, store, omise).check() == 2

    assert len(texts_in(fake_telegram, MERCHANT)) == 2
    assert len(texts_in(fake_telegram, PARTNER)) == 1  # refused, and not tried again today
    assert in_group(fake_telegram) == []


async def test_a_group_switched_on_gets_its_own_daily_summary_too(
    chat: Chat, sold: None, store: Store, omise: OmiseClient, fake_telegram: fakes.FakeTelegram
) -> None:
    await chat.send("/report here on", chat=OTHER_GROUP)

    assert await summary(chat, store, omise).check() == 5

    (own,) = texts_in(fake_telegram, OTHER_GROUP["id"])[1:]  # after the answer to /report here on
    assert own.startswith("🗓 <b>Today in this chat</b>") and "฿250.00" in own
    assert in_group(fake_telegram) == []  # the customers' group is not switched on
    assert len(texts_in(fake_telegram, MERCHANT)) == 2


# /help in a group


@pytest.mark.parametrize("language", ["en", "th", "ja"])
@pytest.mark.parametrize("user_id", [CUSTOMER, MERCHANT])
async def test_help_in_a_group_names_no_ids_and_no_settings(
    chat: Chat, fake_telegram: fakes.FakeTelegram, user_id: int, language: str
) -> None:
    await chat.send("/help", user_id=user_id, chat=GROUP, language_code=language)

    (told,) = in_group(fake_telegram)
    assert "LINKBOT_" not in told
    assert str(CUSTOMER) not in told and str(MERCHANT) not in told and str(PARTNER) not in told
    # The bot's settings are configuration: its mode and default currency are told privately.
    assert "THB" not in told and "{" not in told
    for mode in ("mode_live", "mode_test", "mode_sandbox"):
        assert text(mode, language) not in told
    assert CATALOG[language]["help"].split("{mode}")[0].rsplit("\n", 1)[-1] not in told
    if user_id == CUSTOMER:
        # A customer reads what the bot is and how to pay, and nothing of the merchant's tools.
        assert told == text("help_customer", language) and "Omise" in told
        assert "/" not in told.replace("</", "")
    else:
        assert "/link" in told and "/report <code>here on</code>" in told and "/export" in told
        assert "/help" in told  # where to find one's own id: a private chat
