"""The demo campaign: Kế hoạch 18/KH-LĐLĐ, launched by the city federation of the demo city for the
current year, its targets cascaded to every unit below it, pledges signed by most (not all) grassroots
unions, and a few reported activities (on paper, before the June deadline once it has passed).

A client of the pledges service's HTTP API (the platform admin's token); unit ids and officials are read
from the directory's API. The pledges service learns units and officials from the directory's events,
so a command about one it does not know yet is retried for a while. It does nothing if the plan was
already launched.
"""

from datetime import date, timedelta

import httpx

from demo.city import CITY, paths, send

PLAN = "18/KH-LĐLĐ"
TITLE = "Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn"
INDICATORS: list[dict[str, str]] = [
    dict(code="registered", name="Sáng kiến, giải pháp được đăng ký", unit_of_measure="sáng kiến",
                  method="counted", source="initiatives_registered"),
    dict(code="applied", name="Sáng kiến được áp dụng vào thực tế", unit_of_measure="sáng kiến",
                  method="counted", source="initiatives_applied"),
    dict(code="activities", name="Hoạt động đổi mới, sáng tạo của công đoàn cơ sở",
                  unit_of_measure="hoạt động", method="reported",
                  evidence_required="Biên bản hoặc báo cáo kết quả hoạt động của Ban Chấp hành"),
    dict(code="members", name="Đoàn viên đăng ký thi đua", unit_of_measure="đoàn viên",
                  method="reported", evidence_required="Danh sách đoàn viên đăng ký có chữ ký"),
]  # fmt: skip
# Per grassroots union: initiatives registered, applied, innovative activities (at least one), members.
PER_GRASSROOTS = {"registered": 40.0, "applied": 10.0, "activities": 1.0, "members": 10.0}
# Grassroots unions that have not signed yet: the demo shows who lags.
UNSIGNED = {"hn.ntl.chi-cuc-thue", "hn.dd.ttbdct", "hn.gl.ttyt-gia-lam"}


def _even_split(total: dict[str, float], children: list[str]) -> dict[str, dict[str, float]]:
    """Whole numbers that add up to the parent's target (the first children take the remainder)."""
    split: dict[str, dict[str, float]] = {c: {} for c in children}
    for code, value in total.items():
        base, extra = divmod(int(value), len(children))
        for index, child in enumerate(children):
            split[child][code] = float(base + (1 if index < extra else 0))
    return split


async def _directory(directory: httpx.AsyncClient) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Unit ids by path, and each unit's officials who may sign (member ids, chairs first)."""
    ids: dict[str, str] = {}
    officials: dict[str, list[str]] = {}
    order = ("chair", "standing_committee", "executive_committee", "emulation_officer")
    for path, _, _ in paths():
        unit = (await directory.get(f"/units/by-path/{path}")).json()
        ids[path] = unit["unit_id"]
        members = (await directory.get(f"/units/{unit['unit_id']}/members", params={"limit": 500})).json()["items"]
        ranked = [(min(order.index(r) for r in m["roles"] if r in order), m["member_id"]) for m in members
                  if set(m["roles"]) & set(order)]  # fmt: skip
        officials[path] = [member_id for _, member_id in sorted(ranked)]
    return ids, officials


async def load_campaign(pledges: httpx.AsyncClient, directory: httpx.AsyncClient, year: int) -> dict[str, int]:
    """Launch, cascade, sign and report; a no-op if the plan is already there.

    ``pledges`` and ``directory``: clients carrying the platform admin's bearer token.
    """
    ids, officials = await _directory(directory)
    listed = (await pledges.get("/campaigns", params={"limit": 500})).json()
    if any(c["plan_number"] == PLAN for c in listed.get("items", [])):
        return {"campaigns": 0, "targets": 0, "pledges": 0, "reports": 0}
    children: dict[str, list[str]] = {}
    for path, _, _ in sorted(paths()[1:]):  # by path, as the directory lists children
        children.setdefault(path.rpartition(".")[0], []).append(path)
    upper = children[CITY[0]]
    city_targets = {ids[u]: {k: v * len(children.get(u, [])) for k, v in PER_GRASSROOTS.items()} for u in upper}
    launch = {
        "unit_id": ids[CITY[0]], "title": TITLE, "plan_number": PLAN, "pillars": ["Đổi mới", "Sáng tạo", "Hiệu quả"],
        "starts_on": date(year, 1, 1).isoformat(), "ends_on": date(year, 12, 31).isoformat(),
        "report_deadlines": [date(year, 6, 30).isoformat(), date(year, 12, 31).isoformat()],
        "indicators": INDICATORS, "targets": city_targets,
    }  # fmt: skip
    cid = (await send(pledges, "/campaigns", launch, f"demo:campaign:18-KH:{year}"))["campaign_id"]
    today, first_deadline = date.today(), date(year, 6, 30)
    counts = {"campaigns": 1, "targets": len(upper), "pledges": 0, "reports": 0}
    for district in upper:
        unions = children.get(district, [])
        split = {
            "unit_id": ids[district],
            "targets": _even_split(city_targets[ids[district]], [ids[u] for u in unions]),
        }
        await send(pledges, f"/campaigns/{cid}/targets", split, f"demo:split:{cid}:{district}")
        counts["targets"] += len(unions)
        for union in unions:
            subs = children.get(union, [])
            if subs:
                split = {"unit_id": ids[union], "targets": _even_split(PER_GRASSROOTS, [ids[s] for s in subs])}
                await send(pledges, f"/campaigns/{cid}/targets", split, f"demo:split:{cid}:{union}")
                counts["targets"] += len(subs)
    for district in upper:
        for index, union in enumerate([district, *children.get(district, [])]):
            if union in UNSIGNED or not officials[union]:
                continue
            target = city_targets.get(ids[union], PER_GRASSROOTS)
            deadline = date(year, 11, 30).isoformat()
            commitments = [{"indicator": code, "target": value, "deadline": deadline} for code, value in target.items()]
            signatories = officials[union][:2]
            body = {"campaign_id": cid, "unit_id": ids[union], "signatories": signatories, "commitments": commitments}
            await send(pledges, "/pledges", body, f"demo:pledge:{cid}:{union}")
            counts["pledges"] += 1
            if index % 2 == 1:  # every other grassroots union has reported its innovative activity
                report = {
                    "unit_id": ids[union],
                    "indicator": "activities",
                    "value": 1,
                    "evidence": ["Biên bản họp BCH"],
                }
                if first_deadline < today:  # reported on time, on paper: the others lag behind that deadline
                    report["reported_on"] = (first_deadline - timedelta(days=10)).isoformat()
                await send(pledges, f"/campaigns/{cid}/reports", report, f"demo:report:{cid}:{union}")
                counts["reports"] += 1
    return counts


def demo_paths() -> list[str]:
    return [path for path, _, _ in paths()]
