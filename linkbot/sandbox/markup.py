"""Telegram's message HTML made safe for the page: only the tags Telegram itself accepts."""

from __future__ import annotations

import html
from html.parser import HTMLParser

# Every tag Telegram accepts -> the page's tag; everything else is dropped, its text
# kept (escaped).
TELEGRAM_TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "a": "a",
    "span": "span",
    "tg-spoiler": "span",
    "tg-emoji": "span",
}
# What Telegram opens from a link or a button; anything else (javascript:, data:, …) is text.
_SAFE_SCHEMES = ("http://", "https://", "tg://")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        mapped = TELEGRAM_TAGS.get(tag)
        if mapped is None:
            return
        found = dict(attrs)
        attributes = ""
        if tag == "a":
            href = (found.get("href") or "").strip()
            if web_or_telegram(href):
                attributes = f' href="{html.escape(href)}" target="_blank" rel="noopener"'
        elif tag == "tg-spoiler" or (tag == "span" and found.get("class") == "tg-spoiler"):
            attributes = ' class="tg-spoiler"'
        self.out.append(f"<{mapped}{attributes}>")
        self.open.append(mapped)

    def handle_endtag(self, tag: str) -> None:
        mapped = TELEGRAM_TAGS.get(tag)
        if mapped is not None and mapped in self.open:
            # Close what is open down to it, so the output is always well nested.
            while self.open:
                last = self.open.pop()
                self.out.append(f"</{last}>")
                if last == mapped:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def web_or_telegram(url: str) -> bool:
    """Whether ``url`` is a web (http, https) or Telegram (tg) address, safe as a page's href."""
    return url.lower().startswith(_SAFE_SCHEMES)


def telegram_html(text: str) -> str:
    """Text in Telegram's HTML parse mode as safe page HTML."""
    sanitizer = _Sanitizer()
    sanitizer.feed(text)
    sanitizer.close()
    return "".join(sanitizer.out) + "".join(f"</{tag}>" for tag in reversed(sanitizer.open))


def telegram_text(text: str) -> str:
    """Text in Telegram's HTML parse mode as the words a reader sees (for a quote)."""
    sanitizer = _Sanitizer()
    sanitizer.feed(text)
    sanitizer.close()
    return html.unescape("".join(part for part in sanitizer.out if not part.startswith("<")))


def plain_html(text: str) -> str:
    """A message without a parse mode: every character as typed."""
    return html.escape(text, quote=False)
