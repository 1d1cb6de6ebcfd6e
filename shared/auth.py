"""Bearer JWT auth: the token names the person; the directory says who they are in the unions now.

Locally tokens are signed with a shared HS256 secret; in production the keys come from a JWKS URL.
Claims: ``sub`` (the person: a directory member id, or a platform operator named in
``THIDUA_ADMIN_SUBJECTS``), ``iat`` and ``exp`` (both required; at most ``jwt_max_lifetime_seconds``
apart). The caller's unit and roles are read from the service's view of the directory at each request
(``app.state.directory``: the directory's own tree, or a service's copy of it), so a revoked role or a
moved unit takes effect at once. The authorisation rule itself is ``shared.identity.Caller``.
"""

import asyncio
import time
from functools import lru_cache
from typing import Annotated, Protocol

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden, ThiduaError
from shared.identity import ADMIN, ROLES, Caller
from shared.settings import Settings

__all__ = ["ROLES", "Caller", "CallerSource", "CurrentCaller", "Unauthenticated", "issue_token", "token_subject"]


class Unauthenticated(ThiduaError):
    status_code = 401


class CallerSource(Protocol):
    """Where a service looks a person up: their unit now and the roles they hold in it."""

    async def caller(self, subject: str) -> Caller | None: ...


def issue_token(settings: Settings, subject: str, ttl_seconds: int = 12 * 3600) -> str:
    """Sign a token for ``subject`` with the local shared secret (local runs, tests, demo users)."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "iat": now,
        "exp": now + ttl_seconds,
        "aud": settings.jwt_audience,
        "iss": settings.jwt_issuer,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm="HS256")


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True)


def token_subject(settings: Settings, token: str) -> str:
    """The person a valid token names (401 for anything else)."""
    try:
        if settings.jwks_url:
            key = _jwks_client(settings.jwks_url).get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256"]
        else:
            key, algorithms = settings.jwt_secret, ["HS256"]
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"invalid bearer token: {error}") from error
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > settings.jwt_max_lifetime_seconds:
        raise Unauthenticated(
            f"the token is valid for {lifetime} s; at most {settings.jwt_max_lifetime_seconds} s are accepted"
        )
    return str(claims["sub"])


async def resolve_caller(source: CallerSource, settings: Settings, subject: str) -> Caller:
    """The caller as the directory knows them now; a platform operator is admin wherever they are."""
    found = await source.caller(subject)
    if subject in settings.admin_subjects:
        return Caller(subject, found.unit if found else None, frozenset({*(found.roles if found else ()), ADMIN}))
    if found is None:
        raise Forbidden(
            f"{subject} is not a member in this service's copy of the directory "
            "(a new member appears within moments; otherwise ask your unit to enrol you)"
        )
    return found


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
        subject = await asyncio.to_thread(token_subject, settings, credentials.credentials)
    else:
        subject = token_subject(settings, credentials.credentials)
    return await resolve_caller(request.app.state.directory, settings, subject)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
