"""Replay benchmark (run on purpose): the projection runner replaying a stream, beside a raw pull consumer.

    python -m tests.benchmarks.replay [--events 50000] [--batch 1024] [--rounds 3] [--only 1,2,3]

The stream holds ``--events`` events of one service over 200 unit paths, published straight into
JetStream. The baseline is a raw pull consumer (nats-py's ``fetch``) that only acks, the way the runner
does (the batch's last message acked with AckPolicy.ALL); the per-message ack of the older baseline is
printed beside it, and, for scale, the runner's own pull requests (``shared.runner.Puller``) acking and
applying nothing: what is left between that and a replay is the runner's and the projection's work. The
machine is shared: each round measures the baselines and then every case right after them, the ratio is
taken within a round, and the medians of the rounds are printed. Each replay is timed from its start to
the commit of the stream's last event: the idle fetch that tells a caught-up runner there is nothing more
is not counted (nor is the raw consumer's).

1. folding a batch into one upsert per path (``FoldingCountingProjection``), goal ratio ≥ 0.5;
2. one statement per event (``CountingProjection`` as a per-event projection would be written: an upsert
   per event), goal ratio ≥ 0.5;
3. the same per-event projection as it was first written (a select, then an insert or an update), for scale.
"""

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig

from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.projection import Projection
from shared.runner import ProjectionRunner, Puller
from shared.settings import Settings
from shared.subjects import STREAM
from tests.benchmarks.pledges import envelope, publish
from tests.natsserver import NatsServer
from tests.platform.counting import CountingProjection, FoldingCountingProjection, UpsertCountingProjection


async def raw_rate(js: Any, name: str, count: int, batch: int, *, ack_all: bool) -> float:
    """A raw pull consumer that only acks, timed from its first fetch to the last message."""
    policy = AckPolicy.ALL if ack_all else AckPolicy.EXPLICIT
    await js.add_consumer(STREAM, ConsumerConfig(durable_name=name, ack_policy=policy, max_ack_pending=batch))
    sub = await js.pull_subscribe_bind(durable=name, stream=STREAM)
    start, seen = time.perf_counter(), 0
    while seen < count:
        msgs = await sub.fetch(batch, timeout=5)
        if ack_all:
            await msgs[-1].ack_sync()
        else:
            for msg in msgs:
                await msg.ack()
        seen += len(msgs)
    rate = seen / (time.perf_counter() - start)
    await sub.unsubscribe()
    await js.delete_consumer(STREAM, name)
    return rate


async def puller_rate(js: Any, name: str, count: int, batch: int) -> float:
    """The runner's own pull requests (``shared.runner.Puller``), the batch's last message acked; nothing else."""
    await js.add_consumer(STREAM, ConsumerConfig(durable_name=name, ack_policy=AckPolicy.ALL, max_ack_pending=batch))
    puller = Puller(js, name)
    await puller.start()
    start, seen = time.perf_counter(), 0
    while seen < count:
        msgs = await puller.fetch(batch, 5.0)
        await msgs[-1].ack_sync()
        seen += len(msgs)
    rate = seen / (time.perf_counter() - start)
    await puller.stop()
    await js.delete_consumer(STREAM, name)
    return rate


async def replay_rate(js: Any, settings: Settings, work: Path, projection: Projection, count: int, name: str) -> float:
    """The real runner from an empty read model, timed to the commit of the last event."""
    db = open_database(f"sqlite+aiosqlite:///{work}/level-{name}.db")
    runner = ProjectionRunner(projection, "hn", db, js, settings, durable=name)
    await runner.start()
    try:
        start = time.perf_counter()
        while runner.applied < count:
            await runner.step(wait=5.0)
        return runner.applied / (time.perf_counter() - start)
    finally:
        await runner._drop_subscription()
        await js.delete_consumer(STREAM, name)
        await db.dispose()


def line(name: str, rate: float, raw: float, ratio: float) -> None:
    print(f"  {name:<46} {rate:>9,.0f} ev/s  baseline raw pull + ack {raw:,.0f} ev/s"
          f"  ratio {ratio:.2f}  goal ≥ 0.5", flush=True)  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=Settings().projection_batch, help="settings.projection_batch")
    parser.add_argument("--only", default="1,2,3")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"thidua replay benchmark — {args.events:,} events, {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="thidua-bench-replay-") as tmp:
        work = Path(tmp)
        server = NatsServer(work / "js").start()
        settings = Settings(service="testsvc", nats_url=server.url, projection_batch=args.batch)
        try:
            nc, js = await connect(server.url, "bench-replay")
            await ensure_streams(js, settings)
            await publish(
                js, [envelope("testsvc", "Counted", f"hn.ntl.u{n % 200}", {"n": n}) for n in range(args.events)]
            )
            cases = {
                "1": ("folding a batch", FoldingCountingProjection),
                "2": ("per event, one upsert each", UpsertCountingProjection),
                "3": ("per event, select then write (for scale)", CountingProjection),
            }
            # The machine is shared: each round measures the baseline and then every case right after it,
            # and the ratio is taken within a round (the median of the rounds is printed).
            ratios: dict[str, list[float]] = {key: [] for key in cases if key in only}
            rates: dict[str, list[float]] = {key: [] for key in cases if key in only}
            raws, eaches, floors = [], [], []
            for round_ in range(args.rounds):
                raw = await raw_rate(js, f"raw_all_{round_}", args.events, args.batch, ack_all=True)
                raws.append(raw)
                eaches.append(await raw_rate(js, f"raw_each_{round_}", args.events, args.batch, ack_all=False))
                floors.append(await puller_rate(js, f"raw_puller_{round_}", args.events, args.batch))
                for key in ratios:
                    rate = await replay_rate(js, settings, work, cases[key][1](), args.events, f"c{key}_{round_}")
                    rates[key].append(rate)
                    ratios[key].append(rate / raw)
            print(
                f"  baseline: raw pull, batch acked at once {statistics.median(raws):,.0f} ev/s"
                f" (each message acked: {statistics.median(eaches):,.0f} ev/s); medians of {args.rounds} rounds"
            )
            print(
                f"  for scale: the runner's own pull requests + ack, nothing applied"
                f" {statistics.median(floors):,.0f} ev/s"
            )
            for key, (label, _) in cases.items():
                if key in ratios:
                    line(f"{key}. replay, SQLite, {label}", statistics.median(rates[key]),
                         statistics.median(raws), statistics.median(ratios[key]))  # fmt: skip
            await nc.close()
        finally:
            server.stop()
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
