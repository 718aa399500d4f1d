"""/export of a busy month: CPU time and peak memory of writing the CSV.

Payments are inserted straight into a fresh store (one link each, spread
over November 2026, THB and JPY, Thai and Japanese titles). The export is
written as /export writes it, from the store's stream into a temporary
file. Peak memory is the Python heap's (tracemalloc) above what was in use
before the export, measured in a separate run from the CPU time because
tracing slows everything down. It should stay flat as the month grows.

Run from the repository root:  python -m benchmarks.export [--payments 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine

from linkbot.exports import exported
from linkbot.periods import parse_period
from linkbot.store import Store
from linkbot.store.schema import charges, chats, links

ZONE = ZoneInfo("Asia/Bangkok")
MONTH = parse_period("2026-11-01..2026-11-30", today=date(2026, 11, 30), zone=ZONE)
CHAT = -1001234567890
TITLES = ("Hot Latte", "Croissant, butter", "抹茶ラテ", "ชาเขียวเย็น", 'Cake "Birthday"')


def fill(path: Path, count: int) -> None:
    """``count`` paid links in the month, inserted in bulk (no watcher, no Omise)."""
    engine = create_engine(f"sqlite:///{path}")
    step = (MONTH.end - MONTH.start) / count
    link_rows, charge_rows = [], []
    for n in range(count):
        paid_at = MONTH.start + step * n
        currency, amount = ("JPY", 500 + n % 900) if n % 5 == 0 else ("THB", 2000 + n * 7 % 90000)
        fee = amount * 365 // 10000
        vat = fee * 7 // 100
        title = f"{TITLES[n % len(TITLES)]} #{n}"
        link_rows.append(
            {
                "link_id": f"link_test_{n:08d}",
                "chat_id": CHAT,
                "creator_id": 1111,
                "amount": amount,
                "currency": currency,
                "title": title,
                "description": title,
                "multiple": False,
                "payment_uri": f"https://link.omise.co/{n:08X}",
                "created_at": paid_at - timedelta(minutes=5),
                "recorded_at": paid_at - timedelta(minutes=5),
                "status": "paid",
                "paid_count": 1,
                "paid_total": amount,
                "charges_seen": 1,
            }
        )
        charge_rows.append(
            {
                "charge_id": f"chrg_test_{n:08d}",
                "link_id": f"link_test_{n:08d}",
                "amount": amount,
                "currency": currency,
                "status": "successful",
                "created_at": paid_at,
                "paid_at": paid_at,
                "fee": fee,
                "fee_vat": vat,
                "net": amount - fee - vat,
                "refunded": amount if n % 97 == 0 else 0,
                "position": 1,
                "running_total": amount,
            }
        )
    with engine.begin() as conn:
        conn.execute(links.insert(), link_rows)
        conn.execute(charges.insert(), charge_rows)
        conn.execute(chats.insert().values(chat_id=CHAT, title="Café Nok"))
    engine.dispose()


async def export(store: Store, *, trace: bool) -> tuple[int, int, float, int]:
    """Rows, file size, CPU seconds and peak heap bytes of one export."""
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
    started = time.process_time()
    async with exported(store.reports, MONTH, chat_id=CHAT, zone=ZONE) as done:
        cpu = time.process_time() - started
        rows, size = done.rows, done.size
    peak = 0
    if trace:
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
    return rows, size, cpu, peak


async def measure(count: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "linkbot.db"
        store = Store.sqlite(path)
        await store.initialize()
        fill(path, count)
        await export(store, trace=False)  # warm the page cache and SQLAlchemy's caches
        rows, size, cpu, _ = await export(store, trace=False)
        _, _, _, peak = await export(store, trace=True)
        await store.close()
    print(
        f"{rows:>7} payments  {size / 1e6:6.2f} MB CSV  {cpu:6.2f} s CPU"
        f"  {cpu / rows * 1e6:5.1f} µs/row  peak heap {peak / 1024:7.0f} KiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--payments", type=int, default=10_000)
    args = parser.parse_args()
    print("Export of one month (2026-11), one chat, THB and JPY:")
    for count in sorted({args.payments // 10, args.payments, args.payments * 3}):
        asyncio.run(measure(count))


if __name__ == "__main__":
    main()
