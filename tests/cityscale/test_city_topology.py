"""The whole production topology on one machine, under a steady load, through three faults.

Every service runs as two replicas on PostgreSQL (each service its own database, created here); the
three-node NATS cluster from ``deploy/nats/`` holds the streams at R3; level hosts serve the city (the
directory's user, creating its consumers) and two districts (each under its district's own account,
attach-only, on consumers the operator provisioned). Enrolments arrive through both directory replicas
at a steady pace, each with an Idempotency-Key and retried on the other replica until accepted, while:

1. the stream's leader node is SIGKILLed and restarted;
2. the directory replica holding the relay lease is SIGKILLed (the other takes the lease);
3. the directory's PostgreSQL backends are terminated (503 with Retry-After, never a 500, then resume).

At the end: every command accepted, the stream holds each stored event once in the store's order, and
every level's read model counts each enrolment once. Skipped, naming PostgreSQL, where none is reachable.
"""

import asyncio
import time
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from nats.errors import Error as NatsError

from shared.messaging import connect
from shared.subjects import STREAM
from tests.cityscale.natscluster import NatsCluster
from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    Proc,
    lease_holder,
    level_host,
    pg_admin,
    pg_name,
    register_districts,
    service_replica,
    stored_event_ids,
    stream_event_ids,
    terminate_backends,
    until_healthy,
)
from tests.conftest import fresh_postgres_database
from tests.platform.helpers import wait_for

pytestmark = pytest.mark.postgres

SERVICES = ("directory", "registry", "pledges", "inspections", "awards")
DISTRICTS = ("ntl", "cg")
COMMANDS = 150


async def level_units(client: httpx.AsyncClient, host: Proc, level: str) -> dict[str, dict]:
    try:
        response = await client.get(f"{host.url}/levels/{level}/directory/units", headers=ADMIN)
    except httpx.HTTPError:
        return {}
    return {u["path"]: u for u in response.json().get("units", [])} if response.status_code == 200 else {}


async def test_the_city_topology_under_load_through_three_faults_loses_and_doubles_nothing(tmp_path: Path) -> None:
    began = time.monotonic()
    async with AsyncExitStack() as stack, httpx.AsyncClient(timeout=20) as client:
        databases = {
            name: await stack.enter_async_context(fresh_postgres_database())
            for name in (*SERVICES, "levels_hn", *(f"levels_hn_{d}" for d in DISTRICTS))
        }
        cluster = NatsCluster(tmp_path / "nats", hashed=False)
        stack.callback(cluster.stop)
        await asyncio.to_thread(cluster.start)
        procs: list[Proc] = []
        stack.callback(Proc.stop_all, procs)

        def started(proc: Proc) -> Proc:
            procs.append(proc)
            return proc.start()

        r3 = {"THIDUA_STREAM_REPLICAS": "3"}

        def replica(service: str, i: int) -> Proc:
            url, nats_url = databases[service], cluster.url(service)
            return service_replica(service, f"{service}-{i}", tmp_path, url, nats_url, **r3, **lease_poll)

        # The directory first (it creates the streams at R3), then the rest at once: twelve Python processes
        # and their bcrypt-checked connections starting together starve a two-core machine's JetStream API.
        lease_poll = {"THIDUA_RELAY_LEASE_POLL_SECONDS": "0.2"}
        replicas = {"directory": [started(replica("directory", i)) for i in range(2)]}
        directory = replicas["directory"]
        for proc in directory:
            await until_healthy(client, proc, 90)
        replicas |= {service: [started(replica(service, i)) for i in range(2)] for service in SERVICES[1:]}
        ids = await register_districts(client, directory[0], *DISTRICTS)
        hosts = {
            "hn": started(
                level_host("levels-hn", tmp_path, cluster.url("directory"), ["hn"], databases["levels_hn"], **r3)
            )
        }
        attach = {"THIDUA_LEVEL_ATTACH_ONLY": "true", **r3}
        unused = f"sqlite+aiosqlite:///{tmp_path}/provisioning.db"  # provisioning opens no database
        provisions = [
            started(
                level_host(
                    f"provision-hn.{d}", tmp_path, cluster.url("admin"), [f"hn.{d}"], unused, "--provision", **attach
                )
            )
            for d in DISTRICTS
        ]
        for d, proc in zip(DISTRICTS, provisions, strict=True):  # each district's host once its consumers exist
            assert proc.proc is not None and await asyncio.to_thread(proc.proc.wait, 90) == 0, proc.tail()
            nats_url, db = cluster.url(f"hn-{d}"), databases[f"levels_hn_{d}"]
            hosts[f"hn.{d}"] = started(level_host(f"levels-hn.{d}", tmp_path, nats_url, [f"hn.{d}"], db, **attach))
        for proc in [*(r for s in SERVICES[1:] for r in replicas[s]), *hosts.values()]:
            await until_healthy(client, proc, 90)
        nc, js = await connect(cluster.url("admin"), "test-admin")
        stack.push_async_callback(nc.close)

        async def replicated() -> bool:  # the stream at R3, its two followers current
            try:
                info = await js.stream_info(STREAM)
            except NatsError:
                return False
            followers = info.cluster.replicas or []
            return info.config.num_replicas == 3 and len(followers) == 2 and all(r.current for r in followers)

        await wait_for(replicated, 60, "the stream at three current replicas")
        ready = time.monotonic() - began

        units = [ids["hn"], *(ids[f"hn.{d}"] for d in DISTRICTS)]
        work = Enrolments(ids["hn"], units=units)

        async def worker(first: int) -> None:  # two clients, a steady pace, a bounded count
            for n in range(first, COMMANDS, 2):
                await work.enrol(client, directory, n)
                await asyncio.sleep(0.03)

        async def accepted(count: int) -> None:
            async def enough() -> bool:
                return len(work.accepted) >= count

            await wait_for(enough, 60, f"{count} enrolments accepted")

        load_began = time.monotonic()
        load = asyncio.gather(worker(0), worker(1))
        async with pg_admin() as admin:
            database = pg_name(databases["directory"])

            # 1. The stream's leader node SIGKILLed, restarted 2 s later.
            await accepted(COMMANDS // 5)
            leader = (await js.stream_info(STREAM)).cluster.leader
            victim = int(leader.rsplit("-", 1)[1]) - 1
            killed = time.monotonic()
            cluster.kill(victim)
            await asyncio.sleep(2.0)
            await asyncio.to_thread(cluster.start, victim)
            node_back = time.monotonic() - killed

            # 2. The directory replica holding the relay lease SIGKILLed: the other takes the lease.
            await accepted(2 * COMMANDS // 5)

            async def holders() -> list[Proc]:
                found = []
                for replica in directory:
                    try:
                        health = (await client.get(f"{replica.url}/health", headers=ADMIN)).json()
                    except httpx.HTTPError:  # killed, or too busy to answer now: not a holder we can see
                        continue
                    found += [replica] if health.get("relay") is not None else []
                return found

            async def one_holder() -> bool:
                return len(await holders()) == 1 and await lease_holder(admin, database) is not None

            await wait_for(one_holder, 30, "one directory replica to hold the relay lease")
            (holder,) = await holders()
            before = await lease_holder(admin, database)
            killed = time.monotonic()
            holder.kill()

            async def taken_over() -> bool:
                now = await lease_holder(admin, database)
                return now is not None and now != before

            await wait_for(taken_over, 30, "the surviving directory replica to take the relay lease")
            takeover = time.monotonic() - killed

            # 3. The directory's PostgreSQL backends terminated, twice, under the load.
            await accepted(3 * COMMANDS // 5)
            terminated = 0
            for _ in range(2):
                terminated += await terminate_backends(admin, database)
                await asyncio.sleep(0.3)
            await load
        load_took = time.monotonic() - load_began

        stored = await stored_event_ids(databases["directory"])

        async def stream_complete() -> bool:
            try:
                return len(await stream_event_ids(cluster.url("admin"))) >= len(stored)
            except NatsError:  # the restarted node catching up: JetStream may answer 503 meanwhile
                return False

        await wait_for(stream_complete, 60, "every stored event in the stream")
        in_stream = await stream_event_ids(cluster.url("admin"))

        expected = {
            path: len(range(i, COMMANDS, len(units))) for i, path in enumerate(["hn", *(f"hn.{d}" for d in DISTRICTS)])
        }

        async def every_level_counted() -> bool:
            city = await level_units(client, hosts["hn"], "hn")
            if any(city.get(path, {}).get("member_count") != n for path, n in expected.items()):
                return False
            for d in DISTRICTS:
                level = f"hn.{d}"
                if (await level_units(client, hosts[level], level)).get(level, {}).get("member_count") != expected[
                    level
                ]:
                    return False
            return True

        try:
            await wait_for(every_level_counted, 60, "every level's read model to count every enrolment")
        except AssertionError as timed_out:  # what each level counted, and what its host said, for the reader
            seen = {level: await level_units(client, host, level) for level, host in hosts.items()}
            counted = {level: {p: (u.get("member_count"), u.get("events_seen")) for p, u in units.items()}
                       for level, units in seen.items()}  # fmt: skip
            tails = "\n".join(host.tail(15) for host in hosts.values())
            raise AssertionError(f"{timed_out}: expected {expected}, counted {counted}\n{tails}") from None
        city = await level_units(client, hosts["hn"], "hn")
        districts = {f"hn.{d}": (await level_units(client, hosts[f"hn.{d}"], f"hn.{d}"))[f"hn.{d}"] for d in DISTRICTS}
        print(
            f"\ncity topology: {len(SERVICES)} services × 2 replicas on PostgreSQL, NATS ×3 (R3), level hosts "
            f"hn + {' + '.join(districts)} (attached); ready in {ready:.0f} s; {COMMANDS} enrolments in "
            f"{load_took:.1f} s through: NATS {leader} (stream leader) SIGKILLed, back in {node_back:.1f} s; "
            f"relay lease holder {holder.name} SIGKILLed, lease taken in {takeover * 1000:.0f} ms (poll 0.2 s); "
            f"{terminated} PostgreSQL backends terminated; answers {dict(sorted(work.statuses.items()))}; "
            f"{len(stored)} events; {time.monotonic() - began:.0f} s in all"
        )
        assert len(work.accepted) == COMMANDS  # 0 commands lost
        assert in_stream == stored  # 0 events missing or doubled in the stream, in the store's order
        for path, members in expected.items():  # each enrolment applied once at every level that holds it
            assert city[path]["member_count"] == members and city[path]["events_seen"] == members + 1, city[path]
        for path, unit in districts.items():
            assert unit["member_count"] == expected[path] and unit["events_seen"] == expected[path] + 1, unit
        assert 500 not in work.statuses, [p.tail() for p in directory]
        assert [r for r in directory if r.alive] == [r for r in directory if r is not holder]
        assert await holders() == [r for r in directory if r is not holder]  # the survivor publishes
        for proc in procs:
            assert proc.alive or proc is holder or proc in provisions, proc.tail()
