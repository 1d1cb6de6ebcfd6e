"""Who acts at which level, the proposal statuses and what each allows next."""

from contracts.awards import (
    AwardConferred,
    AwardRevoked,
    CouncilVoted,
    Level,
    LevelKind,
    ProposalAccepted,
    ProposalEscalated,
    ProposalFiled,
    ProposalPublicised,
    ProposalReaddressed,
    ProposalRejected,
    ProposalReturned,
    ProposalWithdrawn,
)
from shared.errors import Forbidden
from shared.events import Event
from shared.identity import Caller
from shared.units import UnitRef

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


def status_after(status: str, event: Event) -> str:
    """The one place a proposal's status follows its events (the aggregate, the records and the level
    projection all use it)."""
    match event:
        case ProposalFiled():
            return FILED
        case ProposalPublicised():
            return PUBLIC
        case CouncilVoted(passed=True):
            return PASSED
        case ProposalEscalated():
            return ESCALATED
        case ProposalAccepted():
            return ACCEPTED
        case ProposalReturned() | ProposalReaddressed(to_level=None):
            return RETURNED
        case ProposalReaddressed():
            return ESCALATED  # in the inbox of the level of the same rank above its unit now
        case ProposalWithdrawn():
            return WITHDRAWN
        case ProposalRejected():
            return REJECTED
        case AwardConferred():
            return CONFERRED
        case AwardRevoked():
            return REVOKED
    return status


def allowed_next(status: str) -> list[str]:
    return list(NEXT_STEPS.get(status, ()))


Actor = Caller  # who acts: the caller as the directory knows them now (shared.identity)


def require_at_level(actor: Actor, level: Level, roles: tuple[str, ...], what: str) -> None:
    """Only officials of that level with one of ``roles`` may act there (the platform operator too)."""
    if actor.is_admin:
        return
    if actor.unit is None or actor.unit.unit_id != level.unit_id:
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


def handling_level(home: UnitRef, lineage: list[UnitRef]) -> UnitRef:
    """A sub-unit's proposals are handled by its grassroots union; others by their own unit.

    ``lineage`` is the home unit's ancestors, outermost first.
    """
    if home.kind == SUB_UNIT:
        for unit in reversed(lineage):
            if unit.kind != SUB_UNIT:
                return unit
    return home


def authority_unit(chain: list[UnitRef], authority: LevelKind) -> Level:
    """The level that decides an award of ``authority``: the chain's unit of that kind (``chain`` is
    ancestors then the handling unit, outermost first), or the confederation above the platform."""
    if authority == "national":
        return NATIONAL
    for unit in chain:
        if level_kind(unit) == authority and unit.kind != SUB_UNIT:
            return level_of(unit)
    # A chain without that kind (e.g. a grassroots union directly under the city): the nearest above.
    rank = LEVEL_RANK[authority]
    above = [u for u in chain if u.kind != SUB_UNIT and LEVEL_RANK[level_kind(u)] >= rank]
    return level_of(above[-1] if above else chain[0])


def level_kind(unit: UnitRef) -> LevelKind:
    """The union level a directory unit is."""
    return LEVEL_OF_KIND.get(unit.kind, "grassroots")


def level_of(unit: UnitRef) -> Level:
    return Level(unit_id=unit.unit_id, path=unit.path, name=unit.name, kind=level_kind(unit))


def level_key(rule_decider: str, authority: Level) -> str:
    """Where "the same level" is, for one achievement, one reward: who decides, at which level."""
    return f"{rule_decider}:{authority.kind}:{authority.unit_id}"
