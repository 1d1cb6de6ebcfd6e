"""The portal's own guarantees over plain HTTP against the started platform: the session cookie, CSRF on
every form, a double submit that acts once, sign-out, no open redirect, the catalogs complete."""

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir

from services.portal.entrypoints import i18n
from services.portal.entrypoints.main import create_app
from services.portal.entrypoints.settings import PortalSettings
from services.portal.entrypoints.web import csrf_form
from tests.portal.platform_harness import Platform

PORTAL = Path(__file__).resolve().parents[2] / "services" / "portal"


def _hidden(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert found, f"no {name} in the page"
    return found.group(1)


def _signed_in(platform: Platform, subject: str) -> httpx.Client:
    client = httpx.Client(base_url=platform.portal_url, timeout=30)
    page = client.get("/sign-in").text
    answer = client.post("/sign-in/demo", data={"csrf": _hidden(page, "csrf"), "subject": subject, "next": "/ideas"})
    assert answer.status_code == 303 and answer.headers["location"] == "/ideas"
    return client


def _idea_count(client: httpx.Client, text: str) -> int:
    return client.get("/ideas").text.count(text)


def test_the_session_cookie_is_httponly_and_samesite_and_pages_forbid_outside_scripts(platform: Platform) -> None:
    response = httpx.get(platform.portal_url + "/sign-in")
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no external origin at all
    assert 'src="http' not in response.text and 'href="http' not in response.text  # no CDN


def test_signing_in_gives_a_new_session_id_and_signing_out_ends_it(platform: Platform) -> None:
    client = httpx.Client(base_url=platform.portal_url, timeout=30)
    page = client.get("/sign-in").text
    before = client.cookies["thidua_session"]
    client.post("/sign-in/demo", data={"csrf": _hidden(page, "csrf"), "subject": "ntl-chair", "next": "/ideas"})
    after = client.cookies["thidua_session"]
    assert after != before  # no session fixation
    ideas = client.get("/ideas")
    assert ideas.status_code == 200 and "Đăng xuất" in ideas.text
    out = client.post("/sign-out", data={"csrf": _hidden(ideas.text, "csrf")})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in"
    again = client.get("/ideas")
    assert again.status_code == 303 and again.headers["location"].startswith("/sign-in?next=")


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(platform: Platform) -> None:
    client = _signed_in(platform, "fecon-member")
    text = "Ý tưởng gửi từ trang khác không có mã chống giả mạo"
    refused = client.post("/ideas", data={"text": text, "idempotency_key": "k-csrf-1"})
    assert refused.status_code == 403
    assert "Biểu mẫu đã hết hạn hoặc không xuất phát từ trang này" in refused.text
    wrong = client.post("/ideas", data={"text": text, "csrf": "not-the-token"})
    assert wrong.status_code == 403
    assert _idea_count(client, text) == 0
    # Nor can another site sign someone in: the sign-in form has its token too.
    stranger = httpx.post(platform.portal_url + "/sign-in/demo", data={"subject": "admin"})
    assert stranger.status_code == 403


def test_a_double_submit_of_the_same_form_acts_once(platform: Platform) -> None:
    client = _signed_in(platform, "fecon-member")
    page = client.get("/ideas").text
    form = {
        "csrf": _hidden(page, "csrf"),
        "idempotency_key": _hidden(page, "idempotency_key"),  # made when the form was rendered
        "text": "Ý tưởng gửi hai lần vì mạng chậm: chỉ được ghi một lần",
    }
    first = client.post("/ideas", data=form)
    second = client.post("/ideas", data=form)
    assert first.status_code == second.status_code == 303
    assert _idea_count(client, form["text"]) == 1
    # A new rendering of the form has a new key: a deliberate second idea is a second idea.
    assert _hidden(client.get("/ideas").text, "idempotency_key") != form["idempotency_key"]


def test_after_sign_in_the_portal_never_sends_a_person_to_another_site(platform: Platform) -> None:
    client = httpx.Client(base_url=platform.portal_url, timeout=30)
    page = client.get("/sign-in?next=//evil.example/x").text
    assert _hidden(page, "next") == "/dashboard"
    answer = client.post(
        "/sign-in/demo", data={"csrf": _hidden(page, "csrf"), "subject": "dd-chair", "next": "//evil.example/x"}
    )
    assert answer.headers["location"] == "/dashboard"


def test_every_form_route_checks_the_csrf_token() -> None:
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

    modules = (auth, awards, award_records, book, dashboard, grading, initiatives, inspections, pledges)
    routes = [r for m in modules for r in m.router.routes]
    assert create_app(PortalSettings(demo_sign_in=True))  # these are the routers the app includes
    posts = [r for r in routes if "POST" in getattr(r, "methods", set())]
    assert posts
    for route in posts:
        calls = {d.call for d in route.dependant.dependencies}  # type: ignore[attr-defined]
        assert csrf_form in calls, f"{route.path} takes a form without checking its CSRF token"  # type: ignore[attr-defined]


def test_every_message_has_a_vietnamese_translation() -> None:
    """Messages in the code and templates (pybabel's extraction) are all in the Vietnamese catalog."""
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(PORTAL), method_map, options, keywords={"_": None, "N_": None, "tf": None})
    }
    vietnamese = i18n.catalog("vi")
    missing = sorted(m for m in found if m and m not in vietnamese)
    assert not missing, f"messages without a Vietnamese translation (make portal-messages): {missing}"


@pytest.mark.parametrize(
    ("locale", "number", "day", "percent"),
    [("vi", "1.789", "30/11/2026", "117,78%"), ("en", "1,789", "30/11/2026", "117.78%")],
)
def test_numbers_and_dates_follow_the_language(locale: str, number: str, day: str, percent: str) -> None:
    token = i18n.current_locale.set(locale)
    try:
        assert i18n.number(1789) == number
        assert i18n.day("2026-11-30") == day
        assert i18n.percent(117.78) == percent
        assert i18n.vnd(150_000_000) == ("150.000.000 ₫" if locale == "vi" else "150,000,000 ₫")
    finally:
        i18n.current_locale.reset(token)
