"""Who acts at which level, the proposal statuses and what each allows next."""

from dataclasses import dataclass

from contracts.awards import Level, LevelKind
from shared.errors import Forbidden

# Directory unit kinds → the union level they are (a sub-unit proposes through its grassroots union).
GRASSROOTS, UPPER, CITY, SUB_UNIT = "grassroots_union", "upper_level_union", "city_federation", "sub_unit"
LEVEL_OF_KIND: dict[str, LevelKind] = {GRASSROOTS: "grassroots", UPPER: "upper_level", CITY: "city"}
LEVEL_RANK: dict[str, int] = {"grassroots": 1, "upper_level": 2, "city": 3, "national": 4}
NATIONAL = Level(unit_id="vgcl", path="vgcl", name="Tổng Liên đoàn Lao động Việt Nam", kind="national")

# The executive committee decides at grassroots level, the standing committee above it (seed 003 §IV.2).
DECIDING_ROLES: dict[LevelKind, tuple[str, ...]] = {
    "grassroots": ("executive_committee", "chair"),
    "upper_level": ("standing_committee", "chair"),
    "city": ("standing_committee", "chair"),
    "national": ("standing_committee", "chair"),
}
# Officials who prepare proposals, lists and minutes; the deciding roles decide.
PREPARING_ROLES = ("emulation_officer", "executive_committee", "standing_committee", "chair")
OFFICIAL_ROLES = frozenset({*PREPARING_ROLES, "inspection_committee", "incubator_mentor"})

# Proposal statuses.
FILED, PUBLIC, PASSED, ESCALATED, ACCEPTED, RETURNED = "filed", "public", "passed", "escalated", "accepted", "returned"
CONFERRED, REJECTED, REVOKED, WITHDRAWN = "conferred", "rejected", "revoked", "withdrawn"
OPEN = (FILED, PUBLIC, PASSED, ESCALATED, ACCEPTED, RETURNED)
CLOSED = (CONFERRED, REJECTED, REVOKED, WITHDRAWN)

NEXT_STEPS: dict[str, tuple[str, ...]] = {
    FILED: ("publicise", "vote", "withdraw"),
    ACCEPTED: ("publicise", "vote", "return"),
    PUBLIC: ("object", "answer_objection", "vote", "withdraw"),
    PASSED: ("decide", "escalate", "reject"),
    ESCALATED: ("accept", "return"),
    RETURNED: ("escalate", "withdraw"),
    CONFERRED: ("revoke",),
    REJECTED: (),
    REVOKED: (),
    WITHDRAWN: (),
}


def allowed_next(status: str) -> list[str]:
    return list(NEXT_STEPS.get(status, ()))


@dataclass(frozen=True)
class UnitInfo:
    """A unit from the service's copy of the directory tree."""

    unit_id: str
    path: str
    kind: str
    name: str = ""
    parent_id: str | None = None

    @property
    def level_kind(self) -> LevelKind:
        return LEVEL_OF_KIND.get(self.kind, "grassroots")

    def as_level(self) -> Level:
        return Level(unit_id=self.unit_id, path=self.path, name=self.name, kind=self.level_kind)


@dataclass(frozen=True)
class Actor:
    """Who acts: the caller's identity, unit (from the directory's copy) and current roles."""

    subject: str
    unit: UnitInfo | None
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def has(self, *roles: str) -> bool:
        return bool(self.roles & set(roles)) or self.is_admin

    def is_at(self, unit_id: str) -> bool:
        return self.unit is not None and self.unit.unit_id == unit_id


def require_at_level(actor: Actor, level: Level, roles: tuple[str, ...], what: str) -> None:
    """Only officials of that level with one of ``roles`` may act there (the platform operator too)."""
    if actor.is_admin:
        return
    if not actor.is_at(level.unit_id):
        where = actor.unit.path if actor.unit else "an unknown unit"
        raise Forbidden(
            f"only officials of {level.path} may {what}; you act for {where}",
            code="award.not_your_level",
            params={"level": level.path, "you": where},
        )
    if not actor.has(*roles):
        raise Forbidden(
            f"to {what} at {level.path} you need one of the roles: {', '.join(roles)}",
            code="award.role_required",
            params={"level": level.path, "roles": list(roles)},
        )


def require_decider(actor: Actor, level: Level, what: str) -> None:
    require_at_level(actor, level, DECIDING_ROLES[level.kind], what)


def require_preparer(actor: Actor, level: Level, what: str) -> None:
    require_at_level(actor, level, PREPARING_ROLES, what)


def handling_level(home: UnitInfo, lineage: list[UnitInfo]) -> UnitInfo:
    """A sub-unit's proposals are handled by its grassroots union; others by their own unit.

    ``lineage`` is the home unit's ancestors, outermost first.
    """
    if home.kind == SUB_UNIT:
        for unit in reversed(lineage):
            if unit.kind != SUB_UNIT:
                return unit
    return home


def authority_unit(chain: list[UnitInfo], authority: LevelKind) -> Level:
    """The level that decides an award of ``authority``: the chain's unit of that kind (``chain`` is
    ancestors then the handling unit, outermost first), or the confederation above the platform."""
    if authority == "national":
        return NATIONAL
    for unit in chain:
        if unit.level_kind == authority and unit.kind != SUB_UNIT:
            return unit.as_level()
    # A chain without that kind (e.g. a grassroots union directly under the city): the nearest above.
    rank = LEVEL_RANK[authority]
    above = [u for u in chain if u.kind != SUB_UNIT and LEVEL_RANK[u.level_kind] >= rank]
    return (above[-1] if above else chain[0]).as_level()


def level_kind(unit: object) -> LevelKind:
    """The union level a directory unit is (``UnitRef`` or ``UnitInfo``)."""
    return LEVEL_OF_KIND.get(getattr(unit, "kind", ""), "grassroots")


def level_of(unit: object) -> Level:
    return Level(
        unit_id=unit.unit_id,  # type: ignore[attr-defined]
        path=unit.path,  # type: ignore[attr-defined]
        name=getattr(unit, "name", ""),
        kind=level_kind(unit),
    )


def level_key(rule_decider: str, authority: Level) -> str:
    """Where "the same level" is, for one achievement, one reward: who decides, at which level."""
    return f"{rule_decider}:{authority.kind}:{authority.unit_id}"
