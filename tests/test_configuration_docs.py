"""The Configuration table of docs/configuration.md and .env.example keep step with the
settings the code reads: every setting is in both, every row is a setting, and the table's
defaults are the code's."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
from pydantic.fields import FieldInfo

from linkbot.config import Settings
from linkbot.sandbox import fakes

ROOT = Path(__file__).resolve().parent.parent

# What the table writes for a setting with no value of its own.
REQUIRED = "—"
NOTHING = {"unset", "empty"}

# Rows whose default is a value worked out at run time rather than a field's default; each
# is checked against what the Settings give when the variable is unset.
COMPUTED_DEFAULTS: dict[str, tuple[str, Callable[[Settings], bool]]] = {
    "LINKBOT_DATABASE": (
        "unset, DATABASE_URL is used, else linkbot.db (the table's DATABASE_URL row says so)",
        lambda s: s.linkbot_database is None and s.database == "linkbot.db",
    ),
    "LINKBOT_INSTANCE_ID": (
        "unset, Settings.instance_id makes one up for the process",
        lambda s: s.linkbot_instance_id is None and bool(s.instance_id),
    ),
    "LINKBOT_WEBHOOK_SECRET": (
        "unset, Settings.webhook_secret derives one from the bot token",
        lambda s: (
            s.linkbot_webhook_secret is None
            and s.webhook_secret.get_secret_value() not in ("", fakes.BOT_TOKEN)
        ),
    ),
}
# Names an .env.example may set that linkbot itself does not read.
NOT_SETTINGS = {
    "POSTGRES_PASSWORD": "read by compose.yaml for the database service, not by linkbot",
}


def env_name(name: str, field: FieldInfo) -> str:
    alias = field.validation_alias or field.alias
    return (alias if isinstance(alias, str) else name).upper()


SETTINGS = {env_name(name, field): field for name, field in Settings.model_fields.items()}


def configuration_table() -> dict[str, str]:
    """The Configuration table of the docs: variable name -> its default, as written."""
    page = (ROOT / "docs" / "configuration.md").read_text()
    _, heading, section = page.partition("\n## Configuration\n")
    assert heading, "no Configuration section in docs/configuration.md"
    rows: dict[str, str] = {}
    started = False
    for line in section.splitlines():
        if not line.startswith("|"):
            if started:
                break
            continue
        started = True
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        name = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", cells[0])
        if name is None:
            continue  # the header and its rule
        assert name[1] not in rows, f"{name[1]} has two rows"
        rows[name[1]] = cells[1]
    assert rows, "no Configuration table in docs/configuration.md"
    return rows


def example_names(*, commented: bool) -> dict[str, str]:
    """The NAME=value lines of .env.example, set ones only or commented ones too."""
    pattern = r"#?\s*([A-Z][A-Z0-9_]*)=(.*)" if commented else r"([A-Z][A-Z0-9_]*)=(.*)"
    found: dict[str, str] = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        match = re.fullmatch(pattern, line.strip())
        if match:
            found.setdefault(match[1], match[2].strip())
    return found


def written(value: object) -> str:
    """A code default as the table would write it (booleans and numbers normalised)."""
    if value is None or value == "" or (isinstance(value, frozenset | set | list) and not value):
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def code_default(field: FieldInfo) -> object:
    return field.get_default(call_default_factory=True)


def documented(value: str) -> str:
    value = value.strip().strip("`")
    if value in NOTHING:
        return "nothing"
    try:
        return format(Decimal(value).normalize(), "f")
    except InvalidOperation:
        return value


def test_every_setting_has_a_row_in_the_configuration_table() -> None:
    missing = sorted(set(SETTINGS) - set(configuration_table()))
    assert not missing, f"settings the Configuration table leaves out: {missing}"


def test_every_row_of_the_configuration_table_is_a_setting() -> None:
    unknown = sorted(set(configuration_table()) - set(SETTINGS))
    assert not unknown, f"rows of the Configuration table no setting reads: {unknown}"


def test_the_configuration_table_gives_the_codes_defaults() -> None:
    wrong = []
    for name, default in configuration_table().items():
        field = SETTINGS.get(name)
        if field is None or name in COMPUTED_DEFAULTS:
            continue
        if field.is_required():
            if default != REQUIRED:
                wrong.append(f"{name}: docs {default!r}, but it is required")
        elif documented(default) != written(code_default(field)):
            wrong.append(f"{name}: docs {default!r}, code {code_default(field)!r}")
    assert not wrong, wrong


@pytest.fixture
def unset_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("name", sorted(COMPUTED_DEFAULTS))
def test_a_default_worked_out_at_run_time_is_what_the_table_says(
    unset_environment: None, name: str
) -> None:
    assert name in configuration_table()
    assert not SETTINGS[name].is_required() and code_default(SETTINGS[name]) is None
    reason, holds = COMPUTED_DEFAULTS[name]
    settings = Settings(
        _env_file=None,
        telegram_bot_token=fakes.BOT_TOKEN,
        omise_secret_key=fakes.OMISE_KEY,
    )
    assert holds(settings), reason


def test_every_setting_is_in_the_example_env_file() -> None:
    missing = sorted(set(SETTINGS) - set(example_names(commented=True)))
    assert not missing, f"settings .env.example leaves out (set or commented): {missing}"


def test_the_example_env_file_names_only_settings() -> None:
    unknown = sorted(set(example_names(commented=True)) - set(SETTINGS) - set(NOT_SETTINGS))
    assert not unknown, f"names in .env.example that linkbot does not read: {unknown}"


def test_the_example_env_file_sets_optional_settings_only_to_their_defaults() -> None:
    # Copied to .env, the file changes nothing but the two required values; other
    # examples stay commented out.
    wrong = [
        f"{name}={value} (default {code_default(SETTINGS[name])!r})"
        for name, value in example_names(commented=False).items()
        if name in SETTINGS
        and not SETTINGS[name].is_required()
        and name not in COMPUTED_DEFAULTS
        and (documented(value) if value else "nothing") != written(code_default(SETTINGS[name]))
    ]
    assert not wrong, wrong
