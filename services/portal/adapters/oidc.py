"""OpenID Connect sign-in for production: the authorization code flow with PKCE (RFC 7636, S256).

The portal is a confidential or public client of the issuer named in settings. It discovers the issuer's
endpoints, sends the browser to ``authorization_endpoint`` with ``state``, ``nonce`` and a code challenge,
and on the way back exchanges the code (with the verifier) at ``token_endpoint``. The ID token's signature
(the issuer's JWKS), issuer, audience, expiry and nonce are checked before anyone is signed in.
"""

import asyncio
import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt


class OidcError(Exception):
    """The issuer's answer cannot be trusted or used; the message says why (shown to the person)."""


@dataclass(frozen=True)
class Pending:
    """What the portal remembers between sending the browser away and its return."""

    state: str
    nonce: str
    verifier: str
    next_url: str
    created: float


@dataclass(frozen=True)
class SignedIn:
    subject: str
    name: str
    access_token: str
    id_token: str
    expires_at: float


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-], within RFC 7636's 43..128
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class OidcClient:
    def __init__(
        self, issuer: str, client_id: str, client_secret: str | None, redirect_uri: str, http: httpx.AsyncClient
    ):
        self.issuer, self.client_id, self.client_secret = issuer.rstrip("/"), client_id, client_secret
        self.redirect_uri, self.http = redirect_uri, http
        self._metadata: dict[str, Any] | None = None
        self._jwks: jwt.PyJWKClient | None = None

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            response = await self.http.get(f"{self.issuer}/.well-known/openid-configuration")
            if response.status_code != 200:
                raise OidcError(f"the issuer's discovery document answered {response.status_code}")
            found = response.json()
            if found.get("issuer", "").rstrip("/") != self.issuer:
                raise OidcError("the discovery document names another issuer")
            self._metadata = found
        return self._metadata

    async def start(self, next_url: str) -> tuple[str, Pending]:
        """The authorization URL to send the browser to, and what to keep until it returns."""
        meta = await self.metadata()
        verifier, challenge = pkce_pair()
        pending = Pending(secrets.token_urlsafe(24), secrets.token_urlsafe(24), verifier, next_url, time.time())
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        return f"{meta['authorization_endpoint']}?{urlencode(query)}", pending

    async def finish(self, pending: Pending, state: str, code: str) -> SignedIn:
        if not secrets.compare_digest(state, pending.state):
            raise OidcError("the sign-in answer does not belong to this browser (state differs)")
        if time.time() - pending.created > 600:
            raise OidcError("the sign-in took longer than 10 minutes; start again")
        meta = await self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.client_id,
            "code_verifier": pending.verifier,
        }
        auth = (self.client_id, self.client_secret) if self.client_secret else None
        response = await self.http.post(meta["token_endpoint"], data=form, auth=auth)
        if response.status_code != 200:
            raise OidcError(f"the issuer refused the code ({response.status_code}: {response.text[:200]})")
        tokens = response.json()
        claims = await self._verify_id_token(tokens.get("id_token", ""), pending.nonce)
        access = tokens.get("access_token")
        if not access:
            raise OidcError("the issuer sent no access token")
        name = str(claims.get("name") or claims.get("preferred_username") or claims["sub"])
        expires_at = time.time() + float(tokens.get("expires_in", 3600))
        return SignedIn(str(claims["sub"]), name, access, tokens["id_token"], expires_at)

    async def _verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        meta = await self.metadata()
        if self._jwks is None:
            self._jwks = jwt.PyJWKClient(meta["jwks_uri"], cache_keys=True)
        try:
            # PyJWKClient fetches with urllib: keep it off the event loop.
            key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, id_token)
            claims = jwt.decode(
                id_token, key.key, algorithms=["RS256", "ES256"], audience=self.client_id, issuer=self.issuer
            )
        except jwt.PyJWTError as error:
            raise OidcError(f"the ID token is not valid: {error}") from error
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcError("the ID token was not made for this sign-in (nonce differs)")
        return claims

    async def end_session_url(self, id_token: str, after: str) -> str | None:
        meta = await self.metadata()
        endpoint = meta.get("end_session_endpoint")
        if not endpoint:
            return None
        return f"{endpoint}?{urlencode({'id_token_hint': id_token, 'post_logout_redirect_uri': after})}"
