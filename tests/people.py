"""Test tokens name real people.

A token names a person; who they are in the unions comes from the directory (the directory's records,
or a service's copy). So a test that needs "a chair of hn.ntl" needs such a person. ``bearer(path,
*roles)`` writes a placeholder header ``Authorization: Person <path> <roles>``; ``People``, installed as
the test client's ``auth``, makes sure a member holding those roles exists in the unit now at ``path``
(through the service's real directory view: the directory's own commands, or the directory's contract
events fed to a service's copy) and swaps in a signed token naming them. The role ``admin`` is the
platform operator (``THIDUA_ADMIN_SUBJECTS``); a path with no unit gives a token naming nobody known.

Test people have member ids starting with ``tp-`` (their streams: ``member-tp-…``), so a test counting
the events a command wrote can leave them out.
"""

import asyncio
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable

import httpx

from shared.auth import issue_token
from shared.settings import Settings

PLACEHOLDER = "Person"
TEST_PEOPLE_STREAMS = "member-tp-%"  # LIKE pattern of the streams of test people


def bearer(_settings: Settings | None, path: str, *roles: str, who: str = "", subject: str = "") -> dict[str, str]:
    """Headers for a person of ``path`` holding ``roles`` (``People`` resolves it when sent); ``who`` tells
    two such people apart; ``subject`` names a member directly (the token names exactly them)."""
    if subject:
        return {"Authorization": f"{PLACEHOLDER} = = = {subject}"}
    return {"Authorization": f"{PLACEHOLDER} {path} {'+'.join(sorted(roles)) or '='} {who or '='}"}


def person_id(unit_id: str, roles: tuple[str, ...], who: str = "") -> str:
    """The member id of the test person ``who`` holding ``roles`` in the unit (stable within a test)."""
    return "tp-" + uuid.uuid5(uuid.NAMESPACE_URL, f"{unit_id}|{'+'.join(sorted(roles))}|{who}").hex


class People(httpx.Auth):
    def __init__(
        self,
        settings: Settings,
        create: Callable[[str, tuple[str, ...], str], Awaitable[str | None]],
        *,
        admin_in_unit: bool = False,
    ) -> None:
        """``create(path, roles, who)`` makes sure the person exists and returns their member id (or None).

        ``admin_in_unit``: the role ``admin`` makes a member of the unit at ``path`` a platform operator
        too (added to the app's ``settings.admin_subjects``); otherwise it is the operator ``admin``, in
        no unit."""
        self.settings, self.create, self.admin_in_unit = settings, create, admin_in_unit
        self._lock = asyncio.Lock()  # concurrent requests of one test must not create a person twice

    async def subject(self, path: str, roles: tuple[str, ...], who: str = "") -> str:
        if "admin" in roles and not self.admin_in_unit:
            return "admin"
        wanted = tuple(sorted(set(roles) - {"member", "admin"}))
        async with self._lock:
            found = await self.create(path, wanted, who)
        if "admin" in roles:
            if found is None:
                return "admin"
            if found not in self.settings.admin_subjects:
                self.settings.admin_subjects.append(found)
        return found or f"nobody-at-{path}"

    async def token(self, path: str, *roles: str, who: str = "") -> str:
        return issue_token(self.settings, await self.subject(path, roles, who))

    async def headers(self, path: str, *roles: str, who: str = "") -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(path, *roles, who=who)}"}

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        header = request.headers.get("Authorization", "")
        if header.startswith(PLACEHOLDER + " "):
            _, path, roles, who, *subject = header.split(" ")
            if subject:
                token = issue_token(self.settings, subject[0])
            else:
                wanted = [r for r in roles.split("+") if r != "="]
                token = await self.token(path, *wanted, who="" if who == "=" else who)
            request.headers["Authorization"] = f"Bearer {token}"
        yield request
