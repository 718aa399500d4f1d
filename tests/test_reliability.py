"""Flood control, concurrency, restarts mid-command, and secrets under DEBUG logging."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import respx
from telegram import Update
from telegram.ext import AIORateLimiter, Application

from linkbot import logs
from linkbot.bot import build_application
from linkbot.bot.handlers import resume_unfinished, services
from linkbot.links import LinkService
from linkbot.sandbox import fakes
from linkbot.store import CommandRecord, CommandState, LinkRecord, Store
from tests.conftest import GROUP, MERCHANT, Chat, link_service_over_http, make_settings


async def feed_concurrently(app: Application, updates: list[dict[str, Any]]) -> None:  # type: ignore[type-arg]
    """Hand updates to the Application's update processor at once, as polling does."""
    parsed = [Update.de_json(u, app.bot) for u in updates]
    await asyncio.gather(
        *(app.update_processor.process_update(u, app.process_update(u)) for u in parsed)
    )


# Flood control


async def test_a_burst_of_50_links_in_one_group_is_all_answered(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    fake_omise: fakes.FakeOmise,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Telegram's 20-a-minute group limit, scaled to 20 every 2 seconds so the test is quick.
    fake_telegram.group_limit = (20, 2.0)
    limiter = AIORateLimiter(group_max_rate=20, group_time_period=2.0, max_retries=10)
    settings = make_settings(tmp_path)
    updates = [
        fakes.command_update(f"/link {20 + n} Item {n}", user_id=MERCHANT, chat=GROUP)
        for n in range(50)
    ]
    with caplog.at_level(logging.WARNING):
        async with build_application(settings, link_service, rate_limiter=limiter) as app:
            await feed_concurrently(app, updates)
    assert len(fake_omise.links) == 50
    assert len(fake_telegram.messages) == 50
    delivered = "".join(m["text"] for m in fake_telegram.messages)
    assert all(link_id in delivered for link_id in fake_omise.links)
    assert "Error while handling an update" not in caplog.text


async def test_telegram_429_is_waited_out(
    tmp_path: Path,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
) -> None:
    fake_telegram.fail(
        "sendMessage",
        status=429,
        body=fakes.flood_body(retry_after=1),
    )
    async with build_application(make_settings(tmp_path), link_service) as app:
        await Chat(app, fake_telegram).send("/link 74.40 Hot Latte", chat=GROUP)
    assert len(fake_telegram.sent("sendMessage")) == 2
    assert len(fake_telegram.messages) == 1


# Concurrency


@pytest.fixture
def served() -> Iterator[tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]]:
    # Slow enough that eleven creates overlap even on a busy two-core machine.
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=0.8)
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        yield telegram, omise, telegram_url, omise_url


async def test_slow_omise_for_one_chat_does_not_hold_up_others(
    tmp_path: Path, served: tuple[fakes.FakeTelegram, fakes.FakeOmise, str, str]
) -> None:
    telegram, omise, telegram_url, omise_url = served
    settings = make_settings(tmp_path, telegram_api_url=telegram_url, omise_api_url=omise_url)
    shop = fakes.group_chat(-100777)
    updates = [
        fakes.command_update(f"/link {20 + n} Order {n}", user_id=MERCHANT, chat=shop)
        for n in range(3)
    ] + [
        fakes.command_update(
            f"/link 30 Tea {n}", user_id=MERCHANT, chat=fakes.group_chat(-200000 - n)
        )
        for n in range(10)
    ]
    async with (
        link_service_over_http(settings) as service,
        build_application(settings, service) as app,
    ):
        await feed_concurrently(app, updates)
    assert len(telegram.messages) == 13
    assert omise.peak >= 10  # the other chats' creates ran side by side
    in_shop = [m["text"] for m in telegram.messages if m["chat"]["id"] == shop["id"]]
    assert [t.split("</b>")[0] for t in in_shop] == [f"<b>Order {n}" for n in range(3)]


# A restart in the middle of a command


async def pending_command(
    store: Store, text: str = "Hot Latte", message_id: int = 900
) -> CommandRecord:
    command = CommandRecord(
        key=f"{GROUP['id']}:{message_id}",
        chat_id=GROUP["id"],
        message_id=message_id,
        user_id=MERCHANT,
        amount=7440,
        currency="THB",
        title=text,
        description=text,
        multiple=False,
        received_at=datetime.now(UTC),
    )
    assert await store.commands.claim_command(command) is None
    return command


async def test_a_create_cut_short_is_finished_after_a_restart(
    chat: Chat,
    store: Store,
    fake_omise: fakes.FakeOmise,
) -> None:
    command = await pending_command(store)
    made = fake_omise.add_link()  # Omise made it; the process died before recording it
    await resume_unfinished(chat.app.bot, services(chat.app))
    [reply] = chat.replies()
    assert made["id"] in reply["text"] and reply["reply_parameters"]["message_id"] == 900
    record = await store.links.get_link(made["id"])
    assert record is not None and record.message_id == chat.last_message()["message_id"]
    # Telegram delivers the command again: nothing new.
    await chat.send("/link 74.40 Hot Latte", chat=GROUP, message_id=command.message_id)
    assert len(fake_omise.links) == 1 and len(chat.replies()) == 1
    assert fake_omise.count("POST /links") == 0


async def test_a_create_that_never_reached_omise_is_reported_after_a_restart(
    chat: Chat,
    store: Store,
    fake_omise: fakes.FakeOmise,
) -> None:
    command = await pending_command(store)
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert "no link was created. It is safe to send the command again" in chat.last_text()
    recorded = await store.commands.claim_command(command)
    assert recorded is not None and recorded.state is CommandState.FAILED
    await chat.send("/link 74.40 Hot Latte", chat=GROUP, message_id=command.message_id)
    assert fake_omise.count("POST /links") == 0 and len(chat.replies()) == 1


async def test_omise_down_while_resuming(
    chat: Chat,
    store: Store,
    fake_omise: fakes.FakeOmise,
) -> None:
    await pending_command(store)
    fake_omise.fail("GET /links", status=503, times=100)
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert "It may exist: look at /links before trying again" in chat.last_text()


async def test_a_link_whose_reply_was_lost_is_sent_after_a_restart(
    chat: Chat,
    store: Store,
    fake_omise: fakes.FakeOmise,
) -> None:
    command = await pending_command(store)
    made = fake_omise.add_link()
    now = datetime.now(UTC)
    await store.commands.finish_command(
        command.key,
        LinkRecord(
            link_id=made["id"],
            chat_id=GROUP["id"],
            message_id=None,
            creator_id=MERCHANT,
            amount=7440,
            currency="THB",
            title="Hot Latte",
            description="Hot Latte",
            multiple=False,
            payment_uri=made["payment_uri"],
            created_at=now,
            recorded_at=now,
        ),
    )
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert made["payment_uri"] in chat.last_text()
    await resume_unfinished(chat.app.bot, services(chat.app))
    assert len(chat.replies()) == 1


# Secrets


@pytest.fixture
def debug_log(tmp_path: Path) -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    logs.configure("DEBUG", make_settings(tmp_path).secrets(), stream=stream)
    for name in ("httpx", "httpcore", "telegram", "linkbot", "aiosqlite", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    yield stream
    root.handlers[:], root.level = saved
    for name in ("httpx", "httpcore", "telegram", "linkbot", "aiosqlite", "sqlalchemy"):
        logging.getLogger(name).setLevel(logging.NOTSET)


async def test_no_secret_in_any_log_line_exception_or_reply(
    debug_log: io.StringIO,
    chat: Chat,
    fake_omise: fakes.FakeOmise,
) -> None:
    await chat.send("/start")
    await chat.send("/link 74.40 Hot Latte", chat=GROUP)
    link_id = next(iter(fake_omise.links))
    await chat.send("/links", chat=GROUP)
    await chat.send(f"/status {link_id}", chat=GROUP)
    await chat.send(f"/cancel {link_id}", chat=GROUP)
    fake_omise.fail(
        "POST /links",
        status=401,
        body={
            "object": "error",
            "code": "authentication_failure",
            "message": "authentication failed",
        },
    )
    await chat.send("/link 20 Tea")
    fake_omise.fail("POST /links", drop=True)
    await chat.send("/link 21 Tea")
    chat.telegram.fail("sendMessage", status=500, times=10)
    await chat.send("/link 22 Tea", chat=GROUP)
    chat.telegram.fail(
        "sendMessage",
        status=401,
        body={"ok": False, "error_code": 401, "description": "Unauthorized"},
        times=10,
    )
    await chat.send("/help")

    written = debug_log.getvalue()
    assert "HTTP Request: POST https://telegram.test/bot[REDACTED]/sendMessage" in written
    assert "Traceback" in written  # the failed sends were logged with their tracebacks
    sent = repr(chat.telegram.calls)
    for secret in (fakes.BOT_TOKEN, fakes.OMISE_KEY, fakes.BOT_TOKEN.split(":")[1]):
        assert secret not in written
        assert secret not in sent
