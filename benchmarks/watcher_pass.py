"""Payment-watcher passes with many open links: Omise requests and CPU time.

An ordinary pass reads Omise's event list; the sweep over every open link
runs at start-up and every LINKBOT_SWEEP_INTERVAL. Both are measured.

Run from the repository root:  python -m benchmarks.watcher_pass [--links 1000]

The fake Omise API runs on 127.0.0.1 in other threads; CPU time is the
event loop thread's own (time.thread_time), so the fake's work is not
counted.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from linkbot.omise import OmiseClient
from linkbot.payments import PaymentWatcher
from linkbot.sandbox import fakes
from linkbot.store import ChargeRecord, LinkRecord, Store


class CountingAnnouncer:
    def __init__(self) -> None:
        self.payments = 0

    async def payment(self, record: LinkRecord, charge: ChargeRecord) -> None:
        self.payments += 1

    async def payment_failed(self, record: LinkRecord, charge: ChargeRecord) -> None:
        pass

    async def cancelled(self, record: LinkRecord) -> None:
        pass


async def seed(store: Store, omise: fakes.FakeOmise, count: int) -> list[str]:
    start = datetime.now(UTC) - timedelta(days=7)
    ids = []
    for n in range(count):
        created = start + timedelta(minutes=5 * n)
        link = omise.add_link(
            amount=2000 + n, title=f"Item {n}", created_at=created.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        await store.links.add_link(
            LinkRecord(
                link_id=link["id"],
                chat_id=-100,
                message_id=n + 1,
                creator_id=1,
                amount=link["amount"],
                currency="THB",
                title=link["title"],
                description=link["title"],
                multiple=False,
                payment_uri=link["payment_uri"],
                created_at=created,
                recorded_at=created,
            )
        )
        ids.append(link["id"])
    return ids


async def measure(
    watcher: PaymentWatcher, omise: fakes.FakeOmise, rounds: int
) -> tuple[list[int], list[float], list[float]]:
    requests, cpu, wall = [], [], []
    for _ in range(rounds):
        before = len(omise.requests)
        cpu_start, wall_start = time.thread_time(), time.perf_counter()
        await watcher.run_pass()
        cpu.append((time.thread_time() - cpu_start) * 1000)
        wall.append((time.perf_counter() - wall_start) * 1000)
        requests.append(len(omise.requests) - before)
    return requests, cpu, wall


async def main(links: int, rounds: int) -> None:
    fake = fakes.FakeOmise()
    with tempfile.TemporaryDirectory() as tmp, fakes.serve(fake) as url:
        store = Store.sqlite(Path(tmp) / "bench.db")
        await store.initialize()
        ids = await seed(store, fake, links)
        announcer = CountingAnnouncer()
        async with OmiseClient(fakes.OMISE_KEY, base_url=url) as omise:
            watcher = PaymentWatcher(omise, store, announcer)
            print(f"open links:            {links}")

            requests, cpu, _ = await measure(watcher, fake, 1)  # at start-up: with the sweep
            print(f"first pass (sweep):    {requests[0]} requests, CPU {cpu[0]:.1f} ms")

            requests, cpu, wall = await measure(watcher, fake, rounds)
            print(
                f"idle pass:             {max(requests)} request(s), "
                f"CPU median {statistics.median(cpu):.1f} ms, max {max(cpu):.1f} ms, "
                f"wall median {statistics.median(wall):.1f} ms (local fake server)"
            )

            paying = ids[:: max(1, len(ids) // 10)][:10]
            for link_id in paying:
                fake.pay(link_id)
            requests, cpu, _ = await measure(watcher, fake, 1)
            print(
                f"pass with {len(paying)} payments: {requests[0]} request(s), "
                f"CPU {cpu[0]:.1f} ms, announced {announcer.payments}"
            )

            pending = [fake.pay(link_id, status="pending") for link_id in ids[1::100][:10]]
            await measure(watcher, fake, 1)
            for charge in pending:
                fake.settle(charge["id"])
            requests, cpu, _ = await measure(watcher, fake, 1)
            print(
                f"pass with {len(pending)} settled:  {requests[0]} request(s), "
                f"CPU {cpu[0]:.1f} ms, announced {announcer.payments}"
            )

            watcher.last_sweep_at = None
            requests, cpu, _ = await measure(watcher, fake, 1)
            print(f"a later sweep:         {requests[0]} requests, CPU {cpu[0]:.1f} ms")
        await store.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--links", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    asyncio.run(main(args.links, args.rounds))
