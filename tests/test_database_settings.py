"""LINKBOT_DATABASE and DATABASE_URL: an SQLite path or a PostgreSQL URL, never a password shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from linkbot.config import Settings, describe_errors
from linkbot.sandbox import fakes
from tests.conftest import make_settings
from tests.databases import PostgreSQL
from tests.test_main import run_against

PASSWORD = "s3cret-pw"


def settings(tmp_path: Path, **values: str | None) -> Settings:
    """Settings with the database values given (None: unset)."""
    return make_settings(tmp_path, **values)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://linkbot:{PASSWORD}@db.example:5432/linkbot",
        f"postgres://linkbot:{PASSWORD}@db.example:5432/linkbot",
        f"postgresql+asyncpg://linkbot:{PASSWORD}@db.example:5432/linkbot",
    ],
)
def test_a_postgresql_url_is_taken_and_its_password_kept_secret(tmp_path: Path, url: str) -> None:
    found = settings(tmp_path, linkbot_database=url)
    assert found.database == url
    assert PASSWORD in found.secrets()  # scrubbed from every log line


def test_database_url_is_used_when_linkbot_database_is_unset(tmp_path: Path) -> None:
    url = "postgres://u@host/db"
    assert settings(tmp_path, linkbot_database=None, database_url=url).database == url
    both = settings(tmp_path, linkbot_database="here.db", database_url=url)
    assert both.database == "here.db"
    assert settings(tmp_path, linkbot_database=None).database == "linkbot.db"


def test_another_kind_of_url_is_refused_without_showing_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(tmp_path, linkbot_database=f"mysql://u:{PASSWORD}@host/db")
    said = describe_errors(caught.value)
    assert "LINKBOT_DATABASE must be a postgresql:// URL or the path of an SQLite file" in said
    assert PASSWORD not in said


def test_check_reports_the_database(tmp_path: Path, postgresql: PostgreSQL) -> None:
    if postgresql.unreachable:
        pytest.skip(f"PostgreSQL not reachable ({postgresql.unreachable})")
    # The server trusts local connections, so any password is taken.
    base, _, name = postgresql.url.rpartition("/")
    url = base.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@") + "/" + name
    result = run_against(
        tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), "check", DATABASE_URL=url
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Database: OK, PostgreSQL postgresql+asyncpg://postgres:***@" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_check_reports_a_database_that_does_not_answer(tmp_path: Path) -> None:
    url = f"postgresql://linkbot:{PASSWORD}@127.0.0.1:1/linkbot"
    result = run_against(
        tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), "check", LINKBOT_DATABASE=url
    )
    assert result.returncode == 1
    assert "Database: FAILED, PostgreSQL postgresql+asyncpg://linkbot:***@127.0.0.1:1/" in (
        result.stdout
    )
    assert PASSWORD not in result.stdout + result.stderr


def test_the_bot_says_when_the_database_does_not_answer(tmp_path: Path) -> None:
    url = f"postgresql://linkbot:{PASSWORD}@127.0.0.1:1/linkbot"
    result = run_against(tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), LINKBOT_DATABASE=url)
    assert result.returncode == 1
    assert "Could not open the database (PostgreSQL postgresql+asyncpg://linkbot:***@" in (
        result.stderr
    )
    assert PASSWORD not in result.stdout + result.stderr


def test_check_does_not_make_the_sqlite_file(tmp_path: Path) -> None:
    result = run_against(tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), "check")
    assert "Database: SQLite linkbot.db, made at the first start" in result.stdout
    assert not (tmp_path / "linkbot.db").exists()
