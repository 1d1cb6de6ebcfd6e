"""A document as a list of blocks, written once and rendered twice (.docx that officials edit, and PDF).

The blocks are the parts of an administrative document in NĐ 30/2020 Phụ lục I (research §3.1): the
heading (issuing body with its direct parent above it; national name and motto; number and code; place
and date), the type and summary, "Kính gửi", grounds, body paragraphs, tables, the signature with the
recipients, an appendix title, a page break.
"""

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Heading:
    parent: str | None  # the issuing body's direct parent (upper case, not bold)
    issuer: str  # the issuing body (upper case, bold)
    number: str  # "Số: 07/TTr-CĐCS"
    place_date: str  # "Hà Nội, ngày 18 tháng 11 năm 2025"


@dataclass(frozen=True)
class Title:
    kind: str  # TỜ TRÌNH, QUYẾT ĐỊNH, BIÊN BẢN … (upper case, bold)
    summary: str = ""  # "Về việc …" (bold)


@dataclass(frozen=True)
class Para:
    text: str
    bold: bool = False
    italic: bool = False
    align: str = "justify"  # justify | center | left | right
    indent: bool = True  # first-line indent 1.27 cm
    size: float = 14


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]  # shares of the text width, summing to 1


@dataclass(frozen=True)
class Signature:
    title: str  # "TM. BAN CHẤP HÀNH\nCHỦ TỊCH" (upper case, bold)
    name: str
    recipients: tuple[str, ...] = ()  # "Nơi nhận:" on the left
    left_title: str | None = None  # minutes: THƯ KÝ on the left, CHỦ TỌA on the right
    left_name: str | None = None


@dataclass(frozen=True)
class PageBreak:
    landscape: bool = False


Block = Heading | Title | Para | Table | Signature | PageBreak


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)
    landscape: bool = False

    def add(self, *blocks: Block) -> "Document":
        self.blocks.extend(blocks)
        return self


def place_date(place: str, on: date) -> str:
    """ "Hà Nội, ngày 05 tháng 01 năm 2026": days under 10 and months 1–2 take a leading zero."""
    day = f"{on.day:02d}"
    month = f"{on.month:02d}" if on.month < 3 else str(on.month)
    return f"{place}, ngày {day} tháng {month} năm {on.year}"


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"
