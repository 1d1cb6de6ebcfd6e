"""The award documents: .docx and PDF read back with their Vietnamese intact, laid out per NĐ 30/2020."""

import io
import unicodedata
from datetime import date

import docx
import pypdf

from contracts.awards import CouncilVoted, ProposalEscalated
from services.awards.adapters.documents.blocks import place_date, vnd
from services.awards.adapters.documents.compose import (
    Body,
    DecisionDocument,
    Entry,
    InitiativeSummary,
    SubmissionDossier,
    certificates,
    decision,
    submission,
)
from services.awards.adapters.documents.pdf import to_pdf
from services.awards.adapters.documents.render import to_docx
from tests.awards.awards_helpers import FECON
from tests.awards.test_awards_domain import at_city, conferred

FECON_BODY = Body("Công đoàn Công ty Cổ phần Fecon", "Liên đoàn Lao động quận Nam Từ Liêm", abbreviation="CĐCS")
NTL_BODY = Body("Liên đoàn Lao động quận Nam Từ Liêm", "Liên đoàn Lao động Thành phố Hà Nội", abbreviation="LĐLĐ")
HN_BODY = Body("Liên đoàn Lao động Thành phố Hà Nội", "Tổng Liên đoàn Lao động Việt Nam", abbreviation="LĐLĐ")


def _docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return " ".join("\n".join(parts).split())


def _pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())  # lines wrap where the page is narrow


def _dossier() -> SubmissionDossier:
    p = at_city()
    first = p.escalations[0]
    assert isinstance(first, ProposalEscalated)
    vote = p.votes[FECON.unit_id]
    assert isinstance(vote, CouncilVoted)
    initiative = next(f for c in p.record.eligibility.criteria for f in c.facts if f.kind == "initiative")
    return SubmissionDossier(
        sender=FECON_BODY,
        recipient=NTL_BODY,
        escalation=first,
        entries=[
            Entry(
                p.record,
                vote,
                [InitiativeSummary(initiative.ref, "Ứng dụng mã QR trong quản lý đoàn viên", initiative.summary)],
            )
        ],
        signer_title="TM. BAN CHẤP HÀNH\nCHỦ TỊCH",
        signer_name="Trần Thị Bình",
    )


def test_the_submission_dossier_reads_back_in_vietnamese_from_docx_and_pdf() -> None:
    dossier = submission(_dossier())
    word, pdf = to_docx(dossier), to_pdf(dossier)
    for text in (_docx_text(word), _pdf_text(pdf)):
        for expected in (
            "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
            "Độc lập - Tự do - Hạnh phúc",
            "LIÊN ĐOÀN LAO ĐỘNG QUẬN NAM TỪ LIÊM",  # the direct parent above the issuing body
            "CÔNG ĐOÀN CÔNG TY CỔ PHẦN FECON",
            "Số: 07/TTr-CĐ",
            "Hà Nội, ngày 18 tháng 11 năm 2025",
            "TỜ TRÌNH",
            "Danh hiệu Chiến sĩ thi đua thành phố",
            "Nguyễn Văn An",
            "BÁO CÁO TÓM TẮT THÀNH TÍCH",
            "03 lần liên tục đạt danh hiệu Chiến sĩ thi đua cơ sở",
            "BÁO CÁO TÓM TẮT SÁNG KIẾN",
            "12/QĐ-LĐLĐ",
            "TRÍCH BIÊN BẢN",
            "Số: 05/BB-CĐ",
            "THƯ KÝ",
            "CHỦ TỌA",
        ):
            assert expected in text, expected
    assert pdf.startswith(b"%PDF-") and b"LiberationSerif" in pdf  # the vendored font is embedded


def test_the_docx_is_a4_with_the_decree_margins() -> None:
    section = docx.Document(io.BytesIO(to_docx(submission(_dossier())))).sections[0]
    sizes = (section.page_width, section.page_height, section.top_margin, section.left_margin, section.right_margin)
    assert [round(size.mm) for size in sizes] == [210, 297, 20, 30, 15]  # stored in twips


def test_the_decision_carries_its_list_amounts_and_the_certificates_print() -> None:
    award = conferred().conferred
    assert award is not None
    document = decision(DecisionDocument(HN_BODY, [award], ["Căn cứ Luật Thi đua, khen thưởng năm 2022"]))
    for text in (_docx_text(to_docx(document)), _pdf_text(to_pdf(document))):
        assert "QUYẾT ĐỊNH" in text and "Số: 2150/QĐ-UBND" in text
        assert "Kèm theo Quyết định số 2150/QĐ-UBND ngày 22/12/2025" in text
        assert "7.020.000 đồng" in text and "Căn cứ Luật Thi đua, khen thưởng năm 2022" in text
    sheet = certificates([award], HN_BODY)
    text = _pdf_text(to_pdf(sheet))
    assert "DANH HIỆU THI ĐUA" in text and "Nguyễn Văn An" in text
    assert pypdf.PdfReader(io.BytesIO(to_pdf(sheet))).pages[0].mediabox.width > 800  # landscape A4


def test_dates_and_amounts_are_written_the_vietnamese_way() -> None:
    assert place_date("Hà Nội", date(2026, 1, 5)) == "Hà Nội, ngày 05 tháng 01 năm 2026"
    assert place_date("Hà Nội", date(2025, 11, 18)) == "Hà Nội, ngày 18 tháng 11 năm 2025"
    assert vnd(7_020_000) == "7.020.000 đồng"
