"""Telegram Business: a merchant's connection, and the bot writing in their chats as them."""

from __future__ import annotations

import threading
import time
from typing import Any

from linkbot.sandbox.fakes.common import Answer
from linkbot.sandbox.fakes.telegram_checks import _tg_error
from linkbot.sandbox.fakes.telegram_updates import (
    BOT_USER,
    _message_ids,
    command_update,
    private_chat,
    user,
)


class _Business:
    """FakeTelegram's business connections."""

    _lock: threading.Condition  # FakeTelegram's

    def __init__(self) -> None:
        super().__init__()
        # Telegram Business: connections by id (as getBusinessConnection gives them),
        # when each customer last wrote in a connected chat, and the bot's own
        # messages there (an account's message ids span all its private chats).
        self.business: dict[str, dict[str, Any]] = {}
        self.customer_wrote_at: dict[tuple[str, str], float] = {}
        self.business_sent: set[tuple[str, int]] = set()
        self.business_deleted: set[tuple[str, int]] = set()

    # Test controls

    def connect_business(
        self,
        owner: int,
        *,
        connection_id: str = "bconn-Q1w2E3r4",
        enabled: bool = True,
        can_reply: bool = True,
        can_delete_all: bool = True,
    ) -> dict[str, Any]:
        """A merchant connects the bot (or changes it): the business_connection update."""
        rights = {
            "can_reply": can_reply,
            "can_read_messages": True,
            "can_delete_sent_messages": can_delete_all,
            "can_delete_all_messages": can_delete_all,
        }
        connection = {
            "id": connection_id,
            "user": user(owner, "Merchant"),
            "user_chat_id": owner,
            "date": int(time.time()),
            "rights": {k: v for k, v in rights.items() if v},  # Telegram omits false rights
            "is_enabled": enabled,
        }
        with self._lock:
            self.business[connection_id] = connection
        return {"update_id": next(_message_ids), "business_connection": connection}

    def business_message(
        self,
        text: str,
        *,
        sender: int,
        customer: int,
        connection_id: str = "bconn-Q1w2E3r4",
        message_id: int | None = None,
        at: float | None = None,
    ) -> dict[str, Any]:
        """A message in a connected chat, from its owner or from the customer."""
        update = command_update(
            text, user_id=sender, chat=private_chat(customer), message_id=message_id
        )
        message = update.pop("message")
        message["business_connection_id"] = connection_id
        if at is not None:
            message["date"] = int(at)
        if sender == customer:
            with self._lock:
                self.customer_wrote_at[(connection_id, str(customer))] = (
                    time.time() if at is None else at
                )
        return {**update, "business_message": message}

    # The API

    def _refuse_business(self, name: str, params: dict[str, Any]) -> Answer | None:
        """Sending as a merchant: a live connection, the right to reply, a customer heard lately."""
        connection_id = str(params["business_connection_id"])
        with self._lock:
            connection = self.business.get(connection_id)
            wrote_at = self.customer_wrote_at.get((connection_id, str(params.get("chat_id"))))
        if connection is None:
            return _tg_error(400, "Bad Request: BUSINESS_CONNECTION_INVALID")
        if not connection["is_enabled"]:
            return _tg_error(400, "Bad Request: BUSINESS_CONNECTION_NOT_ALLOWED")
        if not connection["rights"].get("can_reply"):
            return _tg_error(403, "Forbidden: not enough rights to reply in the business chat")
        if name != "editMessageText" and (wrote_at is None or time.time() - wrote_at > 86400):
            return _tg_error(400, "Bad Request: BUSINESS_PEER_USAGE_MISSING")
        return None

    def _delete_business(self, params: dict[str, Any]) -> Answer:
        connection_id = str(params.get("business_connection_id"))
        ids = [int(i) for i in params.get("message_ids", [])]
        with self._lock:
            connection = self.business.get(connection_id)
            if connection is None:
                return _tg_error(400, "Bad Request: BUSINESS_CONNECTION_INVALID")
            if not connection["is_enabled"]:
                return _tg_error(400, "Bad Request: BUSINESS_CONNECTION_NOT_ALLOWED")
            rights = connection["rights"]
            for message_id in ids:
                own = (connection_id, message_id) in self.business_sent
                if not (
                    rights.get("can_delete_all_messages")
                    or (own and rights.get("can_delete_sent_messages"))
                ):
                    return _tg_error(400, "Bad Request: MESSAGE_DELETE_FORBIDDEN")
            self.business_deleted.update((connection_id, i) for i in ids)
        return Answer(200, {"ok": True, "result": True})

    def _as_business(self, message: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        """A message sent as a merchant comes from the merchant, naming the bot that sent it."""
        connection_id = params.get("business_connection_id")
        if not connection_id:
            return message
        with self._lock:
            owner = self.business[str(connection_id)]["user"]
            self.business_sent.add((str(connection_id), int(message["message_id"])))
        return {
            **message,
            "from": owner,
            "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Customer"},
            "business_connection_id": connection_id,
            "sender_business_bot": {**BOT_USER},
        }
