"""Payments as a CSV file for the merchant's bookkeeping, written row by row to disk.

The file is UTF-8 with a byte-order mark, because Excel reads a CSV without
one in the machine's legacy code page and garbles Thai and Japanese titles.
Quoting and line ends are RFC 4180's (the csv module's defaults). Amounts
are exact decimal strings in the currency's major units (``74.40``,
``500``), never floats.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from linkbot.money import Currency, get_currency, minor_units, to_decimal
from linkbot.periods import Period
from linkbot.store import PaymentRow, ReportQueries

HEADER = (
    "local_time",
    "utc_time",
    "link_id",
    "title",
    "description",
    "amount",
    "currency",
    "charge_id",
    "status",
    "fee",
    "vat",
    "net",
    "refunded",
    "chat",
)
ENCODING = "utf-8-sig"


@dataclass(frozen=True, slots=True)
class Export:
    path: Path
    filename: str
    rows: int
    size: int


def filename(period: Period) -> str:
    if period.first_day == period.last_day:
        return f"linkbot-{period.first_day.isoformat()}.csv"
    return f"linkbot-{period.first_day.isoformat()}..{period.last_day.isoformat()}.csv"


def decimal_text(amount: int | None, code: str) -> str:
    """``7440, THB`` → ``74.40``; ``500, JPY`` → ``500``; None (not known yet) → empty."""
    if amount is None:
        return ""
    currency = get_currency(code) or Currency(code, minor_units(code), "")
    return format(to_decimal(amount, currency), "f")


def inert(value: str) -> str:
    """Text a spreadsheet shows as text: not a formula, even if a customer wrote one.

    Titles and chat names come from people; Excel and LibreOffice run a cell
    starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return.
    """
    return "'" + value if value[:1] in _FORMULA_STARTS else value


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_row(payment: PaymentRow, zone: ZoneInfo) -> list[str]:
    paid_at = payment.paid_at.astimezone(UTC)
    code = payment.currency
    return [
        paid_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S"),
        paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        payment.link_id,
        inert(payment.title),
        inert(payment.description),
        decimal_text(payment.amount, code),
        code,
        payment.charge_id,
        payment.status,
        decimal_text(payment.fee, code),
        decimal_text(payment.fee_vat, code),
        decimal_text(payment.net, code),
        decimal_text(payment.refunded, code),
        inert(payment.chat_title or ""),
    ]


async def write_csv(payments: AsyncIterable[PaymentRow], out: TextIO, zone: ZoneInfo) -> int:
    """Write the header and one row per payment to ``out``; returns how many payments.

    ``out`` must be opened with ``newline=""`` so the csv module's ``\\r\\n``
    reaches the file unchanged.
    """
    writer = csv.writer(out)
    writer.writerow(HEADER)
    count = 0
    async for payment in payments:
        writer.writerow(csv_row(payment, zone))
        count += 1
    return count


@contextlib.asynccontextmanager
async def exported(
    reports: ReportQueries, period: Period, *, chat_id: int | None, zone: ZoneInfo
) -> AsyncIterator[Export]:
    """The period's payments in a temporary CSV file, removed when the block ends.

    Rows go to disk as the store yields them, so memory stays flat however
    many payments the period holds.
    """
    path, out = _temporary_csv()
    try:
        # Closed here even when writing fails: the stream holds a connection
        # and the one-export-at-a-time turn, which a kept exception would keep.
        payments = reports.payments(period.start, period.end, chat_id=chat_id)
        async with contextlib.aclosing(payments):
            with out:
                rows = await write_csv(payments, out, zone)
        yield Export(path, filename(period), rows, _size(path))
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def _temporary_csv() -> tuple[Path, TextIO]:
    descriptor, name = tempfile.mkstemp(prefix="linkbot-export-", suffix=".csv")
    return Path(name), open(descriptor, "w", encoding=ENCODING, newline="")


def _size(path: Path) -> int:
    return path.stat().st_size
