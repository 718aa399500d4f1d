"""Every piece of text the bot shows a user, by key and language.

Templates are Telegram HTML. Parameters are escaped when filled in, except
those wrapped in :class:`Html` (fragments a view has already escaped). Each
language is one module in :mod:`linkbot.bot.locales` with the same keys;
a new language is a new module and an entry in ``CATALOG``, no handler changes.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime
from string import Formatter
from typing import Any

from linkbot.bot.locales import en, ja, th

DEFAULT_LANGUAGE = "en"
SUPPORTED = ("en", "th", "ja")

ENGLISH: dict[str, str] = en.ENGLISH

CATALOG: dict[str, dict[str, str]] = {"en": ENGLISH, "th": th.THAI, "ja": ja.JAPANESE}
_DAYS: dict[str, Callable[[date], str]] = {"en": en.day_text, "th": th.day_text, "ja": ja.day_text}
# How each language joins a list passed as a tuple ("THB, JPY" or "THB、JPY").
_LISTS: dict[str, str] = {"en": en.LIST_SEPARATOR, "th": th.LIST_SEPARATOR, "ja": ja.LIST_SEPARATOR}


class Html(str):
    """A fragment that is already valid Telegram HTML."""


def language_for(language_code: str | None, forced: str | None = None) -> str:
    """The catalog for a Telegram user's ``language_code`` ("th", "ja-JP"…); English otherwise.

    ``forced`` (LINKBOT_LANGUAGE) wins over what the user's app says.
    """
    if forced in CATALOG:
        return forced
    prefix = (language_code or "").split("-", 1)[0].split("_", 1)[0].lower()
    return prefix if prefix in CATALOG else DEFAULT_LANGUAGE


def text(key: str, /, language: str | None = None, **params: Any) -> str:
    """The message ``key`` in ``language`` (English if missing), parameters filled in, escaped.

    A parameter that is a tuple or list is a list of items, joined as the language writes lists.
    """
    messages = CATALOG.get(language or DEFAULT_LANGUAGE, ENGLISH)
    template = messages.get(key) or ENGLISH[key]
    separator = _LISTS.get(language or DEFAULT_LANGUAGE, en.LIST_SEPARATOR)
    filled = {
        name: separator.join(map(str, value)) if isinstance(value, (tuple, list)) else value
        for name, value in params.items()
    }
    return _formatter.format(template, **filled)


def day_text(day: date, language: str | None = None) -> str:
    """A calendar day as the language writes it (Thai months and year, 年月日)."""
    return _DAYS.get(language or DEFAULT_LANGUAGE, en.day_text)(day)


def time_text(local: datetime, language: str | None = None, *, today: bool = False) -> str:
    """A local time of day, after its day unless it is ``today``."""
    clock = text("time_of_day", language, time=local.strftime("%H:%M"))
    if today:
        return clock
    return text("day_and_time", language, day=day_text(local.date(), language), time=Html(clock))


class _EscapingFormatter(Formatter):
    def format_field(self, value: Any, format_spec: str) -> str:
        formatted = super().format_field(value, format_spec)
        return formatted if isinstance(value, Html) else html.escape(formatted)


_formatter = _EscapingFormatter()
