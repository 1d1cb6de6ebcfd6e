"""Given events → command → expected events or error, for every rule of campaigns, pledges,
registrations and progress reports."""

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from contracts.pledges import (
    CampaignClosed,
    CampaignLaunched,
    Commitment,
    PledgeAmended,
    PledgeSigned,
    ProgressReported,
    RegistrationSubmitted,
    Signatory,
    TargetAssigned,
    Topic,
)
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.pledge import Pledge
from services.pledges.domain.progress import Progress
from services.pledges.domain.registration import Registration
from services.pledges.domain.rules import achievement, fmt
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import Event, EventMetadata, new_envelope
from shared.units import UnitRef

HN = UnitRef(unit_id="u-hn", path="hn", parent_id=None, kind="city_federation")
NTL = UnitRef(unit_id="u-ntl", path="hn.ntl", parent_id="u-hn", kind="upper_level_union")
DD = UnitRef(unit_id="u-dd", path="hn.dd", parent_id="u-hn", kind="upper_level_union")
FECON = UnitRef(unit_id="u-fecon", path="hn.ntl.fecon", parent_id="u-ntl", kind="grassroots_union")
CEO = UnitRef(unit_id="u-ceo", path="hn.ntl.ceo", parent_id="u-ntl", kind="grassroots_union")
HANDICO = UnitRef(unit_id="u-handico", path="hn.dd.handico", parent_id="u-dd", kind="grassroots_union")

INDICATORS: list[dict[str, Any]] = [
    {
        "code": "registered",
        "name": "Sáng kiến đăng ký",
        "unit_of_measure": "sáng kiến",
        "direction": "at_least",
        "method": "counted",
        "source": "initiatives_registered",
    },
    {
        "code": "activities",
        "name": "Hoạt động đổi mới, sáng tạo",
        "unit_of_measure": "hoạt động",
        "direction": "at_least",
        "method": "reported",
        "evidence_required": "Biên bản hoặc báo cáo kết quả hoạt động",
    },
    {
        "code": "late_reports",
        "name": "Báo cáo chậm",
        "unit_of_measure": "báo cáo",
        "direction": "at_most",
        "method": "reported",
        "evidence_required": "Sổ theo dõi báo cáo",
    },
]
START, END = date(2025, 1, 1), date(2025, 12, 31)


def launch_events(targets: dict[str, dict[str, float]] | None = None) -> list[Event]:
    return Campaign.launch(
        "c-1",
        HN,
        [NTL, DD],
        title="Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn",
        plan_number="18/KH-LĐLĐ",
        pillars=["Đổi mới", "Sáng tạo", "Hiệu quả"],
        starts_on=START,
        ends_on=END,
        report_deadlines=[date(2025, 6, 30), END],
        indicators=INDICATORS,
        targets=targets if targets is not None else {"u-ntl": {"registered": 1789, "activities": 8, "late_reports": 2}},
    )


def given_campaign(*later: Event, targets: dict[str, dict[str, float]] | None = None) -> Campaign:
    history = [*launch_events(targets), *later]
    meta = EventMetadata(actor="test", unit_path="hn")
    return Campaign.from_history("c-1", [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])


# -- launch -------------------------------------------------------------------------------------------


def test_launch_records_indicators_and_a_target_per_child() -> None:
    launched, target = launch_events()
    assert isinstance(launched, CampaignLaunched)
    assert launched.launcher_path == "hn" and launched.plan_number == "18/KH-LĐLĐ"
    assert [i.code for i in launched.indicators] == ["registered", "activities", "late_reports"]
    assert launched.indicators[1].source is None and launched.report_deadlines == (date(2025, 6, 30), END)
    assert target == TargetAssigned(
        campaign_id="c-1",
        unit_id="u-ntl",
        by_unit_id="u-hn",
        targets={"registered": 1789, "activities": 8, "late_reports": 2},
    )


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        ({"unit_of_measure": None}, "no a unit of measure"),
        ({"method": None}, "no a method"),
        ({"unit_of_measure": "", "method": None}, "unit of measure .* and no a method"),
        ({"source": None}, "events it is counted from"),
    ],
)
def test_an_indicator_that_cannot_be_measured_is_refused_saying_what_is_missing(
    broken: dict[str, Any], says: str
) -> None:
    indicators = [{**INDICATORS[0], **broken}]
    with pytest.raises(InvalidInput, match=says) as error:
        Campaign.launch(
            "c", HN, [], title="T", plan_number="1", pillars=[], starts_on=START, ends_on=END,
            report_deadlines=[], indicators=indicators, targets={},
        )  # fmt: skip
    assert "Sáng kiến đăng ký" in error.value.message and error.value.field == "indicators.0"


def test_a_reported_indicator_must_say_what_evidence_it_needs() -> None:
    with pytest.raises(InvalidInput, match="evidence"):
        Campaign.launch(
            "c", HN, [], title="T", plan_number="1", pillars=[], starts_on=START, ends_on=END,
            report_deadlines=[], indicators=[{**INDICATORS[1], "evidence_required": None}], targets={},
        )  # fmt: skip


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"indicators": []}, InvalidInput, "indicators"),
        ({"indicators": [INDICATORS[0], INDICATORS[0]]}, InvalidInput, "indicators"),
        ({"ends_on": START}, InvalidInput, "ends_on"),
        ({"report_deadlines": [date(2026, 1, 5)]}, InvalidInput, "report_deadlines"),
        ({"targets": {"u-fecon": {"registered": 5}}}, InvalidInput, "targets"),  # not a direct child
        ({"targets": {"u-ntl": {"unknown": 5}}}, InvalidInput, "targets.u-ntl"),
        ({"targets": {"u-ntl": {"registered": -1}}}, InvalidInput, "targets.u-ntl"),
    ],
)
def test_launch_refusals(change: dict[str, Any], error: type[Exception], field: str) -> None:
    args: dict[str, Any] = {
        "title": "T", "plan_number": "1", "pillars": [], "starts_on": START, "ends_on": END,
        "report_deadlines": [], "indicators": INDICATORS, "targets": {},
    }  # fmt: skip
    with pytest.raises(error) as raised:
        Campaign.launch("c", HN, [NTL, DD], **{**args, **change})
    assert raised.value.field == field  # type: ignore[attr-defined]


# -- cascade ------------------------------------------------------------------------------------------


def test_a_child_splits_its_target_among_its_children() -> None:
    campaign = given_campaign()
    split = {"u-fecon": {"registered": 1000, "activities": 5, "late_reports": 1},
             "u-ceo": {"registered": 789, "activities": 3, "late_reports": 1}}  # fmt: skip
    events = campaign.split(NTL, [FECON, CEO], split)
    assert [(e.unit_id, e.by_unit_id, e.targets["registered"]) for e in events] == [  # type: ignore[attr-defined]
        ("u-fecon", "u-ntl", 1000),
        ("u-ceo", "u-ntl", 789),
    ]


def test_a_split_that_does_not_cover_the_parents_target_says_by_how_much() -> None:
    campaign = given_campaign()
    split = {"u-fecon": {"registered": 1000, "activities": 5, "late_reports": 1},
             "u-ceo": {"registered": 700, "activities": 3, "late_reports": 1}}  # fmt: skip
    with pytest.raises(Conflict, match=re.escape("totals 1,700 sáng kiến, 89 short of hn.ntl's target of 1,789")):
        campaign.split(NTL, [FECON, CEO], split)


def test_an_at_most_split_must_not_exceed_the_parents_limit() -> None:
    campaign = given_campaign()
    split = {"u-fecon": {"registered": 1000, "activities": 5, "late_reports": 2},
             "u-ceo": {"registered": 789, "activities": 3, "late_reports": 1}}  # fmt: skip
    with pytest.raises(Conflict, match=re.escape("totals 3 báo cáo, 1 over hn.ntl's target of 2")):
        campaign.split(NTL, [FECON, CEO], split)


def test_a_split_must_cover_every_indicator_of_the_parent() -> None:
    with pytest.raises(Conflict, match="leaves out the indicators activities, late_reports"):
        given_campaign().split(NTL, [FECON], {"u-fecon": {"registered": 2000}})


def test_a_unit_without_a_target_has_nothing_to_split() -> None:
    with pytest.raises(Conflict, match=re.escape("hn.dd has no target")):
        given_campaign().split(DD, [HANDICO], {"u-handico": {"registered": 1}})


def test_the_launcher_assigns_later_targets_without_a_cover_check() -> None:
    events = given_campaign().split(HN, [NTL, DD], {"u-dd": {"registered": 10}})
    assert [e.unit_id for e in events] == ["u-dd"]  # type: ignore[attr-defined]


def test_a_split_is_only_among_direct_children() -> None:
    with pytest.raises(InvalidInput, match=re.escape("not an active direct child of hn.ntl")):
        given_campaign().split(NTL, [FECON], {"u-handico": {"registered": 1789, "activities": 8, "late_reports": 0}})


# -- close and overdue --------------------------------------------------------------------------------


def test_close_with_a_review() -> None:
    campaign = given_campaign()
    (closed,) = campaign.close(HN, date(2026, 1, 10), "2.107 sáng kiến", "Cần đo lường cụ thể", [FECON])
    assert closed == CampaignClosed(
        campaign_id="c-1",
        closed_on=date(2026, 1, 10),
        results="2.107 sáng kiến",
        lessons="Cần đo lường cụ thể",
        commended_unit_ids=("u-fecon",),
    )
    closed_campaign = given_campaign(closed)
    with pytest.raises(IllegalTransition, match="closed"):
        closed_campaign.close(HN, date(2026, 1, 11), "x", "", [])
    with pytest.raises(IllegalTransition):
        closed_campaign.split(HN, [NTL], {"u-ntl": {"registered": 1}})
    assert not closed_campaign.overdue(date(2027, 1, 1))


def test_close_refusals() -> None:
    campaign = given_campaign()
    with pytest.raises(Conflict, match="only hn, which launched it"):
        campaign.close(NTL, date(2026, 1, 1), "r", "", [])
    with pytest.raises(InvalidInput, match="results"):
        campaign.close(HN, date(2026, 1, 1), "  ", "", [])
    with pytest.raises(IllegalTransition, match="not started"):
        campaign.close(HN, date(2024, 12, 1), "r", "", [])
    with pytest.raises(InvalidInput, match="outside the campaign"):
        campaign.close(
            HN,
            date(2026, 1, 1),
            "r",
            "",
            [UnitRef(unit_id="u-x", path="hcm.x", parent_id=None, kind="grassroots_union")],
        )


def test_a_campaign_past_its_end_and_not_closed_is_overdue() -> None:
    campaign = given_campaign()
    assert not campaign.overdue(END)
    assert campaign.overdue(date(2026, 1, 1))


# -- pledges ------------------------------------------------------------------------------------------

CHAIR = Signatory(member_id="m-1", full_name="Nguyễn Thị Lan", role="chair")


def fecon_campaign() -> Campaign:
    split = TargetAssigned(campaign_id="c-1", unit_id="u-fecon", by_unit_id="u-ntl", targets={"registered": 1000})
    return given_campaign(split)


def test_a_unit_signs_a_pledge() -> None:
    commitments = [Commitment(indicator="registered", target=1200, deadline=date(2025, 11, 30))]
    (signed,) = Pledge("p-1").sign(fecon_campaign(), FECON, date(2025, 2, 1), commitments, [CHAIR])
    assert isinstance(signed, PledgeSigned)
    assert signed.commitments[0].target == 1200 and signed.signatories == (CHAIR,)


def commit(target: float, deadline: date = date(2025, 5, 1), indicator: str = "registered") -> Commitment:
    return Commitment(indicator=indicator, target=target, deadline=deadline)


@pytest.mark.parametrize(
    ("commitments", "signatories", "says"),
    [
        ([], [CHAIR], "at least one commitment"),
        ([commit(1, indicator="x")], [CHAIR], "no indicator 'x'"),
        ([commit(1200, date(2026, 5, 1))], [CHAIR], "outside the campaign"),
        ([commit(900)], [CHAIR], "falls short of the target 1,000"),
        ([commit(1200)], [], "at least one official"),
        ([commit(-1)], [CHAIR], "negative"),
        ([commit(1200)] * 2, [CHAIR], "twice"),
    ],
)
def test_pledge_refusals(commitments: list[Commitment], signatories: list[Signatory], says: str) -> None:
    with pytest.raises((InvalidInput, Conflict), match=says):
        Pledge("p-1").sign(fecon_campaign(), FECON, date(2025, 2, 1), commitments, signatories)


def test_a_campaign_that_does_not_reach_the_unit_takes_no_pledge() -> None:
    commitments = [Commitment(indicator="registered", target=1, deadline=date(2025, 5, 1))]
    stranger = UnitRef(unit_id="u-x", path="hcm.x", parent_id=None, kind="grassroots_union")
    with pytest.raises(Conflict, match=re.escape("does not reach hcm.x")):
        Pledge("p-1").sign(fecon_campaign(), stranger, date(2025, 2, 1), commitments, [CHAIR])


def test_an_amendment_is_a_new_version_with_its_reason_and_keeps_history() -> None:
    campaign = fecon_campaign()
    first = [Commitment(indicator="registered", target=1200, deadline=date(2025, 11, 30))]
    signed = Pledge("p-1").sign(campaign, FECON, date(2025, 2, 1), first, [CHAIR])
    meta = EventMetadata(actor="t", unit_path=FECON.path)
    pledge = Pledge.from_history("p-1", [new_envelope("p", 1, signed[0], meta)])
    second = [Commitment(indicator="registered", target=1500, deadline=date(2025, 11, 30))]
    (amended,) = pledge.amend(campaign, FECON, "Thêm tổ ươm mầm", second)
    assert amended == PledgeAmended(
        pledge_id="pledge-p-1", campaign_id="c-1", unit_id="u-fecon", amendment=2, reason="Thêm tổ ươm mầm",
        commitments=tuple(second),
    )  # fmt: skip
    pledge = Pledge.from_history("p-1", [new_envelope("p", 1, signed[0], meta), new_envelope("p", 2, amended, meta)])
    assert pledge.amendment == 2 and pledge.commitments == tuple(second)
    with pytest.raises(InvalidInput, match="reason"):
        pledge.amend(campaign, FECON, " ", first)
    with pytest.raises(Conflict, match="changes no commitment"):
        pledge.amend(campaign, FECON, "again", second)
    with pytest.raises(IllegalTransition, match="not signed"):
        Pledge("p-2").amend(campaign, FECON, "r", second)


# -- registrations ------------------------------------------------------------------------------------


def test_a_member_registers_titles_and_topics_once_a_year() -> None:
    topics = [Topic(title="Số hóa sổ đoàn viên", kind="initiative")]
    (event,) = Registration("r-1").submit(
        "m-1", "u-fecon", 2025, ["lao_dong_tien_tien", "chien_si_thi_dua_co_so"], topics, 2025
    )
    assert isinstance(event, RegistrationSubmitted) and event.target_titles[1] == "chien_si_thi_dua_co_so"
    registered = Registration.from_history(
        "r-1", [new_envelope("r", 1, event, EventMetadata(actor="t", unit_path="x"))]
    )
    with pytest.raises(Conflict, match="already registered for 2025"):
        registered.submit("m-1", "u-fecon", 2025, ["lao_dong_tien_tien"], [], 2025)


@pytest.mark.parametrize(
    ("titles", "topics", "year", "says"),
    [
        ([], [], 2025, "at least one target title"),
        (["anh_hung"], [], 2025, "unknown titles anh_hung"),
        (["chien_si_thi_dua_co_so"], [Topic(title="Đề tài")], 2025, "needs at least one initiative"),
        (["lao_dong_tien_tien"], [], 2024, "closed"),
    ],
)
def test_registration_refusals(titles: list[str], topics: list[Topic], year: int, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        Registration("r-1").submit("m-1", "u-fecon", year, titles, topics, 2025)


# -- progress -----------------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_a_reported_value_carries_its_change_since_the_last_report() -> None:
    campaign = given_campaign()
    (first,) = Progress("c-1-u-fecon").report(campaign, FECON, "activities", 2, ["Biên bản số 3"], NOW)
    meta = EventMetadata(actor="t", unit_path=FECON.path)
    progress = Progress.from_history("c-1-u-fecon", [new_envelope("p", 1, first, meta)])
    (second,) = progress.report(campaign, FECON, "activities", 5, ["Biên bản số 7"], NOW)
    assert isinstance(second, ProgressReported) and (second.value, second.delta) == (5, 3)


@pytest.mark.parametrize(
    ("indicator", "value", "evidence", "says"),
    [
        ("registered", 5, ["x"], "counted automatically"),
        ("nothing", 5, ["x"], "no indicator"),
        ("activities", -1, ["x"], "negative"),
        ("activities", 1, [" "], "needs its evidence: Biên bản"),
    ],
)
def test_progress_refusals(indicator: str, value: float, evidence: list[str], says: str) -> None:
    with pytest.raises((InvalidInput, Conflict), match=says):
        Progress("c-1-u-fecon").report(given_campaign(), FECON, indicator, value, evidence, NOW)


def test_achievement_is_percent_of_target_to_two_places() -> None:
    assert achievement(2107, 1789) == Decimal("117.78")
    assert achievement(0, 0) is None
    assert achievement(1, 2, "at_most") == Decimal("100.00")
    assert achievement(4, 2, "at_most") == Decimal("50.00")
    assert fmt(1789.0) == "1,789" and fmt(2.5) == "2.5"


# -- rules pinned by mutation testing (issue 8): each fails if its check is deleted --------------------

CLOSED = CampaignClosed(campaign_id="c-1", closed_on=date(2025, 12, 31), results="Đạt", lessons="")
STRANGER = UnitRef(unit_id="u-x", path="hcm.x", parent_id=None, kind="grassroots_union")


def signed_pledge(campaign: Campaign) -> Pledge:
    first = [Commitment(indicator="registered", target=1200, deadline=date(2025, 11, 30))]
    (signed,) = Pledge("p-1").sign(campaign, FECON, date(2025, 2, 1), first, [CHAIR])
    return Pledge.from_history("p-1", [new_envelope("p", 1, signed, EventMetadata(actor="t", unit_path=FECON.path))])


def test_a_closed_campaign_takes_no_report_and_no_amendment() -> None:
    split = TargetAssigned(campaign_id="c-1", unit_id="u-fecon", by_unit_id="u-ntl", targets={"registered": 1000})
    pledge = signed_pledge(fecon_campaign())
    closed = given_campaign(split, CLOSED)
    with pytest.raises(IllegalTransition, match="was closed with its review"):
        Progress("c-1-u-fecon").report(closed, FECON, "activities", 2, ["Biên bản"], NOW)
    more = [Commitment(indicator="registered", target=1500, deadline=date(2025, 11, 30))]
    with pytest.raises(IllegalTransition, match="was closed with its review"):
        pledge.amend(closed, FECON, "Thêm chỉ tiêu", more)


def test_a_campaign_takes_no_report_and_no_amendment_for_a_unit_it_does_not_reach() -> None:
    with pytest.raises(Conflict, match=re.escape("does not reach hcm.x")) as refused:
        Progress("c-1-u-x").report(given_campaign(), STRANGER, "activities", 2, ["Biên bản"], NOW)
    assert refused.value.field == "unit_id"
    pledge = signed_pledge(fecon_campaign())
    more = [Commitment(indicator="registered", target=1500, deadline=date(2025, 11, 30))]
    with pytest.raises(Conflict, match=re.escape("does not reach hcm.x")):
        pledge.amend(fecon_campaign(), STRANGER, "Thêm chỉ tiêu", more)


@pytest.mark.parametrize("signed_on", [date(2024, 12, 31), date(2026, 1, 1)])
def test_a_pledge_is_signed_during_its_campaign(signed_on: date) -> None:
    commitments = [Commitment(indicator="registered", target=1200, deadline=date(2025, 11, 30))]
    with pytest.raises(InvalidInput, match="signed during the campaign") as refused:
        Pledge("p-1").sign(fecon_campaign(), FECON, signed_on, commitments, [CHAIR])
    assert refused.value.field == "signed_on"
    for day in (START, END):  # both ends of the period are inside it
        assert Pledge("p-1").sign(fecon_campaign(), FECON, day, commitments, [CHAIR])
