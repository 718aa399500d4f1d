"""Webhook, PORT, log format and metrics settings; the fake Bot API's webhook behaviour."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from linkbot.config import describe_errors
from linkbot.sandbox import fakes
from tests.conftest import make_settings


@pytest.fixture(autouse=True)
def no_listener_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("LINKBOT_HTTP_LISTEN", raising=False)


def test_the_derived_secret_is_stable_within_telegrams_rule_and_not_the_token(
    tmp_path: Path,
) -> None:
    first = make_settings(tmp_path).webhook_secret.get_secret_value()
    second = make_settings(tmp_path / "other").webhook_secret.get_secret_value()
    assert first == second  # every instance with the token agrees
    assert len(first) == 64 and all(c in "0123456789abcdef" for c in first)
    token = fakes.BOT_TOKEN
    assert token not in first and token.partition(":")[2] not in first
    other = make_settings(tmp_path, telegram_bot_token="42:ANOTHERtoken").webhook_secret
    assert other.get_secret_value() != first


def test_an_explicit_secret_wins_and_is_checked(tmp_path: Path) -> None:
    chosen = make_settings(tmp_path, linkbot_webhook_secret="My_secret-1")
    assert chosen.webhook_secret.get_secret_value() == "My_secret-1"
    assert "My_secret-1" in chosen.secrets()
    assert make_settings(tmp_path, linkbot_webhook_secret="  ").linkbot_webhook_secret is None
    for bad in ("has space", "semi;colon", "x" * 257, "ไทย"):
        with pytest.raises(ValidationError) as caught:
            make_settings(tmp_path, linkbot_webhook_secret=bad)
        message = describe_errors(caught.value)
        assert "LINKBOT_WEBHOOK_SECRET must be 1 to 256 characters" in message
        assert bad not in message


def test_port_sets_the_listener_unless_linkbot_http_listen_does(tmp_path: Path) -> None:
    assert make_settings(tmp_path).http_listen is None
    assert make_settings(tmp_path, port="8080").http_listen == "0.0.0.0:8080"
    assert make_settings(tmp_path, port="").http_listen is None
    both = make_settings(tmp_path, port="8080", linkbot_http_listen="127.0.0.1:9000")
    assert both.http_listen == "127.0.0.1:9000"
    for bad in ("0", "70000", "http"):
        with pytest.raises(ValidationError):
            make_settings(tmp_path, port=bad)


def test_port_is_read_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "5005")
    assert make_settings(tmp_path).http_listen == "0.0.0.0:5005"


@pytest.mark.parametrize(
    ("given", "endpoint"),
    [
        ("https://bot.example.com", "https://bot.example.com/telegram/webhook"),
        ("https://bot.example.com/", "https://bot.example.com/telegram/webhook"),
        ("https://example.com/shop", "https://example.com/shop/telegram/webhook"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/telegram/webhook"),
        ("http://localhost:8080", "http://localhost:8080/telegram/webhook"),
        ("https://bot.example.com:8443", "https://bot.example.com:8443/telegram/webhook"),
    ],
)
def test_webhook_urls(tmp_path: Path, given: str, endpoint: str) -> None:
    settings = make_settings(tmp_path, linkbot_webhook_url=given, port="8080")
    assert settings.webhook_endpoint == endpoint


@pytest.mark.parametrize(
    "bad",
    [
        "http://bot.example.com",
        "ftp://bot.example.com",
        "bot.example.com",
        "https://bot.example.com/?token=1",
        "https://bot.example.com/#x",
        "https://",
        "https://user:pw@bot.example.com",
        "https://bot.example.com:8080",
        "https://bot.example.com:port",
    ],
)
def test_bad_webhook_urls(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path, linkbot_webhook_url=bad, port="8080")
    assert describe_errors(caught.value).startswith("linkbot cannot start: LINKBOT_WEBHOOK_URL ")


def test_webhook_mode_needs_a_listener(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        make_settings(tmp_path, linkbot_webhook_url="https://bot.example.com")
    message = describe_errors(caught.value)
    assert "LINKBOT_WEBHOOK_URL needs an address to serve it on" in message
    assert "LINKBOT_HTTP_LISTEN" in message and "PORT" in message
    assert make_settings(tmp_path).webhook_endpoint is None  # polling


def test_log_format_and_metrics(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    assert (settings.linkbot_log_format, settings.linkbot_metrics) == ("text", False)
    on = make_settings(tmp_path, linkbot_log_format=" JSON ", linkbot_metrics="true")
    assert (on.linkbot_log_format, on.linkbot_metrics) == ("json", True)
    with pytest.raises(ValidationError):
        make_settings(tmp_path, linkbot_log_format="xml")


# The fake Bot API's webhooks behave like Telegram's


def call(api: str, method: str, **params: Any) -> httpx.Response:
    return httpx.post(f"{api}/bot{fakes.BOT_TOKEN}/{method}", json=params)


class Receiver:
    """A webhook endpoint that fails the first ``failures`` deliveries."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, Any], str | None]] = []


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(failures=2)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(
                (json.loads(body), self.headers.get("X-Telegram-Bot-Api-Secret-Token"))
            )
            failing = len(state.received) <= state.failures
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_fake_set_webhook_checks_like_telegram() -> None:
    telegram = fakes.FakeTelegram()
    with fakes.serve(telegram) as api:
        refused = call(api, "setWebhook", url="http://bot.example.com/hook")
        assert refused.status_code == 400 and "HTTPS" in refused.json()["description"]
        refused = call(api, "setWebhook", url="https://bot.example.com/hook", secret_token="a b")
        assert refused.status_code == 400
        refused = call(api, "setWebhook", url="https://bot.example.com:8080/hook")
        assert refused.status_code == 400 and "ports" in refused.json()["description"]
        assert call(api, "setWebhook", url="https://bot.example.com/hook").json()["result"]
        info = call(api, "getWebhookInfo").json()["result"]
        assert info["url"] == "https://bot.example.com/hook"
        conflict = call(api, "getUpdates")
        assert conflict.status_code == 409 and "Conflict" in conflict.json()["description"]
        assert call(api, "deleteWebhook").json()["result"] is True
        assert call(api, "getWebhookInfo").json()["result"]["url"] == ""
        assert call(api, "getUpdates").json() == {"ok": True, "result": []}


def test_fake_delivers_by_post_with_the_secret_retrying_failures(
    receiver: tuple[Receiver, str],
) -> None:
    state, hook = receiver
    telegram = fakes.FakeTelegram()
    telegram.delivery_retry_delay = 0.01
    with fakes.serve(telegram) as api:
        waiting = telegram.push(
            fakes.command_update("/help", user_id=1, chat=fakes.private_chat(1))
        )
        assert call(api, "setWebhook", url=hook, secret_token="abc_DEF-1").json()["ok"]
        after = telegram.push(fakes.command_update("/links", user_id=1, chat=fakes.private_chat(1)))
        assert telegram.wait_delivered(waiting["update_id"])["attempt"] == 3
        assert telegram.wait_delivered(after["update_id"])["attempt"] == 1
    statuses = [(d["update_id"], d["status"]) for d in telegram.deliveries]
    first, second = waiting["update_id"], after["update_id"]
    assert statuses == [(first, 500), (first, 500), (first, 200), (second, 200)]
    assert [update["update_id"] for update, _ in state.received] == [first, first, first, second]
    assert {secret for _, secret in state.received} == {"abc_DEF-1"}


def test_fake_delivers_only_the_update_types_asked_for(receiver: tuple[Receiver, str]) -> None:
    state, hook = receiver
    state.failures = 0
    telegram = fakes.FakeTelegram()
    with fakes.serve(telegram) as api:
        assert call(api, "setWebhook", url=hook, allowed_updates=["message"]).json()["ok"]
        skipped = telegram.push({"inline_query": {"id": "1", "query": "x"}})
        sent = telegram.push(fakes.command_update("/help", user_id=1, chat=fakes.private_chat(1)))
        assert telegram.wait_delivered(skipped["update_id"])["status"] == "not allowed"
        assert telegram.wait_delivered(sent["update_id"])["status"] == 200
    assert [update["update_id"] for update, _ in state.received] == [sent["update_id"]]
