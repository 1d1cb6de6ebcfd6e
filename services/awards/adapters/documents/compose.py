"""The award documents, composed from the proposals' events (seed 003 §IV.3; NĐ 30/2020):

- the dossier a level sends upward: submission letter (TTr) with the list of nominees, the summary of
  each nominee's achievements with the eligibility facts, each initiative's summary with its recognition
  decision, the extract of the council minutes with the vote (BB);
- the decision (QĐ) with its attached list and amounts;
- a printable certificate per nominee.

The union heading is the issuing body with its direct parent above it (research §3.2).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from contracts.awards import AwardConferred, CouncilVoted, ProposalEscalated, ProposalFiled
from services.awards.adapters.documents.blocks import (
    Document,
    Heading,
    PageBreak,
    Para,
    Signature,
    Table,
    Title,
    place_date,
    vnd,
)

OUTCOME_VI = {"met": "Đạt", "not_met": "Chưa đạt", "unknown": "Chưa xác định"}
BODY_OF_KIND = {
    "grassroots": "Ban Chấp hành",
    "upper_level": "Ban Thường vụ",
    "city": "Ban Thường vụ",
    "national": "Ban Chấp hành",
}


@dataclass(frozen=True)
class Body:
    """A union body as it heads a document: its name, its direct parent's, and where it sits."""

    name: str
    parent: str | None
    place: str = "Hà Nội"
    abbreviation: str = "CĐ"  # the code after the type: 07/TTr-CĐCS, 15/QĐ-LĐLĐ …


@dataclass(frozen=True)
class InitiativeSummary:
    initiative_id: str
    title: str
    summary: str  # scope, decision, application (the eligibility fact's text)


@dataclass
class Entry:
    """One nominee in a dossier: the proposal as filed, its vote at the sending level, its initiatives."""

    filed: ProposalFiled
    vote: CouncilVoted | None = None
    initiatives: list[InitiativeSummary] = field(default_factory=list)


@dataclass
class SubmissionDossier:
    sender: Body
    recipient: Body
    escalation: ProposalEscalated  # one of the submission's (number, date, levels)
    entries: list[Entry]
    signer_title: str
    signer_name: str


def _nominee_rows(entries: Sequence[Entry]) -> tuple[tuple[str, ...], ...]:
    rows = []
    for index, entry in enumerate(entries, start=1):
        f = entry.filed
        who = f.nominee.name + (f", {f.nominee.job_title}" if f.nominee.job_title else "")
        rows.append((str(index), who, f.nominee.unit_name, f.award_name, f.achievement.summary))
    return tuple(rows)


def submission(d: SubmissionDossier) -> Document:
    e = d.escalation
    awards = sorted({entry.filed.award_name for entry in d.entries})
    level_body = BODY_OF_KIND[e.from_level.kind]
    doc = Document(title=f"Tờ trình {e.submission_number}")
    doc.add(
        Heading(
            d.sender.parent, d.sender.name, f"Số: {e.submission_number}", place_date(d.sender.place, e.submitted_on)
        ),
        Title("TỜ TRÌNH", f"Về việc đề nghị khen thưởng {'; '.join(awards)}"),
        Para(f"Kính gửi: {BODY_OF_KIND[e.to_level.kind]} {d.recipient.name}", align="center", indent=False),
        Para(
            f"Căn cứ kết quả bình xét của {level_body} {d.sender.name} "
            + _minutes_ref(d.entries)
            + ", đối chiếu với tiêu chuẩn khen thưởng theo quy định hiện hành;",
            italic=True,
        ),
        Para(
            f"{level_body} {d.sender.name} kính đề nghị {BODY_OF_KIND[e.to_level.kind]} {d.recipient.name} "
            f"xem xét, khen thưởng cho {len(d.entries)} tập thể, cá nhân có thành tích xuất sắc "
            "(có danh sách và hồ sơ kèm theo)."
        ),
        Para(f"Hồ sơ kèm theo gồm: {', '.join(_pieces_vi(e.dossier))}."),
        Para(f"Kính trình {BODY_OF_KIND[e.to_level.kind]} {d.recipient.name} xem xét, quyết định./."),
        Signature(d.signer_title, d.signer_name, ("- Như trên;", f"- Lưu: VT, {d.sender.abbreviation}.")),
        PageBreak(),
        Title("DANH SÁCH", f"Tập thể, cá nhân đề nghị khen thưởng (Kèm theo Tờ trình số {e.submission_number})"),
        Table(
            ("STT", "Họ và tên / Tập thể", "Đơn vị", "Hình thức, danh hiệu", "Thành tích"),
            _nominee_rows(d.entries),
            (0.07, 0.22, 0.22, 0.22, 0.27),
        ),
    )
    for entry in d.entries:
        doc.add(PageBreak(), *achievement_summary(entry, d.sender))
        for initiative in entry.initiatives:
            doc.add(PageBreak(), *initiative_summary(entry, initiative))
    votes = [entry for entry in d.entries if entry.vote is not None]
    if votes:
        doc.add(PageBreak(), *minutes_extract(votes, d.sender, e.from_level.kind))
    return doc


def _minutes_ref(entries: Sequence[Entry]) -> str:
    numbers = sorted({entry.vote.meeting.minutes_number for entry in entries if entry.vote is not None})
    return f"(Biên bản số {', '.join(numbers)})" if numbers else ""


def _pieces_vi(pieces: Sequence[str]) -> list[str]:
    names = {
        "submission_letter": "tờ trình và danh sách",
        "achievement_summary": "báo cáo tóm tắt thành tích",
        "initiative_summary": "báo cáo tóm tắt sáng kiến",
        "recognition_decision": "quyết định công nhận sáng kiến",
        "minutes_extract": "trích biên bản họp và kết quả bỏ phiếu",
        "effect_certificate": "giấy xác nhận hiệu quả áp dụng, phạm vi ảnh hưởng của sáng kiến",
    }
    return [names.get(p, p) for p in pieces]


def achievement_summary(entry: Entry, sender: Body) -> list:
    f = entry.filed
    who = "tập thể" if f.nominee.kind == "collective" else "cá nhân"
    rows = tuple(
        (c.label, OUTCOME_VI[c.outcome], "; ".join(fact.summary for fact in c.facts) or c.reason)
        for c in f.eligibility.criteria
    )
    return [
        Title("BÁO CÁO TÓM TẮT THÀNH TÍCH", f"Đề nghị tặng {f.award_name} năm {f.year}"),
        Para(f"Họ và tên ({who}): {f.nominee.name}", bold=True, indent=False),
        Para(f"Đơn vị: {f.nominee.unit_name}", indent=False),
        *([Para(f"Chức vụ, công việc: {f.nominee.job_title}", indent=False)] if f.nominee.job_title else []),
        Para("I. THÀNH TÍCH ĐẠT ĐƯỢC", bold=True, indent=False),
        Para(f.summary),
        Para(f"II. ĐỐI CHIẾU TIÊU CHUẨN (bộ tiêu chí {f.eligibility.rule_set})", bold=True, indent=False),
        Table(("Tiêu chuẩn", "Kết quả", "Căn cứ"), rows, (0.4, 0.15, 0.45)),
        *([Para(f"Giải trình: {f.justification}", italic=True)] if f.justification else []),
        Para(f"Xác nhận của {sender.name}", italic=True, align="right", indent=False),
    ]


def initiative_summary(entry: Entry, initiative: InitiativeSummary) -> list:
    return [
        Title("BÁO CÁO TÓM TẮT SÁNG KIẾN", initiative.title),
        Para(f"Tác giả: {entry.filed.nominee.name} — {entry.filed.nominee.unit_name}", indent=False),
        Para(f"Tên sáng kiến: {initiative.title}", bold=True, indent=False),
        Para(f"Công nhận và áp dụng: {initiative.summary}."),
        Para(f"Quyết định công nhận sáng kiến: {_decision_of(initiative.summary)}", indent=False),
    ]


def _decision_of(summary: str) -> str:
    for part in summary.split("; "):
        if part.startswith("QĐ "):
            return "số " + part.removeprefix("QĐ ")
    return "(kèm theo hồ sơ)"


def minutes_extract(entries: Sequence[Entry], sender: Body, level_kind: str) -> list:
    first = entries[0].vote
    assert first is not None
    m = first.meeting
    body = BODY_OF_KIND.get(level_kind, "Ban Chấp hành")
    rows = []
    for index, entry in enumerate(entries, start=1):
        v = entry.vote
        assert v is not None
        base = v.meeting.members_total if v.threshold_of == "all_members" else v.meeting.members_present
        share = f"{v.votes_for / base:.0%}" if base else "—"
        rows.append(
            (
                str(index),
                entry.filed.nominee.name,
                str(v.votes_for),
                str(v.votes_against),
                str(v.votes_abstain),
                share,
                "Đạt" if v.passed else "Không đạt",
            )
        )
    return [
        Heading(sender.parent, sender.name, f"Số: {m.minutes_number}", place_date(sender.place, m.held_on)),
        Title("TRÍCH BIÊN BẢN", f"Họp {body} xét đề nghị khen thưởng"),
        Para(f"Thời gian bắt đầu: ngày {m.held_on.strftime('%d/%m/%Y')}.", indent=False),
        Para(f"Địa điểm: {m.place}.", indent=False),
        Para(f"Thành phần tham dự: {m.members_present}/{m.members_total} ủy viên {body}.", indent=False),
        Para(f"Chủ trì: {m.chair}. Thư ký: {m.secretary}.", indent=False),
        Para(
            f"Nội dung: bỏ phiếu {'kín ' if first.threshold_share >= 0.9 else ''}xét đề nghị khen thưởng; "
            f"tỷ lệ cần đạt: {first.threshold_share:.0%} tổng số ủy viên"
            + ("" if first.threshold_of == "all_members" else " có mặt")
            + f" (bộ tiêu chí {first.rule_set}).",
        ),
        Table(
            ("STT", "Họ và tên / Tập thể", "Đồng ý", "Không đồng ý", "Không biểu quyết", "Tỷ lệ", "Kết quả"),
            tuple(rows),
            (0.07, 0.33, 0.11, 0.13, 0.13, 0.1, 0.13),
        ),
        Para("Cuộc họp kết thúc cùng ngày. Trích biên bản này đúng với biên bản gốc./.", italic=True),
        Signature("CHỦ TỌA", m.chair, left_title="THƯ KÝ", left_name=m.secretary),
    ]


@dataclass
class DecisionDocument:
    issuer: Body
    awards: list[AwardConferred]  # the decision's list (same number)
    grounds: list[str] = field(default_factory=list)  # "Căn cứ …" lines
    recipients: tuple[str, ...] = ()


def decision(d: DecisionDocument) -> Document:
    first = d.awards[0].decision
    names = sorted({a.award_name for a in d.awards})
    body = d.awards[0].decision.deciding_body
    total = sum(a.amount_vnd for a in d.awards)
    doc = Document(title=f"Quyết định {first.number}")
    grounds = d.grounds or [f"Căn cứ {first.deciding_body} và quy chế khen thưởng ({d.awards[0].rule_set})"]
    doc.add(
        Heading(d.issuer.parent, d.issuer.name, f"Số: {first.number}", place_date(d.issuer.place, first.decided_on)),
        Title("QUYẾT ĐỊNH", f"Về việc tặng {'; '.join(names)}"),
        Para(body.upper(), bold=True, align="center", indent=False),
        *[Para(line + (";" if i < len(grounds) - 1 else "."), italic=True) for i, line in enumerate(grounds)],
        Para("QUYẾT ĐỊNH:", bold=True, align="center", indent=False),
        Para(
            f"Điều 1. Tặng {'; '.join(names)} cho {len(d.awards)} tập thể, cá nhân có thành tích xuất sắc "
            f"(có danh sách kèm theo).",
        ),
        Para(
            "Điều 2. Kèm theo là tiền thưởng theo mức quy định, tính trên mức lương cơ sở "
            f"{vnd(d.awards[0].base_salary_vnd)} áp dụng tại ngày ký quyết định; tổng cộng {vnd(total)}.",
        ),
        Para(
            "Điều 3. Các đơn vị có liên quan và các tập thể, cá nhân có tên tại Điều 1 chịu trách nhiệm thi hành "
            "Quyết định này./."
        ),
        Signature(first.signer_title, first.signer_name, d.recipients or ("- Như Điều 3;", "- Lưu: VT.")),
        PageBreak(),
        Title(
            "DANH SÁCH",
            f"Tập thể, cá nhân được khen thưởng (Kèm theo Quyết định số {first.number} "
            f"ngày {first.decided_on.strftime('%d/%m/%Y')})",
        ),
        Table(
            ("STT", "Họ và tên / Tập thể", "Đơn vị", "Hình thức, danh hiệu", "Tiền thưởng"),
            tuple(
                (str(i), a.nominee.name, a.nominee.unit_name, a.award_name, vnd(a.amount_vnd))
                for i, a in enumerate(d.awards, start=1)
            ),
            (0.07, 0.25, 0.28, 0.22, 0.18),
        ),
    )
    return doc


def certificates(awards: Sequence[AwardConferred], issuer: Body) -> Document:
    """One landscape page per nominee, to print on the certificate paper."""
    doc = Document(title="Giấy chứng nhận khen thưởng", landscape=True)
    for index, a in enumerate(awards):
        if index:
            doc.add(PageBreak(landscape=True))
        doc.add(
            Para(issuer.name.upper(), bold=True, align="center", indent=False, size=16),
            Para(a.form.upper(), bold=True, align="center", indent=False, size=30),
            Para("Tặng", italic=True, align="center", indent=False, size=18),
            Para(a.nominee.name, bold=True, align="center", indent=False, size=24),
            Para(a.nominee.unit_name, align="center", indent=False, size=16),
            Para(f"Đã có thành tích: {a.achievement.summary}", italic=True, align="center", indent=False, size=16),
            Para(
                f"Quyết định số {a.decision.number}, {place_date(issuer.place, a.decision.decided_on)}",
                italic=True,
                align="right",
                indent=False,
                size=14,
            ),
            Signature(a.decision.signer_title, a.decision.signer_name),
        )
    return doc


def today_line(place: str, on: date) -> str:
    return place_date(place, on)
