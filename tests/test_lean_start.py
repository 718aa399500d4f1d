"""A restart with nothing to migrate, no listener and no metrics loads none of their libraries."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from linkbot import migrations
from linkbot.sandbox import fakes


def test_the_newest_revision_is_read_without_alembic_as_alembic_reads_it() -> None:
    assert migrations.head() == migrations.script_directory().get_current_head()


LOADED = """
import asyncio, sys

from linkbot.__main__ import omise_client
from linkbot.bot import build_application
from linkbot.config import Settings
from linkbot.links import LinkService
from linkbot.store import Store


async def main():
    settings = Settings()
    store = Store.connect(settings.database)
    applied = await store.initialize()
    build_application(settings, LinkService(omise_client(settings), store))
    await store.close()
    return applied


applied = asyncio.run(main())
heavy = ("alembic", "mako", "asyncpg", "sqlalchemy.dialects.postgresql", "prometheus_client",
         "uvicorn", "starlette", "segno", "selenium", "PIL")
print(applied, sorted(name for name in heavy if name in sys.modules))
"""


def loaded_at_start(tmp_path: Path) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TELEGRAM_BOT_TOKEN": fakes.BOT_TOKEN,
        "OMISE_SECRET_KEY": fakes.OMISE_KEY,
        "LINKBOT_DATABASE": str(tmp_path / "linkbot.db"),
    }
    result = subprocess.run(
        [sys.executable, "-c", LOADED],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_current_schema_is_left_alone_without_loading_alembic(tmp_path: Path) -> None:
    # The first start makes the schema, with Alembic; a restart finds it current.
    first = loaded_at_start(tmp_path)
    assert first.startswith("['0001'") and "'alembic'" in first
    assert loaded_at_start(tmp_path) == "[] []"
