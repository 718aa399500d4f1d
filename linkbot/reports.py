"""What was sold in a period: the figures behind /report, /export and the daily summary.

Amounts stay integers in each currency's smallest unit, and each currency
is totalled on its own: there is no exchange rate to mix them with.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from linkbot.omise import OmiseClient, OmiseError
from linkbot.omise.models import Charge, OmiseList
from linkbot.periods import Period
from linkbot.store import Store

# Omise's largest page.
logger = logging.getLogger(__name__)

PAGE = 100
# The longest period whose other payments on the account are counted (31 days and an hour).
OTHER_PAYMENTS_SPAN = timedelta(days=31, hours=1)
# Pages of GET /charges asked for at once: quicker, and still gentle on Omise.
PAGES_AT_ONCE = 4
# GET /charges selects by creation time; a charge created shortly before the
# period (PromptPay, 3-D Secure) may be paid within it, so look back this far.
PENDING_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CurrencyTotals:
    currency: str
    payments: int
    gross: int
    fee: int
    fee_vat: int
    refunded: int
    net: int
    # Payments recorded before the bot kept fees: their net is counted as the amount.
    fees_unknown: int = 0


@dataclass(frozen=True, slots=True)
class LinkCounts:
    created: int
    paid: int
    open: int
    cancelled: int


@dataclass(frozen=True, slots=True)
class Report:
    period: Period
    chat_id: int | None  # None: the private report, over every link the bot made
    totals: list[CurrencyTotals]  # by currency code
    links: LinkCounts
    best_sellers: list[tuple[str, int]]  # (title, payments), at most 3, most first
    other_payments: int | None  # private report only: payments not through the bot's links

    @property
    def empty(self) -> bool:
        """Nothing was paid and no link was made (other payments on the account aside)."""
        return not self.totals and self.links.created == 0


class Reports:
    def __init__(self, store: Store, omise: OmiseClient) -> None:
        self._links = store.links
        self._reports = store.reports
        self._omise = omise

    async def report(self, period: Period, *, chat_id: int | None) -> Report:
        """The report of one chat's links, or with ``chat_id`` None, of every link of the bot.

        The private report also asks Omise how many payments on the account
        came through something else, so the merchant knows it is not the
        whole account; that raises :class:`~linkbot.omise.OmiseError` when
        Omise cannot be reached.
        """
        start, end = period.start, period.end
        totals = [
            CurrencyTotals(*row)
            for row in await self._reports.payment_totals(start, end, chat_id=chat_id)
        ]
        counts = LinkCounts(*await self._reports.link_counts(start, end, chat_id=chat_id))
        best = await self._reports.best_sellers(start, end, chat_id=chat_id, limit=3)
        other = await self._other_payments_if_cheap(period) if chat_id is None else None
        return Report(period, chat_id, totals, counts, best, other)

    async def _other_payments_if_cheap(self, period: Period) -> int | None:
        # Counting them reads every charge on the account in the period: a
        # month is the most worth waiting for, and the report stands without it.
        if period.end - period.start > OTHER_PAYMENTS_SPAN:
            return None
        try:
            return await self.other_payments(period)
        except OmiseError as exc:
            logger.warning("Report without the account's other payments: %s", exc.message)
            return None

    async def chats_with_payments(self, period: Period) -> list[int]:
        return await self._reports.chats_with_payments(period.start, period.end)

    async def other_payments(self, period: Period) -> int:
        """Successful charges on the account paid in the period, not through the bot's links."""
        # Payments by the link that took them (or its payment URI, in the older
        # charge shape), looked up together at the end: the busy links of a
        # month are far fewer than their payments.
        by_link: Counter[str] = Counter()
        by_uri: Counter[str] = Counter()
        unlinked = 0

        async def page_at(offset: int) -> OmiseList[Charge]:
            async with limit:
                return await self._omise.list_charges(
                    from_=period.start - PENDING_LOOKBACK,
                    to=period.end,
                    offset=offset,
                    limit=PAGE,
                    order="chronological",
                )

        # The first page tells how many there are; the rest are asked for a few
        # at a time, since a busy month is a hundred pages, each a round trip.
        # In creation order up to a fixed end, a page's offset stays put.
        limit = asyncio.Semaphore(PAGES_AT_ONCE)
        first = await page_at(0)
        rest = [asyncio.ensure_future(page_at(n)) for n in range(PAGE, first.total, PAGE)]
        try:
            pages = [first, *await asyncio.gather(*rest)]
        except BaseException:
            for task in rest:  # one page failed: the report fails, and the others stop
                task.cancel()
            raise
        for charge in (charge for page in pages for charge in page.data):
            if not charge.successful or not _paid_in(charge, period):
                continue
            if charge.link:
                by_link[charge.link] += 1
            elif charge.return_uri:
                by_uri[charge.return_uri.removesuffix("/complete")] += 1
            else:
                unlinked += 1
        ours = 0
        for chunk in _chunks(list(by_link)):
            ours += sum(by_link[i] for i in await self._links.known_link_ids(chunk))
        for chunk in _chunks(list(by_uri)):
            ours += sum(by_uri[uri] for uri in await self._links.links_by_payment_uri(chunk))
        return unlinked + by_link.total() + by_uri.total() - ours


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    # SQLite takes at most 999 bound values in a statement before 3.32.
    return [values[n : n + size] for n in range(0, len(values), size)]


def _paid_in(charge: Charge, period: Period) -> bool:
    paid_at = charge.paid_at or charge.created_at
    return period.start <= paid_at < period.end
