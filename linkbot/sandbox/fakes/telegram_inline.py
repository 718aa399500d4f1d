"""Inline mode: queries answered within their window, results posted, inline messages edited."""

from __future__ import annotations

import re
import secrets
import threading
import time
from typing import Any

from linkbot.sandbox.fakes.common import Answer
from linkbot.sandbox.fakes.telegram_checks import _refuse_markup, _refuse_text, _tg_error
from linkbot.sandbox.fakes.telegram_updates import chosen_inline_result_update

# Telegram takes an answer to an inline query within 10 seconds of the query, once.
INLINE_ANSWER_WINDOW = 10.0


class _InlineMode:
    """FakeTelegram's inline mode."""

    _lock: threading.Condition  # FakeTelegram's

    def __init__(self) -> None:
        super().__init__()
        # Inline mode: queries by id (the query and when it arrived), those answered,
        # every answer as sent, results offered (by result id) and inline messages posted.
        self.inline_queries: dict[str, tuple[dict[str, Any], float]] = {}
        self.answered_queries: set[str] = set()
        self.inline_answers: list[dict[str, Any]] = []
        self.offered: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.inline_messages: dict[str, dict[str, Any]] = {}

    # Test controls

    def note_inline_query(self, update: dict[str, Any]) -> None:
        """Telegram sent this update: an inline query in it may be answered for 10 seconds."""
        if "inline_query" in update:
            query = update["inline_query"]
            with self._lock:
                self.inline_queries[query["id"]] = (query, time.monotonic())

    def age_inline_query(self, query_id: str, seconds: float) -> None:
        """Pretend the query arrived ``seconds`` earlier than it did."""
        with self._lock:
            query, received = self.inline_queries[query_id]
            self.inline_queries[query_id] = (query, received - seconds)

    def post_inline_result(self, result_id: str) -> dict[str, Any]:
        """The user taps an offered result: its message is posted in their chat.

        Returns the chosen_inline_result update Telegram sends when inline
        feedback is on. Only a result with a keyboard gets an inline_message_id.
        """
        with self._lock:
            result, query = self.offered[result_id]
            inline_message_id: str | None = None
            if result.get("reply_markup"):
                inline_message_id = "AQAAA" + secrets.token_urlsafe(18)
                content = result["input_message_content"]
                self.inline_messages[inline_message_id] = {
                    "text": content["message_text"],
                    "parse_mode": content.get("parse_mode"),
                    "reply_markup": result["reply_markup"],
                }
        return chosen_inline_result_update(
            result_id,
            user_id=int(query["from"]["id"]),
            query=str(query["query"]),
            inline_message_id=inline_message_id,
        )

    def inline_results(self) -> list[dict[str, Any]]:
        """The results of the last answered inline query."""
        with self._lock:
            assert self.inline_answers, "no inline query was answered"
            results: list[dict[str, Any]] = self.inline_answers[-1]["results"]
            return results

    # The API

    def _answer_inline_query(self, params: dict[str, Any]) -> Answer:
        query_id = str(params.get("inline_query_id", ""))
        with self._lock:
            known = self.inline_queries.get(query_id)
            if (
                known is None
                or query_id in self.answered_queries
                or time.monotonic() - known[1] > INLINE_ANSWER_WINDOW
            ):
                return _tg_error(
                    400,
                    "Bad Request: query is too old and response timeout expired or "
                    "query ID is invalid",
                )
        results = params.get("results")
        if not isinstance(results, list):
            return _tg_error(400, "Bad Request: RESULTS_INVALID")
        if len(results) > 50:
            return _tg_error(400, "Bad Request: RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            refusal = _refuse_result(result, seen)
            if refusal:
                return _tg_error(400, refusal)
        button = params.get("button")
        if button is not None:
            refusal = _refuse_results_button(button)
            if refusal:
                return _tg_error(400, refusal)
        with self._lock:
            self.answered_queries.add(query_id)
            self.inline_answers.append(
                {
                    "inline_query_id": query_id,
                    "results": results,
                    "cache_time": (int(params["cache_time"]) if "cache_time" in params else None),
                    "is_personal": params.get("is_personal"),
                    "button": button,
                    "next_offset": params.get("next_offset"),
                }
            )
            for result in results:
                self.offered[result["id"]] = (result, known[0])
        return Answer(200, {"ok": True, "result": True})

    def _edit_inline(self, name: str, params: dict[str, Any]) -> Answer:
        """Edit a message sent through inline mode: Telegram answers True, not the message."""
        inline_message_id = str(params["inline_message_id"])
        refusal = _refuse_markup(params.get("reply_markup"))
        if name == "editMessageText":
            refusal = _refuse_text(params) or refusal
        if refusal:
            return _tg_error(400, refusal)
        with self._lock:
            message = self.inline_messages.get(inline_message_id)
            if message is None:
                return _tg_error(400, "Bad Request: MESSAGE_ID_INVALID")
            changed = dict(message)
            if name == "editMessageText":
                changed["text"] = params["text"]
                changed["parse_mode"] = params.get("parse_mode")
            changed["reply_markup"] = params.get("reply_markup")
            if changed == message:
                return _tg_error(
                    400,
                    "Bad Request: message is not modified: specified new message content and "
                    "reply markup are exactly the same as a current content and reply markup "
                    "of the message",
                )
            self.inline_messages[inline_message_id] = changed
        return Answer(200, {"ok": True, "result": True})


def _refuse_result(result: Any, seen: set[str]) -> str | None:
    """What Telegram says to one inline query result it would not take."""
    if not isinstance(result, dict):
        return "Bad Request: RESULT_INVALID"
    result_id = str(result.get("id", ""))
    if not 1 <= len(result_id.encode()) <= 64:
        return "Bad Request: RESULT_ID_INVALID"
    if result_id in seen:
        return "Bad Request: RESULT_ID_DUPLICATE"
    seen.add(result_id)
    if result.get("type") == "article" and not result.get("title"):
        return "Bad Request: RESULT_TITLE_EMPTY"
    content = result.get("input_message_content")
    if result.get("type") == "article" and not isinstance(content, dict):
        return "Bad Request: MESSAGE_EMPTY"
    if isinstance(content, dict) and "message_text" in content:
        refusal = _refuse_text(
            {"text": content["message_text"], "parse_mode": content.get("parse_mode")}
        )
        if refusal:
            return refusal
    return _refuse_markup(result.get("reply_markup"))


def _refuse_results_button(button: Any) -> str | None:
    if not isinstance(button, dict) or not button.get("text"):
        return "Bad Request: BUTTON_INVALID"
    kinds = [key for key in ("web_app", "start_parameter") if key in button]
    if len(kinds) != 1:
        return "Bad Request: BUTTON_INVALID"
    start = button.get("start_parameter")
    if start is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", str(start)):
        return "Bad Request: START_PARAM_INVALID"
    return None
