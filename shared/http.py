"""FastAPI building blocks every service uses: errors as status codes, body limit, idempotency."""

import hashlib
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import CurrentCaller
from shared.commands import CommandContext
from shared.errors import ThiduaError
from shared.eventstore.store import EventStore, IdempotentReplay
from shared.settings import Settings


class BodyLimit:
    """Refuse bodies over ``max_bytes`` with 413 before any handler reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _too_large(self.max_bytes, send)
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _BodyTooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _BodyTooLarge:
            await _too_large(self.max_bytes, send)


class _BodyTooLarge(Exception):
    pass


async def _too_large(limit: int, send: Send) -> None:
    response = JSONResponse({"detail": f"request body is larger than {limit} bytes"}, status_code=413)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def create_app(settings: Settings, **fastapi_kwargs: Any) -> FastAPI:
    # FastAPI's built-in telemetry opens the server span (continuing an incoming traceparent) and
    # spans for dependencies, endpoint and serialization; command handlers store that context.
    # Per-operation spans (dependencies, endpoint, serialization) are off: they cost more per request
    # than the command's own work is worth tracing at that grain; the append span shows the store.
    fastapi_kwargs.setdefault("telemetry", {"operation_spans": False})
    app = FastAPI(**fastapi_kwargs)
    app.state.settings = settings

    @app.exception_handler(ThiduaError)
    async def _domain_error(_request: Request, error: ThiduaError) -> JSONResponse:
        body: dict[str, Any] = {"detail": error.message, "code": error.code, "status": error.status_code}
        if error.field:
            body["field"] = error.field
        if error.params:
            body["params"] = jsonable_encoder(error.params)
        if error.allowed_next is not None:
            body["allowed_next"] = error.allowed_next
        headers = {"WWW-Authenticate": "Bearer"} if error.status_code == 401 else None
        return JSONResponse(body, status_code=error.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, error: RequestValidationError) -> JSONResponse:
        """422 naming the first offending field and why, with pydantic's full list beside it."""
        errors = jsonable_encoder(error.errors())
        first = errors[0] if errors else {}
        loc = [str(part) for part in first.get("loc", []) if part not in ("body", "query", "path", "header")]
        field = ".".join(loc) or None
        body: dict[str, Any] = {"detail": f"{field}: {first.get('msg', 'invalid')}" if field else "invalid request"}
        if field:
            body["field"] = field
        body["errors"] = errors
        return JSONResponse(body, status_code=422)

    @app.exception_handler(IdempotentReplay)
    async def _replay(_request: Request, replay: IdempotentReplay) -> JSONResponse:
        record = replay.record
        return JSONResponse(record.response, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})

    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


async def command_context(
    request: Request,
    caller: CurrentCaller,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> CommandContext:
    """Dependency for command routes: replays a stored response at once if the key was used before."""
    body = await request.body()
    route = request.scope.get("route")
    scope = f"{caller.subject}:{request.method}:{getattr(route, 'path', request.url.path)}"
    request_hash = hashlib.sha256(request.url.path.encode() + b"\n" + body).hexdigest()
    ctx = CommandContext(
        caller=caller,
        idempotency_key=idempotency_key,
        idempotency_scope=scope,
        request_hash=request_hash,
        correlation_id=request.headers.get("x-correlation-id") or CommandContext(caller).correlation_id,
    )
    if idempotency_key:
        store: EventStore = request.app.state.store
        record = await store.find_idempotent(scope, idempotency_key)
        if record is not None:
            raise ctx.replayed(record)
    return ctx


Command = Annotated[CommandContext, Depends(command_context)]


async def app_store(request: Request) -> EventStore:
    """The service's event store (an async dependency: sync ones cost a thread-pool hop)."""
    return request.app.state.store


Store = Annotated[EventStore, Depends(app_store)]
