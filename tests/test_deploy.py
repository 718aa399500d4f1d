"""The deployment files: the image, the compose file and the systemd unit keep their promises.

The image itself is built and started only where a Docker daemon answers; the
facts of the Dockerfile, and its health check command run against the real
process, are checked everywhere.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from linkbot.sandbox import fakes
from tests.process import BotProcess, free_port, wait_until_serving

ROOT = Path(__file__).resolve().parent.parent
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD|DATABASE_URL", re.IGNORECASE)


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    found: list[tuple[str, str]] = []
    pending = ""
    for raw in dockerfile.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        keyword, _, rest = line.partition(" ")
        found.append((keyword.upper(), rest.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions(ROOT / "Dockerfile")
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def env_names(arguments: str) -> list[str]:
    """The names an ENV or ARG instruction sets (NAME=value pairs, or the legacy NAME value)."""
    if "=" not in arguments.split(" ", 1)[0]:
        return [arguments.split(" ", 1)[0]]
    return [pair.split("=", 1)[0] for pair in shlex.split(arguments)]


def healthcheck_command() -> list[str]:
    (arguments,) = [rest for keyword, rest in final_stage() if keyword == "HEALTHCHECK"]
    command: list[str] = json.loads(arguments[arguments.index("CMD") + 3 :].strip())
    return command


# The Dockerfile and .dockerignore


def test_the_image_is_built_in_stages_from_a_slim_python() -> None:
    froms = [rest for keyword, rest in instructions(ROOT / "Dockerfile") if keyword == "FROM"]
    assert len(froms) >= 2
    assert all(re.match(r"python:3\.1[1-9]-slim\b", image) for image in froms), froms
    installed = " ".join(rest for keyword, rest in final_stage() if keyword == "RUN")
    # The final stage installs the wheel the builder made, with PostgreSQL support.
    assert "--no-index" in installed and "linkbot[postgres]" in installed


def test_the_image_runs_linkbot_as_a_user_other_than_root() -> None:
    users = [rest for keyword, rest in final_stage() if keyword == "USER"]
    assert users, "no USER in the final stage: the bot would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    (cmd,) = [rest for keyword, rest in final_stage() if keyword == "CMD"]
    assert json.loads(cmd) == ["linkbot"]


def test_the_image_bakes_in_no_secret() -> None:
    for keyword, rest in instructions(ROOT / "Dockerfile"):
        if keyword in ("ENV", "ARG"):
            secret = [name for name in env_names(rest) if SECRET_NAME.search(name)]
            assert not secret, f"{keyword} {rest}"
        if keyword in ("COPY", "ADD"):
            assert ".env" not in rest.split(), f"{keyword} {rest}"


def test_the_image_serves_healthz_and_keeps_its_data_on_a_volume() -> None:
    stage = final_stage()
    env = " ".join(rest for keyword, rest in stage if keyword == "ENV")
    # PORT, so that the PORT a platform assigns replaces it; LINKBOT_HTTP_LISTEN would win.
    assert "PORT=8080" in env.split()
    assert "LINKBOT_HTTP_LISTEN" not in env
    assert ("VOLUME", '["/data"]') in stage
    # The SQLite default is linkbot.db in the working directory: on the volume.
    assert [rest for keyword, rest in stage if keyword == "WORKDIR"][-1] == "/data"
    assert "/healthz" in " ".join(healthcheck_command())


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_build() -> None:
    entries = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()}
    for needed in (".env", "*.db", ".venv/", ".git/", ".pytest_cache/", ".mypy_cache/"):
        assert needed in entries, needed


@pytest.fixture(scope="module")
def listening(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The real process serving /healthz; yields its port."""
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        bot = BotProcess(
            tmp_path_factory.mktemp("health"),
            telegram_url,
            omise_url,
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
        )
        bot.start()
        try:
            wait_until_serving(f"http://127.0.0.1:{port}", bot)
            yield port
        finally:
            bot.stop()


def run_healthcheck(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = healthcheck_command()
    assert command[0] == "python"
    return subprocess.run(
        [sys.executable, *command[1:]], env=env, capture_output=True, text=True, timeout=20
    )


def test_the_health_check_passes_while_the_bot_serves(listening: int) -> None:
    assert run_healthcheck({"LINKBOT_HTTP_LISTEN": f"0.0.0.0:{listening}"}).returncode == 0
    # The image's own PORT, or the one a platform assigns in its place.
    assert run_healthcheck({"PORT": str(listening)}).returncode == 0


def test_port_opens_the_listener_in_polling_mode_and_the_log_says_so(
    tmp_path: Path,
) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        bot = BotProcess(tmp_path, telegram_url, omise_url, PORT=str(port))
        bot.start()
        try:
            wait_until_serving(f"http://127.0.0.1:{port}", bot)
        finally:
            bot.stop()
    assert f"Serving HTTP on 0.0.0.0:{port} (from PORT)" in bot.log()


def test_the_health_check_fails_when_nothing_answers() -> None:
    result = run_healthcheck({"LINKBOT_HTTP_LISTEN": f"0.0.0.0:{free_port()}"})
    assert result.returncode != 0


# compose.yaml


def test_compose_runs_the_bot_on_postgresql_once_it_is_healthy() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    db, bot = compose["services"]["db"], compose["services"]["bot"]
    assert db["image"].startswith("postgres:")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "${POSTGRES_PASSWORD" in db["environment"]["POSTGRES_PASSWORD"]

    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("DATABASE_URL", "LINKBOT_DATABASE"):
        assert bot["environment"][name].startswith("postgresql://linkbot:${POSTGRES_PASSWORD}@db:")
    # Only a proxy on the same host reaches the bot's HTTP listener.
    assert all(port.startswith("127.0.0.1:") for port in bot["ports"])


# The systemd unit


def unit() -> configparser.ConfigParser:
    # Repeated keys (SystemCallFilter) are allowed in unit files.
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(ROOT / "deploy" / "linkbot.service")
    return parser


def test_the_systemd_unit_runs_a_dedicated_user_hardened() -> None:
    service = unit()["Service"]
    assert service["User"] == "linkbot" and service["Group"] == "linkbot"
    assert service["ExecStart"].endswith("/bin/linkbot")
    assert service["EnvironmentFile"].startswith("/etc/")
    assert service["StateDirectory"] == "linkbot"
    assert service["WorkingDirectory"] == "/var/lib/linkbot"
    assert service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "2"
    for setting, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[setting] == value, setting
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    # Only the executable is made to exist here; every other line is checked as written.
    text = (ROOT / "deploy" / "linkbot.service").read_text()
    text = text.replace("ExecStart=/opt/linkbot/bin/linkbot", f"ExecStart={sys.executable}")
    (tmp_path / "linkbot.service").write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(tmp_path / "linkbot.service")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Unknown" not in result.stderr and "Invalid" not in result.stderr, result.stderr


# The image itself, where a Docker daemon answers


def docker_unavailable() -> str | None:
    if shutil.which("docker") is None:
        return "no docker client"
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        return "the Docker daemon did not answer `docker info`"
    if info.returncode != 0:
        return "no Docker daemon (`docker info` failed): the image is not built or started"
    return None


def docker(*args: str, timeout: float = 60.0) -> str:
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"docker {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result.stdout.strip()


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    reason = docker_unavailable()
    if reason is not None:
        pytest.skip(reason)
    tag = f"linkbot-test:{uuid.uuid4().hex[:12]}"
    docker("build", "--tag", tag, str(ROOT), timeout=900)
    try:
        yield tag
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, timeout=60)


def test_the_image_starts_answers_a_link_turns_healthy_and_stops_cleanly(image: str) -> None:
    telegram, omise = fakes.FakeTelegram(), fakes.FakeOmise()
    name = f"linkbot-test-{uuid.uuid4().hex[:12]}"
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        port = free_port()
        env = {
            "TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN,
            "OMISE_SECRET_KEY": fakes.OMISE_KEY,
            "TELEGRAM_API_URL": telegram_url,
            "OMISE_API_URL": omise_url,
            "LINKBOT_ALLOWED_USERS": "4242",
            "LINKBOT_HTTP_LISTEN": f"127.0.0.1:{port}",
        }
        # The fakes listen on the host's 127.0.0.1; the host network lets the container reach them.
        args = ["run", "--detach", "--name", name, "--network", "host"]
        for key in env:
            args += ["--env", key]
        # Secrets go through the environment, never the command line.
        started = subprocess.run(
            ["docker", *args, "--health-interval", "1s", "--health-start-period", "0s", image],
            env={**_docker_client_env(), **env},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert started.returncode == 0, started.stderr
        try:
            assert docker("exec", name, "id", "-u") != "0"
            telegram.wait_for("setMyCommands", timeout=60)
            telegram.push(
                fakes.command_update(
                    "/link 74.40 Latte", user_id=4242, chat=fakes.private_chat(4242)
                )
            )
            (reply,) = telegram.wait_for("sendMessage", timeout=30)
            (link_id,) = omise.links
            assert link_id in json.dumps(reply)
            assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            deadline = time.monotonic() + 60
            while docker("inspect", "--format", "{{.State.Health.Status}}", name) != "healthy":
                assert time.monotonic() < deadline, docker("logs", name)
                time.sleep(0.5)
            docker("stop", "--time", "30", name, timeout=60)
            assert docker("inspect", "--format", "{{.State.ExitCode}}", name) == "0"
            logs = subprocess.run(
                ["docker", "logs", name], capture_output=True, text=True, timeout=30
            )
            for secret in (fakes.BOT_TOKEN, fakes.OMISE_KEY):
                assert secret not in logs.stdout + logs.stderr
        finally:
            # --volumes: the anonymous volume made for /data goes with the container.
            subprocess.run(
                ["docker", "rm", "--force", "--volumes", name], capture_output=True, timeout=60
            )


def _docker_client_env() -> dict[str, str]:
    """What the docker client needs to find its daemon, and nothing of the bot's settings."""
    return {
        k: v
        for k, v in os.environ.items()
        if k in ("PATH", "HOME", "XDG_RUNTIME_DIR") or k.startswith("DOCKER_")
    }
