"""The real linkbot process against local fake Omise and Bot API servers."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import fakes
from tests.process import BotProcess

MERCHANT = 4242
GROUP = fakes.group_chat()


@pytest.fixture
def servers() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


@pytest.fixture
def bot(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> Iterator[BotProcess]:
    _, _, telegram_url, omise_url = servers
    process = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
    yield process.start()
    process.kill()


def test_link_then_cancel(
    bot: BotProcess, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, _, _ = servers
    telegram.wait_for("setMyCommands")

    telegram.push(
        fakes.command_update(
            f"/link@{fakes.BOT_USERNAME} 74.40 thb Hot Latte", user_id=MERCHANT, chat=GROUP
        )
    )
    [reply] = telegram.wait_for("sendMessage")
    [link] = omise.links.values()
    assert link["amount"] == 7440 and link["currency"] == "THB" and link["title"] == "Hot Latte"
    assert link["payment_uri"] in reply["text"]
    assert f"<code>{link['id']}</code>" in reply["text"]

    telegram.push(
        fakes.command_update("/cancel", user_id=MERCHANT, chat=GROUP, reply_to=telegram.messages[0])
    )
    [edit] = telegram.wait_for("editMessageText")
    assert "Cancelled" in edit["text"] and "reply_markup" not in edit
    replies = telegram.wait_for("sendMessage", 2)
    assert "is cancelled" in replies[1]["text"]
    assert omise.links[link["id"]]["deleted"] is True

    assert bot.stop(signal.SIGTERM) == 0
    log = bot.log()
    assert fakes.BOT_TOKEN not in log and fakes.OMISE_KEY not in log
    assert "Stopped" in log


def test_sigint_stops_cleanly(
    bot: BotProcess, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    servers[0].wait_for("setMyCommands")
    assert bot.stop(signal.SIGINT) == 0
