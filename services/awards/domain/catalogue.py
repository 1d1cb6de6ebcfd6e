"""The built-in rule book: rule sets as data, the base salary table, the holiday calendar.

Sources and what is verified: ``research/awards-inspections.md`` §0, §1. Every value the research marks
unverified is flagged ``unverified`` here (criteria) or named in the rule set's ``sources``; an official
amends any of it by publishing a new version (``RuleBookRecord.publish``), never by editing code.

Families:
- ``state``: state emulation titles (Luật TĐKT 06/2022; NĐ 98/2023 from 2024-01-01, NĐ 152/2025 from
  2025-07-01), proposed by the union, decided by the employer's head or the state on its council's advice;
- ``union``: the union's own forms (Quy chế khen thưởng 999/QĐ-TLĐ of 2024-05-29; its body is unread, so
  criteria, quotas and amounts are defaults an official confirms);
- ``dmst``: the thematic awards of the movement "Đổi mới, sáng tạo, hiệu quả" (seed 003 §IV, 2019).
"""

from datetime import date
from decimal import Decimal

from contracts.awards import AwardRule, CriterionRule, RuleSetData, VoteRule
from services.awards.domain.calendar import WorkingCalendar
from services.awards.domain.rulebook import RuleBook, SalaryStep

# Union grades (1294/HD-TLĐ): hoàn thành xuất sắc / tốt / hoàn thành / không hoàn thành nhiệm vụ.
GRADE_EXCELLENT, GRADE_GOOD, GRADE_DONE, GRADE_FAILED = "excellent", "good", "completed", "not_completed"

BCH = "TM. BAN CHẤP HÀNH\nCHỦ TỊCH"
BTV = "TM. BAN THƯỜNG VỤ\nCHỦ TỊCH"
EMPLOYER = "Thủ trưởng cơ quan, đơn vị"

# Vote rules [U]: grassroots thresholds are a council parameter (research §1.5); CSTĐ tỉnh / toàn quốc
# use the old NĐ 91/2017 secret ballot of ≥90% of all members.
ORDINARY_VOTE = VoteRule(quorum_share=2 / 3, threshold_share=0.5, of="all_members")
HIGH_VOTE = VoteRule(quorum_share=2 / 3, threshold_share=0.9, of="all_members", secret_ballot=True)

_GOOD_WORK = CriterionRule(
    code="good_work",
    label="Hoàn thành tốt nhiệm vụ trở lên; tích cực tham gia phong trào thi đua",
    check="attested",
    evidence_kind="appraisal",
)
_EXCELLENT_WORK = CriterionRule(
    code="excellent_work", label="Hoàn thành xuất sắc nhiệm vụ", check="attested", evidence_kind="appraisal"
)
_UNITY = CriterionRule(
    code="unity", label="Nội bộ đoàn kết; chấp hành tốt chủ trương, pháp luật, Điều lệ", check="attested"
)


# The rule sets below are built once, when this module is imported. mutmut switches a mutant on in a process
# forked after that import, so a mutant of this data is never in force while a test runs and can neither be
# killed nor tell anything: the data is pinned instead by tests/awards/test_awards_catalogue_pinned.py
# (against the research facts), run in a fresh process. Hence (mutmut's documented line pragma):
# pragma: no mutate start
def _initiative(
    code: str, label: str, scope: str, *, accepted: bool = False, count: int = 1, **kw: object
) -> CriterionRule:
    return CriterionRule(
        code=code,
        label=label,
        check="initiative",
        scope_at_least=scope,  # type: ignore[arg-type]
        applied=True,
        accepted=accepted,
        count_at_least=count,
        **kw,  # type: ignore[arg-type]
    )


STATE_DOSSIER = ("submission_letter", "achievement_summary", "minutes_extract")
INITIATIVE_DOSSIER = (*STATE_DOSSIER, "initiative_summary", "recognition_decision")


def _state_awards(effect_certificate: bool) -> tuple[AwardRule, ...]:
    # NĐ 152/2025 Mẫu 13: a certificate of the initiative's effect and influence joins the CSTĐ dossier.
    cstd_dossier = (*INITIATIVE_DOSSIER, "effect_certificate") if effect_certificate else INITIATIVE_DOSSIER
    return (
        AwardRule(
            code="ldtt",
            name="Danh hiệu Lao động tiên tiến",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="individual",
            authority="grassroots",
            decider="employer_head",
            decider_title=EMPLOYER,
            criteria=(_GOOD_WORK,),
            multiple=Decimal("0.3"),
            vote=ORDINARY_VOTE,
            publicity_working_days=0,
            dossier=STATE_DOSSIER,
        ),
        AwardRule(
            code="cstd_cs",
            name="Danh hiệu Chiến sĩ thi đua cơ sở",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="individual",
            authority="grassroots",
            decider="employer_head",
            decider_title=EMPLOYER,
            criteria=(
                CriterionRule(
                    code="ldtt_this_year",
                    label="Đạt danh hiệu Lao động tiên tiến",
                    check="title_streak",
                    titles=("ldtt",),
                    consecutive_years=1,
                    streak_includes_year=True,
                ),
                _initiative(
                    "initiative_grassroots", "Có sáng kiến được công nhận ở cơ sở và được áp dụng", "grassroots"
                ),
            ),
            multiple=Decimal("1.0"),
            vote=ORDINARY_VOTE,
            publicity_working_days=0,
            dossier=INITIATIVE_DOSSIER,
            cap_title="ldtt",
            cap_share=0.15,  # NĐ 91/2017 Điều 9 k3; kept after 2024? [U]
            early_raise_months=None,
        ),
        AwardRule(
            code="cstd_tinh",
            name="Danh hiệu Chiến sĩ thi đua thành phố",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="individual",
            authority="city",
            decider="state_authority",
            decider_title="Chủ tịch Ủy ban nhân dân thành phố",
            deciding_body="Ủy ban nhân dân thành phố",
            criteria=(
                CriterionRule(
                    code="three_cstd_cs",
                    label="03 lần liên tục đạt danh hiệu Chiến sĩ thi đua cơ sở",
                    check="title_streak",
                    titles=("cstd_cs",),
                    consecutive_years=3,
                    streak_includes_year=True,
                ),
                _initiative(
                    "initiative_city", "Có sáng kiến được áp dụng, có phạm vi ảnh hưởng trong thành phố", "city"
                ),
            ),
            multiple=Decimal("3.0"),
            vote=HIGH_VOTE,
            publicity_working_days=10,  # [U] for provincial titles; 10 working days is the statutory practice
            dossier=cstd_dossier,
        ),
        AwardRule(
            code="cstd_tq",
            name="Danh hiệu Chiến sĩ thi đua toàn quốc",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="individual",
            authority="national",
            decider="state_authority",
            decider_title="Thủ tướng Chính phủ",
            deciding_body="Thủ tướng Chính phủ",
            criteria=(
                CriterionRule(
                    code="two_cstd_tinh",
                    label="02 lần liên tục đạt danh hiệu Chiến sĩ thi đua cấp tỉnh",
                    check="title_streak",
                    titles=("cstd_tinh",),
                    consecutive_years=2,
                    streak_includes_year=True,
                ),
                _initiative("initiative_national", "Có sáng kiến có phạm vi ảnh hưởng toàn quốc", "national"),
            ),
            multiple=Decimal("4.5"),
            vote=HIGH_VOTE,
            publicity_working_days=10,  # Luật 2022 Điều 84 k5; NĐ 152/2025 Điều 44 k2
            dossier=cstd_dossier,
        ),
        AwardRule(
            code="tt_ldtt",
            name="Danh hiệu Tập thể lao động tiên tiến",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="collective",
            authority="grassroots",
            decider="employer_head",
            decider_title=EMPLOYER,
            criteria=(
                _GOOD_WORK,
                CriterionRule(
                    code="half_ldtt",
                    label="Có trên 50% cá nhân đạt danh hiệu Lao động tiên tiến",
                    check="member_title_share",
                    titles=("ldtt",),
                    share_more_than=0.5,
                    unverified=True,  # old law Điều 28; 2022 text unread
                ),
                _UNITY,
            ),
            multiple=Decimal("0.8"),
            vote=ORDINARY_VOTE,
            publicity_working_days=0,
            dossier=STATE_DOSSIER,
        ),
        AwardRule(
            code="tt_ldxs",
            name="Danh hiệu Tập thể lao động xuất sắc",
            form="Danh hiệu thi đua",
            is_title=True,
            track="state",
            nominee_kind="collective",
            authority="city",
            decider="state_authority",
            decider_title="Chủ tịch Ủy ban nhân dân thành phố",
            deciding_body="Ủy ban nhân dân thành phố",
            criteria=(
                _EXCELLENT_WORK,
                CriterionRule(
                    code="seventy_ldtt",
                    label="100% hoàn thành nhiệm vụ, có ít nhất 70% cá nhân đạt Lao động tiên tiến",
                    check="member_title_share",
                    titles=("ldtt",),
                    share_at_least=0.7,
                ),
                CriterionRule(
                    code="one_cstd_cs",
                    label="Có cá nhân đạt danh hiệu Chiến sĩ thi đua cơ sở",
                    check="member_title_count",
                    titles=("cstd_cs",),
                    count_at_least=1,
                ),
                _UNITY,
            ),
            multiple=Decimal("1.5"),
            vote=ORDINARY_VOTE,
            publicity_working_days=0,
            dossier=STATE_DOSSIER,
        ),
    )


def _union_award(code: str, name: str, form: str, kind: str, authority: str, multiple: str, **kw: object) -> AwardRule:
    fields: dict[str, object] = {
        "code": code,
        "name": name,
        "form": form,
        "is_title": False,
        "track": "union",
        "nominee_kind": kind,
        "authority": authority,
        "decider": "union_body",
        "decider_title": BCH if authority == "grassroots" else BTV,
        "criteria": (_GOOD_WORK,) if kind == "individual" else (_EXCELLENT_WORK, _UNITY),
        "multiple": Decimal(multiple),  # [U] union finance rules; NĐ 91/2017 values as defaults
        "vote": ORDINARY_VOTE,
        "publicity_working_days": 5,  # [U] no statutory period for union awards; a council parameter
        "dossier": ("submission_letter", "achievement_summary", "minutes_extract"),
    }
    return AwardRule(**(fields | kw))  # type: ignore[arg-type]


TLD = "Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam"

UNION_AWARDS = (
    _union_award(
        "gk_cdcs", "Giấy khen của Ban Chấp hành Công đoàn cơ sở", "Giấy khen", "individual", "grassroots", "0.3"
    ),
    _union_award(
        "gk_cdcs_tt", "Giấy khen của Ban Chấp hành Công đoàn cơ sở", "Giấy khen", "collective", "grassroots", "0.6"
    ),
    _union_award(
        "gk_ctt",
        "Giấy khen của Ban Chấp hành công đoàn cấp trên trực tiếp cơ sở",
        "Giấy khen",
        "individual",
        "upper_level",
        "0.3",
    ),
    _union_award(
        "gk_ctt_tt",
        "Giấy khen của Ban Chấp hành công đoàn cấp trên trực tiếp cơ sở",
        "Giấy khen",
        "collective",
        "upper_level",
        "0.6",
    ),
    _union_award(
        "bk_ldld", "Bằng khen của Ban Chấp hành Liên đoàn Lao động Thành phố", "Bằng khen", "individual", "city", "1.0"
    ),
    _union_award(
        "bk_ldld_tt",
        "Bằng khen của Ban Chấp hành Liên đoàn Lao động Thành phố",
        "Bằng khen",
        "collective",
        "city",
        "2.0",
    ),
    _union_award(
        "co_ldld",
        "Cờ thi đua của Liên đoàn Lao động Thành phố",
        "Cờ thi đua",
        "collective",
        "city",
        "8.0",
        is_title=True,
        criteria=(
            CriterionRule(
                code="graded_excellent",
                label="Được xếp loại hoàn thành xuất sắc nhiệm vụ",
                check="grade",
                grades=(GRADE_EXCELLENT,),
            ),
            CriterionRule(
                code="pledge_fulfilled",
                label="Hoàn thành toàn diện giao ước thi đua (tỷ lệ thực hiện ≥ 100%)",
                check="pledge_fulfilment",
                rate_at_least=1.0,
                unverified=True,
            ),
            _UNITY,
        ),
        default_quota=1,  # [U] one flag per upper-level union a year
    ),
    _union_award(
        "bk_tld",
        "Bằng khen của Ban Chấp hành Tổng Liên đoàn Lao động Việt Nam",
        "Bằng khen",
        "individual",
        "national",
        "1.0",
        deciding_body=TLD,
        publicity_working_days=5,
    ),
    _union_award(
        "blds_tld",
        "Bằng Lao động sáng tạo của Tổng Liên đoàn Lao động Việt Nam",
        "Bằng Lao động sáng tạo",
        "individual",
        "national",
        "1.0",
        deciding_body=TLD,
        criteria=(
            _initiative(
                "initiative_city",
                "Có sáng kiến được công nhận cấp thành phố, được áp dụng và nghiệm thu",
                "city",
                accepted=True,
            ),
        ),
        dossier=("submission_letter", "initiative_summary", "recognition_decision", "minutes_extract"),
        default_quota=4,  # 1689/2019: each provincial federation proposes at most 4 [U for 999]
    ),
)

# Seed 003 §IV (Trà Vinh 08/HD-LĐLĐ, 2019): the movement's thematic awards and its dossier (§IV.3).
_INITIATIVE_ACCEPTED = "Có đề tài, sáng kiến được nghiệm thu và ứng dụng trong thực tế hoạt động công đoàn"
_COLLECTIVE_CRITERIA = (
    CriterionRule(code="launched", label="Có phát động, tuyên truyền, vận động tham gia phong trào", check="attested"),
    CriterionRule(
        code="pledge_signed", label="Có ký giao ước thi đua, tổ chức đăng ký đề tài, sáng kiến", check="pledge_signed"
    ),
    CriterionRule(code="reviewed", label="Có duy trì phong trào; có sơ kết, tổng kết hàng năm", check="attested"),
    _initiative(
        "many_initiatives",
        "Có nhiều cá nhân có sáng kiến được công nhận và được áp dụng",
        "grassroots",
        count=2,  # "nhiều" [U]: a rule-set parameter
    ),
    _UNITY,
    CriterionRule(
        code="graded_good",
        label="Được xếp loại vững mạnh hoặc tốt",
        check="grade",
        grades=(GRADE_EXCELLENT, GRADE_GOOD),
    ),
)
_INDIVIDUAL_CRITERIA = (
    CriterionRule(
        code="obeys_rules", label="Chấp hành tốt chủ trương, chính sách, quy định của Công đoàn", check="attested"
    ),
)
DMST_DOSSIER = (
    "submission_letter",
    "achievement_summary",
    "initiative_summary",
    "recognition_decision",
    "minutes_extract",
)
DMST_PLAN = "05/KH-TLĐ"


def _dmst(code: str, name: str, kind: str, authority: str, scope: str, multiple: str) -> AwardRule:
    individual = kind == "individual"
    criteria = (
        (_initiative("initiative", _INITIATIVE_ACCEPTED, scope, accepted=True), *_INDIVIDUAL_CRITERIA)
        if individual
        else _COLLECTIVE_CRITERIA
    )
    return _union_award(
        code,
        name,
        "Giấy khen" if authority != "city" else "Bằng khen",
        kind,
        authority,
        multiple,
        category="thematic",
        criteria=criteria,
        dossier=DMST_DOSSIER if individual else ("submission_letter", "achievement_summary", "minutes_extract"),
        campaign_plan=DMST_PLAN,
    )


DMST_AWARDS = (
    _dmst(
        "dmst_gk_cdcs",
        "Giấy khen chuyên đề phong trào “Đổi mới, sáng tạo, hiệu quả” của BCH CĐCS",
        "individual",
        "grassroots",
        "grassroots",
        "0.3",
    ),
    _dmst(
        "dmst_gk_ctt",
        "Giấy khen chuyên đề phong trào “Đổi mới, sáng tạo, hiệu quả” của công đoàn cấp trên",
        "individual",
        "upper_level",
        "upper_level",
        "0.3",
    ),
    _dmst(
        "dmst_gk_ctt_tt",
        "Giấy khen chuyên đề phong trào “Đổi mới, sáng tạo, hiệu quả” của công đoàn cấp trên",
        "collective",
        "upper_level",
        "grassroots",
        "0.6",
    ),
    _dmst(
        "dmst_bk_ldld",
        "Bằng khen chuyên đề phong trào “Đổi mới, sáng tạo, hiệu quả” của LĐLĐ Thành phố",
        "individual",
        "city",
        "upper_level",
        "1.0",
    ),
    _dmst(
        "dmst_bk_ldld_tt",
        "Bằng khen chuyên đề phong trào “Đổi mới, sáng tạo, hiệu quả” của LĐLĐ Thành phố",
        "collective",
        "city",
        "grassroots",
        "2.0",
    ),
)

# pragma: no mutate end
RULE_SETS = (
    RuleSetData(
        family="state",
        version="state@2017-07-31",
        effective_from=date(2017, 7, 31),
        title="Danh hiệu thi đua nhà nước — Luật TĐKT 2003 (sửa đổi 2013), Nghị định 91/2017/NĐ-CP",
        sources=("Luật Thi đua, khen thưởng 2003, sửa đổi 2013", "NĐ 91/2017/NĐ-CP", "research §1.2, §1.5, §1.6"),
        awards=_state_awards(effect_certificate=False),
    ),
    RuleSetData(
        family="union",
        version="union@2019-11-12",
        effective_from=date(2019, 11, 12),
        title="Hình thức khen thưởng của tổ chức Công đoàn — Quy chế 1689/QĐ-TLĐ",
        sources=("1689/QĐ-TLĐ", "research §1.3 (amounts [U])"),
        awards=UNION_AWARDS,
    ),
    RuleSetData(
        family="state",
        version="state@2024-01-01",
        effective_from=date(2024, 1, 1),
        title="Danh hiệu thi đua nhà nước — Luật TĐKT 06/2022/QH15, Nghị định 98/2023/NĐ-CP",
        sources=("Luật 06/2022/QH15", "NĐ 98/2023/NĐ-CP", "research §1.2, §1.5, §1.6 (caps and thresholds [U])"),
        awards=_state_awards(effect_certificate=False),
    ),
    RuleSetData(
        family="state",
        version="state@2025-07-01",
        effective_from=date(2025, 7, 1),
        title="Danh hiệu thi đua nhà nước — Luật TĐKT 06/2022/QH15, Nghị định 152/2025/NĐ-CP",
        sources=(
            "Luật 06/2022/QH15",
            "NĐ 152/2025/NĐ-CP (Mẫu 13)",
            "research §1.2, §1.5, §1.6 (caps and thresholds [U])",
        ),
        awards=_state_awards(effect_certificate=True),
    ),
    RuleSetData(
        family="union",
        version="union@2024-05-29",
        effective_from=date(2024, 5, 29),
        title="Hình thức khen thưởng của tổ chức Công đoàn — Quy chế 999/QĐ-TLĐ",
        sources=("999/QĐ-TLĐ (body unread: criteria, quotas, amounts [U])", "1689/QĐ-TLĐ (quotas)", "research §1.3"),
        awards=UNION_AWARDS,
    ),
    RuleSetData(
        family="dmst",
        version="dmst@2019-03-11",
        effective_from=date(2019, 3, 11),
        title="Khen thưởng phong trào “Đổi mới, sáng tạo, hiệu quả trong hoạt động của tổ chức Công đoàn”",
        sources=("Kế hoạch 05/KH-TLĐ", "Hướng dẫn 08/HD-LĐLĐ (seed 003 §IV)"),
        awards=DMST_AWARDS,
    ),
)

BASE_SALARIES = (
    SalaryStep(date(2023, 7, 1), 1_800_000, "NĐ 24/2023/NĐ-CP"),
    SalaryStep(date(2024, 7, 1), 2_340_000, "NĐ 73/2024/NĐ-CP [U]"),
    SalaryStep(date(2026, 7, 1), 2_530_000, "NĐ 161/2026/NĐ-CP"),
)

# Days off on working days and weekend days worked in swaps, as announced each year. [U] for 2026:
# confirm against the year's announcement and re-declare (``RuleBookRecord.declare_holidays``).
_D = date
HOLIDAYS: dict[int, tuple[tuple[date, ...], tuple[date, ...]]] = {
    2023: (
        (
            _D(2023, 1, 2),
            *(_D(2023, 1, d) for d in range(20, 27)),
            _D(2023, 4, 29),
            _D(2023, 4, 30),
            _D(2023, 5, 1),
            _D(2023, 5, 2),
            _D(2023, 5, 3),
            _D(2023, 9, 1),
            _D(2023, 9, 2),
            _D(2023, 9, 4),
        ),
        (),
    ),
    2024: (
        (
            _D(2024, 1, 1),
            *(_D(2024, 2, d) for d in range(8, 15)),
            _D(2024, 4, 18),
            _D(2024, 4, 29),
            _D(2024, 4, 30),
            _D(2024, 5, 1),
            _D(2024, 9, 2),
            _D(2024, 9, 3),
        ),
        (_D(2024, 5, 4),),
    ),
    2025: (
        (
            _D(2025, 1, 1),
            *(_D(2025, 1, d) for d in range(25, 32)),
            _D(2025, 2, 1),
            _D(2025, 2, 2),
            _D(2025, 4, 7),
            _D(2025, 4, 30),
            _D(2025, 5, 1),
            _D(2025, 5, 2),
            _D(2025, 9, 1),
            _D(2025, 9, 2),
        ),
        (_D(2025, 4, 26),),
    ),
    2026: (
        (
            _D(2026, 1, 1),
            *(_D(2026, 2, d) for d in range(14, 23)),
            _D(2026, 4, 27),
            _D(2026, 4, 30),
            _D(2026, 5, 1),
            _D(2026, 9, 1),
            _D(2026, 9, 2),
        ),
        (),
    ),
}


def builtin_rulebook() -> RuleBook:
    book = RuleBook()
    for rule_set in RULE_SETS:
        book = book.with_rule_set(rule_set)
    for step in BASE_SALARIES:
        book = book.with_salary(step)
    calendar = WorkingCalendar()
    for year, (days_off, working) in HOLIDAYS.items():
        calendar = calendar.with_year(year, days_off, working)
    return RuleBook(book.families, book.salaries, calendar)
