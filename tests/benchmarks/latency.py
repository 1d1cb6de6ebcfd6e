"""Directory commands (run on purpose): ``python -m tests.benchmarks.latency [--seconds 15] [--rate 300 ...]``

1. the ``eventsourcing`` library doing the same command (enrol a member in a unit it loads) in-process
   on SQLite, without and with its aggregate cache — installed into a virtual environment of its own in
   the run's temporary folder (it is no dependency of thidua);
2. thidua's directory over HTTP (uvicorn in its own process, SQLite, relay on to a real nats-server):
   enrolments/s from ``wrk`` with 64 connections, beside 1.'s rates from the same run (goal ≥ the cached);
3. command → level projection latency: enrolments at fixed rates (open loop), each timed from its
   request to the commit of its event in the city's level projection (a real runner): p50/p99 per rate,
   and the highest rate holding p99 ≤ 150 ms (goal ≥ 1,000/s).

``command_to_projection_latency`` is also the foundation benchmark's part 4. ``--py-spy OUT`` records a
profile of the service during round 1's wrk run (collapsed stacks: ``sort | uniq``-able, flamegraph-able).
"""

import argparse
import asyncio
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop

from services.directory.adapters.level import DirectoryLevelProjection
from shared.auth import issue_token
from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.benchmarks.wrk import post_load
from tests.natsserver import NatsServer, free_port

REPO = Path(__file__).resolve().parents[2]


class StampingRunner(ProjectionRunner):
    """The real runner, noting when each member's enrolment was committed to the read model."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.committed_at: dict[str, float] = {}

    async def _apply_batch(self, msgs: Any) -> None:
        await super()._apply_batch(msgs)
        now = time.perf_counter()
        for msg in msgs:
            if b'"MemberEnrolled"' in msg.data:
                member_id = msg.headers and msg.data.split(b'"member_id":"', 1)[1].split(b'"', 1)[0].decode()
                self.committed_at.setdefault(member_id, now)


@contextlib.asynccontextmanager
async def directory_service(work: Path) -> AsyncIterator[tuple[int, str, str, str, Settings, list[int]]]:
    """nats-server, the directory under uvicorn in its own process (SQLite, relay on), a city and a
    district registered: yields (port, token, district id, NATS URL, settings, the two processes' pids)."""
    work.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - before any load starts
    server = NatsServer(work / "latency-js").start()
    port = free_port()
    settings = Settings(service="directory", nats_url=server.url, relay_idle_poll_seconds=0.05, local=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "THIDUA_SERVICE": "directory",
        "THIDUA_NATS_URL": server.url,
        "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{work}/latency-directory.db",
        "THIDUA_LOG_LEVEL": "WARNING",
        "THIDUA_LOCAL": "true",  # the repository's signing secret; "admin" is the platform operator
    }
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "uvicorn", "--factory", "services.directory.entrypoints.main:create_app",
        "--port", str(port), "--log-level", "warning", "--no-access-log",
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _wait_port(port)
        token = issue_token(settings, "admin")
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers) as client:
            await client.post("/units", json={"code": "hn", "name": "Hà Nội", "kind": "city_federation"})
            city = (await client.get("/units/by-path/hn")).json()["unit_id"]
            body = {"code": "ntl", "name": "Nam Từ Liêm", "kind": "upper_level_union", "parent_id": city}
            district = (await client.post("/units", json=body)).json()["unit_id"]
        assert server.process is not None
        yield port, token, district, server.url, settings, [service.pid, server.process.pid]
    finally:
        service.terminate()
        await service.wait()
        server.stop()


async def command_to_projection_latency(work: Path, *, seconds: float, rate: int) -> tuple[list[float], int, int]:
    async with directory_service(work) as (port, token, district, nats_url, settings, pids):
        return await _latency_at(work, port, token, district, nats_url, settings, seconds=seconds, rate=rate, pids=pids)


async def _latency_at(
    work: Path,
    port: int,
    token: str,
    district: str,
    nats_url: str,
    settings: Settings,
    *,
    seconds: float,
    rate: int,
    pids: Sequence[int] = (),
) -> tuple[list[float], int, int]:
    """Enrolments at ``rate``/s for ``seconds`` (open loop); the time from each request's start to the
    commit of its event in the city's level projection (a real runner in this process). Prints the CPU
    each process spent per command (the service, nats-server, and this one: load generator and runner),
    since on 2 shared cores a latency is mostly a wait for a core."""
    level = open_database(f"sqlite+aiosqlite:///{work}/latency-level-{rate}.db")
    nc, js = await connect(nats_url, "latency")
    stop = asyncio.Event()
    try:
        await ensure_streams(js, settings)
        runner = StampingRunner(DirectoryLevelProjection(), "hn", level, js, settings, durable=f"latency_{rate}")
        await runner.start()
        await runner.catch_up(idle_timeout=0.3)  # the units and any earlier run's members: not timed
        consuming = asyncio.create_task(runner.run(stop))

        sent_at: dict[str, float] = {}
        answered: list[float] = []
        errors = 0

        pool = RawHttpPool(port, token)
        await pool.start()

        async def enrol(n: int) -> None:
            nonlocal errors
            started = time.perf_counter()
            status, body = await pool.post(f"/units/{district}/members", {"full_name": f"Đoàn viên {rate}-{n}"})
            if status != 201:
                errors += 1
                return
            sent_at[orjson.loads(body)["member_id"]] = started
            answered.append(time.perf_counter() - started)

        total = int(seconds * rate)
        cpu_before = [cpu_seconds(pid) for pid in pids] + [time.process_time()]
        begin = time.perf_counter()
        tasks = []
        for n in range(total):  # open loop: a fixed rate whatever the latency
            delay = begin + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(enrol(n)))
        await asyncio.gather(*tasks)
        await pool.close()
        deadline = time.perf_counter() + 15
        while time.perf_counter() < deadline and not set(sent_at) <= set(runner.committed_at):  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        stop.set()
        await consuming
        cpu_used = [
            after - before
            for after, before in zip(
                [cpu_seconds(pid) for pid in pids] + [time.process_time()], cpu_before, strict=True
            )
        ]
        latencies = [runner.committed_at[m] - t for m, t in sent_at.items() if m in runner.committed_at]
        answered.sort()
        if answered:
            per = [f"{used / total * 1e6:,.0f} µs" for used in cpu_used]
            names = ["service", "nats-server", "load generator + runner"][-len(per) :]
            print(f"  (HTTP response p50 {answered[len(answered) // 2] * 1000:.1f} ms, "
                  f"p99 {answered[max(int(len(answered) * 0.99) - 1, 0)] * 1000:.1f} ms; CPU per command: "
                  + ", ".join(f"{name} {value}" for name, value in zip(names, per, strict=True))
                  + f"; load {_load()})")  # fmt: skip
        return latencies, total, errors
    finally:
        stop.set()
        await nc.close()
        await level.dispose()


class RawHttpPool:
    """Keep-alive HTTP/1.1 POSTs over plain asyncio streams: httpx costs more CPU per request than the
    service does, and on 2 cores the load generator must not be what is measured."""

    def __init__(self, port: int, token: str, connections: int = 32) -> None:
        self.port, self.token, self.size = port, token, connections
        self.queue: asyncio.Queue[tuple[str, bytes, asyncio.Future[tuple[int, bytes]]]] = asyncio.Queue()
        self.workers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.workers = [asyncio.create_task(self._worker()) for _ in range(self.size)]

    async def close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        await asyncio.gather(*self.workers, return_exceptions=True)

    async def post(self, path: str, body: dict[str, Any]) -> tuple[int, bytes]:
        future: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((path, orjson.dumps(body), future))
        return await future

    async def _worker(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            while True:
                path, payload, future = await self.queue.get()
                head = (
                    f"POST {path} HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {self.token}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
                )
                writer.write(head.encode() + payload)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                future.set_result((int(status_line.split()[1]), body))
        finally:
            writer.close()


async def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the directory service did not listen on {port}")


# -- the eventsourcing library beside it ----------------------------------------------------------------

EVENTSOURCING = """
import os, sys, time
from uuid import UUID
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Unit(Aggregate):
    @event("Registered")
    def __init__(self, code: str, name: str, parent_id: "UUID | None") -> None:
        self.code, self.name, self.parent_id = code, name, parent_id


class Member(Aggregate):
    @event("Enrolled")
    def __init__(self, unit_id: UUID, full_name: str) -> None:
        self.unit_id, self.full_name = unit_id, full_name


class Directory(Application):
    def register(self, code: str, name: str, parent_id: "UUID | None" = None) -> UUID:
        unit = Unit(code, name, parent_id)
        self.save(unit)
        return unit.id

    def enrol(self, unit_id: UUID, full_name: str) -> UUID:
        unit = self.repository.get(unit_id)  # the unit must exist (as the directory checks)
        member = Member(unit.id, full_name)
        self.save(member)
        return member.id


count, folder, run = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for label, cache in (("no cache", None), ("aggregate cache", "1000")):
    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": f"{folder}/es-{run}-{cache}.db"}
    if cache:
        env["AGGREGATE_CACHE_MAXSIZE"] = cache
    app = Directory(env=env)
    city = app.register("hn", "Ha Noi")
    district = app.register("ntl", "Nam Tu Liem", city)
    start, cpu = time.perf_counter(), time.process_time()
    for n in range(count):
        app.enrol(district, f"Doan vien {n}")
    print(f"{label}\\t{count / (time.perf_counter() - start):.1f}", flush=True)
    print(f"{label} cpu\\t{count / (time.process_time() - cpu):.1f}", flush=True)
"""


def eventsourcing_venv(work: Path) -> tuple[Path, str]:
    """A virtual environment of its own with the ``eventsourcing`` library: (its python, the version)."""
    venv = work / "es-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q", "eventsourcing"]
    subprocess.run(pip, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    version = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('eventsourcing'))"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    (work / "es_directory.py").write_text(EVENTSOURCING)
    return python, version


def eventsourcing_rates(python: Path, work: Path, count: int, run: int) -> dict[str, float]:
    """Enrolments/s of the same command in the ``eventsourcing`` library, in-process on SQLite, without and
    with its aggregate cache."""
    out = subprocess.run(
        [str(python), str(work / "es_directory.py"), str(count), str(work), str(run)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return {label: float(rate) for label, rate in (line.split("\t") for line in out.strip().splitlines())}


def py_spy(pid: int, out: str, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy (``pip install py-spy`` into the venv) sampling ``pid`` for ``seconds`` into ``out``."""
    binary = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [binary, "record", "-p", str(pid), "-o", out, "-f", "raw", "-r", "200", "-d", str(int(seconds))]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a running process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each wrk run and each rate")
    parser.add_argument("--rate", type=int, action="append", help="commands/s for the latency runs (repeatable)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--es-count", type=int, default=5000, help="enrolments the eventsourcing library runs")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 1. and 2.")
    parser.add_argument("--only", default="1,2,3")
    parser.add_argument("--py-spy", help="a py-spy profile (raw, collapsed stacks) of the service in round 1's wrk run")
    args = parser.parse_args()
    only = set(args.only.split(","))
    print(f"thidua directory commands — {os.cpu_count()} cores, Python {sys.version.split()[0]}, load {_load()}")
    with tempfile.TemporaryDirectory(prefix="thidua-bench-latency-") as tmp:
        work = Path(tmp)
        python, version = eventsourcing_venv(work) if "1" in only else (Path(), "")
        async with directory_service(work / "service") as (port, token, district, nats_url, settings, pids):
            headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            bodies = [{"full_name": f"Đoàn viên {n}"} for n in range(1000)]
            url = f"http://127.0.0.1:{port}"
            # The machine is shared: each round runs the library and then thidua right after it, and the
            # ratio is taken within the round.
            for round_ in range(args.rounds if {"1", "2"} <= only else 0):
                es = await asyncio.to_thread(eventsourcing_rates, python, work, args.es_count, round_)
                cpu = [cpu_seconds(pid) for pid in pids]
                spy = py_spy(pids[0], args.py_spy, args.seconds) if args.py_spy and round_ == 0 else None
                result = post_load(url, f"/units/{district}/members", bodies, headers, work,
                                   connections=args.connections, seconds=args.seconds, run=round_)  # fmt: skip
                used = [cpu_seconds(pid) - before for pid, before in zip(pids, cpu, strict=True)]
                per_cpu = result.requests / max(sum(used), 1e-9)
                if spy is not None:
                    spy.wait()
                cached, plain = es["aggregate cache"], es["no cache"]
                print(f"  round {round_ + 1}: eventsourcing {version} in-process on SQLite ({args.es_count:,}"
                      f" enrolments): {plain:,.0f}/s, with its aggregate cache {cached:,.0f}/s; per CPU second"
                      f" {es['no cache cpu']:,.0f} and {es['aggregate cache cpu']:,.0f}; load {_load()}")  # fmt: skip
                print(f"    thidua enrolments over HTTP, relay on, {args.connections} connections (wrk): {result};"
                      f" {per_cpu:,.0f} per CPU second of the service and nats-server (CPU per command:"
                      f" service {used[0] / max(result.requests, 1) * 1e6:,.0f} µs, nats-server"
                      f" {used[1] / max(result.requests, 1) * 1e6:,.0f} µs)")  # fmt: skip
                print(f"    ratio thidua / eventsourcing cached {result.rate / cached:.2f} (per CPU second"
                      f" {per_cpu / es['aggregate cache cpu']:.2f}), uncached {result.rate / plain:.2f} (per CPU"
                      f" second {per_cpu / es['no cache cpu']:.2f})  goal ≥ 1.0 of the cached rate",
                      flush=True)  # fmt: skip
            if "3" in only:
                holding = 0
                for rate in args.rate or [300, 600, 1000]:
                    latencies, sent, errors = await _latency_at(
                        work, port, token, district, nats_url, settings, seconds=args.seconds, rate=rate, pids=pids
                    )
                    if not latencies:
                        print(f"  3. at {rate}/s: no command reached the projection ({errors} errors)")
                        continue
                    ordered = sorted(latencies)
                    p50 = statistics.median(ordered) * 1000
                    p99 = ordered[max(int(len(ordered) * 0.99) - 1, 0)] * 1000
                    ok = p99 <= 150 and len(latencies) == sent
                    holding = max(holding, rate) if ok else holding
                    print(f"  3. command → city level projection at {rate}/s, {args.seconds:.0f} s: p50 {p50:.1f} ms,"
                          f" p99 {p99:.1f} ms ({len(latencies)}/{sent} projected, {errors} errors)"
                          f"  goal p99 ≤ 150 ms", flush=True)  # fmt: skip
                    if not ok:  # a higher rate only builds a longer queue
                        break
                print(f"     highest rate holding p99 ≤ 150 ms: {holding or 'none'}/s  goal ≥ 1,000/s")
    print(f"  load average after: {_load()}")


if __name__ == "__main__":
    # uvloop (as uvicorn runs the service on): the load generator shares this process with the runner,
    # and on 2 shared cores its CPU per command is time the service and the runner wait for a core.
    # (A level host runs its runner on asyncio's own loop: the runner here costs a little less.)
    uvloop.run(main())
