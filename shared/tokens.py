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
