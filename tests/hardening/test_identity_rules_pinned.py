"""The authorisation rule (``shared.identity.Caller``) and how a caller is resolved (``shared.auth``),
pinned by mutation testing (issue 8): each test fails if a check, or what its refusal says, is removed.
Plain Python, no I/O."""

import threading
from types import SimpleNamespace

import pytest
from fastapi.security import HTTPAuthorizationCredentials

import shared.auth
from shared.auth import Unauthenticated, current_caller, resolve_caller
from shared.errors import Forbidden
from shared.identity import ADMIN, Caller
from shared.settings import Settings
from shared.tokens import VerifiedTokens, issue_token
from shared.units import UnitRef

NTL = UnitRef(unit_id="u-ntl", path="hn.ntl", parent_id="u-hn", kind="upper_level_union")
FECON = UnitRef(unit_id="u-fecon", path="hn.ntl.fecon", parent_id="u-ntl", kind="grassroots_union")
NTL_CHAIR = Caller("m-1", NTL, frozenset({"chair"}))
FECON_MEMBER = Caller("m-2", FECON, frozenset({"member"}))


class Directory:
    """A service's view of the directory holding the given people."""

    def __init__(self, *people: Caller) -> None:
        self.people = {p.subject: p for p in people}

    async def caller(self, subject: str) -> Caller | None:
        return self.people.get(subject)


def test_an_official_of_another_unit_is_refused_naming_the_field_and_both_units() -> None:
    with pytest.raises(Forbidden) as refused:
        NTL_CHAIR.require_official_of(FECON, "chair", field="unit_path")
    assert refused.value.field == "unit_path"
    assert str(refused.value) == "only officials of hn.ntl.fecon act for it; you are an official of hn.ntl"


def test_someone_in_no_unit_is_refused_as_an_official_of_none() -> None:
    nobody = Caller("m-3", None, frozenset({"chair"}))
    with pytest.raises(Forbidden) as refused:
        nobody.require_official_of(FECON, "chair", field="unit_path")
    assert str(refused.value) == "only officials of hn.ntl.fecon act for it; you are an official of (none)"
    assert refused.value.field == "unit_path"


def test_an_official_without_the_role_is_refused_naming_the_field_and_the_roles() -> None:
    with pytest.raises(Forbidden) as refused:
        FECON_MEMBER.require_official_of(FECON, "chair", "executive_committee", "standing_committee", field="unit_path")
    assert refused.value.field == "unit_path"
    assert str(refused.value) == "this needs one of the roles: chair, executive_committee, standing_committee"


def test_the_admin_acts_for_any_unit() -> None:
    Caller.system("admin").require_official_of(FECON, "chair")


async def test_a_platform_operator_outside_the_directory_is_admin_in_no_unit() -> None:
    settings = Settings(admin_subjects=["op"])
    caller = await resolve_caller(Directory(), settings, "op")
    assert caller == Caller("op", None, frozenset({ADMIN}))


async def test_a_platform_operator_enrolled_somewhere_keeps_their_unit_and_roles_and_is_admin() -> None:
    settings = Settings(admin_subjects=["m-1"])
    caller = await resolve_caller(Directory(NTL_CHAIR), settings, "m-1")
    assert caller == Caller("m-1", NTL, frozenset({"chair", ADMIN}))


async def test_someone_the_directory_does_not_know_is_refused() -> None:
    with pytest.raises(Forbidden) as refused:
        await resolve_caller(Directory(NTL_CHAIR), Settings(admin_subjects=["op"]), "m-9")
    assert str(refused.value) == (
        "m-9 is not a member in this service's copy of the directory "
        "(a new member appears within moments; otherwise ask your unit to enrol you)"
    )
    assert await resolve_caller(Directory(NTL_CHAIR), Settings(), "m-1") == NTL_CHAIR


async def test_a_request_without_a_bearer_token_is_401_saying_a_token_is_required() -> None:
    with pytest.raises(Unauthenticated) as refused:
        await current_caller(None, None)  # type: ignore[arg-type]  # refused before the request is read
    assert str(refused.value) == "a bearer token is required" and refused.value.status_code == 401


async def test_with_a_jwks_url_the_token_is_read_off_the_event_loop_and_its_person_looked_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Fetching keys may block on the network: the token is read in a worker thread, then resolved."""
    settings = Settings(jwks_url="https://id.example/jwks.json")
    seen: list[tuple[Settings, str, bool]] = []

    def token_subject(given: Settings, token: str) -> str:
        seen.append((given, token, threading.current_thread() is threading.main_thread()))
        return "m-1"

    monkeypatch.setattr(shared.auth, "token_subject", token_subject)
    request = SimpleNamespace(
        app=SimpleNamespace(state=SimpleNamespace(settings=settings, directory=Directory(NTL_CHAIR)))
    )
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials="the-token")
    assert await current_caller(request, credentials) == NTL_CHAIR  # type: ignore[arg-type]
    assert seen == [(settings, "the-token", False)]


async def test_a_token_is_verified_once_per_app_and_then_answered_from_its_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``current_caller`` keeps one ``VerifiedTokens`` per app: the same token again is not verified again,
    another token is, and each still resolves to the person its own token names."""
    settings = Settings()
    verified: list[str] = []
    real = shared.auth.token_subject

    def counting(given: Settings, token: str) -> str:
        verified.append(token)
        return real(given, token)

    monkeypatch.setattr(shared.auth, "token_subject", counting)
    state = SimpleNamespace(settings=settings, directory=Directory(NTL_CHAIR, FECON_MEMBER))
    request = SimpleNamespace(app=SimpleNamespace(state=state))
    chair, member = issue_token(settings, "m-1"), issue_token(settings, "m-2")

    def bearer(token: str) -> HTTPAuthorizationCredentials:
        return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)

    assert await current_caller(request, bearer(chair)) == NTL_CHAIR  # type: ignore[arg-type]
    assert await current_caller(request, bearer(chair)) == NTL_CHAIR  # type: ignore[arg-type]
    assert await current_caller(request, bearer(member)) == FECON_MEMBER  # type: ignore[arg-type]
    assert await current_caller(request, bearer(member)) == FECON_MEMBER  # type: ignore[arg-type]
    assert verified == [chair, member]
    assert isinstance(state.verified_tokens, VerifiedTokens) and state.verified_tokens.subject(chair) == "m-1"
