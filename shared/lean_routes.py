"""``LeanRoute``: FastAPI's request handling for the common route, without re-deciding it per request.

A profile of the directory under load (py-spy, ``tests/benchmarks/latency.py``) put 28% of the server's
time in FastAPI's ``solve_dependencies``: for each request and each dependency it asks again whether the
call is a generator, whether it uses security scopes, what its cache key is, and builds the query
parameters and the URL whether or not anything reads them. For a route whose dependencies are plain
``async def`` functions (or async callables such as ``HTTPBearer``), all of that is known when the route
is built; ``LeanRoute`` works it out once and then per request only validates the parameters and the
body (with FastAPI's own functions, so a 422 lists the same errors in the same order), calls the
dependencies (each once per request, as FastAPI's cache does) and serializes the answer as FastAPI
does (``serialize_response``: same validation, same bytes).

Anything else goes to FastAPI's own handler, decided per route (sync or generator dependencies,
``Response``/``BackgroundTasks``/``SecurityScopes`` parameters, forms, streams) or per request
(dependency overrides set, FastAPI telemetry opening spans per operation, a body that is not plain
``application/json`` — FastAPI then answers exactly as it would have).
"""

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, FastAPI, params
from fastapi._body_limit import get_body_limit_error
from fastapi._compat import ModelField
from fastapi._compat.shared import field_annotation_is_sequence
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant, _get_cache_key, _is_coroutine_callable
from fastapi.dependencies.utils import (
    _get_form_models,
    _get_param_aliases,
    _get_param_model,
    _is_json_field,
    _should_embed_body_fields,
    _validate_value_with_model_field,
    request_body_to_args,
    request_params_to_args,
)
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import (
    APIRoute,
    _effective_route_context_var,
    _extract_endpoint_context,
    _get_scope_effective_route_context,
    serialize_response,
)
from fastapi.telemetry._api import _get_request_telemetry, _validation_failed, get_telemetry_data
from fastapi.utils import is_body_allowed_for_status_code
from pydantic_core import PydanticUndefined as Undefined
from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import Receive, Scope, Send

from shared.http import PARSED_JSON, READ_BODY

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class _Param:
    """A path, query, header or cookie parameter of one plain value, its request key found once."""

    __slots__ = ("alias", "field", "loc", "name")

    def __init__(self, field: ModelField) -> None:
        self.field, self.name = field, field.name
        self.alias = _get_param_aliases(field)[0][1]
        self.loc = (field.field_info.in_.value, self.alias)


def _params(fields: list[ModelField]) -> list[_Param] | list[ModelField]:
    """Plain fields as ``_Param``; the fields unchanged if any needs FastAPI's general reading (a model, a
    list, a JSON field, alias choices)."""
    plain = []
    for field in fields:
        aliases = _get_param_aliases(field)
        if (
            _get_param_model(field) is not None
            or field_annotation_is_sequence(field.field_info.annotation)
            or _is_json_field(field)
            or len(aliases) != 1
        ):
            return fields
        plain.append(_Param(field))
    return plain


def _read_params(params_: list[Any], received: Any) -> tuple[dict[str, Any], list[Any]]:
    """``request_params_to_args`` with the per-field decisions taken in advance."""
    if not params_ or not isinstance(params_[0], _Param):
        return request_params_to_args(params_, received)
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for param in params_:
        value = received.get(param.alias, None)
        value, failed = _validate_value_with_model_field(
            field=param.field, value=Undefined if value is None else value, values=values, loc=param.loc
        )
        if failed:
            errors.extend(failed)
        else:
            values[param.name] = value
    return values, errors


class _Plan:
    """One dependant, with what FastAPI would otherwise work out on every request."""

    __slots__ = (
        *("body", "call", "cookie", "header", "http_name", "key", "name", "path", "query", "request_name"),
        *("single_body", "subs", "use_cache"),
    )

    def __init__(self, dependant: Dependant, subs: list["_Plan"]) -> None:
        self.call, self.name, self.subs = dependant.call, dependant.name, subs
        self.key = _get_cache_key(dependant=dependant)
        self.use_cache = dependant.use_cache
        self.path, self.query = _params(dependant.path_params), _params(dependant.query_params)
        self.header, self.cookie = _params(dependant.header_params), _params(dependant.cookie_params)
        self.body = dependant.body_params
        # FastAPI asks on every request whether the one body field is validated as the whole body
        self.single_body = (
            len(self.body) == 1 and not _should_embed_body_fields(self.body) and not _get_form_models(self.body[0])
        )
        self.http_name, self.request_name = dependant.http_connection_param_name, dependant.request_param_name


def _plan(dependant: Dependant, *, root: bool) -> _Plan | None:
    """The plan, or None when the dependant needs something only FastAPI's own handler does."""
    if (
        dependant.websocket_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or dependant.own_oauth_scopes
        or dependant.parent_oauth_scopes
        or dependant.call is None
        or not _is_coroutine_callable(dependant.call)  # sync (thread pool) or a generator (exit stacks)
        or (not root and dependant.concurrency is not None)
    ):
        return None
    subs = [_plan(sub, root=False) for sub in dependant.dependencies]
    if any(sub is None for sub in subs):
        return None
    return _Plan(dependant, subs)  # type: ignore[arg-type]


async def _solve(
    plan: _Plan, request: Request, body: Any, embed: bool, cache: dict[Any, Any]
) -> tuple[dict[str, Any], list[Any]]:
    """FastAPI's ``solve_dependencies`` for a planned dependant: same order, same cache, same errors."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for sub in plan.subs:
        sub_values, sub_errors = await _solve(sub, request, body, embed, cache)
        if sub_errors:
            errors.extend(sub_errors)
            continue
        if sub.use_cache and sub.key in cache:
            solved = cache[sub.key]
        else:
            solved = await sub.call(**sub_values)  # type: ignore[misc]
        if sub.name is not None:
            values[sub.name] = solved
        if sub.key not in cache:
            cache[sub.key] = solved
    # FastAPI reads every source in this order; only the ones a route has can fail.
    if plan.path:
        found, failed = _read_params(plan.path, request.path_params)
        values.update(found)
        errors += failed
    if plan.query:
        found, failed = _read_params(plan.query, request.query_params)
        values.update(found)
        errors += failed
    if plan.header:
        found, failed = _read_params(plan.header, request.headers)
        values.update(found)
        errors += failed
    if plan.cookie:
        found, failed = _read_params(plan.cookie, request.cookies)
        values.update(found)
        errors += failed
    if plan.body and plan.single_body and not embed:  # request_body_to_args's first case, decided once
        field = plan.body[0]
        value, failed = _validate_value_with_model_field(field=field, value=body, values={}, loc=("body",))
        values[field.name] = value
        errors.extend(failed)
    elif plan.body:
        found, failed = await request_body_to_args(body_fields=plan.body, received_body=body, embed_body_fields=embed)
        values.update(found)
        errors.extend(failed)
    if plan.http_name:
        values[plan.http_name] = request
    if plan.request_name:
        values[plan.request_name] = request
    return values, errors


def _is_plain_json(content_type: str | None) -> bool:
    # Only the plain case; every other content type goes through FastAPI's own parsing.
    return content_type is not None and content_type.split(";", 1)[0].strip().lower() == "application/json"


class _Lean:
    """The lean handler of one route: ``own`` says whether it answers a request (else FastAPI's handler
    does, untouched); ``answer`` answers it."""

    def __init__(self, route: Any, plan: _Plan) -> None:
        self.plan = plan
        self.dependant: Dependant = route.dependant
        self.call: Any = route.dependant.call
        self.body_field = route.body_field
        self.embed = route._embed_body_fields
        response_class = route.response_class
        self.dump_json = route.response_field is not None and isinstance(response_class, DefaultPlaceholder)
        self.response_class = response_class.value if isinstance(response_class, DefaultPlaceholder) else response_class
        self.overrides = route.dependency_overrides_provider
        self.serialize = {
            "field": route.response_field,
            "include": route.response_model_include,
            "exclude": route.response_model_exclude,
            "by_alias": route.response_model_by_alias,
            "exclude_unset": route.response_model_exclude_unset,
            "exclude_defaults": route.response_model_exclude_defaults,
            "exclude_none": route.response_model_exclude_none,
            "is_coroutine": True,
            "dump_json": self.dump_json,
        }
        self.response_args: dict[str, Any] = {"background": None}
        if route.status_code:
            self.response_args["status_code"] = route.status_code

    def own(self, request: Request) -> bool:
        """False when FastAPI's own handler must answer: telemetry opens spans per operation (dependencies,
        endpoint, serialization), dependency overrides are set, or a body is sent that is not plain
        ``application/json``."""
        telemetry = _get_request_telemetry()
        if (telemetry is not None and telemetry.tracer is not None) or getattr(
            self.overrides, "dependency_overrides", None
        ):
            return False
        return self.body_field is None or _is_plain_json(request.headers.get("content-type"))

    async def answer(self, request: Request) -> Response:
        # The request's telemetry data (its server span is FastAPI's) is filled in as FastAPI's handler does.
        telemetry = get_telemetry_data()
        if telemetry is not None:
            telemetry.request = request
        endpoint_ctx = _extract_endpoint_context(self.call)  # FastAPI's cached dict, completed as FastAPI does
        if self.dependant.path:
            root = request.scope.get("root_path", "").rstrip("/")
            endpoint_ctx["path"] = f"{request.method} {root}{self.dependant.path}"
        body: Any = Undefined
        if self.body_field is not None:
            body = await self._body(request, endpoint_ctx)
        if telemetry is not None:
            telemetry.body = None if body is Undefined else body
        values, errors = await _solve(self.plan, request, body, self.embed, {})
        if telemetry is not None:
            telemetry.values, telemetry.errors = values, errors
        if errors:
            refusal = RequestValidationError(
                errors, body=None if body is Undefined else body, endpoint_ctx=endpoint_ctx
            )
            _validation_failed(refusal)
            raise refusal
        answer = await self.call(**values)
        if isinstance(answer, Response):
            return answer
        content = await serialize_response(response_content=answer, endpoint_ctx=endpoint_ctx, **self.serialize)
        if self.dump_json:
            response: Response = Response(content=content, media_type="application/json", **self.response_args)
        else:
            response = self.response_class(content, **self.response_args)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response

    @staticmethod
    async def _body(request: Request, endpoint_ctx: Any) -> Any:
        """The JSON body as FastAPI reads it, refused as FastAPI does."""
        try:
            raw = request.scope.get(READ_BODY)
            if raw is None:
                raw = await request.body()
            else:  # BodyGuard read it: Starlette's own cache, so that a dependency reading it gets it too
                request._body = raw
            parsed = request.scope.get(PARSED_JSON, Undefined)
            if parsed is not Undefined:  # BodyGuard's strict parse, the value json.loads gives (2% of a command)
                return parsed
            # json, as FastAPI (orjson is faster but reads an integer over 64 bits as a float)
            return json.loads(raw) if raw else Undefined
        except json.JSONDecodeError as error:
            refusal = RequestValidationError(
                [
                    {
                        "type": "json_invalid",
                        "loc": ("body", error.pos),
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": error.msg},
                    }
                ],
                body=error.doc,
                endpoint_ctx=endpoint_ctx,
            )
            _validation_failed(refusal)
            raise refusal from error
        except HTTPException:
            raise
        except Exception as error:
            if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (limit := get_body_limit_error(error)):
                raise limit from error
            raise HTTPException(status_code=400, detail="There was an error parsing the body") from error


def _lean(route: Any) -> _Lean | None:
    """The lean handler for ``route`` (an APIRoute, or the context FastAPI built for it where it was
    included), or None where only FastAPI's own handler will do."""
    body_field = route.body_field
    if (
        route.is_sse_stream
        or route.is_json_stream
        or (body_field is not None and isinstance(body_field.field_info, params.Form))
        or not _is_coroutine_callable(route.dependant.call)
    ):
        return None
    plan = _plan(route.dependant, root=True)
    return None if plan is None else _Lean(route, plan)


class LeanRoute(APIRoute):
    """An APIRoute served by ``_Lean`` where it can be (``APIRouter(route_class=LeanRoute)``).

    Added to the app itself (``include_flat``), it answers from ``handle``: no exit stacks (a lean route
    has no generator dependency to close), and an exception goes to the app's ``ExceptionMiddleware``,
    which runs the same handlers FastAPI's per-route wrapper would have. Included in a router, it answers
    inside FastAPI's per-route wrapper.
    """

    _direct: _Lean | None = None

    def get_route_handler(self) -> Handler:
        fallback = super().get_route_handler()
        context = _effective_route_context_var.get()
        if context is None or context.original_route is not self:
            self._direct = lean = _lean(self)
        else:
            lean = _lean(context)  # included in a router: the context FastAPI built for that inclusion
        if lean is None:
            return fallback

        async def app(request: Request) -> Response:
            return await (lean.answer(request) if lean.own(request) else fallback(request))

        return app

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        lean = self._direct
        if lean is None or scope["method"] not in self.methods or _get_scope_effective_route_context(scope):
            await super().handle(scope, receive, send)
            return
        request = Request(scope, receive, send)
        if not lean.own(request):
            await super().handle(scope, receive, send)
            return
        response = await lean.answer(request)
        await response(scope, receive, send)


class _Entry:
    """One route of the app's router as the fast matcher sees it: a plain route (Starlette's ``Route`` or
    FastAPI's ``APIRoute``, matched by its path regex and methods) or anything else (matched by asking it)."""

    __slots__ = ("convertors", "endpoint", "methods", "plain", "regex", "route", "sets_route")

    def __init__(self, route: Any) -> None:
        self.route = route
        kind = type(route).matches
        self.sets_route = kind is APIRoute.matches  # FastAPI's matches adds the route to the child scope
        self.plain = kind is Route.matches or self.sets_route
        if self.plain:
            self.regex, self.convertors = route.path_regex, route.param_convertors
            self.endpoint, self.methods = route.endpoint, route.methods


class FlatRouter:
    """The app router's own matching, for an app whose routes are flat (``include_flat``): the first route
    that matches fully answers, as in FastAPI's ``APIRouter.app``, with each plain route matched by its
    path regex and methods directly instead of through FastAPI's per-request context look-ups (5% of a
    directory command). Requests it would not decide the same way go to the router unchanged: a root path,
    FastAPI telemetry recording the route, router form limits, no full match (404, 405, a trailing slash)
    or a route of another kind that matches (a mount, an included router).
    """

    def __init__(self, router: APIRouter) -> None:
        self.router, self.fallback = router, router.middleware_stack
        self.entries: list[_Entry] = []
        self.by_method: dict[str, list[_Entry]] = {}
        self.count, self.last = -1, None

    def _table(self, method: str) -> list[_Entry]:
        """The routes that can match a request of ``method`` fully, in the router's order: plain routes
        that take the method (or any) and every route of another kind."""
        routes = self.router.routes
        if len(routes) != self.count or (routes and routes[-1] is not self.last):
            self.entries = [_Entry(route) for route in routes]
            self.by_method = {}
            self.count, self.last = len(routes), routes[-1] if routes else None
        table = self.by_method.get(method)
        if table is None:
            table = self.by_method[method] = [
                entry for entry in self.entries if not entry.plain or not entry.methods or method in entry.methods
            ]
        return table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("root_path")
            or "fastapi" in scope
            or scope.get("fastapi.telemetry") is not None
            or self.router.form_limits
        ):
            await self.fallback(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        # A route whose path matches with another method is only a 405 if nothing matches fully: the
        # router's fallback finds it then.
        for entry in self._table(method):
            if not entry.plain:
                if entry.route.matches(scope)[0] is Match.FULL:
                    break  # the router decides (it will match the same route)
                continue
            found = entry.regex.match(path)
            if found is None:
                continue
            params = found.groupdict()
            for key, value in params.items():
                params[key] = entry.convertors[key].convert(value)
            path_params = dict(scope.get("path_params", {}))
            path_params.update(params)
            if "router" not in scope:
                scope["router"] = self.router
            scope["endpoint"], scope["path_params"] = entry.endpoint, path_params
            if entry.sets_route:
                scope["route"] = entry.route
            await entry.route.handle(scope, receive, send)
            return
        await self.fallback(scope, receive, send)


def include_flat(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)`` for a router with no prefix, dependencies or nested routers: its routes
    are added to the app itself, so a request is matched once, not by the inclusion and again inside it.

    FastAPI matches an included router's routes twice per request (to choose the inclusion, then the route
    in it), through per-request context lookups: 11% of the directory's time under load. The routes are
    the same (the app's dependency overrides apply, the OpenAPI document is unchanged). The app's router
    then matches through ``FlatRouter``.
    """
    if router.prefix or router.dependencies or router.callbacks:
        app.include_router(router)
        return
    if not isinstance(app.router.middleware_stack, FlatRouter):
        app.router.middleware_stack = FlatRouter(app.router)
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"include_flat takes API routes only, not {route!r}")
        app.router.add_api_route(
            route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            route_class_override=type(route),
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
        )
