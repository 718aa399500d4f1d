"""A log line and a metric for every command and button the bot handles.

:func:`observed` wraps a handler; inside it, the handler (and what it
calls) says how things went with :func:`note`, without a parameter threaded
through every call: a command is handled in one task, so a context
variable carries the note.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from linkbot import metrics
from linkbot.commands import command_word

logger = logging.getLogger(__name__)

_Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class _Note:
    outcome: str = "ok"
    link_id: str | None = None


_current: ContextVar[_Note | None] = ContextVar("linkbot_command_note", default=None)


def note(*, outcome: str | None = None, link_id: str | None = None) -> None:
    """Tell the command being handled how it went (a no-op outside one)."""
    current = _current.get()
    if current is None:
        return
    if outcome is not None:
        current.outcome = outcome
    if link_id is not None:
        current.link_id = link_id


def observed(names: str | Sequence[str], callback: _Handler) -> _Handler:
    """``callback``, timed, logged and counted under one of ``names`` (the first by default)."""
    known = [names] if isinstance(names, str) else list(names)

    @functools.wraps(callback)
    async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        command = _name(update, known)
        record = _Note()
        token = _current.set(record)
        started = time.perf_counter()
        try:
            await callback(update, context)
        except Exception:
            record.outcome = "error"
            raise
        finally:
            _current.reset(token)
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            chat = update.effective_chat
            chat_id = chat.id if chat is not None else None
            logger.info(
                "%s in chat %s: %s in %.0f ms%s",
                command,
                chat_id,
                record.outcome,
                duration_ms,
                f", link {record.link_id}" if record.link_id else "",
                extra={
                    "event": "command",
                    "command": command,
                    "chat_id": chat_id,
                    "outcome": record.outcome,
                    "duration_ms": duration_ms,
                    "link_id": record.link_id,
                },
            )
            metrics.recorder().command(command, record.outcome)

    return handler


def _name(update: Update, known: list[str]) -> str:
    """The command as typed when it is one of ``known``, else the first of them.

    Metric labels must stay few: whatever else someone types never becomes one.
    """
    message = update.effective_message
    if update.callback_query is None and message is not None:
        typed = command_word(message.text)
        if typed is not None and typed in known:
            return typed
    return known[0]
