"""The sandbox's people and chats, and the simulated Telegram that keeps what was said.

:class:`SandboxTelegram` is the test suite's :class:`FakeTelegram`, answering
the bot exactly as the tests see it answered; it also keeps each chat's
messages (the bot's, as edited since, and the people's) for the page, and
plays what people do in Telegram's own interface: typing ``@bot …`` (inline
mode) and choosing a result, and the merchant's own chat with a customer,
which the bot is connected to through Telegram Business.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from linkbot.sandbox.fakes import (
    BOT_ID,
    BOT_USER,
    BOT_USERNAME,
    Answer,
    FakeTelegram,
    group_chat,
    user,
)

# The Telegram app languages the page offers (the bot speaks each of them).
LANGUAGES = {"en": "English", "th": "ไทย", "ja": "日本語"}
BUSINESS_CONNECTION = "bconn-sandbox"
# What the customer says first in the business chat: Telegram lets a business
# bot write only to a customer who wrote in the last 24 hours.
GREETING = "Hi Nok! Could you send me a payment link for my Hot Latte?"


@dataclass(frozen=True)
class Person:
    key: str
    user_id: int
    name: str
    # Whether LINKBOT_ALLOWED_USERS holds this person (the merchant's staff).
    allowed: bool

    def as_user(self, language: str = "en") -> dict[str, Any]:
        return user(self.user_id, self.name, language)


MERCHANT = Person("merchant", 1111, "Nok", allowed=True)
CUSTOMER = Person("customer", 2222, "Ploy", allowed=False)
PEOPLE = {person.key: person for person in (MERCHANT, CUSTOMER)}


@dataclass(frozen=True)
class ChatKind:
    """A kind of chat on the page; each person sees their own chat of a private kind."""

    key: str
    title: str
    subtitle: str
    # The inline query's chat_type when someone types ``@bot …`` here.
    inline_chat_type: str

    def chat_for(self, person: Person) -> dict[str, Any]:
        """The chat as Telegram's updates describe it, seen by ``person``.

        The business chat is the same one for both people; it is kept as the
        bot sees it, the merchant's chat with the customer.
        """
        if self.key == "private":
            return {"id": person.user_id, "type": "private", "first_name": person.name}
        if self.key == "business":
            return {"id": CUSTOMER.user_id, "type": "private", "first_name": CUSTOMER.name}
        return GROUP

    @property
    def business(self) -> bool:
        return self.key == "business"


GROUP = group_chat()
CHATS = (
    ChatKind("private", f"@{BOT_USERNAME}", "private chat with the bot", "sender"),
    ChatKind(
        "group",
        str(GROUP["title"]),
        f"group: {MERCHANT.name}, {CUSTOMER.name} and the bot",
        "supergroup",
    ),
    ChatKind(
        "business",
        f"{MERCHANT.name} ↔ {CUSTOMER.name}",
        f"{MERCHANT.name}'s own chat with {CUSTOMER.name}; the bot is not in it. "
        "Telegram Business connects it: /link here is posted as "
        f"{MERCHANT.name}. Inline mode: @{BOT_USERNAME} 74.40 Hot Latte",
        "private",
    ),
)
CHAT_KINDS = {kind.key: kind for kind in CHATS}


def chats_of(person: Person) -> set[tuple[int, bool]]:
    """The chats ``person`` is in, as (chat id, business): the business chat and the
    customer's private chat with the bot share an id, as in Telegram."""
    return {(kind.chat_for(person)["id"], kind.business) for kind in CHATS}


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
    # In the merchant's own chat with the customer (its ids are the bot's chat with
    # the customer's, as for Telegram, so the two are told apart by this).
    business: bool = False
    # Posted through inline mode ("via @bot"), and the id the bot edits it by.
    via_bot: bool = False
    inline_message_id: str | None = None
    # Sent by the bot as the merchant, through the business connection.
    by_business_bot: bool = False


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
        # Inline queries typed on the page: query id -> (who, in which chat).
        self._queries: dict[str, tuple[int, str]] = {}
        # Messages posted through inline mode: inline_message_id -> (chat id, message id).
        self._inline: dict[str, tuple[int, int]] = {}
        self._counter = itertools.count(1)
        self._changes = threading.Lock()

    def open_business(self) -> None:
        """The merchant connects the bot to their account, and a customer writes to them."""
        update = self.connect_business(MERCHANT.user_id, connection_id=BUSINESS_CONNECTION)
        update["business_connection"]["user"] = MERCHANT.as_user()
        self.push(update)
        self.say(CUSTOMER, CHAT_KINDS["business"], GREETING)

    # What people do on the page

    def say(
        self,
        person: Person,
        kind: ChatKind,
        text: str,
        language: str = "en",
        reply_to: int | None = None,
    ) -> bool:
        """``person`` writes in ``kind``'s chat, as a reply to message ``reply_to`` when
        given; False, and nothing said, when that message is not in the chat."""
        chat = kind.chat_for(person)
        quoted = self._quoted(chat["id"], kind.business, reply_to)
        if reply_to is not None and quoted is None:
            return False
        message_id = self.next_message_id(chat["id"])
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": person.as_user(language),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        command = text.split(None, 1)[0] if text.startswith("/") else None
        if command is not None:
            message["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
        if quoted is not None:
            message["reply_to_message"] = quoted
        entry = Entry(chat["id"], message_id, person.user_id, message, text=text, reply_to=reply_to)
        if kind.business:
            # A connected bot reads every message of the chat, the customer's too.
            entry.business = True
            message["business_connection_id"] = BUSINESS_CONNECTION
            if person.user_id != MERCHANT.user_id:
                with self._lock:
                    key = (BUSINESS_CONNECTION, str(chat["id"]))
                    self.customer_wrote_at[key] = time.time()
            self._keep(entry)
            self.push({"business_message": message})
            return True
        self._keep(entry)
        # Privacy mode: in a group the bot sees commands and replies to its own messages only.
        to_bot = quoted is not None and quoted.get("from", {}).get("id") == BOT_ID
        if command is not None or chat["type"] == "private" or to_bot:
            self.push({"message": message})
        return True

    def _quoted(
        self, chat_id: int, business: bool, message_id: int | None
    ) -> dict[str, Any] | None:
        """Message ``message_id`` of the chat as a reply's reply_to_message carries it."""
        if message_id is None:
            return None
        with self._changes:
            entry = self.entries.get((chat_id, message_id))
            if entry is None or entry.business != business:
                return None
            # Telegram does not nest: the quoted message comes without its own quote.
            return {key: value for key, value in entry.raw.items() if key != "reply_to_message"}

    def inline_query(self, person: Person, kind: ChatKind, query: str, language: str) -> str:
        """``person`` typed ``@bot query`` in ``kind``'s chat: the query's id."""
        query_id = str(next(self._counter) + 4_000_000_000_000)
        with self._changes:
            self._queries[query_id] = (person.user_id, kind.key)
        inline = {
            "id": query_id,
            "from": person.as_user(language),
            "query": query,
            "offset": "",
            "chat_type": kind.inline_chat_type,
        }
        self.push({"inline_query": inline})
        return query_id

    def inline_answer(self, query_id: str) -> dict[str, Any] | None:
        """The bot's answerInlineQuery for ``query_id``, once it came."""
        with self._lock:
            return next((a for a in self.inline_answers if a["inline_query_id"] == query_id), None)

    def choose(
        self,
        person: Person,
        kind: ChatKind,
        result_id: str,
        language: str,
        reply_to: int | None = None,
    ) -> bool:
        """``person`` taps a result offered to them in this chat, sent as a reply to message
        ``reply_to`` when given; False when none was offered or that message is not there."""
        chat = kind.chat_for(person)
        quoted = self._quoted(chat["id"], kind.business, reply_to)
        if reply_to is not None and quoted is None:
            return False
        with self._lock:
            offered = self.offered.get(result_id)
        if offered is None:
            return False
        result, query = offered
        with self._changes:
            asked = self._queries.get(str(query["id"]))
        content = result.get("input_message_content")
        if asked != (person.user_id, kind.key) or not isinstance(content, dict):
            return False
        chosen = self.post_inline_result(result_id)
        chosen["chosen_inline_result"]["from"] = person.as_user(language)
        message_id = self.next_message_id(chat["id"])
        markup = result.get("reply_markup")
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": person.as_user(language),
            "chat": chat,
            "date": int(time.time()),
            "text": str(content.get("message_text", "")),
            "via_bot": {**BOT_USER},
        }
        if markup:
            message["reply_markup"] = markup
        if quoted is not None:
            message["reply_to_message"] = quoted
        inline_message_id = chosen["chosen_inline_result"].get("inline_message_id")
        entry = Entry(
            chat["id"],
            message_id,
            person.user_id,
            message,
            text=message["text"],
            html=_html(content),
            reply_markup=markup or None,
            business=kind.business,
            via_bot=True,
            inline_message_id=inline_message_id,
            reply_to=reply_to,
        )
        if inline_message_id is not None:
            with self._changes:
                self._inline[inline_message_id] = (chat["id"], message_id)
        self._keep(entry)
        if kind.business:
            self.push(
                {"business_message": {**message, "business_connection_id": BUSINESS_CONNECTION}}
            )
        self.push(chosen)
        return True

    def press(
        self, person: Person, chat_id: int, message_id: int, data: str, language: str = "en"
    ) -> bool:
        """``person`` presses a callback button; False when no such button is there.

        Only in a chat ``person`` is in: Telegram shows nobody else's.
        """
        with self._changes:
            entry = self.entries.get((chat_id, message_id))
            if entry is None or (entry.chat_id, entry.business) not in chats_of(person):
                return False
            if not any(b.get("callback_data") == data for b in _buttons(entry.reply_markup)):
                return False
            query_id = str(next(self._counter) + 8_000_000)
            self._presses[query_id] = person.user_id
            pressed: dict[str, Any] = {
                "id": query_id,
                "from": person.as_user(language),
                "chat_instance": str(-chat_id),
                "data": data,
            }
            # A message sent through inline mode is the bot's only by its inline id.
            if entry.inline_message_id is not None:
                pressed["inline_message_id"] = entry.inline_message_id
            else:
                pressed["message"] = dict(entry.raw)
        self.push({"callback_query": pressed})
        return True

    def chat_entries(self, chat_id: int, business: bool = False) -> list[Entry]:
        with self._changes:
            found = [
                e for e in self.entries.values() if e.chat_id == chat_id and e.business == business
            ]
        return sorted(found, key=lambda e: e.message_id)

    def notices_for(self, user_id: int, after: int) -> list[Notice]:
        with self._changes:
            return [n for n in self.notices if n.user_id == user_id and n.number > after]

    def last_notice(self) -> int:
        """The newest notice's number (0 before any): a page opened now shows later ones only."""
        with self._changes:
            return max((n.number for n in self.notices), default=0)

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
        if name == "answerInlineQuery":
            with self._changes:
                self.version += 1
            return
        if name == "deleteBusinessMessages":
            ids = {int(i) for i in params.get("message_ids", [])}
            with self._changes:
                for key, entry in list(self.entries.items()):
                    if entry.business and entry.message_id in ids:
                        del self.entries[key]
                self.version += 1
            return
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) else None
        if name in ("editMessageText", "editMessageReplyMarkup") and "inline_message_id" in params:
            # Telegram answers an inline message's edit with True, not the message.
            with self._changes:
                where = self._inline.get(str(params["inline_message_id"]))
            if where is not None:
                self._edit(name, where, params, markup)
            return
        if not isinstance(result, dict) or "chat" not in result:
            return
        chat_id, message_id = int(result["chat"]["id"]), int(result["message_id"])
        if name in ("editMessageText", "editMessageReplyMarkup"):
            self._edit(name, (chat_id, message_id), params, markup)
            return
        if name not in ("sendMessage", "sendPhoto", "sendDocument"):
            return
        business = bool(params.get("business_connection_id"))
        raw = {**result} if business else {**result, "from": {**BOT_USER}}
        if markup is not None:
            raw["reply_markup"] = markup
        entry = Entry(
            chat_id,
            message_id,
            MERCHANT.user_id if business else BOT_ID,
            raw,
            text=str(params.get("text" if name == "sendMessage" else "caption", "")),
            html=_html(params),
            reply_markup=markup,
            business=business,
            by_business_bot=business,
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

    def _edit(
        self,
        name: str,
        where: tuple[int, int],
        params: dict[str, Any],
        markup: dict[str, Any] | None,
    ) -> None:
        with self._changes:
            entry = self.entries.get(where)
            if entry is None:
                return
            if name == "editMessageText":
                entry.text, entry.html = str(params.get("text", "")), _html(params)
                entry.edited = True
                entry.raw = {**entry.raw, "text": entry.text}
            # An edit without a keyboard removes the keyboard, as in Telegram.
            entry.reply_markup = markup
            entry.raw = {**entry.raw, "reply_markup": markup}
            if markup is None:
                entry.raw.pop("reply_markup")
            self.version += 1

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
