"""Browser sessions kept on the server: the cookie carries only a random id (HttpOnly, SameSite=Lax).

A session exists from the first page (it holds the CSRF token of the sign-in form and the language);
signing in replaces it with a new id (no session fixation) that also holds the person's bearer token.
Sessions live in this process: a portal restart signs everyone out, which is acceptable for a UI that
holds no state of its own (a deployment with several portal replicas pins sessions or shares a store).
"""

import secrets
import time
from dataclasses import dataclass, field

from services.portal.adapters.oidc import Pending


@dataclass
class Person:
    """Who is signed in, as the platform knows them (unit and roles from the directory)."""

    subject: str
    name: str
    unit_path: str
    unit_name: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles


@dataclass
class Session:
    id: str
    csrf: str
    created: float
    expires: float
    locale: str = "vi"
    token: str | None = None
    id_token: str | None = None
    person: Person | None = None
    demo: bool = False
    pending_oidc: Pending | None = None
    flash: list[tuple[str, str]] = field(default_factory=list)  # (kind, message) shown once


class SessionStore:
    def __init__(self, ttl_seconds: int = 8 * 3600, max_sessions: int = 100_000) -> None:
        self.ttl, self.max_sessions = ttl_seconds, max_sessions
        self._sessions: dict[str, Session] = {}

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        found = self._sessions.get(session_id)
        if found is None or found.expires < time.time():
            self._sessions.pop(session_id or "", None)
            return None
        return found

    def new(self, locale: str = "vi") -> Session:
        if len(self._sessions) >= self.max_sessions:
            self._sweep()
        now = time.time()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now + self.ttl, locale)
        self._sessions[session.id] = session
        return session

    def rotate(self, old: Session) -> Session:
        """A fresh id and CSRF token for a session whose privileges change (sign-in)."""
        self._sessions.pop(old.id, None)
        fresh = self.new(old.locale)
        fresh.pending_oidc = None
        return fresh

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def _sweep(self) -> None:
        now = time.time()
        for key in [k for k, s in self._sessions.items() if s.expires < now]:
            del self._sessions[key]
        while len(self._sessions) >= self.max_sessions:  # still full: the oldest go first
            del self._sessions[next(iter(self._sessions))]
