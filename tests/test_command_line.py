"""The command line as a merchant meets it: --help, a first run with nothing set, every
setting refused in the bot's own words, and ``linkbot check`` offline or with a refused token."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from linkbot.__main__ import main
from linkbot.config import Settings, describe_errors
from linkbot.sandbox import fakes
from tests.process import clean_environment, free_port

# What pydantic says in its own words; none of it may reach a merchant.
PYDANTIC_PHRASES = (
    "Input should",
    "validation error",
    "type=",
    "For further information visit",
    "errors.pydantic.dev",
    "String should",
    "Value error",
)
TOKENS = {"TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN, "OMISE_SECRET_KEY": fakes.OMISE_KEY}

# Every setting with values it refuses: of the wrong kind, out of range, not one of the choices.
BAD_VALUES = {
    "TELEGRAM_BOT_TOKEN": ["nonsense", "", "abc:def"],
    "OMISE_SECRET_KEY": ["pkey_test_abc", "sk_live_abc", ""],
    "TELEGRAM_API_URL": ["ftp://api.telegram.org", "http://api.telegram.org", "", "https://"],
    "OMISE_API_URL": ["api.omise.co", "http://10.0.0.5"],
    "OMISE_TIMEOUT": ["abc", "", "0", "-1", "301", "nan", "inf", "20s"],
    "LINKBOT_ALLOWED_USERS": ["12,abc", "1.5", "[1, 2]", "-1001234567890", "0", "9" * 30],
    "LINKBOT_DEFAULT_CURRENCY": ["xyz", "", "baht"],
    "LINKBOT_DATABASE": ["mysql://db/linkbot", "postgresql://h:port/db", "postgresql://h:99999/d"],
    "DATABASE_URL": ["mysql://db/linkbot", "postgresql://h:abc/db"],
    "LINKBOT_INSTANCE_ID": ["x" * 49],
    "LINKBOT_LOG_LEVEL": ["loud", "", "5"],
    "LINKBOT_POLL_INTERVAL": ["abc", "", "0", "-5", "nan", "inf"],
    "LINKBOT_SWEEP_INTERVAL": ["abc", "0", "nan", "inf"],
    "LINKBOT_WATCH_DAYS": ["abc", "", "0", "1.5", "99999"],
    "LINKBOT_TIMEZONE": ["Mars/Olympus", "", "Asia", "x" * 300, "../etc/passwd"],
    "LINKBOT_HTTP_LISTEN": ["abc", "0.0.0.0:0", ":8080", "0.0.0.0:99999"],
    "OMISE_WEBHOOK_SECRET": [],  # any text is a secret; blank is unset
    "LINKBOT_DAILY_REPORT": ["25:00", "9pm", "21:60"],
    "LINKBOT_LANGUAGE": ["fr", "english"],
    "LINKBOT_GROUP_ADMINS": ["maybe", "2"],
    "LINKBOT_WEBHOOK_URL": [
        "http://bot.example.com",
        "https://bot.example.com:1234",
        "https://bot.example.com/?a=b",
        "https://bot.example.com:port",
    ],
    "LINKBOT_WEBHOOK_SECRET": ["has spaces", "x" * 257],
    "PORT": ["abc", "0", "70000", "80.5"],
    "LINKBOT_LOG_FORMAT": ["xml", "yaml"],
    "LINKBOT_METRICS": ["maybe", "2"],
}
# Whose values never show in a refusal: secrets, and database URLs (they may hold a password).
SECRETS = {
    "TELEGRAM_BOT_TOKEN",
    "OMISE_SECRET_KEY",
    "LINKBOT_WEBHOOK_SECRET",
    "LINKBOT_DATABASE",
    "DATABASE_URL",
}
# A webhook URL needs a listener, or that would be the refusal instead.
NEEDS = {"LINKBOT_WEBHOOK_URL": {"PORT": "8080"}}


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "linkbot", *args],
        cwd=tmp_path,
        env={**clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_help_gives_run_check_and_try_a_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    assert caught.value.code == 0
    said = capsys.readouterr().out
    for command, words in [("run", "run the bot"), ("check", "check the"), ("try", "sandbox")]:
        line = re.search(rf"^\s+{command}\s+(.+)$", said, re.MULTILINE)
        assert line is not None, f"no line for {command}:\n{said}"
        assert words in line[1], said


def test_a_first_run_with_nothing_set_suggests_try_and_says_where_env_is_read(
    tmp_path: Path,
) -> None:
    result = run(tmp_path)
    assert result.returncode == 2
    said = result.stderr
    assert "TELEGRAM_BOT_TOKEN is not set" in said and "OMISE_SECRET_KEY is not set" in said
    assert "linkbot try" in said
    # An installed package has no .env.example to copy.
    assert ".env.example" not in said and "cp " not in said
    assert f"in the current directory ({tmp_path.resolve() / '.env'})" in said
    assert "Traceback" not in said


def test_check_with_nothing_set_speaks_of_checking(tmp_path: Path) -> None:
    result = run(tmp_path, "check")
    assert result.returncode == 2
    assert result.stderr.startswith("linkbot check found the configuration unusable: ")
    assert "TELEGRAM_BOT_TOKEN is not set" in result.stderr
    assert "cannot start" not in result.stderr


def test_a_wrong_value_asks_for_no_try(tmp_path: Path) -> None:
    said = run(tmp_path, **TOKENS, LINKBOT_WATCH_DAYS="many").stderr
    assert said.startswith("linkbot cannot start: LINKBOT_WATCH_DAYS must be a number of days")
    assert "linkbot try" not in said


def test_every_setting_has_bad_values_here() -> None:
    assert set(BAD_VALUES) == {name.upper() for name in Settings.model_fields}


CASES = [(name, value) for name, values in BAD_VALUES.items() for value in values]


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{n}={v[:20]!r}" for n, v in CASES])
def test_every_refusal_is_in_the_bots_own_words(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    for key, setting in {**TOKENS, **NEEDS.get(name, {}), name: value}.items():
        monkeypatch.setenv(key, setting)
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None)  # type: ignore[call-arg]
    for command in ("run", "check"):
        said = describe_errors(caught.value, command)
        assert f" {name} " in said, said
        for phrase in PYDANTIC_PHRASES:
            assert phrase not in said, said
        if name in SECRETS and value:
            assert value not in said, said


def test_a_dotenv_file_that_is_not_text_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"TELEGRAM_BOT_TOKEN=\xff\xfe\n")
    result = run(tmp_path)
    assert result.returncode == 2
    assert f"{tmp_path.resolve() / '.env'} cannot be read: it is not UTF-8 text" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_offline_says_one_line_a_service_and_retries_nothing(tmp_path: Path) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    result = run(tmp_path, "check", **TOKENS, TELEGRAM_API_URL=closed, OMISE_API_URL=closed)
    assert result.returncode == 1
    said = result.stdout + result.stderr
    lines = said.splitlines()
    telegram = [line for line in lines if line.startswith("Telegram")]
    omise = [line for line in lines if line.startswith("Omise")]
    assert telegram == [
        f"Telegram: FAILED, could not connect to {closed} (is it reachable from here?)"
    ]
    assert omise == [f"Omise: FAILED, could not connect to {closed} (is it reachable from here?)"]
    assert "Traceback" not in said and "retry" not in said.lower() and "httpx" not in said
    assert result.stderr == ""


def run_with_refused_token(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    with (
        fakes.serve(fakes.FakeTelegram(token="999:other")) as telegram_url,
        fakes.serve(fakes.FakeOmise()) as omise_url,
    ):
        return run(
            tmp_path, *args, **TOKENS, TELEGRAM_API_URL=telegram_url, OMISE_API_URL=omise_url
        )


def test_check_with_a_refused_token_leaves_no_database(tmp_path: Path) -> None:
    result = run_with_refused_token(tmp_path, "check")
    assert result.returncode == 1
    assert "Telegram: FAILED, TELEGRAM_BOT_TOKEN was refused" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_a_start_with_a_refused_token_leaves_no_database(tmp_path: Path) -> None:
    result = run_with_refused_token(tmp_path)
    assert result.returncode == 2
    assert "Telegram refused TELEGRAM_BOT_TOKEN" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_refused_token_leaves_an_existing_database_be(tmp_path: Path) -> None:
    (tmp_path / "linkbot.db").write_bytes(b"")
    result = run_with_refused_token(tmp_path)
    assert result.returncode == 2 and "Telegram refused TELEGRAM_BOT_TOKEN" in result.stderr
    assert (tmp_path / "linkbot.db").exists()
