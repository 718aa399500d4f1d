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
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkbot.config import WEBHOOK_PATH
from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port, wait_until_serving

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIRST_USER = 10_000
GROUP = -1001000000000


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
    # Users taking turns to send the commands (None: one each), and groups they
    # write in (0: each user in a private chat).
    users: int | None = None
    chats: int = 0
    # Seconds for the start-up work to end, then as long to read the idle CPU.
    settle: float = 1.0


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


def link_update(user: int, note: str = "") -> dict[str, Any]:
    return fakes.command_update(
        f"/link 74.40 Latte {note}for {user}", user_id=user, chat=fakes.private_chat(user)
    )


class InstalledBot(BotProcess):
    """The bot run by another interpreter: an installation without the test dependencies."""

    def __init__(
        self, python: str, workdir: Path, telegram_url: str, omise_url: str, **env: str
    ) -> None:
        super().__init__(workdir, telegram_url, omise_url, python, **env)
        # The installation's own packages, not this checkout's.
        for name in ("PYTHONPATH", "PYTHONHOME"):
            self.env.pop(name, None)


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

    def deliver_all(self, updates: list[dict[str, Any]], chats: list[str]) -> list[float]:
        """Deliver ``updates`` (of ``chats``), paced or all at once; returns when each went."""
        if self.options.pace:
            sent = []
            for update in updates:
                sent.append(time.monotonic())
                self.deliver(update)
                time.sleep(self.options.pace)
            return sent
        if self.options.mode == "polling":
            # One getUpdates answer carries them all.
            now = time.monotonic()
            self.telegram.push_batch(updates)
            return [now] * len(updates)
        # Telegram posts a chat's updates one after the other, and chats side by side.
        sent = [0.0] * len(updates)
        queues: dict[str, list[int]] = {}
        for n, chat in enumerate(chats):
            queues.setdefault(chat, []).append(n)

        def post(queue: list[int]) -> None:
            for n in queue:
                sent[n] = time.monotonic()
                self.deliver(updates[n])

        with ThreadPoolExecutor(max_workers=len(queues)) as pool:
            list(pool.map(post, queues.values()))
        return sent

    def wait_until_ready(self, bot: BotProcess) -> None:
        if self.options.mode == "polling":
            return
        # Polled finely: the wait counts in the start-up figure.
        wait_until_serving(f"http://127.0.0.1:{self.port}", bot, poll=0.01)


class TimedOmise(fakes.FakeOmise):
    """The fake Omise, noting when it answers each link it makes (its latency after the request)."""

    def __init__(self, latency: float) -> None:
        super().__init__(latency=latency)
        self.links_answered: list[float] = []

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> fakes.Answer:
        answer = super().handle(method, target, headers, body)
        made = method == "POST" and target.startswith("/links") and answer.status == 200
        if made and not answer.drop:
            with self._lock:
                self.links_answered.append(time.monotonic() + answer.delay)
        return answer


class ReplyClock:
    """Notes when each message the bot sends arrives at the fake Bot API, by chat."""

    def __init__(self, telegram: fakes.FakeTelegram) -> None:
        self.telegram = telegram
        self.arrived: dict[str, list[float]] = {}
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
                self.arrived.setdefault(str(message["chat"]["id"]), []).append(now)
            counted = len(messages)
            time.sleep(0.002)

    def wait(self, expected: dict[str, int], timeout: float) -> dict[str, list[float]]:
        """The times of the first ``expected[chat]`` messages in each chat (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(
            len(self.arrived.get(chat, ())) < count for chat, count in expected.items()
        ):
            time.sleep(0.01)
        return {chat: self.arrived.get(chat, [])[:count] for chat, count in expected.items()}


@dataclass(frozen=True)
class Command:
    chat: str
    update: dict[str, Any]


def commands_for(count: int, users: int, chats: int) -> list[Command]:
    """``count`` /link commands, from ``users`` users taking turns.

    With ``chats`` 0, each user writes in their own private chat; otherwise
    user n writes in group n % chats.
    """
    found = []
    for n in range(count):
        user = FIRST_USER + n % users
        chat = fakes.private_chat(user) if not chats else fakes.group_chat(GROUP - user % chats)
        update = fakes.command_update(
            f"/link 74.40 Latte no. {n} from {user}", user_id=user, chat=chat
        )
        found.append(Command(str(chat["id"]), update))
    return found


@dataclass(frozen=True)
class Figures:
    """What one run of the real process measured; times in seconds, memory in KiB."""

    options: Options
    startup: float
    memory_at_start: dict[str, int]
    idle_cpu: float
    cpu: Cpu
    commands: int
    latencies: list[float]
    all_answered: float
    # From the first command sent to Omise's answer to the last link: the bot's
    # own work, before Telegram's flood limits pace the replies.
    links_made: float
    links: int
    memory: dict[str, int]
    exit_code: int

    @property
    def cpu_per_command(self) -> float:
        return self.cpu.total / self.commands

    def p(self, share: float) -> float:
        return percentile(self.latencies, share) if self.latencies else float("nan")


def measure(options: Options) -> Figures:
    telegram, omise = fakes.FakeTelegram(), TimedOmise(options.latency)
    first = FIRST_USER - 1
    users = options.users or options.commands
    commands = commands_for(options.commands, users, options.chats)
    feeder = Feeder(options, telegram)
    with (
        tempfile.TemporaryDirectory() as tmp,
        fakes.serve(telegram) as telegram_url,
        fakes.serve(omise) as omise_url,
        ReplyClock(telegram) as replies,
    ):
        env = {
            "LINKBOT_ALLOWED_USERS": ",".join(
                map(str, [first, *range(FIRST_USER, FIRST_USER + users)])
            ),
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
                feeder.wait_until_ready(bot)
                feeder.deliver(link_update(first, "at start-up "))
            got = replies.wait({str(first): 1}, 30)
            if not got[str(first)]:
                raise RuntimeError(f"no answer to the first /link; the log:\n{bot.log()}")
            startup = got[str(first)][0] - started
            memory_at_start = memory_kib(pid)
            # Let the start-up work (the watcher's first pass, the menu) settle first.
            time.sleep(options.settle)
            idle_from = cpu_of(pid)
            time.sleep(options.settle)
            idle = (cpu_of(pid) - idle_from).total / options.settle

            cpu_from = cpu_of(pid)
            wall_from = time.monotonic()
            links_before = len(omise.links_answered)
            sent = feeder.deliver_all([c.update for c in commands], [c.chat for c in commands])
            expected: dict[str, int] = {}
            for command in commands:
                expected[command.chat] = expected.get(command.chat, 0) + 1
            got = replies.wait(expected, 120)
            cpu = cpu_of(pid) - cpu_from
            memory = memory_kib(pid)
        finally:
            code = bot.stop()
            if options.log:
                shutil.copyfile(bot.log_path, options.log)
    # A chat's replies come in the order of its commands: the k-th answers the k-th.
    latencies = []
    answered_at = [wall_from]
    by_chat: dict[str, list[float]] = {}
    for command, at in zip(commands, sent, strict=True):
        by_chat.setdefault(command.chat, []).append(at)
    for chat, sent_at in by_chat.items():
        for when_sent, when_answered in zip(sent_at, got[chat], strict=False):
            latencies.append(when_answered - when_sent)
            answered_at.append(when_answered)
    return Figures(
        options=options,
        startup=startup,
        memory_at_start=memory_at_start,
        idle_cpu=idle,
        cpu=cpu,
        commands=len(commands),
        latencies=latencies,
        all_answered=max(answered_at) - wall_from,
        links_made=max([wall_from, *omise.links_answered[links_before:]]) - wall_from,
        links=len(omise.links_answered) - links_before,
        memory=memory,
        exit_code=code,
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def run(options: Options) -> None:
    found = measure(options)
    cpu, wall = found.cpu, found.all_answered
    # Polling for updates and payments costs a little CPU when nothing happens; not a command's.
    idle_share = found.idle_cpu * wall
    users = options.users or options.commands
    print(f"interpreter:               {options.python}")
    print(f"mode:                      {options.mode}")
    print(f"database:                  {options.database or 'SQLite (default)'}")
    print(f"Omise latency:             {options.latency * 1000:.0f} ms")
    print(f"start-up to first answer:  {found.startup:.2f} s")
    print(f"RSS after start-up:        {found.memory_at_start['VmRSS'] / 1024:.1f} MiB")
    where = f"in {options.chats} groups" if options.chats else "each in a private chat"
    print(f"commands:                  {options.commands} from {users} users, {where}")
    print(f"answered:                  {len(found.latencies)}")
    per_command = 1000 / options.commands
    print(f"process CPU per command:   {cpu.total * per_command:.1f} ms")
    user, system = cpu.user * per_command, cpu.system * per_command
    print(f"  user, system:            {user:.1f}, {system:.1f} ms")
    print(f"  on the event loop:       {cpu.main_thread * per_command:.1f} ms")
    print(f"  less idle polling:       {(cpu.total - idle_share) * per_command:.1f} ms")
    print(f"idle CPU:                  {found.idle_cpu * 1000:.0f} ms a second")
    if found.latencies:
        print(f"latency p50:               {found.p(0.5) * 1000:.0f} ms")
        print(f"latency p99:               {found.p(0.99) * 1000:.0f} ms")
    print(f"links made:                {found.links}")
    print(f"all links made after:      {found.links_made:.2f} s")
    print(f"all answered after:        {wall:.2f} s")
    print(f"RSS after the run:         {found.memory['VmRSS'] / 1024:.1f} MiB")
    print(f"peak RSS:                  {found.memory['VmHWM'] / 1024:.1f} MiB")
    print(f"exit code:                 {found.exit_code}")


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
    parser.add_argument("--commands", type=int, default=100, help="/link commands to send")
    parser.add_argument("--users", type=int, help="users taking turns (default: one a command)")
    parser.add_argument(
        "--chats", type=int, default=0, help="groups the users write in (0: private chats)"
    )
    parser.add_argument("--latency", type=float, default=0.3, help="Omise's answer time, s")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--database", help="LINKBOT_DATABASE: a path or a postgresql:// URL")
    parser.add_argument(
        "--webhook-path", default=WEBHOOK_PATH, help="where the bot takes Telegram's updates"
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
            users=args.users,
            chats=args.chats,
        )
    )


if __name__ == "__main__":
    main()
