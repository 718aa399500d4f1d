"""Property-based tests: no input crashes the parsers or changes the amount typed."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from linkbot import money
from linkbot.commands import TITLE_MAX_LENGTH, CommandError, parse_link, parse_link_id
from linkbot.money import CURRENCIES, MAX_SMALLEST_UNITS, AmountError, format_amount, parse_amount

THB = CURRENCIES["THB"]
CODES = sorted(CURRENCIES)
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
FULL_WIDTH_DIGITS = "０１２３４５６７８９"
ZERO_WIDTH = ["\u200b", "\u200d", "\ufeff"]
DIRECTION_MARKS = ["\u200e", "\u200f", "\u202b", "\u202e", "\u2066", "\u061c"]
INVISIBLE = ZERO_WIDTH + DIRECTION_MARKS

# Text as people paste it: any unicode, plus the characters that matter here.
tricky_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(["|", ",", ".", "$", "฿", "¥", "-", " ", "\n", *INVISIBLE]),
        st.sampled_from(THAI_DIGITS + FULL_WIDTH_DIGITS),
    ),
    max_size=300,
)


@given(tricky_text)
@example("1" * 5000)
@example("74.40 | | |")
@example("|" * 100)
@example("\u202e04.47 Latte")
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_parse_link_never_raises_anything_else(text: str) -> None:
    try:
        request = parse_link(text, default_currency=THB)
    except CommandError:
        return
    assert 0 < request.amount <= MAX_SMALLEST_UNITS
    assert request.title and len(request.title) <= TITLE_MAX_LENGTH
    assert request.description


@given(tricky_text)
def test_parse_link_id_never_raises_anything_else(text: str) -> None:
    try:
        link_id = parse_link_id(text)
    except CommandError:
        return
    assert link_id.startswith("link_") and link_id.isascii()


@given(tricky_text, st.sampled_from(CODES))
def test_parse_amount_never_raises_anything_else(text: str, code: str) -> None:
    try:
        amount = parse_amount(text, CURRENCIES[code])
    except AmountError:
        return
    assert 0 < amount <= MAX_SMALLEST_UNITS


def spell(amount: int, code: str, style: str) -> str:
    """Write an amount the ways a merchant might type it."""
    currency = CURRENCIES[code]
    number = format(Decimal(amount).scaleb(-currency.decimals), f".{currency.decimals}f")
    if style == "grouped":
        return format(Decimal(number), f",.{currency.decimals}f")
    if style == "thai":
        return number.translate(str.maketrans("0123456789", THAI_DIGITS))
    if style == "full-width":
        return number.translate(str.maketrans("0123456789.", FULL_WIDTH_DIGITS + "．"))
    if style == "symbol":
        return format_amount(amount, currency).replace(" ", "")
    return number


@given(
    amount=st.integers(min_value=1, max_value=MAX_SMALLEST_UNITS),
    code=st.sampled_from(CODES),
    style=st.sampled_from(["plain", "grouped", "thai", "full-width", "symbol"]),
    title=st.text(min_size=1, max_size=TITLE_MAX_LENGTH).filter(
        lambda t: t.split() and "|" not in t
    ),
    description=st.text(max_size=500),
    invisible=st.sampled_from(["", *INVISIBLE]),
)
@settings(max_examples=500)
def test_the_amount_typed_is_the_amount_charged(
    amount: int, code: str, style: str, title: str, description: str, invisible: str
) -> None:
    spelled = invisible + spell(amount, code, style)
    text = f"{spelled} {code.lower()} {title} | {description}"
    try:
        request = parse_link(text, default_currency=THB)
    except CommandError as exc:
        # A direction mark may show the amount as another number: it is refused,
        # never cleaned. Otherwise the only refusals are about the title.
        allowed = (
            {"amount_bidi"} if invisible in DIRECTION_MARKS else {"title_too_long", "title_missing"}
        )
        assert exc.reason in allowed, (text, exc.reason)
        return
    assert invisible not in DIRECTION_MARKS, text
    assert request.amount == amount
    assert request.currency.code == code


@given(amount=st.integers(min_value=1, max_value=MAX_SMALLEST_UNITS), code=st.sampled_from(CODES))
def test_parse_of_display_is_identity(amount: int, code: str) -> None:
    text = f"{format_amount(amount, code).replace(' ', '')} Item"
    assert parse_link(text, default_currency=THB).amount == amount


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=["Cc"]),
        min_size=TITLE_MAX_LENGTH + 1,
        max_size=4096,
    ).filter(lambda t: "|" not in t and len(" ".join(t.split())) > TITLE_MAX_LENGTH)
)
def test_titles_too_long_are_refused_up_front(title: str) -> None:
    try:
        parse_link(f"74.40 {title}", default_currency=THB)
    except CommandError as exc:
        # Or the title's first words are refused as a currency or a multiplier.
        assert exc.reason in {"title_too_long", "title_missing"} or exc.reason.startswith(
            ("amount_", "currency_")
        ), exc.reason
    else:
        raise AssertionError("a title longer than the cap was accepted")


@st.composite
def decimal_texts(draw: st.DrawFn) -> str:
    """Decimal numbers as typed: long runs of digits, trailing zeros, sometimes grouped."""
    digit_runs = st.text(alphabet="0123456789", min_size=1, max_size=30)
    whole = draw(st.one_of(st.integers(0, 10**13).map(str), digit_runs))
    if draw(st.booleans()):
        whole = f"{int(whole):,}"
    if not draw(st.booleans()):
        return whole
    fraction = draw(st.one_of(st.text(alphabet="0123456789", max_size=3), digit_runs))
    return f"{whole}.{fraction}{'0' * draw(st.integers(0, 30))}".rstrip(".")


@given(typed=decimal_texts(), code=st.sampled_from(["THB", "USD", "JPY"]))
@example(typed="1.0000000000000000000000000001", code="THB")
@example(typed="1234567890123456789012345678.9", code="JPY")
@example(typed="99999999.9999999999999999999999", code="THB")
@example(typed="25.000", code="THB")
@example(typed="150.000", code="JPY")
@example(typed="74.400", code="THB")
@example(typed="500.0", code="JPY")
@example(typed="1,250.50", code="THB")
@settings(max_examples=1000)
def test_parse_amount_returns_exactly_the_value_typed(typed: str, code: str) -> None:
    currency = CURRENCIES[code]
    ungrouped = typed.replace(",", "")
    exact = Fraction(ungrouped) * 10**currency.decimals
    places = len(ungrouped.partition(".")[2])
    try:
        amount = parse_amount(typed, currency)
    except AmountError:
        # Refused only for a reason the merchant can see in what they typed.
        assert (
            places > currency.decimals
            or exact == 0
            or exact > MAX_SMALLEST_UNITS
            or len(typed) > money._MAX_TOKEN_LENGTH
        ), typed
        return
    assert exact == amount, typed
    # Not even zeros beyond the currency's decimals are dropped.
    assert places <= currency.decimals, typed
