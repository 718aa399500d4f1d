"""Versioned schema changes (Alembic), applied by the bot itself at start-up.

There is no ``alembic.ini`` and no ``env.py``: :func:`upgrade` drives
Alembic directly, inside one transaction that first takes a lock (an
advisory lock on PostgreSQL, the write lock on SQLite), so instances
starting together migrate one after the other, and the later ones find
nothing left to do.

A database made before migrations existed (no ``alembic_version`` table,
but a ``links`` table) is first brought to revision 0001 by the store's
in-place upgrade, stamped 0001, then upgraded like any other.

Adding a schema change:

1. Change the tables in :mod:`linkbot.store.schema` (its ``metadata``).
2. Add ``versions/000N_<what>.py`` with ``revision = "000N"`` and
   ``down_revision`` naming the previous one, and an ``upgrade()`` made of
   ``alembic.op`` calls. Adding a table or a nullable column (or one with a
   server default) works on both engines as is; any other change to an
   existing table needs ``with op.batch_alter_table(name) as batch:`` for
   SQLite, which cannot alter columns in place.
3. ``tests/test_migrations.py`` fails until the migrated schema matches
   the metadata, on SQLite and on PostgreSQL.

Never edit a revision that has been released, and never change
``schema_0001``. Downgrades are not supported: restore a backup instead.

Alembic (with Mako) is about 10 MiB of memory and a tenth of a second of
start-up, and most starts have nothing to migrate: :func:`head` reads the
revision files without it, :func:`current` is one SELECT, and Alembic is
imported only when :func:`upgrade` has work to do.
"""

from __future__ import annotations

import ast
import contextlib
import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory

# The release before migrations: what the in-place upgrade produces.
BASELINE = "0001"
# pg_advisory_xact_lock's key: any constant that no other application on the
# database uses; these are the bytes of "linkbot!".
_LOCK_KEY = 0x6C696E6B626F7421


VERSIONS = Path(__file__).parent / "versions"


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(Path(__file__).parent))


@functools.cache
def head() -> str:
    """The newest revision: the one no other revision names as its ``down_revision``.

    Read from the revision files' ``revision`` and ``down_revision``
    assignments; ``tests/test_lean_start.py`` checks it is Alembic's answer.
    """
    revisions: set[str] = set()
    earlier: set[str] = set()
    for path in VERSIONS.glob("*.py"):
        names: dict[str, Any] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name) and node.value is not None:
                        with contextlib.suppress(ValueError, TypeError, SyntaxError):
                            names[target.id] = ast.literal_eval(node.value)
        if isinstance(names.get("revision"), str):
            revisions.add(names["revision"])
            down = names.get("down_revision")
            # A merge revision names several.
            earlier.update([down] if isinstance(down, str) else down or ())
    heads = revisions - earlier
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must have one head, not {sorted(heads)}")
    return heads.pop()


def current(conn: Connection) -> str | None:
    """The database's revision (None before any), read in a SAVEPOINT of ``conn``.

    A database without the ``alembic_version`` table fails the SELECT; on
    PostgreSQL that failure would end the transaction, hence the SAVEPOINT.
    """
    try:
        with conn.begin_nested():
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return None
    return found[0] if len(found) == 1 else None


def upgrade(conn: Connection, *, legacy_upgrade: Callable[[Connection], None]) -> list[str]:
    """Bring the database to the newest revision; returns the revisions applied.

    ``conn`` must be in a transaction (on SQLite, one that holds the write
    lock); everything here is part of it.
    """
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    if conn.dialect.name == "postgresql":
        # Held until the transaction ends; PostgreSQL's DDL is transactional,
        # so a failed migration leaves nothing half done.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
    script = script_directory()
    context = MigrationContext.configure(conn)
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" not in tables and "links" in tables:
        legacy_upgrade(conn)
        context.stamp(script, BASELINE)
    applied: list[str] = []

    def upgrade_steps(revision: Any, _: MigrationContext) -> Iterable[Any]:
        steps = script._upgrade_revs("head", revision)
        applied.extend(step.revision.revision for step in steps)
        return steps

    context = MigrationContext.configure(conn, opts={"fn": upgrade_steps, "script": script})
    with Operations.context(context):
        context.run_migrations()
    return applied
