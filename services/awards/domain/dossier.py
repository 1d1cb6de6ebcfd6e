"""The dossier sent upward (seed 003 §IV.3; NĐ 152/2025 Mẫu 13): which pieces an award needs, which a
proposal has. A dossier missing a required piece cannot leave; the refusal lists what is missing."""

from collections.abc import Iterable

from contracts.awards import AwardRule, DossierPiece, Eligibility, Evidence

PIECE_NAMES: dict[str, str] = {
    "submission_letter": "Tờ trình kèm danh sách (submission letter with the list)",
    "achievement_summary": "Báo cáo tóm tắt thành tích (summary of achievements)",
    "initiative_summary": "Báo cáo tóm tắt sáng kiến (summary of the initiative)",
    "recognition_decision": "Quyết định công nhận sáng kiến (decision recognising the initiative)",
    "minutes_extract": "Trích biên bản họp và kết quả bỏ phiếu (extract of the council minutes with the vote)",
    "effect_certificate": "Giấy xác nhận hiệu quả áp dụng, phạm vi ảnh hưởng (certificate of the initiative's effect)",
}


def pieces_present(
    *,
    submission_number: str,
    summary: str,
    eligibility: Eligibility,
    evidence: Iterable[Evidence],
    voted_here: bool,
) -> set[DossierPiece]:
    kinds = {e.kind for e in evidence}
    present: set[DossierPiece] = set()
    if submission_number.strip():
        present.add("submission_letter")
    if summary.strip():
        present.add("achievement_summary")
    initiative_facts = [
        f for c in eligibility.criteria if c.outcome == "met" for f in c.facts if f.kind == "initiative"
    ]
    if initiative_facts:
        present.add("initiative_summary")
    if any("QĐ" in f.summary for f in initiative_facts) or "recognition_decision" in kinds:
        present.add("recognition_decision")
    if voted_here:
        present.add("minutes_extract")
    if "effect_certificate" in kinds:
        present.add("effect_certificate")
    return present


def missing_pieces(rule: AwardRule, present: set[DossierPiece]) -> list[DossierPiece]:
    return [piece for piece in rule.dossier if piece not in present]
