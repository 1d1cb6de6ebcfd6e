"""Render a ``Document`` to .docx (python-docx) and to PDF (fpdf2, the vendored Liberation Serif 2 embedded).

Measures from NĐ 30/2020 Phụ lục I: A4, margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New
Roman 13–14 pt; body justified with a 1.27 cm first-line indent and 6 pt between paragraphs.
"""

import io

from docx import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from services.awards.adapters.documents.blocks import Document, Heading, PageBreak, Para, Signature, Table, Title

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
TOP, BOTTOM, LEFT, RIGHT = 20, 20, 30, 15  # mm

# -- .docx ------------------------------------------------------------------------------------------

# WordprocessingML written directly: python-docx's property setters cost ~40 µs each, and a 200-nominee
# dossier has ~7,500 paragraphs. Element order inside w:pPr and w:rPr follows the schema.
_JC = {"justify": "both", "center": "center", "left": "left", "right": "right"}
_W_SPACE = qn("xml:space")


def _el(tag: str, **attributes: str):  # type: ignore[no-untyped-def]
    element = OxmlElement(tag)
    for key, value in attributes.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _run(p, text: str, size: float = 14, bold: bool = False, italic: bool = False) -> None:  # type: ignore[no-untyped-def]
    half_points = str(round(size * 2))
    for index, line in enumerate(text.split("\n")):
        run = _el("w:r")
        props = _el("w:rPr")
        if bold:
            props.append(_el("w:b"))
        if italic:
            props.append(_el("w:i"))
        props.append(_el("w:sz", val=half_points))
        props.append(_el("w:szCs", val=half_points))
        run.append(props)
        if index:
            run.append(_el("w:br"))
        t = _el("w:t")
        t.set(_W_SPACE, "preserve")
        t.text = line
        run.append(t)
        p.append(run)


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
    """A paragraph appended to a body (before its section properties) or a table cell; returns ``w:p``."""
    p = _el("w:p")
    props = _el("w:pPr")
    props.append(_el("w:spacing", before="0", after=str(round(after * 20))))
    if indent:
        props.append(_el("w:ind", firstLine="720"))  # 1.27 cm
    props.append(_el("w:jc", val=_JC[align]))
    p.append(props)
    _run(p, text, size, bold, italic)
    body = getattr(getattr(container, "element", None), "body", None)  # a Document, or a table cell
    parent = body if body is not None else container._tc
    last = parent[-1] if len(parent) else None
    if last is not None and last.tag == qn("w:sectPr"):
        last.addprevious(p)
    else:
        parent.append(p)
    return p


def _rule_below(p) -> None:  # type: ignore[no-untyped-def]
    """A thin line under a heading line (a bottom border), the NĐ 30 rule under the body's name."""
    borders = _el("w:pBdr")
    borders.append(_el("w:bottom", val="single", sz="6", space="1", color="000000"))
    p.pPr.insert(0, borders)  # w:pBdr comes before w:spacing


def _no_borders(table) -> None:  # type: ignore[no-untyped-def]
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _emptied(cell):  # type: ignore[no-untyped-def]
    """A new cell holds one empty paragraph; remove it, so the cell holds only what is added."""
    cell._tc.remove(cell._tc.p_lst[0])
    return cell


def _cells(table) -> list:  # type: ignore[no-untyped-def]
    """Every row's cells, read once (``table.cell(r, c)`` walks the whole grid on every call)."""
    return [[_emptied(cell) for cell in row.cells] for row in table.rows]


def _cell(table, row: int, col: int):  # type: ignore[no-untyped-def]
    return _emptied(table.cell(row, col))


def to_docx(document: Document) -> bytes:
    out = DocxDocument()
    style = out.styles["Normal"]
    style.font.name = "Times New Roman"
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "Times New Roman")
    style.font.size = Pt(14)
    section = out.sections[0]
    _page(section, document.landscape)
    width_mm = (297 if document.landscape else 210) - LEFT - RIGHT
    # python-docx inserts every paragraph before the body's section properties, scanning the body each
    # time (quadratic in the document's length): blocks are built in a scratch document whose body stays
    # short, then moved to the end of the real body.
    target = out.element.body
    sect_pr = target.sectPr
    target.remove(sect_pr)
    doc = DocxDocument()
    scratch = doc.element.body
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
                grid = _cells(table)
                widths = [Mm(width_mm * share) for share in block.widths]
                for col, text in enumerate(block.header):
                    _para(grid[0][col], text, size=12, bold=True)
                for cells, values in zip(grid[1:], block.rows, strict=True):
                    for col, text in enumerate(values):
                        _para(cells[col], text, size=12, align="left" if col else "center")
                for cells in grid:
                    for cell, width in zip(cells, widths, strict=True):
                        cell.width = width
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
                # Documents keep one orientation (certificates are landscape throughout).
                p = _para(doc, "", align="left")
                p.append(_el("w:r"))
                p[-1].append(_el("w:br", type="page"))
        for child in list(scratch):
            if child.tag != qn("w:sectPr"):
                target.append(child)
    target.append(sect_pr)
    buffer = io.BytesIO()
    out.core_properties.title = document.title
    out.save(buffer)
    return buffer.getvalue()


def _page(section, landscape: bool) -> None:  # type: ignore[no-untyped-def]
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (Mm(297), Mm(210)) if landscape else (Mm(210), Mm(297))
    section.top_margin, section.bottom_margin = Mm(TOP), Mm(BOTTOM)
    section.left_margin, section.right_margin = Mm(LEFT), Mm(RIGHT)
