"""End to end over a real nats-server: the directory's and the registry's events arrive on JetStream, the
awards service copies them, an initiative recognised and applied makes a nominee eligible (with the facts
behind it), the proposal is made public, voted, escalated twice and conferred at the city; the CloudEvent
reaches the faststream agency subscriber; the dossier reads back in Vietnamese from .docx and PDF; the
award is revoked, the subscriber receives the revocation and the streak that rested on it is flagged."""

import asyncio
import io
import time
from datetime import date, timedelta
from pathlib import Path

import docx
import httpx
import nats
import pypdf
import pytest
from sqlalchemy import select

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from services.awards.adapters.facts import initiatives
from services.awards.entrypoints.main import create_app
from shared.events import Event, EventMetadata, new_envelope
from shared.relay import encode
from shared.settings import Settings
from shared.subjects import event_subject
from tests.awards.awards_api import AN, CITY, Api, Clock, initiative_events, unit_id
from tests.awards.test_agency_subscriber import _rows, _start, _wait_for
from tests.natsserver import NatsServer


async def _publish(js: object, service: str, events: list[tuple[Event, str]]) -> None:
    """Other services' events, as their relays publish them (envelope JSON, Nats-Msg-Id)."""
    for event, path in events:
        envelope = new_envelope(f"{service}-{id(event)}", 1, event, EventMetadata(actor=service, unit_path=path))
        subject = event_subject(service, event.event_type, path)
        await js.publish(subject, encode(envelope), headers={"Nats-Msg-Id": envelope.event_id})  # type: ignore[attr-defined]


async def _until(check, what: str, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _directory() -> list[tuple[Event, str]]:
    events: list[tuple[Event, str]] = []
    for path, kind, name in CITY:
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=unit_id(path), code=path.rsplit(".", 1)[-1], name=name, kind=kind,  # type: ignore[arg-type]
            parent_id=unit_id(parent) if parent else None, path=path,
        )  # fmt: skip
        events.append((registered, path))
    people = [
        ("tp-fecon", "hn.ntl.fecon", "executive_committee"),
        ("tp-ntl", "hn.ntl", "standing_committee"),
        ("tp-hn", "hn", "standing_committee"),
    ]
    for member_id, path, role in people:
        events.append((MemberEnrolled(member_id=member_id, unit_id=unit_id(path), full_name="Cán bộ"), path))
        events.append((RoleAssigned(member_id=member_id, unit_id=unit_id(path), role=role), path))
    thi_cong = "hn.ntl.fecon.thi-cong"
    events.append((MemberEnrolled(member_id=AN, unit_id=unit_id(thi_cong), full_name="Nguyễn Văn An"), thi_cong))
    return events


async def test_escalated_twice_conferred_published_documented_revoked(
    nats_server: NatsServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THIDUA_EVIDENCE_DIR", str(tmp_path / "evidence"))
    settings = Settings(
        service="awards",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/awards.db",
        nats_url=nats_server.url,
        relay_idle_poll_seconds=0.05,
        log_json=False,
        log_level="WARNING",
    )
    clock = Clock()
    app = create_app(settings, clock=clock)
    agency_db = tmp_path / "agency.db"
    client = await nats.connect(nats_server.url)
    js = client.jetstream()
    agency = None
    async with app.router.lifespan_context(app):
        # The platform's streams exist once the service is up; the others' events arrive through them.
        await _until(lambda: _has_stream(js, "THIDUA"), "the THIDUA stream")
        await _publish(js, "directory", _directory())
        await _until(lambda: _has(app, AN), "the directory copy")  # its last event
        await _until(lambda: _has_stream(js, "PUBLIC_AWARDS"), "the public stream")
        agency = _start(nats_server.url, agency_db)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://awards") as http:
            api = Api(http, settings, app)
            api.person = _named  # type: ignore[method-assign]  # the people above, from the directory's events
            for year in (2023, 2024, 2025):
                await api.past_award("cstd_cs", year)
            await api.past_award("cstd_tinh", 2024)
            await _publish(js, "registry", initiative_events())  # recognised at city scope and applied

            async def applied() -> bool:
                async with app.state.db.reader.connect() as conn:
                    return (await conn.scalar(select(initiatives.c.accepted_on))) is not None

            await _until(applied, "the initiative's facts")
            upload = await http.post(
                "/evidence",
                data={"unit_id": unit_id("hn.ntl.fecon")},
                files={"file": ("xac-nhan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
                headers=await api.headers("hn.ntl.fecon", "executive_committee"),
            )
            evidence = [{"kind": "effect_certificate", "file": {"sha256": upload.json()["sha256"]}}]
            proposal = await api.file(evidence=evidence)
            assert proposal["eligibility"]["outcome"] == "met"
            initiative = next(c for c in proposal["eligibility"]["criteria"] if c["code"] == "initiative_city")
            assert initiative["facts"][0]["ref"] == "i-qr" and "12/QĐ-LĐLĐ" in initiative["facts"][0]["summary"]
            pid = proposal["proposal_id"]
            await api.walk_level(pid, "hn.ntl.fecon", "executive_committee", clock, "05/BB-CĐCS")
            await api.escalate([pid], "hn.ntl.fecon", "executive_committee", "07/TTr-CĐCS")
            await api.ok(f"/proposals/{pid}/accept", None, "hn.ntl", "standing_committee")
            await api.walk_level(pid, "hn.ntl", "standing_committee", clock, "11/BB-LĐLĐ")
            await api.escalate([pid], "hn.ntl", "standing_committee", "15/TTr-LĐLĐ")
            await api.ok(f"/proposals/{pid}/accept", None, "hn", "standing_committee")
            await api.walk_level(pid, "hn", "standing_committee", clock, "20/BB-LĐLĐ")
            decision = {
                "proposal_ids": [pid],
                "decision_number": "2150/QĐ-UBND",
                "decided_on": clock.today.isoformat(),
                "signer_name": "Trần Sỹ Thanh",
                "signer_title": "CHỦ TỊCH",
            }
            await api.ok("/decisions", decision, "hn", "standing_committee")
            national = await api.file("cstd_tq", justification="Đề nghị công nhận phạm vi toàn quốc")
            await _wait_for(agency_db, "SELECT status, nominee_name FROM awards", [("conferred", "Nguyễn Văn An")])

            headers = await api.headers("hn.ntl", "standing_committee")
            for fmt in ("docx", "pdf"):
                got = await http.get(
                    f"/submissions/{unit_id('hn.ntl.fecon')}/07/TTr-CĐCS/dossier",
                    params={"format": fmt},
                    headers=headers,
                )
                assert got.status_code == 200, got.text
                text = _text(got.content, fmt)
                for expected in (
                    "TỜ TRÌNH",
                    "Nguyễn Văn An",
                    "Chiến sĩ thi đua thành phố",
                    "TRÍCH BIÊN BẢN",
                    "Hà Nội, ngày",
                ):
                    assert expected in text, (fmt, expected)

            revoke = {
                "reason": "false_claims",
                "explanation": "Thành tích kê khai không đúng",
                "decision_number": "30/QĐ-UBND",
                "decided_on": (clock.today + timedelta(days=20)).isoformat(),
                "signer_name": "Trần Sỹ Thanh",
                "signer_title": "CHỦ TỊCH",
            }
            await api.ok(f"/proposals/{pid}/revoke", revoke, "hn", "standing_committee")
            await _wait_for(agency_db, "SELECT status FROM awards", [("revoked",)])
            await _wait_for(agency_db, "SELECT COUNT(*) FROM received", [(2,)])

            async def flagged() -> bool:
                got = (await api.get(f"/proposals/{national['proposal_id']}", "hn.ntl.fecon", "member")).json()
                return got["flagged"] and got["eligibility"]["outcome"] == "not_met"

            await _until(flagged, "the streak resting on the revoked award to be flagged")
    agency.terminate()
    agency.wait(10)
    await client.close()
    assert _rows(agency_db, "SELECT COUNT(*) FROM received") == [(2,)]
    assert date(2025, 11, 3) < clock.today


async def _named(unit: str, *roles: str) -> str:
    return {"hn.ntl.fecon": "tp-fecon", "hn.ntl": "tp-ntl", "hn": "tp-hn"}.get(unit, "nobody")


async def _has_stream(js: object, name: str) -> bool:
    try:
        await js.stream_info(name)  # type: ignore[attr-defined]
        return True
    except Exception:
        return False


async def _has(app: object, member_id: str) -> bool:
    return await app.state.directory.member(member_id) is not None  # type: ignore[attr-defined]


def _text(data: bytes, fmt: str) -> str:
    if fmt == "docx":
        document = docx.Document(io.BytesIO(data))
        parts = [p.text for p in document.paragraphs] + [
            c.text for t in document.tables for r in t.rows for c in r.cells
        ]
        return " ".join(" ".join(parts).split())
    return " ".join(" ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages).split())
