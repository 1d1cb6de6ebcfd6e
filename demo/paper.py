"""Paper records of the demo city: what its units did on paper before they used the platform, entered by
the platform operator with the day each happened (only the operator may give a past day). They are what
makes the formalism radar's date-bound signs arise for real, whatever day the demo is loaded on:

- the construction trade union's own emulation month (a campaign it ran from about three months ago, its
  report due twelve days ago): two unions reported on paper before the deadline, two did not — the
  pledges service's reminder scheduler then finds them late (the radar's *report late*);
- one union registered six initiatives for that month, five in its last week (*bunched registrations*);
- a union registered three initiatives eight months ago that nobody has applied (*never applied*).

Dates are relative to ``today``; every step's Idempotency-Key is stable, so a second load changes nothing.
"""

import random
from datetime import date, timedelta
from typing import Any

import httpx

from demo.city import paths, send
from demo.initiatives import registration_body

PLAN = "07/KH-CĐN"
TITLE = "Tháng thi đua cao điểm an toàn lao động ngành Xây dựng"
LAUNCHER = "hn.xd"
REPORTED_ON_PAPER = ("hn.xd.hatang-giaothong", "hn.xd.xd-so-1")  # the others of hn.xd did not report
BUNCHED = "hn.xd.xd-so-1"  # one registration early in the month, five in its last week
NEVER_APPLIED = "hn.cdvc.bhxh-hn"  # three initiatives registered eight months ago, none applied
ACTIVITIES = {
    "code": "activities", "name": "Hoạt động thi đua an toàn lao động", "unit_of_measure": "hoạt động",
    "method": "reported", "evidence_required": "Biên bản kiểm tra an toàn lao động",
}  # fmt: skip


async def _unit_id(directory: httpx.AsyncClient, path: str) -> str:
    found = await directory.get(f"/units/by-path/{path}")
    found.raise_for_status()
    return str(found.json()["unit_id"])


def deadline_of(today: date) -> date:
    """The emulation month's report deadline: twelve days before ``today`` (a late report is told within
    thirty days of a deadline)."""
    return today - timedelta(days=12)


async def load_paper_records(
    registry: httpx.AsyncClient, pledges: httpx.AsyncClient, directory: httpx.AsyncClient, today: date
) -> dict[str, int]:
    """Enter the paper records; a no-op if the emulation month is there already.

    ``registry``, ``pledges``, ``directory``: clients carrying the platform admin's bearer token.
    """
    listed = (await pledges.get("/campaigns", params={"limit": 500})).json()
    if any(c["plan_number"] == PLAN for c in listed.get("items", [])):
        return {}
    deadline = deadline_of(today)
    unions = [path for path, kind, _ in paths() if kind == "grassroots_union" and path.startswith(LAUNCHER + ".")]
    ids = {path: await _unit_id(directory, path) for path in (LAUNCHER, *unions, NEVER_APPLIED)}
    launch = {
        "unit_id": ids[LAUNCHER], "title": TITLE, "plan_number": PLAN, "pillars": ["An toàn lao động"],
        "starts_on": (deadline - timedelta(days=90)).isoformat(), "ends_on": (today + timedelta(days=60)).isoformat(),
        "report_deadlines": [deadline.isoformat()], "indicators": [ACTIVITIES],
        "targets": {ids[u]: {"activities": 1.0} for u in unions},
    }  # fmt: skip
    key = f"demo:paper:07-KH-CDN:{deadline.isoformat()}"  # ASCII: a header value
    cid = (await send(pledges, "/campaigns", launch, f"{key}:launch"))["campaign_id"]
    counts = {"campaigns": 1, "reports on paper": 0, "registrations on paper": 0}
    for union in REPORTED_ON_PAPER:
        report = {
            "unit_id": ids[union], "indicator": "activities", "value": 1.0,
            "evidence": ["Biên bản kiểm tra an toàn lao động tại công trường"],
            "reported_on": (deadline - timedelta(days=3)).isoformat(),
        }  # fmt: skip
        await send(pledges, f"/campaigns/{cid}/reports", report, f"{key}:report:{union}")
        counts["reports on paper"] += 1

    rng = random.Random("thidua-demo:paper")

    async def register(path: str, n: int, day: date, campaign_id: str | None) -> None:
        body: dict[str, Any] = {"unit_path": path, **registration_body(rng, path, 100 + n)}
        body |= {"campaign_id": campaign_id, "registered_on": day.isoformat()}
        await send(registry, "/initiatives", body, f"{key}:register:{path}:{n}")
        counts["registrations on paper"] += 1

    bunched = [deadline - timedelta(days=35)] + [deadline - timedelta(days=d) for d in range(5, 0, -1)]
    for n, day in enumerate(bunched):
        await register(BUNCHED, n, day, cid)
    for n in range(3):
        await register(NEVER_APPLIED, n, today - timedelta(days=240 + n), None)
    return counts
