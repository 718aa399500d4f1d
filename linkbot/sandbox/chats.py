"""The sandbox's people and chats, and the simulated Telegram that keeps what was said.

:class:`SandboxTelegram` is the test suite's :class:`FakeTelegram`, answering
the bot exactly as the tests see it answered; it also keeps each chat's
messages (the bot's, as edited since, and the people's) for the page.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from linkbot.sandbox.fakes import BOT_ID, BOT_USERNAME, Answer, FakeTelegram, group_chat


@dataclass(frozen=True)
class Person:
    key: str
    user_id: int
    name: str
    # Whether LINKBOT_ALLOWED_USERS holds this person (the merchant's staff).
    allowed: bool

    def as_user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": self.name, "language_code": "en"}


MERCHANT = Person("merchant", 1111, "Nok", allowed=True)
CUSTOMER = Person("customer", 2222, "Ploy", allowed=False)
PEOPLE = {person.key: person for person in (MERCHANT, CUSTOMER)}
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Linkbot", "username": BOT_USERNAME}


@dataclass(frozen=True)
class ChatKind:
    """A kind of chat on the page; each person sees their own chat of a private kind."""

    key: str
    title: str
    subtitle: str

    def chat_for(self, person: Person) -> dict[str, Any]:
        """The chat as Telegram's updates describe it, seen by ``person``."""
        if self.key == "private":
            return {"id": person.user_id, "type": "private", "first_name": person.name}
        return GROUP


GROUP = group_chat()
# Inline mode and a business chat join this list as chat kinds when the bot takes them.
CHATS = (
    ChatKind("private", f"@{BOT_USERNAME}", "private chat with the bot"),
    ChatKind("group", str(GROUP["title"]), f"group: {MERCHANT.name}, {CUSTOMER.name} and the bot"),
)
CHAT_KINDS = {kind.key: kind for kind in CHATS}


@dataclass
class Entry:
    """One message in a chat, as the page shows it."""

    chat_id: int
    message_id: int
    sender: int  # a user id, or BOT_ID
    # The message as Telegram would put it in an update (a button press carries it).
    raw: dict[str, Any]
    text: str = ""
    html: bool = False
    reply_markup: dict[str, Any] | None = None
    photo: str | None = None
    document: str | None = None
    filename: str | None = None
    edited: bool = False
    date: float = field(default_factory=time.time)
    # The message this one answers, in the same chat.
    reply_to: int | None = None


@dataclass
class Notice:
    """A button's answer (answerCallbackQuery): a toast, or an alert to dismiss."""

    number: int
    user_id: int
    text: str
    alert: bool


class SandboxTelegram(FakeTelegram):
    def __init__(self) -> None:
        super().__init__()
        # Telegram's limit for groups (the bot's rate limiter keeps under it).
        self.group_limit = (20, 60.0)
        self.entries: dict[tuple[int, int], Entry] = {}
        self.notices: list[Notice] = []
        # Bumped on every change; the page asks for changes since the version it has.
        self.version = 0
        self._presses: dict[str, int] = {}
        self._counter = itertools.count(1)
        self._changes = threading.Lock()

    # What people do on the page

    def say(self, person: Person, kind: ChatKind, text: str) -> None:
        chat = kind.chat_for(person)
        message_id = self.next_message_id(chat["id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": person.as_user(),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        command = text.split(None, 1)[0] if text.startswith("/") else None
        if command is not None:
            message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        self._keep(Entry(chat["id"], message_id, person.user_id, message, text=text))
        # Privacy mode: in a group the bot sees commands only.
        if command is not None or chat["type"] == "private":
            self.push({"message": message})

    def press(self, person: Person, chat_id: int, message_id: int, data: str) -> bool:
        """``person`` presses a callback button; False when no such button is there."""
        with self._changes:
            entry = self.entries.get((chat_id, message_id))
            buttons = _buttons(entry.reply_markup if entry is not None else None)
            if entry is None or not any(b.get("callback_data") == data for b in buttons):
                return False
            query_id = str(next(self._counter) + 8_000_000)
            self._presses[query_id] = person.user_id
            message = dict(entry.raw)
        self.push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": person.as_user(),
                    "chat_instance": str(-chat_id),
                    "message": message,
                    "data": data,
                }
            }
        )
        return True

    def chat_entries(self, chat_id: int) -> list[Entry]:
        with self._changes:
            found = [e for e in self.entries.values() if e.chat_id == chat_id]
        return sorted(found, key=lambda e: e.message_id)

    def notices_for(self, user_id: int, after: int) -> list[Notice]:
        with self._changes:
            return [n for n in self.notices if n.user_id == user_id and n.number > after]

    # What the bot does, once the simulated Telegram has taken it

    def _answer(self, name: str, params: dict[str, Any]) -> Answer:
        answer = super()._answer(name, params)
        if answer.status == 200:
            self._record(name, params, answer.body["result"])
        return answer

    def _record(self, name: str, params: dict[str, Any], result: Any) -> None:
        if name == "answerCallbackQuery":
            with self._changes:
                user_id = self._presses.pop(str(params.get("callback_query_id")), None)
                if user_id is not None and params.get("text"):
                    self.notices.append(
                        Notice(
                            next(self._counter),
                            user_id,
                            str(params["text"]),
                            bool(params.get("show_alert")),
                        )
                    )
                    self.version += 1
            return
        if not isinstance(result, dict) or "chat" not in result:
            return
        chat_id, message_id = int(result["chat"]["id"]), int(result["message_id"])
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else None
        if name == "editMessageText":
            with self._changes:
                entry = self.entries.get((chat_id, message_id))
                if entry is not None:
                    # An edit without a keyboard removes the keyboard, as in Telegram.
                    entry.text, entry.html = str(params.get("text", "")), _html(params)
                    entry.reply_markup, entry.edited = markup, True
                    entry.raw = {**entry.raw, "text": entry.text, "reply_markup": markup}
                    if markup is None:
                        entry.raw.pop("reply_markup")
                    self.version += 1
            return
        if name == "editMessageReplyMarkup":
            with self._changes:
                entry = self.entries.get((chat_id, message_id))
                if entry is not None:
                    entry.reply_markup = markup
                    entry.raw = {**entry.raw, "reply_markup": markup}
                    self.version += 1
            return
        if name not in ("sendMessage", "sendPhoto", "sendDocument"):
            return
        raw = {**result, "from": BOT_USER}
        if markup is not None:
            raw["reply_markup"] = markup
        entry = Entry(
            chat_id,
            message_id,
            BOT_ID,
            raw,
            text=str(params.get("text" if name == "sendMessage" else "caption", "")),
            html=_html(params),
            reply_markup=markup,
        )
        reply = params.get("reply_parameters")
        if isinstance(reply, dict) and str(reply.get("chat_id", chat_id)) == str(chat_id):
            entry.reply_to = int(reply["message_id"])
        if name == "sendPhoto":
            entry.photo = result["photo"][-1]["file_id"]
        elif name == "sendDocument":
            entry.document = result["document"]["file_id"]
            upload = self.files.get(entry.document, {})
            entry.filename = str(upload.get("filename") or "document")
        self._keep(entry)

    def _keep(self, entry: Entry) -> None:
        with self._changes:
            self.entries[(entry.chat_id, entry.message_id)] = entry
            self.version += 1


def _html(params: dict[str, Any]) -> bool:
    return str(params.get("parse_mode", "")).upper() == "HTML"


def _buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not markup:
        return []
    return [button for row in markup.get("inline_keyboard", []) for button in row]
