"""The one writer of spreadsheet exports (CSV and XLSX): every cell is inert, whatever a caller typed.

A spreadsheet evaluates a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab, carriage return,
line feed or NUL before one) as a formula: ``=HYPERLINK(…)`` in a title would run in the reader's Excel.
Per OWASP's CSV-injection guidance every text cell that starts with such a character — or with its
full-width or small-form variant (``＝ ＋ － ＠``, ``﹦ ﹢ ﹣ ﹫``) or the Unicode minus sign — is prefixed
with a single quote, and every CSV cell is quoted with embedded quotes doubled (RFC 4180), so a
separator or quote inside a value cannot start a new cell. Numbers (``int``, ``float``; not ``bool``)
stay numbers: a number cell holds no formula. In XLSX every text cell is written as a string (never a
formula) and a risky one carries the quote-prefix style instead of a visible apostrophe.
"""

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any

TRIGGERS = frozenset("=+-@")
# Characters that only make a cell dangerous when a trigger follows, or that some spreadsheets drop.
_LEADING_SPACE = frozenset("\t\r\n\x00 \u00a0\u3000")
_MINUS_SIGNS = frozenset("\u2212\u2796\ufe63\uff0d")

Cell = str | int | float


def is_risky(text: str) -> bool:
    """True if a spreadsheet could read ``text`` as a formula (or a control character leads it)."""
    if not text:
        return False
    if text[0] in _LEADING_SPACE and text[0] != " ":
        return True  # tab, CR, LF, NUL lead: OWASP neutralises these whatever follows
    first = text.lstrip("".join(_LEADING_SPACE))[:1]
    if not first:
        return False
    return first in TRIGGERS or first in _MINUS_SIGNS or unicodedata.normalize("NFKC", first)[:1] in TRIGGERS


def inert(value: Any) -> Cell:
    """A cell value that no spreadsheet evaluates: numbers as they are, everything else as safe text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = "" if value is None else str(value)
    return "'" + text if is_risky(text) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True) -> bytes:
    """UTF-8 CSV (with a BOM by default, so Excel reads Vietnamese), every cell quoted and inert."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([inert(h) for h in header])
    for row in rows:
        writer.writerow([inert(value) for value in row])
    return out.getvalue().encode("utf-8-sig" if bom else "utf-8")


def append_row(sheet: Any, values: Sequence[Any]) -> list[Any]:
    """Append ``values`` to an openpyxl worksheet as inert cells; returns the row's cells for styling."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    row = sheet.max_row + 1 if sheet.max_row > 1 or sheet.cell(1, 1).value is not None else 1
    cells = []
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, int | float) and not isinstance(value, bool):
            cell.value = value
        else:
            raw = "" if value is None else str(value)
            text = ILLEGAL_CHARACTERS_RE.sub("", raw)  # XML cannot hold control characters
            cell.value = text
            cell.data_type = "s"  # a string, never a formula, even when it starts with "="
            if is_risky(raw) or is_risky(text):
                cell.quotePrefix = True  # Excel keeps it text when edited, without showing an apostrophe
        cells.append(cell)
    return cells


def workbook_bytes(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str = "Sheet1") -> bytes:
    """A plain one-sheet workbook of inert cells (services with a layout use ``append_row``)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    append_row(sheet, header)
    for row in rows:
        append_row(sheet, row)
    return workbook_bytes(workbook)
