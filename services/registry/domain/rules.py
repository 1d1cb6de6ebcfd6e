"""Who decides what, at which level, and what each initiative status allows next."""

from dataclasses import dataclass

from shared.errors import Forbidden

# Units as the registry's copy of the directory tree sees them now (kinds are the directory's).
GRASSROOTS, UPPER, CITY, SUB_UNIT = "grassroots_union", "upper_level_union", "city_federation", "sub_unit"

# The recognised scope a level gives (seed 003 §IV.2: each level recognises at its own scope).
SCOPE_OF_KIND: dict[str, str] = {GRASSROOTS: "grassroots", UPPER: "upper_level", CITY: "city"}
SCOPE_RANK: dict[str, int] = {"grassroots": 1, "upper_level": 2, "city": 3, "national": 4}

# The executive committee decides at grassroots level, the standing committee above it.
DECIDING_ROLES: dict[str, tuple[str, ...]] = {
    GRASSROOTS: ("executive_committee", "chair"),
    UPPER: ("standing_committee", "chair"),
    CITY: ("standing_committee", "chair"),
}
# The review council is named officials of the unit; plain members do not score.
COUNCIL_ROLES = (
    "chair",
    "executive_committee",
    "standing_committee",
    "inspection_committee",
    "emulation_officer",
    "incubator_mentor",
)
MENTOR_ROLES = ("incubator_mentor",)

# Initiative statuses, in lifecycle order.
DRAFT, REGISTERED, UNDER_REVIEW, RETURNED = "draft", "registered", "under_review", "returned"
RECOGNISED, REJECTED, APPLIED, ACCEPTED = "recognised", "rejected", "applied", "accepted"
IN_BOOK = (RECOGNISED, APPLIED, ACCEPTED)  # the initiative book holds every recognised initiative

NEXT_STEPS: dict[str, str] = {
    DRAFT: "complete and register it",
    REGISTERED: "score it in council, then recognise, reject or return it",
    UNDER_REVIEW: "recognise, reject or return it",
    RETURNED: "the authors revise and resubmit it",
    RECOGNISED: "report its application, or order its replication",
    REJECTED: "nothing: a rejected initiative is closed (register a new one)",
    APPLIED: "accept it (nghiệm thu), report more applications, propose it upward or order its replication",
    ACCEPTED: "report more applications, propose it upward or order its replication",
}


def allowed_next(status: str) -> str:
    return f"it is {status}; allowed next: {NEXT_STEPS.get(status, 'nothing')}"


@dataclass(frozen=True)
class UnitInfo:
    """A unit from the registry's copy of the directory tree."""

    unit_id: str
    path: str
    kind: str
    name: str = ""
    parent_id: str | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts: the caller's identity, unit (resolved from the tree) and roles."""

    subject: str
    unit: UnitInfo | None
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or "admin" in self.roles

    def is_at(self, unit: UnitInfo) -> bool:
        return self.unit is not None and self.unit.unit_id == unit.unit_id


def reviewing_unit(home: UnitInfo, lineage: list[UnitInfo]) -> UnitInfo:
    """A sub-unit's initiatives are reviewed by its grassroots union; others by their own unit."""
    if home.kind == SUB_UNIT and lineage:
        return lineage[-1]
    return home


def require_decider(actor: Actor, level: UnitInfo, what: str) -> None:
    """Only officials of that level with its deciding role may decide there."""
    roles = DECIDING_ROLES.get(level.kind, ("chair",))
    if not actor.is_at(level) and "admin" not in actor.roles:
        where = actor.unit.path if actor.unit else "an unknown unit"
        raise Forbidden(f"only officials of {level.path} may {what}; you act for {where}")
    if not actor.has(*roles):
        raise Forbidden(f"to {what} at {level.path} you need one of the roles: {', '.join(roles)}")


def scope_of(level: UnitInfo) -> str:
    return SCOPE_OF_KIND.get(level.kind, "grassroots")
