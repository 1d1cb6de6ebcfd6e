"""Command → projection latency: HTTP commands at a fixed rate into the directory service (its own
process, real relay), measured until a real level projector has committed each resulting event."""

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from services.directory.adapters.level import DirectoryLevelProjection
from shared.auth import issue_token
from shared.db import open_database
from shared.messaging import connect, ensure_streams
from shared.runner import ProjectionRunner
from shared.settings import Settings
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


async def command_to_projection_latency(work: Path, *, seconds: float, rate: int) -> tuple[list[float], int, int]:
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
        "--port", str(port), "--log-level", "warning",
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    level = open_database(f"sqlite+aiosqlite:///{work}/latency-level.db")
    nc, js = await connect(server.url, "latency")
    stop = asyncio.Event()
    try:
        await _wait_port(port)
        token = issue_token(settings, "admin")
        headers = {"Authorization": f"Bearer {token}"}
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits) as client:
            await client.post("/units", json={"code": "hn", "name": "Hà Nội", "kind": "city_federation"})
            city = (await client.get("/units/by-path/hn")).json()["unit_id"]
            body = {"code": "ntl", "name": "Nam Từ Liêm", "kind": "upper_level_union", "parent_id": city}
            district = (await client.post("/units", json=body)).json()["unit_id"]
            await ensure_streams(js, settings)
            runner = StampingRunner(DirectoryLevelProjection(), "hn", level, js, settings)
            await runner.start()
            consuming = asyncio.create_task(runner.run(stop))

            sent_at: dict[str, float] = {}
            answered: list[float] = []
            errors = 0

            pool = RawHttpPool(port, token)
            await pool.start()

            async def enrol(n: int) -> None:
                nonlocal errors
                started = time.perf_counter()
                status, body = await pool.post(f"/units/{district}/members", {"full_name": f"Đoàn viên {n}"})
                if status != 201:
                    errors += 1
                    return
                sent_at[orjson.loads(body)["member_id"]] = started
                answered.append(time.perf_counter() - started)

            total = int(seconds * rate)
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
        latencies = [runner.committed_at[m] - t for m, t in sent_at.items() if m in runner.committed_at]
        answered.sort()
        print(f"  (HTTP response p50 {answered[len(answered) // 2] * 1000:.1f} ms, "
              f"p99 {answered[int(len(answered) * 0.99) - 1] * 1000:.1f} ms)")  # fmt: skip
        return latencies, total, errors
    finally:
        stop.set()
        await nc.close()
        await level.dispose()
        service.terminate()
        await service.wait()
        server.stop()


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
