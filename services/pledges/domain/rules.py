"""Rules of campaigns and pledges: what makes an indicator measurable, how a split covers a target, how
achievement is computed, who may act, which titles an individual may register for."""

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from contracts.pledges import Indicator
from shared.errors import Conflict, InvalidInput

# Who launches, splits targets and closes a campaign; who signs a pledge and reports progress.
LEADER_ROLES: tuple[str, ...] = ("chair", "standing_committee", "executive_committee")
OFFICIAL_ROLES: tuple[str, ...] = (*LEADER_ROLES, "emulation_officer")

# Individual titles, lowest first (Luật Thi đua, khen thưởng; seed 003).
TITLES: dict[str, str] = {
    "lao_dong_tien_tien": "Lao động tiên tiến",
    "chien_si_thi_dua_co_so": "Chiến sĩ thi đua cơ sở",
    "chien_si_thi_dua_cap_tinh": "Chiến sĩ thi đua cấp tỉnh/bộ",
    "chien_si_thi_dua_toan_quoc": "Chiến sĩ thi đua toàn quốc",
}

OPEN = "open"
CLOSED = "closed"


def check_measurable(raw: Sequence[Mapping[str, Any]]) -> tuple[Indicator, ...]:
    """Indicators must be specific and measurable (seed 001: "cụ thể, đo lường, minh bạch")."""
    if not raw:
        raise InvalidInput("a campaign needs at least one measurable indicator", field="indicators")
    found: list[Indicator] = []
    for index, item in enumerate(raw):
        name = item.get("name") or f"#{index + 1}"
        missing = []
        if not item.get("unit_of_measure"):
            missing.append("a unit of measure (e.g. 'sáng kiến', 'hoạt động')")
        method = item.get("method")
        if not method:
            missing.append("a method (counted automatically from events, or reported with evidence)")
        elif method == "counted" and not item.get("source"):
            missing.append("the events it is counted from (source)")
        elif method == "reported" and not item.get("evidence_required"):
            missing.append("the evidence a reported value needs (evidence_required)")
        if missing:
            raise InvalidInput(
                f"indicator '{name}' cannot be measured: it has no {' and no '.join(missing)}",
                field=f"indicators.{index}",
            )
        found.append(Indicator.model_validate({**item, "source": item.get("source") if method == "counted" else None}))
    codes = [i.code for i in found]
    duplicated = sorted({c for c in codes if codes.count(c) > 1})
    if duplicated:
        raise InvalidInput(f"indicator codes must be unique: {', '.join(duplicated)}", field="indicators")
    return tuple(found)


def check_targets(indicators: Mapping[str, Indicator], targets: Mapping[str, float], field: str) -> None:
    for code, value in targets.items():
        if code not in indicators:
            raise InvalidInput(f"the campaign has no indicator '{code}'", field=field)
        if value < 0:
            raise InvalidInput(f"the target for '{code}' cannot be negative", field=field)


def check_split_covers(
    indicators: Mapping[str, Indicator],
    parent_path: str,
    parent_target: Mapping[str, float],
    split: Mapping[str, Mapping[str, float]],
) -> None:
    """The children's targets must cover the parent's: together at least it (at most it, for an
    indicator to keep low). The refusal says by how much."""
    for code, wanted in parent_target.items():
        indicator = indicators[code]
        total = sum(child.get(code, 0.0) for child in split.values())
        short = wanted - total if indicator.direction == "at_least" else total - wanted
        if short > 0:
            word = "short of" if indicator.direction == "at_least" else "over"
            raise Conflict(
                f"the split of '{indicator.name}' totals {fmt(total)} {indicator.unit_of_measure}, "
                f"{fmt(short)} {word} {parent_path}'s target of {fmt(wanted)}",
                field="targets",
            )


def achievement(actual: float, target: float, direction: str = "at_least") -> Decimal | None:
    """Percent of the target reached, to two places (2,107 of 1,789 → 117.78). For an indicator to keep
    low, staying within the target is 100% and each excess lowers it."""
    if target <= 0:
        return None if direction == "at_least" else Decimal("100.00")
    if direction == "at_least":
        ratio = Decimal(str(actual)) * 100 / Decimal(str(target))
    else:
        ratio = Decimal(100) if actual <= target else Decimal(str(target)) * 100 / Decimal(str(actual))
    return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def fmt(value: float) -> str:
    """1789.0 → '1,789'; 2.5 → '2.5' (the way a report prints quantities)."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")


def check_titles(titles: Sequence[str], topics: Sequence[Any]) -> None:
    if not titles:
        raise InvalidInput("a registration names at least one target title", field="target_titles")
    unknown = [t for t in titles if t not in TITLES]
    if unknown:
        raise InvalidInput(
            f"unknown titles {', '.join(unknown)}; choose from {', '.join(TITLES)}", field="target_titles"
        )
    # Every Chiến sĩ thi đua title needs an initiative (DESIGN §1, titles and their conditions).
    if any(t.startswith("chien_si") for t in titles) and not any(t.kind == "initiative" for t in topics):
        raise InvalidInput("a Chiến sĩ thi đua title needs at least one initiative among the topics", field="topics")
