"""Local stand-ins for the Omise API and the Telegram Bot API.

Each fake is a plain state machine, ``handle(...) -> Answer``, so the same
behaviour serves two ways: as a respx side effect inside a test's event
loop, and as a real HTTP server on 127.0.0.1 for end-to-end tests and
benchmarks (:func:`serve`). Faults can be queued on either.
"""

from __future__ import annotations

import base64
import email.policy
import json
import math
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import httpx

from linkbot.sandbox.markup import TELEGRAM_TAGS

OMISE_KEY = "skey_test_5xa9q0linkbotsecretkey"
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


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    # "drop": close the connection without an answer, after the request was read.
    drop: bool = False
    delay: float = 0.0


@dataclass
class Fault:
    """What to do instead of answering the next matching request."""

    match: str  # "POST /links", "GET /links", "sendMessage", ... ("*" for any)
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0
    # Whether the request still takes effect (a create whose answer is lost).
    apply: bool = False
    times: int = 1


class _Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, key: str) -> Fault | None:
        for fault in self._faults:
            if fault.match in (key, "*") or key.startswith(fault.match + " "):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id(prefix: str) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(19))


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _Concurrency:
    """Counts requests being served at once (through :func:`serve`)."""

    def __init__(self) -> None:
        self.active = 0
        self.peak = 0
        self._count_lock = threading.Lock()

    @contextmanager
    def serving(self) -> Iterator[None]:
        with self._count_lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            yield
        finally:
            with self._count_lock:
                self.active -= 1


# A failed charge's failure_code, as Omise's SDKs name them, and a failure_message
# (Omise words its own; the bot reads neither, only the status).
CHARGE_FAILURES = {
    "payment_rejected": "payment rejected by the issuer",
    "insufficient_fund": "insufficient funds or credit limit reached",
    "failed_processing": "card processing failed",
    "stolen_or_lost_card": "card reported stolen or lost",
    "invalid_security_code": "invalid security code",
    "failed_fraud_check": "card marked as fraudulent",
}


class FakeOmise(_Concurrency):
    """Enough of the Omise API for links and their charges, 2019-05-29 shapes."""

    minimums: ClassVar[dict[str, int]] = {"THB": 2000, "SGD": 100, "MYR": 100, "JPY": 100}
    maximums: ClassVar[dict[str, int]] = {
        "THB": 15_000_000,
        "SGD": 2_000_000,
        "MYR": 10_000_000,
        "JPY": 6_000_000,
    }

    def __init__(self, secret_key: str = OMISE_KEY, latency: float = 0.0) -> None:
        super().__init__()
        self.secret_key = secret_key
        # Where a link's payment page lives (the sandbox serves its own).
        self.payment_base = "https://link.omise.test"
        self.latency = latency
        self.links: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        # Every event on the account, oldest first, as GET /events lists them.
        self.events: list[dict[str, Any]] = []
        # Events are serialized in the account's default API version, not the
        # one a request asks for: "legacy" sends the older charge shape.
        self.event_version = "2019-05-29"
        self.requests: list[str] = []
        self.faults = _Faults()
        self._lock = threading.Lock()

    # Test controls

    def fail(self, match: str, **kwargs: Any) -> None:
        self.faults.add(Fault(match, **kwargs))

    def add_link(
        self,
        amount: int = 7440,
        currency: str = "THB",
        title: str = "Hot Latte",
        description: str | None = None,
        multiple: bool = False,
        created_at: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            return self._create(
                {
                    "amount": str(amount),
                    "currency": currency,
                    "title": title,
                    "description": description or title,
                    "multiple": str(multiple).lower(),
                },
                created_at=created_at,
            )

    def pay(
        self, link_id: str, *, status: str = "successful", failure: str = "payment_rejected"
    ) -> dict[str, Any]:
        """A customer pays through the link.

        "successful" is a card charge that succeeds at once; "pending" is
        PromptPay, mobile banking or 3-D Secure, settled later by
        :meth:`settle`; "failed" is a declined card, for the reason ``failure``
        (one of :data:`CHARGE_FAILURES`). Omise records a ``charge.create``
        event either way.
        """
        with self._lock:
            link = self.links[link_id]
            charge = {
                "object": "charge",
                "id": _id("chrg_test_"),
                "livemode": False,
                "location": None,
                "amount": link["amount"],
                "currency": link["currency"],
                "status": status,
                "paid": False,
                "link": link_id,
                "description": link["description"],
                "return_uri": f"{link['payment_uri']}/complete",
                "created_at": _now(),
                "paid_at": None,
                "fee": 0,
                "fee_vat": 0,
                "net": 0,
                "refunded_amount": 0,
                "failure_code": None,
                "failure_message": None,
                "expired": False,
                "expired_at": None,
            }
            charge["location"] = f"/charges/{charge['id']}"
            self._set_status(charge, status, failure)
            self.charges[charge["id"]] = charge
            link["charges"]["data"].append(charge)
            link["charges"]["total"] += 1
            self._event("charge.create", charge)
            return charge

    def settle(
        self, charge_id: str, status: str = "successful", failure: str = "payment_rejected"
    ) -> dict[str, Any]:
        """A pending charge completes (the customer confirmed in the banking app, or not).

        "expired" is a charge never paid in time; "failed" one the bank refused.
        """
        with self._lock:
            charge = self.charges[charge_id]
            assert charge["status"] == "pending", "only a pending charge settles"
            self._set_status(charge, status, failure)
            self._event("charge.complete", charge)
            return charge

    def _set_status(
        self, charge: dict[str, Any], status: str, failure: str = "payment_rejected"
    ) -> None:
        charge["status"] = status
        if status == "successful":
            fee = charge["amount"] * 365 // 10000
            vat = fee * 7 // 100
            charge.update(paid=True, paid_at=_now(), fee=fee, fee_vat=vat)
            charge["net"] = charge["amount"] - fee - vat
            link = self.links.get(charge["link"])
            if link is not None:
                link["used"] = True
                link["used_at"] = link["used_at"] or _now()
        elif status == "failed":
            charge.update(failure_code=failure, failure_message=CHARGE_FAILURES[failure])
        elif status == "expired":
            # As Omise records an expired charge: no failure code, only the flag and the time.
            charge.update(expired=True, expired_at=_now(), failure_code=None, failure_message=None)

    def _event(self, key: str, charge: dict[str, Any]) -> dict[str, Any]:
        event_id = _id("evnt_test_")
        data = dict(charge)
        if self.event_version == "legacy":
            # The older shape: "created", lowercase currency, no "link" field.
            data["created"] = data.pop("created_at")
            data["currency"] = data["currency"].lower()
            data.pop("link", None)
            data.pop("paid_at", None)
        event = {
            "object": "event",
            "id": event_id,
            "livemode": False,
            "location": f"/events/{event_id}",
            "key": key,
            "created_at": _now(),
            "data": data,
        }
        self.events.append(event)
        return event

    def refund(self, charge_id: str, amount: int | None = None) -> dict[str, Any]:
        """The merchant refunds (part of) a charge in the dashboard: a ``refund.create`` event."""
        with self._lock:
            charge = self.charges[charge_id]
            amount = charge["amount"] - charge["refunded_amount"] if amount is None else amount
            charge["refunded_amount"] += amount
            refund = {
                "object": "refund",
                "id": _id("rfnd_test_"),
                "location": f"/charges/{charge_id}/refunds",
                "amount": amount,
                "currency": charge["currency"],
                "charge": charge_id,
                "created_at": _now(),
            }
            event_id = _id("evnt_test_")
            self.events.append(
                {
                    "object": "event",
                    "id": event_id,
                    "livemode": False,
                    "location": f"/events/{event_id}",
                    "key": "refund.create",
                    "created_at": _now(),
                    "data": refund,
                }
            )
            return refund

    def other_charge(self, amount: int = 10000) -> dict[str, Any]:
        """A charge made outside the bot's links (the merchant's web shop), with its event."""
        with self._lock:
            charge: dict[str, Any] = {
                "object": "charge",
                "id": _id("chrg_test_"),
                "livemode": False,
                "location": None,
                "amount": amount,
                "currency": "THB",
                "status": "successful",
                "paid": True,
                "link": None,
                "description": "Order-123",
                "created_at": _now(),
                "paid_at": _now(),
                "refunded_amount": 0,
            }
            self.charges[charge["id"]] = charge
            self._event("charge.create", charge)
            return charge

    def delete(self, link_id: str) -> None:
        with self._lock:
            self.links[link_id].update(deleted=True, deleted_at=_now())

    def count(self, prefix: str) -> int:
        return sum(1 for r in self.requests if r.startswith(prefix))

    # The API

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urllib.parse.urlsplit(target)
        path = url.path
        query = dict(urllib.parse.parse_qsl(url.query))
        form = dict(urllib.parse.parse_qsl(body.decode())) if body else {}
        key = f"{method} {path}"
        with self._lock:
            self.requests.append(key)
            fault = self.faults.take(key)
            if fault is not None and not fault.apply:
                return Answer(
                    fault.status,
                    fault.body or _error("internal_error", "fault"),
                    fault.headers,
                    fault.drop,
                    fault.delay or self.latency,
                )
            if not self._authorized(headers):
                answer = Answer(401, _error("authentication_failure", "authentication failed"))
            else:
                answer = self._route(method, path, query, form)
            answer.delay = self.latency
            if fault is not None:  # it takes effect, but the answer is late, lost or wrong
                answer.delay, answer.drop = fault.delay or self.latency, fault.drop
                if fault.status != 200:
                    answer.status = fault.status
                    answer.body = fault.body or _error("internal_error", "fault")
            return answer

    def _authorized(self, headers: dict[str, str]) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.secret_key}:".encode()).decode()
        return headers.get("authorization") == expected

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> Answer:
        parts = path.strip("/").split("/")
        if parts == ["links"] and method == "POST":
            return self._post_link(form)
        if parts == ["links"] and method == "GET":
            listed = [_render(link) for link in self.links.values()]
            return Answer(200, self._list(listed, "/links", query))
        if len(parts) >= 2 and parts[0] == "links":
            link = self.links.get(parts[1])
            if link is None:
                return Answer(404, _error("not_found", f"link {parts[1]} was not found"))
            if len(parts) == 2 and method == "GET":
                return Answer(200, _render(link))
            if len(parts) == 2 and method == "DELETE":
                if not link["deleted"]:
                    link.update(deleted=True, deleted_at=_now())
                return Answer(200, _render(link))
            if parts[2:] == ["charges"] and method == "GET":
                charges = [c for c in self.charges.values() if c["link"] == link["id"]]
                return Answer(200, self._list(charges, f"{path}", query))
        if parts == ["charges"] and method == "GET":
            return Answer(200, self._list(list(self.charges.values()), "/charges", query))
        if len(parts) == 2 and parts[0] == "charges" and method == "GET":
            charge = self.charges.get(parts[1])
            if charge is None:
                return Answer(404, _error("not_found", f"charge {parts[1]} was not found"))
            return Answer(200, charge)
        if parts == ["events"] and method == "GET":
            return Answer(200, self._list(self.events, "/events", query, stable=True))
        if len(parts) == 2 and parts[0] == "events" and method == "GET":
            for event in self.events:
                if event["id"] == parts[1]:
                    return Answer(200, event)
            return Answer(404, _error("not_found", f"event {parts[1]} was not found"))
        return Answer(404, _error("not_found", "not found"))

    def _post_link(self, form: dict[str, str]) -> Answer:
        missing = [k for k in ("amount", "currency", "title", "description") if not form.get(k)]
        if missing:
            return Answer(400, _error("bad_request", f"{missing[0]} is required"))
        if not form["amount"].isdigit() or int(form["amount"]) <= 0:
            return Answer(400, _error("invalid_amount", "amount must be a positive integer"))
        currency = form["currency"].upper()
        amount, decimals = int(form["amount"]), 0 if currency == "JPY" else 2
        if amount < self.minimums.get(currency, 1):
            least = self.minimums[currency] // 10**decimals
            return Answer(
                400, _error("invalid_amount", f"amount must be at least {least} {currency.lower()}")
            )
        if amount > self.maximums.get(currency, amount):
            most = self.maximums[currency] // 10**decimals
            return Answer(
                400, _error("invalid_amount", f"amount must be at most {most} {currency.lower()}")
            )
        return Answer(200, _render(self._create(form)))

    def _create(self, form: dict[str, str], created_at: str | None = None) -> dict[str, Any]:
        link_id = _id("link_test_")
        link = {
            "object": "link",
            "id": link_id,
            "livemode": False,
            "location": f"/links/{link_id}",
            "deleted": False,
            "multiple": form.get("multiple") == "true",
            "used": False,
            "currency": form["currency"].upper(),
            "amount": int(form["amount"]),
            "charges": {
                "object": "list",
                "data": [],
                "limit": 20,
                "offset": 0,
                "total": 0,
                "location": f"/links/{link_id}/charges",
                "order": "chronological",
                "from": "1970-01-01T00:00:00Z",
                "to": _now(),
            },
            "description": form["description"],
            "title": form["title"],
            "payment_uri": f"{self.payment_base}/{link_id[10:].upper()}",
            "created_at": created_at or _now(),
            "used_at": None,
            "deleted_at": None,
        }
        self.links[link_id] = link
        return link

    def _list(
        self,
        items: list[dict[str, Any]],
        location: str,
        query: dict[str, str],
        *,
        stable: bool = False,
    ) -> dict[str, Any]:
        # Within one second, events keep the order they happened in.
        items = sorted(
            items, key=lambda i: i["created_at"] if stable else (i["created_at"], i["id"])
        )
        if "from" in query:
            items = [i for i in items if _parse_time(i["created_at"]) >= _parse_time(query["from"])]
        if "to" in query:
            items = [i for i in items if _parse_time(i["created_at"]) <= _parse_time(query["to"])]
        order = query.get("order", "chronological")
        if order == "reverse_chronological":
            items.reverse()
        offset, limit = int(query.get("offset", 0)), min(int(query.get("limit", 20)), 100)
        return {
            "object": "list",
            "from": query.get("from", "1970-01-01T00:00:00Z"),
            "to": query.get("to", _now()),
            "offset": offset,
            "limit": limit,
            "total": len(items),
            "order": order,
            "location": location,
            "data": items[offset : offset + limit],
        }


def _render(link: dict[str, Any]) -> dict[str, Any]:
    """A link as Omise sends it: its embedded charges list holds the first 20 only."""
    charges = link["charges"]
    return {**link, "charges": {**charges, "data": charges["data"][:20]}}


def _error(code: str, message: str) -> dict[str, str]:
    return {
        "object": "error",
        "location": "https://www.omise.co/api-errors",
        "code": code,
        "message": message,
    }


class FakeTelegram(_Concurrency):
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
        # Inline mode: queries by id (the query and when it arrived), those answered,
        # every answer as sent, results offered (by result id) and inline messages posted.
        self.inline_queries: dict[str, tuple[dict[str, Any], float]] = {}
        self.answered_queries: set[str] = set()
        self.inline_answers: list[dict[str, Any]] = []
        self.offered: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self.inline_messages: dict[str, dict[str, Any]] = {}
        # Telegram Business: connections by id (as getBusinessConnection gives them),
        # when each customer last wrote in a connected chat, and the bot's own
        # messages there (an account's message ids span all its private chats).
        self.business: dict[str, dict[str, Any]] = {}
        self.customer_wrote_at: dict[tuple[str, str], float] = {}
        self.business_sent: set[tuple[str, int]] = set()
        self.business_deleted: set[tuple[str, int]] = set()
        # The update types getUpdates was last asked for (None: every usual one).
        self.allowed_updates: set[str] | None = None
        # Group members' statuses for getChatMember: (chat id, user id) -> status.
        self.members: dict[tuple[str, str], str] = {}

        # setWebhook's parameters while a webhook is set; then updates are POSTed, not polled.
        self.webhook: dict[str, Any] | None = None
        # Every webhook delivery attempt: update_id, attempt, status (or the error's name).
        self.deliveries: list[dict[str, Any]] = []
        # getUpdates calls refused because a webhook was set.
        self.conflicts = 0
        self.delivery_attempts = 5
        self.delivery_retry_delay = 0.2
        # One thread a connection, up to the webhook's max_connections; the chats
        # (see _delivery_key) with an update on its way, which wait for its answer.
        self._deliverers: list[threading.Thread] = []
        self._delivering: set[str] = set()
        # The most deliveries seen under way at once.
        self.most_connections = 0
        self._closed = False

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

    def close(self) -> None:
        """Stop delivering to the webhook."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
        for deliverer in self._deliverers:
            deliverer.join(5)

    def wait_delivered(self, update_id: int, timeout: float = 10.0) -> dict[str, Any]:
        """The last delivery attempt of ``update_id`` once it succeeded or was given up."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                attempts = [d for d in self.deliveries if d["update_id"] == update_id]
                if attempts and (attempts[-1]["delivered"] or attempts[-1]["given_up"]):
                    return attempts[-1]
            time.sleep(0.02)
        raise AssertionError(f"update {update_id} was not delivered: {self.deliveries}")

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
                "description": "Internal Server Error",
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

    # Webhooks, as Telegram runs them

    def _webhook_method(self, name: str, params: dict[str, Any]) -> Answer:
        with self._lock:
            if name == "getWebhookInfo":
                hook = self.webhook or {}
                info: dict[str, Any] = {
                    "url": hook.get("url", ""),
                    "has_custom_certificate": False,
                    "pending_update_count": len(self._updates),
                }
                if hook:
                    info["max_connections"] = hook["max_connections"]
                    if hook.get("allowed_updates") is not None:
                        info["allowed_updates"] = hook["allowed_updates"]
                return Answer(200, {"ok": True, "result": info})
            if params.get("drop_pending_updates") is True:
                self._updates.clear()
            if name == "deleteWebhook":
                self.webhook = None
                return Answer(200, {"ok": True, "result": True})
            url = str(params.get("url") or "")
            if not url:  # setWebhook with an empty url removes the webhook
                self.webhook = None
                return Answer(200, {"ok": True, "result": True})
            refusal = _webhook_refusal(url, params.get("secret_token"))
            if refusal is not None:
                return _tg_error(400, refusal)
            self.webhook = {
                "url": url,
                "secret_token": params.get("secret_token"),
                "allowed_updates": params.get("allowed_updates"),
                "max_connections": int(params.get("max_connections") or 40),
            }
            while len(self._deliverers) < self.webhook["max_connections"]:
                deliverer = threading.Thread(
                    target=self._deliver,
                    name=f"fake-telegram-webhook-{len(self._deliverers)}",
                    daemon=True,
                )
                self._deliverers.append(deliverer)
                deliverer.start()
            self._lock.notify_all()
        return Answer(200, {"ok": True, "result": True})

    def _deliver(self) -> None:
        """One of the webhook's connections: POST pending updates, retrying failures.

        Telegram delivers on up to max_connections connections at once, while
        one chat's updates go one at a time, in order: the next waits for the
        answer to the one before. An update answered with anything but 2xx
        (or not answered) is sent again, and given up after some attempts.
        """
        # Opened at the first delivery: most connections are never needed.
        client: httpx.Client | None = None
        try:
            while True:
                with self._lock:
                    taken = self._next_delivery()
                    while not self._closed and taken is None:
                        self._lock.wait(0.5)
                        taken = self._next_delivery()
                    if self._closed or taken is None:
                        return
                    update, hook, key = taken
                    self._delivering.add(key)
                    self.most_connections = max(self.most_connections, len(self._delivering))
                try:
                    if client is None:
                        # httpx writes headers and body apart; without TCP_NODELAY,
                        # delayed ACKs add 40 ms a delivery.
                        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
                        client = httpx.Client(
                            timeout=10.0, transport=httpx.HTTPTransport(socket_options=nodelay)
                        )
                    self._deliver_one(client, update, hook)
                finally:
                    with self._lock:
                        self._delivering.discard(key)
                        self._lock.notify_all()
        finally:
            if client is not None:
                client.close()

    def _next_delivery(self) -> tuple[dict[str, Any], dict[str, Any], str] | None:
        """The first pending update whose chat has none on its way (holding the lock)."""
        if self.webhook is None or len(self._delivering) >= self.webhook["max_connections"]:
            return None
        hook = dict(self.webhook)
        allowed = hook.get("allowed_updates")
        waiting: set[str] = set()
        for update in list(self._updates):
            if allowed and not set(update) - {"update_id"} <= set(allowed):
                # Telegram never sends a type the bot did not ask for.
                self._updates.remove(update)
                self.deliveries.append(
                    {
                        "update_id": update["update_id"],
                        "attempt": 0,
                        "status": "not allowed",
                        "delivered": False,
                        "given_up": True,
                    }
                )
                continue
            key = _delivery_key(update)
            if key in self._delivering or key in waiting:
                waiting.add(key)  # behind an earlier update of its chat
                continue
            return update, hook, key
        return None

    def _deliver_one(
        self, client: httpx.Client, update: dict[str, Any], hook: dict[str, Any]
    ) -> None:
        while True:
            with self._lock:
                attempt = 1 + sum(
                    1 for d in self.deliveries if d["update_id"] == update["update_id"]
                )
            headers = {"Content-Type": "application/json"}
            if hook.get("secret_token"):
                headers["X-Telegram-Bot-Api-Secret-Token"] = hook["secret_token"]
            status: int | str
            try:
                status = client.post(
                    hook["url"], content=json.dumps(update), headers=headers
                ).status_code
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            delivered = isinstance(status, int) and 200 <= status < 300
            given_up = not delivered and attempt >= self.delivery_attempts
            with self._lock:
                self.deliveries.append(
                    {
                        "update_id": update["update_id"],
                        "attempt": attempt,
                        "status": status,
                        "delivered": delivered,
                        "given_up": given_up,
                    }
                )
                if delivered or given_up:
                    if update in self._updates:
                        self._updates.remove(update)
                    return
            time.sleep(self.delivery_retry_delay)
            with self._lock:
                if self._closed or self.webhook is None:
                    return  # left pending, for whatever takes updates next
                hook = dict(self.webhook)

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
# Telegram takes an answer to an inline query within 10 seconds of the query, once.
INLINE_ANSWER_WINDOW = 10.0


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


def _update_type(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


_SENDS = frozenset({"sendMessage", "editMessageText", "sendPhoto", "sendDocument"})


def _delivery_key(update: dict[str, Any]) -> str:
    """What Telegram keeps in order: the chat an update is in, else the user it is from."""
    for name, payload in update.items():
        if name == "update_id" or not isinstance(payload, dict):
            continue
        chat = payload.get("chat") or (payload.get("message") or {}).get("chat")
        if chat is not None:
            return f"chat:{chat['id']}"
        if "from" in payload:
            return f"user:{payload['from']['id']}"
        if "user" in payload:
            return f"user:{payload['user']['id']}"
    return f"update:{update.get('update_id')}"


def _webhook_refusal(url: str, secret_token: object) -> str | None:
    """Telegram's checks of setWebhook (http is allowed on 127.0.0.1 for local tests only)."""
    parts = urllib.parse.urlsplit(url)
    local = parts.hostname in ("127.0.0.1", "localhost")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        return "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
    if not parts.hostname:
        return "Bad Request: bad webhook: Failed to resolve host"
    if not local and (parts.port or 443) not in (443, 80, 88, 8443):
        return "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
    if secret_token is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret_token)):
        return "Bad Request: secret token contains unallowed characters"
    return None


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


# As a respx side effect


def respx_handler(fake: FakeOmise | FakeTelegram) -> Callable[[httpx.Request], httpx.Response]:
    def side_effect(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        answer = fake.handle(request.method, target, headers, request.read())
        if answer.drop:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        if answer.delay:
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(answer.status, json=answer.body, headers=answer.headers)

    return side_effect


# As a real HTTP server on 127.0.0.1


@contextmanager
def serve(fake: FakeOmise | FakeTelegram) -> Iterator[str]:
    """Serve ``fake`` on 127.0.0.1 on a free port; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; without this, delayed ACKs add 40 ms.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            with fake.serving():
                answer = fake.handle(self.command, self.path, headers, body)
                if answer.delay:
                    time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.close()
                return
            payload = json.dumps(answer.body).encode()
            self.send_response(answer.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.end_headers()
            with suppress(BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                self.wfile.write(payload)

        do_GET = do_POST = do_DELETE = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if isinstance(fake, FakeTelegram):
            fake.close()
        server.shutdown()
        server.server_close()


# Updates as Telegram sends them

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
