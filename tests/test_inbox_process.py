"""The real ``linkbot`` process in webhook mode, killed after acknowledging commands.

Telegram has its 200 for them and never delivers them again; the next run of
the same instance finds them in its inbox and answers each once.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from linkbot.sandbox import fakes
from tests.databases import postgresql_database
from tests.process import BotProcess, free_port, wait_until, wait_until_serving
from tests.test_two_instances_process import HELD_CHAT, claimed, held_chat_row, kept

MERCHANT = 4242


database = postgresql_database


def test_a_restart_answers_what_the_killed_run_acknowledged(tmp_path: Path, database: str) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:

        def bot() -> BotProcess:
            return BotProcess(
                tmp_path,
                telegram_url,
                omise_url,
                LINKBOT_DATABASE=database,
                LINKBOT_INSTANCE_ID="solo",
                LINKBOT_ALLOWED_USERS=str(MERCHANT),
                LINKBOT_WEBHOOK_URL=url,
                LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
                LINKBOT_POLL_INTERVAL="1",
                LINKBOT_LOG_LEVEL="INFO",
            ).start()

        first = bot()
        second = None
        try:
            wait_until_serving(url, first)
            telegram.wait_for("setWebhook", timeout=30)
            titles = ["Hot Latte", "Iced Tea"]
            keys = []
            with held_chat_row(database, HELD_CHAT["id"]):
                for n, title in enumerate(titles):
                    update = telegram.push(
                        fakes.command_update(
                            f"/link {50 + n} {title}",
                            user_id=MERCHANT,
                            chat=HELD_CHAT,
                            message_id=500 + n,
                        )
                    )
                    keys.append(f"{HELD_CHAT['id']}:{500 + n}")
                    telegram.wait_delivered(update["update_id"])
                # Acknowledged, and stuck before the claim on the held chat row.
                wait_until(lambda: len(kept(database, "solo")) == 2, 10, "both kept")
                first.stop(signal.SIGKILL)
                assert claimed(database, keys) == 0
            assert not telegram.sent("sendMessage")

            second = bot()
            wait_until_serving(url, second)
            wait_until(lambda: len(telegram.sent("sendMessage")) >= 2, 20, "both answered")
            time.sleep(1.0)  # time for anything to happen twice
            assert second.stop() == 0
        finally:
            first.kill()
            if second is not None:
                second.kill()
    log = first.log()
    assert "acknowledged before a restart" in log, log
    assert sorted(link["title"] for link in omise.links.values()) == titles
    replies = telegram.sent("sendMessage")
    assert len(replies) == 2, replies
    for title in titles:
        [link] = [link for link in omise.links.values() if link["title"] == title]
        assert sum(link["payment_uri"] in str(reply["text"]) for reply in replies) == 1
    assert kept(database, "solo") == []
    assert "Traceback" not in log, log
