"""Read queries over the records. What the caller cannot see reads as 404, never 403."""

from typing import Any

from services.pledges.application.deps import Deps
from shared.errors import NotFound
from shared.identity import Caller
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
    return caller.sees(launcher_path) or (caller.unit is not None and in_subtree(caller.unit_path, launcher_path))


async def list_campaigns(deps: Deps, caller: Caller, limit: int, offset: int) -> dict[str, Any]:
    path = caller.unit_path if caller.unit is not None else None  # the platform admin: every campaign
    total, rows = await deps.records.campaigns_for(path, limit, offset)
    today = deps.clock().date()
    items = [campaign_view(r, today) for r in rows]
    return {"total": total, "limit": limit, "offset": offset, "items": items}


async def get_campaign(deps: Deps, caller: Caller, campaign_id: str) -> dict[str, Any]:
    row = await deps.records.campaign(campaign_id)
    if row is None or not _reaches_caller(caller, row["launcher_path"]):
        raise NotFound(f"campaign {campaign_id} not found")
    view = campaign_view(row, deps.clock().date())
    # Targets of the units the caller sees (and the caller's own unit, set from above).
    view["targets"] = [
        {"unit_id": t["unit_id"], "path": t["path"], "by_unit_id": t["by_unit_id"], "targets": t["targets"]}
        for t in await deps.records.targets_of(campaign_id)
        if t["path"] is not None and caller.sees(t["path"])
    ]
    view["targets"].sort(key=lambda t: t["path"])
    return view


async def list_pledges(
    deps: Deps, caller: Caller, campaign_id: str, under: str | None, limit: int, offset: int
) -> dict[str, Any]:
    row = await deps.records.campaign(campaign_id)
    if row is None or not _reaches_caller(caller, row["launcher_path"]):
        raise NotFound(f"campaign {campaign_id} not found")
    path = under or caller.unit_path
    if not caller.sees(path):
        raise NotFound(f"unit {path} not found in your unit's subtree")
    total, items = await deps.records.pledges_of(campaign_id, path, limit, offset)
    for item in items:
        item["signed_on"] = item["signed_on"].isoformat()
    return {
        "campaign_id": campaign_id,
        "under": path,
        "total": total,
        "limit": limit,
        "offset": offset,
        "items": items,
    }


async def list_registrations(
    deps: Deps, caller: Caller, unit_id: str, year: int | None, limit: int, offset: int
) -> dict[str, Any]:
    unit = await deps.directory.unit(unit_id)
    if unit is None or not caller.sees(unit.path):
        raise NotFound(f"unit {unit_id} not found in your unit's subtree")
    total, items = await deps.records.registrations_of(unit_id, year, limit, offset)
    return {"unit_id": unit_id, "path": unit.path, "total": total, "limit": limit, "offset": offset, "items": items}
