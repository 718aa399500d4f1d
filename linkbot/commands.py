"""Pure parsing of command text into requests. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass

from linkbot.money import (
    AmountError,
    AmountParts,
    Currency,
    currency_named,
    drop_bidi_controls,
    examples,
    has_bidi_control,
    names_currency,
    normalize_digits,
    parse_amount,
    split_amount,
    written_before,
)

# A title shows in the reply, in /links and on Omise's payment page; a
# description only on the payment page. These caps keep every reply well
# inside Telegram's 4096 characters after HTML escaping.
TITLE_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 1000

# Omise's ids carry 19 characters after the prefix. The cap leaves room for any
# id, test or live, in a button's callback data ("cancel:<id>", "qr:<id>"),
# which Telegram limits to 64 bytes.
LINK_ID_MAX_SUFFIX = 47
_LINK_ID = re.compile(rf"link_(?:test_)?[0-9a-z]{{1,{LINK_ID_MAX_SUFFIX}}}")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CommandError(ValueError):
    """Command text that cannot be turned into a request.

    ``reason`` is a message catalog key; ``params`` fill in its placeholders.
    """

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


@dataclass(frozen=True, slots=True)
class LinkRequest:
    amount: int
    currency: Currency
    title: str
    description: str
    multiple: bool


def parse_link(text: str, *, default_currency: Currency, multiple: bool = False) -> LinkRequest:
    """Parse ``<amount> [currency] <title> [| <description>]``.

    The currency is a code, word or symbol before or after the number, glued
    or spaced (``฿74.40``, ``100บาท``, ``500 円``, ``5 usd``). A word after the
    amount that names no currency starts the title, so ``/link 50 Cup of
    tea`` is a title; one that names a currency Omise does not take is refused.
    """
    head, bar, tail = _clean(text).partition("|")
    words = _words(head)
    if not words:
        raise CommandError("usage")
    try:
        amount, currency, used = _read_amount(head, words, default_currency)
    except AmountError as exc:
        params = exc.params
        if exc.reason in ("currency_not_taken", "currency_subunit"):
            params = {"example": examples(default_currency)["example"], **params}
        raise CommandError(exc.reason, **params) from None

    title = " ".join(head[words[used - 1].end :].split())
    description = " ".join(tail.split()) if bar else ""
    if not title:
        raise CommandError("title_missing")
    if len(title) > TITLE_MAX_LENGTH:
        raise CommandError("title_too_long", limit=TITLE_MAX_LENGTH)
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise CommandError("description_too_long", limit=DESCRIPTION_MAX_LENGTH)
    return LinkRequest(
        amount=amount,
        currency=currency,
        title=title,
        description=description or title,
        multiple=multiple,
    )


# Spaces that join the digit groups of one number as typeset ("25 000"):
# no-break, figure, thin, hair and narrow no-break. Nobody puts one between
# an amount and its title, so digits after one belong to the amount.
_GROUP_SPACES = frozenset("\u00a0\u2007\u2009\u200a\u202f")
_FIRST_GROUP = re.compile(r"[1-9]\d{0,2}")
_GROUP = re.compile(r"\d{3}")
_LAST_GROUP = re.compile(r"\d{3}(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class _Word:
    text: str  # digits made ASCII, zero-width and direction marks dropped
    end: int  # where the word ends in what was typed
    joined: bool  # only a no-break or thin space before it


def _words(head: str) -> list[_Word]:
    words: list[_Word] = []
    end = 0
    for match in re.finditer(r"\S+", head):
        gap, end = head[end : match.start()], match.end()
        word = drop_bidi_controls(normalize_digits(match[0]))
        if word:
            joined = bool(words) and all(ch in _GROUP_SPACES for ch in gap)
            words.append(_Word(word, end, joined))
    return words


def _read_amount(head: str, words: list[_Word], default: Currency) -> tuple[int, Currency, int]:
    """The amount and currency that ``words`` start with, and how many words they take."""
    # First where the amount is: a code or symbol before it ("THB 100", "RM 5",
    # "฿ 74.40"), its number, and a currency word after it ("500 yen").
    at = 0
    if (
        len(words) > 1
        and _starts_with_number(words[1].text)
        and written_before(words[0].text)
        and names_currency(words[0].text)
    ):
        at = 1
    first = split_amount(words[at].text)
    if first is None:
        raise CommandError("usage")
    chain, spaced = _number_words(words, at)
    end = at + len(chain)
    used = end + 1 if end < len(words) and names_currency(words[end].text) else end
    if has_bidi_control(head[: words[used - 1].end]):
        # "\u202e0021\u202c" shows as 1200; cleaning the mark away would charge 21.
        raise CommandError("amount_bidi", **examples(default))

    # Then what it says.
    named: list[Currency] = []
    if at:
        named.append(_named(words[0].text))
    if first.prefix:
        symbol = currency_named(first.prefix)  # "฿74.40", "RM5", "US$5"
        if symbol is None:
            raise CommandError("usage")
        named.append(symbol)
    if first.negative:
        raise CommandError("amount_not_positive")
    if chain[-1].suffix:
        glued = currency_named(chain[-1].suffix)  # "100บาท", "74.40thb", "500円"
        if glued is None:
            raise CommandError("amount_invalid", text=words[end - 1].text, **examples(default))
        named.append(glued)
    if used > end:
        named.append(_named(words[end].text))  # "500 yen", "100 บาท", "5 RM"
    distinct = list(dict.fromkeys(named))
    if len(distinct) > 1:
        raise CommandError("currency_conflict", symbol=distinct[0].code, code=distinct[1].code)
    currency = distinct[0] if distinct else default
    # A currency right after the number says where the number ends.
    ended = used > end or bool(chain[-1].suffix)
    number = _one_number(chain, spaced=spaced and not ended, currency=currency)
    return parse_amount(number, currency), currency, used


def _named(word: str) -> Currency:
    currency = currency_named(word)
    assert currency is not None  # the word names a currency, so it is one or refused
    return currency


def _starts_with_number(word: str) -> bool:
    parts = split_amount(word)
    return parts is not None and not parts.prefix


def _number_words(words: list[_Word], at: int) -> tuple[list[AmountParts], bool]:
    """The words of the amount's number, and whether an ordinary space is inside it.

    After ``1``, ``25`` or ``120`` (1–3 digits), a word of exactly three digits
    may be the next group of thousands (``25 000``) or the start of the title
    (``2 500 ml water``). It is taken into the number here, and
    :func:`_one_number` reads it only when that cannot be the title. A number
    that cannot be a group (``120 2 lattes``) starts the title, unless the
    amount plainly goes on past it: a currency right after it (``1 5 thb``)
    or a leading zero after whole digits (``25 00``).
    """
    first = split_amount(words[at].text)
    assert first is not None
    chain = [first]
    grouping = _FIRST_GROUP.fullmatch(first.number) is not None
    whole = first.number.isdigit()
    spaced = False
    for index in range(at + 1, len(words)):
        if chain[-1].suffix:
            break
        word = words[index]
        part = split_amount(word.text)
        if part is None or part.prefix or part.negative:
            break
        if not word.joined:
            group = (
                grouping
                and _LAST_GROUP.fullmatch(part.number) is not None
                and (not part.suffix or names_currency(part.suffix))
            )
            goes_on = (
                (bool(part.suffix) and names_currency(part.suffix))
                or (index + 1 < len(words) and names_currency(words[index + 1].text))
                or (whole and re.fullmatch(r"0\d+", part.number) is not None)
            )
            if not (group or goes_on):
                break
            spaced = True
        chain.append(part)
        grouping = grouping and _GROUP.fullmatch(part.number) is not None
        whole = whole and part.number.isdigit()
    return chain, spaced


def _one_number(chain: list[AmountParts], *, spaced: bool, currency: Currency) -> str:
    """The number the words of ``chain`` write, or a refusal when that is not certain."""
    if len(chain) == 1:
        return chain[0].number
    numbers = [part.number for part in chain]
    typed = " ".join(numbers)
    shaped = (
        _FIRST_GROUP.fullmatch(numbers[0])
        and all(_GROUP.fullmatch(group) for group in numbers[1:-1])
        and _LAST_GROUP.fullmatch(numbers[-1])
    )
    if not shaped:
        raise CommandError("amount_spaced_shape", text=typed, **examples(currency))
    plain = "".join(numbers)
    if spaced:
        whole, dot, fraction = plain.partition(".")
        raise CommandError(
            "amount_spaced",
            text=typed,
            plain=plain,
            grouped=f"{int(whole):,}{dot}{fraction}",
            first=numbers[0],
            group=numbers[1],
            code=currency.code.lower(),
        )
    return plain


def command_word(text: str | None) -> str | None:
    """The command a message starts with, as its handler is named ("/Link@bot 5" → "link").

    None when the message is not a command.
    """
    if not text or not text.startswith("/"):
        return None
    return text.split(None, 1)[0][1:].split("@", 1)[0].lower()


def parse_link_id(text: str) -> str:
    """Parse the single link id argument of ``/cancel`` and ``/status``."""
    words = _clean(text).split()
    if len(words) != 1 or not _LINK_ID.fullmatch(words[0]):
        raise CommandError("link_id_invalid")
    return words[0]


def parse_page(data: str, prefix: str) -> int | None:
    """Parse callback data such as ``links:3`` into a page number."""
    if not data.startswith(prefix):
        return None
    number = data[len(prefix) :]
    return int(number) if number.isascii() and number.isdigit() and len(number) < 6 else None


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", text)
