"""Helpers of the awards tests (a uniquely named module: ``conftest`` names collide across folders)."""

import hashlib
from datetime import date
from typing import Any, TypeVar

from contracts.awards import Achievement, Decision, Evidence, Level, Meeting, Nominee
from services.awards.domain.catalogue import builtin_rulebook
from services.awards.domain.eligibility import Claim, InitiativeFact, NomineeFacts, TitleFact, evaluate
from services.awards.domain.proposal import Proposal
from services.awards.domain.rules import Actor
from shared.aggregate import Aggregate
from shared.events import Event, EventMetadata, new_envelope
from shared.evidence import EvidenceFile
from shared.units import UnitRef

HN = UnitRef(unit_id="u-hn", path="hn", kind="city_federation", name="Liên đoàn Lao động Thành phố Hà Nội")
NTL = UnitRef(
    unit_id="u-ntl",
    path="hn.ntl",
    kind="upper_level_union",
    name="Liên đoàn Lao động quận Nam Từ Liêm",
    parent_id="u-hn",
)
DD = UnitRef(
    unit_id="u-dd", path="hn.dd", kind="upper_level_union", name="Liên đoàn Lao động quận Đống Đa", parent_id="u-hn"
)
FECON = UnitRef(
    unit_id="u-fecon",
    path="hn.ntl.fecon",
    kind="grassroots_union",
    name="Công đoàn Công ty Cổ phần Fecon",
    parent_id="u-ntl",
)
CEO = UnitRef(
    unit_id="u-ceo", path="hn.ntl.ceo", kind="grassroots_union", name="Công đoàn Công ty CEO", parent_id="u-ntl"
)
THI_CONG = UnitRef(
    unit_id="u-tc",
    path="hn.ntl.fecon.thi-cong",
    kind="sub_unit",
    name="Tổ công đoàn Khối thi công",
    parent_id="u-fecon",
)
CHAIN = [HN, NTL, FECON]

A = TypeVar("A", bound=Aggregate)
BOOK = builtin_rulebook()
TODAY = date(2025, 11, 3)


def actor(unit: UnitRef | None, *roles: str, subject: str = "tester") -> Actor:
    return Actor(subject, unit, frozenset(roles))


BCH = actor(FECON, "executive_committee", subject="bch-fecon")
OFFICER = actor(FECON, "emulation_officer", subject="officer-fecon")
BTV_NTL = actor(NTL, "standing_committee", subject="btv-ntl")
BTV_HN = actor(HN, "standing_committee", subject="btv-hn")
MEMBER = actor(FECON, "member", subject="member-fecon")
OUTSIDER = actor(DD, "member", subject="member-dd")

AN = Nominee(
    kind="individual",
    id="m-an",
    name="Nguyễn Văn An",
    unit_id=FECON.unit_id,
    unit_path=FECON.path,
    unit_name=FECON.name,
    is_official=False,
    job_title="Kỹ sư thi công",
)
FECON_COLLECTIVE = Nominee(
    kind="collective",
    id=FECON.unit_id,
    name=FECON.name,
    unit_id=FECON.unit_id,
    unit_path=FECON.path,
    unit_name=FECON.name,
    is_official=False,
)

QR = InitiativeFact(
    initiative_id="i-qr",
    title="Ứng dụng mã QR trong quản lý đoàn viên",
    unit_id=FECON.unit_id,
    scope="city",
    recognised_on=date(2025, 4, 2),
    decision_number="12/QĐ-LĐLĐ",
    recognised_by="hn",
    applied_on=date(2025, 5, 1),
    applied_where="Khối thi công",
    accepted_on=date(2025, 9, 1),
    benefit_vnd=80_000_000,
)


def titles(code: str, *years: int, revoked: tuple[int, ...] = ()) -> tuple[TitleFact, ...]:
    return tuple(
        TitleFact(f"a-{code}-{y}", code, y, f"{y % 100:02d}/QĐ", date(y, 12, 20), revoked=y in revoked) for y in years
    )


def facts(**overrides: Any) -> NomineeFacts:
    fields: dict[str, Any] = {"nominee_id": AN.id, "initiatives": (QR,), "titles": titles("cstd_cs", 2023, 2024, 2025)}
    return NomineeFacts(**(fields | overrides))


def evidence(kind: str, name: str = "bang-chung.pdf") -> Evidence:
    digest = hashlib.sha256(kind.encode()).hexdigest()
    return Evidence(
        kind=kind, file=EvidenceFile(sha256=digest, name=name, media_type="application/pdf", size_bytes=1024)
    )


def eligible(code: str, nominee_facts: NomineeFacts | None = None, claim: Claim | None = None, on: date = TODAY):
    rule_set, rule = BOOK.award(code, on)
    return evaluate(rule, rule_set.version, nominee_facts or facts(), claim or Claim(year=2025), on)


def achievement(ref: str = "i-qr", kind: str = "initiative") -> Achievement:
    return Achievement(kind=kind, ref=ref, summary="Sáng kiến «Ứng dụng mã QR trong quản lý đoàn viên»")  # type: ignore[arg-type]


def meeting(held_on: date, total: int = 9, present: int = 9, number: str = "05/BB-CĐ") -> Meeting:
    return Meeting(
        minutes_number=number,
        held_on=held_on,
        place="Hội trường công ty",
        chair="Trần Thị Bình",
        secretary="Lê Văn Cường",
        members_total=total,
        members_present=present,
    )


def decision(level: Level, number: str = "25/QĐ-LĐLĐ", on: date = TODAY, decider: str = "union_body") -> Decision:
    return Decision(
        number=number,
        decided_on=on,
        level=level,
        deciding_body=f"Ban Thường vụ {level.name}",
        decider=decider,  # type: ignore[arg-type]
        signer_name="Phạm Quang Thanh",
        signer_title="CHỦ TỊCH",
    )


def given(cls: type[A], aggregate_id: str, *history: Event) -> A:
    meta = EventMetadata(actor="test", unit_path=FECON.path)
    return cls.from_history(aggregate_id, [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])


def then(aggregate: A, events: list[Event]) -> A:
    """Apply the emitted events: the next step of a scenario starts from there."""
    for event in events:
        aggregate.apply(event)
        aggregate.version += 1
    return aggregate


def proposal(*history: Event, proposal_id: str = "p-1") -> Proposal:
    return given(Proposal, proposal_id, *history)
