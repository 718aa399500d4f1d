"""Start-up: configuration errors, `linkbot check`, logging that keeps secrets."""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linkbot.__main__ import main
from linkbot.logs import RedactingFilter
from linkbot.sandbox import fakes
from tests.process import clean_environment

BASE_ENV = clean_environment()


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkbot", *args],
        cwd=tmp_path,
        env={**BASE_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_configuration(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "OMISE_SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_console_script_is_installed(tmp_path: Path) -> None:
    script = shutil.which("linkbot", path=str(Path(sys.executable).parent))
    assert script is not None
    result = subprocess.run(
        [script], cwd=tmp_path, env=BASE_ENV, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "TELEGRAM_BOT_TOKEN is not set" in result.stderr


def test_public_key_is_refused(tmp_path: Path) -> None:
    result = run(tmp_path, TELEGRAM_BOT_TOKEN=fakes.BOT_TOKEN, OMISE_SECRET_KEY="pkey_test_abcdef")
    assert result.returncode == 2
    assert "OMISE_SECRET_KEY is a public key" in result.stderr
    assert "pkey_test_abcdef" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LINKBOT_ALLOWED_USERS", "12,abc", "LINKBOT_ALLOWED_USERS must be Telegram user ids"),
        ("LINKBOT_DEFAULT_CURRENCY", "xyz", "LINKBOT_DEFAULT_CURRENCY must be one of"),
        (
            "TELEGRAM_BOT_TOKEN",
            "nonsense",
            "TELEGRAM_BOT_TOKEN must be the token BotFather gave you",
        ),
        ("LINKBOT_TIMEZONE", "Mars/Olympus", "LINKBOT_TIMEZONE must be an IANA time zone"),
    ],
)
def test_invalid_values(tmp_path: Path, name: str, value: str, message: str) -> None:
    env = {"TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN, "OMISE_SECRET_KEY": fakes.OMISE_KEY, name: value}
    result = run(tmp_path, **env)
    assert result.returncode == 2 and message in result.stderr
    assert "nonsense" not in result.stderr


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"TELEGRAM_BOT_TOKEN={fakes.BOT_TOKEN}\nOMISE_SECRET_KEY=pkey_x\n"
    )
    result = run(tmp_path)
    assert result.returncode == 2 and "public key" in result.stderr


def run_against(
    tmp_path: Path, telegram: fakes.FakeTelegram, omise: fakes.FakeOmise, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    """Run linkbot with the test credentials against the fakes, served on 127.0.0.1."""
    with fakes.serve(telegram) as telegram_url, fakes.serve(omise) as omise_url:
        return run(
            tmp_path,
            *args,
            TELEGRAM_BOT_TOKEN=fakes.BOT_TOKEN,
            OMISE_SECRET_KEY=fakes.OMISE_KEY,
            TELEGRAM_API_URL=telegram_url,
            OMISE_API_URL=omise_url,
            **env,
        )


def test_check_reports_both_services(tmp_path: Path) -> None:
    omise = fakes.FakeOmise()
    omise.add_link()
    result = run_against(
        tmp_path, fakes.FakeTelegram(), omise, "check", LINKBOT_ALLOWED_USERS="1,2"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Telegram: OK, the bot is @{fakes.BOT_USERNAME}" in result.stdout
    assert "Omise: OK, test mode, 1 link(s) on the account" in result.stdout
    assert "Authorized users: 2" in result.stdout
    assert "Updates: polling" in result.stdout


def test_check_reports_the_webhook(tmp_path: Path) -> None:
    telegram = fakes.FakeTelegram()
    result = run_against(
        tmp_path,
        telegram,
        fakes.FakeOmise(),
        "check",
        LINKBOT_WEBHOOK_URL="https://bot.example.com",
        PORT="8080",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "Updates: webhook at https://bot.example.com/telegram/webhook, set at start-up "
        "(Telegram has none)" in result.stdout
    )
    telegram.webhook = {"url": "https://bot.example.com/telegram/webhook", "max_connections": 40}
    result = run_against(
        tmp_path,
        telegram,
        fakes.FakeOmise(),
        "check",
        LINKBOT_WEBHOOK_URL="https://bot.example.com",
        PORT="8080",
    )
    assert "Updates: webhook at https://bot.example.com/telegram/webhook, 0 waiting" in (
        result.stdout
    )


def test_check_reports_refused_credentials(tmp_path: Path) -> None:
    telegram = fakes.FakeTelegram(token="999:other")
    omise = fakes.FakeOmise(secret_key="skey_test_other")
    result = run_against(tmp_path, telegram, omise, "check")
    assert result.returncode == 1
    assert "Telegram: FAILED, TELEGRAM_BOT_TOKEN was refused" in result.stdout
    assert "Omise: FAILED, OMISE_SECRET_KEY was refused" in result.stdout
    assert "nobody may create links" in result.stdout
    assert fakes.BOT_TOKEN not in result.stdout + result.stderr


def test_run_with_a_refused_token_exits_clearly(tmp_path: Path) -> None:
    result = run_against(tmp_path, fakes.FakeTelegram(token="999:other"), fakes.FakeOmise())
    assert result.returncode == 2
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in result.stderr
    assert "LINKBOT_ALLOWED_USERS is empty" in result.stderr
    assert fakes.BOT_TOKEN not in result.stderr


def test_redacting_filter_scrubs_messages_arguments_and_tracebacks() -> None:
    secret = "skey_test_supersecret"
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "url %s", (f"/bot{secret}/getMe",), None
    )
    try:
        raise RuntimeError(f"failed with {secret}")
    except RuntimeError:
        record.exc_info = sys.exc_info()
    RedactingFilter([secret]).filter(record)
    formatted = logging.Formatter().format(record)
    assert secret not in formatted
    assert "/bot[REDACTED]/getMe" in formatted and "failed with [REDACTED]" in formatted


def test_main_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0 and "linkbot 0." in capsys.readouterr().out


def test_a_listen_address_in_use_exits_clearly(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_against(
            tmp_path,
            fakes.FakeTelegram(),
            fakes.FakeOmise(),
            LINKBOT_HTTP_LISTEN=f"127.0.0.1:{port}",
            LINKBOT_ALLOWED_USERS="1111",
        )
    assert result.returncode == 2
    assert f"could not listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_webhook_secret_is_no_secret(tmp_path: Path) -> None:
    from linkbot.config import Settings

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=fakes.BOT_TOKEN,
        omise_secret_key=fakes.OMISE_KEY,
        omise_webhook_secret="  ",
    )
    assert settings.omise_webhook_secret is None
