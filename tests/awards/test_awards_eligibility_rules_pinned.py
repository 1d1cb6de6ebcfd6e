"""Eligibility, criterion by criterion, pinned by mutation testing (issue 8): each check's outcome, its
boundary, the reason the review board shows and the facts behind it. The criteria are built here (the
check is code, its parameters data), so a changed catalogue does not move these tests. Domain only."""

from dataclasses import replace
from datetime import date

from contracts.awards import AwardRule, CriterionResult, CriterionRule, Fact
from services.awards.domain.eligibility import CHECKS as C
from services.awards.domain.eligibility import (
    Claim,
    GradeFact,
    MemberTitles,
    NomineeFacts,
    PledgeFact,
    evaluate,
    overall,
    worse,
)
from tests.awards.awards_helpers import BOOK, QR, evidence, titles

CLAIM = Claim(year=2025)
TITLE = "«Ứng dụng mã QR trong quản lý đoàn viên»"
QR_FACT = Fact(
    kind="initiative",
    ref="i-qr",
    summary=f"{TITLE}; công nhận phạm vi thành phố; QĐ 12/QĐ-LĐLĐ; áp dụng tại Khối thi công từ 01/05/2025; "
    "đã nghiệm thu",
    on=date(2025, 4, 2),
)


def rule(check: str, **params: object) -> CriterionRule:
    return CriterionRule(code="c", label="Tiêu chí", check=check, **params)  # type: ignore[arg-type]


def result(outcome: str, reason: str, *facts: Fact, code: str, **params: object) -> CriterionResult:
    """The expected result: its English reason, and the same said as a stable code with its parameters."""
    return CriterionResult(
        code="c",
        label="Tiêu chí",
        outcome=outcome,
        reason=reason,
        facts=facts,
        reason_code=code,
        reason_params=params,  # type: ignore[arg-type]
    )


def nominee(**fields: object) -> NomineeFacts:
    return NomineeFacts(nominee_id="m-an", **fields)  # type: ignore[arg-type]


# -- initiatives ---------------------------------------------------------------------------------------


def test_an_initiative_counts_when_recognised_at_the_scope_in_the_years_applied_and_accepted() -> None:
    city = rule("initiative", scope_at_least="city", applied=True, accepted=True)
    assert C["initiative"](city, nominee(initiatives=(QR,)), CLAIM) == result(
        "met", "1 initiative(s) qualify", QR_FACT, code="initiative.qualify", count=1
    )
    at_least_grassroots = rule("initiative")  # no scope named: any recognition counts
    low = replace(QR, scope="grassroots")
    assert C["initiative"](at_least_grassroots, nominee(initiatives=(low,)), CLAIM).outcome == "met"
    below = C["initiative"](city, nominee(initiatives=(replace(QR, scope="upper_level"),)), CLAIM)
    assert below.reason == "0 of 1 needed qualify (recognised below city scope)"
    assert below.facts[0].summary.startswith(f"{TITLE}; công nhận phạm vi cấp trên trực tiếp;")
    unknown_scope = C["initiative"](city, nominee(initiatives=(replace(QR, scope="ward"),)), CLAIM)
    assert unknown_scope.outcome == "not_met" and "công nhận phạm vi ward" in unknown_scope.facts[0].summary
    unnamed = C["initiative"](at_least_grassroots, nominee(initiatives=(replace(QR, scope="ward"),)), CLAIM)
    assert unnamed.reason == "0 of 1 needed qualify (recognised below grassroots scope)"  # never "below None"


def test_an_initiative_recognised_outside_the_window_of_years_does_not_count() -> None:
    three_years = rule("initiative", within_years=3)
    for year, outcome in ((2022, "not_met"), (2023, "met"), (2025, "met"), (2026, "not_met")):
        dated = replace(QR, recognised_on=date(year, 1, 1))
        got = C["initiative"](three_years, nominee(initiatives=(dated,)), CLAIM)
        assert got.outcome == outcome, year
        if outcome == "not_met":
            assert got.reason == "0 of 1 needed qualify (recognised outside 2023–2025)"
    undated = replace(QR, recognised_on=None)
    assert C["initiative"](rule("initiative"), nominee(initiatives=(undated,)), CLAIM).outcome == "met"


def test_an_initiative_not_recognised_revoked_unapplied_or_unaccepted_is_near_but_does_not_count() -> None:
    applied_accepted = rule("initiative", applied=True, accepted=True)
    cases = {
        replace(QR, scope=None): "not recognised or recognition revoked",
        replace(QR, revoked=True): "not recognised or recognition revoked",
        replace(QR, applied_on=None): "not applied",
        replace(QR, accepted_on=None): "not accepted (nghiệm thu)",
    }
    for initiative, why in cases.items():
        got = C["initiative"](applied_accepted, nominee(initiatives=(initiative,)), CLAIM)
        assert (got.outcome, got.reason) == ("not_met", f"0 of 1 needed qualify ({why})")
    plain = rule("initiative")  # neither applied nor accepted required
    bare = replace(QR, applied_on=None, accepted_on=None, decision_number=None)
    got = C["initiative"](plain, nominee(initiatives=(bare,)), CLAIM)
    assert got.outcome == "met" and got.facts[0].summary == f"{TITLE}; công nhận phạm vi thành phố"
    revoked = C["initiative"](plain, nominee(initiatives=(replace(QR, revoked=True, applied_where=None),)), CLAIM)
    assert revoked.facts[0].summary.endswith("áp dụng tại — từ 01/05/2025; đã nghiệm thu; đã bị hủy công nhận")
    mixed = (replace(QR, applied_on=None), replace(QR, initiative_id="i-2", scope=None))
    short = C["initiative"](applied_accepted, nominee(initiatives=mixed), CLAIM)
    assert short.reason == "0 of 1 needed qualify (not applied; not recognised or recognition revoked)"
    assert (short.reason_code, short.reason_params) == (
        "initiative.too_few",
        {"count": 0, "needed": 1, "gaps": ("not_applied", "not_recognised"), "scope": "grassroots", "from_year": 2025,
         "to_year": 2025},
    )  # fmt: skip
    assert C["initiative"](plain, nominee(initiatives=(replace(QR, scope="ward"),)), CLAIM).outcome == "not_met"
    assert C["initiative"](plain, nominee(), CLAIM) == result(
        "not_met", "no recognised initiative of the nominee is known", code="initiative.none"
    )


def test_several_initiatives_are_counted_and_at_most_five_listed() -> None:
    two = rule("initiative", count_at_least=2)
    one_good = (QR, replace(QR, initiative_id="i-2", scope=None))
    got = C["initiative"](two, nominee(initiatives=one_good), CLAIM)
    assert got.reason == "1 of 2 needed qualify (not recognised or recognition revoked)"
    assert [f.ref for f in got.facts] == ["i-qr", "i-2"]  # the qualifying first, then the near ones
    too_few = C["initiative"](rule("initiative", count_at_least=3), nominee(initiatives=(QR, QR)), CLAIM)
    assert too_few.reason == "2 of 3 needed qualify (too few)"
    many = tuple(replace(QR, initiative_id=f"i-{n}") for n in range(7))
    listed = C["initiative"](two, nominee(initiatives=many), CLAIM)
    assert listed.reason == "7 initiative(s) qualify" and [f.ref for f in listed.facts] == [f"i-{n}" for n in range(5)]
    assert C["initiative"](rule("initiative", count_at_least=0), nominee(initiatives=(QR,)), CLAIM).outcome == "met"


# -- titles, grades, pledges, members, attestations --------------------------------------------------------


def award_fact(year: int, revoked: bool = False) -> Fact:
    tail = " — đã bị thu hồi" if revoked else ""
    summary = f"cstd_cs năm {year} (QĐ {year % 100:02d}/QĐ){tail}"
    return Fact(kind="award", ref=f"a-cstd_cs-{year}", summary=summary, on=date(year, 12, 20))


def test_a_streak_counts_consecutive_years_ending_in_the_year_or_the_year_before() -> None:
    three = rule("title_streak", titles=("cstd_cs",), consecutive_years=3, streak_includes_year=True)
    held = nominee(titles=titles("cstd_cs", 2023, 2024, 2025) + titles("ldtt", 2022))
    assert C["title_streak"](three, held, CLAIM) == result(
        "met",
        "held in 2023–2025",
        award_fact(2023),
        award_fact(2024),
        award_fact(2025),
        code="title_streak.held",
        from_year=2023,
        to_year=2025,
    )
    before = rule("title_streak", titles=("cstd_cs",), consecutive_years=2)  # ends the year before
    assert C["title_streak"](before, held, CLAIM).reason == "held in 2023–2024"
    assert C["title_streak"](before, held, Claim(year=2026)).reason == "held in 2024–2025"
    gap = C["title_streak"](three, nominee(titles=titles("cstd_cs", 2023, 2024, 2025, revoked=(2024,))), CLAIM)
    assert gap == result(
        "not_met",
        "missing in 2024 (revoked in 2024)",
        award_fact(2023),
        award_fact(2024, revoked=True),
        award_fact(2025),
        code="title_streak.missing",
        years=(2024,),
        revoked=(2024,),
    )
    twice = (*titles("cstd_cs", 2025), replace(titles("cstd_cs", 2025)[0], award_id="a-dup"))
    assert C["title_streak"](rule("title_streak", titles=("cstd_cs",), consecutive_years=1, streak_includes_year=True),
                             nominee(titles=twice), CLAIM).facts[0].ref == "a-cstd_cs-2025"  # fmt: skip
    assert C["title_streak"](three, nominee(), CLAIM).reason == "missing in 2023, 2024, 2025"
    two_lost = nominee(titles=titles("cstd_cs", 2023, 2024, 2025, revoked=(2023, 2024)))
    assert C["title_streak"](three, two_lost, CLAIM).reason == "missing in 2023, 2024 (revoked in 2023, 2024)"


def test_a_grade_is_the_years_confirmed_grade() -> None:
    good = rule("grade", grades=("excellent", "good"))
    graded = nominee(grades={2025: GradeFact(2025, "good", 88.5, "grading@2019", "hn.ntl")})
    fact = Fact(kind="grade", ref="m-an:2025", summary="xếp loại good năm 2025, 88.5 điểm, xác nhận bởi hn.ntl")
    assert C["grade"](good, graded, CLAIM) == result("met", "graded good", fact, code="grade.met", grade="good")
    excellent = rule("grade", grades=("excellent",))
    assert C["grade"](excellent, graded, CLAIM) == result(
        "not_met",
        "graded good; needs one of excellent",
        fact,
        code="grade.not_met",
        grade="good",
        grades=("excellent",),
    )
    done = nominee(grades={2025: GradeFact(2025, "completed", None, "grading@2019", None)})
    assert C["grade"](good, done, CLAIM).reason == "graded completed; needs one of excellent, good"
    bare = nominee(grades={2025: GradeFact(2025, "good", None, "grading@2019", None)})
    assert C["grade"](good, bare, CLAIM).facts[0].summary == "xếp loại good năm 2025"
    assert C["grade"](good, graded, Claim(year=2024)) == result(
        "unknown", "no confirmed grade for 2024 yet", code="grade.unknown", year=2024
    )


def test_pledges_are_those_of_the_claims_campaign_or_signed_in_its_year() -> None:
    signed = PledgeFact("pl-1", "camp-1", date(2025, 3, 1), 1.0)
    other = PledgeFact("pl-2", "camp-2", date(2024, 3, 1), 0.5)
    facts = nominee(pledges=(signed, other))
    fact = Fact(kind="pledge", ref="pl-1", summary="giao ước ký ngày 01/03/2025, thực hiện 100%", on=date(2025, 3, 1))
    assert C["pledge_signed"](rule("pledge_signed"), facts, CLAIM) == result(
        "met", "a pledge was signed", fact, code="pledge.signed"
    )
    by_campaign = C["pledge_signed"](rule("pledge_signed"), facts, Claim(year=2025, campaign_id="camp-2"))
    assert [f.ref for f in by_campaign.facts] == ["pl-2"]
    none = C["pledge_signed"](rule("pledge_signed"), facts, Claim(year=2023))
    assert none == result("not_met", "no signed pledge is known", code="pledge.none")


def test_a_pledge_is_fulfilled_at_its_best_reported_rate() -> None:
    full = rule("pledge_fulfilment", rate_at_least=1.0)
    best = PledgeFact("pl-1", "camp-1", date(2025, 3, 1), 1.0)
    lower = PledgeFact("pl-2", "camp-2", date(2025, 4, 1), 0.4)
    unrated = PledgeFact("pl-3", "camp-3", date(2025, 5, 1))
    got = C["pledge_fulfilment"](full, nominee(pledges=(lower, best, unrated)), CLAIM)
    assert (got.outcome, got.reason, [f.ref for f in got.facts]) == ("met", "fulfilment 100% against 100%", ["pl-1"])
    assert C["pledge_fulfilment"](full, nominee(pledges=(lower,)), CLAIM).outcome == "not_met"
    nothing_done = replace(lower, pledge_id="pl-0", fulfilment_rate=0.0)
    partly = C["pledge_fulfilment"](
        rule("pledge_fulfilment", rate_at_least=0.4), nominee(pledges=(nothing_done, lower)), CLAIM
    )
    assert (partly.outcome, partly.reason, partly.facts[0].ref) == ("met", "fulfilment 40% against 40%", "pl-2")
    waiting = C["pledge_fulfilment"](full, nominee(pledges=(unrated,)), CLAIM)
    assert (waiting.outcome, waiting.reason) == ("unknown", "no progress reported on the pledge yet")
    assert waiting.facts[0].summary == "giao ước ký ngày 01/05/2025"
    zero = C["pledge_fulfilment"](
        rule("pledge_fulfilment"), nominee(pledges=(replace(lower, fulfilment_rate=0.0),)), CLAIM
    )
    assert (zero.outcome, zero.reason) == ("met", "fulfilment 0% against 0%")
    assert C["pledge_fulfilment"](full, nominee(), CLAIM) == result(
        "not_met", "no signed pledge is known", code="pledge.none"
    )


def test_member_titles_are_counted_as_a_share_or_a_number_of_the_years_members() -> None:
    seventy = rule("member_title_share", titles=("ldtt", "cstd_cs"), share_at_least=0.7)
    counts = nominee(members={2025: MemberTitles(10, {"ldtt": 5, "cstd_cs": 2, "other": 3})})
    fact = Fact(kind="members", ref="m-an:2025", summary="7/10 đoàn viên đạt ldtt, cstd_cs năm 2025")
    assert C["member_title_share"](seventy, counts, CLAIM) == result(
        "met", "70% against 70%", fact, code="members.share_at_least", share=0.7, needed=0.7
    )
    assert C["member_title_share"](rule("member_title_share", titles=("ldtt",), share_at_least=0.7), counts, CLAIM
                                   ).outcome == "not_met"  # fmt: skip
    now = nominee(member_count=8)  # no titles recorded for the year, the members known now
    assert C["member_title_share"](seventy, now, CLAIM).reason == "0% against 70%"
    assert C["member_title_share"](seventy, nominee(), CLAIM) == result(
        "unknown", "no member count for 2025", code="members.unknown", year=2025
    )
    assert C["member_title_share"](seventy, nominee(member_count=0), CLAIM).outcome == "unknown"
    more_than_half = rule("member_title_share", titles=("ldtt",), share_more_than=0.5)  # "trên 50%"
    half = nominee(members={2025: MemberTitles(10, {"ldtt": 5})})
    assert C["member_title_share"](more_than_half, half, CLAIM) == result(
        "not_met",
        "50% against more than 50%",
        Fact(kind="members", ref="m-an:2025", summary="5/10 đoàn viên đạt ldtt năm 2025"),
        code="members.share_more_than",
        share=0.5,
        needed=0.5,
    )
    six = nominee(members={2025: MemberTitles(10, {"ldtt": 6})})
    assert C["member_title_share"](more_than_half, six, CLAIM).outcome == "met"
    one = rule("member_title_count", titles=("cstd_cs",), count_at_least=2)
    count_fact = Fact(kind="members", ref="m-an:2025", summary="2/10 đoàn viên đạt cstd_cs năm 2025")
    assert C["member_title_count"](one, counts, CLAIM) == result(
        "met", "2 against 2", count_fact, code="members.count", count=2, needed=2
    )
    assert C["member_title_count"](one, counts, CLAIM).outcome == "met"
    assert C["member_title_count"](rule("member_title_count", titles=("cstd_cs",), count_at_least=3), counts, CLAIM
                                   ).outcome == "not_met"  # fmt: skip
    assert C["member_title_count"](one, nominee(), CLAIM) == result(
        "unknown", "no member titles known for 2025", code="members.titles_unknown", year=2025
    )


def test_an_attested_criterion_is_met_only_with_an_evidence_file_of_its_kind() -> None:
    appraisal = rule("attested", evidence_kind="appraisal")
    labelled = evidence("appraisal", "danh-gia.pdf").model_copy(update={"label": "Bản đánh giá"})
    claim = Claim(year=2025, attested=frozenset({"c"}), evidence=(evidence("other", "x.pdf"), labelled))
    fact = Fact(kind="evidence", ref=labelled.file.sha256, summary="Bản đánh giá: danh-gia.pdf")
    assert C["attested"](appraisal, nominee(), claim) == result(
        "met", "attested with evidence", fact, code="attested.with_evidence"
    )
    any_kind = C["attested"](rule("attested"), nominee(), claim)
    assert [f.summary for f in any_kind.facts] == ["other: x.pdf", "Bản đánh giá: danh-gia.pdf"]
    unproven = Claim(year=2025, attested=frozenset({"c"}), evidence=(evidence("other"),))
    assert C["attested"](appraisal, nominee(), unproven) == result(
        "unknown", "attested without an evidence file (appraisal)", code="attested.no_file", kind="appraisal"
    )
    assert C["attested"](rule("attested"), nominee(), Claim(year=2025, attested=frozenset({"c"}))).reason == (
        "attested without an evidence file (any)"
    )
    assert C["attested"](appraisal, nominee(), Claim(year=2025, evidence=claim.evidence)) == result(
        "unknown", "not attested by the proposing unit", code="attested.no"
    )


# -- the whole judgement ----------------------------------------------------------------------------------


def test_one_criterion_not_met_fails_the_whole_unknown_holds_it_open_and_worse_is_ordered() -> None:
    met, unknown, not_met = (result(o, "r", code="") for o in ("met", "unknown", "not_met"))
    assert overall((met, unknown, not_met)) == "not_met"
    assert overall((met, unknown)) == "unknown"
    assert overall((met,)) == overall(()) == "met"
    assert [worse("met", "unknown"), worse("unknown", "not_met"), worse("met", "not_met")] == [True, True, True]
    assert [worse("unknown", "met"), worse("not_met", "unknown"), worse("met", "met")] == [False, False, False]
    cstd: AwardRule = BOOK.award("cstd_cs", date(2025, 11, 3))[1]
    judged = evaluate(
        cstd, "state@x", nominee(initiatives=(QR,), titles=titles("ldtt", 2025)), CLAIM, date(2025, 11, 3)
    )
    assert (judged.rule_set, judged.outcome, judged.evaluated_on) == ("state@x", "met", date(2025, 11, 3))
    assert [c.code for c in judged.criteria] == ["ldtt_this_year", "initiative_grassroots"]
