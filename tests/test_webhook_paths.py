"""A webhook URL with a path, as behind a reverse proxy that routes by path."""

from __future__ import annotations

from pathlib import Path

import httpx

from linkbot.sandbox import fakes
from tests.conftest import make_settings
from tests.process import BotProcess, free_port, wait_until_serving
from tests.test_webhook_process import GROUP, MERCHANT, derived_secret


def test_the_updates_are_served_below_the_path_of_the_webhook_url(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, linkbot_webhook_url="https://h.example/bot/", port="8080")
    assert settings.webhook_endpoint == "https://h.example/bot/telegram/webhook"
    # And where a proxy that strips /bot sends them.
    assert settings.webhook_paths == ["/bot/telegram/webhook", "/telegram/webhook"]
    plain = make_settings(tmp_path, linkbot_webhook_url="https://h.example", port="8080")
    assert plain.webhook_paths == ["/telegram/webhook"]


def test_the_bot_takes_updates_at_a_webhook_url_with_a_path(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=str(MERCHANT),
            LINKBOT_WEBHOOK_URL=f"{base}/bot",
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
            LINKBOT_POLL_INTERVAL="300",
        )
        bot.start()
        try:
            [hook] = telegram.wait_for("setWebhook", timeout=30)
            assert hook["url"] == f"{base}/bot/telegram/webhook"
            wait_until_serving(base, bot)
            pushed = telegram.push(
                fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP)
            )
            delivered = telegram.wait_delivered(pushed["update_id"])
            assert delivered["status"] == 200, bot.log()
            [reply] = telegram.wait_for("sendMessage")
            [link] = omise.links.values()
            assert link["payment_uri"] in reply["text"]
            # The secret is still required there.
            refused = httpx.post(f"{base}/bot/telegram/webhook", json=pushed)
            assert refused.status_code == 403
            headers = {"X-Telegram-Bot-Api-Secret-Token": derived_secret()}
            assert httpx.post(f"{base}/nothing/here", json=pushed, headers=headers).status_code in (
                404,
                405,
            )
            assert bot.stop() == 0
        finally:
            bot.kill()
