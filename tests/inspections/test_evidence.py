"""The shared evidence mechanism: kinds sniffed from content, mislabelled files refused, storage by
SHA-256, tampering detected, and the upload/download routes behind the subtree rule."""

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import Request

from shared.errors import InvalidInput
from shared.evidence import EvidenceFileRef, EvidenceStore, check_file, evidence_root, install_evidence, sniff
from shared.http import create_app
from shared.identity import Caller
from shared.settings import Settings
from shared.tokens import issue_token
from shared.units import UnitRef
from tests.inspections import evidence_files as files
from tests.inspections.test_api_selfinspection import problem

SETTINGS = Settings(service="inspections", database_url="sqlite+aiosqlite:///x.db", log_json=False)


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (files.pdf(), "application/pdf"),
        (files.png(), "image/png"),
        (files.jpeg(), "image/jpeg"),
        (files.xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (files.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        (files.odt(), "application/vnd.oasis.opendocument.text"),
        (files.legacy_doc(), "application/msword"),
        (files.plain_zip(), None),
        (files.executable(), None),
        (b"plain text pretending", None),
    ],
)
def test_the_kind_comes_from_the_content(data: bytes, media_type: str | None) -> None:
    kind = sniff(data)
    assert (kind.media_type if kind else None) == media_type


def refused(data: bytes, name: str, declared: str | None) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_file(data, name, declared, max_bytes=64 * 1024)
    assert caught.value.field == "file"
    return caught.value


def test_a_file_that_is_not_what_its_type_says_is_refused() -> None:
    error = refused(files.png(), "bien-ban.pdf", "application/pdf")
    assert error.code == "evidence.type_mismatch"
    assert error.params == {"name": "bien-ban.pdf", "declared": "application/pdf", "detected": "image/png"}
    assert "declared as application/pdf but its content is a PNG image" in error.message


def test_a_file_whose_extension_lies_is_refused_even_without_a_declared_type() -> None:
    error = refused(files.pdf(), "anh.jpg", "application/octet-stream")
    assert error.code == "evidence.type_mismatch" and error.params["extension"] == ".jpg"


def test_unaccepted_empty_and_oversized_files_are_refused() -> None:
    assert refused(files.executable(), "setup.pdf", "application/pdf").code == "evidence.unsupported_type"
    assert refused(files.plain_zip(), "hoso.docx", None).code == "evidence.unsupported_type"
    assert refused(b"", "x.pdf", "application/pdf").code == "evidence.empty"
    big = refused(files.pdf() + b"0" * 70_000, "x.pdf", "application/pdf")
    assert big.code == "evidence.too_large" and big.params["max_bytes"] == 64 * 1024


def test_aliases_and_parameters_of_a_declared_type_are_understood() -> None:
    assert check_file(files.jpeg(), "anh.JPG", "image/jpg").media_type == "image/jpeg"
    assert check_file(files.pdf(), "a.pdf", "application/pdf; charset=binary").media_type == "application/pdf"


def test_files_are_stored_once_by_content_and_tampering_is_detected(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    data = files.pdf()
    first = store.put(data, "bien-ban.pdf", "application/pdf", "u-fecon")
    again = store.put(data, "ban-sao.pdf", "application/pdf", "u-ceo")
    sha = hashlib.sha256(data).hexdigest()
    assert first.sha256 == again.sha256 == sha
    assert first.media_type == "application/pdf" and first.size_bytes == len(data)
    assert len([p for p in tmp_path.rglob(sha) if p.parent.name != "u-fecon" and p.parent.name != "u-ceo"]) == 1
    assert store.units_of(sha) == ["u-ceo", "u-fecon"]
    assert store.describe(sha, "u-fecon") == first  # the name it was uploaded with for that unit
    assert store.describe(sha, "u-handico") is None  # never uploaded for that unit
    assert store.verify(sha)
    stored = store.path_of(sha)
    assert stored is not None
    stored.write_bytes(data.replace(b"Catalog", b"Katalog"))
    assert not store.verify(sha)


def test_a_command_names_files_by_hash_and_an_unknown_one_is_a_422(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    stored = store.put(files.xlsx(), "so-lieu.xlsx", None, "u-fecon")
    found = store.resolve([EvidenceFileRef(sha256=stored.sha256, name="Số liệu quý II.xlsx")], "u-fecon", "evidence")
    assert found[0].name == "Số liệu quý II.xlsx" and found[0].sha256 == stored.sha256
    with pytest.raises(InvalidInput) as caught:
        store.resolve([EvidenceFileRef(sha256=stored.sha256)], "u-ceo", "answers.0.evidence.files")
    assert caught.value.field == "answers.0.evidence.files.0.sha256"
    assert caught.value.code == "evidence.unknown_file"


def test_files_live_beside_the_service_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THIDUA_EVIDENCE_DIR", raising=False)
    local = Settings(service="inspections", database_url=f"sqlite+aiosqlite:///{tmp_path}/inspections.db")
    assert evidence_root(local) == tmp_path / "evidence" / "inspections"
    remote = Settings(service="awards", database_url="postgresql+asyncpg://db/awards")
    assert evidence_root(remote) == Path("data/evidence/awards")
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "elsewhere"))
    assert evidence_root(local) == tmp_path / "elsewhere"


# -- the routes ---------------------------------------------------------------------------------------

PATHS = {"u-hn": "hn", "u-ntl": "hn.ntl", "u-fecon": "hn.ntl.fecon", "u-dd": "hn.dd", "u-handico": "hn.dd.handico"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SETTINGS)  # its JSON bodies stay limited to 256 KiB

    async def path_of(_request: Request, unit_id: str) -> str | None:
        return PATHS.get(unit_id)

    app.state.directory = ChairOf()
    install_evidence(app, EvidenceStore(tmp_path, max_bytes=1024 * 1024), path_of)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://svc") as http:
        yield http


class ChairOf:
    """Who a test token names, as the directory would say: ``chair@<path>`` is the chair of that unit."""

    async def caller(self, subject: str) -> Caller | None:
        path = subject.removeprefix("chair@")
        unit_id = next((uid for uid, p in PATHS.items() if p == path), None)
        if unit_id is None:
            return None
        return Caller(
            subject, UnitRef(unit_id=unit_id, path=path, kind="grassroots_union"), frozenset({"member", "chair"})
        )


def bearer(unit_path: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SETTINGS, f'chair@{unit_path}')}"}


async def upload(
    client: httpx.AsyncClient, unit_path: str, unit_id: str, name: str, data: bytes, media_type: str
) -> httpx.Response:
    return await client.post(
        "/evidence", headers=bearer(unit_path), data={"unit_id": unit_id}, files={"file": (name, data, media_type)}
    )


async def test_upload_then_read_within_the_subtree(client: httpx.AsyncClient) -> None:
    response = await upload(client, "hn.ntl.fecon", "u-fecon", "bien-ban.pdf", files.pdf(), "application/pdf")
    assert response.status_code == 201, response.text
    stored = response.json()
    assert stored["sha256"] == hashlib.sha256(files.pdf()).hexdigest()
    assert stored["media_type"] == "application/pdf" and stored["name"] == "bien-ban.pdf"
    for reader in ("hn.ntl.fecon", "hn.ntl", "hn"):
        read = await client.get(f"/evidence/{stored['sha256']}", headers=bearer(reader))
        assert read.status_code == 200 and read.content == files.pdf()
        assert read.headers["content-type"] == "application/pdf"
    elsewhere = await client.get(f"/evidence/{stored['sha256']}", headers=bearer("hn.dd"))
    assert elsewhere.status_code == 404 and elsewhere.json()["code"] == "evidence.not_found"


async def test_upload_refusals(client: httpx.AsyncClient) -> None:
    outside = await upload(client, "hn.dd", "u-fecon", "a.pdf", files.pdf(), "application/pdf")
    problem(outside, 403, "evidence.unit_outside", "unit_id", says="not in your subtree")
    lying = await upload(client, "hn.ntl.fecon", "u-fecon", "a.pdf", files.png(), "application/pdf")
    problem(lying, 422, "evidence.type_mismatch", "file", says="PNG")
    scan = files.pdf() + b"0" * 900_000  # larger than any JSON body, within the evidence limit
    assert (await upload(client, "hn.ntl", "u-fecon", "scan.pdf", scan, "application/pdf")).status_code == 201
    big = await upload(client, "hn.ntl", "u-fecon", "a.pdf", files.pdf() + b"0" * 1_050_000, "application/pdf")
    problem(big, 422, "evidence.too_large", "file")
    huge = await upload(client, "hn.ntl", "u-fecon", "a.pdf", files.pdf() + b"0" * 2_000_000, "application/pdf")
    assert huge.status_code == 413
    json_limit = await client.post(
        "/nothing",
        headers=bearer("hn"),
        content=b"[" + b"0," * 200_000 + b"0]",
        params={},
    )
    assert json_limit.status_code == 413  # other routes keep the app's limit
    anonymous = await client.post("/evidence", data={"unit_id": "u-fecon"}, files={"file": ("a.pdf", files.pdf())})
    assert anonymous.status_code == 401
