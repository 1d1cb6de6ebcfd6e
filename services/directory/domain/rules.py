"""Rules of the union hierarchy: which kind sits under which, who may do what, how paths are formed."""

from collections.abc import Collection
from typing import Literal

from contracts.directory import KINDS, Kind
from shared.errors import Conflict, IllegalTransition
from shared.subjects import in_subtree
from shared.units import ACTIVE, UnitRef

__all__ = ["KINDS", "Kind"]  # commands import the kinds from here

# Each kind sits directly under the kind above it; a city federation is a root.
PARENT_KIND: dict[str, str | None] = {
    "city_federation": None,
    "upper_level_union": "city_federation",
    "grassroots_union": "upper_level_union",
    "sub_unit": "grassroots_union",
}

KIND_LABELS: dict[str, str] = {
    "city_federation": "Liên đoàn Lao động Thành phố",
    "upper_level_union": "Công đoàn cấp trên trực tiếp cơ sở",
    "grassroots_union": "Công đoàn cơ sở",
    "sub_unit": "Công đoàn bộ phận / Tổ công đoàn",
}

# Roles an official can be given in a unit (shared.auth.ROLES less the implicit member and the operator).
OfficialRole = Literal[
    "chair",
    "executive_committee",
    "standing_committee",
    "inspection_committee",
    "emulation_officer",
    "incubator_mentor",
]

# Who may change the tree and assign roles; who may enrol members.
MANAGER_ROLES: tuple[str, ...] = ("chair", "standing_committee", "executive_committee")
ENROLLER_ROLES: tuple[str, ...] = (*MANAGER_ROLES, "emulation_officer")


def child_path(parent_path: str | None, code: str) -> str:
    return code if parent_path is None else f"{parent_path}.{code}"


def rebase(path: str, old_prefix: str, new_prefix: str) -> str:
    """``hn.ntl.fecon.kt`` with ``hn.ntl.fecon`` → ``hn.dd.fecon`` gives ``hn.dd.fecon.kt``."""
    if not in_subtree(path, old_prefix):
        raise ValueError(f"{path} is not under {old_prefix}")
    return new_prefix + path[len(old_prefix) :]


def check_active(unit: UnitRef, role: str = "unit") -> None:
    if unit.status != ACTIVE:
        raise IllegalTransition(
            f"{role} {unit.path} was merged into another unit and no longer changes",
            field=f"{role}_id" if role != "unit" else None,
        )


def check_kind_under(kind: str, parent: UnitRef | None) -> None:
    wanted = PARENT_KIND[kind]
    if parent is None:
        if wanted is not None:
            raise Conflict(f"a {kind} must have a parent of kind {wanted}", field="parent_id")
        return
    if parent.kind != wanted:
        allowed = f"under a {wanted}" if wanted else "only at the root"
        raise Conflict(
            f"a {kind} cannot sit under {parent.path} (a {parent.kind}); it belongs {allowed}",
            field="parent_id",
        )


def check_code_free(code: str, sibling_codes: Collection[str], parent_path: str | None) -> None:
    if code in sibling_codes:
        where = f"under {parent_path}" if parent_path else "among the root units"
        raise Conflict(f"an active unit with code {code!r} already exists {where}", field="code")
