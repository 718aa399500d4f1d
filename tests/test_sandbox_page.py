"""The sandbox page as people use it: replying to a message, toasts, and a chat that keeps
its newest message in view; in the real ``linkbot try`` process and a headless browser."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from linkbot.sandbox import fakes
from linkbot.sandbox.chats import CHAT_KINDS, CUSTOMER, MERCHANT, SandboxTelegram
from tests import test_sandbox
from tests.test_sandbox import GROUP_ID, Sandbox

T = TypeVar("T")


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Sandbox]:
    # No environment, as a user starts it, but where linkbot is found when run from a checkout.
    path = os.environ.get("PYTHONPATH")
    sandbox = Sandbox(tmp_path, {"PYTHONPATH": path} if path else None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.kill()


@pytest.fixture
def chrome() -> Iterator[Any]:
    if test_sandbox.CHROMIUM is None or test_sandbox.CHROMEDRIVER is None:
        pytest.skip("chromium and chromium-driver are not installed")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = test_sandbox.CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    service = webdriver.ChromeService(test_sandbox.CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


class Page:
    """The chats page in the browser, found as a person finds things on it."""

    def __init__(self, driver: Any, url: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver, self.by = driver, By
        driver.get(url)

    def wait(self, find: Callable[[Any], T], timeout: float = 20) -> T:
        from selenium.webdriver.support.ui import WebDriverWait

        found: T = WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(find)
        return found

    def pane(self, chat: str) -> Any:
        return self.driver.find_element(self.by.CSS_SELECTOR, f'[data-chat="{chat}"]')

    def type(self, chat: str, text: str) -> None:
        self.pane(chat).find_element(self.by.CSS_SELECTOR, ".compose input").send_keys(text)

    def message(self, chat: str, *containing: str, kind: str = ".message") -> Any:
        """The newest message of ``chat`` that says all of ``containing``, once it is there;
        of the typist's own (``kind=".mine"``) or the bot's (``".bot"``) only if asked."""

        def find(driver: Any) -> Any:
            items = self.pane(chat).find_elements(self.by.CSS_SELECTOR, f".message{kind}")
            for item in reversed(items):
                if all(words in item.text for words in containing):
                    return item
            return False

        return self.wait(find)

    def key(self, message: Any, label: str) -> Any:
        keys = message.find_elements(self.by.CSS_SELECTOR, "button.key")
        return next(key for key in keys if key.text == label)

    def controls(self) -> list[Any]:
        """What people type into and press besides the messages: inputs, Send, the settings."""
        selectors = (".compose input", ".compose button", "#language", 'input[name="as"]')
        return [c for s in selectors for c in self.driver.find_elements(self.by.CSS_SELECTOR, s)]

    def on_top(self, element: Any) -> bool:
        """Whether a click at the middle of ``element`` reaches it (nothing is over it)."""
        return bool(
            self.driver.execute_script(
                "const e = arguments[0], r = e.getBoundingClientRect();"
                "const x = r.x + r.width / 2, y = r.y + r.height / 2;"
                "return e.contains(document.elementFromPoint(x, y));",
                element,
            )
        )

    def toasts(self) -> list[str]:
        return [t.text for t in self.driver.find_elements(self.by.CSS_SELECTOR, "#toasts .toast")]


def test_a_reply_carries_the_message_replied_to_as_telegram_does() -> None:
    telegram = SandboxTelegram()
    group, private = CHAT_KINDS["group"], CHAT_KINDS["private"]
    handle = fakes.respx_handler(telegram)
    url = f"https://telegram.test/bot{fakes.BOT_TOKEN}/sendMessage"
    sent = handle(httpx.Request("POST", url, json={"chat_id": GROUP_ID, "text": "<b>x</b>"}))
    bot_said = sent.json()["result"]["message_id"]
    telegram.say(MERCHANT, group, "thanks")
    [said] = [e for e in telegram.chat_entries(GROUP_ID) if e.text == "thanks"]

    assert telegram.say(MERCHANT, group, "/status", reply_to=bot_said)
    # A plain reply to the bot reaches it despite privacy mode; one to a person does not.
    assert telegram.say(CUSTOMER, group, "how much?", reply_to=bot_said)
    assert telegram.say(CUSTOMER, group, "me too", reply_to=said.message_id)
    pushed = [u["message"] for u in telegram._get_updates({})]
    assert [m["text"] for m in pushed] == ["/status", "how much?"]
    quoted = telegram.entries[(GROUP_ID, bot_said)].raw
    assert pushed[0]["reply_to_message"] == quoted == pushed[1]["reply_to_message"]
    assert quoted["from"]["id"] == fakes.BOT_ID and "reply_to_message" not in quoted
    # The page quotes what each one answers.
    replies = {e.text: e.reply_to for e in telegram.chat_entries(GROUP_ID)}
    assert replies["/status"] == bot_said and replies["me too"] == said.message_id

    # A reply to a message of another chat, or to none, says nothing.
    before = len(telegram.entries)
    assert not telegram.say(CUSTOMER, private, "/status", reply_to=bot_said)
    assert not telegram.say(MERCHANT, group, "/status", reply_to=10**6)
    assert len(telegram.entries) == before
    assert [u["message"] for u in telegram._get_updates({})] == pushed


def test_a_reply_to_a_link_message_runs_the_bots_reply_commands(running: Sandbox) -> None:
    running.say("merchant", "group", "/link 74.40 thb Hot Latte")
    link = running.bot_message("merchant", "group", "Hot Latte")
    body = {"as": "merchant", "chat": "group", "text": "/status", "reply_to": link["id"]}
    # A reply to a message not in this chat (the merchant's private chat has no such one).
    for wrong in (link["id"], "x", -1):
        refused = running.http.post("/api/say", json={**body, "chat": "private", "reply_to": wrong})
        assert refused.status_code == 400 and "replied to" in refused.json()["error"]
    assert [m for m in running.messages("merchant", "private") if m["html"] == "/status"] == []
    assert running.http.post("/api/say", json=body).status_code == 200
    # The group sees the link's state; its payments go to the merchant privately.
    running.bot_message("merchant", "private", "Payments: 0")
    status = running.bot_message("merchant", "group", "Sent to you in our private chat")
    asked = next(m for m in running.messages("merchant", "group") if m["html"] == "/status")
    assert asked["reply"]["sender"] == "Linkbot" and "Hot Latte" in asked["reply"]["text"]
    assert status["reply"] == {"sender": MERCHANT.name, "text": "/status"}


def test_replying_to_a_link_message_in_the_browser(running: Sandbox, chrome: Any) -> None:
    page = Page(chrome, running.url)
    page.type("group", "/link 74.40 thb Hot Latte\n")
    link = page.message("group", "Hot Latte\n฿74.40")
    bar = page.pane("group").find_element(page.by.CSS_SELECTOR, ".replying")
    assert not bar.is_displayed()
    # Reply, change one's mind, reply again: the message replied to is shown above the input.
    link.find_element(page.by.CSS_SELECTOR, "button.reply").click()
    page.wait(lambda _: bar.is_displayed())
    assert "Linkbot" in bar.text and "Hot Latte" in bar.text
    bar.find_element(page.by.CSS_SELECTOR, ".unreply").click()
    page.wait(lambda _: not bar.is_displayed())
    link.find_element(page.by.CSS_SELECTOR, "button.reply").click()
    page.wait(lambda _: bar.is_displayed())

    page.type("group", "/status\n")
    page.wait(lambda _: not bar.is_displayed())
    asked = page.message("group", "/status", kind=".mine")
    quote = asked.find_element(page.by.CSS_SELECTOR, ".quote")
    assert "Linkbot" in quote.text and "Hot Latte" in quote.text
    page.message("group", "Sent to you in our private chat", "Hot Latte", kind=".bot")
    # /cancel the same way, to the link message (not the status answer, which is no link).
    link_id = link.get_attribute("data-id")
    page.pane("group").find_element(
        page.by.CSS_SELECTOR, f'.message[data-id="{link_id}"] button.reply'
    ).click()
    page.type("group", "/cancel\n")
    page.message("group", "is cancelled; it can no longer be paid", kind=".bot")


def test_a_toast_is_shown_once_and_not_over_the_send_buttons(running: Sandbox, chrome: Any) -> None:
    page = Page(chrome, running.url)
    for title in ("Hot Latte", "Cake"):
        page.type("group", f"/link 74.40 thb {title}\n")
        page.key(page.message("group", f"{title}\n฿74.40", "Cancel link"), "Cancel link").click()
        page.wait(lambda _: any("is cancelled" in t for t in page.toasts()))
        # Shown where it covers no chat's input or Send button, nor the page's settings.
        for control in page.controls():
            assert page.on_top(control), control.get_attribute("outerHTML")[:80]

    chrome.refresh()
    # The chat is drawn from the same answer that would bring old toasts back.
    page.message("group", "Cake", "🚫 Cancelled")
    assert page.toasts() == []
    page.type("group", "/link 50 thb Cookie\n")
    page.key(page.message("group", "Cookie\n฿50.00", "Cancel link"), "Cancel link").click()
    page.wait(lambda _: page.toasts())
    assert [t for t in page.toasts() if "is cancelled" in t] == page.toasts()
    assert len(page.toasts()) == 1


def test_the_newest_message_is_in_view_after_its_picture_loads(
    running: Sandbox, chrome: Any
) -> None:
    page = Page(chrome, running.url)
    for title in ("Hot Latte", "Cake", "Cookie"):
        page.type("group", f"/link 74.40 thb {title}\n")
        page.message("group", f"{title}\n฿74.40", "QR")
    messages = page.pane("group").find_element(page.by.CSS_SELECTOR, ".messages")
    overflows = "return arguments[0].scrollHeight > arguments[0].clientHeight;"
    assert chrome.execute_script(overflows, messages)
    page.key(page.message("group", "Cookie\n฿74.40", "QR"), "QR").click()
    picture = page.wait(
        lambda _: messages.find_elements(page.by.CSS_SELECTOR, ".message:last-child img")
    )[0]
    page.wait(lambda _: picture.get_property("complete") and picture.get_property("naturalWidth"))
    at_bottom = (
        "const list = arguments[0];"
        "return Math.abs(list.scrollTop + list.clientHeight - list.scrollHeight) <= 2;"
    )
    page.wait(lambda _: chrome.execute_script(at_bottom, messages), timeout=5)
    # Replying to it opens the bar above the input; the picture stays in view.
    picture.find_element(page.by.XPATH, "..").find_element(
        page.by.CSS_SELECTOR, "button.reply"
    ).click()
    page.wait(lambda _: chrome.execute_script(at_bottom, messages), timeout=5)
