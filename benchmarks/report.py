"""Reports over a busy month: CPU time of Reports.report, for one group and in private.

The store holds --payments successful payments over November 2026 through
links in five groups, in THB and JPY, and --history months as busy before
it (which a report of November must not read). The fake Omise API, on
127.0.0.1 in other threads, lists the same charges plus --others made
outside the bot, for the private report's count of other payments.

Run from the repository root:  python -m benchmarks.report [--payments 10000]

CPU time is the event loop thread's own (time.thread_time), so the fake's
work is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from linkbot.omise import OmiseClient
from linkbot.periods import Period, parse_period
from linkbot.reports import Report, Reports
from linkbot.sandbox import fakes
from linkbot.store import Store
from linkbot.store.schema import charges, links

ZONE = ZoneInfo("Asia/Bangkok")
TODAY = date(2026, 11, 30)
GROUPS = [-1001000000001 - n for n in range(5)]
TITLES = [f"Item {n}" for n in range(40)]


def _omise_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def seed(
    store: Store, fake: fakes.FakeOmise, month: Period, payments: int, history: int, others: int
) -> None:
    rng = random.Random(7)
    span = month.end - month.start
    link_rows: list[dict[str, Any]] = []
    charge_rows: list[dict[str, Any]] = []
    for months_back in range(history + 1):
        start = month.start - span * months_back
        # One reusable link per title and group, and a one-time link for every tenth payment.
        reusable = {}
        for chat_id in GROUPS:
            for title in TITLES:
                link_id = f"link_test_{months_back}_{chat_id}_{title.replace(' ', '')}"
                currency = "JPY" if title.endswith("7") else "THB"
                reusable[chat_id, title] = link_id, currency
                link_rows.append(_link(link_id, chat_id, title, currency, start, multiple=True))
        for n in range(payments):
            paid_at = start + span * n / payments
            chat_id, title = rng.choice(GROUPS), rng.choice(TITLES)
            link_id, currency = reusable[chat_id, title]
            if n % 10 == 0:
                link_id = f"link_test_{months_back}_single_{n}"
                link_rows.append(
                    _link(link_id, chat_id, title, currency, paid_at, multiple=False, paid=True)
                )
            amount = rng.randrange(2000, 200000) if currency == "THB" else rng.randrange(100, 9000)
            fee = amount * 365 // 10000
            vat = fee * 7 // 100
            charge_id = f"chrg_test_{months_back}_{n}"
            charge_rows.append(
                {
                    "charge_id": charge_id,
                    "link_id": link_id,
                    "amount": amount,
                    "currency": currency,
                    "status": "successful",
                    "created_at": paid_at,
                    "paid_at": paid_at,
                    "fee": fee,
                    "fee_vat": vat,
                    "net": amount - fee - vat,
                    "refunded": amount if n % 50 == 0 else 0,
                    "position": 1,
                    "running_total": amount,
                    "notice": "paid",
                    "announced_at": paid_at,
                }
            )
            if months_back == 0:
                fake.charges[charge_id] = _omise_charge(
                    charge_id, link_id, amount, currency, paid_at
                )
        for n in range(others if months_back == 0 else 0):
            paid_at = start + span * n / max(others, 1)
            charge_id = f"chrg_test_other_{n}"
            fake.charges[charge_id] = _omise_charge(charge_id, None, 10000, "THB", paid_at)
    # Rows go in directly: the watcher would take minutes to record a month.
    async with store.db.engine.begin() as conn:
        await conn.execute(links.insert(), link_rows)
        await conn.execute(charges.insert(), charge_rows)


def _link(
    link_id: str,
    chat_id: int,
    title: str,
    currency: str,
    created_at: datetime,
    *,
    multiple: bool,
    paid: bool = False,
) -> dict[str, Any]:
    return {
        "link_id": link_id,
        "chat_id": chat_id,
        "message_id": 1,
        "message_chat_id": chat_id,
        "creator_id": 1,
        "amount": 10000,
        "currency": currency,
        "title": title,
        "description": title,
        "multiple": multiple,
        "payment_uri": f"https://link.omise.test/{link_id}",
        "created_at": created_at,
        "recorded_at": created_at,
        "status": "paid" if paid else "active",
        "paid_count": 1 if paid else 0,
        "paid_total": 0,
        "charges_seen": 0,
    }


def _omise_charge(
    charge_id: str, link_id: str | None, amount: int, currency: str, paid_at: datetime
) -> dict[str, Any]:
    return {
        "object": "charge",
        "id": charge_id,
        "livemode": False,
        "amount": amount,
        "currency": currency,
        "status": "successful",
        "paid": True,
        "link": link_id,
        "created_at": _omise_time(paid_at),
        "paid_at": _omise_time(paid_at),
        "refunded_amount": 0,
    }


async def measure(
    reports: Reports, period: Period, chat_id: int | None, rounds: int
) -> tuple[Report, list[float], list[float]]:
    cpu, wall = [], []
    report = None
    for _ in range(rounds):
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        report = await reports.report(period, chat_id=chat_id)
        cpu.append((time.thread_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
    assert report is not None
    return report, cpu, wall


async def main(payments: int, history: int, others: int, rounds: int) -> None:
    fake = fakes.FakeOmise()
    month = parse_period("month", today=TODAY, zone=ZONE)
    with tempfile.TemporaryDirectory() as tmp, fakes.serve(fake) as url:
        store = Store.sqlite(Path(tmp) / "bench.db")
        await store.initialize()
        seeding = time.perf_counter()
        await seed(store, fake, month, payments, history, others)
        print(
            f"seeded:          {payments} payments in {month.first_day:%B %Y}, "
            f"{history} busy month(s) before, {others} other payments "
            f"({time.perf_counter() - seeding:.1f} s)"
        )
        async with OmiseClient(fakes.OMISE_KEY, base_url=url) as omise:
            reports = Reports(store, omise)
            report, cpu, wall = await measure(reports, month, GROUPS[0], rounds)
            print(
                f"group report:    CPU median {statistics.median(cpu):.1f} ms, "
                f"max {max(cpu):.1f} ms, wall median {statistics.median(wall):.1f} ms; "
                + ", ".join(f"{t.currency} {t.payments}" for t in report.totals)
            )
            before = len(fake.requests)
            report, cpu, wall = await measure(reports, month, None, rounds)
            print(
                f"private report:  CPU median {statistics.median(cpu):.1f} ms, "
                f"max {max(cpu):.1f} ms, wall median {statistics.median(wall):.1f} ms; "
                + ", ".join(f"{t.currency} {t.payments}" for t in report.totals)
                + f", other payments {report.other_payments}, "
                f"{(len(fake.requests) - before) // rounds} Omise requests each"
            )
            cpu_start = time.thread_time()
            for _ in range(rounds):
                await store.reports.payment_totals(month.start, month.end)
                await store.reports.link_counts(month.start, month.end)
                await store.reports.best_sellers(month.start, month.end)
            store_ms = (time.thread_time() - cpu_start) * 1000 / rounds
            print(f"  of which store: CPU {store_ms:.1f} ms (the rest is Omise's charge list)")
            cpu_start = time.thread_time()
            chats = await reports.chats_with_payments(month)
            print(
                f"chats_with_payments: CPU {(time.thread_time() - cpu_start) * 1000:.1f} ms, "
                f"{len(chats)} chats"
            )
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--payments", type=int, default=10000)
    parser.add_argument("--history", type=int, default=2)
    parser.add_argument("--others", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.payments, args.history, args.others, args.rounds))
