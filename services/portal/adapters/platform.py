"""The portal's one door to the platform: HTTP clients of the services (commands and their queries) and of
the level hosts (each level's read models), always with the signed-in person's bearer token.

Everything that knows a URL, a header or how a level is addressed lives here, so that a change in how
the platform is reached (the kit's level hosts at ``/levels/{level}/…``, the directory-based token) is a
change in this one module.
"""

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.portal.adapters.sessions import Person
from shared.settings import Settings
from shared.subjects import in_subtree
from shared.tokens import Unauthenticated, issue_token, token_subject

SERVICES = ("directory", "registry", "pledges", "inspections", "awards")


@dataclass
class Problem(Exception):
    """A service refused: its status and body (RFC 9457 problem details, or the older ``detail`` shape)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status}: {self.body.get('detail') or self.body.get('title') or ''}"

    @property
    def code(self) -> str | None:
        return self.body.get("code")


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any
    replayed: bool = False  # the service answered an Idempotency-Key it had seen: the command acted once


@dataclass(frozen=True)
class Topology:
    """Where each service and each level host answers.

    ``levels`` maps a service to a URL template with ``{level}`` (a level host serving many levels), or
    to a table level → base URL (one process per level).
    """

    services: dict[str, str]
    levels: dict[str, str | dict[str, str]]
    served: tuple[str, ...] = ()  # the levels a templated host serves, when the deployment says which

    def service(self, name: str) -> str:
        if name not in self.services:
            raise Problem(503, {"detail": f"the {name} service is not configured", "code": "portal.unavailable"})
        return self.services[name].rstrip("/")

    def served_levels(self, service: str) -> list[str]:
        where = self.levels.get(service)
        return sorted(where) if isinstance(where, dict) else []

    def level_base(self, service: str, level: str) -> str:
        where = self.levels.get(service)
        if isinstance(where, str):
            return where.format(level=level).rstrip("/")
        if isinstance(where, dict) and level in where:
            return where[level].rstrip("/")
        raise Problem(404, {"detail": f"no {service} level host serves {level}", "code": "portal.no_level"})

    def level_for(self, service: str, unit_path: str, known: list[str]) -> str:
        """The deepest served level whose subtree holds the unit (a grassroots union reads its district's).

        A host serving any level by template (``…/levels/{level}``) serves the city and the upper-level
        unions (DESIGN §3: grassroots units run no projection of their own): at most two path tokens.
        """
        if isinstance(self.levels.get(service), str) and not (known or self.served):
            return ".".join(unit_path.split(".")[:2])
        served = self.served_levels(service) or known or list(self.served)
        holding = [level for level in served if in_subtree(unit_path, level)]
        if not holding:
            raise Problem(404, {"detail": f"no level serves {unit_path}", "code": "portal.no_level"})
        return max(holding, key=lambda level: level.count("."))


class Platform:
    """Async HTTP to services and level hosts; one connection pool for the portal's life."""

    def __init__(
        self,
        topology: Topology,
        settings: Settings,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.topology, self.settings = topology, settings
        self._names: dict[str, tuple[float, str]] = {}
        self._people: dict[str, tuple[float, str]] = {}
        self.http = httpx.AsyncClient(timeout=timeout, transport=transport)

    async def close(self) -> None:
        await self.http.aclose()

    @staticmethod
    def _headers(token: str | None, idempotency_key: str | None = None) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    @staticmethod
    def _body(response: httpx.Response) -> Any:
        if not response.content:
            return {}
        try:
            return response.json()
        except json.JSONDecodeError:
            return {"detail": response.text[:500]}

    async def _send(self, method: str, url: str, **request: Any) -> httpx.Response:
        """One request to the platform; a service that does not answer is the portal's 503."""
        try:
            return await self.http.request(method, url, **request)
        except httpx.InvalidURL as error:  # an id from the address bar no URL may carry (a NUL, a control)
            raise Problem(404, {"detail": f"not found ({error})", "code": "portal.not_found"}) from error
        except httpx.HTTPError as error:
            raise Problem(503, {"detail": f"{url} did not answer ({error})", "code": "portal.unavailable"}) from error

    def _answer(self, response: httpx.Response) -> Any:
        """The response's JSON body; a refusal (≥ 400) raised as the service's problem."""
        body = self._body(response)
        if response.status_code >= 400:
            raise Problem(response.status_code, body if isinstance(body, dict) else {"detail": str(body)})
        return body

    @staticmethod
    def _params(params: dict[str, Any] | None) -> dict[str, Any]:
        return {k: v for k, v in (params or {}).items() if v is not None and v != ""}

    async def _get(self, url: str, token: str | None, params: dict[str, Any] | None) -> Any:
        return self._answer(await self._send("GET", url, params=self._params(params), headers=self._headers(token)))

    async def query(self, service: str, path: str, token: str | None, **params: Any) -> Any:
        """A read of a service's own (command-side) queries."""
        return await self._get(self.topology.service(service) + path, token, params)

    async def level(self, service: str, level: str, path: str, token: str | None, **params: Any) -> Any:
        """A read of one level's read model on its level host."""
        return await self._get(self.topology.level_base(service, level) + path, token, params)

    async def download(self, service: str, level: str, path: str, token: str | None, **params: Any) -> httpx.Response:
        """A level host's export (a book), passed through as it is; a host that does not answer is a 503."""
        url = self.topology.level_base(service, level) + path
        response = await self._send("GET", url, params=self._params(params), headers=self._headers(token), timeout=300)
        if response.status_code >= 400:
            raise Problem(response.status_code, self._body(response))
        return response

    async def command(self, service: str, method: str, path: str, token: str, body: Any, idempotency_key: str) -> Reply:
        """Send a command with the key made when its form was rendered: a double submit acts once."""
        url = self.topology.service(service) + path
        response = await self._send(method, url, json=body, headers=self._headers(token, idempotency_key))
        return Reply(
            response.status_code, self._answer(response), response.headers.get("Idempotent-Replayed") == "true"
        )

    async def upload(
        self, service: str, path: str, token: str, data: dict[str, str], file: tuple[str, bytes, str]
    ) -> Any:
        """A multipart upload (an evidence file) with the person's token; the service checks the file."""
        url = self.topology.service(service) + path
        return self._answer(
            await self._send("POST", url, data=data, files={"file": file}, headers=self._headers(token))
        )

    async def fetch(self, service: str, path: str, token: str | None, **params: Any) -> httpx.Response:
        """A document of a service (not a level host), passed through as it is (a dossier, a decision)."""
        url = self.topology.service(service) + path
        response = await self._send("GET", url, params=self._params(params), headers=self._headers(token), timeout=120)
        if response.status_code >= 400:
            raise Problem(response.status_code, self._body(response))
        return response

    async def unit_names(self, paths: list[str], token: str | None) -> dict[str, str]:
        """Unit names for paths (kept five minutes: names change rarely, pages show many)."""
        now, wanted = time.monotonic(), sorted(set(paths))
        missing = [p for p in wanted if p not in self._names or self._names[p][0] < now]

        async def one(path: str) -> None:
            try:
                unit = await self.query("directory", f"/units/by-path/{path}", token)
                self._names[path] = (now + 300, unit.get("name") or path)
            except Problem:
                self._names[path] = (now + 30, path)

        await asyncio.gather(*(one(p) for p in missing[:100]))
        return {p: self._names.get(p, (0, p))[1] for p in wanted}

    async def people(self, member_ids: list[str], token: str | None) -> dict[str, str]:
        """Full names for the member ids events record as actors (kept five minutes); an id the person may
        not see, or that is no member (a platform task, the operator), stays as it is."""
        now, wanted = time.monotonic(), sorted({m for m in member_ids if m})
        missing = [m for m in wanted if m not in self._people or self._people[m][0] < now]

        async def one(member_id: str) -> None:
            try:
                member = await self.query("directory", f"/members/{member_id}", token)
                self._people[member_id] = (now + 300, member.get("full_name") or member_id)
            except Problem:
                self._people[member_id] = (now + 30, member_id)

        await asyncio.gather(*(one(m) for m in missing[:100]))
        return {m: self._people.get(m, (0, m))[1] for m in wanted}

    # -- who is signed in ------------------------------------------------------------------------------

    async def person(self, token: str, name: str | None = None) -> Person:
        """The person a token names, with the unit and roles the directory gives them now (``/me``)."""
        try:
            subject = token_subject(self.settings, token)
        except Unauthenticated as error:
            raise Problem(401, {"detail": error.message, "code": "unauthenticated"}) from error
        me = await self.query("directory", "/me", token)
        unit_path = me.get("unit_path") or self.settings.public_level  # the platform operator is in no unit
        unit_name = me.get("unit_name") or unit_path
        return Person(subject, name or me.get("full_name") or subject, unit_path, unit_name, frozenset(me["roles"]))

    async def demo_token(self, user: "DemoUser") -> str:
        """A token for a demo user of the local run, signed with the local secret (never in production).

        A token names a person (their directory member id): the demo user is the member of their unit
        holding their first role (a plain member for ``member``); the platform operator is ``admin``."""
        if "admin" in user.roles:
            return issue_token(self.settings, "admin", ttl_seconds=8 * 3600)
        admin = issue_token(self.settings, "admin", ttl_seconds=300)
        unit = await self.query("directory", f"/units/by-path/{user.unit_path}", admin)
        page = await self.query("directory", f"/units/{unit['unit_id']}/members", admin, limit=500)
        role = next((r for r in user.roles if r != "member"), None)
        for member in page["items"]:
            if (role in member["roles"]) if role else not member["roles"]:
                return issue_token(self.settings, member["member_id"], ttl_seconds=8 * 3600)
        raise Problem(
            404, {"detail": f"no member of {user.unit_path} holds {role or 'no role'}", "code": "portal.no_demo_user"}
        )


@dataclass(frozen=True)
class DemoUser:
    subject: str
    label: str  # who they are, shown on the demo sign-in page
    unit_path: str
    roles: tuple[str, ...]


# The demo users of the local run (the same people ``make tokens`` prints).
DEMO_USERS = (
    DemoUser(
        "city-standing", "LĐLĐ Thành phố Hà Nội — Ban Thường vụ", "hn", ("standing_committee", "emulation_officer")
    ),
    DemoUser("ntl-chair", "LĐLĐ quận Nam Từ Liêm — Chủ tịch", "hn.ntl", ("chair", "standing_committee")),
    DemoUser("dd-chair", "LĐLĐ quận Đống Đa — Chủ tịch", "hn.dd", ("chair", "standing_committee")),
    DemoUser("fecon-chair", "CĐCS Công ty CP Fecon — Chủ tịch", "hn.ntl.fecon", ("chair", "executive_committee")),
    DemoUser("fecon-mentor", "CĐCS Công ty CP Fecon — Tổ ươm mầm ý tưởng", "hn.ntl.fecon", ("incubator_mentor",)),
    DemoUser("fecon-member", "CĐCS Công ty CP Fecon — Đoàn viên", "hn.ntl.fecon", ("member",)),
    DemoUser("admin", "Quản trị hệ thống", "hn", ("admin",)),
)
