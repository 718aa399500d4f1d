"""The real linkbot process in webhook mode, with Telegram's deliveries from the fake Bot API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from linkbot.config import Settings
from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port, wait_until_serving

MERCHANT = 4242
GROUP = fakes.group_chat()
ALLOWED = [
    "message",
    "callback_query",
    "my_chat_member",
    "inline_query",
    "chosen_inline_result",
    "business_connection",
    "business_message",
    "edited_business_message",
]


@pytest.fixture
def servers() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


def derived_secret() -> str:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fakes.BOT_TOKEN,
        omise_secret_key=fakes.OMISE_KEY,
    )
    return settings.webhook_secret.get_secret_value()


def test_webhook_mode_then_back_to_polling(
    tmp_path: Path, servers: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = servers
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    bot = BotProcess(
        tmp_path,
        telegram_url,
        omise_url,
        LINKBOT_ALLOWED_USERS=str(MERCHANT),
        LINKBOT_WEBHOOK_URL=url,
        PORT=str(port),  # no LINKBOT_HTTP_LISTEN: the PaaS convention
        LINKBOT_LOG_FORMAT="json",
        LINKBOT_METRICS="true",
        LINKBOT_POLL_INTERVAL="300",
    )
    bot.start()
    try:
        [hook] = telegram.wait_for("setWebhook", timeout=30)
        secret = derived_secret()
        assert hook["url"] == f"{url}/telegram/webhook"
        assert hook["secret_token"] == secret and fakes.BOT_TOKEN.split(":")[1] not in secret
        assert hook["allowed_updates"] == ALLOWED
        assert telegram.webhook is not None
        wait_until_serving(url, bot)

        pushed = telegram.push(
            fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP)
        )
        delivered = telegram.wait_delivered(pushed["update_id"])
        assert delivered["status"] == 200 and delivered["attempt"] == 1
        [reply] = telegram.wait_for("sendMessage")
        [link] = omise.links.values()
        assert link["payment_uri"] in reply["text"]

        # A wrong or missing secret: 403, and nothing is handled.
        forged = {
            **fakes.command_update("/link 99 Forged", user_id=MERCHANT, chat=GROUP),
            "update_id": 9_999,
        }
        for headers in ({"X-Telegram-Bot-Api-Secret-Token": "wrong"}, {}):
            answer = httpx.post(f"{url}/telegram/webhook", json=forged, headers=headers)
            assert answer.status_code == 403
        time.sleep(0.5)
        assert len(omise.links) == 1 and len(telegram.sent()) == 1
        # The same update with the secret is handled: it was refused for the secret alone.
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
        assert httpx.post(f"{url}/telegram/webhook", json=forged, headers=headers).is_success
        telegram.wait_for("sendMessage", 2)
        assert len(omise.links) == 2

        exposed = httpx.get(f"{url}/metrics").text
        assert 'linkbot_commands_total{command="link",outcome="ok"} 2.0' in exposed
        assert 'linkbot_webhook_requests_total{endpoint="telegram",outcome="forbidden"} 2.0' in (
            exposed
        )
        assert 'route="POST /links",status="200"' in exposed
        assert "linkbot_watcher_pass_duration_seconds_count" in exposed
        assert bot.stop() == 0
    finally:
        bot.kill()

    log = bot.log()
    assert fakes.BOT_TOKEN not in log and secret not in log
    lines = [json.loads(line) for line in log.splitlines() if line]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    command, _ = [line for line in lines if line.get("event") == "command"]
    assert command["command"] == "link" and command["outcome"] == "ok"
    assert command["chat_id"] == GROUP["id"] and command["link_id"] == link["id"]
    assert isinstance(command["duration_ms"], int | float)
    assert any("Refused a Telegram webhook" in line["message"] for line in lines)

    # Back to polling: the webhook is deleted before getUpdates, and updates flow again.
    polling = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
    polling.start()
    try:
        [deleted] = telegram.wait_for("deleteWebhook", timeout=30)
        assert telegram.webhook is None and not deleted.get("drop_pending_updates")
        telegram.push(fakes.command_update("/link 20 Tea", user_id=MERCHANT, chat=GROUP))
        telegram.wait_for("sendMessage", 3)
        assert telegram.conflicts == 0
        assert polling.stop() == 0
    finally:
        polling.kill()


def test_webhook_mode_without_a_listener_is_a_configuration_error(tmp_path: Path) -> None:
    bot = BotProcess(
        tmp_path,
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        LINKBOT_WEBHOOK_URL="https://bot.example.com",
    )
    bot.start()
    try:
        assert bot.proc is not None and bot.proc.wait(30) == 2
    finally:
        bot.kill()
    log = bot.log()
    assert "LINKBOT_WEBHOOK_URL needs an address to serve it on" in log
    assert "Traceback" not in log
