"""Helpers of the inspections tests (a uniquely named module: ``conftest`` names collide across folders)."""

from dataclasses import replace
from datetime import date
from typing import Any, TypeVar

from contracts.inspections import AnsweredItem, CommitmentItem, Evidence, InitiativeItem
from services.inspections.domain.rules import UnitRef
from services.inspections.domain.selfinspection import UnitFacts, commitment_key, initiative_key
from shared.aggregate import Aggregate
from shared.events import Event, EventMetadata, new_envelope

HN = UnitRef(unit_id="u-hn", path="hn", kind="city_federation", name="LĐLĐ Thành phố Hà Nội")
NTL = UnitRef(unit_id="u-ntl", path="hn.ntl", kind="upper_level_union", name="LĐLĐ quận Nam Từ Liêm", parent_id="u-hn")
DD = UnitRef(unit_id="u-dd", path="hn.dd", kind="upper_level_union", name="LĐLĐ quận Đống Đa", parent_id="u-hn")
FECON = UnitRef(
    unit_id="u-fecon", path="hn.ntl.fecon", kind="grassroots_union", name="Công đoàn Fecon", parent_id="u-ntl"
)
CEO = UnitRef(unit_id="u-ceo", path="hn.ntl.ceo", kind="grassroots_union", name="Công đoàn CEO", parent_id="u-ntl")
THI_CONG = UnitRef(
    unit_id="u-tc", path="hn.ntl.fecon.thi-cong", kind="sub_unit", name="Tổ Khối thi công", parent_id="u-fecon"
)
HANDICO = UnitRef(
    unit_id="u-handico", path="hn.dd.handico", kind="grassroots_union", name="Công đoàn Handico", parent_id="u-dd"
)
FOUNDED = date(2010, 5, 1)  # when the helpers' unions started operating

CAMPAIGN = "c-18"
REGISTERED = commitment_key(CAMPAIGN, "registered")
ACTIVITIES = commitment_key(CAMPAIGN, "activities")
QR = initiative_key("i-qr")
ROBOT = initiative_key("i-robot")
PROOF = Evidence(text="Biên bản họp Ban Chấp hành ngày 20/6")


def commitment(indicator: str = "registered", target: float = 10, measured: float = 4, **extra: Any) -> CommitmentItem:
    fields: dict[str, Any] = {
        "key": commitment_key(CAMPAIGN, indicator),
        "campaign_id": CAMPAIGN,
        "campaign_title": "Đổi mới, sáng tạo, hiệu quả",
        "indicator": indicator,
        "indicator_name": "Sáng kiến đăng ký" if indicator == "registered" else "Hoạt động đổi mới",
        "unit_of_measure": "sáng kiến" if indicator == "registered" else "hoạt động",
        "direction": "at_least",
        "method": "counted" if indicator == "registered" else "reported",
        "target": target,
        "deadline": date(2025, 11, 30),
        "measured": measured,
    }
    return CommitmentItem(**(fields | extra))


def initiative(initiative_id: str = "i-qr", applied_on: date | None = None, **extra: Any) -> InitiativeItem:
    fields: dict[str, Any] = {
        "key": initiative_key(initiative_id),
        "initiative_id": initiative_id,
        "title": "Ứng dụng mã QR trong quản lý đoàn viên" if initiative_id == "i-qr" else "Robot hàn tự động",
        "status": "applied" if applied_on else "recognised",
        "registered_on": date(2025, 2, 10),
        "applied_on": applied_on,
    }
    return InitiativeItem(**(fields | extra))


def facts(unit: UnitRef = FECON, measured: float = 4, applied_on: date | None = None) -> UnitFacts:
    return UnitFacts(
        unit,
        commitments=(commitment(measured=measured), commitment("activities", target=2, measured=2)),
        initiatives=(initiative(applied_on=applied_on), initiative("i-robot", applied_on=date(2025, 3, 1))),
    )


def answered(item: str, answer: str = "done", evidence: Evidence = PROOF, comment: str = "") -> AnsweredItem:
    return AnsweredItem(item=item, answer=answer, evidence=evidence, comment=comment)  # type: ignore[arg-type]


A = TypeVar("A", bound=Aggregate)


def given(cls: type[A], stream: str, *history: Event) -> A:
    meta = EventMetadata(actor="test", unit_path="hn")
    return cls.from_history(stream, [new_envelope(stream, i + 1, e, meta) for i, e in enumerate(history)])


def then(aggregate: A, events: list[Any]) -> A:
    """Apply the emitted events: the next step of a scenario starts from there."""
    for event in events:
        aggregate.apply(event)
        aggregate.version += 1
    return aggregate


def moved(unit: UnitRef, parent: UnitRef) -> UnitRef:
    return replace(unit, path=f"{parent.path}.{unit.code}", parent_id=parent.unit_id)
