"""Exports of the initiative book: CSV (UTF-8 with BOM, so Excel reads Vietnamese) and .xlsx to print.
Every cell goes through ``shared.export``: whatever a member typed, no cell is a formula."""

from typing import Any

from shared.export import append_row, csv_bytes, workbook_bytes

HEADERS = [
    ("Số TT", None),
    ("Tên sáng kiến", "title"),
    ("Tác giả (tỷ lệ đóng góp)", "authors"),
    ("Đơn vị", "unit_path"),
    ("Lĩnh vực", "field"),
    ("Trụ cột", "pillar"),
    ("Phạm vi công nhận", "scope"),
    ("Số quyết định", "decision_number"),
    ("Ngày quyết định", "decision_date"),
    ("Giá trị làm lợi (VNĐ)", "benefit_vnd"),
    ("Trạng thái", "status"),
]
PILLARS = {"doi_moi": "Đổi mới", "sang_tao": "Sáng tạo", "hieu_qua": "Hiệu quả"}
SCOPES = {"grassroots": "Cơ sở", "upper_level": "Cấp trên cơ sở", "city": "Thành phố", "national": "Toàn quốc"}
STATUSES = {"recognised": "Đã công nhận", "applied": "Đã áp dụng", "accepted": "Đã nghiệm thu"}


def _cells(index: int, item: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for _, key in HEADERS:
        value = item.get(key) if key else index
        if key == "authors":
            value = "; ".join(f"{a['name']} ({a['share']}%)" for a in value or [])
        elif key == "pillar":
            value = PILLARS.get(value, value)
        elif key == "scope":
            value = SCOPES.get(value, value)
        elif key == "status":
            value = STATUSES.get(value, value)
        elif key == "decision_date" and value is not None:
            value = value.strftime("%d/%m/%Y")
        cells.append("" if value is None else value)
    return cells


def book_csv(items: list[dict[str, Any]]) -> bytes:
    return csv_bytes([h for h, _ in HEADERS], (_cells(index, item) for index, item in enumerate(items, 1)))


def book_xlsx(items: list[dict[str, Any]], level: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Sổ vàng sáng kiến"
    font = Font(name="Times New Roman", size=12)
    append_row(sheet, [f"SỔ VÀNG SÁNG KIẾN — {level}"])
    sheet["A1"].font = Font(name="Times New Roman", size=14, bold=True)
    for cell in append_row(sheet, [h for h, _ in HEADERS]):
        cell.font = Font(name="Times New Roman", size=12, bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for index, item in enumerate(items, 1):
        for cell in append_row(sheet, _cells(index, item)):
            cell.font, cell.alignment = font, Alignment(wrap_text=True, vertical="top")
    for column, width in zip("ABCDEFGHIJK", (6, 40, 30, 24, 18, 12, 16, 16, 14, 18, 16), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    return workbook_bytes(workbook)
