"""Webhooks, as Telegram runs them: setWebhook's checks, then updates POSTed and retried."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import urllib.parse
from typing import Any

import httpx

from linkbot.sandbox.fakes.common import Answer
from linkbot.sandbox.fakes.telegram_checks import _tg_error


class _Webhooks:
    """FakeTelegram's webhook: while one is set, updates are POSTed to it, not polled."""

    # FakeTelegram's: its lock, and the updates waiting to be taken.
    _lock: threading.Condition
    _updates: list[dict[str, Any]]

    def __init__(self) -> None:
        super().__init__()
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

    # The API

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
