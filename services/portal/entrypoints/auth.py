"""Sign-in (the demo users of a local run, or OpenID Connect with PKCE), sign-out and the language switch."""

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.portal.adapters.oidc import OidcError
from services.portal.adapters.platform import DEMO_USERS, Problem
from services.portal.entrypoints.i18n import LANGUAGES, _
from services.portal.entrypoints.web import Api, Form, redirect, render, session_of

router = APIRouter()


def _safe_next(value: object) -> str:
    """Only a path of this site (never another origin) may be the page after sign-in."""
    text = str(value or "")
    return text if text.startswith("/") and not text.startswith("//") and "\\" not in text else "/dashboard"


@router.get("/")
async def home(request: Request) -> Response:
    return redirect("/dashboard" if session_of(request).person else "/sign-in")


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/dashboard") -> Response:
    settings = request.app.state.settings
    demo = DEMO_USERS if settings.demo_sign_in else ()
    return render(request, "sign_in.html", demo_users=demo, oidc=bool(settings.oidc_issuer), next_url=_safe_next(next))


@router.post("/sign-in/demo")
async def sign_in_demo(request: Request, form: Form, api: Api) -> Response:
    if not request.app.state.settings.demo_sign_in:
        return render(request, "error.html", status=404, message=_("Demo sign-in is off on this portal."))
    user = next((u for u in DEMO_USERS if u.subject == form.get("subject")), None)
    if user is None:
        return render(request, "error.html", status=422, message=_("Choose one of the demo users."))
    token = await api.demo_token(user)
    person = await api.person(token, user.label)
    session = request.app.state.sessions.rotate(session_of(request))
    session.token, session.person, session.demo = token, person, True
    request.state.session = session
    return redirect(_safe_next(form.get("next")))


@router.get("/sign-in/oidc")
async def sign_in_oidc(request: Request, next: str = "/dashboard") -> Response:
    oidc = request.app.state.oidc
    if oidc is None:
        return render(request, "error.html", status=404, message=_("No identity provider is configured."))
    try:
        url, pending = await oidc.start(_safe_next(next))
    except OidcError as error:
        return render(request, "error.html", status=502, message=str(error))
    session_of(request).pending_oidc = pending
    return redirect(url)


@router.get("/auth/callback")
async def oidc_callback(
    request: Request, api: Api, code: str = "", state: str = "", error: str = "", error_description: str = ""
) -> Response:
    oidc, session = request.app.state.oidc, session_of(request)
    pending, session.pending_oidc = session.pending_oidc, None  # one use only
    if oidc is None or pending is None:
        return render(request, "error.html", status=400, message=_("This sign-in was not started here. Start again."))
    if error:
        return render(
            request, "error.html", status=401, message=f"{_('Sign-in refused.')} {error_description or error}"
        )
    try:
        done = await oidc.finish(pending, state, code)
        person = await api.person(done.access_token, done.name)
    except OidcError as failure:
        return render(request, "error.html", status=401, message=f"{_('Sign-in failed.')} {failure}")
    except Problem as problem:
        return render(request, "error.html", status=401, message=f"{_('Sign-in failed.')} {problem}")
    fresh = request.app.state.sessions.rotate(session)
    fresh.token, fresh.id_token, fresh.person = done.access_token, done.id_token, person
    request.state.session = fresh
    return redirect(pending.next_url)


@router.post("/sign-out")
async def sign_out(request: Request, form: Form) -> Response:
    session = session_of(request)
    oidc, id_token = request.app.state.oidc, session.id_token
    request.app.state.sessions.drop(session)
    request.state.session = request.app.state.sessions.new(session.locale)
    if oidc is not None and id_token:
        after = request.app.state.settings.portal_url.rstrip("/") + "/sign-in"
        url = await oidc.end_session_url(id_token, after)
        if url:
            return redirect(url)
    return redirect("/sign-in")


@router.post("/language")
async def language(request: Request, form: Form) -> Response:
    chosen = str(form.get("lang") or "")
    if chosen in LANGUAGES:
        session_of(request).locale = chosen
    back = _safe_next(form.get("back"))
    return redirect(back if back != "/dashboard" or session_of(request).person else "/sign-in")


def sign_in_url(request: Request) -> str:
    return "/sign-in?next=" + quote(request.url.path + (("?" + request.url.query) if request.url.query else ""))
