"""The real linkbot process, with strangers spamming commands in the merchant's group."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from linkbot.sandbox import fakes
from tests.process import BotProcess, wait_until

MERCHANT = 4242
STRANGERS = (5001, 5002, 5003, 5004)
GROUP = fakes.group_chat()
SPAM = (
    "/link 1 Free coffee",
    "/links",
    "/help",
    "/status link_test_abc",
    "/cancel link_test_abc",
    "/start",
    "/multilink 5 Tip",
    "/link@linkbot_test_bot 2 Cake",
)


def test_strangers_spamming_a_group_do_not_delay_the_merchant(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    telegram.group_limit = (20, 60.0)  # Telegram's own: 20 messages a minute per group
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        bot = BotProcess(tmp_path, telegram_url, omise_url, LINKBOT_ALLOWED_USERS=str(MERCHANT))
        bot.start()
        try:
            telegram.wait_for("setMyCommands", timeout=20)
            # Polling is under way once the merchant's private /help is answered.
            private = fakes.private_chat(MERCHANT)
            telegram.push(fakes.command_update("/help", user_id=MERCHANT, chat=private))
            telegram.wait_for("sendMessage", 1)

            spam = [
                fakes.command_update(text, user_id=STRANGERS[n % 4], chat=GROUP)
                for n, text in enumerate(itertools.islice(itertools.cycle(SPAM), 32))
            ]
            command = fakes.command_update("/link 74.40 Hot Latte", user_id=MERCHANT, chat=GROUP)
            asked_at = time.monotonic()
            telegram.push_batch([*spam, command])

            def link_reply() -> bool:
                return any("link.omise.test" in m["text"] for m in telegram.messages)

            wait_until(link_reply, timeout=10, poll=0.005)
            delay = time.monotonic() - asked_at
            print(f"\nthe merchant's link reply arrived {delay:.3f}s after the command")

            # Every stranger's one reply, and nothing else, reaches the group.
            wait_until(lambda: len(telegram.sent()) >= 2 + len(STRANGERS), timeout=10, poll=0.005)
            time.sleep(1.0)
            in_group = [
                params
                for params in telegram.sent()
                if params["chat_id"] == str(GROUP["id"]) and "link.omise.test" not in params["text"]
            ]
            sender = {u["message"]["message_id"]: u["message"]["from"]["id"] for u in spam}
            answered = sorted(sender[p["reply_parameters"]["message_id"]] for p in in_group)
            log = bot.log()
        finally:
            bot.kill()
    assert delay < 2.0, f"the merchant waited {delay:.1f}s"
    assert answered == sorted(STRANGERS)  # one reply each, however many commands they sent
    assert len(telegram.sent()) == len(telegram.messages)  # Telegram refused nothing
    assert "Error while handling an update" not in log
