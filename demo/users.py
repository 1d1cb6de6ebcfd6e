"""The demo users of the local run, and bearer tokens for them.

A token names a person (``sub``: their directory member id); who they are in the unions comes from the
directory. The demo users are people of the demo city found by their unit and role, so their tokens are
minted after looking them up in the directory (``make tokens`` while ``make run`` runs):

    settings = Settings(local=True)
    async with admin_client(settings, "http://127.0.0.1:8101") as directory:
        token = await demo_token(settings, directory, "fecon-chair")

The platform admin is not a union member: the local run names the subject ``admin`` an operator
(``THIDUA_ADMIN_SUBJECTS``).
"""

import asyncio
import os
import sys
from dataclasses import dataclass

import httpx

from demo import resend
from shared.auth import issue_token
from shared.settings import Settings


@dataclass(frozen=True)
class DemoUser:
    path: str | None  # the unit (None: the platform operator)
    role: str | None  # the role they hold there (None: a plain member)
    who: str


DEMO_USERS: dict[str, DemoUser] = {
    "admin": DemoUser(None, None, "platform operator (everything)"),
    "city-standing": DemoUser("hn", "standing_committee", "Ban Thường vụ LĐLĐ Thành phố Hà Nội"),
    "ntl-chair": DemoUser("hn.ntl", "chair", "Chủ tịch LĐLĐ quận Nam Từ Liêm"),
    "dd-chair": DemoUser("hn.dd", "chair", "Chủ tịch LĐLĐ quận Đống Đa"),
    "fecon-chair": DemoUser("hn.ntl.fecon", "chair", "Chủ tịch CĐCS Công ty CP Fecon"),
    "fecon-mentor": DemoUser("hn.ntl.fecon", "incubator_mentor", "Tổ ươm mầm ý tưởng, CĐCS Fecon"),
    "fecon-member": DemoUser("hn.ntl.fecon", None, "Đoàn viên CĐCS Fecon"),
}


def admin_client(settings: Settings, directory_url: str) -> httpx.AsyncClient:
    token = issue_token(settings, "admin")
    return resend.client(directory_url, token, timeout=10)


async def demo_member(directory: httpx.AsyncClient, name: str) -> tuple[str, str]:
    """The member id and name of a demo user (``directory``: a client carrying the admin's token)."""
    user = DEMO_USERS[name]
    if user.path is None:
        return "admin", "admin"
    unit = await directory.get(f"/units/by-path/{user.path}")
    unit.raise_for_status()
    page = await directory.get(f"/units/{unit.json()['unit_id']}/members", params={"limit": 500})
    page.raise_for_status()
    for member in page.json()["items"]:
        if (user.role in member["roles"]) if user.role else not member["roles"]:
            return member["member_id"], member["full_name"]
    raise LookupError(f"no member of {user.path} holds {user.role or 'no role'}: is the demo city loaded?")


async def demo_token(settings: Settings, directory: httpx.AsyncClient, name: str, ttl_seconds: int = 12 * 3600) -> str:
    """A bearer token for the demo user ``name`` (a key of ``DEMO_USERS``)."""
    member_id, _ = await demo_member(directory, name)
    return issue_token(settings, member_id, ttl_seconds)


async def _print_tokens() -> None:
    settings = Settings(local=True)
    url = f"http://127.0.0.1:{os.environ.get('THIDUA_DIRECTORY_PORT', '8101')}"
    try:
        async with admin_client(settings, url) as directory:
            for name, user in DEMO_USERS.items():
                member_id, full_name = await demo_member(directory, name)
                where = f"unit {user.path}, {user.role or 'member'}" if user.path else "no unit, admin"
                print(f"# {name} — {user.who} — {full_name} ({where}); sub {member_id}")
                print(issue_token(settings, member_id))
                print()
    except httpx.HTTPError as error:
        sys.exit(f"the directory at {url} does not answer ({error}): start the platform with `make run` first")


if __name__ == "__main__":
    asyncio.run(_print_tokens())
