"""Pure parsing of command text into requests. No I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from linkbot.currency_names import MULTIPLIERS, PHRASES, SUBUNITS, key
from linkbot.money import (
    BIDI_CONTROLS,
    MAX_SMALLEST_UNITS,
    MINUS,
    AmountError,
    AmountParts,
    Currency,
    currency_named,
    drop_bidi_controls,
    echo,
    ends_with_symbol,
    example_title,
    examples,
    format_amount,
    get_currency,
    has_bidi_control,
    leading_name,
    names_currency,
    normalize_digits,
    parse_amount,
    runs,
    split_amount,
    title_rest,
    to_decimal,
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
# A command as Telegram marks it: "/link" or "/link@bot", up to the first
# character that cannot be in a command name ("/link\u202e 5" is /link).
COMMAND = re.compile(r"/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class CommandError(ValueError):
    """Command text that cannot be turned into a request.

    ``reason`` is a message catalog key; ``params`` fill in its placeholders.
    """

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = echo(params)


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
        amount, currency, title = _read_amount(head, words, default_currency)
    except AmountError as exc:
        params = exc.params
        if exc.reason in ("currency_not_taken", "currency_subunit"):
            params = {"example": examples(default_currency)["example"], **params}
        raise CommandError(exc.reason, **params) from None

    description = " ".join(tail.split()) if bar else ""
    if not title:
        raise CommandError("title_missing", example=examples(currency)["example"])
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
        word = drop_bidi_controls(normalize_digits(match[0]))
        if not word:
            continue  # a lone zero-width mark: its gap and the next one are one gap
        gap, end = head[end : match.start()], match.end()
        # Marks that vanish leave the gap as it looks: any ordinary space in it is seen.
        seen = [ch for ch in normalize_digits(gap) if ch not in BIDI_CONTROLS]
        joined = bool(words) and all(ch in _GROUP_SPACES for ch in seen)
        words.append(_Word(word, end, joined))
    return words


def _read_amount(head: str, words: list[_Word], default: Currency) -> tuple[int, Currency, str]:
    """The amount and currency that ``words`` start with, and the title after them."""
    if len(words) > 1 and set(words[0].text) <= MINUS and _starts_with_number(words[1].text):
        raise CommandError("amount_not_positive")  # "- 5 Cake"
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
    if end < len(words) and words[end].joined:
        # Typeset spaces after the amount too ("90 330 ml Coke" all no-break):
        # they are how this text is spaced, and join nothing.
        words = [replace(word, joined=False) for word in words]
        chain, spaced = _number_words(words, at)
        end = at + len(chain)
    if has_bidi_control(head[: words[end - 1].end]):
        # "\u202e0021\u202c" shows as 1200; cleaning the mark away would charge 21.
        raise CommandError("amount_bidi", **examples(default))

    # Then what it says.
    named: list[Currency] = []
    if at:
        named.append(_named(words[0].text))
    if first.prefix == "+":
        raise CommandError("amount_invalid", text=words[at].text, **examples(default))
    if first.prefix:
        symbol = currency_named(first.prefix)  # "฿74.40", "RM5", "US$5"
        if symbol is None:
            raise CommandError("usage")
        named.append(symbol)
    if first.negative:
        raise CommandError("amount_not_positive")
    after = _After(end)
    if chain[-1].suffix and (multiplied := _power(chain[-1].suffix, words, end)):
        after = multiplied  # "5万円", "5k", "1.5万円", "5พัน"
        named.extend(after.named)
    elif chain[-1].suffix:
        glued = leading_name(chain[-1].suffix)  # "100บาท", "74.40thb", "500円", "100baht:"
        if glued is None:
            raise CommandError("amount_invalid", text=words[end - 1].text, **examples(default))
        named.append(_named(glued[0]))
        after = _After(end, title_rest(glued[1]))
        name = leading_name(words[end].text) if end < len(words) and not after.rest else None
        if name is not None and key(name[0]) not in SUBUNITS:
            named.append(_named(name[0]))  # "100฿ usd": said twice, so it must agree
            after = _After(end + 1, title_rest(name[1]))
    elif end < len(words):
        after = _after_number(words, end, default)
        named.extend(after.named)
    if has_bidi_control(head[: words[after.used - 1].end]):
        raise CommandError("amount_bidi", **examples(default))
    distinct = list(dict.fromkeys(named))
    if len(distinct) > 1:
        raise CommandError("currency_conflict", symbol=distinct[0].code, code=distinct[1].code)
    currency = distinct[0] if distinct else default
    # A currency right after the number says where the number ends.
    ended = bool(after.named) or bool(chain[-1].suffix)
    rest = " ".join(head[words[at].end :].split())  # the title if the number is only its first word
    number = _one_number(chain, spaced=spaced and not ended, currency=currency, rest=rest)
    title = " ".join((after.rest + head[words[after.used - 1].end :]).split())
    if after.power:
        typed = (
            f"{number}{after.multiplier}" if chain[-1].suffix else f"{number} {after.multiplier}"
        )
        raise _multiplied(typed, number, after, currency, title)
    amount = parse_amount(number, currency)
    _refuse_subunit_after(head, words, after, amount, currency)
    return amount, currency, title


@dataclass(frozen=True, slots=True)
class _After:
    """What the words after the number say, and where the title starts."""

    used: int  # the first word not taken by the amount and its currency
    rest: str = ""  # the rest of the last word taken, the start of the title
    named: tuple[Currency, ...] = ()
    power: int = 0  # a multiplier's power of ten: "5 万円" is 5 × 10⁴
    multiplier: str = ""  # the word that says it
    carries: bool = False  # the currency is glued to it ("万円"): it cannot start the title


def _after_number(words: list[_Word], end: int, default: Currency) -> _After:
    """Read the word or words right after the number: a multiplier, a currency, or the title.

    Never guessed: words there that name a currency in a way that is not read
    are refused, so "100 fresh yen" is neither ฿100 nor "fresh yen".
    """
    word = words[end].text
    if multiplied := _power(word, words, end + 1):  # "5 k", "5 万円", "2 million baht"
        return multiplied
    for count in (3, 2):  # "100 Hong Kong dollars", "100 US dollars"
        phrase = words[end : end + count]
        if len(phrase) == count:
            for last, rest in runs(phrase[-1].text):
                code = PHRASES.get(" ".join([*(key(w.text) for w in phrase[:-1]), key(last)]))
                if code is not None:
                    return _After(end + count, title_rest(rest), (_named(code),))
    name = leading_name(word)
    if name is not None and key(name[0]) in SUBUNITS:
        return _After(end)  # "50 satang": refused once the amount is read
    if name is not None:  # "500 yen", "100 baht:", "500 円、抹茶"
        return _After(end + 1, title_rest(name[1]), (_named(name[0]),))
    near = words[end : end + 2]
    unclear = [i for i, w in enumerate(near) if names_currency(w.text) or ends_with_symbol(w.text)]
    if unclear:  # "100 abc$", "100 fresh yen", "100 US cents"
        named = leading_name(near[unclear[-1]].text)
        shown = examples(_named(named[0]) if named else default)["example"]
        typed = " ".join(w.text for w in near[: unclear[-1] + 1])
        raise CommandError("currency_unclear", text=typed, example=shown)
    return _After(end)


def _power(word: str, words: list[_Word], end: int) -> _After | None:
    """``word`` read as a multiplier, with its currency glued or in the word at ``end``."""
    power, remainder = _multiplier(word)
    if not power:
        return None
    if (glued := leading_name(remainder)) is not None:
        said = word.removesuffix(glued[1])  # "万円" of "万円、ケーキ"
        return _After(end, title_rest(glued[1]), (_named(glued[0]),), power, said, carries=True)
    if end < len(words) and (name := leading_name(words[end].text)):
        return _After(end + 1, title_rest(name[1]), (_named(name[0]),), power, word)
    return _After(end, power=power, multiplier=word)


def _multiplier(word: str) -> tuple[int, str]:
    """The power of ten ``word`` multiplies by, and the currency glued after it.

    "万円" → (4, "円"); "k" → (3, ""); "kg" → (0, ""): not a multiplier.
    """
    for cut in range(len(word), 0, -1):
        power = MULTIPLIERS.get(key(word[:cut]))
        if power and (cut == len(word) or names_currency(word[cut:])):
            return power, word[cut:]
    return 0, ""


def _multiplied(
    typed: str, number: str, after: _After, currency: Currency, title: str
) -> CommandError:
    """Refuse "5 万円" with 50000 written out, and with how to keep the word as the title.

    The number is multiplied before it is read, so "1.5 万円" is ¥15,000, not too precise.
    """
    alone = True  # the number can stay the amount with the word in the title
    try:
        parse_amount(number, currency)
    except AmountError as exc:
        if exc.reason != "amount_too_precise":  # "1.000 k" is as unclear as "1.000"
            raise
        alone = False  # "1.5 万円": ¥1.5 is no amount
    try:
        # Read with the multiplier's extra places, the digits are the smallest units meant.
        times = parse_amount(number, replace(currency, decimals=currency.decimals + after.power))
    except AmountError:
        parse_amount(number, currency)  # too precise even multiplied, told in the currency
        limit = format_amount(MAX_SMALLEST_UNITS, currency)
        raise CommandError("amount_too_large", limit=limit) from None
    plain = _plain(times, currency)
    parse_amount(plain, currency)  # too large is refused as too large
    return CommandError(
        "amount_multiplier" if alone and not after.carries else "amount_multiplier_currency",
        text=typed,
        title=example_title(title, TITLE_MAX_LENGTH),
        number=number,
        word=after.multiplier,
        plain=plain,
        grouped=f"{int(to_decimal(times, currency)):,}"
        if times % 10**currency.decimals == 0
        else plain,
        code=currency.code.lower(),
    )


def _refuse_subunit_after(
    head: str, words: list[_Word], after: _After, amount: int, currency: Currency
) -> None:
    """Refuse "50 satang", "50 euro cents" and "74 baht 40 satang", writing out the amount meant."""
    at, extra = after.used, None
    if after.rest or at >= len(words):
        return
    subunit = leading_name(words[at].text)
    whole = subunit is None or key(subunit[0]) not in SUBUNITS
    if whole and at + 1 < len(words) and re.fullmatch(r"\d{1,2}", words[at].text):
        at, extra, subunit = at + 1, int(words[at].text), leading_name(words[at + 1].text)
    if subunit is None or key(subunit[0]) not in SUBUNITS:
        return
    owner = SUBUNITS[key(subunit[0])]
    if owner is not None and not after.named and extra is None:
        # "50 satang" is THB whatever the default.
        typed, currency = _plain(amount, currency), get_currency(owner) or currency
        amount = parse_amount(typed, currency)
    example = examples(currency)["example"]
    scale = 10**currency.decimals
    known = bool(after.named) or owner is not None
    if currency.decimals == 2 and known and owner in (None, currency.code) and amount % scale == 0:
        # "50 euro cents" is 50 cents; "74 baht 40 satang" is 74 baht and 40 satang.
        cents = amount // scale if extra is None else amount + extra
        title = " ".join(head[words[at].end :].split())
        shown = example_title(title, TITLE_MAX_LENGTH)
        example = f"{_plain(cents, currency)} {currency.code.lower()} {shown}"
    raise CommandError("currency_subunit", word=subunit[0], example=example)


def _plain(amount: int, currency: Currency) -> str:
    """Smallest units as digits typed back: 5000000 THB → "50000", 7440 → "74.40"."""
    value = to_decimal(amount, currency)
    return str(int(value)) if amount % 10**currency.decimals == 0 else format(value, "f")


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


def _one_number(chain: list[AmountParts], *, spaced: bool, currency: Currency, rest: str) -> str:
    """The number the words of ``chain`` write, or a refusal when that is not certain.

    ``rest`` is what follows the first word, the title if the number ends there.
    """
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
        # Only a reading that works when typed is offered: "1 250.50" in yen is
        # refused as too precise, not answered with "write 1250.50".
        parse_amount(plain, currency)
        whole, dot, fraction = plain.partition(".")
        raise CommandError(
            "amount_spaced",
            text=typed,
            plain=plain,
            grouped=f"{int(whole):,}{dot}{fraction}",
            first=numbers[0],
            group=numbers[1],
            code=currency.code.lower(),
            title=example_title(rest, TITLE_MAX_LENGTH),
        )
    return plain


def command_word(text: str | None) -> str | None:
    """The command a message starts with, as its handler is named ("/Link@bot 5" → "link").

    None when the message is not a command.
    """
    command = COMMAND.match(text or "")
    return command[1].lower() if command else None


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
