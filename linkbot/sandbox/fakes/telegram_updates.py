"""The test bot as Telegram knows it, and updates as Telegram sends them."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

BOT_TOKEN = "123456789:AAEfakeTokenForLinkbotTests_0123456"
BOT_ID = 123456789
BOT_USERNAME = "linkbot_test_bot"
# Embedded as {**BOT_USER}: each message owns its copy, so none changes another.
BOT_USER: Mapping[str, Any] = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Linkbot",
    "username": BOT_USERNAME,
}


_message_ids = iter(range(1, 10**9))


def user(user_id: int, first_name: str = "Nok", language_code: str = "en") -> dict[str, Any]:
    return {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "Nok"}


def group_chat(chat_id: int = -1001234567890) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": "Café Nok"}


def command_update(
    text: str,
    *,
    user_id: int,
    chat: dict[str, Any],
    reply_to: dict[str, Any] | None = None,
    message_id: int | None = None,
    language_code: str = "en",
) -> dict[str, Any]:
    """A message update carrying a command, with the bot_command entity Telegram adds."""
    # Telegram's entity ends at the first character a command cannot hold.
    command = re.match(r"/[A-Za-z0-9_]*(?:@[A-Za-z0-9_]+)?", text)
    length = command.end() if command else len(text.split(None, 1)[0])
    message: dict[str, Any] = {
        "message_id": message_id or next(_message_ids),
        "from": user(user_id, language_code=language_code),
        "chat": chat,
        "date": int(time.time()),
        "text": text,
        "entities": [{"offset": 0, "length": length, "type": "bot_command"}],
    }
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": next(_message_ids), "message": message}


def callback_update(
    data: str, *, user_id: int, message: dict[str, Any], language_code: str = "en"
) -> dict[str, Any]:
    return {
        "update_id": next(_message_ids),
        "callback_query": {
            "id": str(next(_message_ids)),
            "from": user(user_id, language_code=language_code),
            "chat_instance": "-8123456789",
            "message": message,
            "data": data,
        },
    }


def migrate_to_update(old_chat_id: int, new_chat_id: int) -> dict[str, Any]:
    """The service message a basic group gets when it becomes a supergroup."""
    return _migration_update(old_chat_id, "group", migrate_to_chat_id=new_chat_id)


def migrate_from_update(old_chat_id: int, new_chat_id: int) -> dict[str, Any]:
    """The service message the new supergroup starts with."""
    return _migration_update(new_chat_id, "supergroup", migrate_from_chat_id=old_chat_id)


def _migration_update(chat_id: int, chat_type: str, **other_chat: int) -> dict[str, Any]:
    return {
        "update_id": next(_message_ids),
        "message": {
            "message_id": next(_message_ids),
            "from": user(1111),
            "chat": {"id": chat_id, "type": chat_type, "title": "Café Nok"},
            "date": int(time.time()),
            **other_chat,
        },
    }


def bot_membership_update(chat: dict[str, Any], status: str) -> dict[str, Any]:
    """The bot's own membership changed: added ("member"), removed ("kicked", "left")."""
    old, new = ("member", status) if status != "member" else ("left", status)
    member = {"kicked": {"until_date": 0}}.get(status, {})
    return {
        "update_id": next(_message_ids),
        "my_chat_member": {
            "chat": chat,
            "from": user(1111),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": {**BOT_USER}},
            "new_chat_member": {"status": new, "user": {**BOT_USER}, **member},
        },
    }


def inline_query_update(
    query: str, *, user_id: int, chat_type: str = "sender", query_id: str | None = None
) -> dict[str, Any]:
    """What Telegram sends as the user types ``@bot <query>`` (one per keystroke)."""
    return {
        "update_id": next(_message_ids),
        "inline_query": {
            "id": query_id or str(4_000_000_000_000 + next(_message_ids)),
            "from": user(user_id),
            "query": query,
            "offset": "",
            "chat_type": chat_type,
        },
    }


def chosen_inline_result_update(
    result_id: str, *, user_id: int, query: str, inline_message_id: str | None = None
) -> dict[str, Any]:
    """What Telegram sends, with inline feedback on, when the user sent a result."""
    chosen: dict[str, Any] = {"result_id": result_id, "from": user(user_id), "query": query}
    if inline_message_id is not None:
        chosen["inline_message_id"] = inline_message_id
    return {"update_id": next(_message_ids), "chosen_inline_result": chosen}
