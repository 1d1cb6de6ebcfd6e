"""Registry benchmark (run on purpose: ``python -m tests.benchmarks.registry``); every figure is printed
beside a baseline measured in the same run on the same machine.

1. registrations/s through HTTP, 64 connections from ``wrk`` (the registry under uvicorn in its own
   process, SQLite, relay off) — vs a bare FastAPI endpoint taking the same body, served the same way
   (goal ≥ 0.5); each server's CPU is printed (the load generator must not be the limit)
2. duplicate search p95 with 100,000 initiatives in the city — vs a brute-force scan (goal ≤ 50 ms)
3. initiative book query p95 for a district scope with 100,000 initiatives (SQLite level database, a mix
   of filters and searches) — vs the cheapest page query on the same table (goal ≤ 50 ms)

Options: ``--quick`` (smaller counts), ``--only 1,3``.
"""

import argparse
import asyncio
import os
import random
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
from fastapi import FastAPI
from sqlalchemy import insert, select

from demo.city import demo_people
from demo.initiatives import ACTIONS, PLACES, SUBJECTS
from services.registry.adapters.duplicates import DuplicateIndex
from services.registry.adapters.level import index_search
from services.registry.adapters.level_reads import read_book
from services.registry.adapters.level_tables import authors, book, metadata
from services.registry.domain.commands import RegisterInitiative
from services.registry.domain.rules import IN_BOOK
from shared.db import open_database
from shared.directory_copy import members, units
from shared.directory_copy import metadata as copy_metadata
from shared.eventstore.migrate import migrate
from shared.membership import level_units
from shared.membership import metadata as membership_metadata
from shared.settings import Settings
from shared.text import fold
from shared.tokens import issue_token
from tests.benchmarks.wrk import post_load
from tests.natsserver import free_port

REPO = Path(__file__).resolve().parents[2]
WORDS = (
    "quy trình đoàn viên công nhân lao động an toàn tiền lương thưởng đối thoại phần mềm mã QR sổ tay "
    "bữa cơm ca nhà ở xã hội tủ sách pháp luật hội thi tay nghề văn phòng phân xưởng khảo sát ý kiến "
    "chăm lo đời sống tài chính kiểm tra giám sát tuyên truyền nữ công thể thao văn nghệ điện tử"
).split()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)] * 1000


def text_of(rng: random.Random) -> tuple[str, str]:
    subject = rng.choice(SUBJECTS)[0]
    title = f"{rng.choice(ACTIONS)} {subject} {rng.choice(PLACES)} {' '.join(rng.sample(WORDS, 3))}"
    body = " ".join(rng.sample(WORDS, 12))
    return title, f"{title} {body}"


def body(rng: random.Random, n: int) -> dict[str, Any]:
    title, long = text_of(rng)
    return {
        "title": f"{title} {n}"[:200],
        "objective": long,
        "steps": "Khảo sát; xây dựng phương án; thí điểm; nhân rộng",
        "scope_of_application": "Toàn đơn vị",
        "expected_effectiveness": "Tiết kiệm giờ công",
        "pillar": rng.choice(["doi_moi", "sang_tao", "hieu_qua"]),
        "field": "Công tác tổ chức",
        "authors": [{"name": "Nguyễn Văn An", "share": 100}],
        "estimated_benefit_vnd": rng.randint(1, 100) * 1_000_000,
        "first_applied_on": "2025-03-01",
    }


# -- 1. registrations through HTTP --------------------------------------------------------------------

bare = FastAPI()


@bare.post("/initiatives", status_code=201)
async def bare_register(cmd: RegisterInitiative) -> dict[str, Any]:
    return {"initiative_id": str(uuid.uuid4()), "title": cmd.title}


async def _seed_registry(url: str) -> None:
    db = open_database(url)
    await migrate(db)
    async with db.writer.begin() as conn:
        await conn.run_sync(copy_metadata.create_all)
        for path, kind in [
            ("hn", "city_federation"),
            ("hn.ntl", "upper_level_union"),
            ("hn.ntl.fecon", "grassroots_union"),
        ]:
            parent = path.rpartition(".")[0]
            await conn.execute(
                insert(units).values(
                    unit_id=f"u-{path}", code=path.rsplit(".", 1)[-1], name=path, kind=kind,
                    parent_id=f"u-{parent}" if parent else None, path=path, status="active",
                )
            )  # fmt: skip
        # The person the benchmark's token names: a member of Fecon in the registry's copy of the directory.
        await conn.execute(insert(members).values(member_id="bench", unit_id="u-hn.ntl.fecon", full_name="Bench"))
    await db.dispose()


def _serve(target: str, port: int, env: dict[str, str], factory: bool) -> subprocess.Popen[bytes]:
    args = [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--log-level", "warning", "--no-access-log"]
    return subprocess.Popen(
        [*args, *(["--factory"] if factory else [])],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
    )


async def _wait_ready(port: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        for _ in range(300):
            try:
                if (await client.get("/health")).status_code in (200, 404):
                    return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"nothing answers on port {port}")


async def bench_http(work: Path, seconds: float) -> None:
    settings = Settings(local=True)
    url = f"sqlite+aiosqlite:///{work}/registry.db"
    await _seed_registry(url)
    env = {"THIDUA_SERVICE": "registry", "THIDUA_DATABASE_URL": url, "THIDUA_RELAY_ENABLED": "false",
           "THIDUA_LOG_LEVEL": "WARNING", "THIDUA_LOCAL": "true"}  # fmt: skip
    rng = random.Random(7)
    bodies = [body(rng, n) for n in range(2000)]
    headers = {"Authorization": f"Bearer {issue_token(settings, 'bench')}", "Content-Type": "application/json"}
    results = {}
    for run, (name, target, factory) in enumerate([
        ("bare", "tests.benchmarks.registry:bare", False),
        ("registry", "services.registry.entrypoints.main:create_app", True),
    ]):  # fmt: skip
        port = free_port()
        server = _serve(target, port, env, factory)
        try:
            await _wait_ready(port)
            url_ = f"http://127.0.0.1:{port}"
            results[name] = post_load(url_, "/initiatives", bodies, headers, work, seconds=seconds, run=run)
            cpu = _cpu_seconds(server.pid)
        finally:
            server.terminate()
            server.wait(10)
        print(f"  {name:<9} {results[name]}; server CPU {cpu / seconds:.0%} of a core", flush=True)
    reg, bare_ = results["registry"], results["bare"]
    if reg.non_2xx or bare_.non_2xx:
        print(f"  (not 2xx: registry {reg.non_2xx}, bare {bare_.non_2xx}: those rates are not registrations)")
    print(
        f"  registrations/s, HTTP, 64 connections (wrk): {reg.rate:,.0f}/s "
        f"(baseline bare FastAPI endpoint: {bare_.rate:,.0f}/s)  ratio {reg.rate / bare_.rate:.2f}  goal ≥ 0.5",
        flush=True,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- 2. duplicate search ------------------------------------------------------------------------------


def bench_duplicates(count: int) -> None:
    rng = random.Random(11)
    index = DuplicateIndex()
    texts = []
    start = time.perf_counter()
    for n in range(count):
        title, long = text_of(rng)
        texts.append(long)
        index.add(f"i-{n}", f"u-{n % 300}", "hn", title, long)
    built = time.perf_counter() - start
    queries = [fold(rng.choice(texts)) for _ in range(100)] + [text_of(rng)[1] for _ in range(100)]
    samples = []
    for query in queries:
        t0 = time.perf_counter()
        index.search(query, "hn")
        samples.append(time.perf_counter() - t0)
    from services.registry.domain.similarity import features, similarity

    docs = list(index.docs.values())
    brute = []
    for query in queries[:3]:
        t0 = time.perf_counter()
        q = features(query)
        sorted(docs, key=lambda d: -similarity(q, d.features))[:5]
        brute.append(time.perf_counter() - t0)
    print(
        f"  duplicate search, {count:,} initiatives: p95 {p95(samples):.1f} ms, p50 "
        f"{statistics.median(samples) * 1000:.1f} ms "
        f"(baseline brute-force scan: {statistics.median(brute) * 1000:,.0f} ms; "
        f"index built in {built:.1f} s)  goal p95 ≤ 50 ms",
        flush=True,
    )


# -- 3. book query -------------------------------------------------------------------------------------


async def bench_book(work: Path, count: int) -> None:
    db = open_database(f"sqlite+aiosqlite:///{work}/level-hn.ntl.db")
    rng = random.Random(13)
    unit_paths = [f"hn.ntl.g{n}" for n in range(30)]
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.run_sync(membership_metadata.create_all)
        await conn.execute(insert(level_units), [
            {"unit_id": p, "code": p.rsplit(".", 1)[1], "name": f"Công đoàn {p}", "kind": "grassroots_union",
             "parent_id": "hn.ntl", "path": p, "status": "active"} for p in unit_paths
        ])  # fmt: skip
        start = datetime(2024, 1, 1, tzinfo=UTC)
        for chunk in range(0, count, 5000):
            rows, names, words = [], [], []
            for n in range(chunk, min(chunk + 5000, count)):
                title, long = text_of(rng)
                person = demo_people(str(n % 50), 1)[0]["full_name"]
                status = rng.choice(["registered", "under_review", "recognised", "applied", "accepted", "rejected"])
                at = start + timedelta(minutes=n * 7)
                folded = fold(f"{long} {person}")
                words.append((n + 1, f"i-{n}", folded))
                rows.append({
                    "doc": n + 1, "initiative_id": f"i-{n}", "unit_id": unit_paths[n % 30],
                    "unit_path": unit_paths[n % 30],
                    "title": title[:200], "search": folded, "in_book": int(status in IN_BOOK),
                    "pillar": rng.choice(["doi_moi", "sang_tao", "hieu_qua"]),
                    "field": "Công tác tổ chức", "year": at.year, "status": status, "scope": "grassroots",
                    "authors": [{"name": person, "share": 100}], "estimated_benefit_vnd": 1, "benefit_vnd": 1,
                    "scores": 1, "applications": 0, "decision_date": date(at.year, 1, 1), "registered_at": at,
                    "recognised_at": at, "decisions": [], "possible_duplicates": [],
                })  # fmt: skip
                names.append(
                    {"initiative_id": f"i-{n}", "position": 0, "member_id": None, "name": person, "share": 100}
                )
            await conn.execute(insert(book), rows)
            await conn.execute(insert(authors), names)
            await index_search(conn, words)  # what the projection does for each row
    await db.dispose()
    db = open_database(f"sqlite+aiosqlite:///{work}/level-hn.ntl.db")
    filters: list[dict[str, Any]] = [
        {}, {"unit": "hn.ntl.g7"}, {"pillar": "sang_tao"}, {"year": 2025}, {"status": "applied"},
        {"offset": 500}, {"q": "ma qr"}, {"q": "bữa cơm ca", "unit": "hn.ntl.g3"},
        {"scope": "grassroots", "year": 2024},
    ]  # fmt: skip
    samples, base = [], []
    async with db.reader.connect() as conn:
        for _ in range(3):  # warm the page cache, as a running projector's would be
            await read_book(conn)
        for round_ in range(20):
            for f in filters:
                t0 = time.perf_counter()
                await read_book(conn, **f)
                samples.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            list(await conn.execute(select(book).limit(50).offset(round_)))
            base.append(time.perf_counter() - t0)
    await db.dispose()
    print(
        f"  book query, district scope, {count:,} initiatives: p95 {p95(samples):.1f} ms, p50 "
        f"{statistics.median(samples) * 1000:.1f} ms (baseline plain page of 50: {p95(base):.1f} ms p95)  "
        "goal p95 ≤ 50 ms",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="1,2,3")
    args = parser.parse_args()
    only = set(args.only.split(","))
    count = 20_000 if args.quick else 100_000
    print(f"thidua registry benchmark — {os.cpu_count()} cores, Python {sys.version.split()[0]}", flush=True)
    with tempfile.TemporaryDirectory(prefix="thidua-registry-bench-") as tmp:
        work = Path(tmp)
        if "1" in only:
            await bench_http(work, 5 if args.quick else 15)
        if "2" in only:
            bench_duplicates(count)
        if "3" in only:
            await bench_book(work, count)


if __name__ == "__main__":
    asyncio.run(main())
