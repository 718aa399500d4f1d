"""CPU per command, start-up to the first answer, and memory of the real linkbot process.

Run from the repository root:  python -m benchmarks.process [--commands 100] [--latency 0.3]

Starts the real ``linkbot`` process against the local fake Bot API and Omise
servers on 127.0.0.1 and prints:

- start-up: from starting the process to the answer of a ``/link`` that was
  already waiting when it started;
- CPU per command: user + system CPU time of the bot process (from
  ``/proc/<pid>/stat``) while ``--commands`` users each send one ``/link``,
  divided by the number of commands, and the wall time from sending each
  command to its reply (p50, p99);
- memory: resident set size after the run, and its peak.

The same run can be made in other set-ups: ``--database`` sets ``LINKBOT_DATABASE``
(a path, or a ``postgresql://`` URL), ``--mode webhook`` delivers the updates by
POSTing them to the bot's Telegram webhook instead of through ``getUpdates``,
``--env NAME=VALUE`` passes any other setting, ``--python`` runs another
installation's interpreter (one without the test dependencies, as in
production), and ``--log`` keeps the bot's log.

Linux only: the figures are read from ``/proc``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkbot.sandbox import fakes
from tests.process import BotProcess

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIRST_USER = 10_000


@dataclass(frozen=True)
class Options:
    commands: int
    latency: float
    mode: str
    database: str | None
    webhook_path: str
    webhook_secret: str
    pace: float
    env: dict[str, str]
    log: Path | None = None
    python: str = sys.executable


@dataclass(frozen=True)
class Cpu:
    """CPU seconds of a process: user and system time, and the event loop's share."""

    user: float
    system: float
    main_thread: float

    @property
    def total(self) -> float:
        return self.user + self.system

    def __sub__(self, other: Cpu) -> Cpu:
        return Cpu(
            self.user - other.user,
            self.system - other.system,
            self.main_thread - other.main_thread,
        )


def _user_system(stat_path: Path) -> tuple[float, float]:
    stat = stat_path.read_text()
    # The command name may hold spaces: the fields to read follow its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS


def cpu_of(pid: int) -> Cpu:
    """CPU time of ``pid``, all its threads included; the main thread runs the event loop."""
    user, system = _user_system(Path(f"/proc/{pid}/stat"))
    main = sum(_user_system(Path(f"/proc/{pid}/task/{pid}/stat")))
    return Cpu(user, system, main)


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) of ``pid``, in KiB."""
    found: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            found[name] = int(value.split()[0])
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def link_update(user: int, note: str = "") -> dict[str, Any]:
    return fakes.command_update(
        f"/link 74.40 Latte {note}for {user}", user_id=user, chat=fakes.private_chat(user)
    )


class InstalledBot(BotProcess):
    """The bot run by another interpreter: an installation without the test dependencies."""

    def __init__(self, python: str, *args: Any, **env: str) -> None:
        super().__init__(*args, **env)
        self.python = python

    def start(self) -> BotProcess:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [self.python, "-m", "linkbot"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return self


class Feeder:
    """Delivers updates to the bot the way the chosen mode receives them."""

    def __init__(self, options: Options, telegram: fakes.FakeTelegram) -> None:
        self.options = options
        self.telegram = telegram
        self.port = free_port()

    def settings(self) -> dict[str, str]:
        if self.options.mode == "polling":
            return {}
        return {
            "LINKBOT_HTTP_LISTEN": f"127.0.0.1:{self.port}",
            # Telegram is never asked to reach this address: the fake only records setWebhook.
            "LINKBOT_WEBHOOK_URL": "https://linkbot.invalid",
            "LINKBOT_WEBHOOK_SECRET": self.options.webhook_secret,
        }

    def deliver(self, update: dict[str, Any]) -> None:
        if self.options.mode == "polling":
            self.telegram.push(update)
            return
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{self.options.webhook_path}",
            data=json.dumps(update).encode(),
            headers={
                "Content-Type": "application/json",
                "X-Telegram-Bot-Api-Secret-Token": self.options.webhook_secret,
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        if self.options.mode == "polling":
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.01)
        raise RuntimeError("the bot's HTTP listener did not come up")


class ReplyClock:
    """Notes when each chat's first message arrives at the fake Bot API, while updates go out."""

    def __init__(self, telegram: fakes.FakeTelegram) -> None:
        self.telegram = telegram
        self.first: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ReplyClock:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        counted = 0
        while not self._stop.is_set():
            messages = self.telegram.messages
            now = time.monotonic()
            for message in messages[counted:]:
                self.first.setdefault(str(message["chat"]["id"]), now)
            counted = len(messages)
            time.sleep(0.002)

    def wait(self, chats: set[str], timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        while not chats <= self.first.keys() and time.monotonic() < deadline:
            time.sleep(0.01)
        return {chat: self.first[chat] for chat in chats if chat in self.first}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(options: Options) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise(latency=options.latency)
    first = FIRST_USER - 1
    users = [FIRST_USER + n for n in range(options.commands)]
    feeder = Feeder(options, telegram)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fakes.serve(telegram) as telegram_url,
        fakes.serve(omise) as omise_url,
        ReplyClock(telegram) as replies,
    ):
        env = {
            "LINKBOT_ALLOWED_USERS": ",".join(map(str, [first, *users])),
            "LINKBOT_LOG_LEVEL": "INFO",
            **feeder.settings(),
            **options.env,
        }
        if options.database:
            env["LINKBOT_DATABASE"] = options.database
        bot = InstalledBot(options.python, Path(tmp), telegram_url, omise_url, **env)
        if options.mode == "polling":
            # Waiting before the process starts: the first getUpdates returns it.
            feeder.deliver(link_update(first, "at start-up "))
        started = time.monotonic()
        bot.start()
        assert bot.proc is not None
        pid = bot.proc.pid
        try:
            if options.mode != "polling":
                feeder.wait_until_ready()
                feeder.deliver(link_update(first, "at start-up "))
            got = replies.wait({str(first)}, 30)
            if not got:
                raise RuntimeError(f"no answer to the first /link; the log:\n{bot.log()}")
            startup = got[str(first)] - started
            memory_at_start = memory_kib(pid)
            # Let the start-up work (the watcher's first pass, the menu) settle first.
            time.sleep(1.0)
            idle_from = cpu_of(pid)
            time.sleep(1.0)
            idle = (cpu_of(pid) - idle_from).total

            sent: dict[str, float] = {}
            cpu_from = cpu_of(pid)
            wall_from = time.monotonic()
            for user in users:
                sent[str(user)] = time.monotonic()
                feeder.deliver(link_update(user))
                if options.pace:
                    time.sleep(options.pace)
            got = replies.wait(set(sent), 120)
            wall = max(got.values(), default=time.monotonic()) - wall_from
            cpu = cpu_of(pid) - cpu_from
            memory = memory_kib(pid)
        finally:
            code = bot.stop()
            if options.log:
                shutil.copyfile(bot.log_path, options.log)
    latencies = [got[chat] - sent[chat] for chat in got]
    # Polling for updates and payments costs a little CPU when nothing happens; not a command's.
    idle_share = idle * wall
    print(f"interpreter:               {options.python}")
    print(f"mode:                      {options.mode}")
    print(f"database:                  {options.database or 'SQLite (default)'}")
    print(f"Omise latency:             {options.latency * 1000:.0f} ms")
    print(f"start-up to first answer:  {startup:.2f} s")
    print(f"RSS after start-up:        {memory_at_start['VmRSS'] / 1024:.1f} MiB")
    print(f"commands:                  {options.commands} from {len(users)} users")
    print(f"answered:                  {len(latencies)}")
    per_command = 1000 / options.commands
    print(f"process CPU per command:   {cpu.total * per_command:.1f} ms")
    user, system = cpu.user * per_command, cpu.system * per_command
    print(f"  user, system:            {user:.1f}, {system:.1f} ms")
    print(f"  on the event loop:       {cpu.main_thread * per_command:.1f} ms")
    print(f"  less idle polling:       {(cpu.total - idle_share) * per_command:.1f} ms")
    print(f"idle CPU:                  {idle * 1000:.0f} ms a second")
    if latencies:
        print(f"latency p50:               {statistics.median(latencies) * 1000:.0f} ms")
        print(f"latency p99:               {percentile(latencies, 0.99) * 1000:.0f} ms")
    print(f"all answered after:        {wall:.2f} s")
    print(f"RSS after the run:         {memory['VmRSS'] / 1024:.1f} MiB")
    print(f"peak RSS:                  {memory['VmHWM'] / 1024:.1f} MiB")
    print(f"exit code:                 {code}")


def parse_env(pairs: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--env takes NAME=VALUE, not {pair!r}")
        env[name] = value
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--commands", type=int, default=100, help="one /link from each user")
    parser.add_argument("--latency", type=float, default=0.3, help="Omise's answer time, s")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--database", help="LINKBOT_DATABASE: a path or a postgresql:// URL")
    parser.add_argument(
        "--webhook-path", default="/telegram", help="where the bot takes Telegram's updates"
    )
    parser.add_argument("--webhook-secret", default="benchmark-webhook-secret")
    parser.add_argument(
        "--pace", type=float, default=0.01, help="seconds between two commands (0: all at once)"
    )
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--log", type=Path, help="keep the bot's log in this file")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter of the installation to run (default: this one)",
    )
    args = parser.parse_args(argv)
    run(
        Options(
            commands=args.commands,
            latency=args.latency,
            mode=args.mode,
            database=args.database,
            webhook_path=args.webhook_path,
            webhook_secret=args.webhook_secret,
            pace=args.pace,
            env=parse_env(args.env),
            log=args.log,
            python=args.python,
        )
    )


if __name__ == "__main__":
    main()
