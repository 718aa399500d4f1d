"""The real linkbot process keeps a group's report out of the group."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from linkbot.sandbox import fakes
from tests.process import BotProcess

MERCHANT = 4242
GROUP = fakes.group_chat()


@pytest.fixture
def telegram(tmp_path: Path) -> Iterator[fakes.FakeTelegram]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        process = BotProcess(
            tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT)
        ).start()
        try:
            yield telegram
        finally:
            process.kill()


def texts_to(telegram: fakes.FakeTelegram, chat_id: int) -> list[str]:
    return [str(p["text"]) for p in telegram.sent() if str(p["chat_id"]) == str(chat_id)]


def test_a_report_asked_in_a_group_reaches_the_merchant_once_they_pressed_start(
    telegram: fakes.FakeTelegram,
) -> None:
    telegram.never_started(MERCHANT)
    telegram.wait_for("setMyCommands")

    telegram.push(fakes.command_update("/report", user_id=MERCHANT, chat=GROUP))
    telegram.wait_for("sendMessage", 2)  # refused privately, then the group is told
    (told,) = texts_to(telegram, GROUP["id"])
    assert f"https://t.me/{fakes.BOT_USERNAME}?start=reports" in told

    telegram.push(
        fakes.command_update("/start", user_id=MERCHANT, chat=fakes.private_chat(MERCHANT))
    )
    telegram.push(fakes.command_update("/report", user_id=MERCHANT, chat=GROUP))
    telegram.wait_for("sendMessage", 5)
    started, report = texts_to(telegram, MERCHANT)[1:]  # after the refused try
    assert "/link" in started and report.startswith("📊 <b>Sales in Café Nok</b>")
    assert texts_to(telegram, GROUP["id"])[1:] == ["📬 Sent to you in our private chat."]
