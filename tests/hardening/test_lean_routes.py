"""``shared.lean_routes``: a route served by ``LeanRoute`` answers every request exactly as FastAPI's own
handler does — same status, headers and bytes, refusals included — and its OpenAPI document is the same.

Two apps from ``create_app`` with the same routes, one with FastAPI's routes included as usual, the other
with ``LeanRoute`` routes added flat (``include_flat``); each request goes to both.
"""

from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import BaseModel, Field

from shared import lean_routes
from shared.errors import Forbidden
from shared.http import create_app, url_path
from shared.lean_routes import FlatRouter, LeanRoute, _Lean, include_flat
from shared.settings import Settings

_bearer = HTTPBearer(auto_error=False)
calls: list[str] = []  # how often each dependency ran in one request


async def who(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    calls.append("who")
    if credentials is None:
        raise Forbidden("a token is required here")
    return credentials.credentials


async def context(
    request: Request,
    caller: Annotated[str, Depends(who)],
    key: Annotated[str | None, Header(alias="idempotency-key", max_length=8)] = None,
) -> dict[str, Any]:
    return {"caller": caller, "key": key, "body": (await request.body()).decode()}


def sync_dependency() -> str:  # a thread-pool dependency: FastAPI's own handler serves the route
    return "sync"


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=10)
    count: int = 0
    tags: list[str] = []


def routes(route_class: type) -> APIRouter:
    router = APIRouter(route_class=route_class)

    @router.post("/units/{unit_id}/items", status_code=201, tags=["items"])
    async def create(
        unit_id: Annotated[str, PathParam(max_length=5)],
        item: Item,
        ctx: Annotated[dict[str, Any], Depends(context)],
        again: Annotated[str, Depends(who)],  # the same dependency: run once per request
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> dict[str, Any]:
        return {"unit": unit_id, "item": item.model_dump(), "ctx": ctx, "again": again, "limit": limit}

    @router.get("/items/{item_id}", response_model=Item)
    async def read(item_id: Annotated[int, PathParam(ge=1)], _: Annotated[str, Depends(who)]) -> Any:
        return {"name": f"n{item_id}", "count": item_id, "extra": "dropped by the response model"}

    @router.get("/items/special")  # after /items/{item_id}, which matches first (a 422 for "special")
    async def special() -> dict[str, str]:
        return {"special": "never reached"}

    @router.get("/plain")
    async def plain(request: Request) -> JSONResponse:
        return JSONResponse({"path": request.url.path}, headers={"X-Own": "1"})

    @router.delete("/items/{item_id}", status_code=204)
    async def remove(item_id: int) -> None:
        return None

    @router.get("/sync")
    async def with_sync(value: Annotated[str, Depends(sync_dependency)]) -> dict[str, str]:
        return {"value": value}

    return router


def app_with(tmp_path: Path, name: str, *, lean: bool, **fastapi_kwargs: Any) -> FastAPI:
    settings = Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/{name}.db", max_body_bytes=4096)
    app = create_app(settings, **fastapi_kwargs)
    if lean:
        include_flat(app, routes(LeanRoute))
    else:
        app.include_router(routes(APIRouter().route_class))
    return app


# FastAPI's telemetry off whatever an earlier test installed: once a process has a tracer provider (set once,
# for good), every app would trace, and the flat router leaves every traced request to FastAPI's router.
UNTRACED = {"telemetry": {"tracing": False, "operation_spans": False, "metrics": False, "logs": False}}


@pytest.fixture
def apps(tmp_path: Path) -> tuple[FastAPI, FastAPI]:
    return app_with(tmp_path, "fastapi", lean=False, **UNTRACED), app_with(tmp_path, "lean", lean=True, **UNTRACED)


JSON = {"Content-Type": "application/json"}
AUTH = {"Authorization": "Bearer tok"}
REQUESTS: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a","count":2,"tags":["x"]}'),
    ("POST", "/units/u1/items?limit=3", {**JSON, **AUTH, "Idempotency-Key": "k1"}, b'{"name":"\xc4\x90o\xc3\xa0n"}'),
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a","count":123456789012345678901234567890}'),
    ("POST", "/units/u1/items", {**JSON}, b'{"name":"a"}'),  # no token: the dependency refuses (403)
    ("POST", "/units/u1/items", {**JSON, "Authorization": "Basic x"}, b'{"name":"a"}'),
    ("POST", "/units/toolong/items", {**JSON, **AUTH, "Idempotency-Key": "far-too-long"}, b'{"name":""}'),
    ("POST", "/units/u1/items?limit=0", {**JSON, **AUTH}, b'{"count":"x"}'),
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b""),  # no body
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'["a"]'),
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name": "a",}'),  # not JSON (BodyGuard)
    ("POST", "/units/u1/items", {**AUTH, "Content-Type": "text/plain"}, b'{"name":"a"}'),
    ("POST", "/units/u1/items", {**AUTH, "Content-Type": "application/merge-patch+json"}, b'{"name":"a"}'),
    ("POST", "/units/u1/items", {**AUTH, "Content-Type": "Application/JSON; charset=utf-8"}, b'{"name":"a"}'),
    ("POST", "/units/u1/items", {**AUTH}, b'{"name":"a"}'),  # no content type
    ("PUT", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a"}'),  # method not allowed
    ("GET", "/items/7", AUTH, None),
    ("GET", "/items/0", AUTH, None),
    ("GET", "/items/x", {}, None),
    ("HEAD", "/items/7", AUTH, None),
    ("GET", "/plain", {}, None),
    ("DELETE", "/items/3", {}, None),
    ("GET", "/sync", {}, None),
    ("GET", "/nowhere", {}, None),
    ("GET", "/items/special", AUTH, None),  # the first route that matches answers
    ("GET", "/plain/", {}, None),  # a redirect to the path without the slash
    ("POST", "/items/7", JSON, b"{}"),  # the path matches, the method does not: 405
    ("GET", "/openapi.json", {}, None),  # a Starlette route of the app's own
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a","count":-9223372036854775809}'),  # below int64
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"1234567890123456789","count":1.5e3}'),
    ("POST", "/units/u1/items", {**JSON, **AUTH}, b'\xef\xbb\xbf{"name":"bom"}'),  # json reads a UTF-8 BOM
]


async def send(app: FastAPI, method: str, url: str, headers: dict[str, str], body: bytes | None) -> httpx.Response:
    calls.clear()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://probe") as client:
        return await client.request(method, url, headers=headers, content=body)


@pytest.mark.parametrize(("method", "url", "headers", "body"), REQUESTS, ids=[f"{m} {u}" for m, u, *_ in REQUESTS])
async def test_a_lean_route_answers_as_fastapi_does(
    apps: tuple[FastAPI, FastAPI], method: str, url: str, headers: dict[str, str], body: bytes | None
) -> None:
    fastapi_app, lean_app = apps
    expected = await send(fastapi_app, method, url, headers, body)
    expected_calls = list(calls)
    answered = await send(lean_app, method, url, headers, body)
    assert (answered.status_code, answered.content) == (expected.status_code, expected.content)
    assert answered.headers.multi_items() == expected.headers.multi_items()
    assert calls == expected_calls  # each dependency ran as often (the shared one once)


async def test_the_openapi_document_is_the_same(apps: tuple[FastAPI, FastAPI]) -> None:
    fastapi_app, lean_app = apps
    assert lean_app.openapi() == fastapi_app.openapi()


async def test_dependency_overrides_still_apply(apps: tuple[FastAPI, FastAPI]) -> None:
    _, lean_app = apps

    async def someone() -> str:
        return "overridden"

    lean_app.dependency_overrides[who] = someone
    answered = await send(lean_app, "GET", "/items/2", {}, None)
    assert answered.status_code == 200, answered.text
    assert answered.json() == {"name": "n2", "count": 2, "tags": []}


async def test_the_lean_path_serves_the_route(apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch) -> None:
    """Not vacuous: the lean app's route really answers from ``LeanRoute`` (not FastAPI's handler)."""
    _, lean_app = apps
    served: list[str] = []
    original = LeanRoute.handle

    async def spying(self: LeanRoute, scope: Any, receive: Any, send_: Any) -> None:
        served.append(self.path if self._direct is not None else f"fallback {self.path}")
        await original(self, scope, receive, send_)

    monkeypatch.setattr(LeanRoute, "handle", spying)
    answered = await send(lean_app, "POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a"}')
    assert answered.status_code == 201
    assert await send(lean_app, "GET", "/sync", {}, None)
    assert served == ["/units/{unit_id}/items", "fallback /sync"]


async def test_the_flat_router_leaves_to_fastapis_router_only_what_it_would_not_decide_the_same(
    apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not vacuous: a request to a route added flat is matched by ``FlatRouter``; a 404, a 405, a slash
    redirect or a root path go through FastAPI's router (and answer as the other app does, above)."""
    fastapi_app, lean_app = apps
    flat = lean_app.router.middleware_stack
    assert isinstance(flat, FlatRouter)
    reached: list[str] = []
    fallback = flat.fallback

    async def counting(scope: Any, receive: Any, send_: Any) -> None:
        reached.append(f"{scope['method']} {scope['path']}")
        await fallback(scope, receive, send_)

    monkeypatch.setattr(flat, "fallback", counting)
    assert (await send(lean_app, "POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a"}')).status_code == 201
    assert (await send(lean_app, "GET", "/items/7", AUTH, None)).status_code == 200
    assert (await send(lean_app, "GET", "/openapi.json", {}, None)).status_code == 200
    assert (await send(lean_app, "GET", "/nowhere", {}, None)).status_code == 404
    assert (await send(lean_app, "PUT", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a"}')).status_code == 405
    assert (await send(lean_app, "GET", "/plain/", {}, None)).status_code == 307
    assert reached == ["GET /nowhere", "PUT /units/u1/items", "GET /plain/"]

    reached.clear()
    answers = []
    for app in (fastapi_app, lean_app):
        transport = httpx.ASGITransport(app, root_path="/api")
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            answers.append(await client.get("/api/items/7", headers=AUTH))
    assert [a.json() for a in answers] == [{"name": "n7", "count": 7, "tags": []}] * 2
    assert reached == ["GET /api/items/7"]


async def test_a_route_added_after_the_first_request_is_matched_flat(
    apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, lean_app = apps
    assert (await send(lean_app, "GET", "/plain", {}, None)).status_code == 200  # the table is built

    @lean_app.get("/later")
    async def later() -> dict[str, bool]:
        return {"later": True}

    flat = lean_app.router.middleware_stack
    fallback = flat.fallback

    async def refusing(scope: Any, receive: Any, send_: Any) -> None:
        raise AssertionError(f"{scope['path']} went to FastAPI's router")

    monkeypatch.setattr(flat, "fallback", refusing)
    assert (await send(lean_app, "GET", "/later", {}, None)).json() == {"later": True}
    monkeypatch.setattr(flat, "fallback", fallback)


async def test_a_lean_route_takes_the_json_bodyguard_parsed(
    apps: tuple[FastAPI, FastAPI], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not vacuous: the body is parsed once (by BodyGuard, strictly), except where json.loads reads it otherwise."""
    _, lean_app = apps
    parsed: list[bytes] = []
    loads = lean_routes.json.loads

    def counting(raw: bytes) -> Any:
        parsed.append(raw)
        return loads(raw)

    monkeypatch.setattr(lean_routes.json, "loads", counting)
    answered = await send(lean_app, "POST", "/units/u1/items", {**JSON, **AUTH}, b'{"name":"a","count":7}')
    assert (answered.status_code, parsed) == (201, [])
    assert orjson.loads(answered.content)["item"]["count"] == 7
    big = b'{"name":"a","count":123456789012345678901234567890}'
    answered = await send(lean_app, "POST", "/units/u1/items", {**JSON, **AUTH}, big)
    assert (answered.status_code, parsed) == (201, [big])  # orjson would read a float: json.loads reads the int


SPANS = InMemorySpanExporter()


def _spans() -> list[tuple[Any, ...]]:
    finished = [
        (span.name, span.kind, span.status.status_code, sorted((k, str(v)) for k, v in (span.attributes or {}).items()))
        for span in SPANS.get_finished_spans()
    ]
    SPANS.clear()
    return finished


@pytest.mark.parametrize(
    ("method", "url", "headers", "body"), REQUESTS[:10], ids=[f"{m} {u}" for m, u, *_ in REQUESTS[:10]]
)
async def test_with_tracing_on_the_spans_are_those_fastapi_records(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes | None,
) -> None:
    """FastAPI's server span (its own provider here; operation spans off, as thidua runs) says the same."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    telemetry = {"tracer_provider": provider, "operation_spans": False}
    fastapi_app = app_with(tmp_path, "fastapi", lean=False, telemetry=telemetry)
    lean_app = app_with(tmp_path, "lean", lean=True, telemetry=telemetry)
    SPANS.clear()
    expected = await send(fastapi_app, method, url, headers, body)
    expected_spans = _spans()
    answers: list[bool] = []
    original = _Lean.answer

    async def counting(self: _Lean, request: Any) -> Any:
        answers.append(True)
        return await original(self, request)

    monkeypatch.setattr(_Lean, "answer", counting)
    answered = await send(lean_app, method, url, headers, body)
    assert (answered.status_code, answered.content) == (expected.status_code, expected.content)
    assert _spans() == expected_spans and expected_spans
    assert len(answers) == (0 if body and b",}" in body else 1)  # the lean path served it (BodyGuard refuses one)


@settings(max_examples=300, deadline=None)
@given(path=st.text(min_size=0, max_size=30).map(lambda text: "/" + text))
def test_the_path_a_command_is_hashed_with_is_the_urls(path: str) -> None:
    """``url_path`` (the Idempotency-Key's request hash and namespace) is ``request.url.path``, whatever the path."""
    scope = {"type": "http", "method": "POST", "path": path, "root_path": "", "query_string": b"", "scheme": "http"}
    request = Request({**scope, "headers": [(b"host", b"directory")], "server": ("127.0.0.1", 8000)})
    assert url_path(request) == request.url.path
