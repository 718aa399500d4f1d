"""The real linkbot process, with a crowd of strangers starting private chats with it."""

from __future__ import annotations

import time
from pathlib import Path

from linkbot.bot.throttle import PRIVATE_REPLIES
from linkbot.sandbox import fakes
from tests.process import BotProcess, wait_until

MERCHANT = 4242
STRANGERS = range(700_001, 700_241)  # 240 of them


def test_strangers_starting_the_bot_do_not_delay_the_merchants_link(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        bot = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
        bot.start()
        try:
            telegram.wait_for("setMyCommands", timeout=20)
            # Polling is under way once the merchant's private /help is answered.
            private = fakes.private_chat(MERCHANT)
            telegram.push(fakes.command_update("/help", user_id=MERCHANT, chat=private))
            telegram.wait_for("sendMessage", 1)

            crowd = [
                fakes.command_update("/start", user_id=user, chat=fakes.private_chat(user))
                for user in STRANGERS
            ]
            command = fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=private)
            asked_at = time.monotonic()
            telegram.push_batch([*crowd, command])

            def link_reply() -> bool:
                return any("link.omise.test" in m["text"] for m in telegram.messages)

            wait_until(link_reply, timeout=15, poll=0.005)
            delay = time.monotonic() - asked_at
            print(f"\nthe merchant's link reply arrived {delay:.3f}s after the command")

            answered = 2 + PRIVATE_REPLIES  # the /help, the link, and the strangers' share
            wait_until(lambda: len(telegram.sent()) >= answered, timeout=15, poll=0.005)
            time.sleep(1.0)
            sent = len(telegram.sent())
            log = bot.log()
        finally:
            bot.kill()
    assert delay < 2.0, f"the merchant waited {delay:.1f}s"
    assert sent == answered  # the other strangers' /start got no answer
    assert "Error while handling an update" not in log
