"""Render a ``Document`` to .docx (python-docx) and to PDF (fpdf2, the vendored Liberation Serif 2 embedded).

Measures from NĐ 30/2020 Phụ lục I: A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New
Roman 13–14 pt; body justified with a 1.27 cm first-line indent and 6 pt between paragraphs.
"""

import io
from pathlib import Path

from docx import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from services.awards.adapters.documents.blocks import Document, Heading, PageBreak, Para, Signature, Table, Title

FONTS = Path(__file__).parent / "fonts"
FONT_FILES = {
    "": "LiberationSerif-Regular.ttf",
    "B": "LiberationSerif-Bold.ttf",
    "I": "LiberationSerif-Italic.ttf",
    "BI": "LiberationSerif-BoldItalic.ttf",
}
NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TOP, BOTTOM, LEFT, RIGHT = 20, 20, 30, 15  # mm
INDENT_MM = 12.7

# -- .docx ------------------------------------------------------------------------------------------

_ALIGN = {
    "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
}


def _run(paragraph, text: str, size: float = 14, bold: bool = False, italic: bool = False) -> None:  # type: ignore[no-untyped-def]
    for index, line in enumerate(text.split("\n")):
        run = paragraph.add_run(line)
        run.font.size = Pt(size)
        run.bold = bold
        run.italic = italic
        if index < len(text.split("\n")) - 1:
            run.add_break()


def _para(
    container,
    text: str,
    *,
    size: float = 14,
    bold: bool = False,
    italic: bool = False,
    align: str = "center",
    indent: bool = False,
    after: float = 0,
):  # type: ignore[no-untyped-def]
    paragraph = container.add_paragraph()
    paragraph.alignment = _ALIGN[align]
    fmt = paragraph.paragraph_format
    fmt.space_after = Pt(after)
    fmt.space_before = Pt(0)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    _run(paragraph, text, size, bold, italic)
    return paragraph


def _rule_below(paragraph) -> None:  # type: ignore[no-untyped-def]
    """A thin line under a heading line (a bottom border), the NĐ 30 rule under the body's name."""
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _no_borders(table) -> None:  # type: ignore[no-untyped-def]
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _cell(table, row: int, col: int):  # type: ignore[no-untyped-def]
    cell = table.cell(row, col)
    cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    return cell


def to_docx(document: Document) -> bytes:
    doc = DocxDocument()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.font.size = Pt(14)
    section = doc.sections[0]
    _page(section, document.landscape)
    width_mm = (297 if document.landscape else 210) - LEFT - RIGHT
    for block in document.blocks:
        match block:
            case Heading():
                table = doc.add_table(rows=2, cols=2)
                _no_borders(table)
                left, right = _cell(table, 0, 0), _cell(table, 0, 1)
                if block.parent:
                    _para(left, block.parent.upper(), size=13)
                _rule_below(_para(left, block.issuer.upper(), size=13, bold=True))
                _para(right, NATION, size=13, bold=True)
                _rule_below(_para(right, MOTTO, size=14, bold=True))
                _para(_cell(table, 1, 0), block.number, size=13)
                _para(_cell(table, 1, 1), block.place_date, size=14, italic=True)
                table.columns[0].width = Mm(width_mm * 0.42)
                table.columns[1].width = Mm(width_mm * 0.58)
                _para(doc, "", after=6)
            case Title():
                _para(doc, block.kind.upper(), size=14, bold=True)
                if block.summary:
                    _rule_below(_para(doc, block.summary, size=14, bold=True, after=6))
            case Para():
                _para(
                    doc,
                    block.text,
                    size=block.size,
                    bold=block.bold,
                    italic=block.italic,
                    align=block.align,
                    indent=block.indent,
                    after=6,
                )
            case Table():
                table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
                table.style = "Table Grid"
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                for col, text in enumerate(block.header):
                    _para(_cell(table, 0, col), text, size=12, bold=True)
                for r, row in enumerate(block.rows, start=1):
                    for col, text in enumerate(row):
                        _para(_cell(table, r, col), text, size=12, align="left" if col else "center")
                for col, share in enumerate(block.widths):
                    for cell in table.columns[col].cells:
                        cell.width = Mm(width_mm * share)
                _para(doc, "", after=6)
            case Signature():
                table = doc.add_table(rows=1, cols=2)
                _no_borders(table)
                left, right = _cell(table, 0, 0), _cell(table, 0, 1)
                if block.left_title:
                    _para(left, block.left_title, size=14, bold=True)
                    _para(left, "\n\n\n" + (block.left_name or ""), size=14, bold=True)
                elif block.recipients:
                    _para(left, "Nơi nhận:", size=12, bold=True, italic=True, align="left")
                    for line in block.recipients:
                        _para(left, line, size=11, align="left")
                _para(right, block.title, size=14, bold=True)
                _para(right, "\n\n\n" + block.name, size=14, bold=True)
            case PageBreak():
                if block.landscape != document.landscape:
                    section = doc.add_section()
                    _page(section, block.landscape)
                else:
                    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    buffer = io.BytesIO()
    doc.core_properties.title = document.title
    doc.save(buffer)
    return buffer.getvalue()


def _page(section, landscape: bool) -> None:  # type: ignore[no-untyped-def]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)


# -- PDF --------------------------------------------------------------------------------------------


class _Pdf(FPDF):
    def header(self) -> None:
        # Page numbers centred in the top margin, not on page 1 (NĐ 30/2020).
        if self.page_no() > 1:
            self.set_font("Serif", "", 13)
            self.set_y(8)
            self.cell(0, 6, str(self.page_no()), align="C")
            self.set_y(TOP)


def _pdf() -> _Pdf:
    pdf = _Pdf(orientation="portrait", unit="mm", format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font("Serif", style=style, fname=str(FONTS / name))
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=BOTTOM)
    pdf.set_title("")
    return pdf


def _pt_to_mm(points: float) -> float:
    return points * 0.3528 * 1.2  # single line spacing at ~1.2 em


def _text(
    pdf: FPDF, text: str, size: float, style: str = "", align: str = "C", w: float = 0, x: float | None = None
) -> None:
    pdf.set_font("Serif", style, size)
    if x is not None:
        pdf.set_x(x)
    pdf.multi_cell(
        w, _pt_to_mm(size), text, align=align, new_x=XPos.LMARGIN if x is None else XPos.LEFT, new_y=YPos.NEXT
    )


def _rule(pdf: FPDF, center: float, width: float) -> None:
    y = pdf.get_y() + 1.2
    pdf.line(center - width / 2, y, center + width / 2, y)
    pdf.set_y(y + 2)


def to_pdf(document: Document) -> bytes:
    pdf = _pdf()
    pdf.set_title(document.title)
    pdf.add_page(orientation="landscape" if document.landscape else "portrait")
    for block in document.blocks:
        width = pdf.epw
        match block:
            case Heading():
                top = pdf.get_y()
                left_w, right_w = width * 0.42, width * 0.58
                x0 = pdf.l_margin
                if block.parent:
                    _text(pdf, block.parent.upper(), 12, "", "C", left_w, x0)
                _text(pdf, block.issuer.upper(), 12, "B", "C", left_w, x0)
                _rule(pdf, x0 + left_w / 2, left_w * 0.35)
                _text(pdf, block.number, 13, "", "C", left_w, x0)
                left_end = pdf.get_y()
                pdf.set_y(top)
                _text(pdf, NATION, 12, "B", "C", right_w, x0 + left_w)
                _text(pdf, MOTTO, 13, "B", "C", right_w, x0 + left_w)
                _rule(pdf, x0 + left_w + right_w / 2, right_w * 0.6)
                _text(pdf, block.place_date, 13, "I", "C", right_w, x0 + left_w)
                pdf.set_y(max(left_end, pdf.get_y()) + 4)
                pdf.set_x(pdf.l_margin)
            case Title():
                _text(pdf, block.kind.upper(), 14, "B")
                if block.summary:
                    _text(pdf, block.summary, 14, "B")
                    _rule(pdf, pdf.l_margin + width / 2, width * 0.3)
                pdf.ln(2)
            case Para():
                style = ("B" if block.bold else "") + ("I" if block.italic else "")
                align = {"justify": "J", "center": "C", "left": "L", "right": "R"}[block.align]
                # fpdf has no first-line indent: two em spaces and an en space (≈ 1.27 cm at 14 pt) begin the line.
                text = ("\u2003\u2003\u2002" + block.text) if block.indent and block.text else block.text
                _text(pdf, text, block.size, style, align)
                pdf.ln(2)
            case Table():
                pdf.set_font("Serif", "", 12)
                widths = tuple(share * width for share in block.widths)
                with pdf.table(
                    col_widths=widths,
                    width=width,
                    line_height=_pt_to_mm(12),
                    text_align="LEFT",
                    first_row_as_headings=True,
                ) as table:
                    row = table.row()
                    for text in block.header:
                        row.cell(text)
                    for values in block.rows:
                        row = table.row()
                        for text in values:
                            row.cell(text)
                pdf.ln(3)
            case Signature():
                top = pdf.get_y()
                half = width / 2
                if pdf.will_page_break(45):
                    pdf.add_page()
                    top = pdf.get_y()
                if block.left_title:
                    _text(pdf, block.left_title, 14, "B", "C", half, pdf.l_margin)
                    pdf.ln(18)
                    _text(pdf, block.left_name or "", 14, "B", "C", half, pdf.l_margin)
                elif block.recipients:
                    _text(pdf, "Nơi nhận:", 12, "BI", "L", half, pdf.l_margin)
                    for line in block.recipients:
                        _text(pdf, line, 11, "", "L", half, pdf.l_margin)
                left_end = pdf.get_y()
                pdf.set_y(top)
                _text(pdf, block.title, 14, "B", "C", half, pdf.l_margin + half)
                pdf.ln(18)
                _text(pdf, block.name, 14, "B", "C", half, pdf.l_margin + half)
                pdf.set_y(max(left_end, pdf.get_y()) + 2)
                pdf.set_x(pdf.l_margin)
            case PageBreak():
                pdf.add_page(orientation="landscape" if block.landscape else "portrait")
    return bytes(pdf.output())
