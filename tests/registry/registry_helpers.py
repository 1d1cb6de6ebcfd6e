"""Helpers of the registry tests (a uniquely named module: ``conftest`` names collide across folders)."""

from datetime import date
from typing import Any

from contracts.registry import Author, InitiativeRegistered, Registration
from services.registry.domain.initiative import Initiative
from shared.events import Event, EventMetadata, new_envelope
from shared.identity import Caller
from shared.units import UnitRef

HN = UnitRef(unit_id="u-hn", path="hn", kind="city_federation", name="LĐLĐ Thành phố Hà Nội")
NTL = UnitRef(unit_id="u-ntl", path="hn.ntl", kind="upper_level_union", name="LĐLĐ quận Nam Từ Liêm", parent_id="u-hn")
DD = UnitRef(unit_id="u-dd", path="hn.dd", kind="upper_level_union", name="LĐLĐ quận Đống Đa", parent_id="u-hn")
FECON = UnitRef(
    unit_id="u-fecon", path="hn.ntl.fecon", kind="grassroots_union", name="Công đoàn Fecon", parent_id="u-ntl"
)
CEO = UnitRef(unit_id="u-ceo", path="hn.ntl.ceo", kind="grassroots_union", name="Công đoàn CEO", parent_id="u-ntl")
THI_CONG = UnitRef(
    unit_id="u-tc",
    path="hn.ntl.fecon.thi-cong",
    kind="sub_unit",
    name="Tổ công đoàn Khối thi công",
    parent_id="u-fecon",
)
HANDICO = UnitRef(
    unit_id="u-handico", path="hn.dd.handico", kind="grassroots_union", name="Công đoàn Handico", parent_id="u-dd"
)
CHAIN = [HN, NTL, FECON]


def actor(unit: UnitRef | None, *roles: str, subject: str = "tester") -> Caller:
    return Caller(subject, unit, frozenset(roles))


BCH = actor(FECON, "executive_committee", subject="bch-fecon")
BTV_NTL = actor(NTL, "standing_committee", subject="btv-ntl")
BTV_HN = actor(HN, "standing_committee", subject="btv-hn")
MEMBER = actor(FECON, "member", subject="member-fecon")


def registration(**overrides: Any) -> Registration:
    fields: dict[str, Any] = {
        "title": "Ứng dụng mã QR trong quản lý đoàn viên công đoàn",
        "objective": "Giảm thời gian tra cứu hồ sơ đoàn viên và cập nhật biến động kịp thời",
        "steps": "Khảo sát; xây dựng phần mềm; tập huấn cán bộ công đoàn; áp dụng thử tại khối thi công",
        "scope_of_application": "Toàn Công ty Cổ phần Fecon, áp dụng từ quý II",
        "expected_effectiveness": "Tiết kiệm 200 giờ công mỗi năm",
        "pillar": "sang_tao",
        "field": "Công tác tổ chức",
        "campaign_id": "camp-1",
        "authors": (Author(name="Nguyễn Văn An", member_id="m-an", share=60), Author(name="Trần Thị Bình", share=40)),
        "estimated_benefit_vnd": 50_000_000,
        "first_applied_on": date(2025, 3, 1),
    }
    return Registration(**(fields | overrides))


def registered(initiative_id: str = "i-1", unit: UnitRef = FECON) -> InitiativeRegistered:
    return InitiativeRegistered(
        initiative_id=initiative_id,
        unit_id=unit.unit_id,
        campaign_id="camp-1",
        registration=registration(),
        registered_by="member-fecon",
    )


def given(*history: Event, initiative_id: str = "i-1") -> Initiative:
    meta = EventMetadata(actor="test", unit_path=FECON.path)
    envelopes = [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)]
    return Initiative.from_history(initiative_id, envelopes)


def then(initiative: Initiative, events: list[Event]) -> Initiative:
    """Apply the emitted events: the next step of a scenario starts from there."""
    for event in events:
        initiative.apply(event)
        initiative.version += 1
    return initiative
