"""Every page a signed-in person can reach by following links answers, for every demo user: a crawl of the
live portal (the session's started platform, the demo city loaded) from the dashboard, three links deep,
each kind of page once, over plain HTTP. Every link the portal shows a person opens for that
person (a 5xx is a failure, a 403/404 a link that should not have been shown); the journeys drive the forms,
this walks what no journey opens."""

import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from tests.portal.platform_harness import Platform

# The operator, a district, a grassroots union's chair and one of its members: each sees other links.
USERS = ["admin", "ntl-chair", "fecon-chair", "fecon-member"]
HREF = re.compile(r'(?:href|hx-get)="([^"#]+)')  # links, and the parts htmx loads into a page
# Links that end the session, download files or change the language: not pages to crawl.
SKIP = re.compile(r"^/(sign-out|sign-in|static/|language)|/export|\.(xlsx|csv|docx|pdf|zip)$|/download|/dossier")
ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
DEPTH, PAGES, PER_KIND = 3, 60, 1  # per user: every kind of page once, bounded in time


def kind_of(link: str) -> str:
    """A page's kind: its path with ids generalised (two initiatives are one kind of page)."""
    return ID.sub("{id}", link.split("?")[0])


def signed_in(platform: Platform, subject: str) -> httpx.Client:
    # No kept-alive connection: after a 500 the server closes it, and the next page would fail in the client.
    fresh = httpx.Limits(max_keepalive_connections=0)
    client = httpx.Client(base_url=platform.portal_url, timeout=30, follow_redirects=True, limits=fresh)
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf, page.text[:500]
    signed = client.post("/sign-in/demo", data={"subject": subject, "csrf": csrf.group(1), "next": "/dashboard"})
    assert signed.status_code == 200 and urlsplit(str(signed.url)).path == "/dashboard", signed.text[:500]
    return client


@pytest.mark.parametrize("subject", USERS)
def test_every_page_a_person_can_reach_answers_without_a_server_error(platform: Platform, subject: str) -> None:
    client = signed_in(platform, subject)
    seen: dict[str, int] = {}
    kinds: Counter[str] = Counter()
    queue = deque([("/dashboard", 0)])
    while queue and len(seen) < PAGES:
        path, depth = queue.popleft()
        if path in seen or kinds[kind_of(path)] >= PER_KIND:
            continue
        kinds[kind_of(path)] += 1
        response = client.get(path)
        seen[path] = response.status_code
        if depth >= DEPTH or "text/html" not in response.headers.get("content-type", ""):
            continue
        for href in HREF.findall(response.text):
            target = urlsplit(urljoin(platform.portal_url + path, href.replace("&amp;", "&")))
            link = target.path + (f"?{target.query}" if target.query else "")
            if f"{target.scheme}://{target.netloc}" == platform.portal_url and not SKIP.search(target.path):
                queue.append((link, depth + 1))
    failed = {path: status for path, status in seen.items() if status >= 500}
    assert not failed, f"{subject}: server errors on {failed}"
    assert seen["/dashboard"] == 200 and len(kinds) > 10, seen  # the crawl went somewhere
    broken = {path: status for path, status in seen.items() if status != 200}
    assert not broken, f"{subject}: links the portal showed that do not open: {broken}"
