from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import respx
from telegram import Bot, Update
from telegram.ext import Application

from linkbot.bot import build_application
from linkbot.bot.access import Access
from linkbot.bot.notices import TelegramAnnouncer
from linkbot.commands import parse_link
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.money import CURRENCIES
from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import LinkRecord, Store

# The database fixtures: an SQLite file, or the real PostgreSQL.
pytest_plugins = ["tests.databases"]

OMISE_URL = "https://api.omise.test"
TELEGRAM_URL = "https://telegram.test"
MERCHANT = 1111
CUSTOMER = 2222
GROUP = fakes.group_chat()


async def no_sleep(_: float) -> None:
    return None


async def eventually(
    condition: Callable[[], object],
    within: float = 5.0,
    what: str = "the condition",
    poll: float = 0.02,
) -> float:
    """Seconds until ``condition()`` held, for the fakes and tasks that signal nothing."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, f"{what} did not happen in {within} s"
        await asyncio.sleep(poll)
    return time.monotonic() - started


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_bot_token": fakes.BOT_TOKEN,
        "omise_secret_key": fakes.OMISE_KEY,
        "telegram_api_url": TELEGRAM_URL,
        "omise_api_url": OMISE_URL,
        "linkbot_allowed_users": str(MERCHANT),
        "linkbot_database": tmp_path / "linkbot.db",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(autouse=True)
def no_reply_retry_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("linkbot.bot.delivery.RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    return make_settings(tmp_path, linkbot_database=database)


@pytest.fixture
def fake_omise() -> fakes.FakeOmise:
    return fakes.FakeOmise()


@pytest.fixture
def fake_telegram() -> fakes.FakeTelegram:
    return fakes.FakeTelegram()


@pytest.fixture
def mock_http(
    fake_omise: fakes.FakeOmise, fake_telegram: fakes.FakeTelegram
) -> Iterator[respx.MockRouter]:
    """Every HTTP call goes to the fakes; anything else fails the test."""
    with respx.mock(assert_all_called=False) as router:
        router.route(url__startswith=OMISE_URL).mock(side_effect=fakes.respx_handler(fake_omise))
        router.route(url__startswith=TELEGRAM_URL).mock(
            side_effect=fakes.respx_handler(fake_telegram)
        )
        yield router


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = Store.connect(settings.database)
    await store.initialize()
    yield store
    await store.close()


@pytest.fixture
async def omise(settings: Settings) -> AsyncIterator[OmiseClient]:
    async with OmiseClient(settings.omise_secret_key, base_url=OMISE_URL, sleep=no_sleep) as client:
        yield client


@pytest.fixture
async def other(settings: Settings, store: Store) -> AsyncIterator[Store]:
    """The second instance's store (``store`` is the first's, already migrated)."""
    other = Store.connect(settings.database)
    await other.initialize()
    yield other
    await other.close()


class Queued:
    """An Application's webhook-facing half: a bot to read updates with, and its queue."""

    def __init__(self) -> None:
        self.bot = Bot(fakes.BOT_TOKEN)
        self.update_queue: asyncio.Queue[object] = asyncio.Queue()


@asynccontextmanager
async def link_service_over_http(settings: Settings) -> AsyncIterator[LinkService]:
    """A LinkService of its own store and Omise client, for an app against the served fakes."""
    store = Store.connect(settings.database)
    await store.initialize()
    try:
        async with OmiseClient(
            settings.omise_secret_key, base_url=settings.omise_api_url
        ) as client:
            yield LinkService(client, store, sleep=no_sleep)
    finally:
        await store.close()


@pytest.fixture
def link_service(omise: OmiseClient, store: Store) -> LinkService:
    return LinkService(omise, store, reconcile_delays=(0, 0, 0), sleep=no_sleep)


@pytest.fixture
async def bot(mock_http: respx.MockRouter) -> AsyncIterator[Bot]:
    async with Bot(fakes.BOT_TOKEN, base_url=f"{TELEGRAM_URL}/bot") as bot:
        yield bot


@pytest.fixture
def watcher(omise: OmiseClient, store: Store, bot: Bot, settings: Settings) -> PaymentWatcher:
    return PaymentWatcher(omise, store, TelegramAnnouncer(bot, store, settings.timezone))


async def make_link(
    service: LinkService,
    text: str = "74.40 Hot Latte",
    *,
    multiple: bool = False,
    message_id: int = 77,
    chat_id: int = GROUP["id"],
) -> LinkRecord:
    """A link made by the merchant's command in a chat, its reply posted as ``message_id``."""
    request = parse_link(text, default_currency=CURRENCIES["THB"], multiple=multiple)
    created = await service.create(
        request, chat_id=chat_id, message_id=message_id, creator_id=MERCHANT
    )
    assert created is not None
    return await service.record_reply(created.record, message_id)


class Chat:
    """Drives the real Application with updates shaped as Telegram sends them."""

    def __init__(self, app: Application, telegram: fakes.FakeTelegram) -> None:  # type: ignore[type-arg]
        self.app = app
        self.telegram = telegram

    async def feed(self, data: dict[str, Any]) -> None:
        self.telegram.note_private_chat(data)
        await self.app.process_update(Update.de_json(data, self.app.bot))

    async def send(
        self,
        text: str,
        *,
        user_id: int = MERCHANT,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
        message_id: int | None = None,
        language_code: str = "en",
    ) -> dict[str, Any]:
        update = fakes.command_update(
            text,
            user_id=user_id,
            chat=chat or fakes.private_chat(user_id),
            reply_to=reply_to,
            message_id=message_id,
            language_code=language_code,
        )
        await self.feed(update)
        return update

    async def press(
        self,
        data: str,
        message: dict[str, Any],
        *,
        user_id: int = MERCHANT,
        language_code: str = "en",
    ) -> None:
        update = fakes.callback_update(
            data, user_id=user_id, message=message, language_code=language_code
        )
        await self.feed(update)

    async def type_inline(self, query: str, *, user_id: int = MERCHANT) -> dict[str, Any]:
        """The user types ``@bot <query>`` in some chat; returns the inline query."""
        update = fakes.inline_query_update(query, user_id=user_id)
        self.telegram.note_inline_query(update)
        await self.feed(update)
        return dict(update["inline_query"])

    async def choose(self, result_id: str) -> dict[str, Any]:
        """The user sends an offered result; Telegram posts it and reports the choice."""
        update = self.telegram.post_inline_result(result_id)
        await self.feed(update)
        return dict(update["chosen_inline_result"])

    def replies(self) -> list[dict[str, Any]]:
        return self.telegram.sent("sendMessage")

    def last_reply(self) -> dict[str, Any]:
        replies = self.replies()
        assert replies, "the bot sent no message"
        return replies[-1]

    def last_text(self) -> str:
        return str(self.last_reply()["text"])

    def last_message(self) -> dict[str, Any]:
        """The message Telegram made of the bot's last sendMessage (to reply to or press)."""
        assert self.telegram.messages, "the bot sent no message"
        return self.telegram.messages[-1]


class Clock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def access() -> Access | None:
    """Who may do what in ``chat``; None takes it from the settings, as the bot does."""
    return None


@pytest.fixture
async def chat(
    settings: Settings,
    link_service: LinkService,
    mock_http: respx.MockRouter,
    fake_telegram: fakes.FakeTelegram,
    access: Access | None,
) -> AsyncIterator[Chat]:
    app = build_application(settings, link_service, rate_limiter=None, access=access)
    async with app:
        yield Chat(app, fake_telegram)
