"""Evidence files: documents a person uploads to back a claim, stored by content, checked by content.

Any service that takes evidence (inspections, awards) uses this module the same way:

1. A caller uploads a file for a unit: ``POST /evidence`` (multipart: ``file``, ``unit_id``), served by
   ``evidence_router``. The file's **real type is sniffed from its bytes** (PDF, PNG, JPEG, GIF, WebP,
   Word/Excel/PowerPoint — OOXML, OpenDocument or the older binary formats); the declared media type and
   the file name's extension must agree with it. A file whose content is not what its name or type says,
   an unaccepted type, an empty file or one over the size limit is a 422 naming the field ``file``.
2. The bytes are stored under their SHA-256 (``<root>/<aa>/<bb>/<sha256>``), once, however many times
   they are uploaded; the unit the upload was for is recorded beside them (who may read it follows from
   that unit's place in the tree *now*, so a unit that moves keeps its files).
3. A command names its files by SHA-256 (``EvidenceFileRef``); the handler resolves each with
   ``EvidenceStore.describe`` (a file never uploaded for that unit is a 422) and the event records the
   ``EvidenceFile`` — hash, sniffed media type, size and name — so that any later change to the stored
   bytes is detectable (``EvidenceStore.verify``).

Where the files live: ``evidence_root(settings)`` — a folder ``evidence/`` beside an SQLite database file,
or ``data/evidence/<service>`` for PostgreSQL; ``THIDUA_EVIDENCE_DIR`` overrides both.
"""

import contextlib
import hashlib
import io
import os
import re
import tempfile
import zipfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy.engine import make_url

from shared.errors import Forbidden, InvalidInput, NotFound
from shared.text import Name

if TYPE_CHECKING:
    from fastapi import APIRouter, Request, UploadFile

SHA256_PATTERN = r"^[0-9a-f]{64}$"
Sha256 = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=SHA256_PATTERN)]
DEFAULT_MAX_BYTES = 10 * 1024 * 1024  # a scanned multi-page minute or a phone photo fits; a video does not
_sha_re = re.compile(SHA256_PATTERN)
_unit_re = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # unit ids are UUIDs (or test ids): safe as file names


class EvidenceFile(BaseModel):
    """A stored evidence file as an event records it: the hash proves the bytes, the type was sniffed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: str = Field(pattern=SHA256_PATTERN)
    name: str = Field(max_length=200)
    media_type: str
    size_bytes: int = Field(ge=1)


class EvidenceFileRef(BaseModel):
    """How a command names an uploaded file: its SHA-256 (from the upload's answer) and a display name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sha256: Sha256
    name: Name | None = None  # defaults to the name it was uploaded with


# -- what a file is ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    media_type: str
    extensions: tuple[str, ...]
    label: str
    aliases: tuple[str, ...] = ()  # other media types browsers send for it


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
_ODT, _ODS, _ODP = (f"application/vnd.oasis.opendocument.{k}" for k in ("text", "spreadsheet", "presentation"))

KINDS: dict[str, FileKind] = {
    k.media_type: k
    for k in (
        FileKind("application/pdf", (".pdf",), "a PDF document", ("application/x-pdf",)),
        FileKind("image/png", (".png",), "a PNG image"),
        FileKind("image/jpeg", (".jpg", ".jpeg", ".jfif"), "a JPEG image", ("image/jpg", "image/pjpeg")),
        FileKind("image/gif", (".gif",), "a GIF image"),
        FileKind("image/webp", (".webp",), "a WebP image"),
        FileKind(_DOCX, (".docx",), "a Word document"),
        FileKind(_XLSX, (".xlsx",), "an Excel workbook"),
        FileKind(_PPTX, (".pptx",), "a PowerPoint presentation"),
        FileKind(_ODT, (".odt",), "an OpenDocument text"),
        FileKind(_ODS, (".ods",), "an OpenDocument spreadsheet"),
        FileKind(_ODP, (".odp",), "an OpenDocument presentation"),
        FileKind("application/msword", (".doc",), "a Word 97–2003 document"),
        FileKind("application/vnd.ms-excel", (".xls",), "an Excel 97–2003 workbook"),
        FileKind("application/vnd.ms-powerpoint", (".ppt",), "a PowerPoint 97–2003 presentation"),
    )
}
# Declared types that say nothing (a browser that does not know): only the extension is then checked.
_GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
_CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE compound file: the Office 97–2003 formats


def sniff(data: bytes) -> FileKind | None:
    """The accepted kind the bytes are, from their signatures and structure; None for anything else."""
    if data.startswith(b"%PDF-"):
        return KINDS["application/pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["image/png"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["image/jpeg"]
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return KINDS["image/gif"]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return KINDS["image/webp"]
    if data.startswith(b"PK\x03\x04"):
        return _sniff_zip(data)
    if data.startswith(_CFB):
        return _sniff_compound(data)
    return None


def _sniff_zip(data: bytes) -> FileKind | None:
    """OOXML and OpenDocument are ZIP archives; only their central directory (and ODF's tiny ``mimetype``
    entry) is read, so a compressed bomb costs nothing."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = {info.filename: info for info in archive.infolist()}
        mimetype = infos.get("mimetype")
        if mimetype is not None and mimetype.file_size <= 100:
            declared = archive.read(mimetype).decode("ascii", "replace").strip()
            return KINDS.get(declared) if declared in (_ODT, _ODS, _ODP) else None
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError):
        return None
    if "[Content_Types].xml" not in infos:
        return None  # a plain ZIP archive is not a document
    for part, media_type in (("word/document.xml", _DOCX), ("xl/workbook.xml", _XLSX), ("ppt/presentation.xml", _PPTX)):
        if part in infos:
            return KINDS[media_type]
    return None


def _sniff_compound(data: bytes) -> FileKind | None:
    """An Office 97–2003 file is an OLE compound file; its main stream's name (UTF-16 in the directory
    entries) says which application wrote it."""
    for stream, media_type in (
        ("WordDocument", "application/msword"),
        ("Workbook", "application/vnd.ms-excel"),
        ("Book", "application/vnd.ms-excel"),
        ("PowerPoint Document", "application/vnd.ms-powerpoint"),
    ):
        if stream.encode("utf-16-le") in data:
            return KINDS[media_type]
    return None


def _accepted() -> str:
    return ", ".join(sorted({ext for kind in KINDS.values() for ext in kind.extensions}))


def check_file(data: bytes, name: str, declared_type: str | None, max_bytes: int = DEFAULT_MAX_BYTES) -> FileKind:
    """The file's kind, if its content is an accepted kind that its name and declared type agree with."""
    if not data:
        raise InvalidInput("the file is empty", field="file", code="evidence.empty")
    if len(data) > max_bytes:
        raise InvalidInput(
            f"the file is {len(data):,} bytes; evidence files are at most {max_bytes:,} bytes",
            field="file",
            code="evidence.too_large",
            params={"size_bytes": len(data), "max_bytes": max_bytes},
        )
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(
            f"the content of '{name}' is not an accepted evidence type; upload one of {_accepted()}",
            field="file",
            code="evidence.unsupported_type",
            params={"name": name, "accepted": _accepted()},
        )
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared not in _GENERIC and declared != kind.media_type and declared not in kind.aliases:
        raise InvalidInput(
            f"'{name}' is declared as {declared} but its content is {kind.label}",
            field="file",
            code="evidence.type_mismatch",
            params={"name": name, "declared": declared, "detected": kind.media_type},
        )
    extension = Path(name).suffix.lower()
    if extension not in kind.extensions:
        raise InvalidInput(
            f"'{name}' is named as a {extension or 'file without extension'} but its content is {kind.label} "
            f"({' or '.join(kind.extensions)})",
            field="file",
            code="evidence.type_mismatch",
            params={"name": name, "extension": extension, "detected": kind.media_type},
        )
    return kind


# -- where files are kept ------------------------------------------------------------------------------


def evidence_root(settings: Any) -> Path:
    """Beside the service's data: ``<folder of the SQLite file>/evidence``, else ``data/evidence/<service>``."""
    override = os.environ.get("THIDUA_EVIDENCE_DIR")
    if override:
        return Path(override)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent / "evidence" / settings.service
    return Path("data") / "evidence" / settings.service


class EvidenceStore:
    """Content-addressed files with the units they were uploaded for. Safe for concurrent writers: every
    write goes to a temporary file renamed into place, and the address is the content."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _marker(self, sha256: str, unit_id: str) -> Path:
        return self.root / "units" / unit_id / sha256

    def put(self, data: bytes, name: str, declared_type: str | None, unit_id: str) -> EvidenceFile:
        kind = check_file(data, name, declared_type, self.max_bytes)
        if not _unit_re.match(unit_id):
            raise InvalidInput("not a unit id", field="unit_id")
        sha = hashlib.sha256(data).hexdigest()
        target = self._path(sha)
        if not target.exists() or not self.verify(sha):
            _write_atomically(target, data)
        marker = self._marker(sha, unit_id)
        if not marker.exists():
            _write_atomically(marker, name.encode())  # the name it was first uploaded with, for this unit
        return EvidenceFile(sha256=sha, name=name, media_type=kind.media_type, size_bytes=len(data))

    def describe(self, sha256: str, unit_id: str, name: str | None = None) -> EvidenceFile | None:
        """The stored file as an event should record it, if it was uploaded for ``unit_id``."""
        if not _sha_re.match(sha256) or not _unit_re.match(unit_id):
            return None
        path, marker = self._path(sha256), self._marker(sha256, unit_id)
        if not path.is_file() or not marker.is_file():
            return None
        with path.open("rb") as handle:
            head = handle.read(self.max_bytes + 1)
        kind = sniff(head)
        if kind is None:
            return None
        shown = name or marker.read_text(encoding="utf-8", errors="replace") or sha256
        return EvidenceFile(sha256=sha256, name=shown, media_type=kind.media_type, size_bytes=path.stat().st_size)

    def units_of(self, sha256: str) -> list[str]:
        """The units the file was uploaded for (who may read it follows from them)."""
        if not _sha_re.match(sha256):
            return []
        folder = self.root / "units"
        if not folder.is_dir():
            return []
        return sorted(entry.name for entry in folder.iterdir() if (entry / sha256).is_file())

    def path_of(self, sha256: str) -> Path | None:
        path = self._path(sha256) if _sha_re.match(sha256) else None
        return path if path is not None and path.is_file() else None

    def verify(self, sha256: str) -> bool:
        """Do the stored bytes still hash to their address (a file changed on disk is caught here)?"""
        path = self.path_of(sha256)
        if path is None:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest() == sha256

    def resolve(self, refs: list[EvidenceFileRef], unit_id: str, field: str) -> tuple[EvidenceFile, ...]:
        """A command's file references as events record them; a file not uploaded for the unit is a 422."""
        found = []
        for index, ref in enumerate(refs):
            described = self.describe(ref.sha256, unit_id, ref.name)
            if described is None:
                raise InvalidInput(
                    f"no evidence file {ref.sha256[:12]}… was uploaded for this unit; upload it first (POST /evidence)",
                    field=f"{field}.{index}.sha256",
                    code="evidence.unknown_file",
                    params={"sha256": ref.sha256},
                )
            found.append(described)
        return tuple(found)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


async def read_limited(upload: "UploadFile", max_bytes: int) -> bytes:
    """The upload's bytes, reading at most one byte past the limit (so an oversized file is refused)."""
    chunks, size = [], 0
    while size <= max_bytes:
        chunk = await upload.read(min(1 << 20, max_bytes + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


# -- HTTP ----------------------------------------------------------------------------------------------

UnitPathOf = Callable[["Request", str], Awaitable[str | None]]
MULTIPART_OVERHEAD = 64 * 1024  # form fields and part headers around the file


def install_evidence(app: Any, store: EvidenceStore, path_of: UnitPathOf) -> None:
    """Serve ``/evidence`` on a service app: the routes, the store in ``app.state.evidence``, and a body
    limit for uploads of the store's maximum (the app's JSON limit stays as it is for everything else)."""
    app.state.evidence = store
    limits = dict(getattr(app.state, "body_limits", None) or {})
    limits["/evidence"] = store.max_bytes + MULTIPART_OVERHEAD
    app.state.body_limits = limits
    app.include_router(evidence_router(lambda request: request.app.state.evidence, path_of))


def evidence_router(store_of: Callable[["Request"], EvidenceStore], path_of: UnitPathOf) -> "APIRouter":
    """``POST /evidence`` (upload for a unit) and ``GET /evidence/{sha256}`` (download).

    ``path_of(request, unit_id)`` is the unit's current path from the service's copy of the directory;
    a caller uploads for a unit of their subtree and reads a file uploaded for any unit of it. (The web
    framework is imported here, so that events and domains can use this module's value types without it.)
    """
    from fastapi import APIRouter, File, Form, Request, UploadFile
    from fastapi.responses import FileResponse

    from shared.auth import CurrentCaller

    router = APIRouter(prefix="/evidence", tags=["evidence"])

    async def visible(request: Request, caller: Any, unit_id: str) -> bool:
        path = await path_of(request, unit_id)
        return path is not None and ("admin" in caller.roles or caller.sees(path))

    @router.post("", status_code=201, response_model=EvidenceFile)
    async def upload(
        request: Request,
        caller: CurrentCaller,
        file: Annotated[UploadFile, File(description="The evidence: PDF, image or office document")],
        unit_id: Annotated[str, Form(max_length=64, description="The unit the evidence is for")],
    ) -> EvidenceFile:
        """Upload an evidence file for a unit of your subtree. Uploading is idempotent by content: the same
        bytes always get the same address, so it takes no Idempotency-Key."""
        store = store_of(request)
        if not await visible(request, caller, unit_id):
            raise Forbidden(f"unit {unit_id} is not in your subtree", field="unit_id", code="evidence.unit_outside")
        data = await read_limited(file, store.max_bytes)
        name = (file.filename or "").strip() or "evidence"
        return store.put(data, Path(name).name[:200], file.content_type, unit_id)

    @router.get("/{sha256}", response_class=FileResponse)
    async def download(request: Request, caller: CurrentCaller, sha256: str) -> FileResponse:
        """The stored bytes, with the media type sniffed from them, if a unit of your subtree uploaded them."""
        store = store_of(request)
        path = store.path_of(sha256.lower())
        units = store.units_of(sha256.lower()) if path is not None else []
        for unit_id in units:
            if await visible(request, caller, unit_id):
                described = store.describe(sha256.lower(), unit_id)
                assert described is not None and path is not None
                return FileResponse(path, media_type=described.media_type, filename=described.name)
        raise NotFound(f"no evidence file {sha256} in your subtree", field="sha256", code="evidence.not_found")

    return router
