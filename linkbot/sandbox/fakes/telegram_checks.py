"""What the Bot API refuses, and how it says so: text and captions, keyboards, errors."""

from __future__ import annotations

import re
import urllib.parse
from html.parser import HTMLParser
from typing import Any

from linkbot.sandbox.fakes.common import Answer
from linkbot.sandbox.markup import TELEGRAM_TAGS


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.problem: str | None = None
        self.length = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            self.problem = f'Unsupported start tag "{tag}"'
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.problem = f'Unexpected end tag "{tag}"'

    def handle_data(self, data: str) -> None:
        self.length += len(data)


MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)


def _refuse_text(params: dict[str, Any]) -> str | None:
    """What Telegram would say to this text, or None if it would take it."""
    return html_problem(str(params.get("text", "")), MESSAGE_LIMIT, params.get("parse_mode"))


def html_problem(text: str, limit: int = MESSAGE_LIMIT, parse_mode: object = "HTML") -> str | None:
    """What Telegram would say to this text (or caption, with its limit), or None if it fits."""
    if parse_mode != "HTML":
        length = len(text)
    else:
        if re.search(r"&(?![a-zA-Z]+;|#\d+;|#x[0-9a-fA-F]+;)", text):
            return "Bad Request: can't parse entities: unescaped &"
        checker = _HtmlChecker()
        checker.feed(text)
        checker.close()
        if checker.problem or checker.open:
            return f"Bad Request: can't parse entities: {checker.problem or 'unclosed tag'}"
        length = checker.length
    if not text.strip():
        return "Bad Request: message text is empty"
    if length > limit:
        return "Bad Request: message is too long"
    return None


_BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)


def _refuse_markup(markup: Any) -> str | None:
    """What Telegram says to an inline keyboard it would not take."""
    if markup is None:
        return None
    if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
        return "Bad Request: REPLY_MARKUP_INVALID"
    for row in markup["inline_keyboard"]:
        for button in row:
            actions = [key for key in button if key in _BUTTON_ACTIONS]
            if not button.get("text") or len(actions) != 1:
                return "Bad Request: BUTTON_TYPE_INVALID"
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= 64:
                return "Bad Request: BUTTON_DATA_INVALID"
            if "url" in button and not _button_url(button["url"]):
                return "Bad Request: BUTTON_URL_INVALID"
    return None


def _button_url(url: object) -> bool:
    """Telegram opens web and tg:// addresses from a button, nothing else."""
    parts = urllib.parse.urlsplit(str(url))
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.netloc)
    return parts.scheme.lower() == "tg" and bool(parts.netloc or parts.path)


def _tg_error(status: int, description: str, parameters: dict[str, Any] | None = None) -> Answer:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Answer(status, body)


def flood_body(retry_after: int) -> dict[str, Any]:
    """Telegram's answer to a bot that sends too fast."""
    return {
        "ok": False,
        "error_code": 429,
        "description": f"Too Many Requests: retry after {retry_after}",
        "parameters": {"retry_after": retry_after},
    }
