"""FastAPI building blocks every service uses: one error shape, a guarded body, idempotency.

- **One error shape**: every error is an RFC 9457 problem document (``application/problem+json``) with
  a stable ``code`` and the ``params`` to render it in another language; a 422 lists every invalid
  field in ``errors`` (``field``, pydantic's error type as ``code``, ``message``, ``params``). The
  OpenAPI document of every route lists the problem statuses (``document_problems``).
- **A guarded body** (``BodyGuard``): over ``max_body_bytes`` is a 413 whether or not the request
  declared its length; a JSON body must be strict JSON: ``NaN``, ``Infinity``, a number that overflows
  to infinity (``1e309``) or a lone surrogate is a 422 naming the field, before any handler runs.
- **Idempotency**: command routes take ``Idempotency-Key`` (``Command``).
"""

import hashlib
import json
import logging
import math
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from opentelemetry import trace
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.auth import CurrentCaller
from shared.commands import CommandContext
from shared.db import unavailable_reason
from shared.errors import DEFAULT_CODES, Conflict, ThiduaError, Unavailable
from shared.eventstore.store import EventStore, IdempotentReplay
from shared.ids import time_ordered_id
from shared.settings import Settings
from shared.telemetry import continue_incoming, detach

log = logging.getLogger(__name__)

PROBLEM_TYPE = "https://thidua.vn/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
_LOCATIONS = ("body", "query", "path", "header", "cookie")


# -- problem documents -----------------------------------------------------------------------------


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        # A message may quote what the caller sent; never let an unencodable character make it a 500.
        return json.dumps(content, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "replace")


def problem(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    params: Mapping[str, Any] | None = None,
    field: str | None = None,
    allowed_next: list[str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    """The one error response of every service (decision 3 of the briefing)."""
    code = code or DEFAULT_CODES.get(status, "error")
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + code,
        "title": _title(status),
        "status": status,
        "detail": detail,
        "code": code,
        "params": _plain(dict(params or {})),
    }
    if field:
        body["field"] = field
    if allowed_next is not None:
        body["allowed_next"] = allowed_next
    if errors is not None:
        body["errors"] = errors
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}) or None)


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _plain(value: Any) -> Any:
    """Params as plain JSON values (pydantic's ctx may hold exceptions, decimals, patterns)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


def field_of(loc: Any) -> str:
    """``("body", "authors", 0, "share")`` → ``"authors.0.share"``; the body itself is ``"body"``."""
    parts = list(loc or ())
    if len(parts) > 1 and parts[0] in _LOCATIONS:
        parts = parts[1:]
    return ".".join(str(part) for part in parts)


def validation_problem(raw_errors: list[Any]) -> ProblemResponse:
    """422 listing every invalid field, each with pydantic's error type as its code."""
    errors = [
        {
            "field": field_of(error.get("loc")),
            "code": str(error.get("type", "invalid")),
            "message": str(error.get("msg", "invalid")),
            "params": _plain(error.get("ctx") or {}),
        }
        for error in raw_errors
    ] or [{"field": "body", "code": "invalid", "message": "invalid request", "params": {}}]
    first = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return problem(
        422,
        f"{first['field']}: {first['message']}{more}",
        code="invalid_input",
        params={"field": first["field"], "count": len(errors)},
        field=first["field"],
        errors=errors,
    )


def install_problem_details(app: FastAPI) -> None:
    """Every error of ``app`` as a problem document, and the problem statuses in its OpenAPI."""

    @app.exception_handler(ThiduaError)
    async def _domain_error(request: Request, error: ThiduaError) -> Response:
        if (stored := await stored_answer(request)) is not None:
            return stored
        errors = None
        if error.status_code == 422:
            errors = [
                {"field": error.field or "body", "code": error.code, "message": error.message, "params": error.params}
            ]
        return problem(
            error.status_code,
            error.message,
            code=error.code,
            params=error.params,
            field=error.field,
            allowed_next=error.allowed_next,
            errors=errors,
            headers=_error_headers(error),
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        if (stored := await stored_answer(request)) is not None:
            return stored
        return validation_problem(list(error.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, error: StarletteHTTPException) -> ProblemResponse:
        detail = error.detail if isinstance(error.detail, str) else _title(error.status_code)
        if error.status_code == 404 and detail == "Not Found":
            detail = "no such resource: check the address"
        return problem(error.status_code, detail, headers=error.headers)

    async def _outage(request: Request, error: Exception) -> Response:
        if (stored := await stored_answer(request)) is not None:
            return stored
        # Registered for the classes an outage raises (not for Exception: Starlette re-raises what its
        # catch-all handles, and uvicorn then drops the keep-alive connection the 503 went out on).
        reason = unavailable_reason(error)
        if reason is not None:  # the database went away: nothing was decided, the caller may retry
            log.warning("answering 503: %s", reason)
            return unavailable_problem(Unavailable("the service's database cannot be reached; retry shortly"))
        log.error("unexpected %s", type(error).__name__, exc_info=error)
        return _internal()

    for outage in (DBAPIError, ConnectionError, TimeoutError):
        app.add_exception_handler(outage, _outage)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _error: Exception) -> Response:
        if (stored := await stored_answer(request)) is not None:
            return stored
        return _internal()

    document_problems(app)


def _internal() -> ProblemResponse:
    return problem(500, "the service failed to handle this request; it was logged", code="internal")


def _error_headers(error: ThiduaError) -> dict[str, str] | None:
    if error.status_code == 401:
        return {"WWW-Authenticate": "Bearer"}
    if isinstance(error, Unavailable):
        return {"Retry-After": str(error.retry_after)}
    return None


def unavailable_problem(error: Unavailable) -> ProblemResponse:
    """503 ``unavailable`` with ``Retry-After`` (seconds): a command retried with its Idempotency-Key is safe."""
    return problem(
        503,
        error.message,
        code=error.code,
        params={"retry_after": error.retry_after, **error.params},
        headers=_error_headers(error),
    )


# -- OpenAPI ---------------------------------------------------------------------------------------

DOCUMENTED = {
    401: "No valid bearer token (`unauthenticated`).",
    403: "Outside the caller's unit or roles (`forbidden`, or a specific code).",
    404: "No such resource in the caller's subtree (`not_found`, or a specific code).",
    409: "A conflict or an illegal transition (`conflict`, `illegal_transition`, `concurrency`, …); "
    "`allowed_next` says what may come next when known.",
    413: "The request body is larger than the service accepts (`too_large`).",
    503: "The service's database cannot be reached for now (`unavailable`); `Retry-After` says when to "
    "retry. Nothing was decided: retry a command with the same `Idempotency-Key`.",
    422: "Invalid input: `errors` lists every invalid field with its code (pydantic's error type or a "
    "domain code) and params.",
}

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details. `code` is stable; render a message from `code` and `params`.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code", "params"],
    "properties": {
        "type": {"type": "string", "description": "https://thidua.vn/problems/<code>"},
        "title": {"type": "string", "description": "The HTTP status phrase."},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "An English sentence a person can act on."},
        "code": {"type": "string", "description": "A stable machine code, e.g. `illegal_transition`."},
        "params": {"type": "object", "description": "Values to render the message in another language."},
        "field": {"type": "string", "description": "The field to blame, when one is."},
        "allowed_next": {"type": "array", "items": {"type": "string"}},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
    },
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "title": "FieldError",
    "type": "object",
    "required": ["field", "code", "message", "params"],
    "properties": {
        "field": {"type": "string", "description": "Dotted path of the field, e.g. `authors.0.share`."},
        "code": {"type": "string", "description": "pydantic's error type (`string_too_long`) or a domain code."},
        "message": {"type": "string"},
        "params": {"type": "object", "description": 'e.g. `{"max_length": 200}`'},
    },
}


def document_problems(app: FastAPI) -> None:
    """Replace FastAPI's 422 schema by the problem document and list every problem status on each route."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            schemas = schema.setdefault("components", {}).setdefault("schemas", {})
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
            schemas["Problem"] = PROBLEM_SCHEMA
            schemas["FieldError"] = FIELD_ERROR_SCHEMA
            content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    for status, description in DOCUMENTED.items():
                        responses[str(status)] = {"description": description, "content": content}
                    responses["401"]["headers"] = {
                        "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
                    }
                    responses["503"]["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait"}
                    }
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# -- the body guard --------------------------------------------------------------------------------


READ_BODY = "thidua.body"  # the scope key under which BodyGuard leaves the body it read (shared.lean_routes)
# ... and the JSON value it parsed, where that value is what ``json.loads`` reads too (shared.lean_routes)
PARSED_JSON = "thidua.json"
# orjson reads an integer beyond 64 bits as a float (json, as FastAPI, as an int); such a literal has 19
# digits or more. A body holding any run of 19 digits (in a string too) is left to json.loads.
_LONG_DIGITS = re.compile(rb"\d{19}")


class BodyGuard:
    """Refuse bodies over ``max_bytes`` (413) and JSON that is not strict JSON (422), before any handler.

    The body is read here, chunked or not, and replayed to the app; a JSON body is parsed once strictly
    (orjson refuses NaN, Infinity and numbers that overflow to infinity); only if that fails is it parsed
    again leniently to name the field that holds the bad value. The strict value is left in the scope for
    a lean route (``PARSED_JSON``) unless ``json.loads`` could read it otherwise (long integers).
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        limit = self._limit(scope)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return await self._send(scope, send, self._too_large(limit))
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return await self._send(scope, send, self._too_large(limit))
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        scope[READ_BODY] = body
        if body and _is_json(headers.get(b"content-type")):
            try:
                parsed = orjson.loads(body)  # strict JSON: no NaN, Infinity, overflow or lone surrogate
            except orjson.JSONDecodeError:
                refusal = strict_json_problem(body)
                if refusal is not None:
                    return await self._send(scope, send, refusal)
            else:
                if _LONG_DIGITS.search(body) is None:
                    scope[PARSED_JSON] = parsed
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        traceparent = headers.get(b"traceparent")
        if traceparent is None:
            return await self.app(scope, replay, send)
        state = headers.get(b"tracestate")
        # With no span of this process's own, a client's trace context still travels with the command's events.
        incoming = continue_incoming(traceparent.decode("latin-1"), state.decode("latin-1") if state else None)
        try:
            await self.app(scope, replay, send)
        finally:
            detach(incoming)

    def _limit(self, scope: Scope) -> int:
        """A route prefix the app registered in ``app.state.body_limits`` (e.g. file uploads) has its own."""
        limits = getattr(getattr(scope.get("app"), "state", None), "body_limits", None) or {}
        path = scope.get("path", "")
        for prefix, limit in limits.items():
            if path == prefix or path.startswith(prefix + "/"):
                return int(limit)
        return self.max_bytes

    @staticmethod
    def _too_large(limit: int) -> ProblemResponse:
        return problem(
            413,
            f"the request body is larger than {limit} bytes",
            code="too_large",
            params={"max_bytes": limit},
        )

    @staticmethod
    async def _send(scope: Scope, send: Send, response: ProblemResponse) -> None:
        await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


def _is_json(content_type: bytes | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class _NonFinite:
    def __init__(self, text: str) -> None:
        self.text = text


def _lenient_float(text: str) -> Any:
    value = float(text)
    return value if math.isfinite(value) else _NonFinite(text)


def strict_json_problem(body: bytes) -> ProblemResponse | None:
    """None if ``body`` is strict JSON; else the 422 naming where it is not."""
    try:
        orjson.loads(body)
        return None
    except orjson.JSONDecodeError:
        pass
    try:
        lenient = json.loads(body, parse_constant=_NonFinite, parse_float=_lenient_float)
    except (ValueError, RecursionError) as error:  # not JSON at all (or not UTF-8)
        return validation_problem(
            [{"loc": ("body",), "type": "json_invalid", "msg": "the body is not valid JSON", "ctx": {"error": error}}]
        )
    found = _first_bad(lenient, ())
    if found is None:  # strict JSON after all, beyond what orjson handles (e.g. an integer over 64 bits)
        return None
    loc, kind, text = found
    if kind == "finite_number":
        error = {"type": "finite_number", "msg": "Input should be a finite number", "ctx": {"value": text}}
    else:
        error = {
            "type": "text_invalid_unicode",
            "msg": "the text contains a lone surrogate, which is not a character",
            "ctx": {"code": text},
        }
    return validation_problem([{"loc": ("body", *loc), **error}])


def _first_bad(value: Any, loc: tuple[Any, ...]) -> tuple[tuple[Any, ...], str, str] | None:
    if isinstance(value, _NonFinite):
        return loc, "finite_number", value.text
    if isinstance(value, str):
        bad = _lone_surrogate(value)
        return (loc, "text_invalid_unicode", bad) if bad else None
    if isinstance(value, dict):
        for key, item in value.items():
            bad_key = _lone_surrogate(key)
            if bad_key:
                return (*loc, key.encode("utf-8", "replace").decode()), "text_invalid_unicode", bad_key
            found = _first_bad(item, (*loc, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_bad(item, (*loc, index))
            if found is not None:
                return found
    return None


def _lone_surrogate(text: str) -> str | None:
    for char in text:
        if "\ud800" <= char <= "\udfff":
            return f"{ord(char):04x}"
    return None


# -- the app ---------------------------------------------------------------------------------------


def create_app(settings: Settings, **fastapi_kwargs: Any) -> FastAPI:
    # FastAPI's built-in telemetry opens the server span (continuing an incoming traceparent) and
    # spans for dependencies, endpoint and serialization; command handlers store that context.
    # Per-operation spans (dependencies, endpoint, serialization) are off: they cost more per request
    # than the command's own work is worth tracing at that grain; the append span shows the store.
    # No service installs an OpenTelemetry meter or logger provider: FastAPI need not look for one per request.
    # Nor, when ``setup_telemetry`` installed no tracer provider (it runs before the app is built), for a
    # tracer provider: OpenTelemetry looks for one in os.environ on each call (4% of a directory command).
    tracing = tracer_provider_installed()
    fastapi_kwargs.setdefault(
        "telemetry", {"tracing": tracing, "operation_spans": False, "metrics": False, "logs": False}
    )
    app = FastAPI(**fastapi_kwargs)
    app.state.settings = settings
    # Present even when empty: BodyGuard reads it on every request, and a missing State attribute costs
    # an AttributeError raised and caught each time (2% of the directory's time under load).
    app.state.body_limits = {}
    install_problem_details(app)

    @app.exception_handler(IdempotentReplay)
    async def _replay(_request: Request, replay: IdempotentReplay) -> JSONResponse:
        return replayed_response(replay)

    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    return app


def tracer_provider_installed() -> bool:
    """Whether OpenTelemetry has a tracer provider (set in code or named by OTEL_PYTHON_TRACER_PROVIDER)
    rather than its placeholder: only then can a request's span be recorded."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


async def command_context(
    request: Request,
    caller: CurrentCaller,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=200,
            description="Sent again with the same key (same caller, same route) within "
            "THIDUA_IDEMPOTENCY_RETENTION days (default 7), the command answers with the response stored the "
            "first time (Idempotent-Replayed: true) and acts no more; after that the key is a new command.",
        ),
    ] = None,
) -> CommandContext:
    """Dependency for command routes: a key used before answers with the response stored for it.

    The key is looked up where it costs nothing extra: the store's commit reads it with the streams'
    versions and refuses to append twice (``IdempotentReplay``). A command refused before its commit (it
    may be refused now, e.g. by the duplicate it created the first time) looks the key up then, in the
    problem handlers (``stored_answer``). Handlers only read and decide until they commit, so running one
    again for a replay changes nothing.
    """
    body = await request.body()
    path = url_path(request)
    route = request.scope.get("route")
    namespace = f"{caller.subject}:{request.method}:{getattr(route, 'path', path)}"  # whose key, where
    request_hash = hashlib.sha256(path.encode() + b"\n" + body).hexdigest()
    ctx = CommandContext(
        caller=caller,
        idempotency_key=idempotency_key,
        idempotency_namespace=namespace,
        request_hash=request_hash,
        # A new correlation id is time-ordered: its random bits come from one system call per 256 ids,
        # where uuid4 made one per command (2% of a directory command)
        correlation_id=request.headers.get("x-correlation-id") or time_ordered_id(),
    )
    if idempotency_key:
        request.scope[_COMMAND] = ctx
    return ctx


_COMMAND = "thidua.command"


def url_path(request: Request) -> str:
    """``request.url.path`` without building the URL (a fifth of ``command_context``'s time): Starlette
    escapes these three characters in the path it hands to the URL, and the URL's path is that."""
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    if "\t" in path or "\r" in path or "\n" in path:  # urlsplit drops these: let the URL say what is left
        return request.url.path
    return path


async def stored_answer(request: Request) -> Response | None:
    """For a refused command whose Idempotency-Key was used before: the response stored for it (409 if
    the key was used for a different request); None to let the refusal stand."""
    ctx: CommandContext | None = request.scope.get(_COMMAND)
    if ctx is None or not ctx.idempotency_key:
        return None
    try:
        record = await request.app.state.store.find_idempotent(ctx.idempotency_namespace, ctx.idempotency_key)
    except Exception:  # the database is out of reach: the refusal (often that very outage) stands
        return None
    if record is None:
        return None
    try:
        replay = ctx.replayed(record)
    except Conflict as conflict:
        return problem(409, conflict.message, code=conflict.code, params=conflict.params, field=conflict.field)
    return replayed_response(replay)


def replayed_response(replay: IdempotentReplay) -> JSONResponse:
    record = replay.record
    return JSONResponse(record.response, status_code=record.status_code, headers={"Idempotent-Replayed": "true"})


Command = Annotated[CommandContext, Depends(command_context)]


async def app_store(request: Request) -> EventStore:
    """The service's event store (an async dependency: sync ones cost a thread-pool hop)."""
    return request.app.state.store


Store = Annotated[EventStore, Depends(app_store)]
