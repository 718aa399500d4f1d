"""Inline mode end to end: the real linkbot process against the local fake servers."""

from __future__ import annotations

from pathlib import Path

from linkbot.sandbox import fakes
from tests.process import BotProcess, wait_until

MERCHANT = 4242


def test_inline_link_is_created_once_edited_in_and_marked_paid(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        process = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=str(MERCHANT),
            LINKBOT_POLL_INTERVAL="0.5",
        )
        try:
            process.start()
            telegram.wait_for("setMyCommands")
            wait_until(lambda: telegram.allowed_updates is not None)
            assert telegram.allowed_updates is not None
            assert {"inline_query", "chosen_inline_result"} <= set(telegram.allowed_updates)

            # The merchant types; every keystroke is a query, none creates anything.
            for typed in ("74", "74.40 thb Hot", "74.40 thb Hot Latte"):
                telegram.push(fakes.inline_query_update(typed, user_id=MERCHANT))
            telegram.wait_for("answerInlineQuery", 3)
            # Answered side by side, in no set order: the last keystroke's answer is the one.
            [result] = [
                r
                for answer in telegram.inline_answers
                for r in answer["results"]
                if r["title"] == "Create payment link — Hot Latte · ฿74.40"
            ]
            assert omise.count("POST /links") == 0

            # Sent into a chat the bot is not in; Telegram reports the choice twice.
            chosen = telegram.post_inline_result(result["id"])
            telegram.push(chosen)
            telegram.push(chosen)
            [inline_message_id] = telegram.inline_messages
            wait_until(lambda: "<code>link_" in telegram.inline_messages[inline_message_id]["text"])
            [link] = omise.links.values()
            assert omise.count("POST /links") == 1
            assert link["payment_uri"] in telegram.inline_messages[inline_message_id]["text"]

            omise.pay(link["id"])
            wait_until(lambda: "✅ Paid" in telegram.inline_messages[inline_message_id]["text"])
            [notice] = telegram.wait_for("sendMessage")
            assert notice["chat_id"] == str(MERCHANT) and "was paid: ฿74.40" in notice["text"]
            assert omise.count("POST /links") == 1
            assert process.stop() == 0
            log = process.log()
            assert fakes.BOT_TOKEN not in log and fakes.OMISE_KEY not in log
        finally:
            process.kill()
