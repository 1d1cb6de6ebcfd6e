"""The Initiative aggregate: registration, council review, decision, application, acceptance,
escalation one level at a time, and replication.

Where the initiative's unit sits (its ancestors, the reviewing unit) comes from the registry's copy of
the directory as ``UnitRef``: the chain is ``[*ancestors, home]``, outermost first. The actor is the
``Caller``: the person, their unit and roles as the directory records them now.
"""

from datetime import date

from contracts.registry import (
    Author,
    EscalationForwarded,
    EscalationReaddressed,
    EscalationRequested,
    EscalationReturned,
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeDrafted,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
    InitiativeScored,
    PossibleDuplicate,
    Registration,
    ReplicationApplied,
    ReplicationOrdered,
)
from services.registry.domain.rules import (
    ACCEPTED,
    APPLIED,
    COUNCIL_ROLES,
    DRAFT,
    IN_BOOK,
    REGISTERED,
    RETURNED,
    SCOPE_RANK,
    UNDER_REVIEW,
    allowed_next,
    require_decider,
    scope_of,
    status_after,
)
from shared.aggregate import Aggregate
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from shared.events import Event
from shared.identity import Caller
from shared.subjects import in_subtree
from shared.units import UnitRef

REVIEWABLE = (REGISTERED, UNDER_REVIEW)


class Initiative(Aggregate):
    def __init__(self, initiative_id: str) -> None:
        super().__init__(initiative_id)
        self.unit_id = ""
        self.status = DRAFT
        self.title = ""
        self.authors: tuple[Author, ...] = ()
        self.registration: Registration | None = None
        self.scores: dict[str, InitiativeScored] = {}
        self.scope: str | None = None
        self.top_level_id: str | None = None  # the highest level that recognised it
        self.pending_at: str | None = None  # the level an escalation request waits at
        self.benefit_vnd = 0
        self.replications: list[ReplicationOrdered] = []
        self.replicated_in: set[str] = set()

    # -- registration ----------------------------------------------------------------------------

    @staticmethod
    def register(
        initiative_id: str,
        home: UnitRef,
        registration: Registration,
        actor: Caller,
        duplicates: tuple[PossibleDuplicate, ...] = (),
        registered_on: date | None = None,
    ) -> list[Event]:
        """``registered_on``: the day of a registration made on paper (None: today)."""
        return [
            InitiativeRegistered(
                initiative_id=initiative_id,
                unit_id=home.unit_id,
                campaign_id=registration.campaign_id,
                registration=registration,
                registered_by=actor.subject,
                possible_duplicates=duplicates,
                registered_on=registered_on,
            )
        ]

    def complete(
        self,
        registration: Registration,
        actor: Caller,
        duplicates: tuple[PossibleDuplicate, ...] = (),
        registered_on: date | None = None,
    ) -> list[Event]:
        """Register a draft made from an idea."""
        if self.status != DRAFT:
            raise IllegalTransition(f"the initiative is not a draft: {allowed_next(self.status)}")
        home = UnitRef(unit_id=self.unit_id, path="", kind="")
        return Initiative.register(self.id, home, registration, actor, duplicates, registered_on)

    def revise(
        self, registration: Registration, actor: Caller, duplicates: tuple[PossibleDuplicate, ...] = ()
    ) -> list[Event]:
        if self.status != RETURNED:
            raise IllegalTransition(f"only a returned initiative is revised: {allowed_next(self.status)}")
        return [
            InitiativeRevised(
                initiative_id=self.id,
                unit_id=self.unit_id,
                registration=registration,
                revised_by=actor.subject,
                possible_duplicates=duplicates,
            )
        ]

    # -- review at the unit ----------------------------------------------------------------------

    def score(
        self, actor: Caller, reviewer: UnitRef, scorer_name: str, scores: dict[str, int], comment: str
    ) -> list[Event]:
        self._require_status(REVIEWABLE, "be scored")
        at_unit = actor.is_at(reviewer) or actor.is_admin
        if not at_unit or not actor.has(*COUNCIL_ROLES):
            raise Forbidden(f"only named officials of {reviewer.path} sit on its review council")
        if actor.subject in self.scores:
            raise Conflict(f"{actor.subject} has already scored this initiative")
        return [
            InitiativeScored(
                initiative_id=self.id,
                unit_id=self.unit_id,
                scorer=actor.subject,
                scorer_name=scorer_name,
                comment=comment,
                **scores,
            )
        ]

    def recognise(self, actor: Caller, chain: list[UnitRef], reviewer: UnitRef, number: str, on: date) -> list[Event]:
        """At the reviewing unit after council review, or at the level an escalation waits at."""
        if self.pending_at is not None:
            level = _level(chain, self.pending_at)
            require_decider(actor, level, "decide this escalation")
        else:
            self._require_status(REVIEWABLE, "be recognised")
            require_decider(actor, reviewer, "recognise initiatives")
            if not self.scores:
                raise IllegalTransition("the council has not scored it yet; allowed next: score it in council")
            level = reviewer
        scope = scope_of(level)
        return [
            InitiativeRecognised(
                initiative_id=self.id,
                unit_id=self.unit_id,
                scope=scope,  # type: ignore[arg-type]
                by_unit_id=level.unit_id,
                by_unit_path=level.path,
                decision_number=number,
                decision_date=on,
                decided_by=actor.subject,
            )
        ]

    def reject(self, actor: Caller, reviewer: UnitRef, reasons: str) -> list[Event]:
        self._require_status(REVIEWABLE, "be rejected")
        require_decider(actor, reviewer, "reject initiatives")
        return [
            InitiativeRejected(
                initiative_id=self.id,
                unit_id=self.unit_id,
                by_unit_path=reviewer.path,
                reasons=reasons,
                decided_by=actor.subject,
            )
        ]

    def return_for_revision(self, actor: Caller, reviewer: UnitRef, requests: str) -> list[Event]:
        self._require_status(REVIEWABLE, "be returned")
        require_decider(actor, reviewer, "return initiatives")
        return [
            InitiativeReturned(
                initiative_id=self.id,
                unit_id=self.unit_id,
                by_unit_path=reviewer.path,
                requests=requests,
                decided_by=actor.subject,
            )
        ]

    # -- application and acceptance --------------------------------------------------------------

    def report_application(self, actor: Caller, where: str, since: date, evidence: str, benefit: int) -> list[Event]:
        self._require_status(IN_BOOK, "be applied")
        return [
            InitiativeApplied(
                initiative_id=self.id,
                unit_id=self.unit_id,
                where=where,
                since=since,
                evidence=evidence,
                actual_benefit_vnd=benefit,
                reported_by=actor.subject,
            )
        ]

    def accept(self, actor: Caller, reviewer: UnitRef, benefit: int, note: str) -> list[Event]:
        if self.status != APPLIED:
            raise IllegalTransition(f"acceptance needs a reported application: {allowed_next(self.status)}")
        require_decider(actor, reviewer, "accept initiatives")
        return [
            InitiativeAccepted(
                initiative_id=self.id,
                unit_id=self.unit_id,
                by_unit_path=reviewer.path,
                actual_benefit_vnd=benefit,
                note=note,
                decided_by=actor.subject,
            )
        ]

    # -- escalation upward, one level at a time -----------------------------------------------------

    def request_escalation(self, actor: Caller, chain: list[UnitRef], summary: str) -> list[Event]:
        if self.status not in (APPLIED, ACCEPTED):
            raise IllegalTransition(
                f"only a recognised and applied initiative is proposed upward: {allowed_next(self.status)}"
            )
        if self.pending_at is not None:
            raise IllegalTransition("a request is already waiting upward; allowed next: wait for its decision")
        assert self.top_level_id is not None
        level = _level(chain, self.top_level_id)
        require_decider(actor, level, "propose it upward")
        parent = _parent(chain, level)
        return [
            EscalationRequested(
                initiative_id=self.id,
                unit_id=self.unit_id,
                from_unit_id=level.unit_id,
                from_path=level.path,
                to_unit_id=parent.unit_id,
                to_path=parent.path,
                summary=summary,
                requested_by=actor.subject,
            )
        ]

    def forward(self, actor: Caller, chain: list[UnitRef], note: str) -> list[Event]:
        level = self._pending_level(chain)
        require_decider(actor, level, "forward this request")
        parent = _parent(chain, level)
        return [
            EscalationForwarded(
                initiative_id=self.id,
                unit_id=self.unit_id,
                from_unit_id=level.unit_id,
                from_path=level.path,
                to_unit_id=parent.unit_id,
                to_path=parent.path,
                note=note,
                decided_by=actor.subject,
            )
        ]

    def return_escalation(self, actor: Caller, chain: list[UnitRef], reasons: str) -> list[Event]:
        level = self._pending_level(chain)
        require_decider(actor, level, "return this request")
        return [
            EscalationReturned(
                initiative_id=self.id,
                unit_id=self.unit_id,
                by_unit_id=level.unit_id,
                by_path=level.path,
                reasons=reasons,
                decided_by=actor.subject,
            )
        ]

    def readdress(self, to: UnitRef | None, reason: str) -> list[Event]:
        """The level the request waits at is no longer above the unit: it goes to ``to`` (the unit of the
        same rank above it now), or back to its sender if there is none. The platform decides this, not
        a person: it follows from the directory (``shared.upward``)."""
        if self.pending_at is None:
            raise IllegalTransition("no escalation request is waiting; nothing to re-address")
        if to is not None and to.unit_id == self.pending_at:
            raise Conflict(f"the request already waits at {to.path}")
        return [
            EscalationReaddressed(
                initiative_id=self.id,
                unit_id=self.unit_id,
                from_unit_id=self.pending_at,
                to_unit_id=to.unit_id if to else None,
                to_path=to.path if to else None,
                reason=reason,
            )
        ]

    # -- replication -----------------------------------------------------------------------------

    def order_replication(
        self, actor: Caller, chain: list[UnitRef], home: UnitRef, targets: list[str], note: str
    ) -> list[Event]:
        self._require_status(IN_BOOK, "be replicated")
        assert self.scope is not None and self.registration is not None and self.top_level_id is not None
        # The caller's own level; the platform admin (in no unit) orders at the level that recognised it.
        level = actor.unit if actor.unit is not None else _level(chain, self.top_level_id)
        if level.unit_id not in {unit.unit_id for unit in chain}:
            raise Forbidden(f"only {home.path} and the levels above it order its replication")
        if SCOPE_RANK[self.scope] < SCOPE_RANK[scope_of(level)]:
            raise Forbidden(
                f"it is recognised at {self.scope} scope; {level.path} replicates only what is recognised "
                "at its own scope or above (propose it upward first)"
            )
        require_decider(actor, level, "order replication")
        outside = [path for path in targets if not in_subtree(path, level.path)]
        if outside:
            raise InvalidInput(f"outside your subtree {level.path}: {', '.join(outside)}", field="target_paths")
        return [
            ReplicationOrdered(
                initiative_id=self.id,
                unit_id=self.unit_id,
                by_unit_id=level.unit_id,
                by_unit_path=level.path,
                target_paths=tuple(sorted(set(targets))),
                origin_unit_path=home.path,
                title=self.title,
                pillar=self.registration.pillar,
                scope=self.scope,  # type: ignore[arg-type]
                benefit_vnd=self.benefit_vnd,
                note=note,
                ordered_by=actor.subject,
            )
        ]

    def report_replication(self, actor: Caller, unit: UnitRef, evidence: str) -> list[Event]:
        if not any(_reaches(order, unit.path) for order in self.replications):
            raise IllegalTransition(f"no replication order of this initiative reaches {unit.path}")
        if unit.unit_id in self.replicated_in:
            raise Conflict(f"{unit.path} has already reported applying it")
        return [
            ReplicationApplied(
                initiative_id=self.id,
                unit_id=self.unit_id,
                applying_unit_id=unit.unit_id,
                applying_unit_path=unit.path,
                evidence=evidence,
                reported_by=actor.subject,
            )
        ]

    # -- guards ----------------------------------------------------------------------------------

    def _require_status(self, allowed: tuple[str, ...], what: str) -> None:
        if self.status not in allowed:
            raise IllegalTransition(f"a {self.status} initiative cannot {what}: {allowed_next(self.status)}")

    def _pending_level(self, chain: list[UnitRef]) -> UnitRef:
        if self.pending_at is None:
            raise IllegalTransition("no escalation request is waiting; allowed next: propose it upward first")
        return _level(chain, self.pending_at)

    # -- state -----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.status = status_after(self.status, event)
        match event:
            case InitiativeDrafted():
                self.unit_id, self.title, self.authors = event.unit_id, event.title, event.authors
            case InitiativeRegistered() | InitiativeRevised():
                reg = event.registration
                self.unit_id, self.registration = event.unit_id, reg
                self.title, self.authors, self.benefit_vnd = reg.title, reg.authors, reg.estimated_benefit_vnd
                self.scores = {}
            case InitiativeScored():
                self.scores[event.scorer] = event
            case InitiativeRecognised():
                self.scope, self.top_level_id, self.pending_at = event.scope, event.by_unit_id, None
            case InitiativeRejected() | InitiativeReturned():
                pass
            case InitiativeApplied() | InitiativeAccepted():
                self.benefit_vnd = event.actual_benefit_vnd
            case EscalationRequested() | EscalationForwarded():
                self.pending_at = event.to_unit_id
            case EscalationReturned():
                self.pending_at = None
            case EscalationReaddressed():
                self.pending_at = event.to_unit_id
            case ReplicationOrdered():
                self.replications.append(event)
            case ReplicationApplied():
                self.replicated_in.add(event.applying_unit_id)
            case _:
                raise TypeError(f"an initiative cannot apply {type(event).__name__}")


def _level(chain: list[UnitRef], unit_id: str) -> UnitRef:
    for unit in chain:
        if unit.unit_id == unit_id:
            return unit
    raise Conflict("the deciding level is no longer above this initiative's unit (the tree changed)")


def _parent(chain: list[UnitRef], level: UnitRef) -> UnitRef:
    index = chain.index(level)
    if index == 0:
        raise IllegalTransition(
            f"{level.path} is the highest level on this platform; national recognition is outside it"
        )
    return chain[index - 1]


def _reaches(order: ReplicationOrdered, path: str) -> bool:
    if not in_subtree(path, order.by_unit_path):
        return False
    return not order.target_paths or any(in_subtree(path, target) for target in order.target_paths)
