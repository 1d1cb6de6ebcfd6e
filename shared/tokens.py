"""Bearer tokens: sign one for a person (the local run, tests, demo users) and read the person a token
names. No web framework here: the local run's supervisor and the portal mint tokens with it.

Claims: ``sub`` (the person: a directory member id, or a platform operator named in
``THIDUA_ADMIN_SUBJECTS``), ``iat`` and ``exp`` (both required, at most ``jwt_max_lifetime_seconds``
apart), ``aud`` and ``iss``. Locally tokens are signed with a shared HS256 secret; in production the
keys come from a JWKS URL.
"""

import time
from functools import lru_cache

import jwt

from shared.errors import ThiduaError
from shared.settings import Settings


class Unauthenticated(ThiduaError):
    status_code = 401


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


def token_expiry(token: str) -> float | None:
    """The ``exp`` of a token already verified (None if it cannot be read)."""
    try:
        return float(jwt.decode(token, options={"verify_signature": False})["exp"])
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


class VerifiedTokens:
    """Tokens this process has verified, each with the person it names, until the token expires and for
    ``keep_seconds`` at most (a signing key withdrawn from the JWKS is honoured within that time).

    A client sends the same token with every request; verifying it again (an HMAC or a signature, the
    claims) costs more than the rest of finding who is calling once the directory is cached.
    """

    def __init__(self, keep_seconds: float = 60.0, max_entries: int = 10_000) -> None:
        self.keep_seconds, self.max_entries = keep_seconds, max_entries
        self._tokens: dict[str, tuple[str, float]] = {}

    def subject(self, token: str) -> str | None:
        """The person a token verified before names, or None (never seen, or no longer valid)."""
        found = self._tokens.get(token)
        if found is None:
            return None
        subject, until = found
        if time.time() >= until:  # PyJWT's rule: a token is expired from its ``exp`` on
            self._tokens.pop(token, None)
            return None
        return subject

    def remember(self, token: str, subject: str) -> None:
        expiry = token_expiry(token)
        if expiry is None:
            return
        if len(self._tokens) >= self.max_entries:
            self._tokens.clear()  # a bound, not an eviction policy
        self._tokens[token] = (subject, min(expiry, time.time() + self.keep_seconds))
