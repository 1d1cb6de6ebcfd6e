"""Form fields → the services' JSON bodies. Values go as typed (the service validates and its 422 is shown
beside the field); only what a browser cannot say otherwise is converted: blank means "not given", a
Vietnamese number "1.500.000" is a number, and repeated rows (authors, indicators) become lists."""

import math
import re
from typing import Any

from starlette.datastructures import FormData

MAX_ROWS = 30
_ROW = re.compile(r"^(?P<list>[a-z_]+)\.(?P<index>\d+)\.(?P<field>[a-z_]+)$")


def text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if value is None:
        return None
    value = str(value)
    return value if value.strip() else None


def number(raw: str | None) -> int | float | str | None:
    """``1.500.000`` or ``1 500 000`` → 1500000; ``12,5`` → 12.5; anything else goes as typed."""
    if raw is None:
        return None
    cleaned = raw.strip().replace(" ", "").replace("\u00a0", "")
    if re.fullmatch(r"-?\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    if re.fullmatch(r"-?\d+,\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        return int(cleaned)
    except ValueError:
        try:
            parsed = float(cleaned)
        except ValueError:
            return raw
    # NaN, Infinity, 1e309: no JSON number says them; the service refuses the text beside the field.
    return parsed if math.isfinite(parsed) else raw


def fields(form: FormData, *names: str, numbers: tuple[str, ...] = ()) -> dict[str, Any]:
    """The named fields that were filled in (blank ones are left out: the service says they are missing)."""
    body: dict[str, Any] = {}
    for name in names:
        value = text(form, name)
        if value is not None:
            body[name] = number(value) if name in numbers else value
    return body


def rows(form: FormData, name: str, numbers: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """``authors.0.name``, ``authors.0.share``, … → [{"name": …, "share": …}], blank rows dropped,
    kept in index order (so a 422 on ``authors.1.share`` is the second row shown)."""
    found: dict[int, dict[str, Any]] = {}
    for key in form.keys():
        match = _ROW.match(key)
        if not match or match["list"] != name or int(match["index"]) >= MAX_ROWS:
            continue
        value = text(form, key)
        if value is None:
            continue
        found.setdefault(int(match["index"]), {})[match["field"]] = (
            number(value) if match["field"] in numbers else value
        )
    return [found[i] for i in sorted(found)]


def values(form: FormData) -> dict[str, str]:
    """What the person typed, to show it again beside the messages."""
    return {key: str(form.get(key) or "") for key in form.keys() if key not in ("csrf",)}
