"""Languages of the portal: Vietnamese first, English as a switch. Messages are Babel catalogs
(``services/portal/locale/<lang>/LC_MESSAGES/messages.po``, msgids in English), read at start-up;
numbers and dates follow the language (Vietnamese: 1.789 and 30/11/2026).

``make portal-messages`` re-extracts ``messages.pot`` and updates the catalogs (pybabel); a test fails
when a message in the code or templates has no Vietnamese translation.
"""

import contextvars
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import get_decimal_symbol, get_group_symbol

LOCALE_DIR = Path(__file__).resolve().parents[1] / "locale"
LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT = "vi"
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

current_locale: contextvars.ContextVar[str] = contextvars.ContextVar("portal_locale", default=DEFAULT)


@cache
def catalog(locale: str) -> dict[str, str]:
    """msgid → translation for one language (English msgids stand for themselves)."""
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {str(m.id): str(m.string) for m in parsed if m.id and m.string and not m.fuzzy}


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


def gettext(message: str) -> str:
    return catalog(current_locale.get()).get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    # Vietnamese has one form; English picks by n.
    return gettext(singular if n == 1 else plural)


def _(message: str, **params: object) -> str:
    """Translate, then fill ``{name}`` placeholders (numbers formatted for the language)."""
    text = gettext(message)
    if params:
        text = text.format(
            **{k: number(v) if isinstance(v, int | float) and not isinstance(v, bool) else v for k, v in params.items()}
        )
    return text


@cache
def _separators(locale: str) -> tuple[str, str]:
    """The language's group and decimal signs, from Babel's locale data (vi: "." and ",")."""
    return get_group_symbol(locale), get_decimal_symbol(locale)


def number(value: object, digits: int = 0) -> str:
    """Grouped digits with the language's signs (1.789 / 1,789); up to ``digits`` decimals, no trailing zeros.

    Formatted here rather than by ``babel.numbers.format_decimal`` per call: a district's table shows
    thousands of figures, and parsing the pattern each time cost more than the page's reads.
    """
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not amount.is_finite():
        return str(value)
    text = f"{amount:,.{digits}f}"
    if digits:
        text = text.rstrip("0").rstrip(".")
    group, decimal = _separators(current_locale.get())
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


def percent(value: object) -> str:
    """An achievement in percent as the services give it (117.78 → 117,78%)."""
    return "—" if value is None else f"{number(value, 2)}%"


def vnd(value: object) -> str:
    return "—" if value is None else f"{number(value)} ₫"


def _as_date(value: object) -> date | datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if "T" in text else date.fromisoformat(text)
    except ValueError:
        return None


def day(value: object) -> str:
    found = _as_date(value)
    if found is None:
        return "—" if value in (None, "") else str(value)
    if isinstance(found, datetime):
        found = (found if found.tzinfo else found.replace(tzinfo=ZONE)).astimezone(ZONE).date()
    return format_date(found, "dd/MM/yyyy", locale=current_locale.get())


def moment(value: object) -> str:
    found = _as_date(value)
    if not isinstance(found, datetime):
        return day(value)
    aware = found if found.tzinfo else found.replace(tzinfo=ZONE)
    return format_datetime(aware, "HH:mm dd/MM/yyyy", tzinfo=ZONE, locale=current_locale.get())


def age(seconds: object) -> str:
    """How long a request has waited, in the largest unit that says it."""
    total = int(seconds or 0)
    if total >= 86400:
        return _("{n} days", n=total // 86400) if total >= 2 * 86400 else _("1 day")
    if total >= 3600:
        return _("{n} hours", n=total // 3600)
    return _("{n} minutes", n=max(total // 60, 0))


# Words the services send as codes (statuses, scopes, pillars, kinds), said in the person's language.
LABELS = {
    "draft": N_("draft"),
    "registered": N_("registered"),
    "under_review": N_("under review"),
    "returned": N_("returned"),
    "recognised": N_("recognised"),
    "rejected": N_("rejected"),
    "applied": N_("applied"),
    "accepted": N_("accepted"),
    "open": N_("open"),
    "closed": N_("closed"),
    "submitted": N_("submitted"),
    "claimed": N_("claimed"),
    "converted": N_("converted"),
    "grassroots": N_("grassroots level"),
    "upper_level": N_("upper level"),
    "city": N_("city level"),
    "national": N_("national level"),
    "doi_moi": N_("Innovation"),
    "sang_tao": N_("Creativity"),
    "hieu_qua": N_("Effectiveness"),
    "at_least": N_("at least"),
    "at_most": N_("at most"),
    "counted": N_("counted by the platform"),
    "reported": N_("reported with evidence"),
    "initiatives_registered": N_("initiatives registered"),
    "initiatives_recognised": N_("initiatives recognised"),
    "initiatives_applied": N_("initiatives applied"),
    "initiatives_accepted": N_("initiatives accepted"),
    "members_enrolled": N_("members enrolled"),
    "chair": N_("chair"),
    "standing_committee": N_("standing committee"),
    "executive_committee": N_("executive committee"),
    "inspection_committee": N_("inspection committee"),
    "emulation_officer": N_("emulation officer"),
}


def label(value: object) -> str:
    return gettext(LABELS.get(str(value), str(value)))
