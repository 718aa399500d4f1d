"""``linkbot try``: the real bot against simulated Telegram and Omise, with the chat page.

Nothing is read from the environment or ``.env``: the simulators' own token
and key are used, the store is ``linkbot-try.db`` in the working directory
(started afresh each time, as the simulators are), and nothing leaves
127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import threading
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import ClassVar

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from linkbot import logs
from linkbot.config import Settings
from linkbot.sandbox import fakes
from linkbot.sandbox.chats import MERCHANT, SandboxTelegram
from linkbot.sandbox.page import Checkout, create_page
from linkbot.web import WebServer

DEFAULT_PORT = 8765
DATABASE = Path("linkbot-try.db")
EXIT_CONFIG = 2
# The watcher looks for payments this often, so a paid link turns within a second or two.
POLL_INTERVAL = 1.0


class SandboxSettings(Settings):
    """Settings made only of what is passed in: no environment, no ``.env``."""

    sandbox: ClassVar[bool] = True

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def sandbox_settings(telegram_url: str, omise_url: str, database: Path) -> SandboxSettings:
    return SandboxSettings(
        telegram_bot_token=fakes.BOT_TOKEN,
        omise_secret_key=fakes.OMISE_KEY,
        telegram_api_url=telegram_url,
        omise_api_url=omise_url,
        linkbot_allowed_users=str(MERCHANT.user_id),
        linkbot_database=database,
        linkbot_poll_interval=POLL_INTERVAL,
        linkbot_sweep_interval=60.0,
    )


# The bot's run(settings, stop): it stops when ``stop`` is set.
RunBot = Callable[[Settings, asyncio.Event], Awaitable[int]]


def main(run_bot: RunBot, *, port: int = DEFAULT_PORT, open_browser: bool = True) -> int:
    ignore_proxies()
    try:
        return asyncio.run(serve(run_bot, DATABASE.resolve(), port=port, open_browser=open_browser))
    except KeyboardInterrupt:  # Ctrl-C before the loop took over the signals
        return 0


def ignore_proxies() -> None:
    """Every call the sandbox makes is to this machine: no proxy from the environment.

    "*" rather than a list of hosts: with it httpx sets up no proxy at all, so a
    SOCKS ``ALL_PROXY`` cannot fail the clients' creation either.
    """
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"


async def serve(run_bot: RunBot, database: Path, *, port: int, open_browser: bool) -> int:
    """Start the simulators and the page, then run the bot until SIGINT or SIGTERM."""
    # First of all: a Ctrl-C while starting must stop it, not be lost between the
    # event loop's own handler and the bot's.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    omise, telegram = fakes.FakeOmise(), SandboxTelegram()
    url = f"http://127.0.0.1:{port}"
    omise.payment_base = f"{url}/pay"
    checkout = Checkout(omise)
    with fakes.serve(omise) as omise_url, fakes.serve(telegram) as telegram_url:
        settings = sandbox_settings(telegram_url, omise_url, database)
        logs.configure(settings.linkbot_log_level, settings.secrets())
        page = WebServer(create_page(telegram, checkout, settings.timezone), f"127.0.0.1:{port}")
        try:
            await page.start()
        except OSError as exc:
            print(f"linkbot try: {exc} (is another sandbox running? try --port)", file=sys.stderr)
            return EXIT_CONFIG
        try:
            if stop.is_set():
                return 0
            # Only once the port is ours: a second sandbox in this directory must not
            # pull the records from under the first.
            await asyncio.to_thread(_start_afresh, database)
            print(
                f"linkbot sandbox: open {url} (simulated Telegram and Omise, test mode; "
                "nothing is real). Ctrl-C stops it.",
                flush=True,
            )
            if open_browser and _has_display():
                # A console browser would block; a thread keeps start-up from waiting on it.
                threading.Thread(target=_open, args=(url,), daemon=True).start()
            # Waiting for the bot's first getUpdates: the merchant's business chat is ready.
            telegram.open_business()
            # Set already, the bot stops as soon as it has started.
            return await run_bot(settings, stop)
        finally:
            await checkout.aclose()
            await page.stop()


def _start_afresh(database: Path) -> None:
    """The simulators start empty each time, so the sandbox's records do too."""
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)


def _has_display() -> bool:
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open(url: str) -> None:
    with contextlib.suppress(Exception):
        webbrowser.open(url)
