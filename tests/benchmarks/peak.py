"""A campaign-deadline peak (run on purpose): every unit reports its indicators in the last minutes.

    python -m tests.benchmarks.peak [--units 13000] [--indicators 5] [--minutes 10] [--sample 10]
    python -m tests.benchmarks.peak --units 1300 --minutes 2      # a quick run

The city of ``--units`` units (the city, 30 district unions, grassroots unions under them) and a campaign
with ``--indicators`` reported indicators are in the stream, and the pledges level projection runs for
the city and for each district (31 real runners in this process, each its own SQLite database, caught up
before the peak). Then every grassroots union reports each indicator once (``ProgressReported``, in a
random order), spread evenly over ``--minutes``, published into JetStream at that pace. Every
``--sample`` seconds the backlog curve prints events stored against events applied, for the city and
summed over the districts (with the district furthest behind). At the end: how long after the last report
each level's roll-up was current (goal ≤ 2 s), beside the peak's arrival rate.

The reports go straight into the stream: this measures the roll-ups under the peak. The commands
themselves (one per report, ~108/s at full scale) are within what ``tests.benchmarks.latency`` measures
for directory commands over HTTP with the relay on.
"""

import argparse
import asyncio
import os
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from services.pledges.adapters.level import PledgesLevelProjection
from services.pledges.adapters.level_tables import values
from shared.db import open_database
from shared.membership import level_units
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.benchmarks.pledges import DISTRICTS, city, envelope, publish, setup
from tests.natsserver import NatsServer


def reported_indicators(count: int) -> list[dict[str, Any]]:
    return [
        {"code": f"r{i}", "name": f"Chỉ tiêu báo cáo {i}", "unit_of_measure": "lượt", "direction": "at_least",
         "method": "reported", "source": None, "evidence_required": None}
        for i in range(count)
    ]  # fmt: skip


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=13_000)
    parser.add_argument("--indicators", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between backlog samples")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="thidua-bench-peak-"))
    server = NatsServer(work / "js").start()
    settings = Settings(service="pledges", nats_url=server.url)
    runners: dict[str, ProjectionRunner] = {}
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        nc, js = await connect(server.url, "bench-peak")
        await ensure_streams(js, settings)
        tree, grassroots = city(args.units)
        cid, structural = await setup(js, args.units, 0, reported_indicators(args.indicators), (tree, grassroots))
        levels = ["hn", *[f"hn.d{d}" for d in range(DISTRICTS)]]
        for level in levels:
            db = open_database(f"sqlite+aiosqlite:///{work}/level-{level}.db")
            runners[level] = ProjectionRunner(PledgesLevelProjection(), level, db, js, settings)
            await runners[level].start()
        started = time.perf_counter()
        for runner in runners.values():
            await runner.catch_up(idle_timeout=0.3, deadline=600)
        before = {level: runner.applied for level, runner in runners.items()}
        print(f"peak benchmark: {args.units:,} units, {len(grassroots):,} reporting, {args.indicators} indicators "
              f"each, over {args.minutes:g} min; load {_load()}")  # fmt: skip
        print(f"  {structural:,} tree and campaign events applied at {len(levels)} levels in "
              f"{time.perf_counter() - started:.0f} s (not timed below)", flush=True)  # fmt: skip

        rng = random.Random(5)
        reports = [(uid, path, i) for uid, path in grassroots for i in range(args.indicators)]
        rng.shuffle(reports)
        rate = len(reports) / (args.minutes * 60)
        stored = dict.fromkeys(levels, 0)  # reports published under each level so far
        current_at: dict[str, float] = {}
        tasks = [asyncio.create_task(runner.run(stop)) for runner in runners.values()]

        def applied(level: str) -> int:
            return runners[level].applied - before[level]

        async def sample(begin: float) -> None:
            print(f"  {'t (s)':>6} {'stored':>8} {'city applied':>13} {'districts applied':>18} "
                  f"{'worst district behind':>22}")  # fmt: skip
            while not stop.is_set():
                behind = max(((stored[lv] - applied(lv), lv) for lv in levels[1:]), default=(0, ""))
                total = sum(applied(lv) for lv in levels[1:])
                print(f"  {time.perf_counter() - begin:6.0f} {stored['hn']:8,} {applied('hn'):13,} {total:18,} "
                      f"{behind[0]:>14,} ({behind[1]})", flush=True)  # fmt: skip
                await asyncio.sleep(args.sample)

        begin = time.perf_counter()
        sampler = asyncio.create_task(sample(begin))
        tick = 0.1
        sent = 0
        while sent < len(reports):  # a steady arrival rate, in 100 ms slices
            due = min(len(reports), int((time.perf_counter() - begin + tick) * rate))
            chunk = reports[sent:due]
            at = "2025-06-29T16:00:00Z"
            await publish(js, [
                envelope("pledges", "ProgressReported", path,
                         {"campaign_id": cid, "unit_id": uid, "indicator": f"r{i}", "value": 3.0, "delta": 3.0,
                          "evidence": [], "reported_at": at}, at=at)
                for uid, path, i in chunk
            ])  # fmt: skip
            for _, path, _ in chunk:
                stored["hn"] += 1
                stored[path.rsplit(".", 1)[0]] += 1
            sent = due
            await asyncio.sleep(max(0.0, begin + sent / rate - time.perf_counter()))
        last_report = time.perf_counter()
        deadline = last_report + 120
        while len(current_at) < len(levels) and time.perf_counter() < deadline:
            for level in levels:
                if level not in current_at and applied(level) >= stored[level]:
                    current_at[level] = time.perf_counter() - last_report
            await asyncio.sleep(0.02)
        stop.set()
        sampler.cancel()
        lags = sorted(current_at.values())
        print(f"  {len(reports):,} reports in {last_report - begin:.0f} s (arrival {rate:,.0f}/s);"
              f" levels current after the last report: city {current_at.get('hn', float('nan')):.2f} s,"
              f" slowest district {max(lags[:-1] or [float('nan')]):.2f} s;"
              f" {len(current_at)}/{len(levels)} levels current  goal ≤ 2 s", flush=True)  # fmt: skip
        totals = await _city_totals(runners["hn"], cid)
        print(f"  the city's roll-up holds {totals:,.0f} (expected {3.0 * len(reports):,.0f}); load {_load()}")
        await asyncio.gather(*tasks)
        await nc.close()
    finally:
        stop.set()
        for runner in runners.values():
            await runner.db.dispose()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


async def _city_totals(runner: ProjectionRunner, cid: str) -> float:
    """The city's roll-up of every reported indicator (its subtree's total, as a reader sees it)."""
    city_id = select(level_units.c.unit_id).where(level_units.c.path == "hn").scalar_subquery()
    query = select(func.coalesce(func.sum(values.c.total), 0)).where(
        values.c.campaign_id == cid, values.c.unit_id == city_id
    )
    async with runner.db.reader.connect() as conn:
        return float(await conn.scalar(query) or 0)


if __name__ == "__main__":
    asyncio.run(main())
