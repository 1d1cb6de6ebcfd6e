"""Browser fixtures: one started platform for every journey (session scope), Debian's Chromium driven by
Playwright (never a downloaded browser), axe-core injected on every journey page, screenshots at desktop
width and at 390 px under ``test-output/portal/`` (gitignored)."""

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from shared.settings import Settings
from shared.tokens import issue_token
from tests.portal.platform_harness import REPO, Platform

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
OUTPUT = REPO / "test-output" / "portal"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _wait_for_demo(platform: Platform, seconds: float = 120) -> None:
    """The demo city is loaded and projected at every level the journeys read (read as the operator)."""
    levels = platform.levels
    checks = [
        (levels["registry"]["hn.ntl"] + "/registry/inbox", lambda b: len(b["items"]) > 0),
        (levels["registry"]["hn"] + "/registry/book?limit=1", lambda b: b["total"] > 0),
        (levels["pledges"]["hn.ntl"] + "/pledges/campaigns", lambda b: len(b["campaigns"]) > 0),
        (levels["pledges"]["hn.dd"] + "/pledges/campaigns", lambda b: len(b["campaigns"]) > 0),
    ]
    admin = {"Authorization": f"Bearer {issue_token(Settings(local=True), 'admin')}"}
    deadline = time.monotonic() + seconds
    for url, ready in checks:
        while True:
            try:
                if ready(httpx.get(url, timeout=5, headers=admin).json()):
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the demo city did not reach {url} within {seconds}s")
            time.sleep(0.5)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing at /usr/bin/chromium: apt-get install -y chromium (.ci/run does)")
    started = Platform(tmp_path_factory.mktemp("portal-platform"))
    try:
        started.start()
        _wait_for_demo(started)
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def browser(platform: Platform) -> Iterator[object]:
    """Module scope: Playwright's sync API runs an event loop of its own while open, which async tests of
    other modules (pytest-asyncio) cannot share; the journeys all live in one module."""
    from playwright.sync_api import sync_playwright

    OUTPUT.mkdir(parents=True, exist_ok=True)
    for old in [*OUTPUT.glob("*.png"), *OUTPUT.glob("*.html")]:
        old.unlink()
    with sync_playwright() as playwright:
        # launch() gives every run a fresh, empty user-data-dir of its own.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


class Visitor:
    """One person in their own browser context (own cookies), with the checks every journey page gets."""

    def __init__(self, browser: object, platform: Platform, journey: str) -> None:
        # The page's CSP forbids inline scripts; the test's own axe injection is let through.
        self.context = browser.new_context(viewport=DESKTOP, bypass_csp=True, locale="vi-VN")  # type: ignore[attr-defined]
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.url, self.journey, self.shots, self.who = platform.portal_url, journey, 0, "anonymous"
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def go(self, path: str) -> object:
        return self.page.goto(self.url + path)

    def sign_in(self, subject: str) -> None:
        self.who = subject
        self.go("/sign-in")
        self.page.locator(f"form:has(input[name=subject][value='{subject}']) button").click()
        self.page.wait_for_url(re.compile(r".*/dashboard.*"))

    def check(self, name: str) -> None:
        """axe-core on the page (no serious or critical violation), then screenshots at both widths."""
        page = self.page
        page.wait_for_load_state("networkidle")
        page.add_script_tag(content=AXE.read_text())
        result = page.evaluate(
            "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
            "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        )
        bad = [
            {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"][:5]]}
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"axe found serious/critical violations on {name}: {json.dumps(bad, ensure_ascii=False)}"
        self.shots += 1
        stem = OUTPUT / f"{self.journey}-{self.who}-{self.shots:02d}-{name}"
        page.screenshot(path=f"{stem}-desktop.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=f"{stem}-390.png", full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        page.set_viewport_size(DESKTOP)
        assert overflow <= 1, f"{name} is wider than a 390 px phone by {overflow}px"
        assert not self.errors, f"script errors on {name}: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: object, platform: Platform, request: pytest.FixtureRequest) -> Iterator[Callable[[str], Visitor]]:
    opened: list[Visitor] = []

    def open_as(subject: str | None = None) -> Visitor:
        visitor = Visitor(browser, platform, request.node.name.removeprefix("test_"))
        opened.append(visitor)
        if subject:
            visitor.sign_in(subject)
        return visitor

    yield open_as
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for index, visitor in enumerate(opened):
        if failed:  # what each browser showed when the journey failed, for the person reading the failure
            stem = OUTPUT / f"FAILED-{visitor.journey}-{index}-{visitor.who}"
            visitor.page.screenshot(path=f"{stem}.png", full_page=True)
            Path(f"{stem}.html").write_text(visitor.page.content())
        visitor.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def member_name(platform: Platform, demo_user: str) -> str:
    """The full name of the directory member a demo user is: the portal shows who acted by name."""
    admin = {"Authorization": f"Bearer {issue_token(Settings(local=True), 'admin')}"}
    found = httpx.get(f"{platform.urls['directory']}/members/{member_id(platform, demo_user)}", headers=admin)
    return found.json()["full_name"]


def member_id(platform: Platform, demo_user: str) -> str:
    """The directory member a demo user is (tokens name members)."""
    from demo.users import DEMO_USERS

    user = DEMO_USERS[demo_user]
    admin = {"Authorization": f"Bearer {issue_token(Settings(local=True), 'admin')}"}
    directory = platform.urls["directory"]
    unit = httpx.get(f"{directory}/units/by-path/{user.path}", headers=admin).json()
    page = httpx.get(f"{directory}/units/{unit['unit_id']}/members", params={"limit": 500}, headers=admin).json()
    return next(m["member_id"] for m in page["items"] if (user.role in m["roles"] if user.role else not m["roles"]))
