"""The pledges' rules, pinned by mutation testing (issue 8): closing a campaign, amending a pledge, the
achievement percentage at its edges. Each test fails if a check, or what its refusal says (type, field,
message), is removed. Domain only, no I/O."""

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from contracts.pledges import Commitment, PledgeSigned, TargetAssigned, Topic
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.pledge import Pledge
from services.pledges.domain.progress import Progress
from services.pledges.domain.registration import Registration
from services.pledges.domain.rules import achievement, check_measurable, check_titles, fmt
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import EventMetadata, new_envelope
from shared.units import UnitRef
from tests.pledges.test_pledges_domain import (
    CEO,
    CHAIR,
    DD,
    END,
    FECON,
    HANDICO,
    HN,
    INDICATORS,
    NOW,
    NTL,
    START,
    STRANGER,
    fecon_campaign,
    given_campaign,
    signed_pledge,
)

OTHER_STRANGER = UnitRef(unit_id="u-y", path="hcm.y", parent_id=None, kind="grassroots_union")
MORE = [Commitment(indicator="registered", target=1500, deadline=date(2025, 11, 30))]

# -- closing a campaign -----------------------------------------------------------------------------------


def test_a_campaign_closes_from_its_first_day() -> None:
    (closed,) = given_campaign().close(HN, START, "Đạt", "", [])
    assert closed.closed_on == START  # type: ignore[attr-defined]
    with pytest.raises(IllegalTransition) as early:
        given_campaign().close(HN, date(2024, 12, 31), "Đạt", "", [])
    assert str(early.value) == "the campaign has not started yet (it starts on 2025-01-01)"


def test_closing_refusals_name_the_field() -> None:
    campaign = given_campaign()
    with pytest.raises(Conflict) as not_launcher:
        campaign.close(NTL, date(2026, 1, 1), "Đạt", "", [])
    assert (not_launcher.value.field, str(not_launcher.value)) == (
        "unit_id",
        "only hn, which launched it, closes the campaign",
    )
    with pytest.raises(InvalidInput) as no_results:
        campaign.close(HN, date(2026, 1, 1), " \n", "", [])
    assert (no_results.value.field, str(no_results.value)) == ("results", "the closing review states the results")
    with pytest.raises(InvalidInput) as strangers:
        campaign.close(HN, date(2026, 1, 1), "Đạt", "", [FECON, STRANGER, OTHER_STRANGER])
    assert (strangers.value.field, str(strangers.value)) == (
        "commended",
        "units outside the campaign cannot be commended: hcm.x, hcm.y",
    )


# -- amending a pledge ------------------------------------------------------------------------------------


def test_amendment_refusals_name_the_field() -> None:
    with pytest.raises(IllegalTransition) as unsigned:
        Pledge("p-9").amend(fecon_campaign(), FECON, "Thêm", MORE)
    assert str(unsigned.value) == "the unit has not signed a pledge for this campaign yet"
    with pytest.raises(InvalidInput) as no_reason:
        signed_pledge(fecon_campaign()).amend(fecon_campaign(), FECON, "  ", MORE)
    assert (no_reason.value.field, str(no_reason.value)) == ("reason", "an amendment states its reason")


# -- achievement at its edges ----------------------------------------------------------------------------


def test_achievement_at_its_edges() -> None:
    assert achievement(1, 1) == Decimal("100.00")  # a target of one is a target
    assert achievement(3, 0.5) == Decimal("600.00")
    assert achievement(0, 0, "at_most") == Decimal("100.00")  # nothing allowed, nothing happened
    assert achievement(0.00125, 1) == Decimal("0.13")  # half rounds up
    assert achievement(2, 2, "at_most") == Decimal("100.00")


def test_a_registration_applies_only_its_own_event() -> None:
    signed = PledgeSigned(
        pledge_id="pledge-p", campaign_id="c-1", unit_id="u-fecon", signed_on=START, commitments=(), signatories=()
    )
    with pytest.raises(TypeError, match="a registration cannot apply PledgeSigned"):
        Registration("2025-m-1").apply(signed)


def test_an_amendment_that_changes_nothing_is_a_conflict_on_the_commitments() -> None:
    pledge = signed_pledge(fecon_campaign())
    with pytest.raises(Conflict) as unchanged:
        pledge.amend(fecon_campaign(), FECON, "Không đổi", pledge.commitments)
    assert (unchanged.value.field, str(unchanged.value)) == ("commitments", "the amendment changes no commitment")
    with pytest.raises(TypeError, match="a pledge cannot apply TopicLess"):
        pledge.apply(TopicLess())  # type: ignore[arg-type]


class TopicLess:
    """Not a pledge's event."""


# -- registrations' titles --------------------------------------------------------------------------------

ALL_TITLES = "lao_dong_tien_tien, chien_si_thi_dua_co_so, chien_si_thi_dua_cap_tinh, chien_si_thi_dua_toan_quoc"


@pytest.mark.parametrize(
    ("titles", "topics", "field", "says"),
    [
        ([], [], "target_titles", "a registration names at least one target title"),
        (["anh_hung", "lao_dong_gioi"], [], "target_titles",
         f"unknown titles anh_hung, lao_dong_gioi; choose from {ALL_TITLES}"),
        (["chien_si_thi_dua_co_so"], [Topic(title="Đề tài")], "topics",
         "a Chiến sĩ thi đua title needs at least one initiative among the topics"),
    ],
)  # fmt: skip
def test_registration_refusals_name_the_field(titles: list[str], topics: list[Topic], field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_titles(titles, topics)
    assert (refused.value.field, str(refused.value)) == (field, says)


# -- every refusal names its field ----------------------------------------------------------------------

SIGNED = [Commitment(indicator="registered", target=1200, deadline=date(2025, 11, 30))]
FULL_SPLIT = {"registered": 1789, "activities": 8, "late_reports": 2}


def registered_member() -> Registration:
    (event,) = Registration("r-1").submit("m-1", "u-fecon", 2025, ["lao_dong_tien_tien"], [], 2025)
    return Registration.from_history("r-1", [new_envelope("r", 1, event, EventMetadata(actor="t", unit_path="x"))])


REFUSALS: list[tuple[Callable[[], object], type[Exception], str, str]] = [
    (lambda: registered_member().submit("m-1", "u-fecon", 2025, ["lao_dong_tien_tien"], [], 2025),
     Conflict, "year", "member m-1 has already registered for 2025"),
    (lambda: Registration("r-2").submit("m-1", "u-fecon", 2024, ["lao_dong_tien_tien"], [], 2025),
     InvalidInput, "year", "registrations for 2024 are closed; register for 2025 or later"),
    (lambda: given_campaign().split(STRANGER, [], {}), Conflict, "unit_id", "the campaign of hn does not reach hcm.x"),
    (lambda: given_campaign().split(DD, [HANDICO], {"u-handico": {"registered": 1}}),
     Conflict, "unit_id", "hn.dd has no target of its own to split yet"),
    (lambda: given_campaign().split(NTL, [FECON], {"u-fecon": {"registered": 2000}}),
     Conflict, "targets", "the split leaves out the indicators activities, late_reports"),
    (lambda: given_campaign().split(NTL, [FECON, CEO], {"u-fecon": {**FULL_SPLIT, "activities": 7},
                                                          "u-ceo": {"registered": 0, "late_reports": 0}}),
     Conflict, "targets",
     "the split of 'Hoạt động đổi mới, sáng tạo' totals 7 hoạt động, 1 short of hn.ntl's target of 8"),
    (lambda: Pledge("p-1").sign(fecon_campaign(), FECON, date(2025, 2, 1), SIGNED, []),
     InvalidInput, "signatories", "a pledge is signed by at least one official of the unit"),
    (lambda: Pledge("p-1").sign(fecon_campaign(), STRANGER, date(2025, 2, 1), SIGNED, [CHAIR]),
     Conflict, "unit_id", "the campaign of hn does not reach hcm.x"),
]  # fmt: skip


@pytest.mark.parametrize(("refused", "error", "field", "says"), REFUSALS)
def test_each_refusal_names_its_field_and_says_why(
    refused: Callable[[], object], error: type[Exception], field: str, says: str
) -> None:
    with pytest.raises(error) as raised:
        refused()
    assert (raised.value.field, str(raised.value)) == (field, says)  # type: ignore[attr-defined]


def test_progress_applies_only_its_own_event_and_quantities_print_as_a_report_does() -> None:
    with pytest.raises(TypeError, match="progress cannot apply TopicLess"):
        Progress("c-1-u-fecon").apply(TopicLess())  # type: ignore[arg-type]
    assert (fmt(2.001), fmt(1234.5), fmt(1789.0)) == ("2", "1,234.5", "1,789")


# -- the edges of what is accepted -------------------------------------------------------------------------

NTL_TARGETS = TargetAssigned(
    campaign_id="c-1", unit_id="u-fecon", by_unit_id="u-ntl", targets={"registered": 1000, "late_reports": 2}
)


def test_a_commitment_may_equal_its_assigned_target_and_an_at_most_one_may_go_below_it() -> None:
    campaign = given_campaign(NTL_TARGETS)
    equal = [
        Commitment(indicator="registered", target=1000, deadline=START),
        Commitment(indicator="late_reports", target=2, deadline=END),
    ]
    assert Pledge("p-1").sign(campaign, FECON, START, equal, [CHAIR])
    stricter = [Commitment(indicator="late_reports", target=1, deadline=END)]
    assert Pledge("p-1").sign(campaign, FECON, START, stricter, [CHAIR])
    looser = [Commitment(indicator="late_reports", target=3, deadline=END)]
    with pytest.raises(Conflict) as refused:
        Pledge("p-1").sign(campaign, FECON, START, looser, [CHAIR])
    assert (refused.value.field, str(refused.value)) == (
        "commitments.0",
        "the commitment to 'Báo cáo chậm' (3) falls short of the target 2 assigned to hn.ntl.fecon",
    )


def test_a_unit_without_an_assigned_target_commits_to_anything_from_zero() -> None:
    zero = [Commitment(indicator="activities", target=0, deadline=END)]
    (signed,) = Pledge("p-2").sign(given_campaign(), CEO, START, zero, [CHAIR])
    assert signed.commitments == tuple(zero)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("commitments", "field", "says"),
    [
        ([], "commitments", "a pledge makes at least one commitment"),
        ([Commitment(indicator="nothing", target=1, deadline=END)], "commitments.0",
         "the campaign has no indicator 'nothing'"),
        ([Commitment(indicator="activities", target=1, deadline=END)] * 2, "commitments.1",
         "'activities' is committed twice"),
        ([Commitment(indicator="activities", target=-1, deadline=END)], "commitments.0",
         "a commitment's target cannot be negative"),
        ([Commitment(indicator="activities", target=1, deadline=date(2026, 1, 1))], "commitments.0",
         "the deadline 2026-01-01 is outside the campaign (2025-01-01 to 2025-12-31)"),
    ],
)  # fmt: skip
def test_commitment_refusals_name_the_commitment(commitments: list[Commitment], field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Pledge("p-3").sign(given_campaign(), CEO, START, commitments, [CHAIR])
    assert (refused.value.field, str(refused.value)) == (field, says)


def test_a_first_report_from_the_first_day_may_be_zero_and_its_change_is_its_value() -> None:
    first_day = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    (zero,) = Progress("c-1-u-fecon").report(given_campaign(), FECON, "activities", 0, ["Biên bản"], first_day)
    assert (zero.value, zero.delta) == (0, 0)  # type: ignore[attr-defined]
    (half,) = Progress("c-1-u-fecon").report(given_campaign(), FECON, "activities", 0.5, ["Biên bản"], first_day)
    assert (half.value, half.delta) == (0.5, 0.5)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("indicator", "value", "evidence", "at", "field", "says"),
    [
        ("nothing", 1, ["x"], NOW, "indicator", "the campaign has no indicator 'nothing'"),
        ("registered", 1, ["x"], NOW, "indicator",
         "'Sáng kiến đăng ký' is counted automatically from initiatives_registered; it is not reported"),
        ("activities", -1, ["x"], NOW, "value", "a reported value cannot be negative"),
        ("activities", 1, [" "], NOW, "evidence",
         "a reported value needs its evidence: Biên bản hoặc báo cáo kết quả hoạt động"),
        ("activities", 1, ["x"], datetime(2024, 12, 31, 23, 0, tzinfo=UTC), "value",
         "the campaign starts on 2025-01-01"),
    ],
)  # fmt: skip
def test_report_refusals_name_the_field(
    indicator: str, value: float, evidence: list[str], at: datetime, field: str, says: str
) -> None:
    with pytest.raises((InvalidInput, Conflict)) as refused:
        Progress("c-1-u-fecon").report(given_campaign(), FECON, indicator, value, evidence, at)
    assert (refused.value.field, str(refused.value)) == (field, says)  # type: ignore[union-attr]


def test_a_target_may_be_zero_and_a_deadline_may_fall_on_the_first_day() -> None:
    events = Campaign.launch(
        "c-2", HN, [NTL], title="Phong trào", plan_number="1/KH", pillars=["Đổi mới"], starts_on=START,
        ends_on=END, report_deadlines=[START], indicators=INDICATORS, targets={"u-ntl": {"activities": 0}},
    )  # fmt: skip
    assert events[0].report_deadlines == (START,)  # type: ignore[attr-defined]
    assert events[1].targets == {"activities": 0}  # type: ignore[attr-defined]


def test_only_a_counted_indicator_keeps_its_source_and_an_unnamed_one_is_numbered_from_one() -> None:
    reported = {**INDICATORS[1], "source": "initiatives_registered"}
    (indicator,) = check_measurable([reported])
    assert indicator.source is None
    with pytest.raises(InvalidInput) as refused:
        check_measurable([{"code": "x", "unit_of_measure": "lần", "method": "counted"}])
    assert str(refused.value) == "indicator '#1' cannot be measured: it has no the events it is counted from (source)"
    with pytest.raises(InvalidInput) as no_evidence:
        check_measurable([{"code": "x", "name": "X", "unit_of_measure": "lần", "method": "reported"}])
    assert str(no_evidence.value) == (
        "indicator 'X' cannot be measured: it has no the evidence a reported value needs (evidence_required)"
    )


def launch(**change: object) -> object:
    fields: dict[str, object] = {
        "title": "Phong trào", "plan_number": "1/KH", "pillars": ["Đổi mới"], "starts_on": START, "ends_on": END,
        "report_deadlines": [END], "indicators": INDICATORS, "targets": {},
    }  # fmt: skip
    return Campaign.launch("c-3", HN, [NTL], **(fields | change))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "field", "says"),
    [
        ({"ends_on": START}, "ends_on", "a campaign ends after it starts"),
        ({"report_deadlines": [date(2024, 12, 31), date(2026, 1, 1)]}, "report_deadlines",
         "report deadlines outside the period: 2024-12-31, 2026-01-01"),
        ({"indicators": []}, "indicators", "a campaign needs at least one measurable indicator"),
        ({"indicators": [*INDICATORS, *INDICATORS[:2]]}, "indicators",
         "indicator codes must be unique: activities, registered"),
        ({"targets": {"u-ntl": {"nothing": 1}}}, "targets.u-ntl", "the campaign has no indicator 'nothing'"),
        ({"targets": {"u-ntl": {"activities": -1}}}, "targets.u-ntl", "the target for 'activities' cannot be negative"),
    ],
)  # fmt: skip
def test_launch_refusals_name_the_field(change: dict[str, object], field: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        launch(**change)
    assert (refused.value.field, str(refused.value)) == (field, says)


def test_a_campaign_applies_only_its_own_events() -> None:
    with pytest.raises(TypeError, match="a campaign cannot apply TopicLess"):
        given_campaign().apply(TopicLess())  # type: ignore[arg-type]
