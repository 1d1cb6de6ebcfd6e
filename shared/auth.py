"""Bearer JWT auth: the token names the person; the directory says who they are in the unions now.

Locally tokens are signed with a shared HS256 secret; in production the keys come from a JWKS URL.
Claims: ``sub`` (the person: a directory member id, or a platform operator named in
``THIDUA_ADMIN_SUBJECTS``), ``iat`` and ``exp`` (both required; at most ``jwt_max_lifetime_seconds``
apart). The caller's unit and roles are read from the service's view of the directory at each request
(``app.state.directory``: the directory's own tree, or a service's copy of it, which may keep a caller in
memory only while it can tell nothing about them changed), so a revoked role or a moved unit takes effect
at once. A token verified once is not verified again until it expires
(``shared.tokens.VerifiedTokens``). The authorisation rule itself is ``shared.identity.Caller``.
"""

import asyncio
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Forbidden
from shared.identity import ADMIN, ROLES, Caller
from shared.settings import Settings
from shared.tokens import Unauthenticated, VerifiedTokens, issue_token, token_subject

__all__ = ["ROLES", "Caller", "CallerSource", "CurrentCaller", "Unauthenticated", "issue_token", "token_subject"]


class CallerSource(Protocol):
    """Where a service looks a person up: their unit now and the roles they hold in it."""

    async def caller(self, subject: str) -> Caller | None: ...


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
    state = request.app.state
    settings: Settings = state.settings
    token = credentials.credentials
    verified = getattr(state, "verified_tokens", None)
    if verified is None:  # one per app: its settings say which tokens are valid
        verified = state.verified_tokens = VerifiedTokens()
    subject = verified.subject(token)
    if subject is None:
        if settings.jwks_url:
            subject = await asyncio.to_thread(token_subject, settings, token)
        else:
            subject = token_subject(settings, token)
        verified.remember(token, subject)
    return await resolve_caller(state.directory, settings, subject)


CurrentCaller = Annotated[Caller, Depends(current_caller)]
