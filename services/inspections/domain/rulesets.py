"""The rules an inspection, a grade or the radar is judged by, as data versioned by the date they take effect.

Sources (``../shared/research/awards-inspections.md`` §2): grading follows HD 1294/HD-TLĐ (14/08/2019) —
three criteria groups, indicator sets that differ by kind of grassroots union, four grades, graded only
after 12 months of operation (6 after a split or merger). **Unverified there, and therefore data here, not
constants:** every indicator's points, the grade thresholds, the months of operation, and every radar
threshold and weight. A decision records the ``version`` of the rule set that judged it; a new text is a
new ``RuleSet`` appended to ``RULE_SETS`` with its effective date — earlier decisions keep their version.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from shared.errors import NotFound

GROUPS: dict[str, str] = {
    "representation": "Đại diện, chăm lo, bảo vệ quyền lợi; tham gia quản lý, thanh tra, kiểm tra, giám sát",
    "organisation": "Xây dựng tổ chức công đoàn",
    "communication": "Tuyên truyền và các hoạt động khác",
}
GRADE_LABELS: dict[str, str] = {
    "excellent": "Hoàn thành xuất sắc nhiệm vụ",
    "good": "Hoàn thành tốt nhiệm vụ",
    "completed": "Hoàn thành nhiệm vụ",
    "not_completed": "Không hoàn thành nhiệm vụ",
}
UNION_TYPES: dict[str, str] = {
    "enterprise": "Công đoàn cơ sở doanh nghiệp",
    "public_sector": "Công đoàn cơ sở cơ quan hành chính, đơn vị sự nghiệp",
}

# The radar's signals (each with the evidence behind it in the level's drill-down).
SIGNALS: dict[str, str] = {
    "never_applied": "Sáng kiến đăng ký nhưng chưa áp dụng sau N tháng",
    "near_duplicate": "Sáng kiến gần trùng với sáng kiến của đơn vị khác",
    "bunched_registrations": "Đăng ký dồn vào những ngày sát hạn",
    "report_late": "Báo cáo kết quả chậm hạn",
    "self_inspection_late": "Tự kiểm tra chậm hoặc không nộp",
    "contradicted": "Tự đánh giá trái với số liệu",
    "reported_without_evidence": "Đạt chỉ tiêu chỉ bằng số liệu tự báo cáo, không có minh chứng",
    "action_overdue": "Biện pháp khắc phục quá hạn",
    "awards_to_officials": "Khen thưởng chủ yếu cho cán bộ, ít cho người lao động trực tiếp",
}


@dataclass(frozen=True)
class GradingIndicator:
    code: str
    group: str
    name: str
    max_points: float


@dataclass(frozen=True)
class RadarRules:
    never_applied_months: int  # an initiative registered this long ago and never applied is a sign
    duplicate_min_score: float  # the registry's similarity score (0..1) from which a cross-unit copy counts
    bunching_days: int  # K: the last days before a deadline
    bunching_min_share: float  # share of a unit's registrations for a deadline that fell in its last K days
    bunching_min_count: int  # fewer registrations than this say nothing
    awards_max_official_share: float  # awards of a level going to officials above this share are a sign
    weights: Mapping[str, float]  # risk points per occurrence of each signal
    cap_per_signal: int  # occurrences of one signal counted at most this many times in a score
    risk_min_score: float  # a unit is proposed for a risk-based inspection from this score
    # A reported value is backed by evidence if one of its evidence items is a link or an uploaded file.
    verifiable_evidence_prefixes: tuple[str, ...] = ("http://", "https://", "sha256:")


@dataclass(frozen=True)
class RuleSet:
    version: str
    effective_from: date
    source: str
    grading_indicators: Mapping[str, tuple[GradingIndicator, ...]]  # union type → indicators
    grade_thresholds: tuple[tuple[str, float], ...]  # (grade, minimum points), best first; last is 0
    months_operating: int
    months_after_restructure: int
    radar: RadarRules
    overdue_grace_days: int = 0  # days after the due date before a missing self-inspection is overdue
    grading_opens: tuple[int, int] = (12, 1)  # (month, day) of the graded year from which it may be graded
    notes: tuple[str, ...] = field(default=())

    def indicators(self, union_type: str) -> dict[str, GradingIndicator]:
        found = self.grading_indicators.get(union_type)
        if found is None:
            raise NotFound(
                f"rule set {self.version} has no indicator set for {union_type!r}; "
                f"known: {', '.join(sorted(self.grading_indicators))}",
                field="union_type",
                code="grading.unknown_union_type",
                params={"union_type": union_type, "rule_set": self.version},
            )
        return {i.code: i for i in found}

    def grade_for(self, points: float) -> str:
        for grade, minimum in self.grade_thresholds:
            if points >= minimum:
                return grade
        return self.grade_thresholds[-1][0]


def _i(code: str, group: str, name: str, points: float) -> GradingIndicator:
    return GradingIndicator(code, group, name, points)


_SHARED_ORGANISATION = (
    _i("membership", "organisation", "Phát triển đoàn viên, củng cố tổ công đoàn", 10),
    _i("executive_activity", "organisation", "Hoạt động của Ban Chấp hành, Ủy ban Kiểm tra", 10),
    _i("finance", "organisation", "Thu, chi, quản lý tài chính công đoàn đúng quy định", 10),
    _i("reporting", "organisation", "Thực hiện chế độ thông tin, báo cáo", 5),
)

HD_1294_2019 = RuleSet(
    version="1294-2019.1",
    effective_from=date(2019, 8, 14),
    source="HD 1294/HD-TLĐ (14/08/2019): groups and grades [V]; points, thresholds and months [U]",
    grading_indicators={
        "enterprise": (
            _i("collective_agreement", "representation", "Thương lượng, ký kết, thực hiện thỏa ước tập thể", 15),
            _i("workplace_dialogue", "representation", "Đối thoại tại nơi làm việc, hội nghị người lao động", 10),
            _i("wages_safety", "representation", "Giám sát tiền lương, bảo hiểm xã hội, an toàn vệ sinh lao động", 15),
            _i("welfare", "representation", "Chăm lo đời sống, hỗ trợ đoàn viên khó khăn", 10),
            *_SHARED_ORGANISATION,
            _i("propaganda", "communication", "Tuyên truyền, giáo dục chính trị, pháp luật cho đoàn viên", 8),
            _i("emulation", "communication", "Tổ chức phong trào thi đua, sáng kiến", 7),
        ),
        "public_sector": (
            _i("democracy", "representation", "Xây dựng, thực hiện quy chế dân chủ; hội nghị cán bộ, công chức", 15),
            _i("policies", "representation", "Giám sát thực hiện chế độ, chính sách đối với người lao động", 15),
            _i("welfare", "representation", "Chăm lo đời sống, hỗ trợ đoàn viên khó khăn", 15),
            *_SHARED_ORGANISATION,
            _i("propaganda", "communication", "Tuyên truyền, giáo dục chính trị, pháp luật cho đoàn viên", 10),
            _i("emulation", "communication", "Tổ chức phong trào thi đua, sáng kiến", 10),
        ),
    },
    grade_thresholds=(("excellent", 90), ("good", 70), ("completed", 50), ("not_completed", 0)),
    months_operating=12,
    months_after_restructure=6,
    radar=RadarRules(
        never_applied_months=6,
        duplicate_min_score=0.8,
        bunching_days=7,
        bunching_min_share=0.6,
        bunching_min_count=5,
        awards_max_official_share=0.5,
        weights={
            "never_applied": 1.0,
            "near_duplicate": 2.0,
            "bunched_registrations": 3.0,
            "report_late": 2.0,
            "self_inspection_late": 4.0,  # a missing self-inspection alone proposes a unit
            "contradicted": 4.0,
            "reported_without_evidence": 3.0,
            "action_overdue": 4.0,
            "awards_to_officials": 3.0,
        },
        cap_per_signal=5,
        risk_min_score=4.0,
    ),
)

RULE_SETS: tuple[RuleSet, ...] = (HD_1294_2019,)


def rules_on(day: date, rule_sets: Sequence[RuleSet] = RULE_SETS) -> RuleSet:
    """The rule set in force on ``day``: the latest to have taken effect by then."""
    in_force = [r for r in rule_sets if r.effective_from <= day]
    if not in_force:
        raise NotFound(
            f"no inspection rule set was in force on {day.isoformat()}",
            code="rules.none_in_force",
            params={"day": day.isoformat()},
        )
    return max(in_force, key=lambda r: r.effective_from)


def rule_set(version: str, rule_sets: Sequence[RuleSet] = RULE_SETS) -> RuleSet:
    for found in rule_sets:
        if found.version == version:
            return found
    raise NotFound(f"no rule set {version}", code="rules.unknown_version", params={"version": version})


def grading_rules(year: int, rule_sets: Sequence[RuleSet] = RULE_SETS) -> RuleSet:
    """A year is graded by the rules in force on its last day."""
    return rules_on(date(year, 12, 31), rule_sets)
