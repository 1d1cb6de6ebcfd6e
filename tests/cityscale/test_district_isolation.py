"""Per-district isolation at the broker, with ``deploy/nats/accounts.conf`` loaded into a real nats-server.

A district's deployment has its own NATS account (HN_NTL, HN_CG). Its credentials are refused by the
server — a permissions violation, not a check of ours — when they subscribe to another district's
subjects, pull from another district's consumer, create a consumer or read the stream's info. Its level
host runs attach-only (``THIDUA_LEVEL_ATTACH_ONLY``): it binds to the consumers an operator provisioned
(``--provision``, as the city's admin) and serves its district's read model from them; when the operator
provisions a level's consumer anew (after the stream was recreated, or to rebuild the level) the level
starts over from it by itself.
"""

import asyncio
from pathlib import Path

import httpx
import nats
from nats.errors import Error as NatsError
from nats.js.api import AckPolicy, ConsumerConfig

from shared.level_host import copy_filters
from shared.subjects import STREAM
from tests.cityscale.natscluster import NatsCluster
from tests.cityscale.topology import (
    ADMIN,
    Enrolments,
    Proc,
    directory_replica,
    level_host,
    register_districts,
    until_healthy,
)
from tests.platform.helpers import wait_for

PER_UNIT = 6


async def district_units(client: httpx.AsyncClient, host: Proc, level: str) -> dict[str, dict]:
    response = await client.get(f"{host.url}/levels/{level}/directory/units", headers=ADMIN)
    assert response.status_code == 200, response.text
    return {unit["path"]: unit for unit in response.json()["units"]}


async def test_a_district_reads_only_its_consumers_and_its_level_host_attaches_to_them(tmp_path: Path) -> None:
    server = NatsCluster(tmp_path / "nats", size=1).start()
    replica = directory_replica(
        "directory", tmp_path, f"sqlite+aiosqlite:///{tmp_path}/directory.db", server.url("directory")
    )
    db = f"sqlite+aiosqlite:///{tmp_path}/{{projection}}-{{level}}.db"
    attach = {"THIDUA_LEVEL_ATTACH_ONLY": "true"}

    def provision(level: str) -> Proc:  # the operator's step, with the city's admin user
        return level_host(f"provision-{level}", tmp_path, server.url("admin"), [level], db, "--provision", **attach)

    host = level_host("levels-hn.ntl", tmp_path, server.url("hn-ntl"), ["hn.ntl"], db, **attach)
    errors: list[str] = []

    async def on_error(error: Exception) -> None:
        errors.append(str(error))

    district = await nats.connect(server.url("hn-ntl").split(",")[0], error_cb=on_error, name="district")
    try:
        async with httpx.AsyncClient(timeout=20) as client:
            replica.start()
            await until_healthy(client, replica)
            ids = await register_districts(client, replica, "ntl", "cg")
            work = Enrolments(ids["hn"], units=[ids["hn.ntl"], ids["hn.cg"]])
            for n in range(2 * PER_UNIT):
                await work.enrol(client, [replica], n)

            for level in ("hn.ntl", "hn.cg"):
                operator = provision(level).start()
                assert operator.proc is not None and operator.proc.wait(60) == 0, operator.tail()
                assert "directory_level__" + level.replace(".", "_") + ": created" in operator.log.read_text()

            # 1. The attach-only host with the district's credentials (no right to create a consumer).
            host.start()
            await until_healthy(client, host)

            async def projected() -> bool:
                units = await district_units(client, host, "hn.ntl")
                return units.get("hn.ntl", {}).get("member_count") == PER_UNIT

            await wait_for(projected, 30, "the district's enrolments in its attached level")
            units = await district_units(client, host, "hn.ntl")
            assert set(units) == {"hn.ntl"}  # its own subtree only: neither the city's unit nor hn.cg
            other = await client.get(f"{host.url}/levels/hn.cg/directory/units", headers=ADMIN)
            assert other.status_code == 404 and other.json()["field"] == "level"
            health = (await client.get(f"{host.url}/health")).json()["levels"]["hn.ntl"]
            assert health["attach_only"] and health["consumer"] == "directory_level__hn_ntl"
            rebuild = await client.post(f"{host.url}/levels/hn.ntl/rebuild", headers=ADMIN)
            refused = rebuild.json()
            assert rebuild.status_code == 409 and refused["code"] == "conflict" and refused["field"] == "level"
            assert "directory_level__hn_ntl" in refused["detail"] and "--provision" in refused["detail"]

            # 2. The same credentials, refused by the server for everything outside their consumers.
            js = district.jetstream(timeout=1)
            mine = await district.subscribe("thidua.*.*.hn.ntl")
            theirs = await district.subscribe("thidua.*.*.hn.cg")
            everything = await district.subscribe("thidua.>")
            await district.flush()
            refusals = {
                "pull from hn.cg's consumer": js.pull_subscribe_bind(durable="directory_level__hn_cg", stream=STREAM),
                "create a consumer": js.add_consumer(
                    STREAM, ConsumerConfig(filter_subjects=["thidua.*.*.hn.cg.>"], ack_policy=AckPolicy.NONE)
                ),
                "read the stream's info": js.stream_info(STREAM),
                "read a message": js.get_msg(STREAM, 1),  # an hn.cg event is among the first
            }
            for what, call in refusals.items():
                try:
                    result = await call
                    if what.startswith("pull"):
                        await result.fetch(1, timeout=1)  # type: ignore[union-attr]
                except (NatsError, TimeoutError):
                    continue
                raise AssertionError(f"the district could {what}")
            violations = "\n".join(errors).lower()
            for subject in (
                'subscription to "thidua.*.*.hn.cg"',
                'subscription to "thidua.>"',
                'publish to "$js.api.consumer.msg.next.thidua.directory_level__hn_cg"',
                'publish to "$js.api.consumer.create.thidua"',
                'publish to "$js.api.stream.info.thidua"',
                'publish to "$js.api.stream.msg.get.thidua"',
            ):
                assert f"permissions violation for {subject}" in violations, errors

            # 3. The operator provisions the level's consumer anew: the attached level starts over from it.
            admin = await nats.connect(server.url("admin").split(",")[0], name="operator")
            await admin.jetstream().delete_consumer(STREAM, "directory_level__hn_ntl")
            await admin.close()
            for n in range(2 * PER_UNIT, 2 * PER_UNIT + 2):  # one more each while the consumer is away
                await work.enrol(client, [replica], n)
            await asyncio.sleep(0.5)  # the relay has published them: the live subscriptions got theirs
            assert mine.pending_msgs == 1 and theirs.pending_msgs == 0 and everything.pending_msgs == 0
            operator = provision("hn.ntl").start()
            assert operator.proc is not None and operator.proc.wait(60) == 0, operator.tail()

            async def started_over() -> bool:
                health = (await client.get(f"{host.url}/health")).json()["levels"]["hn.ntl"]
                units = await district_units(client, host, "hn.ntl")
                return bool(health["started_over"]) and units["hn.ntl"]["member_count"] == PER_UNIT + 1

            await wait_for(started_over, 30, "the attached level to start over from its new consumer")
            units = await district_units(client, host, "hn.ntl")
            assert units["hn.ntl"]["events_seen"] == PER_UNIT + 2  # registered, and each enrolment once
            assert "is new" in (await client.get(f"{host.url}/health")).json()["levels"]["hn.ntl"]["started_over"][0]
    finally:
        await district.close()
        for proc in (host, replica):
            proc.stop()
        server.stop()


def test_an_attached_copy_of_the_directory_follows_its_levels_and_their_ancestors_once() -> None:
    assert copy_filters(["hn.ntl", "hn.ntl.fecon", "hn.cg"]) == [
        "thidua.directory.*.hn",  # the city's own subjects, once for both districts
        "thidua.directory.*.hn.cg",
        "thidua.directory.*.hn.cg.>",
        "thidua.directory.*.hn.ntl",
        "thidua.directory.*.hn.ntl.>",  # hn.ntl.fecon is inside it: no overlapping filter (JetStream refuses one)
    ]
