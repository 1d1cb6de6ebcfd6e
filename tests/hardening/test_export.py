"""Every cell of every export is inert text (issue 8 defect 4, OWASP CSV injection): one test per leading
character, in CSV and in XLSX, through the one writer every service uses (``shared/export.py``)."""

import csv
import io
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from shared.export import append_row, csv_bytes, inert, is_risky, workbook_bytes, xlsx_bytes

# OWASP: = + - @, tab, carriage return (and line feed, NUL); their full-width and small forms; the
# Unicode minus; a trigger behind leading spaces.
LEADING = {
    "equals": "=HYPERLINK(\"http://evil\",\"x\")", "plus": "+33/QĐ", "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+1)", "tab": "\t=1+2", "carriage return": "\r=1+2", "line feed": "\n=1+2", "nul": "\x00=1",
    "full-width equals": "＝1+2", "full-width plus": "＋1", "full-width minus": "－1", "full-width at": "＠SUM(1)",
    "small equals": "﹦1", "small plus": "﹢1", "small minus": "﹣1", "small at": "﹫x", "minus sign": "−1+2",
    "space then equals": "  =1+2", "no-break space then at": "\u00a0@x", "ideographic space then plus": "\u3000+1",
}  # fmt: skip
SAFE = ["Công đoàn Fecon", "18/KH-LĐLĐ", "100%", "a-b", "x=1", "'quoted", "", "Ông @An"]


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("value", LEADING.values(), ids=LEADING.keys())
def test_a_csv_cell_that_a_spreadsheet_would_evaluate_is_neutralised(value: str) -> None:
    data = csv_bytes(["Tên sáng kiến", "Số quyết định"], [[value, value]])
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Vietnamese
    header, row = csv_cells(data)
    assert header == ["Tên sáng kiến", "Số quyết định"]
    assert row == ["'" + value, "'" + value]
    # Every cell is quoted: a separator or quote inside a value cannot open a new cell.
    assert data.decode("utf-8-sig").splitlines()[0] == '"Tên sáng kiến","Số quyết định"'


@pytest.mark.parametrize("value", LEADING.values(), ids=LEADING.keys())
def test_an_xlsx_cell_that_a_spreadsheet_would_evaluate_is_text(value: str) -> None:
    data = xlsx_bytes(["Tên"], [[value]])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula anywhere
    cell = load_workbook(io.BytesIO(data)).active["A2"]
    assert cell.data_type == "s" and cell.quotePrefix  # text, and kept text when edited
    # XML holds no NUL, and a carriage return may read back as a line feed; everything else is kept.
    assert cell.value.replace("\r", "\n") == value.replace("\x00", "").replace("\r", "\n")


@pytest.mark.parametrize("value", SAFE)
def test_ordinary_text_is_left_as_it_is(value: str) -> None:
    assert not is_risky(value) and inert(value) == value
    assert csv_cells(csv_bytes(["h"], [[value]]))[1] == [value]
    cell = load_workbook(io.BytesIO(xlsx_bytes(["h"], [[value]]))).active["A2"]
    assert (cell.value or "") == value and not cell.quotePrefix


def test_numbers_stay_numbers_and_none_is_empty() -> None:
    assert [inert(v) for v in (5, -3, 2.5, None, True)] == [5, -3, 2.5, "", "True"]
    assert csv_cells(csv_bytes(["n"], [[-5], [None]]))[1:] == [["-5"], [""]]
    workbook = Workbook()
    append_row(workbook.active, ["Giá trị", -5, 1_000_000])
    cells = list(load_workbook(io.BytesIO(workbook_bytes(workbook))).active.iter_rows(values_only=True))
    assert cells == [("Giá trị", -5, 1_000_000)]


def test_append_row_writes_after_a_title_row() -> None:
    workbook = Workbook()
    sheet = workbook.active
    append_row(sheet, ["=SỔ VÀNG"])
    append_row(sheet, ["Số TT", "Tên"])
    cells = append_row(sheet, [1, "=1+2"])
    assert [c.coordinate for c in cells] == ["A3", "B3"]
    assert sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix and sheet["B3"].quotePrefix
