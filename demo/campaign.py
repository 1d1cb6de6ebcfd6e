"""The demo campaign: Kế hoạch 18/KH-LĐLĐ, launched by the city federation of the demo city (see
``services.directory.demo``) for the current year, its targets cascaded to every unit below it, pledges
signed by most (not all) grassroots unions, and a few reported activities.

The loader goes through the command handlers, so the demo obeys the same rules as real use. It waits
until the service's copy of the unit tree holds the whole demo city (it arrives from the directory's
events), and does nothing if the plan was already launched.
"""

import asyncio
import contextlib
import logging
from datetime import date
from typing import Any

from fastapi import FastAPI

from services.directory.demo import CITY, UPPER_LEVEL
from services.pledges.adapters.records import Records
from services.pledges.adapters.units import UnitsCopy
from services.pledges.application import campaigns, pledges
from services.pledges.application.support import Clock
from services.pledges.domain.commands import (
    CommitmentSpec,
    IndicatorSpec,
    LaunchCampaign,
    ReportProgress,
    SignPledge,
    SplitTargets,
)
from services.pledges.domain.rules import UnitRef
from shared.auth import Caller
from shared.commands import CommandContext
from shared.eventstore import EventStore

log = logging.getLogger(__name__)

PLAN = "18/KH-LĐLĐ"
TITLE = "Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn"
INDICATORS = [
    IndicatorSpec(code="registered", name="Sáng kiến, giải pháp được đăng ký", unit_of_measure="sáng kiến",
                  method="counted", source="initiatives_registered"),
    IndicatorSpec(code="applied", name="Sáng kiến được áp dụng vào thực tế", unit_of_measure="sáng kiến",
                  method="counted", source="initiatives_applied"),
    IndicatorSpec(code="activities", name="Hoạt động đổi mới, sáng tạo của công đoàn cơ sở",
                  unit_of_measure="hoạt động", method="reported",
                  evidence_required="Biên bản hoặc báo cáo kết quả hoạt động của Ban Chấp hành"),
    IndicatorSpec(code="members", name="Đoàn viên đăng ký thi đua", unit_of_measure="đoàn viên",
                  method="reported", evidence_required="Danh sách đoàn viên đăng ký có chữ ký"),
]  # fmt: skip
# Per grassroots union: initiatives registered, applied, innovative activities (at least one), members.
PER_GRASSROOTS = {"registered": 40.0, "applied": 10.0, "activities": 1.0, "members": 10.0}
# Grassroots unions that have not signed yet: the demo shows who lags.
UNSIGNED = {"hn.ntl.chi-cuc-thue", "hn.dd.ttbdct", "hn.gl.ttyt-gia-lam"}

_ADMIN = Caller(subject="demo-loader", unit_path=CITY[0], roles=frozenset({"admin"}))


def demo_paths() -> list[str]:
    city = CITY[0]
    paths = [city]
    for code, _name, below in UPPER_LEVEL:
        paths.append(f"{city}.{code}")
        for g_code, _g_name, subs in below:
            paths.append(f"{city}.{code}.{g_code}")
            paths += [f"{city}.{code}.{g_code}.{s}" for s, _ in subs]
    return paths


def _even_split(total: dict[str, float], children: list[UnitRef]) -> dict[str, dict[str, float]]:
    """Whole numbers that add up to the parent's target (the first children take the remainder)."""
    split: dict[str, dict[str, float]] = {c.unit_id: {} for c in children}
    for code, value in total.items():
        base, extra = divmod(int(value), len(children))
        for index, child in enumerate(children):
            split[child.unit_id][code] = float(base + (1 if index < extra else 0))
    return split


async def load_demo(store: EventStore, units: UnitsCopy, records: Records, clock: Clock) -> dict[str, int]:
    """Launch, cascade, sign and report; a no-op if the plan is already there."""
    city = await units.by_path(CITY[0])
    assert city is not None
    _total, existing = await records.campaigns_for(city.path, 100, 0)
    if any(c["plan_number"] == PLAN for c in existing):
        return {"campaigns": 0, "targets": 0, "pledges": 0, "reports": 0}
    ctx = CommandContext(caller=_ADMIN)
    year = clock().year
    upper = await units.children(city.unit_id)
    grassroots = {u.unit_id: await units.children(u.unit_id) for u in upper}
    city_targets = {u.unit_id: {k: v * len(grassroots[u.unit_id]) for k, v in PER_GRASSROOTS.items()} for u in upper}
    launched = await campaigns.launch(
        store,
        units,
        ctx,
        LaunchCampaign(
            unit_id=city.unit_id,
            title=TITLE,
            plan_number=PLAN,
            pillars=["Đổi mới", "Sáng tạo", "Hiệu quả"],
            starts_on=date(year, 1, 1),
            ends_on=date(year, 12, 31),
            report_deadlines=[date(year, 6, 30), date(year, 12, 31)],
            indicators=INDICATORS,
            targets=city_targets,
        ),
    )
    cid = launched["campaign_id"]
    counts = {"campaigns": 1, "targets": len(upper), "pledges": 0, "reports": 0}
    for district in upper:
        children = grassroots[district.unit_id]
        await campaigns.split(
            store,
            units,
            ctx,
            cid,
            SplitTargets(unit_id=district.unit_id, targets=_even_split(city_targets[district.unit_id], children)),
        )
        counts["targets"] += len(children)
        for union in children:
            subs = await units.children(union.unit_id)
            if subs:
                await campaigns.split(
                    store,
                    units,
                    ctx,
                    cid,
                    SplitTargets(unit_id=union.unit_id, targets=_even_split(PER_GRASSROOTS, subs)),
                )
                counts["targets"] += len(subs)
    for district in upper:
        for index, union in enumerate([district, *grassroots[district.unit_id]]):
            if union.path in UNSIGNED:
                continue
            counts["pledges"] += await _sign(
                store, units, ctx, clock, cid, union, city_targets.get(union.unit_id, PER_GRASSROOTS)
            )
            if index % 2 == 1:  # every other grassroots union has reported its innovative activity
                report = ReportProgress(
                    unit_id=union.unit_id, indicator="activities", value=1, evidence=["Biên bản họp BCH"]
                )
                await pledges.report(store, units, ctx, clock, cid, report)
                counts["reports"] += 1
    return counts


async def _sign(
    store: EventStore,
    units: UnitsCopy,
    ctx: CommandContext,
    clock: Clock,
    cid: str,
    unit: UnitRef,
    target: dict[str, float],
) -> int:
    officials = await units.officials(unit.unit_id)
    if not officials:
        return 0
    deadline = date(clock().year, 11, 30)
    commitments = [CommitmentSpec(indicator=code, target=value, deadline=deadline) for code, value in target.items()]
    await pledges.sign(
        store,
        units,
        ctx,
        clock,
        SignPledge(campaign_id=cid, unit_id=unit.unit_id, commitments=commitments, signatories=officials[:2]),
    )
    return 1


def demo_task(poll_seconds: float = 0.5):  # type: ignore[no-untyped-def]
    """A background task: wait for the demo city in the unit copy, then load the demo campaign once."""

    async def load(app: FastAPI) -> dict[str, Any]:
        units: UnitsCopy = app.state.units
        return await load_demo(app.state.store, units, app.state.records, app.state.clock)

    async def run(app: FastAPI, stop: asyncio.Event) -> None:
        units: UnitsCopy = app.state.units
        wanted = demo_paths()
        while not stop.is_set():
            try:
                if all([await units.by_path(p) is not None for p in wanted]) and await units.officials_ready(
                    wanted[1:]
                ):
                    log.info("demo campaign: %s", await load(app))
                    return
            except Exception as error:  # the tree is still arriving: try again shortly
                log.warning("demo campaign not loaded yet: %s", error)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)

    run.__name__ = "demo-campaign"
    return run
