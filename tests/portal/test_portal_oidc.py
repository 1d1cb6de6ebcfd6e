"""Production sign-in: OpenID Connect authorization code with PKCE against a small fake issuer served on
a real port (discovery, authorize, token, JWKS), the portal in-process. The issuer refuses a code whose
verifier does not match its challenge, so a completed sign-in proves the portal sent the right one."""

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse

from services.portal.entrypoints.main import create_app
from services.portal.entrypoints.settings import PortalSettings
from tests.natsserver import free_port

PORTAL_URL = "http://portal.test"


@dataclass
class FakeIssuer:
    url: str
    key: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    stranger: Any = field(default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048))
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    mode: str = "honest"  # or "wrong_nonce", "foreign_key"
    refused: list[str] = field(default_factory=list)

    def sign(self, claims: dict[str, Any], audience: str, key: Any = None) -> str:
        now = int(time.time())
        body = {"iss": self.url, "aud": audience, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(body, key or self.key, algorithm="RS256", headers={"kid": "k1"})

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "end_session_endpoint": f"{self.url}/logout", "code_challenge_methods_supported": ["S256"],
            }  # fmt: skip

        @app.get("/jwks")
        async def jwks() -> dict[str, Any]:
            public = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        async def authorize(
            response_type: str, client_id: str, redirect_uri: str, state: str, nonce: str,
            code_challenge: str, code_challenge_method: str, scope: str,
        ) -> RedirectResponse:  # fmt: skip
            assert response_type == "code" and code_challenge_method == "S256" and "openid" in scope
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": code_challenge, "nonce": nonce, "redirect_uri": redirect_uri}
            return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

        @app.post("/token")
        async def token(
            grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(), client_id: str = Form(),
            code_verifier: str = Form(),
        ) -> dict[str, Any]:  # fmt: skip
            issued = self.codes.pop(code, None)  # a code is used once
            digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if issued is None or issued["challenge"] != digest or issued["redirect_uri"] != redirect_uri:
                self.refused.append(code)
                raise HTTPException(400, "invalid_grant")
            nonce = "someone-else" if self.mode == "wrong_nonce" else issued["nonce"]
            key = self.stranger if self.mode == "foreign_key" else None
            id_token = self.sign({"sub": "nguyen.van.an", "name": "Nguyễn Văn An", "nonce": nonce}, client_id, key)
            access = self.sign({"sub": "nguyen.van.an"}, "thidua")  # a token names the person, nothing more
            return {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 300}

        @app.get("/me")
        async def me() -> dict[str, Any]:
            """The directory's answer for the person the access token names (the chair of hn.ntl)."""
            return {
                "subject": "nguyen.van.an", "member_id": "nguyen.van.an", "full_name": "Nguyễn Văn An",
                "unit_id": "u-ntl", "unit_path": "hn.ntl", "unit_name": "LĐLĐ quận Nam Từ Liêm",
                "roles": ["chair", "member"],
            }  # fmt: skip

        return app


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    port = free_port()
    fake = FakeIssuer(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(fake.app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield fake
    server.should_exit = True
    thread.join(5)


@pytest.fixture
async def portal(issuer: FakeIssuer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    issuer.mode = "honest"
    settings = PortalSettings(
        portal_url=PORTAL_URL, oidc_issuer=issuer.url, oidc_client_id="thidua-portal",
        jwks_url=f"{issuer.url}/jwks", jwt_issuer=issuer.url, jwt_audience="thidua",
        directory_url=issuer.url,  # answers /me for the signed-in person; unit names fall back to paths
    )  # fmt: skip
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PORTAL_URL) as client:
        yield app, client
    await app.state.platform.close()


async def _to_issuer_and_back(client: httpx.AsyncClient, next_path: str = "/book") -> tuple[str, dict[str, str]]:
    start = await client.get(f"/sign-in/oidc?next={next_path}")
    assert start.status_code == 303
    authorize = start.headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    async with httpx.AsyncClient() as browser:  # the browser at the issuer
        back = await browser.get(authorize, follow_redirects=False)
    assert back.status_code == 302
    return back.headers["location"], query


def _person(app: FastAPI, client: httpx.AsyncClient) -> Any:
    session = app.state.sessions.get(client.cookies.get("thidua_session"))
    return None if session is None else session.person


async def test_sign_in_with_the_authorization_code_and_pkce(
    portal: tuple[FastAPI, httpx.AsyncClient], issuer: FakeIssuer
) -> None:
    app, client = portal
    page = await client.get("/sign-in")
    assert "Đăng nhập bằng tài khoản công đoàn" in page.text and "Người dùng thử" not in page.text
    anonymous = client.cookies.get("thidua_session")
    callback, query = await _to_issuer_and_back(client)
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["redirect_uri"] == f"{PORTAL_URL}/auth/callback" and query["client_id"] == "thidua-portal"
    assert query["state"] and query["nonce"] and query["state"] != query["nonce"]

    done = await client.get(callback.removeprefix(PORTAL_URL))
    assert done.status_code == 303 and done.headers["location"] == "/book"
    person = _person(app, client)
    assert person is not None and client.cookies.get("thidua_session") != anonymous
    assert (person.subject, person.name, person.unit_path, set(person.roles)) == (
        "nguyen.van.an", "Nguyễn Văn An", "hn.ntl", {"chair", "member"},
    )  # fmt: skip
    assert not issuer.refused  # the verifier matched the challenge

    replay = await client.get(callback.removeprefix(PORTAL_URL))  # the same answer twice: refused
    assert replay.status_code == 400

    page = await client.get("/sign-in")
    out = await client.post("/sign-out", data={"csrf": page.text.split('name="csrf" value="')[1].split('"')[0]})
    assert out.status_code == 303 and out.headers["location"].startswith(f"{issuer.url}/logout?id_token_hint=")
    assert _person(app, client) is None


async def test_an_answer_for_another_browser_is_refused(portal: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, client = portal
    callback, query = await _to_issuer_and_back(client)
    forged = callback.replace(f"state={query['state']}", "state=forged")
    refused = await client.get(forged.removeprefix(PORTAL_URL))
    assert refused.status_code == 401 and "state differs" in refused.text
    assert _person(app, client) is None


@pytest.mark.parametrize(("mode", "reason"), [("wrong_nonce", "nonce differs"), ("foreign_key", "not valid")])
async def test_an_id_token_not_made_for_this_sign_in_is_refused(
    portal: tuple[FastAPI, httpx.AsyncClient], issuer: FakeIssuer, mode: str, reason: str
) -> None:
    app, client = portal
    issuer.mode = mode
    callback, _query = await _to_issuer_and_back(client)
    refused = await client.get(callback.removeprefix(PORTAL_URL))
    assert refused.status_code == 401 and reason in refused.text
    assert _person(app, client) is None


async def test_a_callback_nobody_started_is_refused(portal: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _app, client = portal
    refused = await client.get("/auth/callback?code=x&state=y")
    assert refused.status_code == 400
    assert "Lần đăng nhập này không bắt đầu từ đây" in refused.text
