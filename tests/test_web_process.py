"""The webhook endpoint of the real linkbot process: oversized bodies, memory, start-up warning."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from linkbot.sandbox import fakes
from linkbot.web import MAX_BODY
from tests.process import BotProcess, free_port, wait_until_serving
from tests.test_web import WEBHOOK_SECRET, charge_event, signed

MB = 1024 * 1024
HUGE = 200 * MB
CHUNK = 64 * 1024
# Headroom for what the process does anyway (a payment pass, a Telegram poll);
# a body read into memory would be twenty times this.
MAX_GROWTH = 10 * MB


@dataclass
class Served:
    bot: BotProcess
    omise: fakes.FakeOmise
    url: str

    @property
    def pid(self) -> int:
        assert self.bot.proc is not None
        return self.bot.proc.pid

    def memory(self) -> tuple[int, int]:
        """(VmRSS, VmHWM) in bytes: now, and the peak so far."""
        fields = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.split()
        return int(fields["VmRSS"][0]) * 1024, int(fields["VmHWM"][0]) * 1024


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        bot = BotProcess(
            tmp_path_factory.mktemp("web"),
            telegram_url,
            omise_url,
            LINKBOT_POLL_INTERVAL="300",
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
        )
        bot.start()
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url, bot)
            yield Served(bot, omise, url)
        finally:
            bot.kill()


def body_of(size: int) -> Iterator[bytes]:
    chunk = b"x" * CHUNK
    for _ in range(size // CHUNK):
        yield chunk


def post(served: Served, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=served.url, timeout=60.0) as client:
        return client.post("/omise/webhook", content=body_of(HUGE), headers=headers)


def still_answers(served: Served) -> None:
    assert served.bot.running
    event = json.dumps(
        {"object": "event", "key": "charge.complete", "data": {"object": "charge", "id": "chrg_x"}}
    )
    with httpx.Client(base_url=served.url, timeout=10.0) as client:
        assert client.post("/omise/webhook", content=event).status_code == 202


def assert_flat(served: Served, before: tuple[int, int], label: str) -> None:
    rss, peak = served.memory()
    growth, peak_growth = rss - before[0], peak - before[1]
    print(f"{label}: VmRSS +{growth / MB:.2f} MB, VmHWM +{peak_growth / MB:.2f} MB")
    assert growth < MAX_GROWTH and peak_growth < MAX_GROWTH


@pytest.mark.parametrize(
    ("label", "headers"),
    [
        ("chunked, no length", None),
        # The header says the body is small; the bytes are counted anyway.
        (
            "chunked, lying Content-Length",
            {"Content-Length": "1000", "Transfer-Encoding": "chunked"},
        ),
    ],
)
def test_a_200_mb_post_is_refused_without_growing_memory(
    served: Served, label: str, headers: dict[str, str] | None
) -> None:
    before = served.memory()
    response = post(served, headers)
    assert response.status_code == 413
    assert response.json() == {"error": "too large"}
    assert_flat(served, before, label)
    still_answers(served)


def test_a_declared_200_mb_post_is_refused_before_it_is_read(served: Served) -> None:
    before = served.memory()
    response = post(served, {"Content-Length": str(HUGE)})
    assert response.status_code == 413
    assert_flat(served, before, "declared 200 MB")
    still_answers(served)


def test_a_body_at_the_limit_is_read(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=10.0) as client:
        response = client.post("/omise/webhook", content=b"{}" + b" " * (MAX_BODY - 2))
    assert response.status_code == 200 and response.json() == {"status": "ignored"}


def test_healthz_reports_a_watcher_at_work(served: Served) -> None:
    response = httpx.get(f"{served.url}/healthz", timeout=10.0)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["last_payment_pass"] is not None


def test_without_a_webhook_secret_start_up_warns_once(served: Served) -> None:
    log = served.bot.log()
    warnings = [line for line in log.splitlines() if "OMISE_WEBHOOK_SECRET is not set" in line]
    assert len(warnings) == 1 and " WARNING " in warnings[0]
    assert "it only makes the bot read Omise's events sooner" in warnings[0]
    assert fakes.OMISE_KEY not in log and fakes.BOT_TOKEN not in log


def test_sigterm_cancels_a_confirmation_stuck_on_a_slow_omise(tmp_path: Path) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    omise.fail("GET /charges/chrg_test_slow", delay=60.0)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        bot = BotProcess(
            tmp_path,
            telegram_url,
            omise_url,
            LINKBOT_POLL_INTERVAL="300",
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
            OMISE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        )
        bot.start()
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_serving(url, bot)
            # Signed: only a verified event has its charge fetched.
            body = charge_event("chrg_test_slow")
            response = httpx.post(
                f"{url}/omise/webhook", content=body, headers=signed(body), timeout=10.0
            )
            assert response.status_code == 202
            deadline = time.monotonic() + 10
            while omise.count("GET /charges/chrg_test_slow") == 0:
                assert time.monotonic() < deadline, bot.log()
                time.sleep(0.02)
            assert bot.stop() == 0
        finally:
            bot.kill()
    log = bot.log()
    assert "Stopped confirming webhooks: 0 waiting dropped, 1 cancelled in flight" in log
    # aiosqlite's worker thread may log its own closing after the last line of ours.
    ours = [line for line in log.splitlines() if " aiosqlite: " not in line]
    assert ours[-1].endswith("Stopped")
    assert "Traceback" not in log and "was destroyed but it is pending" not in log
