"""Wiring of the portal: settings, the platform clients, sessions, sign-in, pages, static files.

Run with ``uvicorn --factory services.portal.entrypoints.main:create_app`` (nothing opens at import).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from services.portal.adapters.exports import ExportJobs
from services.portal.adapters.oidc import OidcClient
from services.portal.adapters.platform import Platform, Problem, Topology
from services.portal.adapters.sessions import SessionStore
from services.portal.entrypoints import (
    auth,
    award_records,
    awards,
    book,
    dashboard,
    grading,
    initiatives,
    inspections,
    pledges,
)
from services.portal.entrypoints.i18n import _
from services.portal.entrypoints.problems import explain
from services.portal.entrypoints.settings import PortalSettings
from services.portal.entrypoints.web import HERE, CsrfRefused, SessionMiddleware, SignInRequired, render, templates
from shared.settings import Settings
from shared.tokens import issue_token


def create_app(settings: Settings | None = None) -> FastAPI:
    if not isinstance(settings, PortalSettings):  # the platform's own settings (e.g. the contract exporter)
        settings = PortalSettings(**(settings.model_dump(exclude={"service"}) if settings else {}))
    topology = Topology(settings.service_urls(), dict(settings.level_hosts), tuple(settings.levels))
    platform = Platform(topology, settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.exports.close()
        await platform.close()

    app = FastAPI(title="thidua portal", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.settings = settings
    app.state.platform = platform
    app.state.templates = templates()
    app.state.sessions = SessionStore(settings.session_ttl_seconds)
    app.state.exports = ExportJobs(platform, settings.export_dir)
    app.state.features = {name: name in topology.services for name in ("inspections", "awards")}
    app.state.oidc = None
    if settings.oidc_issuer:
        redirect_uri = settings.portal_url.rstrip("/") + "/auth/callback"
        app.state.oidc = OidcClient(
            settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, redirect_uri, platform.http
        )
    public = settings.public_token
    if public is None and settings.demo_sign_in:  # the local run reads the public page as the operator
        public = issue_token(settings, "admin", ttl_seconds=settings.jwt_max_lifetime_seconds)
    app.state.public_token = public

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for module in (auth, dashboard, initiatives, pledges, book, awards, award_records, grading, inspections):
        app.include_router(module.router)

    @app.get("/health", include_in_schema=False)
    async def health() -> JSONResponse:
        return JSONResponse({"status": "ok", "service": "portal"})

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _error: SignInRequired) -> Response:
        target = request.url.path + (("?" + request.url.query) if request.url.query else "")
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/sign-in"})
        return Response(status_code=303, headers={"Location": "/sign-in?next=" + quote(target)})

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _error: CsrfRefused) -> Response:
        message = _("This form has expired or did not come from this site. Reload the page and try again.")
        return render(request, "error.html", status=403, message=message)

    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> Response:
        if problem.status == 401:
            request.state.session.person = None
            return Response(status_code=303, headers={"Location": "/sign-in"})
        if problem.status in (403, 404):  # outside your unit is "not there": nothing said about what exists
            return render(request, "error.html", status=404, message=_("Not found, or outside your unit."))
        said = explain(problem)
        message = " ".join([*said.general, *said.fields.values()])
        return render(request, "error.html", status=problem.status, message=message)

    app.add_middleware(SessionMiddleware, store=app.state.sessions, settings=settings)
    return app
