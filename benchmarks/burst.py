"""50 merchants send /link at the same moment while Omise takes 300 ms to answer.

Run from the repository root:  python -m benchmarks.burst [--merchants 50] [--latency 0.3]

Starts the real linkbot process against the local fake Bot API and Omise
servers on 127.0.0.1, hands it all the commands in one getUpdates batch, and
prints how long until every merchant had a reply.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from linkbot.sandbox import fakes
from tests.process import BotProcess


def main(merchants: int, latency: float) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=latency)
    users = [10_000 + n for n in range(merchants)]
    with (
        tempfile.TemporaryDirectory() as tmp,
        fakes.serve(telegram) as telegram_url,
        fakes.serve(omise) as omise_url,
    ):
        bot = BotProcess(
            Path(tmp),
            telegram_url,
            omise_url,
            LINKBOT_ALLOWED_USERS=",".join(map(str, users)),
            LINKBOT_LOG_LEVEL="WARNING",
        )
        bot.start()
        try:
            telegram.wait_for("setMyCommands", timeout=30)
            time.sleep(0.5)  # let the first getUpdates wait, as it would in production
            telegram.push_batch(
                [
                    fakes.command_update(
                        f"/link 74.40 Latte for {user}", user_id=user, chat=fakes.private_chat(user)
                    )
                    for user in users
                ]
            )
            sent_at = time.monotonic()
            replies: dict[str, float] = {}
            while len(replies) < merchants and time.monotonic() - sent_at < 60:
                for message in list(telegram.messages):
                    replies.setdefault(str(message["chat"]["id"]), time.monotonic() - sent_at)
                time.sleep(0.005)
        finally:
            bot.stop()
    times = sorted(replies.values())
    print(f"merchants:               {merchants}")
    print(f"Omise latency:           {latency * 1000:.0f} ms")
    print(f"replies received:        {len(times)}")
    print(f"first reply after:       {times[0]:.2f} s")
    print(f"median reply after:      {statistics.median(times):.2f} s")
    print(f"last reply after:        {times[-1]:.2f} s")
    print(f"Omise requests at once:  {omise.peak} at the peak")
    print(f"one at a time would take {merchants * latency:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--merchants", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.3)
    args = parser.parse_args()
    main(args.merchants, args.latency)
