"""One error shape (RFC 9457 problem details, briefing decision 3) for every error of every service, and
the OpenAPI document of every route saying so."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from shared.errors import ConcurrencyError, Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.http import Command, create_app
from shared.numbers import Vnd
from shared.settings import Settings
from shared.text import Name
from tests.hardening.services import SERVICES, running

PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "params"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert PROBLEM_KEYS <= set(body), body
    assert body["status"] == status and body["code"] == code
    assert body["type"] == f"https://thidua.vn/problems/{code}"
    assert isinstance(body["params"], dict) and isinstance(body["detail"], str) and body["detail"]
    return body


class Body(BaseModel):
    name: Name
    amount: Vnd


@pytest.fixture
def probe(tmp_path: Path) -> Iterator[FastAPI]:
    """A bare app from ``create_app`` with one route per kind of error."""
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/probe.db", max_body_bytes=1024)
    app = create_app(settings)
    raising = {
        "not-found": NotFound("initiative x not found", code="registry.initiative_not_found", params={"id": "x"}),
        "forbidden": Forbidden("unit hn.dd is outside your unit hn.ntl", field="unit_path"),
        "conflict": Conflict("code fecon is taken", field="code", params={"code": "fecon"}),
        "transition": IllegalTransition("it is rejected", allowed_next=["nothing"], params={"status": "rejected"}),
        "race": ConcurrencyError("stream s is at version 3, not 2"),
        "domain-invalid": InvalidInput("the campaign has no indicator 'x'", field="indicator", code="pledges.no_x"),
        "crash": RuntimeError("secret internals"),
    }
    for path, error in raising.items():

        def endpoint_raising(error: Exception) -> Any:
            async def endpoint() -> None:
                raise error

            return endpoint

        app.add_api_route(f"/{path}", endpoint_raising(error), methods=["GET"])

    @app.post("/things")
    async def post_thing(body: Body) -> dict[str, Any]:
        return body.model_dump()

    @app.post("/commands")
    async def command(body: Body, ctx: Command) -> dict[str, Any]:
        return {"by": ctx.caller.subject}

    yield app


@pytest.fixture
async def client(probe: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(probe, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
        yield client


async def test_domain_errors_become_problems_with_code_params_and_field(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/not-found"), 404, "registry.initiative_not_found")
    assert body["params"] == {"id": "x"} and body["title"] == "Not Found"
    assert assert_problem(await client.get("/forbidden"), 403, "forbidden")["field"] == "unit_path"
    conflict = assert_problem(await client.get("/conflict"), 409, "conflict")
    assert conflict["field"] == "code" and conflict["params"] == {"code": "fecon"}
    transition = assert_problem(await client.get("/transition"), 409, "illegal_transition")
    assert transition["allowed_next"] == ["nothing"] and transition["params"] == {"status": "rejected"}
    assert_problem(await client.get("/race"), 409, "concurrency")
    invalid = assert_problem(await client.get("/domain-invalid"), 422, "pledges.no_x")
    assert invalid["field"] == "indicator"
    assert invalid["errors"] == [
        {"field": "indicator", "code": "pledges.no_x", "message": "the campaign has no indicator 'x'", "params": {}}
    ]


async def test_an_unexpected_failure_is_a_problem_that_leaks_nothing(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/crash"), 500, "internal")
    assert "secret" not in body["detail"]


async def test_routing_errors_are_problems(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/nowhere"), 404, "not_found")
    assert_problem(await client.delete("/things"), 405, "method_not_allowed")


async def test_no_token_is_401_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.post("/commands", json={"name": "An", "amount": 1})
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"
    bad = await client.post("/commands", json={"name": "An", "amount": 1}, headers={"Authorization": "Bearer x.y.z"})
    assert_problem(bad, 401, "unauthenticated")


async def test_422_lists_every_invalid_field_with_pydantic_type_and_params(client: httpx.AsyncClient) -> None:
    response = await client.post("/things", json={"name": "x" * 201, "amount": -1})
    body = assert_problem(response, 422, "invalid_input")
    assert body["field"] == "name" and body["params"] == {"field": "name", "count": 2}
    assert body["errors"] == [
        {"field": "name", "code": "string_too_long", "message": "String should have at most 200 characters",
         "params": {"max_length": 200}},
        {"field": "amount", "code": "greater_than_equal", "message": "Input should be greater than or equal to 0",
         "params": {"ge": 0}},
    ]  # fmt: skip
    missing = assert_problem(await client.post("/things", json={}), 422, "invalid_input")
    assert {e["field"] for e in missing["errors"]} == {"name", "amount"}
    assert {e["code"] for e in missing["errors"]} == {"missing"}
    broken = assert_problem(
        await client.post("/things", content=b'{"name": ', headers={"content-type": "application/json"}),
        422,
        "invalid_input",
    )
    assert broken["errors"][0]["code"] == "json_invalid"


async def test_a_body_over_the_limit_is_413_with_or_without_content_length(client: httpx.AsyncClient) -> None:
    declared = await client.post("/things", content=b"x" * 2048, headers={"content-type": "application/json"})
    assert assert_problem(declared, 413, "too_large")["params"] == {"max_bytes": 1024}

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20 * 1024):  # 20 MB in 1 KB chunks, no Content-Length
            yield b"x" * 1024

    chunked = await client.post("/things", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in chunked.request.headers
    assert_problem(chunked, 413, "too_large")


async def test_a_20_mb_chunked_body_is_413_on_every_service(tmp_path: Path) -> None:
    for name in SERVICES:
        async with running(name, tmp_path / name) as service:

            async def chunks() -> AsyncIterator[bytes]:
                for _ in range(20 * 1024):
                    yield b"x" * 1024

            route = {
                "directory": "/units",
                "registry": "/initiatives",
                "pledges": "/campaigns",
                "inspections": "/rounds",
                "awards": "/proposals",
            }[name]
            before = await service.event_count()
            response = await service.client.post(route, content=chunks(), headers=service.headers())
            assert_problem(response, 413, "too_large")
            assert await service.event_count() == before


@pytest.mark.parametrize("name", list(SERVICES))
async def test_openapi_documents_the_problem_statuses_on_every_route(name: str, tmp_path: Path) -> None:
    async with running(name, tmp_path) as service:
        schema = (await service.client.get("/openapi.json")).json()
    schemas = schema["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"Problem", "FieldError"} <= set(schemas)
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail", "code", "params"]
    operations = [(path, op) for path, ops in schema["paths"].items() for op in ops.values()]
    assert operations
    for path, operation in operations:
        for status in ("401", "403", "404", "409", "413", "422"):
            content = operation["responses"][status]["content"]
            assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                path,
                status,
            )
