"""Every figure of the production set-up, in one table: polling and webhook, SQLite and PostgreSQL.

Run from the repository root:  python -m benchmarks

For each database (an SQLite file; a database of its own on the PostgreSQL
server at --postgresql, dropped after) and each way of taking updates
(polling; webhook, the updates POSTed to the bot as Telegram does, one
chat's after the other and chats side by side), the real ``linkbot``
process is started twice against the local fakes, Omise answering in
--latency seconds:

- burst: --burst-commands ``/link`` at once, from --burst-users users
  taking turns in --burst-chats groups: the time until every one was
  answered, and the 99th percentile of the time from a command to its reply;
- CPU: --cpu-commands users each send one ``/link`` from a private chat,
  10 ms apart: the process's CPU time (user + system, every thread) per
  command, and its event loop thread's share;
- start-up, from starting the process to the answer of a ``/link`` already
  waiting, and the resident memory then and at its peak (the larger of the
  two runs). The schema is made before the process starts: the start-up of
  a restart, as after a deploy.

Then the store's own time per ``/link`` command on each engine, as
``python -m benchmarks.store`` measures it (CPU of the event loop thread, and
wall time, 10 commands at a time).

The bot measured is installed as a merchant installs it: a fresh virtualenv
with ``pip install '.[postgres]'`` and nothing else (the test dependencies
change what the libraries load: with trio installed, httpcore imports it).
``--python`` measures another installation instead.

The goals: all burst replies within 1.5 s, 12 ms of CPU per command,
start-up within 1.5 s, 90 MiB of memory. Beside the burst's replies, the
time its last link was made, the bot's own work, held to the same 1.5 s. Its
replies go out no faster than Telegram's flood limits let them (about 30
messages a second, 20 a minute in a group, paced by the bot), and the table
says how soon those limits let the last one go.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks import process, store
from linkbot.store import Store

ROOT = Path(__file__).resolve().parent.parent
MODES = ("polling", "webhook")
# AIORateLimiter's pace, Telegram's documented flood limits: this many messages
# a second overall, and a minute in one group, each limit's worth at once.
TELEGRAM_MESSAGES_A_SECOND = 30
TELEGRAM_MESSAGES_A_MINUTE_IN_A_GROUP = 20
DATABASES = ("sqlite", "postgresql")
GOALS = {"burst_s": 1.5, "cpu_ms": 12.0, "startup_s": 1.5, "rss_mib": 90.0}


@dataclass(frozen=True)
class Row:
    mode: str
    database: str
    burst: process.Figures
    cpu: process.Figures

    @property
    def startup(self) -> float:
        return self.cpu.startup

    @property
    def rss_at_start_mib(self) -> float:
        return max(f.memory_at_start["VmRSS"] for f in (self.burst, self.cpu)) / 1024

    @property
    def peak_rss_mib(self) -> float:
        return max(f.memory["VmHWM"] for f in (self.burst, self.cpu)) / 1024


async def _prepare(database: str) -> None:
    prepared = Store.connect(database)
    try:
        await prepared.initialize()
    finally:
        await prepared.close()


@contextlib.contextmanager
def database_for(kind: str, server: str) -> Iterator[str]:
    """A fresh database of ``kind`` with the current schema: its LINKBOT_DATABASE value."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "linkbot.db")
            asyncio.run(_prepare(path))
            yield path
        return
    with store.postgresql_database(server) as url:
        asyncio.run(_prepare(url))
        yield url


@contextlib.contextmanager
def merchant_installation() -> Iterator[str]:
    """The interpreter of a fresh virtualenv holding ``pip install '.[postgres]'``."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = str(venv / "bin" / "python")
        installed = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", f"{ROOT}[postgres]"], cwd=tmp
        )
        if installed.returncode:
            raise SystemExit(
                "Could not install the bot in a fresh virtualenv (pip needs its package"
                " index); pass --python with an installation's interpreter instead."
            )
        yield python


def telegram_floor(replies: int, in_busiest_group: int = 0) -> float:
    """How soon after the first of ``replies`` Telegram's flood limits let the last go.

    ``in_busiest_group``: how many of them go to the group that gets the most
    (0: all to private chats).
    """
    overall = max(0, replies - TELEGRAM_MESSAGES_A_SECOND) / TELEGRAM_MESSAGES_A_SECOND
    per_group = max(0, in_busiest_group - TELEGRAM_MESSAGES_A_MINUTE_IN_A_GROUP) * (
        60 / TELEGRAM_MESSAGES_A_MINUTE_IN_A_GROUP
    )
    return max(overall, per_group)


def busiest_group(args: argparse.Namespace) -> int:
    """How many of the burst's commands the busiest group gets (0: no groups)."""
    if not args.burst_chats:
        return 0
    commands = process.commands_for(args.burst_commands, args.burst_users, args.burst_chats)
    return max(Counter(command.chat for command in commands).values())


def measure_row(args: argparse.Namespace, mode: str, kind: str) -> Row:
    common = {
        "latency": args.latency,
        "mode": mode,
        "webhook_path": process.WEBHOOK_PATH,
        "webhook_secret": "figures-webhook-secret",
        "env": {},
        "python": args.python,
        "settle": args.settle,
    }
    with database_for(kind, args.postgresql) as database:
        burst = process.measure(
            process.Options(
                commands=args.burst_commands,
                users=args.burst_users,
                chats=args.burst_chats,
                pace=0.0,
                database=database,
                **common,  # type: ignore[arg-type]
            )
        )
    with database_for(kind, args.postgresql) as database:
        cpu = process.measure(
            process.Options(
                commands=args.cpu_commands,
                pace=0.01,
                database=database,
                **common,  # type: ignore[arg-type]
            )
        )
    return Row(mode, kind, burst, cpu)


def _mark(value: float, goal: str) -> str:
    return " " if value <= GOALS[goal] else "!"


def print_table(args: argparse.Namespace, rows: list[Row]) -> None:
    print()
    print(
        f"Burst: {args.burst_commands} /link from {args.burst_users} users in"
        f" {args.burst_chats} groups at once. CPU: {args.cpu_commands} /link from as many"
        f" users, 10 ms apart. Omise answers in {args.latency * 1000:.0f} ms."
    )
    print("'!' marks a figure over its goal.")
    header = (
        f"{'mode':<9}{'database':<11}{'links made':>11}{'all replied':>12}{'p99':>10}"
        f"{'CPU/cmd':>10}{'on loop':>9}{'start-up':>10}{'RSS':>9}{'peak RSS':>10}"
    )
    print(header)
    for row in rows:
        burst, cpu = row.burst, row.cpu
        answered = f"{burst.all_answered:.2f} s{_mark(burst.all_answered, 'burst_s')}"
        if len(burst.latencies) < burst.commands:
            answered = f"{len(burst.latencies)}/{burst.commands}!"
        made = f"{burst.links_made:.2f} s{_mark(burst.links_made, 'burst_s')}"
        if burst.links < burst.commands:
            made = f"{burst.links}/{burst.commands}!"
        per_command = cpu.cpu_per_command * 1000
        loop = cpu.cpu.main_thread / cpu.commands * 1000
        print(
            f"{row.mode:<9}{row.database:<11}{made:>11}{answered:>12}"
            f"{burst.p(0.99):>8.2f} s"
            f"{per_command:>7.1f} ms{_mark(per_command, 'cpu_ms')}{loop:>6.1f} ms"
            f"{row.startup:>7.2f} s{_mark(row.startup, 'startup_s')}"
            f"{row.rss_at_start_mib:>6.1f} MiB{_mark(row.rss_at_start_mib, 'rss_mib')}"
            f"{row.peak_rss_mib:>6.1f} MiB"
        )
    print(
        f"Telegram's flood limits ({TELEGRAM_MESSAGES_A_SECOND} messages a second,"
        f" {TELEGRAM_MESSAGES_A_MINUTE_IN_A_GROUP} a minute in a group) let"
        f" {args.burst_commands} replies in {args.burst_chats} groups out no sooner than"
        f" {telegram_floor(args.burst_commands, busiest_group(args)):.2f} s after the first."
    )


def store_figures(args: argparse.Namespace, kinds: list[str]) -> None:
    found: dict[str, dict[str, float] | None] = {}
    if "sqlite" in kinds:
        found["sqlite"] = store.on_sqlite(args.store_commands, 10)
    if "postgresql" in kinds:
        found["postgresql"] = store.on_postgresql(args.postgresql, args.store_commands, 10)
    print()
    print(
        f"Store time per /link command ({args.store_commands} commands, 10 at a time:"
        " note the user and chat, claim, record the link and finish, note the reply):"
    )
    print(f"{'database':<11}{'CPU/cmd':>11}{'wall/cmd':>11}{'median':>11}{'p99':>11}")
    for kind, figures in found.items():
        if figures is not None:
            print(
                f"{kind:<11}"
                + "".join(
                    f"{figures[name]:>8.1f} ms"
                    for name in ("cpu_ms", "wall_ms", "median_ms", "p99_ms")
                )
            )


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    found.add_argument("--latency", type=float, default=0.3, help="Omise's answer time, s")
    found.add_argument("--burst-commands", type=int, default=200)
    found.add_argument("--burst-users", type=int, default=50)
    found.add_argument("--burst-chats", type=int, default=10)
    found.add_argument("--cpu-commands", type=int, default=100)
    found.add_argument("--store-commands", type=int, default=200)
    found.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    found.add_argument("--databases", nargs="+", choices=DATABASES, default=list(DATABASES))
    found.add_argument("--postgresql", default=store.DEFAULT_SERVER, help="the server to use")
    found.add_argument(
        "--settle", type=float, default=1.0, help="seconds to let start-up work end, then idle"
    )
    found.add_argument(
        "--python", help="the bot's interpreter (default: a fresh install of this checkout)"
    )
    return found


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    kinds = list(args.databases)
    if "postgresql" in kinds:
        reason = store.postgresql_answers(args.postgresql)
        if reason is not None:
            print(f"PostgreSQL at {args.postgresql} left out: {reason}")
            kinds.remove("postgresql")
    rows = []
    with contextlib.ExitStack() as stack:
        if args.python is None:
            print("installing the bot in a fresh virtualenv ...", flush=True)
            args.python = stack.enter_context(merchant_installation())
        for kind in kinds:
            for mode in args.modes:
                print(f"measuring {mode} on {kind} ...", flush=True)
                rows.append(measure_row(args, mode, kind))
    print_table(args, rows)
    store_figures(args, kinds)
    return 0
