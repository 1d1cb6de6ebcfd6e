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
3. the same per-event projection as it was first written (a select, then an insert or an update), for scale;
4. live: events published one at a time into a caught-up runner, p99 publish → commit, beside the same
   runner pulling with nats-py's ``fetch``.
"""

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nats.errors import TimeoutError as NatsTimeout
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


class NatsPyFetch:
    """The runner's pull before this benchmark's work: nats-py's ``fetch`` (for the live comparison)."""

    def __init__(self, sub: Any) -> None:
        self.sub = sub

    async def fetch(self, batch: int, wait: float) -> list[Any]:
        try:
            return await self.sub.fetch(batch, timeout=wait)
        except (NatsTimeout, TimeoutError):
            return []

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.sub.unsubscribe()


class NatsPyFetchRunner(ProjectionRunner):
    async def _bind(self) -> None:
        if self._puller is not None:
            await self._puller.stop()
        sub = await self.js.pull_subscribe_bind(durable=self.durable, stream=STREAM)
        self._sub = self._puller = NatsPyFetch(sub)  # type: ignore[assignment]


async def live_latency(js: Any, settings: Settings, work: Path, runner_class: type, rate: float, count: int) -> float:
    """Events published one at a time at ``rate``/s into a caught-up runner: p99 publish → commit, in ms."""
    name = f"live_{runner_class.__name__}"
    db = open_database(f"sqlite+aiosqlite:///{work}/level-{name}.db")
    runner = runner_class(FoldingCountingProjection(), "hn", db, js, settings, durable=name)
    await runner.start()
    await runner.catch_up(idle_timeout=0.3, deadline=600)
    stop = asyncio.Event()
    consuming = asyncio.create_task(runner.run(stop))
    committed: list[float] = []
    applied = runner.applied

    async def watch() -> None:
        nonlocal applied
        while not stop.is_set():
            if runner.applied > applied:
                committed.extend([time.perf_counter()] * (runner.applied - applied))
                applied = runner.applied
            await asyncio.sleep(0.001)

    watching = asyncio.create_task(watch())
    sent: list[float] = []
    for n in range(count):
        subject, payload, msg_id = envelope("testsvc", "Counted", "hn.ntl.live", {"n": n})
        sent.append(time.perf_counter())
        await js.publish(subject, payload, headers={"Nats-Msg-Id": msg_id})
        await asyncio.sleep(1 / rate)
    deadline = time.perf_counter() + 10
    while len(committed) < count and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.gather(consuming, watching)
    await runner._drop_subscription()
    await js.delete_consumer(STREAM, name)
    await db.dispose()
    lags = sorted(c - s for c, s in zip(committed, sent, strict=False))
    return lags[max(int(len(lags) * 0.99) - 1, 0)] * 1000 if lags else float("nan")


def line(name: str, rate: float, raw: float, ratio: float) -> None:
    print(f"  {name:<46} {rate:>9,.0f} ev/s  baseline raw pull + ack {raw:,.0f} ev/s"
          f"  ratio {ratio:.2f}  goal ≥ 0.5", flush=True)  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=Settings().projection_batch, help="settings.projection_batch")
    parser.add_argument("--only", default="1,2,3,4")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--live-rate", type=float, default=20.0, help="events/s for 4.")
    parser.add_argument("--live-count", type=int, default=200, help="events for 4.")
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
            if "4" in only:
                new = await live_latency(js, settings, work, ProjectionRunner, args.live_rate, args.live_count)
                old = await live_latency(js, settings, work, NatsPyFetchRunner, args.live_rate, args.live_count)
                print(f"  4. live, one event every {1000 / args.live_rate:.0f} ms, publish → commit p99: {new:.1f} ms"
                      f"  (baseline, the same runner pulling with nats-py's fetch: {old:.1f} ms)",
                      flush=True)  # fmt: skip
            await nc.close()
        finally:
            server.stop()
    print(f"  load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
