"""Settings refused at start-up: secrets over plain http, a watch horizon no date reaches."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from linkbot.config import MAX_WATCH_DAYS, Settings, describe_errors
from linkbot.links import LinkService
from linkbot.payments import PassReport, PaymentWatcher
from linkbot.sandbox import fakes
from tests.conftest import make_link, make_settings
from tests.process import clean_environment


def refusal(tmp_path: Path, **overrides: object) -> str:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path, **overrides)
    return describe_errors(caught.value)


@pytest.mark.parametrize(
    ("name", "secret"),
    [("omise_api_url", "the secret key"), ("telegram_api_url", "the bot token")],
)
@pytest.mark.parametrize(
    "url",
    [
        "http://api.omise.co",
        "http://api.telegram.org/",
        "HTTP://proxy.example.com:8080",
        "http://127.0.0.1.example.com",
        "http://localhost@evil.example.com",
        "http://10.0.0.5:8081",
    ],
)
def test_plain_http_to_another_host_is_refused(
    tmp_path: Path, name: str, secret: str, url: str
) -> None:
    said = refusal(tmp_path, **{name: url})
    assert f"{name.upper()} must be an https:// URL: over plain http:// {secret}" in said
    assert "would travel unencrypted" in said
    assert fakes.OMISE_KEY not in said and fakes.BOT_TOKEN not in said


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8081",
        "http://localhost:8081/",
        "http://[::1]:8081",
        "https://api.omise.co",
        "https://bot-api.example.com:8443",
    ],
)
def test_https_and_plain_http_on_this_host_are_accepted(tmp_path: Path, url: str) -> None:
    settings = make_settings(tmp_path, omise_api_url=url, telegram_api_url=url)
    assert settings.omise_api_url == settings.telegram_api_url == url.rstrip("/")


@pytest.mark.parametrize("url", ["ftp://api.omise.co", "api.omise.co", "https://"])
def test_what_is_no_web_address_is_refused(tmp_path: Path, url: str) -> None:
    assert "OMISE_API_URL must be an https:// URL." in refusal(tmp_path, omise_api_url=url)


def test_the_bot_will_not_start_with_a_secret_over_plain_http(tmp_path: Path) -> None:
    env = {
        **clean_environment(),
        "TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN,
        "OMISE_SECRET_KEY": fakes.OMISE_KEY,
        "OMISE_API_URL": "http://omise-proxy.internal:8080",
    }
    result = subprocess.run(
        [sys.executable, "-m", "linkbot"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "OMISE_API_URL must be an https:// URL" in result.stderr
    assert "Traceback" not in result.stderr and fakes.OMISE_KEY not in result.stderr


@pytest.mark.parametrize("days", [0, -1, MAX_WATCH_DAYS + 1, 10**6, 10**12])
def test_a_watch_horizon_out_of_bounds_is_refused(tmp_path: Path, days: int) -> None:
    said = refusal(tmp_path, linkbot_watch_days=days)
    assert f"LINKBOT_WATCH_DAYS must be a number of days from 1 to {MAX_WATCH_DAYS}" in said


def test_the_environment_s_watch_horizon_is_refused_in_the_bot_s_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LINKBOT_WATCH_DAYS", "99999999999")
    with pytest.raises(ValidationError) as caught:
        Settings(
            _env_file=None,
            telegram_bot_token=fakes.BOT_TOKEN,
            omise_secret_key=fakes.OMISE_KEY,
        )
    said = describe_errors(caught.value)
    assert f"LINKBOT_WATCH_DAYS must be a number of days from 1 to {MAX_WATCH_DAYS}" in said


async def test_a_sweep_at_the_longest_horizon_compares_the_open_links(
    tmp_path: Path, watcher: PaymentWatcher, link_service: LinkService
) -> None:
    await make_link(link_service)
    settings = make_settings(tmp_path, linkbot_watch_days=MAX_WATCH_DAYS)
    watcher.horizon = timedelta(days=settings.linkbot_watch_days)
    report = PassReport()
    await watcher.sweep(report)
    assert report.swept and report.open_links == 1
