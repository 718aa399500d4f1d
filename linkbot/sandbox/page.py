"""The sandbox's local page: the chats, the people's side of them, and a simulated checkout.

Server-rendered HTML and one small script (``static/sandbox.js``) that polls
``/api/state``; no build step, nothing fetched from elsewhere, so it works
offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import urllib.parse
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from linkbot.money import format_amount
from linkbot.sandbox.chats import (
    CHAT_KINDS,
    CHATS,
    LANGUAGES,
    MERCHANT,
    PEOPLE,
    Entry,
    Person,
    SandboxTelegram,
)
from linkbot.sandbox.fakes import BOT_ID, BOT_USERNAME, FakeOmise
from linkbot.sandbox.markup import plain_html, telegram_html, telegram_text, web_or_telegram

# How long a PromptPay payment stays pending before the simulated bank confirms it,
# or, when it is never paid, before Omise lets it expire (a real one waits much longer).
PROMPTPAY_DELAY = 4.0
# The pay page's ways to pay, as its forms name them.
METHODS = ("card", "promptpay", "unpaid", "declined")
# How long /api/state waits for something new before answering "nothing yet".
LONG_POLL = 2.0
MAX_TEXT = 4096
# Telegram's limit for an inline query's text, and how long the page waits for the answer.
MAX_QUERY = 256
INLINE_WAIT = 5.0

NOTHING_IS_REAL = (
    "Sandbox: nothing here is real. Test mode, a simulated Telegram and a simulated Omise "
    "on this machine; no money moves and no message leaves it."
)


class Checkout:
    """The customer's side of Omise: pays links through :class:`FakeOmise`'s life cycle."""

    def __init__(self, omise: FakeOmise, promptpay_delay: float = PROMPTPAY_DELAY) -> None:
        self.omise = omise
        self.promptpay_delay = promptpay_delay
        # How each PromptPay charge made here will end: charge id -> "successful" or "expired".
        self.endings: dict[str, str] = {}
        self._later: set[asyncio.Task[None]] = set()

    def link_by_code(self, code: str) -> dict[str, Any] | None:
        for link in list(self.omise.links.values()):
            if str(link["payment_uri"]).rsplit("/", 1)[-1] == code:
                return link
        return None

    def pay(self, link: dict[str, Any], method: str) -> dict[str, Any]:
        if method in ("promptpay", "unpaid"):
            charge = self.omise.pay(link["id"], status="pending")
            ending = "successful" if method == "promptpay" else "expired"
            self.endings[charge["id"]] = ending
            task = asyncio.create_task(self._settle_later(charge["id"], ending))
            self._later.add(task)
            task.add_done_callback(self._later.discard)
            return charge
        if method == "declined":
            return self.omise.pay(link["id"], status="failed", failure="payment_rejected")
        return self.omise.pay(link["id"], status="successful")

    async def _settle_later(self, charge_id: str, ending: str) -> None:
        await asyncio.sleep(self.promptpay_delay)
        self.omise.settle(charge_id, ending)

    async def aclose(self) -> None:
        for task in list(self._later):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_page(telegram: SandboxTelegram, checkout: Checkout, zone: ZoneInfo) -> Starlette:
    """The page; times on it are in ``zone``, the merchant's, as the bot writes them."""

    async def index(request: Request) -> Response:
        return HTMLResponse(_index_html())

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        media = {"sandbox.js": "text/javascript", "sandbox.css": "text/css"}.get(name)
        if media is None:
            return Response("not found", 404)
        body = resources.files("linkbot.sandbox").joinpath("static", name).read_bytes()
        return Response(body, media_type=media, headers={"Cache-Control": "no-cache"})

    async def state(request: Request) -> Response:
        person = PEOPLE.get(request.query_params.get("as", ""))
        if person is None:
            return JSONResponse({"error": "unknown person"}, 400)
        since = _int(request.query_params.get("since"))
        # Changes come from the simulator's HTTP threads; a short look each 50 ms is enough.
        for _ in range(round(LONG_POLL / 0.05)):
            if telegram.version != since:
                break
            await asyncio.sleep(0.05)
        # A page just opened asks for no notice: those shown before it are not shown again.
        notice = request.query_params.get("notice")
        notices_after = None if notice is None else _int(notice)
        return JSONResponse(_state(telegram, person, notices_after, zone))

    async def say(request: Request) -> Response:
        body = await _json(request)
        person, kind = PEOPLE.get(str(body.get("as"))), CHAT_KINDS.get(str(body.get("chat")))
        words = str(body.get("text", "")).strip()
        if person is None or kind is None or not words or len(words) > MAX_TEXT:
            return JSONResponse({"error": "a person, a chat and 1-4096 characters"}, 400)
        reply_to = _reply_to(body)
        if reply_to == 0 or not telegram.say(person, kind, words, _language(body), reply_to):
            return JSONResponse({"error": "the message replied to is not in this chat"}, 400)
        return JSONResponse({"ok": True})

    async def press(request: Request) -> Response:
        body = await _json(request)
        person = PEOPLE.get(str(body.get("as")))
        chat_id, message_id = _int(body.get("chat_id")), _int(body.get("message_id"))
        data = str(body.get("data", ""))
        if person is None or not telegram.press(person, chat_id, message_id, data, _language(body)):
            return JSONResponse({"error": "no such button"}, 400)
        return JSONResponse({"ok": True})

    async def inline(request: Request) -> Response:
        """Someone typed ``@bot query``: the bot's results, shown above the input."""
        body = await _json(request)
        person, kind = PEOPLE.get(str(body.get("as"))), CHAT_KINDS.get(str(body.get("chat")))
        query = str(body.get("query", ""))
        if person is None or kind is None or len(query) > MAX_QUERY:
            return JSONResponse({"error": "a person, a chat and at most 256 characters"}, 400)
        query_id = telegram.inline_query(person, kind, query, _language(body))
        for _ in range(round(INLINE_WAIT / 0.05)):
            answer = telegram.inline_answer(query_id)
            if answer is not None:
                return JSONResponse(_inline_results(answer))
            await asyncio.sleep(0.05)
        return JSONResponse({"results": [], "button": None, "late": True})

    async def choose(request: Request) -> Response:
        body = await _json(request)
        person, kind = PEOPLE.get(str(body.get("as"))), CHAT_KINDS.get(str(body.get("chat")))
        result_id = str(body.get("result_id", ""))
        reply_to = _reply_to(body)
        if (
            person is None
            or kind is None
            or reply_to == 0
            or not telegram.choose(person, kind, result_id, _language(body), reply_to)
        ):
            return JSONResponse({"error": "no such result"}, 400)
        return JSONResponse({"ok": True})

    async def file(request: Request) -> Response:
        upload = telegram.files.get(request.path_params["file_id"])
        if upload is None:
            return Response("not found", 404)
        name, content = str(upload.get("filename") or "file"), bytes(upload["content"])
        # A photo's upload name is the library's choice (a MIME type such as
        # "application.octet-stream"); its bytes say what it is, and name it.
        if content.startswith(b"\x89PNG"):
            media, name = "image/png", _photo_name(name, ".png")
        elif content.startswith(b"\xff\xd8"):
            media, name = "image/jpeg", _photo_name(name, ".jpg")
        elif name.endswith(".csv"):
            media = "text/csv; charset=utf-8"
        else:
            media = "application/octet-stream"
        disposition = "inline" if media.startswith("image/") else "attachment"
        safe = "".join(c for c in name if c.isalnum() or c in "._-") or "file"
        return Response(
            content,
            media_type=media,
            headers={"Content-Disposition": f'{disposition}; filename="{safe}"'},
        )

    async def pay_page(request: Request) -> Response:
        code = request.path_params["code"]
        link = checkout.link_by_code(code)
        if link is None:
            return HTMLResponse(_pay_html("Link not found", "<p>No such payment link.</p>"), 404)
        charge = checkout.omise.charges.get(request.query_params.get("charge", ""))
        if charge is not None and charge["link"] == link["id"]:
            pending = charge["status"] == "pending"
            said = _charge_html(charge, checkout.endings.get(charge["id"], "successful"))
            return HTMLResponse(_pay_html(link["title"], said, refresh=pending))
        return HTMLResponse(_pay_html(link["title"], _offer_html(link, code)))

    async def pay(request: Request) -> Response:
        code = request.path_params["code"]
        link = checkout.link_by_code(code)
        # Read by hand: Starlette's form parsing needs python-multipart, one more dependency.
        form = dict(urllib.parse.parse_qsl((await request.body()).decode(errors="replace")))
        method = form.get("method", "")
        if link is None or method not in METHODS:
            return HTMLResponse(_pay_html("Not paid", "<p>No such link or method.</p>"), 400)
        if not _payable(link):
            return RedirectResponse(f"/pay/{code}", 303)
        charge = checkout.pay(link, method)
        return RedirectResponse(f"/pay/{code}?charge={charge['id']}", 303)

    return Starlette(
        # A name that only resolves to this machine (against DNS rebinding).
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["127.0.0.1", "localhost"])],
        routes=[
            Route("/", index),
            Route("/static/{name}", static),
            Route("/api/state", state),
            Route("/api/say", say, methods=["POST"]),
            Route("/api/press", press, methods=["POST"]),
            Route("/api/inline", inline, methods=["POST"]),
            Route("/api/choose", choose, methods=["POST"]),
            Route("/files/{file_id}", file),
            Route("/pay/{code}", pay_page),
            Route("/pay/{code}", pay, methods=["POST"]),
        ],
    )


def _photo_name(uploaded: str, suffix: str) -> str:
    """The upload's name when it says the type, else one that does (the bot's photos are QRs)."""
    return uploaded if uploaded.lower().endswith(suffix) else f"qr{suffix}"


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _reply_to(body: dict[str, Any]) -> int | None:
    """The message id a reply answers; None for no reply, 0 for one that names none."""
    if body.get("reply_to") is None:
        return None
    return max(_int(body["reply_to"]), 0)


def _language(body: dict[str, Any]) -> str:
    """The typist's Telegram app language, sent as language_code."""
    language = str(body.get("lang", "en"))
    return language if language in LANGUAGES else "en"


def _inline_results(answer: dict[str, Any]) -> dict[str, Any]:
    """What Telegram shows of an answer: each result's title and description, and its button."""
    results = [
        {
            "id": str(result["id"]),
            "title": str(result.get("title", "")),
            "description": str(result.get("description", "")),
        }
        for result in answer["results"]
    ]
    button = answer.get("button")
    shown = None
    if isinstance(button, dict) and "start_parameter" in button:
        shown = {"text": str(button["text"]), "start": str(button["start_parameter"])}
    return {"results": results, "button": shown, "late": False}


async def _json(request: Request) -> dict[str, Any]:
    # JSON only: another site's page cannot send it here without a CORS preflight.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return {}
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _state(
    telegram: SandboxTelegram, person: Person, notices_after: int | None, zone: ZoneInfo
) -> dict[str, Any]:
    """The chats as ``person`` sees them, and the notices to them numbered after
    ``notices_after`` (None: none; the page takes ``last_notice`` as where it starts)."""
    chats = []
    for kind in CHATS:
        chat_id = kind.chat_for(person)["id"]
        entries = telegram.chat_entries(chat_id, business=kind.business)
        by_id = {entry.message_id: entry for entry in entries}
        chats.append(
            {
                "key": kind.key,
                "title": kind.title,
                "subtitle": kind.subtitle,
                "chat_id": chat_id,
                "messages": [
                    _message(entry, person, zone, by_id.get(entry.reply_to or 0))
                    for entry in entries
                ],
            }
        )
    notices = [
        {"number": n.number, "text": n.text, "alert": n.alert}
        for n in (
            telegram.notices_for(person.user_id, notices_after) if notices_after is not None else []
        )
    ]
    return {
        "version": telegram.version,
        "chats": chats,
        "notices": notices,
        "last_notice": telegram.last_notice(),
    }


def _sender(user_id: int) -> str:
    if user_id == BOT_ID:
        return "Linkbot"
    return next((p.name for p in PEOPLE.values() if p.user_id == user_id), str(user_id))


def _via(entry: Entry, person: Person) -> str | None:
    if entry.via_bot:
        return f"via @{BOT_USERNAME}"
    # Telegram marks what a business bot sent only for the account's owner.
    if entry.by_business_bot and person.user_id == MERCHANT.user_id:
        return f"sent by @{BOT_USERNAME}"
    return None


def _message(
    entry: Entry, person: Person, zone: ZoneInfo, quoted: Entry | None = None
) -> dict[str, Any]:
    rows = []
    for row in (entry.reply_markup or {}).get("inline_keyboard", []):
        buttons = []
        for button in row:
            shown: dict[str, Any] = {"text": str(button.get("text", ""))}
            if "callback_data" in button:
                shown["callback"] = str(button["callback_data"])
            elif "url" in button:
                # Only addresses Telegram opens from a button; anything else stays text.
                if web_or_telegram(str(button["url"])):
                    shown["url"] = str(button["url"])
            elif "copy_text" in button:
                shown["copy"] = str(button["copy_text"].get("text", ""))
            elif "switch_inline_query_chosen_chat" in button:
                chosen = button["switch_inline_query_chosen_chat"]
                shown["share"] = {
                    "query": str(chosen.get("query", "")),
                    "users": bool(chosen.get("allow_user_chats")),
                    "bots": bool(chosen.get("allow_bot_chats")),
                    "groups": bool(chosen.get("allow_group_chats")),
                }
            buttons.append(shown)
        rows.append(buttons)
    return {
        "id": entry.message_id,
        "mine": entry.sender == person.user_id,
        "bot": entry.sender == BOT_ID,
        "sender": _sender(entry.sender),
        "via": _via(entry, person),
        "html": telegram_html(entry.text) if entry.html else plain_html(entry.text),
        "photo": f"/files/{entry.photo}" if entry.photo else None,
        "document": (
            {"url": f"/files/{entry.document}", "name": entry.filename} if entry.document else None
        ),
        "buttons": rows,
        "edited": entry.edited,
        "reply": (
            {
                "sender": _sender(quoted.sender),
                "text": (telegram_text(quoted.text) if quoted.html else quoted.text)[:80],
            }
            if quoted is not None
            else None
        ),
        "time": datetime.fromtimestamp(entry.date, zone).strftime("%H:%M"),
    }


def _index_html() -> str:
    people = "".join(
        f'<label><input type="radio" name="as" value="{p.key}" id="as-{p.key}"'
        f' data-name="{html.escape(p.name)}"'
        f"{' checked' if p.allowed else ''}> {html.escape(p.name)} "
        f"<small>({'the merchant, an allowed user' if p.allowed else 'a customer'})</small>"
        "</label>"
        for p in PEOPLE.values()
    )
    languages = "".join(
        f'<option value="{code}">{html.escape(name)}</option>' for code, name in LANGUAGES.items()
    )
    panes = "".join(
        f'<section class="chat" data-chat="{kind.key}" data-title="{html.escape(kind.title)}"'
        f' data-type="{kind.inline_chat_type}">'
        f"<header><b>{html.escape(kind.title)}</b> <small>{html.escape(kind.subtitle)}</small>"
        "</header>"
        '<ol class="messages"></ol>'
        '<ul class="inline-results" hidden></ul>'
        '<div class="replying" hidden><div class="quote"><b></b><span></span></div>'
        '<button type="button" class="unreply" title="Do not reply" aria-label="Do not reply">'
        "×</button></div>"
        '<form class="compose"><input name="text" autocomplete="off" '
        f'placeholder="Message as …" maxlength="{MAX_TEXT}"><button>Send</button></form>'
        "</section>"
        for kind in CHATS
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>linkbot sandbox</title>
<link rel="stylesheet" href="/static/sandbox.css"></head>
<body data-bot="{html.escape(BOT_USERNAME)}">
<p class="banner" role="note">{html.escape(NOTHING_IS_REAL)}</p>
<nav class="people">Type as: {people}
<label>Telegram app language: <select id="language">{languages}</select></label>
<span class="hint">Try <code>/link 74.40 thb Hot Latte</code> in the group, then press Pay;
<code>@{html.escape(BOT_USERNAME)} 74.40 Hot Latte</code> or <code>/link</code> in
{html.escape(CHAT_KINDS["business"].title)}.</span>
</nav>
<main class="chats">{panes}</main>
<dialog id="picker"><form method="dialog"><p><b>Share to…</b></p><div class="targets"></div>
<button value="">Cancel</button></form></dialog>
<div id="toasts" aria-live="polite"></div>
<script src="/static/sandbox.js"></script>
</body></html>"""


def _payable(link: dict[str, Any]) -> bool:
    return not link["deleted"] and (link["multiple"] or not link["used"])


def _offer_html(link: dict[str, Any], code: str) -> str:
    if link["deleted"]:
        return "<p>This link has been deactivated by the merchant; it can no longer be paid.</p>"
    if not _payable(link):
        return "<p>This link has already been paid.</p>"
    wait = f"{PROMPTPAY_DELAY:.0f} s"
    methods = (
        ("card", "Pay by card", "succeeds at once: the bot announces it"),
        (
            "promptpay",
            "Pay by PromptPay",
            f"pending for {wait}, then succeeds: the bot announces it",
        ),
        (
            "unpaid",
            "PromptPay, never paid",
            f"pending, then expires after {wait}: the bot says the payment did not complete",
        ),
        (
            "declined",
            "Card declined",
            "fails at once, and the customer sees it here: the bot stays silent",
        ),
    )
    buttons = "".join(
        f'<form method="post" action="/pay/{html.escape(code)}">'
        f'<input type="hidden" name="method" value="{value}">'
        f'<button id="pay-{value}">{label}</button> <small>{note}</small></form>'
        for value, label, note in methods
    )
    return (
        f'<p class="amount">{html.escape(format_amount(link["amount"], link["currency"]))}</p>'
        f"<p>{html.escape(link['description'])}</p>{buttons}"
    )


def _charge_html(charge: dict[str, Any], ending: str = "successful") -> str:
    amount = html.escape(format_amount(charge["amount"], charge["currency"]))
    status = charge["status"]
    if status == "successful":
        said = f"✅ Paid {amount}. The bot announces it in the chat within a few seconds."
    elif status == "pending" and ending == "expired":
        said = (
            f"⏳ Waiting for the PromptPay payment of {amount}, which never comes "
            "(simulated: it expires in a few seconds, and the bot says so in the chat)."
        )
    elif status == "pending":
        said = (
            f"⏳ Waiting for the PromptPay payment of {amount} "
            "(simulated: the bank confirms it in a few seconds)."
        )
    elif status == "expired":
        said = (
            f"⌛ The PromptPay payment of {amount} expired unpaid. "
            "The bot tells the chat it did not complete."
        )
    else:
        reason = html.escape(str(charge["failure_message"]))
        said = (
            f"❌ The payment of {amount} failed: {reason}. You saw it here, so the bot "
            "says nothing in the chat."
        )
    return f'<p class="result" id="result-{status}">{said}</p>'


def _pay_html(title: str, body: str, *, refresh: bool = False) -> str:
    # While a payment is pending the page looks again each second, as Omise's does.
    again = '<meta http-equiv="refresh" content="1">' if refresh else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">{again}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay: {html.escape(title)}</title>
<link rel="stylesheet" href="/static/sandbox.css"></head>
<body class="checkout">
<p class="banner" role="note">Simulated Omise checkout, test mode: no money moves.</p>
<main><h1>{html.escape(title)}</h1>{body}
<p><a href="/">Back to the chats</a></p></main>
</body></html>"""
