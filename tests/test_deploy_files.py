"""What docs/deploying.md says of the Procfile, requirements.txt, the image's user and compose's
stop grace, read from the files themselves."""

from __future__ import annotations

import re
import tomllib
from typing import Any

import yaml

from linkbot import web
from linkbot.__main__ import SHUTDOWN_GRACE
from tests.test_deploy import ROOT, final_stage

IMAGE_UID = "10001"


def meaningful_lines(name: str) -> list[str]:
    lines = (ROOT / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_the_procfile_is_one_web_process_running_linkbot() -> None:
    assert (ROOT / "Procfile").read_text().splitlines() == ["web: linkbot"]
    # `linkbot` is the console script the installation puts on the PATH.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["linkbot"] == "linkbot.__main__:main"


def test_requirements_install_linkbot_from_the_repository_with_postgresql() -> None:
    assert meaningful_lines("requirements.txt") == [".[postgres]"]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    postgres = project["optional-dependencies"]["postgres"]
    assert any(re.match(r"asyncpg\b", requirement) for requirement in postgres), postgres


def test_the_image_runs_as_uid_10001() -> None:
    stage = final_stage()
    users = [rest for keyword, rest in stage if keyword == "USER"]
    assert users, "no USER in the final stage"
    user, _, group = users[-1].partition(":")
    assert user == IMAGE_UID
    assert group in ("", IMAGE_UID)
    # The user made in the image has that uid, so files it owns (/data) are the bot's.
    runs = " ".join(rest for keyword, rest in stage if keyword == "RUN")
    assert re.search(rf"useradd\b[^&;]*--uid {IMAGE_UID}\b", runs), runs


def seconds(duration: str) -> float:
    """A compose duration (``30s``, ``1m30s``, ``1500ms``) in seconds."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", duration)
    assert parts and "".join(n + u for n, u in parts) == duration, duration
    return sum(float(number) * units[unit] for number, unit in parts)


def test_compose_down_gives_the_bot_30_seconds() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    grace = seconds(str(compose["services"]["bot"]["stop_grace_period"]))
    assert grace == 30
    # Long enough for the graces the docs name for a stop: the commands in progress',
    # the HTTP server's own and the webhook confirmations'.
    assert grace > SHUTDOWN_GRACE + 2 * web.STOP_GRACE
