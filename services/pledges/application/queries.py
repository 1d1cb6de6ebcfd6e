"""Read queries over the inline records. What the caller cannot see reads as 404, never 403."""

from typing import Any

from services.pledges.adapters.records import Records
from services.pledges.adapters.units import UnitsCopy
from services.pledges.application.support import Clock, can_see
from shared.auth import Caller
from shared.errors import NotFound
from shared.subjects import in_subtree


def campaign_view(row: dict[str, Any], today: Any) -> dict[str, Any]:
    launch = row["launch"]
    return {
        "campaign_id": row["campaign_id"],
        "launcher_unit_id": row["launcher_unit_id"],
        "launcher_path": row["launcher_path"],
        "title": row["title"],
        "plan_number": row["plan_number"],
        "pillars": launch["pillars"],
        "starts_on": launch["starts_on"],
        "ends_on": launch["ends_on"],
        "report_deadlines": launch["report_deadlines"],
        "indicators": launch["indicators"],
        "status": row["status"],
        "overdue": row["status"] == "open" and today > row["ends_on"],
        "review": row["review"],
        "version": row["version"],
    }


def _reaches_caller(caller: Caller, launcher_path: str) -> bool:
    return "admin" in caller.roles or can_see(caller, launcher_path) or in_subtree(caller.unit_path, launcher_path)


async def list_campaigns(records: Records, caller: Caller, clock: Clock, limit: int, offset: int) -> dict[str, Any]:
    total, rows = await records.campaigns_for(caller.unit_path, limit, offset)
    today = clock().date()
    items = [campaign_view(r, today) for r in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


async def get_campaign(records: Records, caller: Caller, clock: Clock, campaign_id: str) -> dict[str, Any]:
    row = await records.campaign(campaign_id)
    if row is None or not _reaches_caller(caller, row["launcher_path"]):
        raise NotFound(f"campaign {campaign_id} not found")
    view = campaign_view(row, clock().date())
    # Targets of the units the caller sees (and the caller's own unit, set from above).
    view["targets"] = [
        {"unit_id": t["unit_id"], "path": t["path"], "by_unit_id": t["by_unit_id"], "targets": t["targets"]}
        for t in await records.targets_of(campaign_id)
        if t["path"] is not None and can_see(caller, t["path"])
    ]
    view["targets"].sort(key=lambda t: t["path"])
    return view


async def list_pledges(
    records: Records, units: UnitsCopy, caller: Caller, campaign_id: str, under: str | None, limit: int, offset: int
) -> dict[str, Any]:
    row = await records.campaign(campaign_id)
    if row is None or not _reaches_caller(caller, row["launcher_path"]):
        raise NotFound(f"campaign {campaign_id} not found")
    scope = under or caller.unit_path
    if not can_see(caller, scope):
        raise NotFound(f"unit {scope} not found in your unit's subtree")
    total, items = await records.pledges_of(campaign_id, scope, limit, offset)
    for item in items:
        item["signed_on"] = item["signed_on"].isoformat()
    return {
        "campaign_id": campaign_id,
        "under": scope,
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": items,
    }


async def list_registrations(
    records: Records, units: UnitsCopy, caller: Caller, unit_id: str, year: int | None, limit: int, offset: int
) -> dict[str, Any]:
    unit = await units.unit(unit_id)
    if unit is None or not can_see(caller, unit.path):
        raise NotFound(f"unit {unit_id} not found in your unit's subtree")
    total, items = await records.registrations_of(unit_id, year, limit, offset)
    return {"unit_id": unit_id, "path": unit.path, "total": total, "limit": limit, "offset": offset, "items": items}
