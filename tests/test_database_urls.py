"""Database URLs as platforms write them (libpq's query options), settings that collide,
and reprs that keep the database password out."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest
from pydantic import ValidationError

from linkbot import __main__ as entry
from linkbot.config import describe_errors
from linkbot.sandbox import fakes
from linkbot.store import Store, asyncpg_options, postgresql_url
from tests.conftest import make_settings
from tests.databases import PostgreSQL
from tests.test_main import run_against

PASSWORD = "s3cret-pw"


def with_password(postgresql: PostgreSQL, query: str = "") -> str:
    if postgresql.unreachable:
        pytest.skip(f"PostgreSQL not reachable ({postgresql.unreachable})")
    # The server trusts local connections, so any password is taken.
    base, _, name = postgresql.url.rpartition("/")
    return base.replace("postgresql://postgres@", f"postgres://postgres:{PASSWORD}@") + (
        f"/{name}{query}"
    )


@pytest.mark.parametrize("mode", ["disable", "allow", "prefer", "require", "verify-ca"])
def test_sslmode_becomes_asyncpgs_ssl_and_libpq_only_options_are_left_out(mode: str) -> None:
    url = postgresql_url(
        f"postgres://u:{PASSWORD}@db.example:5432/d?sslmode={mode}"
        "&channel_binding=require&connect_timeout=10&application_name=shop"
    )
    assert url is not None
    plain, options = asyncpg_options(url)
    assert dict(plain.query) == {}
    assert options.connect_args == {"ssl": mode, "server_settings": {"application_name": "shop"}}
    assert options.dropped == ("channel_binding", "connect_timeout")


def test_options_the_driver_takes_stay_in_the_url() -> None:
    url = postgresql_url(
        "postgresql://u@/d?host=db1:5432&host=db2:5432&target_session_attrs=primary"
        "&ssl=require&sslmode=verify-full&channel_binding=disable"
    )
    assert url is not None
    plain, options = asyncpg_options(url)
    assert plain.query == {
        "host": ("db1:5432", "db2:5432"),
        "target_session_attrs": "primary",
        "ssl": "require",
    }
    # sslmode, libpq's word for it, comes after: it wins.
    assert options.connect_args == {"ssl": "verify-full"}
    assert options.dropped == ("channel_binding",)


def test_a_root_certificate_verifies_the_server(tmp_path: Path) -> None:
    root = Path(ssl.get_default_verify_paths().cafile or "")
    if not root.is_file():
        pytest.skip("no CA bundle file on this machine")
    url = postgresql_url(f"postgresql://u@db.example/d?sslmode=verify-full&sslrootcert={root}")
    assert url is not None
    context = asyncpg_options(url)[1].connect_args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED


@pytest.mark.parametrize(
    ("query", "said"),
    [
        (":99999/d", "DATABASE_URL has port 99999; a port is 1 to 65535."),
        (":port/d", "DATABASE_URL is not a valid postgresql:// URL (is its port a number?)."),
        ("/d?sslmode=on", "DATABASE_URL has sslmode=on; libpq's are disable, allow, prefer,"),
    ],
)
def test_a_url_the_driver_cannot_use_is_refused_without_showing_it(
    tmp_path: Path, query: str, said: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(
            tmp_path, linkbot_database=None, database_url=f"postgres://u:{PASSWORD}@h{query}"
        )
    message = describe_errors(caught.value)
    assert said in message and PASSWORD not in message


def test_check_takes_a_url_with_libpq_options(tmp_path: Path, postgresql: PostgreSQL) -> None:
    url = with_password(postgresql, "?sslmode=prefer&channel_binding=prefer")
    result = run_against(
        tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), "check", DATABASE_URL=url
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Database: OK, PostgreSQL postgresql+asyncpg://postgres:***@" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_sslmode_require_against_a_server_without_tls_fails_in_one_line(
    tmp_path: Path, postgresql: PostgreSQL
) -> None:
    url = with_password(postgresql, "?sslmode=require")
    result = run_against(tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), DATABASE_URL=url)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Could not open the database (PostgreSQL postgresql+asyncpg://postgres:***@" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr and PASSWORD not in result.stdout + result.stderr


def test_an_unreadable_root_certificate_is_refused_at_start_up(tmp_path: Path) -> None:
    url = f"postgres://u:{PASSWORD}@127.0.0.1/d?sslmode=verify-ca&sslrootcert={tmp_path}/none.pem"
    result = run_against(tmp_path, fakes.FakeTelegram(), fakes.FakeOmise(), DATABASE_URL=url)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "DATABASE_URL names an sslrootcert file that cannot be read." in result.stderr
    assert "Traceback" not in result.stderr and PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "error",
    [
        TypeError("connect() got an unexpected keyword argument 'sslmode'"),
        OverflowError("connect(): port must be 0-65535."),
    ],
)
async def test_a_setting_the_driver_refuses_stops_the_bot_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
) -> None:
    async def refused(_: Store) -> list[str]:
        raise error

    monkeypatch.setattr(Store, "initialize", refused)
    settings = make_settings(
        tmp_path, linkbot_database=None, database_url=f"postgres://u:{PASSWORD}@127.0.0.1/d"
    )
    assert await entry.run(settings) == entry.EXIT_CONFIG
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert line.startswith(f"DATABASE_URL cannot be used: {type(error).__name__}: ")
    assert "postgresql+asyncpg://u:***@127.0.0.1/d" in line and PASSWORD not in line


def test_no_repr_shows_the_database_password(tmp_path: Path) -> None:
    url = f"postgresql://u:{PASSWORD}@db.example/d"
    for values in ({"linkbot_database": url}, {"linkbot_database": None, "database_url": url}):
        found = make_settings(tmp_path, **values)
        assert PASSWORD not in repr(found) and PASSWORD not in str(found)
        assert found.database == url


def test_settings_that_work_but_surprise_are_warned_of(tmp_path: Path) -> None:
    url = "postgres://u@h/d"
    both = make_settings(tmp_path, linkbot_database="here.db", database_url=url)
    assert any("LINKBOT_DATABASE is used" in w for w in both.warnings())
    webhook = make_settings(tmp_path, linkbot_webhook_url="https://bot.example.com", port="8080")
    assert any("Webhook mode on SQLite" in w for w in webhook.warnings())
    on_postgresql = make_settings(
        tmp_path,
        linkbot_database=None,
        database_url=url,
        linkbot_webhook_url="https://bot.example.com",
        port="8080",
    )
    assert on_postgresql.warnings() == []


def test_the_example_env_file_leaves_the_database_to_database_url() -> None:
    example = (Path(__file__).resolve().parent.parent / ".env.example").read_text()
    assert not [line for line in example.splitlines() if line.startswith("LINKBOT_DATABASE=")]
