"""What the process benchmark reads, and the log set-up it measured."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.process import cpu_of, memory_kib, parse_env, percentile
from linkbot import logs
from linkbot.sandbox import fakes


def test_cpu_time_of_this_process_grows_with_work() -> None:
    before = cpu_of(os.getpid())
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:
        pass
    spent = cpu_of(os.getpid()) - before
    # Clock ticks are 10 ms, and the process's and the thread's counts are read
    # one after the other: allow for a few.
    assert 0.15 <= spent.total <= 2.0
    assert 0.15 <= spent.main_thread <= spent.total + 0.05


def test_memory_is_read_in_kib() -> None:
    found = memory_kib(os.getpid())
    assert 1_000 < found["VmRSS"] <= found["VmHWM"] < 10_000_000


def test_percentiles_of_a_hundred_values() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) in (50.0, 51.0)
    assert percentile(values, 0.99) == 99.0
    assert percentile([3.0], 0.99) == 3.0


def test_settings_passed_as_name_value_pairs() -> None:
    assert parse_env(["LINKBOT_LOG_LEVEL=DEBUG", "A=b=c"]) == {
        "LINKBOT_LOG_LEVEL": "DEBUG",
        "A": "b=c",
    }
    with pytest.raises(SystemExit):
        parse_env(["LINKBOT_LOG_LEVEL"])


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    yield
    root.handlers[:], root.level = saved
    for name in ("httpx", "httpcore", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.usefixtures("restored_logging")
def test_debug_logging_leaves_out_the_database_threads_chatter() -> None:
    stream = io.StringIO()
    logs.configure("DEBUG", [], stream=stream)
    logging.getLogger("aiosqlite").debug("executing functools.partial(...)")
    logging.getLogger("linkbot.store").debug("kept")
    logging.getLogger("aiosqlite").warning("a warning still shows")
    written = stream.getvalue()
    assert "executing" not in written
    assert "kept" in written and "a warning still shows" in written


CA_LOADS = """
import ssl

loads = []
load = ssl.SSLContext.load_verify_locations


def counting(self, *args, **kwargs):
    loads.append(args)
    return load(self, *args, **kwargs)


ssl.SSLContext.load_verify_locations = counting

from linkbot.__main__ import omise_client
from linkbot.bot import build_application
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.store import Store

settings = Settings()
build_application(settings, LinkService(omise_client(settings), Store.sqlite(":memory:")))
print(len(loads))
"""


def test_the_process_loads_the_ca_bundle_once(tmp_path: Path) -> None:
    # In a fresh interpreter: the shared context is made once per process.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN,
        "OMISE_SECRET_KEY": fakes.OMISE_KEY,
    }
    result = subprocess.run(
        [sys.executable, "-c", CA_LOADS],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # Telegram's two connection pools and Omise's share one.
    assert result.stdout.strip() == "1"


def test_the_figures_command_runs_with_tiny_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    # The harness only: one set-up, a handful of commands, Omise answering at once.
    from benchmarks import figures

    figures.main(
        [
            *("--burst-commands", "4", "--burst-users", "2", "--burst-chats", "2"),
            *("--cpu-commands", "2", "--store-commands", "4", "--latency", "0"),
            *("--modes", "webhook", "--databases", "sqlite", "--settle", "0.1"),
            # This interpreter, not a fresh install: the suite stays offline.
            *("--python", sys.executable),
        ]
    )
    printed = capsys.readouterr().out
    assert "webhook  sqlite" in printed
    assert "links made" in printed
    assert "4 replies in 2 groups out no sooner than 0.00 s after the first" in printed
    # A burst with replies missing shows "answered/sent!" instead of a time.
    assert "/4!" not in printed
    assert "Store time per /link command" in printed


def test_telegrams_flood_limit_paces_a_burst_after_its_first_second() -> None:
    from benchmarks.figures import telegram_floor

    assert telegram_floor(30) == 0
    assert telegram_floor(200) == pytest.approx(170 / 30)
    # 20 in the busiest group: a group's minute allows them all at once.
    assert telegram_floor(200, 20) == pytest.approx(170 / 30)
    # 40 in one group: its last 20 go one every 3 s.
    assert telegram_floor(200, 40) == pytest.approx(60)


def test_the_burst_floor_counts_the_group_that_gets_the_most() -> None:
    import argparse

    from benchmarks.figures import busiest_group

    def burst(users: int, chats: int) -> argparse.Namespace:
        return argparse.Namespace(burst_commands=200, burst_users=users, burst_chats=chats)

    assert busiest_group(burst(50, 10)) == 20
    # 15 users in 10 groups: five groups have two users each.
    assert busiest_group(burst(15, 10)) == 27
    assert busiest_group(burst(50, 0)) == 0
