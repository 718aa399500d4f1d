"""JSON logs without secrets, and every /metrics family after exercising its path."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import respx
from telegram import Bot
from telegram.ext import Application

from linkbot import logs, metrics
from linkbot.bot import build_application
from linkbot.bot.app import CountingRateLimiter
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import Store
from tests.conftest import (
    GROUP,
    OMISE_URL,
    Chat,
    eventually,
    make_link,
    make_settings,
    no_sleep,
)

# JSON logs


@pytest.fixture
def json_log(tmp_path: Path) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    secrets = make_settings(tmp_path, linkbot_webhook_secret="explicit_Webhook-secret").secrets()
    logs.configure("DEBUG", secrets, stream=stream, fmt="json")
    yield stream
    root.handlers[:], root.level = saved


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_known_fields(json_log: io.StringIO) -> None:
    logging.getLogger("linkbot.test").info(
        "made %s",
        "link_1",
        extra={"event": "command", "link_id": "link_1", "chat_id": -100, "duration_ms": 12.5},
    )
    [line] = lines(json_log)
    assert line["level"] == "INFO" and line["logger"] == "linkbot.test"
    assert line["message"] == "made link_1" and str(line["time"]).endswith("+00:00")
    assert (line["event"], line["link_id"], line["chat_id"], line["duration_ms"]) == (
        "command",
        "link_1",
        -100,
        12.5,
    )
    assert "outcome" not in line  # unknown fields are left out, not null


def test_json_lines_never_carry_a_secret(json_log: io.StringIO) -> None:
    token, key = fakes.BOT_TOKEN, fakes.OMISE_KEY
    webhook = "explicit_Webhook-secret"
    log = logging.getLogger("linkbot.test")
    log.warning("url /bot%s/getMe with %s", token, key, extra={"outcome": f"failed {key}"})
    try:
        raise RuntimeError(f"failed with {token.partition(':')[2]} and {webhook}")
    except RuntimeError:
        log.exception("boom %s", webhook)
    written = json_log.getvalue()
    for secret in (token, token.partition(":")[2], key, webhook):
        assert secret not in written
    first, second = lines(json_log)
    assert first["message"] == "url /bot[REDACTED]/getMe with [REDACTED]"
    assert first["outcome"] == "failed [REDACTED]"
    assert second["message"] == "boom [REDACTED]"
    exception = str(second["exception"])
    assert (
        exception.startswith("Traceback") and "failed with [REDACTED] and [REDACTED]" in exception
    )


def test_the_derived_webhook_secret_is_redacted_too(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert settings.webhook_secret.get_secret_value() in settings.secrets()


# Metrics


@pytest.fixture
def recorder() -> Iterator[metrics.Recorder]:
    yield metrics.enable()
    metrics.disable()


def exposed(recorder: metrics.Recorder) -> str:
    body, _ = recorder.exposition()
    return body.decode()


def test_metrics_are_a_no_op_when_off() -> None:
    off = metrics.recorder()
    assert not off.enabled
    off.command("link", "ok")
    off.omise_request("GET /links", "200", 0.1)
    with pytest.raises(LookupError):
        off.exposition()


def test_prometheus_client_is_loaded_only_when_metrics_are_on() -> None:
    probe = (
        "import sys, linkbot.__main__, linkbot.web, linkbot.bot.app\n"
        "assert 'prometheus_client' not in sys.modules\n"
        "from linkbot import metrics\n"
        "metrics.enable()\n"
        "assert 'prometheus_client' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


@pytest.fixture
async def counted_omise(
    settings: Settings, recorder: metrics.Recorder, mock_http: respx.MockRouter
) -> AsyncIterator[OmiseClient]:
    async with OmiseClient(
        settings.omise_secret_key,
        base_url=OMISE_URL,
        sleep=no_sleep,
        on_response=recorder.omise_request,
    ) as client:
        yield client


@pytest.fixture
async def counted_chat(
    settings: Settings,
    counted_omise: OmiseClient,
    store: Store,
    fake_telegram: fakes.FakeTelegram,
) -> AsyncIterator[Chat]:
    service = LinkService(counted_omise, store, reconcile_delays=(0, 0, 0), sleep=no_sleep)
    app: Application = build_application(  # type: ignore[type-arg]
        settings, service, rate_limiter=CountingRateLimiter(max_retries=2)
    )
    async with app:
        yield Chat(app, fake_telegram)


async def test_commands_and_omise_requests_are_counted_by_template(
    counted_chat: Chat, recorder: metrics.Recorder, fake_omise: fakes.FakeOmise
) -> None:
    await counted_chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    await counted_chat.send(f"/status {link_id}", chat=GROUP)
    await counted_chat.send("/link nonsense", chat=GROUP)
    await counted_chat.send("/link 10 Tea", user_id=9999, chat=fakes.private_chat(9999))
    text = exposed(recorder)
    assert 'linkbot_commands_total{command="link",outcome="ok"} 1.0' in text
    assert 'linkbot_commands_total{command="status",outcome="ok"} 1.0' in text
    assert 'linkbot_commands_total{command="link",outcome="failed"} 1.0' in text
    assert 'linkbot_commands_total{command="link",outcome="refused"} 1.0' in text
    assert 'linkbot_omise_request_duration_seconds_count{route="POST /links",status="200"} 1.0' in (
        text
    )
    assert 'route="GET /links/{id}",status="200"' in text
    assert link_id not in text  # never a raw id as a label


async def test_telegram_429s_and_retries_are_counted(
    counted_chat: Chat, recorder: metrics.Recorder, fake_telegram: fakes.FakeTelegram
) -> None:
    fake_telegram.fail("sendMessage", status=429, body=fakes.flood_body(1))
    await counted_chat.send("/help")
    assert len(fake_telegram.sent()) == 2  # refused once, then sent
    text = exposed(recorder)
    assert "linkbot_telegram_flood_waits_total 1.0" in text
    assert "linkbot_telegram_retries_total 1.0" in text


async def test_payments_announced_and_watcher_passes_are_measured(
    counted_omise: OmiseClient,
    store: Store,
    bot: Bot,
    settings: Settings,
    recorder: metrics.Recorder,
    fake_omise: fakes.FakeOmise,
) -> None:
    service = LinkService(counted_omise, store, reconcile_delays=(0, 0, 0), sleep=no_sleep)
    watcher = PaymentWatcher(
        counted_omise,
        store,
        TelegramAnnouncer(bot, store, settings.timezone),
        on_pass=recorder.watcher_pass,
        on_announced=recorder.payment_announced,
    )
    record = await make_link(service)
    await watcher.run_pass()
    fake_omise.pay(record.link_id)
    stop = asyncio.Event()
    running = asyncio.create_task(watcher.run(0.05, stop))
    await eventually(
        lambda: "linkbot_payments_announced_total 1.0" in exposed(recorder), within=2, poll=0.01
    )
    stop.set()
    await running
    text = exposed(recorder)
    assert "linkbot_payments_announced_total 1.0" in text
    assert "linkbot_watcher_pass_duration_seconds_count" in text
    lag = next(
        line for line in text.splitlines() if line.startswith("linkbot_watcher_lag_seconds ")
    )
    assert 0 <= float(lag.split()[1]) < 60
    assert 'route="GET /events",status="200"' in text
