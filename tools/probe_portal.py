"""A hostile caller against a running ``make run`` (it changes the demo data: run it on a copy).

    .venv/bin/python -m tools.probe_portal [--portal http://127.0.0.1:8100] [--users fecon-chair,ntl-chair]

For each demo user: every page reached from the dashboard (links and htmx parts, three deep, each kind of
page once), then every form seen there submitted three times with hostile values (non-finite and huge
numbers, invisible characters, formula cells, markup, impossible days, 20,000 characters, an edited
Idempotency-Key), then the portal's pages with ids no URL may carry. Prints the answers by status and
every server error; exits 1 if there was one. ``tests/portal/test_portal_every_page.py`` keeps the crawl
in the suite; the submits change state, so they stay a probe run on purpose.
"""

import argparse
import html
import random
import re
import sys
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import httpx

HOSTILE = ["NaN", "Infinity", "1e309", "-1", "99999999999999999999999", '=HYPERLINK("http://x")', "a\u200bb",
           "", " ", "x" * 20_000, "2026-13-45", "../../etc/passwd", "<script>", "\x00", "1.5"]  # fmt: skip
BAD_IDS = ["%00", "%E2%80%8B", "9" * 300, "..%2F..", "%FF", "NaN"]
ID_PAGES = ["/initiatives/{}", "/campaigns/{}", "/campaigns/{}/units/{}", "/ideas/{}", "/inspections/{}",
            "/inspections/checklists/{}", "/inspections/rounds/{}", "/inspections/radar/{}", "/awards/proposals/{}",
            "/awards/history/individual/{}", "/awards/documents/decision/{}/pdf/{}", "/public/awards/{}"]  # fmt: skip
LINK = re.compile(r'(?:href|hx-get)="([^"#]+)')  # links, and the parts htmx loads into a page
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
SKIP = re.compile(r"^/(sign-out|sign-in|static/|language)|/export|/download|/documents/")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def signed_in(portal: str, subject: str) -> httpx.Client:
    """A client signed in as a demo user, on the dashboard. No kept-alive connection: after a 500 the server
    closes it, and the next page would fail in the client."""
    fresh = httpx.Limits(max_keepalive_connections=0)
    client = httpx.Client(base_url=portal, timeout=60, follow_redirects=True, limits=fresh)
    page = client.get("/sign-in")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert page.status_code == 200 and csrf, f"no sign-in form (a portal with demo sign-in?): {page.text[:500]}"
    signed = client.post("/sign-in/demo", data={"subject": subject, "csrf": csrf.group(1), "next": "/dashboard"})
    assert signed.status_code == 200 and urlsplit(str(signed.url)).path == "/dashboard", signed.text[:500]
    return client


def kind_of(link: str) -> str:
    """A page's kind: its path with ids generalised (two initiatives are one kind of page)."""
    return UUID.sub("{id}", link.split("?")[0])


def crawl(client: httpx.Client, portal: str) -> list[tuple[str, int, str]]:
    """(path, status, html) of every kind of page reached from the dashboard."""
    pages: list[tuple[str, int, str]] = []
    kinds: set[str] = set()
    queue = deque([("/dashboard", 0)])
    while queue:
        path, depth = queue.popleft()
        kind = kind_of(path)
        if kind in kinds:
            continue
        kinds.add(kind)
        response = client.get(path)
        text = response.text if "text/html" in response.headers.get("content-type", "") else ""
        pages.append((path, response.status_code, text))
        for href in LINK.findall(text) if depth < 3 else []:
            target = urlsplit(urljoin(portal + path, html.unescape(href)))
            if f"{target.scheme}://{target.netloc}" == portal and not SKIP.search(target.path):
                queue.append((target.path + (f"?{target.query}" if target.query else ""), depth + 1))
    return pages


def forms(page: str) -> list[tuple[str, list[str], str]]:
    """(action, field names, csrf) of each POST form on a page."""
    found = []
    for form in FORM.findall(page):
        head = form[: form.index(">")]
        action = re.search(r'action="([^"]+)"', head)
        if action is None or 'method="post"' not in head:
            continue
        names = re.findall(r'<(?:input|select|textarea)\b[^>]*\bname="([^"]+)"', form)
        csrf = re.search(r'name="csrf" value="([^"]*)"', form)
        found.append((html.unescape(action.group(1)), names, csrf.group(1) if csrf else ""))
    return found


def probe(portal: str, subject: str, rng: random.Random) -> tuple[Counter[int], list[str]]:
    client = signed_in(portal, subject)
    client.follow_redirects = False  # a refused or accepted form's own answer (303, 422) is what is counted
    statuses: Counter[int] = Counter()
    failures: list[str] = []

    def answered(method: str, path: str, status: int, sent: object = None) -> None:
        statuses[status] += 1
        if status >= 500:
            failures.append(f"{subject}: {method} {path[:100]} → {status} {str(sent)[:200] if sent else ''}")

    pages = crawl(client, portal)
    for path, status, _ in pages:
        answered("GET", path, status)
    tried: set[str] = set()
    for _, _, page in pages:
        for action, names, csrf in forms(page):
            if "sign-out" in action or UUID.sub("{id}", action) in tried:
                continue
            tried.add(UUID.sub("{id}", action))
            for _ in range(3):
                body = {name: rng.choice(HOSTILE) for name in names} | {"csrf": csrf}
                try:
                    answered("POST", action, client.post(action, data=body).status_code, body)
                except httpx.HTTPError as error:
                    failures.append(f"{subject}: POST {action} → {error!r}")
    for template in ID_PAGES:
        for bad in BAD_IDS:
            path = template.format(*[bad] * template.count("{}"))
            answered("GET", path, client.get(path).status_code)
    return statuses, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--portal", default="http://127.0.0.1:8100")
    parser.add_argument("--users", default="admin,ntl-chair,dd-chair,fecon-chair,fecon-member")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng, failed = random.Random(args.seed), False
    for subject in args.users.split(","):
        statuses, failures = probe(args.portal, subject, rng)
        print(f"{subject}: {dict(sorted(statuses.items()))}")
        for failure in failures:
            print(f"  SERVER ERROR {failure}")
        failed |= bool(failures)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
