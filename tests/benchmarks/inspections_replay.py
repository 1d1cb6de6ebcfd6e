"""Part 3 of the inspections benchmark (``python -m tests.benchmarks.inspections``): the radar's replay.

``--events`` events of the four services (the tree, the campaign and pledges, initiatives registered and
applied with cross-unit duplicates, checklists issued, submitted with contradictions and overdue) are
generated into JetStream; the city's inspections projection replays them under the real runner (events/s),
beside a raw pull consumer that only acks the same stream with the same filter (goal: ratio >= 0.5).
"""

import os
import random
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig

from services.inspections.adapters.level import InspectionsProjection
from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from shared.subjects import STREAM
from tests.benchmarks.inspections import CAMPAIGN, INDICATORS, city
from tests.benchmarks.pledges import envelope, publish
from tests.natsserver import NatsServer


def registration(title: str) -> dict[str, Any]:
    return {
        "title": title,
        "objective": "o",
        "steps": "s",
        "scope_of_application": "a",
        "expected_effectiveness": "e",
        "pillar": "sang_tao",
        "field": "f",
        "campaign_id": CAMPAIGN,
        "authors": [{"name": "A", "member_id": None, "share": 100}],
        "estimated_benefit_vnd": 1,
        "first_applied_on": "2025-03-01",
    }


async def generate(js: Any, grassroots: int, events: int) -> int:
    units = city(grassroots)
    rng = random.Random(5)
    msgs = [
        envelope(
            "directory",
            "UnitRegistered",
            u["path"],
            {k: u[k] for k in ("unit_id", "code", "name", "kind", "parent_id", "path")},
            "2015-01-05T00:00:00Z",
        )
        for u in units
    ]
    msgs.append(
        envelope(
            "pledges",
            "CampaignLaunched",
            "hn",
            {
                "campaign_id": CAMPAIGN,
                "launcher_unit_id": units[0]["unit_id"],
                "launcher_path": "hn",
                "title": "Đổi mới",
                "plan_number": "18/KH",
                "pillars": [],
                "starts_on": "2025-01-01",
                "ends_on": "2025-12-31",
                "report_deadlines": ["2025-06-30"],
                "indicators": INDICATORS,
            },
            "2025-01-02T00:00:00Z",
        )
    )
    grass = [u for u in units if u["kind"] == "grassroots_union"]
    for u in grass:
        msgs.append(
            envelope(
                "pledges",
                "PledgeSigned",
                u["path"],
                {
                    "pledge_id": f"p-{u['code']}",
                    "campaign_id": CAMPAIGN,
                    "unit_id": u["unit_id"],
                    "signed_on": "2025-01-15",
                    "commitments": [{"indicator": "registered", "target": 5, "deadline": "2025-11-30", "note": None}],
                    "signatories": [],
                },
                "2025-01-15T00:00:00Z",
            )
        )
    await publish(js, msgs)
    total, batch = len(msgs), []
    for n in range(max(0, events - total)):
        u = grass[rng.randrange(len(grass))]
        roll = rng.random()
        if roll < 0.55:
            other = grass[rng.randrange(len(grass))]
            dups = (
                [
                    {
                        "initiative_id": f"i{n - 1}",
                        "unit_id": other["unit_id"],
                        "title": "x",
                        "score": 0.9,
                        "other_unit": True,
                    }
                ]
                if roll < 0.05
                else []
            )
            batch.append(
                envelope(
                    "registry",
                    "InitiativeRegistered",
                    u["path"],
                    {
                        "initiative_id": f"i{n}",
                        "unit_id": u["unit_id"],
                        "campaign_id": CAMPAIGN,
                        "registration": registration(f"Sáng kiến {n}"),
                        "registered_by": "m",
                        "possible_duplicates": dups,
                    },
                    f"2025-{1 + n % 6:02d}-{1 + n % 28:02d}T08:00:00Z",
                )
            )
        elif roll < 0.8:
            batch.append(
                envelope(
                    "registry",
                    "InitiativeApplied",
                    u["path"],
                    {
                        "initiative_id": f"i{max(0, n - 7)}",
                        "unit_id": u["unit_id"],
                        "where": "w",
                        "since": "2025-05-01",
                        "evidence": "e",
                        "actual_benefit_vnd": 1,
                        "reported_by": "m",
                    },
                    "2025-05-01T08:00:00Z",
                )
            )
        elif roll < 0.9:
            batch.append(
                envelope(
                    "pledges",
                    "ProgressReported",
                    u["path"],
                    {
                        "campaign_id": CAMPAIGN,
                        "unit_id": u["unit_id"],
                        "indicator": "activities",
                        "value": 2,
                        "delta": 1,
                        "evidence": ["Biên bản"],
                        "reported_at": "2025-05-20T00:00:00Z",
                    },
                    "2025-05-20T00:00:00Z",
                )
            )
        else:
            batch.append(
                envelope(
                    "inspections",
                    "SelfInspectionOverdue",
                    u["path"],
                    {
                        "round_id": f"r-{n % 4}",
                        "unit_id": u["unit_id"],
                        "due_on": "2025-06-30",
                        "detected_at": "2025-07-01T00:00:00Z",
                        "days_late": 1,
                    },
                    "2025-07-01T00:00:00Z",
                )
            )
        if len(batch) >= 50_000:
            await publish(js, batch)
            total += len(batch)
            batch = []
    await publish(js, batch)
    return total + len(batch)


async def raw_ack_rate(js: Any, name: str, filters: list[str], batch: int) -> float:
    config = ConsumerConfig(durable_name=name, filter_subjects=filters, ack_policy=AckPolicy.ALL, max_ack_pending=batch)
    await js.add_consumer(STREAM, config)
    sub = await js.pull_subscribe_bind(durable=name, stream=STREAM)
    start, seen = time.perf_counter(), 0
    while True:
        try:
            msgs = await sub.fetch(batch, timeout=2)
        except Exception:
            break
        await msgs[-1].ack_sync()
        seen += len(msgs)
        if msgs[-1].metadata.num_pending == 0:
            break
    return seen / (time.perf_counter() - start)


def py_spy(out: str) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy`` into the venv) sampling this process until interrupted."""
    from tests.benchmarks.latency import py_spy as record

    return record(os.getpid(), out, 3600)


def stop(spy: subprocess.Popen[bytes] | None) -> None:
    if spy is not None:  # py-spy writes its profile when interrupted
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)


async def replayed(runner: ProjectionRunner, deadline: float = 3600) -> float:
    """Seconds until the runner applied the batch that left nothing pending (as the raw consumer stops at
    its last ack), the settling a caught-up level does included; no idle wait for a fetch that finds
    nothing is counted."""
    start = time.perf_counter()
    while time.perf_counter() - start < deadline:
        if await runner.step(wait=0.5) and runner.pending == 0:
            return time.perf_counter() - start
    raise TimeoutError(f"the replay did not end in {deadline} s")


async def replay(work: Path, grassroots: int, events: int, batch: int, profile: str | None = None) -> None:
    server = NatsServer(work / "js").start()
    settings = Settings(
        service="inspections",
        nats_url=server.url,
        projection_batch=batch,
        projection_ack_wait_seconds=120,
        local=True,
    )
    try:
        nc, js = await connect(server.url, "bench-inspections")
        await ensure_streams(js, settings)
        started = time.perf_counter()
        total = await generate(js, grassroots, events)
        print(
            f"     ({total:,} events of the four services generated into JetStream in"
            f" {time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        db = open_database(f"sqlite+aiosqlite:///{work}/replay.db")
        runner = ProjectionRunner(InspectionsProjection(), "hn", db, js, settings)
        # The raw consumer before and after the replay: on a shared machine the load moves during a run.
        before = await raw_ack_rate(js, "raw_before", runner.filters, batch)
        await runner.start()
        spy = py_spy(profile) if profile else None
        cpu = time.process_time()
        try:
            elapsed = await replayed(runner)
            cpu = time.process_time() - cpu
        finally:
            stop(spy)
        after = await raw_ack_rate(js, "raw_after", runner.filters, batch)
        await runner.catch_up(idle_timeout=0.5, deadline=60)  # nothing is left behind
        rate, raw = runner.applied / elapsed, (before + after) / 2
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"  3. radar replay (city level) {rate:>8,.0f} ev/s  ({runner.applied:,} events)"
            f"  baseline raw pull + ack {raw:,.0f} ev/s (before {before:,.0f}, after {after:,.0f})"
            f"  ratio {rate / raw:.2f}  goal ratio ≥ 0.5"
            f"  (replay: {elapsed:.1f} s, {cpu:.1f} CPU s of this process; batch {batch}, load {load})"
        )
        await db.dispose()
        await nc.close()
    finally:
        server.stop()
