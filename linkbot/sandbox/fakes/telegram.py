"""A stand-in for the Telegram Bot API: updates in, messages out, everything recorded.

Inline mode, Telegram Business and webhooks are each in a module of their own
(telegram_inline, telegram_business, telegram_webhooks), mixed into FakeTelegram.
"""

from __future__ import annotations

import email.policy
import json
import math
import re
import threading
import time
import urllib.parse
from contextlib import suppress
from email.parser import BytesParser
from http import HTTPStatus
from typing import Any

from linkbot.sandbox.fakes.common import Answer, Fault, _Concurrency, _Faults
from linkbot.sandbox.fakes.telegram_business import _Business
from linkbot.sandbox.fakes.telegram_checks import (
    _COMMAND_SCOPES,
    CAPTION_LIMIT,
    _refuse_markup,
    _refuse_text,
    _tg_error,
    flood_body,
    html_problem,
)
from linkbot.sandbox.fakes.telegram_inline import _InlineMode
from linkbot.sandbox.fakes.telegram_updates import (
    BOT_TOKEN,
    BOT_USER,
    migrate_from_update,
    migrate_to_update,
    user,
)
from linkbot.sandbox.fakes.telegram_webhooks import _Webhooks


class FakeTelegram(_InlineMode, _Business, _Webhooks, _Concurrency):
    """Enough of the Bot API for linkbot: updates in, messages out, everything recorded."""

    def __init__(self, token: str = BOT_TOKEN) -> None:
        super().__init__()
        self.token = token
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # The messages sendMessage made, as Telegram returned them.
        self.messages: list[dict[str, Any]] = []
        self.faults = _Faults()
        self._updates: list[dict[str, Any]] = []
        # Flood control as Telegram applies it to groups: (messages, seconds).
        self.group_limit: tuple[int, float] | None = None
        self._group_sends: dict[str, list[float]] = {}
        self.floods = 0
        # Chats the bot was removed from or blocked in, and groups upgraded to supergroups.
        self.forbidden: set[str] = set()
        self.migrated: dict[str, int] = {}
        # Users who never opened a private chat with the bot: it cannot write to
        # them first (403) until they send it something there, as Start does.
        self.not_started: set[str] = set()
        # (chat id, message id) of messages deleted in Telegram.
        self.deleted: set[tuple[str, str]] = set()
        # Command menus set with setMyCommands, by (scope type, language code or None).
        self.menus: dict[tuple[str, str | None], list[dict[str, str]]] = {}
        self._next_update_id = 1000
        # Message ids count per chat, as in Telegram; a chat's first is 501.
        self._next_message_id = 500
        self._message_ids: dict[int, int] = {}
        # What sendPhoto and sendDocument uploaded, by the file_id they answered.
        self.files: dict[str, dict[str, Any]] = {}
        self._lock = threading.Condition()
        # The update types getUpdates was last asked for (None: every usual one).
        self.allowed_updates: set[str] | None = None
        # Group members' statuses for getChatMember: (chat id, user id) -> status.
        self.members: dict[tuple[str, str], str] = {}

    # Test controls

    def fail(self, match: str, **kwargs: Any) -> None:
        self.faults.add(Fault(match, **kwargs))

    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        self.note_inline_query(update)
        self.note_private_chat(update)
        with self._lock:
            update = {**update, "update_id": self._next_update_id}
            self._next_update_id += 1
            self._updates.append(update)
            self._lock.notify_all()
            return update

    def push_batch(self, updates: list[dict[str, Any]]) -> None:
        """Queue updates so that one getUpdates call returns them all."""
        with self._lock:
            for update in updates:
                self.push(update)

    def delete_message(self, chat_id: int, message_id: int) -> None:
        """Someone deleted a message: replies to it and edits of it now fail."""
        with self._lock:
            self.deleted.add((str(chat_id), str(message_id)))

    def never_started(self, user_id: int) -> None:
        """A user who never opened a private chat with the bot: sends to them get 403."""
        with self._lock:
            self.not_started.add(str(user_id))

    def note_private_chat(self, update: dict[str, Any]) -> None:
        """A user wrote to the bot in their private chat (pressed Start): it may write back."""
        message = update.get("message")
        if isinstance(message, dict) and message.get("chat", {}).get("type") == "private":
            with self._lock:
                self.not_started.discard(str(message["chat"]["id"]))

    def forbid(self, chat_id: int) -> None:
        """The bot is removed from a group, or blocked by a user: every send gets 403."""
        with self._lock:
            self.forbidden.add(str(chat_id))

    def migrate(self, old_chat_id: int, new_chat_id: int) -> None:
        """Upgrade a group to a supergroup, as Telegram does: service messages in both."""
        with self._lock:
            self.migrated[str(old_chat_id)] = new_chat_id
        self.push(migrate_to_update(old_chat_id, new_chat_id))
        self.push(migrate_from_update(old_chat_id, new_chat_id))

    def add_member(self, chat_id: int, user_id: int, status: str) -> None:
        """A group member's status: "creator", "administrator", "member", "left", ..."""
        with self._lock:
            self.members[(str(chat_id), str(user_id))] = status

    def next_message_id(self, chat_id: int) -> int:
        """The id the next message in ``chat_id`` gets, whoever sends it."""
        with self._lock:
            self._message_ids[chat_id] = self._message_ids.get(chat_id, self._next_message_id) + 1
            return self._message_ids[chat_id]

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        with self._lock:
            return [params for name, params in self.calls if name == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.sent(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {method} call(s), saw {len(self.sent(method))}")

    # The API

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        path = urllib.parse.urlsplit(target).path
        prefix = f"/bot{self.token}/"
        if not path.startswith(prefix):
            return Answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        name = path[len(prefix) :]
        params = _telegram_params(headers.get("content-type", ""), body)
        with self._lock:
            if name != "getUpdates":
                self.calls.append((name, params))
            fault = self.faults.take(name)
        if fault is not None and fault.apply:
            # Telegram does it, but the answer is late or lost.
            answer = self._answer(name, params)
            answer.delay, answer.drop = fault.delay, fault.drop
            return answer
        if fault is not None:
            body_ = fault.body or {
                "ok": False,
                "error_code": fault.status,
                "description": _phrase(fault.status),
            }
            return Answer(fault.status, body_, fault.headers, fault.drop, fault.delay)
        if name == "getUpdates":
            with self._lock:
                if self.webhook is not None:
                    self.conflicts += 1
                    return _tg_error(
                        409,
                        "Conflict: can't use getUpdates method while webhook is active; "
                        "use deleteWebhook to delete the webhook first",
                    )
            return Answer(200, {"ok": True, "result": self._get_updates(params)})
        if name in ("setWebhook", "deleteWebhook", "getWebhookInfo"):
            return self._webhook_method(name, params)
        return self._answer(name, params)

    def _answer(self, name: str, params: dict[str, Any]) -> Answer:
        if name == "setMyCommands":
            return self._set_my_commands(params)
        if name == "deleteMyCommands":
            return self._delete_my_commands(params)
        if name == "answerInlineQuery":
            return self._answer_inline_query(params)
        if name in ("editMessageText", "editMessageReplyMarkup") and "inline_message_id" in params:
            return self._edit_inline(name, params)
        if name == "getBusinessConnection":
            with self._lock:
                connection = self.business.get(str(params.get("business_connection_id")))
            if connection is None:
                return _tg_error(400, "Bad Request: BUSINESS_CONNECTION_INVALID")
            return Answer(200, {"ok": True, "result": connection})
        if name == "deleteBusinessMessages":
            return self._delete_business(params)
        if name == "getChatMember":
            return self._chat_member(params)
        if name == "answerCallbackQuery" and len(str(params.get("text", ""))) > 200:
            return _tg_error(400, "Bad Request: MESSAGE_TOO_LONG")
        refusal = self._refuse(name, params)
        if refusal is not None:
            return refusal
        result = self._result(name, params)
        if name == "sendMessage":
            with self._lock:
                self.messages.append(result)
        return Answer(200, {"ok": True, "result": result})

    def _refuse(self, name: str, params: dict[str, Any]) -> Answer | None:
        """Telegram's refusals: bad text, gone chats and messages, flood control."""
        if name not in _SENDS:
            return None
        chat_id = str(params.get("chat_id", ""))
        if params.get("business_connection_id"):
            refusal = self._refuse_business(name, params)
            if refusal is not None:
                return refusal
        with self._lock:
            if chat_id in self.not_started and not params.get("business_connection_id"):
                return _tg_error(403, "Forbidden: bot can't initiate conversation with a user")
            if chat_id in self.forbidden:
                kind = "user" if not chat_id.startswith("-") else "supergroup chat"
                verb = "blocked by the user" if kind == "user" else f"kicked from the {kind}"
                return _tg_error(403, f"Forbidden: bot was {verb}")
            if chat_id in self.migrated:
                return _tg_error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    {"migrate_to_chat_id": self.migrated[chat_id]},
                )
            if name == "editMessageText" and (chat_id, str(params.get("message_id"))) in (
                self.deleted
            ):
                return _tg_error(400, "Bad Request: message to edit not found")
            reply = params.get("reply_parameters")
            if (
                isinstance(reply, dict)
                and (str(reply.get("chat_id", chat_id)), str(reply.get("message_id")))
                in self.deleted
                and not reply.get("allow_sending_without_reply")
            ):
                return _tg_error(400, "Bad Request: message to be replied not found")
        if name in ("sendMessage", "editMessageText"):
            problem = _refuse_text(params)
            if problem:
                return _tg_error(400, problem)
        elif params.get("caption"):
            problem = html_problem(str(params["caption"]), CAPTION_LIMIT, params.get("parse_mode"))
            if problem:
                return _tg_error(400, problem.replace("message is", "message caption is"))
        problem = _refuse_markup(params.get("reply_markup"))
        if problem:
            return _tg_error(400, problem)
        if name != "editMessageText":
            flood = self._flood_control(chat_id)
            if flood is not None:
                return Answer(flood.status, flood.body)
        return None

    def _set_my_commands(self, params: dict[str, Any]) -> Answer:
        """Telegram's checks: 1-100 commands of [a-z0-9_]{1,32}, descriptions of 1-256 chars."""
        commands = params.get("commands")
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or None
        if not isinstance(commands, list) or len(commands) > 100:
            return _tg_error(400, "Bad Request: BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            name = command.get("command", "") if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                return _tg_error(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                return _tg_error(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            return _tg_error(400, "Bad Request: can't parse BotCommandScope JSON object")
        if language is not None and not re.fullmatch(r"[a-z]{2}", str(language)):
            return _tg_error(400, "Bad Request: invalid language code specified")
        with self._lock:
            self.menus[(scope["type"], language)] = [dict(c) for c in commands]
        return Answer(200, {"ok": True, "result": True})

    def _delete_my_commands(self, params: dict[str, Any]) -> Answer:
        """As Telegram: the menu of that scope and language goes; none there is no error."""
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or None
        if not isinstance(scope, dict) or scope.get("type") not in _COMMAND_SCOPES:
            return _tg_error(400, "Bad Request: can't parse BotCommandScope JSON object")
        if language is not None and not re.fullmatch(r"[a-z]{2}", str(language)):
            return _tg_error(400, "Bad Request: invalid language code specified")
        with self._lock:
            self.menus.pop((scope["type"], language), None)
        return Answer(200, {"ok": True, "result": True})

    def _chat_member(self, params: dict[str, Any]) -> Answer:
        chat_id, user_id = str(params.get("chat_id")), str(params.get("user_id"))
        with self._lock:
            status = self.members.get((chat_id, user_id), "left")
        member: dict[str, Any] = {"status": status, "user": user(int(user_id))}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": False,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": False,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return Answer(200, {"ok": True, "result": member})

    def _flood_control(self, chat_id: str) -> Fault | None:
        if self.group_limit is None or not chat_id.startswith("-"):
            return None
        limit, period = self.group_limit
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._group_sends.get(chat_id, []) if now - t < period]
            if len(recent) >= limit:
                retry_after = max(1, math.ceil(period - (now - recent[0])))
                self._group_sends[chat_id] = recent
                self.floods += 1
                return Fault("sendMessage", status=429, body=flood_body(retry_after))
            self._group_sends[chat_id] = [*recent, now]
        return None

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), 0.5)
        with self._lock:
            if isinstance(params.get("allowed_updates"), list):
                # Telegram keeps the last list it was given, and never delivers the rest.
                self.allowed_updates = set(params["allowed_updates"]) or None
            self._updates = [
                u
                for u in self._updates
                if u["update_id"] >= offset
                and (self.allowed_updates is None or _update_type(u) in self.allowed_updates)
            ]
            if not self._updates and wait:
                self._lock.wait(wait)
            return list(self._updates)

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return {
                **BOT_USER,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": True,
            }
        if name in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            if name == "sendMessage":
                message_id = self.next_message_id(chat_id)
            else:
                message_id = int(params["message_id"])
            chat = (
                {"id": chat_id, "type": "private", "first_name": "Merchant"}
                if chat_id > 0
                else {"id": chat_id, "type": "supergroup", "title": "Shop"}
            )
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": chat,
                "from": {**BOT_USER},
                "text": params.get("text", ""),
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            return self._as_business(message, params)
        if name in ("sendDocument", "sendPhoto"):
            chat_id = int(params["chat_id"])
            message_id = self.next_message_id(chat_id)
            file_id = f"file{abs(chat_id)}_{message_id}"
            file = {"file_id": file_id, "file_unique_id": f"u{abs(chat_id)}_{message_id}"}
            upload = params.get("document" if name == "sendDocument" else "photo")
            with self._lock:
                if isinstance(upload, dict):
                    self.files[file_id] = upload
                elif isinstance(upload, str) and upload in self.files:  # sent again by file_id
                    self.files[file_id] = self.files[upload]
            photo = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                **(
                    {"document": file}
                    if name == "sendDocument"
                    else {"photo": [{**file, "width": 320, "height": 320}]}
                ),
                "caption": params.get("caption", ""),
            }
            return self._as_business(photo, params)
        return True


def _update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


_SENDS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})


def _telegram_params(content_type: str, body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    if content_type.startswith("application/json"):
        raw: dict[str, Any] = json.loads(body)
    elif content_type.startswith("multipart/form-data"):
        raw = _multipart_params(content_type, body)
    else:
        raw = dict(urllib.parse.parse_qsl(body.decode()))
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if value in ("true", "false"):
            value = value == "true"
        elif isinstance(value, str) and value[:1] in "[{":
            with suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


def _multipart_params(content_type: str, body: bytes) -> dict[str, Any]:
    """An upload's form fields as text, and each file as {"filename": ..., "content": bytes}."""
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    form = BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, Any] = {}
    for part in form.iter_parts():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        assert isinstance(name, str) and isinstance(content, bytes)
        filename = part.get_filename()
        fields[name] = (
            {"filename": filename, "content": content} if filename is not None else content.decode()
        )
    return fields


def _phrase(status: int) -> str:
    """The reason phrase of an HTTP status, as Telegram's error descriptions give it."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Internal Server Error"
