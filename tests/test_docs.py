"""The README is the front door and the pages in docs/ hold the rest: the README stays short,
shows the test command CI runs and every command of the bot's menus, and the docs site's
navigation lists every page, so none is built unreachable."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

from linkbot.bot.app import MENU, PUBLIC_MENU

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TEST_COMMAND = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install '.[test]' && python -m pytest"
)


def nav_pages(entries: list[Any]) -> list[str]:
    """The page files mkdocs.yml's nav names, sections opened."""
    pages: list[str] = []
    for entry in entries:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        if isinstance(value, list):
            pages += nav_pages(value)
        elif not re.match(r"https?://", value):
            pages.append(value)
    return pages


def commands_table(text: str) -> list[str]:
    """The rows of the first table whose header is `| command | what it does |`."""
    _, header, rest = text.partition("| command | what it does |\n")
    assert header, "no commands table"
    rows = []
    for line in rest.splitlines()[1:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    assert rows, "an empty commands table"
    return rows


def test_the_readme_stays_a_front_door() -> None:
    lines = README.read_text().splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; the rest belongs in docs/"


def test_the_navigation_lists_every_page_once() -> None:
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    listed = nav_pages(config["nav"])
    on_disk = sorted(path.name for path in (ROOT / "docs").glob("*.md"))
    assert sorted(listed) == on_disk
    assert len(set(listed)) == len(listed)


def test_the_readmes_test_command_is_the_one_ci_runs() -> None:
    assert TEST_COMMAND in README.read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert any(line.strip() == TEST_COMMAND for line in ci.splitlines())


def test_the_commands_table_names_every_command_of_the_menus() -> None:
    rows = commands_table(README.read_text())
    named = {name for row in rows for name in re.findall(r"`/([a-z]+)", row.split("|")[1])}
    missing = sorted((set(MENU) | set(PUBLIC_MENU)) - named)
    assert not missing, f"commands the README's table leaves out: {missing}"


def test_the_readmes_commands_table_is_the_one_in_using_it() -> None:
    def linkless(rows: list[str]) -> list[str]:
        # The same link from two places: docs/bookkeeping.md and bookkeeping.md.
        return [re.sub(r"\]\((?:docs/)?([^)]*)\)", r"](\1)", row) for row in rows]

    readme = commands_table(README.read_text())
    using = commands_table((ROOT / "docs" / "using.md").read_text())
    assert linkless(readme) == linkless(using)


def test_ci_builds_the_docs_strictly_outside_the_checkout() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    builds = [shlex.split(line) for line in lines if line.startswith("mkdocs build")]
    assert builds, ".ci/run does not build the docs"
    assert all("--strict" in words and "--site-dir" in words for words in builds)


def test_the_strict_build_fails_on_a_page_left_out_of_the_navigation() -> None:
    # mkdocs 1.6 reports such a page at INFO only, which --strict lets through.
    config: dict[str, Any] = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["validation"]["nav"]["omitted_files"] == "warn"
    assert config["validation"]["links"]["anchors"] == "warn"
