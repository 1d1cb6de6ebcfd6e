"""Portal benchmark (run on purpose: ``python -m tests.benchmarks.portal``): the dashboard's and the
initiative book's server time, p50 and p95, for the city and for a district, with the demo scaled to
13,000 units and 100,000 initiatives. Every figure is printed beside baselines measured in the same run:
the portal's own /health (a page that asks nothing) and the level host's reads the page is built from.

The level read models are written straight into their tables (the shapes the projections keep) for the
city (every unit and initiative) and for the district ``hn.ntl`` (its share); one process serves both
services' level reads at ``/levels/{level}/…``, the portal runs under uvicorn in its own process, and a
keep-alive client on loopback times each page. Files go to a temporary folder, deleted at the end.

Options: ``--units``, ``--initiatives``, ``--rounds`` (requests per page, default 60).
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import Request
from sqlalchemy import insert

from services.pledges.adapters import level_tables as pt
from services.registry.adapters.level import index_search
from services.registry.adapters.level_tables import authors, book
from services.registry.adapters.level_tables import metadata as registry_metadata
from services.registry.domain.rules import IN_BOOK
from shared.db import open_database
from shared.membership import level_units
from shared.membership import metadata as membership_metadata
from shared.subjects import in_subtree
from shared.text import fold
from tests.natsserver import free_port

REPO = Path(__file__).resolve().parents[2]
DISTRICTS = 30
LEVELS = ("hn", "hn.ntl")
WORDS = (
    "quy trình đoàn viên công nhân lao động an toàn tiền lương thưởng đối thoại phần mềm mã QR sổ tay "
    "bữa cơm ca nhà ở xã hội tủ sách pháp luật hội thi tay nghề văn phòng phân xưởng khảo sát ý kiến"
).split()
AUTHOR = {"name": "Nguyễn Văn An", "share": 100}
INDICATORS = [
    {"code": "registered", "name": "Sáng kiến được đăng ký", "unit_of_measure": "sáng kiến", "direction": "at_least",
     "method": "counted", "source": "initiatives_registered", "evidence_required": None},
    {"code": "applied", "name": "Sáng kiến được áp dụng", "unit_of_measure": "sáng kiến", "direction": "at_least",
     "method": "counted", "source": "initiatives_applied", "evidence_required": None},
    {"code": "activities", "name": "Hoạt động đổi mới", "unit_of_measure": "hoạt động", "direction": "at_least",
     "method": "reported", "source": None, "evidence_required": "Biên bản"},
]  # fmt: skip


def city(units: int) -> list[dict[str, Any]]:
    """The city, 30 districts (the first is Nam Từ Liêm, ``hn.ntl``) and grassroots unions spread evenly."""
    hn = {"unit_id": str(uuid.uuid4()), "path": "hn", "parent_id": None, "kind": "city_federation"}
    codes = ["ntl", *(f"d{n}" for n in range(1, DISTRICTS))]
    districts = [
        {"unit_id": str(uuid.uuid4()), "path": f"hn.{c}", "parent_id": hn["unit_id"], "kind": "upper_level_union"}
        for c in codes
    ]
    grassroots = []
    for g in range(units - 1 - DISTRICTS):
        parent = districts[g % DISTRICTS]
        grassroots.append({"unit_id": str(uuid.uuid4()), "path": f"{parent['path']}.g{g}",
                           "parent_id": parent["unit_id"], "kind": "grassroots_union"})  # fmt: skip
    tree = [hn, *districts, *grassroots]
    for unit in tree:
        unit["name"] = f"Công đoàn {unit['path']}"
        unit["code"] = unit["path"].rsplit(".", 1)[-1]
    return tree


async def build_registry(url: str, level: str, tree: list[dict[str, Any]], count: int) -> int:
    db = open_database(url)
    rng = random.Random(11)
    grassroots = [u for u in tree if u["kind"] == "grassroots_union"]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    written = 0
    async with db.writer.begin() as conn:
        await conn.run_sync(registry_metadata.create_all)
        await conn.run_sync(membership_metadata.create_all)
        mine = [u for u in tree if in_subtree(u["path"], level)]
        await conn.execute(insert(level_units), [
            {k: u[k] for k in ("unit_id", "code", "name", "kind", "parent_id", "path")} | {"status": "active"}
            for u in mine
        ])  # fmt: skip
        for chunk in range(0, count, 5000):
            rows, names, words = [], [], []
            for n in range(chunk, min(chunk + 5000, count)):
                unit = grassroots[n % len(grassroots)]
                title = " ".join(rng.sample(WORDS, 6)).capitalize()
                if not in_subtree(unit["path"], level):
                    continue
                status = rng.choice(["registered", "under_review", "recognised", "applied", "accepted", "rejected"])
                at = start + timedelta(minutes=n * 5)
                pending = level if n % 2000 == 0 and status in ("applied", "accepted") else None
                written += 1
                rows.append({
                    "doc": written, "initiative_id": f"i-{n}", "unit_id": unit["unit_id"], "unit_path": unit["path"],
                    "title": title, "search": fold(title), "in_book": int(status in IN_BOOK),
                    "pillar": rng.choice(["doi_moi", "sang_tao", "hieu_qua"]), "field": "Công tác tổ chức",
                    "year": at.year, "status": status, "scope": "grassroots", "authors": [AUTHOR],
                    "estimated_benefit_vnd": 1_000_000, "benefit_vnd": 1_789_000, "scores": 1, "applications": 1,
                    "decision_number": f"{n}/QĐ-CĐCS", "decision_date": date(at.year, 1, 1),
                    "registered_at": at,
                    "recognised_at": at, "pending_at_path": pending, "pending_since": at if pending else None,
                    "decisions": [], "possible_duplicates": [],
                })  # fmt: skip
                names.append({"initiative_id": f"i-{n}", "position": 0, "member_id": None, "name": "Nguyễn Văn An",
                              "share": 100})  # fmt: skip
                words.append((written, f"i-{n}", fold(title)))
            if rows:
                await conn.execute(insert(book), rows)
                await conn.execute(insert(authors), names)
                await index_search(conn, words)
    await db.dispose()
    return written


async def build_pledges(url: str, level: str, tree: list[dict[str, Any]], campaign_id: str) -> None:
    db = open_database(url)
    rng = random.Random(7)
    mine = [u for u in tree if in_subtree(u["path"], level) or u["path"] == "hn"]
    async with db.writer.begin() as conn:
        await conn.run_sync(pt.metadata.create_all)
        await conn.run_sync(membership_metadata.create_all)
        await conn.execute(insert(level_units), [
            {k: u[k] for k in ("unit_id", "code", "parent_id", "path", "kind", "name")} | {"status": "active"}
            for u in mine
        ])  # fmt: skip
        await conn.execute(insert(pt.campaigns).values(
            campaign_id=campaign_id, launcher_unit_id=tree[0]["unit_id"], launcher_path="hn",
            title="Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn", plan_number="18/KH-LĐLĐ",
            starts_on=date(date.today().year, 1, 1), ends_on=date(date.today().year, 12, 31), status="open",
            indicators=INDICATORS, report_deadlines=[f"{date.today().year}-06-30", f"{date.today().year}-12-31"],
        ))  # fmt: skip
        targets, values, pledged = [], [], []
        for unit in mine[1:] if mine[0]["path"] == "hn" else mine:
            scale = 1 if unit["kind"] == "grassroots_union" else 430
            for ind in INDICATORS:
                goal = {"registered": 8, "applied": 3, "activities": 1}[ind["code"]] * scale
                got = rng.randint(0, goal * 2)
                targets.append({"campaign_id": campaign_id, "unit_id": unit["unit_id"], "indicator": ind["code"],
                                "target": float(goal)})  # fmt: skip
                values.append({"campaign_id": campaign_id, "unit_id": unit["unit_id"], "indicator": ind["code"],
                               "own": float(got), "total": float(got)})  # fmt: skip
            if rng.random() < 0.9:
                pledged.append({"campaign_id": campaign_id, "unit_id": unit["unit_id"], "amendment": 0})
        for table, rows in ((pt.targets, targets), (pt.values, values), (pt.pledged, pledged)):
            for i in range(0, len(rows), 5000):
                await conn.execute(insert(table), rows[i : i + 5000])
    await db.dispose()


def serve_levels(work: Path, port: int) -> None:
    """Both services' level reads for every built level, as the kit's level hosts serve them
    (``/levels/{level}/…``), read as the platform; and the few directory answers the portal's demo sign-in
    asks for (who a token names), so the benchmark needs no directory service."""
    import uvicorn
    from fastapi import FastAPI

    from services.pledges.adapters.level_reads import router as pledges_reads
    from services.registry.adapters.level_reads import router as registry_reads
    from shared.identity import Caller
    from shared.level_host import LevelRead, level_read
    from shared.settings import Settings
    from shared.tokens import token_subject

    dbs = {
        (service, level): open_database(f"sqlite+aiosqlite:///{work}/{service}-{level}.db")
        for service in ("registry", "pledges") for level in LEVELS
    }  # fmt: skip
    app = FastAPI()

    def reads_as_platform(service: str) -> Any:
        async def read(level: str) -> LevelRead:
            return LevelRead(level, dbs[(service, level)], Caller.system("benchmark"))

        return read

    for service, reads in (("registry", registry_reads), ("pledges", pledges_reads)):
        sub = FastAPI()
        sub.include_router(reads, prefix="/levels/{level}")
        sub.dependency_overrides[level_read] = reads_as_platform(service)
        app.mount(f"/{service}", sub)

    roles = ["chair", "standing_committee", "executive_committee", "emulation_officer"]
    settings = Settings(local=True)

    @app.get("/directory/units/by-path/{path}")
    async def by_path(path: str) -> dict[str, Any]:
        return {"unit_id": path, "path": path, "name": f"Công đoàn {path}"}

    @app.get("/directory/units/{unit_id}/members")
    async def members(unit_id: str) -> dict[str, Any]:
        return {"items": [{"member_id": f"m-{unit_id}", "full_name": "Nguyễn Văn An", "roles": roles}], "total": 1}

    @app.get("/directory/me")
    async def me(request: Request) -> dict[str, Any]:
        subject = token_subject(settings, request.headers["authorization"].removeprefix("Bearer "))
        path = subject.removeprefix("m-")
        return {"member_id": subject, "full_name": "Nguyễn Văn An", "unit_path": path, "unit_name": path,
                "roles": roles}  # fmt: skip

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, cwd=REPO, env={**os.environ, **env}, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def _wait(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the process exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def _signed_in(portal: str, subject: str) -> httpx.Client:
    client = httpx.Client(base_url=portal, timeout=60)
    page = client.get("/sign-in").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    answer = client.post("/sign-in/demo", data={"csrf": csrf.group(1), "subject": subject, "next": "/dashboard"})
    assert answer.status_code == 303, answer.text[:300]
    return client


def timed(client: httpx.Client, path: str, rounds: int) -> tuple[float, float]:
    for _ in range(3):  # warm: connections, page cache
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code, response.text[-600:])
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        response = client.get(path)
        samples.append(time.perf_counter() - t0)
        assert response.status_code == 200, (path, response.status_code)
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=13_000)
    parser.add_argument("--initiatives", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--serve-levels", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_levels:
        serve_levels(Path(args.serve_levels), args.port)
        return

    work = Path(tempfile.mkdtemp(prefix="thidua-bench-portal-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        started = time.perf_counter()
        tree = city(args.units)
        campaign_id = str(uuid.uuid4())
        counts = {}
        for level in LEVELS:
            counts[level] = asyncio.run(
                build_registry(f"sqlite+aiosqlite:///{work}/registry-{level}.db", level, tree, args.initiatives)
            )
            asyncio.run(build_pledges(f"sqlite+aiosqlite:///{work}/pledges-{level}.db", level, tree, campaign_id))
        built = time.perf_counter() - started
        print(f"portal benchmark: {len(tree):,} units, {counts['hn']:,} initiatives in the city "
              f"({counts['hn.ntl']:,} in hn.ntl); built in {built:.0f} s", flush=True)  # fmt: skip

        level_port, portal_port = free_port(), free_port()
        levels = _spawn([sys.executable, "-m", "tests.benchmarks.portal", "--serve-levels", str(work),
                         "--port", str(level_port)], {}, work / "levels.log")  # fmt: skip
        procs.append(levels)
        level_url = f"http://127.0.0.1:{level_port}"
        _wait(level_url + "/health", levels)
        hosts = {service: f"{level_url}/{service}/levels/{{level}}" for service in ("registry", "pledges")}
        env = {
            "THIDUA_DEMO_SIGN_IN": "true", "THIDUA_LOG_JSON": "false", "THIDUA_LOCAL": "true",
            "THIDUA_LEVEL_HOSTS": json.dumps(hosts), "THIDUA_LEVELS": json.dumps(LEVELS),
            "THIDUA_DIRECTORY_URL": f"{level_url}/directory",
        }  # fmt: skip
        portal = _spawn([sys.executable, "-m", "uvicorn", "--factory", "services.portal.entrypoints.main:create_app",
                         "--host", "127.0.0.1", "--port", str(portal_port), "--log-level", "warning"],
                        env, work / "portal.log")  # fmt: skip
        procs.append(portal)
        portal_url = f"http://127.0.0.1:{portal_port}"
        _wait(portal_url + "/health", portal)

        with httpx.Client(base_url=portal_url) as bare, httpx.Client(base_url=level_url) as direct:
            floor = timed(bare, "/health", args.rounds)
            print(f"  baseline: portal /health p50 {floor[0]:.1f} ms p95 {floor[1]:.1f} ms (a page that asks nothing)")
            for subject, level in (("city-standing", "hn"), ("ntl-chair", "hn.ntl")):
                reads = [
                    f"/pledges/levels/{level}/pledges/campaigns",
                    f"/registry/levels/{level}/registry/book?unit={level}&limit=5",
                    f"/registry/levels/{level}/registry/inbox",
                    f"/pledges/levels/{level}/pledges/campaigns/{campaign_id}/progress?unit={level}"
                    "&depth=children&limit=500",
                ]
                level_p95 = sum(timed(direct, r, args.rounds)[1] for r in reads)
                book_read = timed(direct, f"/registry/levels/{level}/registry/book?unit={level}&limit=25", args.rounds)
                client = _signed_in(portal_url, subject)
                dash = timed(client, "/dashboard", args.rounds)
                book_page = timed(client, "/book", args.rounds)
                search = timed(client, "/book?q=bua+com+ca", args.rounds)
                client.close()
                scope = "city" if level == "hn" else "district"
                print(f"  {scope} ({level}) dashboard: p50 {dash[0]:.1f} ms  p95 {dash[1]:.1f} ms   "
                      f"(its four level reads, p95 summed: {level_p95:.1f} ms)  goal p95 ≤ 300 ms")  # fmt: skip
                print(f"  {scope} ({level}) book:      p50 {book_page[0]:.1f} ms  p95 {book_page[1]:.1f} ms   "
                      f"(the level read alone: p95 {book_read[1]:.1f} ms)  goal p95 ≤ 300 ms")  # fmt: skip
                print(f"  {scope} ({level}) book search 'bua com ca': p50 {search[0]:.1f} ms  p95 {search[1]:.1f} ms")
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if os.environ.get("KEEP"):
            print("kept", work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
