"""``linkbot try``: the real process with its simulators and page, driven over HTTP and in a
real headless browser (Debian's chromium and chromium-driver)."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from linkbot.sandbox import fakes
from linkbot.sandbox.chats import CHAT_KINDS, CUSTOMER, GREETING, MERCHANT, SandboxTelegram
from linkbot.sandbox.markup import telegram_html, telegram_text
from tests.process import free_port

T = TypeVar("T")
GROUP_ID = -1001234567890


class Sandbox:
    """``linkbot try`` as a user starts it: no environment at all, in an empty directory."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "try.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def start(self) -> float:
        """Start it; the seconds until the page answered."""
        started = time.monotonic()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "linkbot", "try", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        while time.monotonic() - started < 15:
            assert self.proc.poll() is None, self.log()
            try:
                if httpx.get(self.url, timeout=1).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                time.sleep(0.02)
        raise AssertionError("the page never answered\n" + self.log())

    def interrupt(self, timeout: float = 15) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def say(self, person: str, chat: str, text: str, lang: str = "en") -> None:
        body = {"as": person, "chat": chat, "text": text, "lang": lang}
        answer = self.http.post("/api/say", json=body)
        assert answer.status_code == 200, answer.text

    def inline(self, person: str, chat: str, query: str) -> dict[str, Any]:
        answer = self.http.post("/api/inline", json={"as": person, "chat": chat, "query": query})
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def choose(self, person: str, chat: str, result_id: str) -> httpx.Response:
        body = {"as": person, "chat": chat, "result_id": result_id}
        return self.http.post("/api/choose", json=body)

    def messages(self, person: str, chat: str) -> list[dict[str, Any]]:
        state = self.http.get("/api/state", params={"as": person, "since": -1}).json()
        found: list[dict[str, Any]] = next(c for c in state["chats"] if c["key"] == chat)[
            "messages"
        ]
        return found

    def wait_for(self, check: Callable[[], T | None], timeout: float = 15) -> T:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError("not seen in time\n" + self.log())

    def bot_message(self, person: str, chat: str, containing: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            return next(
                (m for m in self.messages(person, chat) if m["bot"] and containing in m["html"]),
                None,
            )

        return self.wait_for(check)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    running = Sandbox(tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.kill()


def pay_code(message: dict[str, Any]) -> str:
    url = next(b["url"] for row in message["buttons"] for b in row if "url" in b)
    assert url.startswith("http://127.0.0.1:")
    return str(url.rsplit("/", 1)[1])


def test_linkbot_try_starts_without_configuration_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=1:real\nOMISE_SECRET_KEY=skey_live_x\n")
    sandbox = Sandbox(tmp_path)
    try:
        started = time.monotonic()
        sandbox.start()
        # Started means the bot answers, not only that the page is up (it comes first).
        sandbox.say("merchant", "private", "/help")
        answer = sandbox.bot_message("merchant", "private", "Omise mode")
        seconds = time.monotonic() - started
        assert seconds < 3.0, f"the bot answered {seconds:.2f} s after the start"
        assert "sandbox" in answer["html"]
        page = httpx.get(sandbox.url).text
        assert "nothing here is real" in page and "simulated Omise" in page
        assert sandbox.interrupt() == 0
        assert (tmp_path / "linkbot-try.db").exists() and not (tmp_path / "linkbot.db").exists()
        log = sandbox.log()
        assert f"open {sandbox.url}" in log and "Traceback" not in log
        assert fakes.BOT_TOKEN.partition(":")[2] not in log
    finally:
        sandbox.kill()


@pytest.mark.parametrize("after", [0.0, 0.1, 0.3])
def test_ctrl_c_while_starting_stops_it(tmp_path: Path, after: float) -> None:
    sandbox = Sandbox(tmp_path)
    try:
        # The page comes up first; the bot is still starting behind it.
        sandbox.start()
        time.sleep(after)
        assert sandbox.interrupt(timeout=5) == 0, sandbox.log()
        assert "Traceback" not in sandbox.log()
    finally:
        sandbox.kill()


# A bot whose start-up is slow and, as some libraries' steps do, swallows a cancellation:
# Ctrl-C used to cancel it there and be lost, and the sandbox ran on.
SWALLOWING_BOT = """
import asyncio, os, signal, sys
from linkbot.sandbox import runner

async def run_bot(settings, stop=None):
    os.kill(os.getpid(), signal.SIGINT)
    try:
        await asyncio.sleep(0.5)
    except asyncio.CancelledError:
        pass
    if stop is None:
        stop = asyncio.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await asyncio.wait_for(stop.wait(), 30)
    print("stopped as asked")
    return 0

sys.exit(runner.main(run_bot, port=int(sys.argv[1]), open_browser=False))
"""


def test_ctrl_c_during_the_bots_start_up_is_kept_for_it(tmp_path: Path) -> None:
    stopped = subprocess.run(
        [sys.executable, "-c", SWALLOWING_BOT, str(free_port())],
        cwd=tmp_path,
        env={},
        capture_output=True,
        timeout=15,
    )
    assert stopped.returncode == 0, stopped.stderr.decode()
    assert b"stopped as asked" in stopped.stdout


def test_a_proxy_in_the_environment_is_not_used(tmp_path: Path) -> None:
    # Nothing listens on port 9: a call sent through the proxy would fail.
    proxy = "http://127.0.0.1:9"
    env = {"HTTP_PROXY": proxy, "https_proxy": proxy, "ALL_PROXY": "socks5://127.0.0.1:9"}
    sandbox = Sandbox(tmp_path, env)
    try:
        sandbox.start()
        sandbox.say("merchant", "group", "/link 74.40 thb Hot Latte")
        sandbox.bot_message("merchant", "group", "Hot Latte")
        assert sandbox.interrupt() == 0
    finally:
        sandbox.kill()


@pytest.mark.parametrize("port", ["0", "70000", "-1", "http"])
def test_the_port_must_be_one_a_machine_has(port: str) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "linkbot", "try", "--port", port, "--no-browser"],
        env={},
        capture_output=True,
        timeout=30,
    )
    assert refused.returncode == 2
    assert b"--port" in refused.stderr and b"1-65535" in refused.stderr
    assert b"Traceback" not in refused.stderr


def test_a_taken_port_is_one_line_and_exit_2(sandbox: Sandbox) -> None:
    sandbox.say("merchant", "group", "/link 74.40 thb Hot Latte")
    sandbox.bot_message("merchant", "group", "Hot Latte")
    # A second sandbox in the same directory: the first one's records stay.
    taken = subprocess.run(
        [sys.executable, "-m", "linkbot", "try", "--port", str(sandbox.port), "--no-browser"],
        cwd=sandbox.workdir,
        env={},
        capture_output=True,
        timeout=30,
    )
    assert taken.returncode == 2
    assert b"--port" in taken.stderr and b"Traceback" not in taken.stderr
    assert (sandbox.workdir / "linkbot-try.db").exists()


def test_pay_page_plays_card_promptpay_and_a_declined_card(sandbox: Sandbox) -> None:
    sandbox.say("merchant", "group", "/multilink 120 Donation")
    link = sandbox.bot_message("merchant", "group", "Donation")
    code = pay_code(link)
    offer = sandbox.http.get(f"/pay/{code}").text
    assert "฿120.00" in offer and "no money moves" in offer

    declined = sandbox.http.post(f"/pay/{code}", data={"method": "declined"}, follow_redirects=True)
    assert 'id="result-failed"' in declined.text
    pending = sandbox.http.post(f"/pay/{code}", data={"method": "promptpay"}, follow_redirects=True)
    assert 'id="result-pending"' in pending.text and 'http-equiv="refresh"' in pending.text
    # Pending is not paid: the group hears nothing until the bank confirms.
    time.sleep(1.5)
    assert not [m for m in sandbox.messages("merchant", "group") if "was paid" in m["html"]]
    sandbox.bot_message("merchant", "group", "was paid: ฿120.00")
    settled = sandbox.http.get(str(pending.url)).text
    assert 'id="result-successful"' in settled

    card = sandbox.http.post(f"/pay/{code}", data={"method": "card"}, follow_redirects=True)
    assert 'id="result-successful"' in card.text
    # Told as a payment of its own: the group's customers see no running total.
    sandbox.wait_for(
        lambda: (
            len([m for m in sandbox.messages("merchant", "group") if "was paid" in m["html"]]) == 2
        )
    )


def test_a_promptpay_payment_never_made_is_announced_and_a_declined_card_is_not(
    sandbox: Sandbox,
) -> None:
    sandbox.say("merchant", "group", "/multilink 120 Donation")
    code = pay_code(sandbox.bot_message("merchant", "group", "Donation"))
    offer = sandbox.http.get(f"/pay/{code}").text
    assert 'id="pay-unpaid"' in offer and "the bot stays silent" in offer
    declined = sandbox.http.post(f"/pay/{code}", data={"method": "declined"}, follow_redirects=True)
    assert 'id="result-failed"' in declined.text and "rejected" in declined.text
    unpaid = sandbox.http.post(f"/pay/{code}", data={"method": "unpaid"}, follow_redirects=True)
    assert 'id="result-pending"' in unpaid.text and "expires" in unpaid.text
    notice = sandbox.bot_message("merchant", "group", "expired before it was completed")
    assert "฿120.00" in notice["html"]
    assert 'id="result-expired"' in sandbox.http.get(str(unpaid.url)).text
    # The customer saw the declined card fail on the page: the chat hears of it not at all.
    said = [m["html"] for m in sandbox.messages("merchant", "group") if m["bot"]]
    assert not [line for line in said if "did not go through" in line]


def test_buttons_press_as_callback_queries_and_files_download(sandbox: Sandbox) -> None:
    sandbox.say("merchant", "group", "/link 74.40 thb Hot Latte")
    link = sandbox.bot_message("merchant", "group", "Hot Latte")
    keys = {b["text"]: b for row in link["buttons"] for b in row}
    assert keys["Copy link"]["copy"].endswith(pay_code(link))
    press = {"as": "merchant", "chat_id": GROUP_ID, "message_id": link["id"]}
    assert sandbox.http.post("/api/press", json={**press, "data": "qr:nope"}).status_code == 400
    answer = sandbox.http.post("/api/press", json={**press, "data": keys["QR"]["callback"]})
    assert answer.status_code == 200
    photo = sandbox.wait_for(
        lambda: next((m for m in sandbox.messages("merchant", "group") if m["photo"]), None)
    )
    image = sandbox.http.get(photo["photo"])
    assert image.headers["content-type"] == "image/png" and image.content[:4] == b"\x89PNG"
    assert image.headers["content-disposition"] == 'inline; filename="qr.png"'

    sandbox.http.post(f"/pay/{pay_code(link)}", data={"method": "card"})
    sandbox.bot_message("merchant", "group", "was paid")
    sandbox.say("merchant", "private", "/export today")
    export = sandbox.wait_for(
        lambda: next((m for m in sandbox.messages("merchant", "private") if m["document"]), None)
    )
    csv = sandbox.http.get(export["document"]["url"])
    name = export["document"]["name"]
    assert csv.headers["content-disposition"] == f'attachment; filename="{name}"'
    assert export["document"]["name"].endswith(".csv") and b"Hot Latte" in csv.content

    # The customer's own private chat is another chat: the merchant's stays the merchant's.
    assert sandbox.messages("customer", "private") == []
    # The payment edited the link message in place; its buttons went with it.
    edited = next(m for m in sandbox.messages("merchant", "group") if m["id"] == link["id"])
    assert edited["edited"] and "✅ Paid" in edited["html"] and not edited["buttons"]


def test_people_press_buttons_only_in_their_own_chats(sandbox: Sandbox) -> None:
    sandbox.say("merchant", "private", "/link 74.40 thb Hot Latte")
    link = sandbox.wait_for(
        lambda: next(
            (m for m in sandbox.messages("merchant", "private") if "Cancel link" in buttons(m)),
            None,
        )
    )
    data = buttons(link)["Cancel link"]["callback"]
    press = {"chat_id": MERCHANT.user_id, "message_id": link["id"], "data": data}
    # The customer is not in the merchant's private chat with the bot.
    refused = sandbox.http.post("/api/press", json={**press, "as": "customer"})
    assert refused.status_code == 400
    time.sleep(1.0)
    assert [m for m in sandbox.messages("merchant", "private") if m["id"] == link["id"]] == [link]
    assert sandbox.http.post("/api/press", json={**press, "as": "merchant"}).status_code == 200


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["text"]: b for row in message["buttons"] for b in row}


def test_inline_mode_in_the_merchants_chat_with_a_customer(sandbox: Sandbox) -> None:
    answer = sandbox.inline("merchant", "business", "74.40 thb Hot Latte")
    assert not answer["late"] and answer["button"] is None
    [result] = answer["results"]
    assert "Hot Latte" in result["title"] and "฿74.40" in result["title"]
    # A result is chosen where it was offered, by whom it was offered to.
    assert sandbox.choose("customer", "business", result["id"]).status_code == 400
    assert sandbox.choose("merchant", "group", result["id"]).status_code == 400
    assert sandbox.choose("merchant", "business", result["id"]).status_code == 200

    def link() -> dict[str, Any] | None:
        return next(
            (m for m in sandbox.messages("merchant", "business") if "Pay ฿74.40" in buttons(m)),
            None,
        )

    posted = sandbox.wait_for(link)
    # Posted by the merchant through the bot, then edited in place into the link.
    assert posted["mine"] and not posted["bot"] and posted["sender"] == MERCHANT.name
    assert posted["via"] == f"via @{fakes.BOT_USERNAME}" and posted["edited"]
    assert "Hot Latte" in posted["html"] and "Cancel link" in buttons(posted)
    seen = next(m for m in sandbox.messages("customer", "business") if m["id"] == posted["id"])
    assert not seen["mine"] and seen["via"] == posted["via"]

    # A customer who types @bot is offered only the way to ask for access.
    refused = sandbox.inline("customer", "business", "5000 thb Everything")
    assert refused["results"] == [] and refused["button"]["start"] == "access"

    # Share from the group's link message: the picker types the link id after @bot.
    sandbox.say("merchant", "group", "/link 120 thb Cake")
    cake = sandbox.bot_message("merchant", "group", "Cake")
    share = buttons(cake)["Share"]["share"]
    assert share["users"] and share["groups"] and share["query"].startswith("link_")
    [copy] = sandbox.inline("merchant", "business", share["query"])["results"]
    assert "Cake" in copy["title"]
    assert sandbox.choose("merchant", "business", copy["id"]).status_code == 200
    shared = sandbox.wait_for(
        lambda: next(
            (m for m in sandbox.messages("customer", "business") if "Cake" in m["html"]), None
        )
    )
    assert "Pay ฿120.00" in buttons(shared) and shared["via"]

    # Paid: the bot edits the inline message, by its inline id, for everyone in the chat.
    sandbox.http.post(f"/pay/{pay_code(posted)}", data={"method": "card"})

    def paid() -> dict[str, Any] | None:
        found = next(m for m in sandbox.messages("customer", "business") if m["id"] == posted["id"])
        return found if "✅ Paid" in found["html"] else None

    assert not sandbox.wait_for(paid)["buttons"]


def test_a_business_chat_takes_the_merchants_commands_only(sandbox: Sandbox) -> None:
    # Connected at start: the merchant's private chat with the bot says so.
    sandbox.bot_message("merchant", "private", "Telegram Business")
    greeting = sandbox.messages("merchant", "business")
    assert [m["html"] for m in greeting] == [GREETING]
    sandbox.say("customer", "business", "/link 5000 thb Everything")
    sandbox.say("merchant", "business", "/link 74.40 Hot Latte")

    def link(person: str) -> Callable[[], dict[str, Any] | None]:
        def check() -> dict[str, Any] | None:
            return next((m for m in sandbox.messages(person, "business") if m["buttons"]), None)

        return check

    posted = sandbox.wait_for(link("merchant"))
    # Posted as the merchant; only the merchant sees that the bot sent it.
    assert posted["sender"] == MERCHANT.name and posted["mine"] and not posted["bot"]
    assert posted["via"] == f"sent by @{fakes.BOT_USERNAME}"
    assert "Pay ฿74.40" in buttons(posted) and "Hot Latte" in posted["html"]
    seen = sandbox.wait_for(link("customer"))
    assert seen["sender"] == MERCHANT.name and seen["via"] is None and not seen["mine"]

    # The command was deleted (the rights allow it), and the customer's got no answer.
    def without_command() -> list[str] | None:
        shown = [m["html"] for m in sandbox.messages("customer", "business")]
        return None if any("/link 74.40" in said for said in shown) else shown

    shown = sandbox.wait_for(without_command)
    assert shown[:2] == [GREETING, "/link 5000 thb Everything"] and len(shown) == 3
    assert not any("5,000" in m["html"] for m in sandbox.messages("merchant", "private"))


def test_the_typists_language_is_the_bots(sandbox: Sandbox) -> None:
    sandbox.say("merchant", "private", "/help", lang="th")
    assert "แซนด์บ็อกซ์" in sandbox.bot_message("merchant", "private", "โหมด Omise")["html"]
    sandbox.say("customer", "private", "/help", lang="ja")
    sandbox.bot_message("customer", "private", "Omise")
    japanese = sandbox.messages("customer", "private")[-1]["html"]
    assert any("\u3040" <= c <= "\u30ff" for c in japanese)
    answer = sandbox.http.post(
        "/api/inline", json={"as": "merchant", "chat": "group", "query": "", "lang": "ja"}
    )
    assert answer.json()["results"], answer.text


def test_the_page_shows_only_telegrams_tags() -> None:
    shown = telegram_html(
        '<b>bold</b> <script>alert(1)</script><a href="javascript:alert(1)">x</a>'
        '<img src=x onerror=alert(1)><a href="https://pay.test/?a=1&amp;b=2">pay</a>'
        "<tg-spoiler>secret</tg-spoiler> 1 &lt; 2"
    )
    assert "<script" not in shown and "<img" not in shown and "javascript:" not in shown
    assert "<b>bold</b>" in shown and "alert(1)" in shown  # the text stays, as text
    assert '<a href="https://pay.test/?a=1&amp;b=2" target="_blank"' in shown
    assert '<span class="tg-spoiler">secret</span>' in shown and "1 &lt; 2" in shown
    assert telegram_html("<b><i>unclosed") == "<b><i>unclosed</i></b>"
    for unsafe in ("data:text/html,x", "vbscript:x", "mailto:a@b.test", "/files/x"):
        assert "href" not in telegram_html(f'<a href="{unsafe}">x</a>'), unsafe
    assert 'href="tg://user?id=1"' in telegram_html('<a href="tg://user?id=1">x</a>')
    assert telegram_text("<b>Hot Latte</b> 1 &lt; 2 <script>x</script>") == "Hot Latte 1 < 2 x"


def test_simulated_telegram_checks_buttons_and_counts_messages_per_chat() -> None:
    telegram = SandboxTelegram()
    handle = fakes.respx_handler(telegram)

    def send(chat_id: int, **extra: Any) -> httpx.Response:
        body = {"chat_id": chat_id, "text": "hi", **extra}
        url = f"https://telegram.test/bot{fakes.BOT_TOKEN}/sendMessage"
        return handle(httpx.Request("POST", url, json=body))

    first, other = send(GROUP_ID), send(MERCHANT.user_id)
    again = send(GROUP_ID)
    assert first.json()["result"]["message_id"] == other.json()["result"]["message_id"] == 501
    assert again.json()["result"]["message_id"] == 502
    too_long = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 33}]]}
    refused = send(GROUP_ID, reply_markup=json.dumps(too_long))
    assert refused.status_code == 400 and "BUTTON_DATA_INVALID" in refused.json()["description"]
    two_actions = {"inline_keyboard": [[{"text": "x", "callback_data": "a", "url": "https://a"}]]}
    assert send(GROUP_ID, reply_markup=json.dumps(two_actions)).status_code == 400
    for url in ("javascript:alert(1)", "data:text/html,x", "ftp://a.test/x", "pay.test"):
        bad = {"inline_keyboard": [[{"text": "x", "url": url}]]}
        refused = send(GROUP_ID, reply_markup=json.dumps(bad))
        assert refused.status_code == 400, url
        assert "BUTTON_URL_INVALID" in refused.json()["description"]
    for url in ("https://pay.test/x", "http://127.0.0.1:8765/pay/x", "tg://user?id=1"):
        good = {"inline_keyboard": [[{"text": "x", "url": url}]]}
        assert send(GROUP_ID, reply_markup=json.dumps(good)).status_code == 200, url

    telegram.say(CUSTOMER, CHAT_KINDS["group"], "hello everyone")
    telegram.say(CUSTOMER, CHAT_KINDS["group"], "/status")
    # Privacy mode: the bot gets the group's commands only; the page shows both.
    pushed = telegram._get_updates({})
    assert [u["message"]["text"] for u in pushed] == ["/status"]
    assert [e.text for e in telegram.chat_entries(GROUP_ID)][-2:] == ["hello everyone", "/status"]


# In a real browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "chromium and chromium-driver are not installed "
            "(apt-get install chromium chromium-driver); .ci/run installs them"
        )
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    driver.implicitly_wait(0)
    try:
        yield driver
    finally:
        driver.quit()


def test_a_link_made_paid_and_refused_in_the_browser(sandbox: Sandbox, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def wait(find: Callable[[Any], T], timeout: float = 20) -> T:
        found: T = WebDriverWait(browser, timeout, poll_frequency=0.1).until(find)
        return found

    def group_message(containing: str) -> Callable[[Any], Any]:
        def find(driver: Any) -> Any:
            for item in driver.find_elements(By.CSS_SELECTOR, '[data-chat="group"] .message'):
                if containing in item.text:
                    return item
            return False

        return find

    browser.get(sandbox.url)
    assert "nothing here is real" in browser.find_element(By.CLASS_NAME, "banner").text
    assert browser.find_element(By.ID, "as-merchant").is_selected()
    compose = browser.find_element(By.CSS_SELECTOR, '[data-chat="group"] .compose input')
    compose.send_keys("/link 74.40 thb Hot Latte\n")

    link = wait(group_message("Hot Latte\n฿74.40"))
    message_id = link.get_attribute("data-id")
    # A callback button: the bot answers the press with the QR code as a photo.
    next(k for k in link.find_elements(By.CSS_SELECTOR, "button.key") if k.text == "QR").click()
    qr = wait(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-chat="group"] .message img'))[0]
    wait(lambda _: qr.get_property("naturalWidth") > 0)
    link = wait(group_message("Hot Latte\n฿74.40"))
    pay = link.find_element(By.PARTIAL_LINK_TEXT, "Pay ฿74.40")
    chats = browser.current_window_handle
    pay.click()
    wait(lambda driver: len(driver.window_handles) == 2)
    browser.switch_to.window(next(h for h in browser.window_handles if h != chats))
    wait(lambda driver: driver.find_elements(By.ID, "pay-card"))[0].click()
    wait(lambda driver: driver.find_elements(By.ID, "result-successful"))
    browser.close()
    browser.switch_to.window(chats)

    def paid(driver: Any) -> Any:
        selector = f'[data-chat="group"] .message[data-id="{message_id}"]'
        items = driver.find_elements(By.CSS_SELECTOR, selector)
        return items[0] if items and "✅ Paid" in items[0].text else False

    assert "edited" in wait(paid).text
    wait(group_message("Hot Latte was paid: ฿74.40"))

    browser.find_element(By.ID, "as-customer").click()
    wait(group_message("Hot Latte was paid"))  # the customer sees the group too
    compose = browser.find_element(By.CSS_SELECTOR, '[data-chat="group"] .compose input')
    compose.send_keys("/link 5000 thb Everything\n")
    refusal = wait(group_message("Only the merchant's authorized users"))
    assert "Linkbot" in refusal.text
    bot_said = browser.find_elements(By.CSS_SELECTOR, '[data-chat="group"] .message.bot')
    assert not [item for item in bot_said if "฿5,000.00" in item.text]  # no link was made


def test_inline_mode_a_business_chat_and_thai_in_the_browser(
    sandbox: Sandbox, browser: Any
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    def wait(find: Callable[[Any], T], timeout: float = 20) -> T:
        found: T = WebDriverWait(browser, timeout, poll_frequency=0.1).until(find)
        return found

    def message_in(chat: str, *containing: str) -> Callable[[Any], Any]:
        def find(driver: Any) -> Any:
            for item in driver.find_elements(By.CSS_SELECTOR, f'[data-chat="{chat}"] .message'):
                if all(words in item.text for words in containing):
                    return item
            return False

        return find

    def compose(chat: str) -> Any:
        return browser.find_element(By.CSS_SELECTOR, f'[data-chat="{chat}"] .compose input')

    def result(containing: str) -> Callable[[Any], Any]:
        def find(driver: Any) -> Any:
            for item in driver.find_elements(
                By.CSS_SELECTOR, '[data-chat="business"] .inline-result'
            ):
                if containing in item.text:
                    return item
            return False

        return find

    browser.get(sandbox.url)
    wait(message_in("business", GREETING))
    wait(message_in("private", "Connected to your Telegram Business account"))

    # Inline mode: the results come up above the input as the merchant types.
    mention = f"@{fakes.BOT_USERNAME}"
    compose("business").send_keys(f"{mention} 74.40 thb Hot")
    wait(result("Hot ·"))
    compose("business").send_keys(" Latte")
    wait(result("Hot Latte ·")).click()
    inline = wait(message_in("business", f"via {mention}", "Hot Latte", "Cancel link"))
    assert inline.find_element(By.PARTIAL_LINK_TEXT, "Pay ฿74.40")
    assert "edited" in inline.text and compose("business").get_attribute("value") == ""

    # Telegram Business: /link from the merchant is posted as the merchant, the command gone.
    compose("business").send_keys("/link 50 Cookie\n")
    cookie = wait(message_in("business", "Cookie", f"sent by {mention}"))
    assert cookie.find_element(By.PARTIAL_LINK_TEXT, "Pay ฿50.00")
    wait(lambda d: not message_in("business", "/link 50 Cookie")(d))

    # Share: a chat picker, then the link's own message through inline mode.
    compose("group").send_keys("/link 120 thb Cake\n")
    cake = wait(message_in("group", "Cake", "Share"))
    next(k for k in cake.find_elements(By.CSS_SELECTOR, "button.key") if k.text == "Share").click()
    target = wait(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#picker .target[data-chat="business"]')
    )
    target[0].click()
    assert compose("business").get_attribute("value").startswith(f"{mention} link_")
    wait(result("Cake")).click()
    wait(message_in("business", f"via {mention}", "Cake", "Pay ฿120.00"))

    # The typist's Telegram app language is the bot's.
    Select(browser.find_element(By.ID, "language")).select_by_visible_text("ไทย")
    compose("private").send_keys("/help\n")
    wait(message_in("private", "โหมด Omise"))


def test_the_page_answers_only_this_machine_and_json(sandbox: Sandbox) -> None:
    rebound = sandbox.http.get("/", headers={"Host": "evil.example"})
    assert rebound.status_code == 400
    # What a form on another site can send without asking: refused.
    forged = sandbox.http.post(
        "/api/say",
        content=json.dumps({"as": "merchant", "chat": "group", "text": "/link 1000 thb x"}),
        headers={"Content-Type": "text/plain"},
    )
    assert forged.status_code == 400
    assert sandbox.messages("merchant", "group") == []
    assert sandbox.http.get("/static/../page.py").status_code == 404


def test_the_page_links_buttons_only_to_web_and_telegram_addresses() -> None:
    from zoneinfo import ZoneInfo

    from linkbot.sandbox.chats import Entry
    from linkbot.sandbox.page import _message

    row = [
        {"text": "web", "url": "https://pay.test/x"},
        {"text": "app", "url": "tg://resolve?domain=linkbot_test_bot"},
        {"text": "script", "url": "javascript:alert(1)"},
        {"text": "data", "url": " data:text/html,x"},
    ]
    entry = Entry(GROUP_ID, 501, fakes.BOT_ID, {}, reply_markup={"inline_keyboard": [row]})
    [shown] = _message(entry, MERCHANT, ZoneInfo("UTC"))["buttons"]
    assert [b.get("url") for b in shown] == [row[0]["url"], row[1]["url"], None, None]
    assert [b["text"] for b in shown] == ["web", "app", "script", "data"]
