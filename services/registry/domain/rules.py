"""Who decides what, at which level, what each initiative status allows next, and the status an event
leaves an initiative in (``status_after``: the aggregate, the records and every level use this one)."""

from contracts.directory import CITY, GRASSROOTS, SUB_UNIT, UPPER
from contracts.registry import (
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeDrafted,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
    InitiativeScored,
)
from shared.errors import Forbidden
from shared.events import Event
from shared.identity import Caller
from shared.units import UnitRef

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


def status_after(status: str, event: Event) -> str:
    """The initiative's status once ``event`` happened to it in ``status``."""
    match event:
        case InitiativeDrafted():
            return DRAFT
        case InitiativeRegistered() | InitiativeRevised():
            return REGISTERED
        case InitiativeScored():
            return UNDER_REVIEW
        case InitiativeRecognised():  # recognised again at a higher scope: the status stays
            return RECOGNISED if status in (REGISTERED, UNDER_REVIEW) else status
        case InitiativeRejected():
            return REJECTED
        case InitiativeReturned():
            return RETURNED
        case InitiativeApplied():  # applied again: the status stays
            return APPLIED if status == RECOGNISED else status
        case InitiativeAccepted():
            return ACCEPTED
    return status


def reviewing_unit(home: UnitRef, lineage: list[UnitRef]) -> UnitRef:
    """A sub-unit's initiatives are reviewed by its grassroots union; others by their own unit."""
    if home.kind == SUB_UNIT and lineage:
        return lineage[-1]
    return home


def require_decider(actor: Caller, level: UnitRef, what: str) -> None:
    """Only officials of that level with its deciding role may decide there."""
    roles = DECIDING_ROLES.get(level.kind, ("chair",))
    if not actor.is_at(level) and not actor.is_admin:
        where = actor.unit_path or "no unit"
        raise Forbidden(f"only officials of {level.path} may {what}; you act for {where}")
    if not actor.has(*roles):
        raise Forbidden(f"to {what} at {level.path} you need one of the roles: {', '.join(roles)}")


def scope_of(level: UnitRef) -> str:
    return SCOPE_OF_KIND.get(level.kind, "grassroots")
