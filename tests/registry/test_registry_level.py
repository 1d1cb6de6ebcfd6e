"""The level views from the service's own events, in-process (the runner itself is covered over NATS):
the initiative book with its filters and diacritic-insensitive search, counts per unit, exports."""

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from contracts.directory import UnitRegistered
from services.registry.adapters.export import book_csv, book_xlsx
from services.registry.adapters.level import RegistryLevelProjection
from services.registry.adapters.level_reads import read_book, read_counts
from services.registry.adapters.level_tables import metadata
from shared.db import Database, open_database
from shared.settings import Settings
from tests.levels import apply_level, level_client, message, stored
from tests.people import People, bearer
from tests.registry.api_helpers import CITY, DECISION, SCORE, Api, unit_id

FECON = "hn.ntl.fecon"


async def level_of(app: FastAPI, folder: Path, level: str = "hn.ntl") -> Database:
    """Feed the level what its filters would deliver: the city's units, then the registry's events."""
    db = open_database(f"sqlite+aiosqlite:///{folder}/level.db")
    messages = []
    for path, kind, name in CITY:
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=unit_id(path), code=path.rsplit(".", 1)[-1], name=name, kind=kind,  # type: ignore[arg-type]
            parent_id=unit_id(parent) if parent else None, path=path,
        )  # fmt: skip
        messages.append(message("directory", registered, path))
    await apply_level(db, RegistryLevelProjection(), level, [*messages, *await stored(app.state.store, "registry")])
    return db


async def recognise(api: Api, initiative_id: str, number: str = DECISION["decision_number"]) -> None:
    await api.ok(f"/initiatives/{initiative_id}/scores", SCORE, FECON, "executive_committee")
    body = {**DECISION, "decision_number": number}
    await api.ok(f"/initiatives/{initiative_id}/recognise", body, FECON, "executive_committee")


@pytest.fixture
async def book_db(api: Api, app: FastAPI, tmp_path: Path) -> Any:
    first = await api.register(title="Ứng dụng mã QR trong quản lý hồ sơ đoàn viên")
    second = await api.register(title="Đổi mới cách tổ chức Tháng Công nhân", pillar="doi_moi")
    await api.register(title="Sổ tay điện tử an toàn lao động")  # registered only: not in the book
    await api.register(unit="hn.ntl.ceo", title="Hộp thư góp ý trực tuyến")
    await recognise(api, first, "1/QĐ")
    await recognise(api, second, "2/QĐ")
    body = {"where": "Toàn công ty", "since": "2025-04-01", "evidence": "Biên bản", "actual_benefit_vnd": 120_000_000}
    await api.ok(f"/initiatives/{first}/applications", body, FECON, "member")
    db = await level_of(app, tmp_path)
    yield db
    await db.dispose()


async def test_the_book_holds_recognised_initiatives_newest_first_with_filters(book_db: Database) -> None:
    async with book_db.reader.connect() as conn:
        book = await read_book(conn)
        assert [i["decision_number"] for i in book["items"]] == ["2/QĐ", "1/QĐ"] and book["total"] == 2
        assert book["items"][1]["authors"][0]["name"] == "Nguyễn Văn An" and book["items"][1]["status"] == "applied"
        assert (await read_book(conn, pillar="doi_moi"))["total"] == 1
        assert (await read_book(conn, status="applied"))["items"][0]["benefit_vnd"] == 120_000_000
        assert (await read_book(conn, status="registered"))["total"] == 2
        assert (await read_book(conn, scope="grassroots"))["total"] == 2
        assert (await read_book(conn, scope="city"))["total"] == 0
        assert (await read_book(conn, unit="hn.ntl.ceo"))["total"] == 0
        assert (await read_book(conn, year=date.fromisoformat(DECISION["decision_date"]).year))["total"] == 2
        assert (await read_book(conn, year=1999))["total"] == 0
        page = await read_book(conn, limit=1, offset=1)
        assert page["total"] == 2 and page["items"][0]["decision_number"] == "1/QĐ"


@pytest.mark.parametrize("query", ["mã QR hồ sơ", "ma qr ho so", "MÃ QR", "Nguyen Van An qr"])
async def test_search_works_with_and_without_diacritics(book_db: Database, query: str) -> None:
    async with book_db.reader.connect() as conn:
        found = await read_book(conn, q=query)
    assert [i["decision_number"] for i in found["items"]] == ["1/QĐ"]


async def test_search_finds_nothing_for_an_absent_word(book_db: Database) -> None:
    async with book_db.reader.connect() as conn:
        assert (await read_book(conn, q="bóng đá"))["total"] == 0


async def test_counts_per_unit(book_db: Database) -> None:
    async with book_db.reader.connect() as conn:
        counts = {row["path"]: row for row in await read_counts(conn)}
    fecon = counts[FECON]
    assert (fecon["registered"], fecon["recognised"], fecon["applied"], fecon["accepted"]) == (3, 2, 1, 0)
    assert fecon["benefit_vnd"] == 120_000_000 + 50_000_000
    assert counts["hn.ntl.ceo"]["registered"] == 1 and counts["hn.ntl.ceo"]["recognised"] == 0
    assert "hn.dd.handico" not in counts  # another level's unit


async def test_exports_open_in_excel_with_vietnamese(book_db: Database) -> None:
    async with book_db.reader.connect() as conn:
        items = (await read_book(conn))["items"]
    data = book_csv(items)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "Tên sáng kiến" and rows[2][1] == "Ứng dụng mã QR trong quản lý hồ sơ đoàn viên"
    assert rows[2][2] == "Nguyễn Văn An (70%); Trần Thị Bình (30%)" and rows[2][5] == "Sáng tạo"
    sheet = load_workbook(io.BytesIO(book_xlsx(items, "hn.ntl"))).active
    assert sheet["A1"].value == "SỔ VÀNG SÁNG KIẾN — hn.ntl"
    assert sheet["B4"].value == "Ứng dụng mã QR trong quản lý hồ sơ đoàn viên" and sheet["J4"].value == 120_000_000


async def test_the_level_host_serves_the_views_over_http(
    book_db: Database, app: FastAPI, settings: Settings, people: People
) -> None:
    from services.registry.adapters.level_reads import router

    ntl = bearer(settings, "hn.ntl", "standing_committee")
    async with level_client(settings, app.state.directory, people, {"hn.ntl": book_db}, router) as client:
        book = (await client.get("/levels/hn.ntl/registry/book", params={"q": "ma qr"}, headers=ntl)).json()
        assert book["level"] == "hn.ntl" and book["total"] == 1
        exported = await client.get("/levels/hn.ntl/registry/book.csv", headers=ntl)
        assert (
            exported.content.startswith(b"\xef\xbb\xbf")
            and "so-vang-sang-kien-hn.ntl.csv" in exported.headers["content-disposition"]
        )
        assert (await client.get("/levels/hn.ntl/registry/book.xlsx", headers=ntl)).content[:2] == b"PK"
        assert (await client.get("/levels/hn.ntl/registry/inbox", headers=ntl)).json()["items"] == []
        assert (await client.get("/levels/hn.ntl/registry/initiatives/nope", headers=ntl)).status_code == 404
        assert (await client.get("/levels/hn.ntl/registry/book", params={"limit": 0}, headers=ntl)).status_code == 422
        counts = await client.get("/levels/hn.ntl/registry/counts", params={"under": FECON}, headers=ntl)
        assert [c["path"] for c in counts.json()["units"]] == [FECON, "hn.ntl.fecon.thi-cong"]


async def test_level_reads_need_a_token_and_stay_in_the_callers_subtree(
    book_db: Database, app: FastAPI, settings: Settings, people: People
) -> None:
    from services.registry.adapters.level_reads import router

    async with level_client(settings, app.state.directory, people, {"hn.ntl": book_db}, router) as client:
        anonymous = await client.get("/levels/hn.ntl/registry/book")
        assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
        other_district = await client.get("/levels/hn.ntl/registry/book", headers=bearer(settings, "hn.dd", "chair"))
        assert other_district.status_code == 403 and other_district.json()["field"] == "unit"
        ceo = bearer(settings, "hn.ntl.ceo", "chair")
        assert (await client.get(f"/levels/hn.ntl/registry/book?unit={FECON}", headers=ceo)).status_code == 403
        assert (await client.get("/levels/hn.ntl/registry/inbox", headers=ceo)).status_code == 403
        own = (await client.get("/levels/hn.ntl/registry/book", headers=bearer(settings, FECON, "member"))).json()
        assert own["total"] == 2 and {i["unit_path"] for i in own["items"]} == {FECON}  # Fecon's part of the level
        assert (await client.get("/levels/hn.dd/registry/book", headers=ceo)).status_code == 404  # not served here


async def test_a_search_counts_its_matches_up_to_a_bound(book_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.registry.adapters import level_reads

    monkeypatch.setattr(level_reads, "SEARCH_COUNT_BOUND", 1)
    async with book_db.reader.connect() as conn:
        found = await read_book(conn, q="cong ty fecon")
        plain = await read_book(conn)
    assert found["total"] == 1 and found["total_is_lower_bound"] is True and len(found["items"]) == 2
    assert plain["total"] == 2 and "total_is_lower_bound" not in plain  # only searches are bounded


async def test_the_search_index_follows_revisions_and_rebuilds(tmp_path: Path) -> None:
    """On SQLite the words live in an FTS5 table keyed by the book's ``doc``: re-indexing replaces a
    row's words, and dropping the tables (a rebuild) drops the index with them."""
    from sqlalchemy import insert

    from services.registry.adapters.level import index_search, unindex_search
    from services.registry.adapters.level_tables import book

    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    row = {"initiative_id": "i-1", "unit_id": "u", "unit_path": "hn.ntl.a", "title": "t", "search": "",
           "status": "recognised", "in_book": 1, "authors": [], "decisions": [], "possible_duplicates": []}  # fmt: skip
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
        doc = (await conn.execute(insert(book).values(row))).inserted_primary_key[0]
        await index_search(conn, [(doc, "i-1", "so tay an toan")])
    async with db.reader.connect() as conn:
        assert (await read_book(conn, q="sổ tay"))["total"] == 1
        assert (await read_book(conn, q="an to"))["total"] == 0  # only the last word, 3+ letters, is a prefix
        assert (await read_book(conn, q="so tay an toa"))["total"] == 1
    async with db.writer.begin() as conn:
        await unindex_search(conn, [doc])
        await index_search(conn, [(doc, "i-1", "bua com ca")])
    async with db.reader.connect() as conn:
        assert (await read_book(conn, q="so tay"))["total"] == 0
        assert (await read_book(conn, q="bữa cơm"))["total"] == 1
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.drop_all)
        await conn.run_sync(metadata.create_all)
    async with db.reader.connect() as conn:
        assert (await read_book(conn, q="bua"))["total"] == 0
    await db.dispose()
