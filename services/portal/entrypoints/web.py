"""What every page shares: the session (cookie → server-side session), CSRF on every form, the signed-in
person, templates with the language's formats, and the way a refusal is shown."""

import re
import secrets
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.datastructures import FormData
from starlette.types import ASGIApp, Receive, Scope, Send

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Person, Session, SessionStore
from services.portal.entrypoints import i18n
from services.portal.entrypoints.abilities import may_launch_campaigns, may_propose_awards
from services.portal.entrypoints.i18n import _
from services.portal.entrypoints.problems import Said, explain
from services.portal.entrypoints.settings import PortalSettings
from shared.subjects import in_subtree

HERE = Path(__file__).resolve().parent
COOKIE = "thidua_session"


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=False)  # type: ignore[attr-defined]
    env.globals["label"] = i18n.label
    env.globals["tf"] = i18n._  # tf("… {n} …", n=3): translated and filled
    env.globals.update(may_launch_campaigns=may_launch_campaigns, may_propose_awards=may_propose_awards)
    env.filters.update(
        number=i18n.number, percent=i18n.percent, vnd=i18n.vnd, day=i18n.day, moment=i18n.moment, age=i18n.age
    )
    return env


class SessionMiddleware:
    """Loads (or starts) the session named by the cookie, sets the language, and writes the cookie back."""

    def __init__(self, app: ASGIApp, store: SessionStore, settings: PortalSettings) -> None:
        self.app, self.store, self.settings = app, store, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            return await self.app(scope, receive, send)
        cookies = Request(scope).cookies
        session = self.store.get(cookies.get(COOKIE))
        fresh = session is None
        if session is None:
            session = self.store.new()
        scope.setdefault("state", {})["session"] = session
        token = i18n.current_locale.set(session.locale)

        async def send_with_cookie(message: Any) -> None:
            if message["type"] == "http.response.start":
                current: Session = scope["state"]["session"]
                headers = list(message.get("headers", []))
                if fresh or current.id != session.id:
                    headers.append((b"set-cookie", self._cookie(current).encode()))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.current_locale.reset(token)

    def _cookie(self, session: Session) -> str:
        parts = [
            f"{COOKIE}={session.id}",
            "Path=/",
            "HttpOnly",
            "SameSite=Lax",
            f"Max-Age={self.settings.session_ttl_seconds}",
        ]
        if self.settings.cookie_secure:
            parts.append("Secure")
        return "; ".join(parts)


# No external origin, no inline script or style: everything the page runs is vendored under /static.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def session_of(request: Request) -> Session:
    return request.state.session


class SignInRequired(Exception):
    """Raised by pages that need a person; the app answers with a redirect to the sign-in page."""


class CsrfRefused(Exception):
    pass


async def signed_in(request: Request) -> Session:
    session = session_of(request)
    if session.person is None or session.token is None:
        raise SignInRequired
    return session


async def csrf_form(request: Request) -> FormData:
    """Every form posts the session's CSRF token (htmx sends it as a header): else 403 and nothing happens."""
    form = await request.form()
    sent = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    session = session_of(request)
    if not sent or not secrets.compare_digest(sent, session.csrf):
        raise CsrfRefused
    return form


SignedIn = Annotated[Session, Depends(signed_in)]
Form = Annotated[FormData, Depends(csrf_form)]


def platform_of(request: Request) -> Platform:
    return request.app.state.platform


Api = Annotated[Platform, Depends(platform_of)]


def new_key() -> str:
    """An Idempotency-Key made when a form is rendered: the same form sent twice acts once."""
    return str(uuid.uuid4())


_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # what a header may carry and the services accept


def form_key(form: Any) -> str:
    """The form's Idempotency-Key as rendered; one a browser could not have sent (edited: a control or
    non-ASCII character, too long) is replaced, so the command still acts once per submit."""
    key = str(form.get("idempotency_key") or "")
    return key if _KEY.fullmatch(key) else new_key()


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    session = session_of(request)
    env: Environment = request.app.state.templates
    flash, session.flash = session.flash, []
    html = env.get_template(template).render(
        request=request,
        session=session,
        person=session.person,
        csrf=session.csrf,
        locale=session.locale,
        languages=i18n.LANGUAGES,
        flash=flash,
        features=request.app.state.features,
        new_key=new_key,
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def refused(problem: Problem) -> Said:
    return explain(problem)


def require_sees(person: Person, path: str) -> None:
    """The portal's own guard on what it asks level hosts for (they check the token as well)."""
    if not in_subtree(path, person.unit_path) and "admin" not in person.roles:
        raise Problem(404, {"detail": f"{path} is not in your unit", "code": "portal.not_found"})


def role_required(request: Request, doing: str, roles: tuple[str, ...]) -> Response:
    """The page a person gets who opens a form their roles do not allow: what it needs, who to ask."""
    needed = ", ".join(i18n.label(r) for r in roles)
    message = _("{doing} needs one of these roles in your unit: {roles}. Ask your union's chair.", doing=doing,
                roles=needed)  # fmt: skip
    return render(request, "error.html", status=403, message=message)


def hx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"
