"""Every page a signed-in person can reach by following links answers, for every demo user: a crawl of the
live portal (the session's started platform, the demo city loaded) from the dashboard, three links deep,
each kind of page once, over plain HTTP. Every link the portal shows a person opens for that
person (a 5xx is a failure, a 403/404 a link that should not have been shown); the journeys drive the forms,
this walks what no journey opens."""

import re
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest

from tests.portal.platform_harness import Platform
from tools.probe_portal import LINK, kind_of, signed_in

# The operator, a district, a grassroots union's chair and one of its members: each sees other links.
USERS = ["admin", "ntl-chair", "fecon-chair", "fecon-member"]
# Links that end the session, download files or change the language: not pages to crawl (unlike the probe,
# the documents a page links are fetched: a link shown to someone who may not open it is a failure).
SKIP = re.compile(r"^/(sign-out|sign-in|static/|language)|/export|\.(xlsx|csv|docx|pdf|zip)$|/download|/dossier")
DEPTH, PAGES, PER_KIND = 3, 60, 1  # per user: every kind of page once, bounded in time


@pytest.mark.parametrize("subject", USERS)
def test_every_page_a_person_can_reach_answers_without_a_server_error(platform: Platform, subject: str) -> None:
    client = signed_in(platform.portal_url, subject)
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
        for href in LINK.findall(response.text):
            target = urlsplit(urljoin(platform.portal_url + path, href.replace("&amp;", "&")))
            link = target.path + (f"?{target.query}" if target.query else "")
            if f"{target.scheme}://{target.netloc}" == platform.portal_url and not SKIP.search(target.path):
                queue.append((link, depth + 1))
    failed = {path: status for path, status in seen.items() if status >= 500}
    assert not failed, f"{subject}: server errors on {failed}"
    assert seen["/dashboard"] == 200 and len(kinds) > 10, seen  # the crawl went somewhere
    broken = {path: status for path, status in seen.items() if status != 200}
    assert not broken, f"{subject}: links the portal showed that do not open: {broken}"
