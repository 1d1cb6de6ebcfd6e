"""What the directory keeps in memory between commands (who is calling, where a unit sits, verified
tokens) changes as soon as the directory does: a role revoked, a unit moved or merged, a token expired;
and a command refused before its commit still answers a retried Idempotency-Key with its stored response."""

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.directory.entrypoints.main import create_app
from shared.auth import issue_token
from shared.settings import Settings
from shared.tokens import token_expiry
from tests.directory.directory_helpers import Driver, bearer, event_count
from tests.directory.test_directory_api import refused
from tests.people import person_id


@pytest.fixture
async def tree(driver: Driver) -> dict[str, str]:
    paths = [("hn", "city_federation"), ("hn.ntl", "upper_level_union"), ("hn.dd", "upper_level_union"),
             ("hn.ntl.fecon", "grassroots_union"), ("hn.ntl.vnpt", "grassroots_union")]  # fmt: skip
    return {path: await driver.register(path, kind) for path, kind in paths}


def officer_of(tree: dict[str, str], path: str) -> str:
    return person_id(tree[path], ("emulation_officer",))


def token_of(settings: Settings, member_id: str) -> dict[str, str]:
    """The member's own token: it keeps naming them wherever their unit goes."""
    return {"Authorization": f"Bearer {issue_token(settings, member_id)}"}


async def enrol(client: httpx.AsyncClient, unit_id: str, headers: dict[str, str], name: str) -> httpx.Response:
    return await client.post(f"/units/{unit_id}/members", json={"full_name": name}, headers=headers)


async def test_a_revoked_role_is_refused_at_the_next_command_and_a_new_one_is_honoured(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, driver: Driver, tree: dict[str, str]
) -> None:
    officer = bearer(settings, "hn.ntl.fecon", "emulation_officer")
    assert (await enrol(client, tree["hn.ntl.fecon"], officer, "Nguyễn Văn A")).status_code == 201
    admin = bearer(settings, "hn", "admin")
    revoked = await client.delete(f"/members/{officer_of(tree, 'hn.ntl.fecon')}/roles/emulation_officer", headers=admin)
    assert revoked.status_code == 200, revoked.text
    body = await refused(app, enrol(client, tree["hn.ntl.fecon"], officer, "Nguyễn Văn B"), 403)
    assert "roles" in body["detail"]
    await driver.assign(officer_of(tree, "hn.ntl.fecon"), "emulation_officer")
    assert (await enrol(client, tree["hn.ntl.fecon"], officer, "Nguyễn Văn C")).status_code == 201


async def test_a_moved_unit_is_found_at_its_new_path_and_its_officers_follow_it(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, driver: Driver, tree: dict[str, str]
) -> None:
    fecon_officer = bearer(settings, "hn.ntl.fecon", "emulation_officer")
    first = await enrol(client, tree["hn.ntl.fecon"], fecon_officer, "Trần Thị D")
    assert first.json()["path"] == "hn.ntl.fecon"
    officer = token_of(settings, officer_of(tree, "hn.ntl.fecon"))
    assert (await enrol(client, tree["hn.ntl.fecon"], bearer(settings, "hn.ntl", "emulation_officer"), "E")).is_success
    district = token_of(settings, officer_of(tree, "hn.ntl"))
    await driver.move("hn.ntl.fecon", "hn.dd")
    again = await enrol(client, tree["hn.ntl.fecon"], officer, "Trần Thị F")
    assert again.status_code == 201 and again.json()["path"] == "hn.dd.fecon"
    # The old district no longer holds it: its officer is refused, the new district's is not.
    await refused(app, enrol(client, tree["hn.ntl.fecon"], district, "Trần Thị G"), 403)
    new_district = bearer(settings, "hn.dd", "emulation_officer")
    assert (await enrol(client, tree["hn.ntl.fecon"], new_district, "Trần Thị H")).json()["path"] == "hn.dd.fecon"


async def test_a_merged_units_officers_lose_the_roles_they_held_there(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, driver: Driver, tree: dict[str, str]
) -> None:
    vnpt_officer = bearer(settings, "hn.ntl.vnpt", "emulation_officer")
    assert (await enrol(client, tree["hn.ntl.vnpt"], vnpt_officer, "Lê Văn I")).is_success
    officer = token_of(settings, officer_of(tree, "hn.ntl.vnpt"))
    assert (await client.get("/me", headers=officer)).json()["unit_path"] == "hn.ntl.vnpt"
    await driver.merge("hn.ntl.vnpt", "hn.ntl.fecon")
    await refused(app, enrol(client, tree["hn.ntl.fecon"], officer, "Lê Văn K"), 403)
    me = (await client.get("/me", headers=officer)).json()
    assert me["unit_path"] == "hn.ntl.fecon" and me["roles"] == ["member"], me


@pytest.fixture
async def replica(settings: Settings, app: FastAPI) -> AsyncIterator[FastAPI]:
    """A second directory on the same database (as two replicas on PostgreSQL), started after the first."""
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        yield other


async def test_another_replica_sees_a_revocation_within_its_recheck(
    app: FastAPI, replica: FastAPI, client: httpx.AsyncClient, settings: Settings, tree: dict[str, str]
) -> None:
    officer = bearer(settings, "hn.ntl.fecon", "emulation_officer")
    assert (await enrol(client, tree["hn.ntl.fecon"], officer, "Phạm Văn L")).status_code == 201
    member = officer_of(tree, "hn.ntl.fecon")
    token = token_of(settings, member)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(replica), base_url="http://replica") as other:
        assert (await enrol(other, tree["hn.ntl.fecon"], token, "Phạm Văn M")).status_code == 201  # cached there
        admin = {"Authorization": f"Bearer {issue_token(settings, 'admin')}"}
        revoked = await client.delete(f"/members/{member}/roles/emulation_officer", headers=admin)
        assert revoked.status_code == 200, revoked.text
        await asyncio.sleep(replica.state.directory.cache.recheck_seconds * 2)
        answer = await enrol(other, tree["hn.ntl.fecon"], token, "Phạm Văn N")
        assert answer.status_code == 403, answer.text


async def test_an_expired_token_is_refused_though_it_was_verified_before(
    client: httpx.AsyncClient, settings: Settings, tree: dict[str, str]
) -> None:
    # ≥ 4 s left (iat is whole) so a slow first request still sees it valid; then wait for its exp itself.
    issued = issue_token(settings, "admin", ttl_seconds=5)
    token = {"Authorization": f"Bearer {issued}"}
    assert (await enrol(client, tree["hn.ntl"], token, "Hoàng Văn O")).status_code == 201
    await asyncio.sleep(max(0.0, token_expiry(issued) - time.time()) + 0.1)
    answer = await enrol(client, tree["hn.ntl"], token, "Hoàng Văn P")
    assert answer.status_code == 401 and "expired" in answer.json()["detail"], answer.text


async def test_a_retried_command_refused_before_its_commit_answers_with_the_stored_response(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tree: dict[str, str]
) -> None:
    """The second registration of the same code is refused by the handler (the first made it a
    duplicate); with the first's key it answers as the first did, and nothing is stored twice."""
    headers = {**bearer(settings, "hn", "admin"), "Idempotency-Key": "register-tlg-1"}
    body = {"code": "tlg", "name": "Công đoàn Thăng Long", "kind": "grassroots_union", "parent_id": tree["hn.ntl"]}
    first = await client.post("/units", json=body, headers=headers)
    assert first.status_code == 201, first.text
    count = await event_count(app)
    again = await client.post("/units", json=body, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await event_count(app) == count
    fresh = await client.post("/units", json=body, headers={**headers, "Idempotency-Key": "register-tlg-2"})
    assert fresh.status_code == 409, fresh.text
    changed = await client.post("/units", json={**body, "name": "Khác"}, headers=headers)
    assert changed.status_code == 409 and changed.json()["field"] == "Idempotency-Key"


async def test_a_clients_trace_context_is_stored_with_the_event_though_this_process_exports_no_spans(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, tree: dict[str, str]
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    headers = {**bearer(settings, "hn", "admin"), "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    created = await enrol(client, tree["hn.ntl"], headers, "Đặng Văn Q")
    assert created.status_code == 201, created.text
    stored = await app.state.store.load(f"member-{created.json()['member_id']}")
    assert stored[0].metadata.traceparent is not None and trace_id in stored[0].metadata.traceparent
