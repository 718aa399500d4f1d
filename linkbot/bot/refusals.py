"""Omise's refusals of a link's parameters, in the user's language.

Omise writes its validation messages in English ("amount must be at least
20 thb"). The known cases, an amount outside what an account takes or a
currency it does not take, are told in the catalog's words with the limit
filled in; anything else keeps Omise's own text, quoted, as a detail.
"""

from __future__ import annotations

from linkbot.bot import views
from linkbot.bot.messages import DEFAULT_LANGUAGE
from linkbot.bot.views import Reply
from linkbot.money import format_amount
from linkbot.omise import ValidationError

# The charge limits of an Omise account in each currency's home country, in
# smallest units: Thailand THB 20.00 to 150,000.00, Singapore SGD 1.00 to
# 20,000.00, Malaysia MYR 1.00 to 100,000.00, Japan JPY 100 to 6,000,000.
AMOUNT_LIMITS: dict[str, tuple[int, int]] = {
    "THB": (2_000, 15_000_000),
    "SGD": (100, 2_000_000),
    "MYR": (100, 10_000_000),
    "JPY": (100, 6_000_000),
}


def refusal(exc: ValidationError, language: str = DEFAULT_LANGUAGE) -> Reply:
    """What to tell the user when Omise refused what a create asked for."""
    code = (exc.code or "").lower()
    said = (exc.message or "").strip().lower()
    currency = exc.currency
    if currency is not None and (code == "invalid_currency" or said.startswith("currency")):
        return views.plain("omise_currency_refused", language, currency=currency)
    limits = AMOUNT_LIMITS.get(currency or "")
    if (
        limits is not None
        and currency is not None
        and exc.amount is not None
        and (code == "invalid_amount" or said.startswith("amount"))
    ):
        low, high = limits
        amount = format_amount(exc.amount, currency)
        if exc.amount < low:
            minimum = format_amount(low, currency)
            return views.plain(
                "omise_amount_too_small",
                language,
                amount=amount,
                currency=currency,
                minimum=minimum,
            )
        if exc.amount > high:
            maximum = format_amount(high, currency)
            return views.plain(
                "omise_amount_too_large",
                language,
                amount=amount,
                currency=currency,
                maximum=maximum,
            )
    return views.plain("omise_invalid", language, message=exc.message or exc.code or "")
