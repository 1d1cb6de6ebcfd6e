"""The production topology on one machine: directory replicas on PostgreSQL, level hosts, NATS, one at a time.

Every process is real (uvicorn, the level host CLI, nats-server from the wheel); each writes its log to a
file in the test's folder, which a failing assertion can quote.
"""

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from shared.settings import Settings
from shared.tokens import issue_token
from tests.conftest import PG_ADMIN_DSN
from tests.natsserver import free_port
from tests.platform.helpers import REPO, wait_for

ADMIN = {"Authorization": f"Bearer {issue_token(Settings(local=True), 'admin')}"}


def pg_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


@asynccontextmanager
async def pg_admin() -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        yield conn
    finally:
        await conn.close()


async def terminate_backends(admin: asyncpg.Connection, database: str) -> int:
    """Kill every session of ``database`` (what a PostgreSQL restart or failover does to a service)."""
    return len(
        await admin.fetch(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            database,
        )
    )


@dataclass
class Proc:
    name: str
    args: list[str]
    env: dict[str, str]
    log: Path
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None
    started: list[float] = field(default_factory=list)

    def start(self) -> "Proc":
        handle = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.args,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO), **self.env},
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()
        self.started.append(time.monotonic())
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    @staticmethod
    def stop_all(procs: "list[Proc]") -> None:
        """Terminate every process, then wait for each: a graceful stop takes seconds, not one after another."""
        for proc in procs:
            if proc.alive:
                assert proc.proc is not None
                proc.proc.terminate()
        for proc in procs:
            proc.stop()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ---\n" + "\n".join(text.splitlines()[-lines:])


def service_replica(service: str, name: str, tmp: Path, database_url: str, nats_url: str, **env: str) -> Proc:
    """One replica of ``service`` (uvicorn, its relay inside) on its store, as its own NATS user."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "--factory", f"services.{service}.entrypoints.main:create_app"]
    return Proc(
        name,
        [*args, "--port", str(port), "--no-access-log"],
        {
            "THIDUA_LOCAL": "true",
            "THIDUA_SERVICE": service,
            "THIDUA_DATABASE_URL": database_url,
            "THIDUA_NATS_URL": nats_url,
            "THIDUA_LOG_JSON": "false",
            "THIDUA_RELAY_IDLE_POLL_SECONDS": "0.05",
            "THIDUA_DATABASE_POOL_SIZE": "4",  # ten replicas and the level hosts share one server's 100
            **env,
        },
        tmp / f"{name}.log",
        port,
    )


def directory_replica(name: str, tmp: Path, database_url: str, nats_url: str, **env: str) -> Proc:
    return service_replica("directory", name, tmp, database_url, nats_url, **env)


def level_host(name: str, tmp: Path, nats_url: str, levels: list[str], db: str, *extra: str, **env: str) -> Proc:
    """The directory's level host for ``levels`` (``extra``: more arguments, e.g. ``--provision``)."""
    port = free_port()
    args = [sys.executable, "-m", "services.directory.entrypoints.projector"]
    for level in levels:
        args += ["--level", level]
    return Proc(
        name,
        [*args, "--db", db, "--port", str(port), *extra],
        {
            "THIDUA_LOCAL": "true",
            "THIDUA_NATS_URL": nats_url,
            "THIDUA_LOG_JSON": "false",
            "THIDUA_DATABASE_POOL_SIZE": "4",
            **env,
        },
        tmp / f"{name}.log",
        port,
    )


async def until_healthy(client: httpx.AsyncClient, proc: Proc, seconds: float = 60) -> None:
    async def answers() -> bool:
        if not proc.alive:
            raise AssertionError(f"{proc.name} exited\n{proc.tail()}")
        try:
            return (await client.get(f"{proc.url}/health")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(answers, seconds, f"{proc.name} to answer")


async def register_city(client: httpx.AsyncClient, replica: Proc, code: str = "hn") -> str:
    body = {"code": code, "name": "Hà Nội", "kind": "city_federation"}
    response = await client.post(f"{replica.url}/units", json=body, headers={**ADMIN, "Idempotency-Key": code})
    assert response.status_code == 201, response.text
    return response.json()["unit_id"]


async def register_districts(client: httpx.AsyncClient, replica: Proc, *codes: str) -> dict[str, str]:
    """The city ``hn`` and a district federation per code (``hn.<code>``): unit ids by path."""
    ids = {"hn": await register_city(client, replica)}
    for code in codes:
        body = {"code": code, "name": f"LĐLĐ quận {code}", "kind": "upper_level_union", "parent_id": ids["hn"]}
        headers = {**ADMIN, "Idempotency-Key": f"hn.{code}"}
        response = await client.post(f"{replica.url}/units", json=body, headers=headers)
        assert response.status_code == 201, response.text
        ids[f"hn.{code}"] = response.json()["unit_id"]
    return ids


@dataclass
class Enrolments:
    """Enrolments sent with an Idempotency-Key each, retried (same key) until one answer is a 201; the
    n-th goes to ``unit_id``, or to ``units[n % len(units)]`` when several are given."""

    unit_id: str
    units: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    accepted: set[str] = field(default_factory=set)
    refusals: list[str] = field(default_factory=list)

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1

    async def enrol(self, client: httpx.AsyncClient, replicas: list[Proc], n: int, deadline: float = 60) -> None:
        key = str(uuid.uuid4())
        body = {"full_name": f"Đoàn viên {n}"}
        give_up = time.monotonic() + deadline
        attempt = 0
        while time.monotonic() < give_up:
            replica = replicas[(n + attempt) % len(replicas)]  # a retry goes to the next replica
            attempt += 1
            try:
                unit_id = self.units[n % len(self.units)] if self.units else self.unit_id
                response = await client.post(
                    f"{replica.url}/units/{unit_id}/members",
                    json=body,
                    headers={**ADMIN, "Idempotency-Key": key},
                )
            except httpx.HTTPError:  # the replica is down (killed): try the other one
                self.count(0)
                await asyncio.sleep(0.1)
                continue
            self.count(response.status_code)
            if response.status_code == 201:
                self.accepted.add(response.json()["member_id"])
                return
            if response.status_code == 503:
                problem = response.json()
                assert problem["code"] == "unavailable" and response.headers["Retry-After"].isdigit(), response.text
                await asyncio.sleep(min(float(response.headers["Retry-After"]), 0.5))
                continue
            self.refusals.append(f"{response.status_code} {response.text}")
            raise AssertionError(f"enrolment {n} answered {response.status_code}: {response.text}")
        raise AssertionError(f"enrolment {n} not accepted within {deadline}s ({self.statuses})")


async def lease_holder(admin: asyncpg.Connection, database: str, name: str = "relay") -> int | None:
    """The PostgreSQL backend pid holding the relay lease of ``database``'s store, if any."""
    from shared.relay import lease_key

    key = lease_key(name)
    return await admin.fetchval(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' "
        "AND l.granted AND d.datname = $1 AND l.classid::bigint = $2 AND l.objid::bigint = $3 AND l.objsubid = 1",
        database,
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )


async def stored_event_ids(database_url: str) -> list[str]:
    """Every event id of a store, in its global order (what the stream must hold, once each)."""
    from shared.db import open_database
    from shared.eventstore.schema import events

    db = open_database(database_url)
    try:
        async with db.reader.connect() as conn:
            from sqlalchemy import select

            return list((await conn.scalars(select(events.c.event_id).order_by(events.c.position))).all())
    finally:
        await db.dispose()


async def stream_event_ids(nats_url: str, service: str = "directory") -> list[str]:
    from shared.messaging import H_MSG_ID, connect
    from shared.runner import read_messages
    from shared.subjects import ROOT, STREAM

    nc, js = await connect(nats_url, "test-reader")
    try:
        return [m.headers[H_MSG_ID] for m in await read_messages(js, STREAM, [f"{ROOT}.{service}.>"])]
    finally:
        await nc.close()
