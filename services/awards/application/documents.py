"""The award documents, generated from the events: a submission's dossier, a decision, a certificate.

The heading of a union document is the issuing body with its direct parent above it (research §3.2), as
the directory names them now.
"""

import asyncio

from sqlalchemy import select

from contracts.awards import AwardConferred
from services.awards.adapters.documents.compose import (
    Body,
    DecisionDocument,
    Entry,
    InitiativeSummary,
    SubmissionDossier,
    certificates,
    submission,
)
from services.awards.adapters.documents.compose import (
    decision as decision_document,
)
from services.awards.adapters.documents.pdf import to_pdf
from services.awards.adapters.documents.render import to_docx
from services.awards.adapters.records import decisions, submissions
from services.awards.application.deps import Deps
from shared.errors import NotFound
from shared.identity import Caller
from shared.units import UnitRef

MEDIA = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}
ABBREVIATION = {"grassroots_union": "CĐCS", "upper_level_union": "LĐLĐ", "city_federation": "LĐLĐ", "sub_unit": "CĐ"}


async def body_of(deps: Deps, unit: UnitRef) -> Body:
    parent = await deps.unit(unit.parent_id) if unit.parent_id else None
    top = "Tổng Liên đoàn Lao động Việt Nam" if unit.kind == "city_federation" else None
    return Body(unit.name, parent.name if parent else top, abbreviation=ABBREVIATION.get(unit.kind, "CĐ"))


async def _render(document: object, fmt: str) -> bytes:
    # Rendering is CPU work (a 200-nominee dossier takes a moment): off the event loop.
    return await asyncio.to_thread(to_pdf if fmt == "pdf" else to_docx, document)  # type: ignore[arg-type]


async def dossier(deps: Deps, caller: Caller, unit_id: str, number: str, fmt: str) -> tuple[bytes, str, str]:
    sender = await deps.unit(unit_id)
    caller.require_subtree(sender.path, hide=True)
    async with deps.db.reader.connect() as conn:
        ids = [
            r.proposal_id
            for r in await conn.execute(
                select(submissions.c.proposal_id).where(
                    submissions.c.unit_id == unit_id, submissions.c.number == number
                )
            )
        ]
    if not ids:
        raise NotFound(
            f"no submission {number} from {sender.path}", code="award.submission_not_found", params={"number": number}
        )
    entries, first = [], None
    for pid in sorted(ids):
        p = await deps.proposals.get(pid)
        sent = next(
            e for e in reversed(p.escalations) if e.from_level.unit_id == unit_id and e.submission_number == number
        )
        first = first or sent
        initiatives = [
            InitiativeSummary(f.ref, f.summary.split("»")[0].lstrip("«"), f.summary)
            for c in (p.eligibility or p.record.eligibility).criteria
            if c.outcome == "met"
            for f in c.facts
            if f.kind == "initiative"
        ]
        entries.append(Entry(p.record, p.votes.get(unit_id), list({i.initiative_id: i for i in initiatives}.values())))
    assert first is not None
    recipient = await deps.directory.unit(first.to_level.unit_id)
    recipient_body = await body_of(deps, recipient) if recipient else Body(first.to_level.name, None)
    signer = (
        "TM. BAN CHẤP HÀNH\nCHỦ TỊCH"
        if sender.kind != "upper_level_union" and sender.kind != "city_federation"
        else "TM. BAN THƯỜNG VỤ\nCHỦ TỊCH"
    )
    chair = entries[0].vote.meeting.chair if entries[0].vote else ""
    doc = submission(SubmissionDossier(await body_of(deps, sender), recipient_body, first, entries, signer, chair))
    return await _render(doc, fmt), f"ho-so-{number.replace('/', '-')}.{fmt}", MEDIA[fmt]


async def _conferrals(deps: Deps, where: object) -> list[AwardConferred]:
    async with deps.db.reader.connect() as conn:
        rows = list(await conn.execute(select(decisions.c.conferred).where(where).order_by(decisions.c.award_id)))  # type: ignore[arg-type]
    return [AwardConferred.model_validate(r.conferred) for r in rows]


async def decision(deps: Deps, caller: Caller, unit_id: str, number: str, fmt: str) -> tuple[bytes, str, str]:
    issuer = await deps.unit(unit_id)
    caller.require_subtree(issuer.path, hide=True)
    awards = await _conferrals(deps, (decisions.c.level_unit_id == unit_id) & (decisions.c.decision_number == number))
    if not awards:
        raise NotFound(
            f"no decision {number} of {issuer.path}", code="award.decision_not_found", params={"number": number}
        )
    book = await deps.book()
    sources = book.version(awards[0].rule_set)
    grounds = [f"Căn cứ {s}" for s in (sources.sources if sources else ())][:3]
    doc = decision_document(DecisionDocument(await body_of(deps, issuer), awards, grounds))
    return await _render(doc, fmt), f"quyet-dinh-{number.replace('/', '-')}.{fmt}", MEDIA[fmt]


async def certificate(deps: Deps, caller: Caller, award_id: str, fmt: str) -> tuple[bytes, str, str]:
    awards = await _conferrals(deps, decisions.c.award_id == award_id)
    if not awards:
        raise NotFound(f"no award {award_id}", code="award.award_not_found")
    award = awards[0]
    caller.require_subtree(award.nominee.unit_path, hide=True)
    issuer = await deps.directory.unit(award.decision.level.unit_id)
    body = await body_of(deps, issuer) if issuer else Body(award.decision.level.name, None)
    return await _render(certificates([award], body), fmt), f"chung-nhan-{award_id[:8]}.{fmt}", MEDIA[fmt]
