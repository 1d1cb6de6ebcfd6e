"""The database goes away under a service: 503 ``unavailable`` with ``Retry-After``, never a 500, then resume.

On PostgreSQL (skipped, naming it, where none is reachable): the directory runs as a real uvicorn process;
its backends are terminated (a restart or a failover) while enrolments arrive, and the database then
refuses connections for a while (ALLOW_CONNECTIONS false). Every enrolment is retried with its
Idempotency-Key until accepted; each lands exactly once.
"""

import asyncio
import sqlite3
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from shared.db import unavailable_reason
from shared.errors import Unavailable
from shared.http import unavailable_problem
from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    directory_replica,
    pg_admin,
    pg_name,
    register_city,
    terminate_backends,
    until_healthy,
)
from tests.natsserver import NatsServer


def test_only_the_database_saying_it_is_out_of_reach_is_an_outage(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER UNIQUE)")
    holder.execute("INSERT INTO t VALUES (1)")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    holder.execute("BEGIN EXCLUSIVE")
    with pytest.raises(DBAPIError) as locked, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (2)"))
    assert "SQLite: database is locked" in (unavailable_reason(locked.value) or "")
    holder.execute("ROLLBACK")
    with pytest.raises(DBAPIError) as duplicate, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (1)"))
    assert unavailable_reason(duplicate.value) is None  # a constraint is the request's fault, not an outage
    assert unavailable_reason(ValueError("bug")) is None
    assert unavailable_reason(ConnectionRefusedError(111, "Connect call failed")) is not None
    engine.dispose()
    holder.close()

    response = unavailable_problem(Unavailable("the database is away", retry_after=2))
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.media_type == "application/problem+json"


@pytest.mark.postgres
async def test_terminated_and_refused_backends_answer_503_then_commands_resume(
    postgres_url: str, nats_server: NatsServer, tmp_path: Path
) -> None:
    replica = directory_replica("directory", tmp_path, postgres_url, nats_server.url).start()
    database = pg_name(postgres_url)
    try:
        async with httpx.AsyncClient(timeout=20) as client, pg_admin() as admin:
            await until_healthy(client, replica)
            work = Enrolments(await register_city(client, replica))

            # 1. Backends terminated under a steady load: pre-ping replaces the dead pooled connections;
            #    a command caught mid-statement answers 503 and its retry lands.
            async def load(first: int, count: int) -> None:
                for n in range(first, first + count):
                    await work.enrol(client, [replica], n)

            steady = asyncio.create_task(load(0, 60))
            for _ in range(3):
                await asyncio.sleep(0.3)
                await terminate_backends(admin, database)
            await steady

            # 2. The database refuses connections for 2 s: every command in the gap is a 503 problem
            #    with Retry-After, none is a 500.
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            await terminate_backends(admin, database)
            gap: list[httpx.Response] = []
            for n in range(5):
                body = {"full_name": f"Trong lúc mất kết nối {n}"}
                gap.append(
                    await client.post(
                        f"{replica.url}/units/{work.unit_id}/members",
                        json=body,
                        headers={**ADMIN, "Idempotency-Key": f"gap-{n}"},
                    )
                )
            reads = await client.get(f"{replica.url}/units/{work.unit_id}", headers=ADMIN)
            await asyncio.sleep(1.0)
            await admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')

            assert [r.status_code for r in gap] == [503] * 5, [r.text for r in gap]
            for response in [*gap, reads]:
                assert response.status_code == 503, response.text
                problem = response.json()
                assert response.headers["content-type"].startswith("application/problem+json")
                assert problem["code"] == "unavailable" and problem["status"] == 503
                assert problem["type"].endswith("/unavailable") and "retry" in problem["detail"]
                assert int(response.headers["Retry-After"]) >= 1

            # 3. Resumed: the refused commands retried with their keys land once, and new ones land.
            for n in range(5):
                body = {"full_name": f"Trong lúc mất kết nối {n}"}
                retried = await client.post(
                    f"{replica.url}/units/{work.unit_id}/members",
                    json=body,
                    headers={**ADMIN, "Idempotency-Key": f"gap-{n}"},
                )
                assert retried.status_code == 201, retried.text
                work.accepted.add(retried.json()["member_id"])
            await load(60, 10)

            assert 500 not in work.statuses, (work.statuses, replica.tail())
            listed = await client.get(f"{replica.url}/units/{work.unit_id}/members?limit=100", headers=ADMIN)
            members = {m["member_id"] for m in listed.json()["items"]}
            assert members == work.accepted and len(members) == 75  # 60 + 5 + 10, each once
            print(f"\noutage: answers during the load {dict(sorted(work.statuses.items()))}")
            assert "answering 503" in replica.log.read_text() or work.statuses.get(503, 0) == 0
    finally:
        async with pg_admin() as admin:
            await admin.execute(f'ALTER DATABASE "{pg_name(postgres_url)}" ALLOW_CONNECTIONS true')
        replica.stop()
