"""The pledges' rules, pinned by mutation testing (issue 8): closing a campaign, amending a pledge, the
achievement percentage at its edges. Each test fails if a check, or what its refusal says (type, field,
message), is removed. Domain only, no I/O."""

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from contracts.pledges import Commitment, PledgeSigned, Topic
from services.pledges.domain.pledge import Pledge
from services.pledges.domain.progress import Progress
from services.pledges.domain.registration import Registration
from services.pledges.domain.rules import achievement, check_titles, fmt
from shared.errors import Conflict, IllegalTransition, InvalidInput
from shared.events import EventMetadata, new_envelope
from shared.units import UnitRef
from tests.pledges.test_pledges_domain import (
    CEO,
    CHAIR,
    DD,
    FECON,
    HANDICO,
    HN,
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
