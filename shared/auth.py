"""Bearer JWT auth: who is calling, for which unit, with which roles; and the subtree rule.

Locally tokens are signed with a shared HS256 secret; in production the keys come from a JWKS URL.
Claims: ``sub`` (the caller), ``unit`` (the caller's unit path), ``roles`` (list of role names).
"""

import asyncio
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, ThiduaError
from shared.settings import Settings
from shared.subjects import in_subtree

# Roles an official can hold in a unit (DESIGN glossary); "admin" is the platform operator.
ROLES = (
    "chair",
    "executive_committee",
    "standing_committee",
    "inspection_committee",
    "emulation_officer",
    "incubator_mentor",
    "member",
    "admin",
)


class Unauthenticated(ThiduaError):
    status_code = 401


@dataclass(frozen=True)
class Caller:
    subject: str
    unit_path: str
    roles: frozenset[str]

    def sees(self, path: str) -> bool:
        """True if ``path`` is the caller's unit or below it."""
        return in_subtree(path, self.unit_path)

    def require_subtree(self, path: str) -> None:
        if not self.sees(path):
            raise Forbidden(f"unit {path} is outside your unit {self.unit_path}")

    def require_role(self, *roles: str) -> None:
        if not (self.roles & set(roles)) and "admin" not in self.roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


def issue_token(
    settings: Settings, subject: str, unit_path: str, roles: list[str], ttl_seconds: int = 12 * 3600
) -> str:
    """Sign a token with the local shared secret (local runs, tests and the demo users)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "unit": unit_path,
        "roles": roles,
        "iat": now,
        "exp": now + ttl_seconds,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def decode_token(settings: Settings, token: str) -> Caller:
    try:
        if settings.jwks_url:
            key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256"]
        else:
            key, algorithms = settings.jwt_secret, ["HS256"]
        claims = jwt.decode(
            token, key, algorithms=algorithms, audience=settings.jwt_audience, issuer=settings.jwt_issuer
        )
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"invalid bearer token: {error}") from error
    unit, roles = claims.get("unit"), claims.get("roles", [])
    if not isinstance(unit, str) or not isinstance(roles, list):
        raise Unauthenticated("token lacks the unit or roles claim")
    return Caller(subject=str(claims["sub"]), unit_path=unit, roles=frozenset(map(str, roles)))


_bearer = HTTPBearer(auto_error=False)


async def current_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """FastAPI dependency: the authenticated caller (401 without a valid bearer token).

    Async on purpose: a sync dependency costs a thread-pool hop per request. Only a JWKS look-up,
    which may fetch keys over the network, leaves the event loop.
    """
    if credentials is None:
        raise Unauthenticated("a bearer token is required")
    settings: Settings = request.app.state.settings
    if settings.jwks_url:
        return await asyncio.to_thread(decode_token, settings, credentials.credentials)
    return decode_token(settings, credentials.credentials)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
