"""The Proposal aggregate: one nominee, one award, from filing to decision (and revocation).

Both tracks run the same flow: filed at a level → made public in the level's subtree for the rule set's
working days → objections answered → the council votes → a level with the authority decides (or records
the employer's or the state's decision); a level without it escalates, with its dossier, to its parent,
whose inbox accepts it (its own publicity and vote follow), returns it with reasons, or — after its own
vote — forwards it further up. The proposal's events all carry the proposing unit's path, so every level
above sees every step and the decision flows back down without being addressed downward.
"""

from datetime import date

from contracts.awards import (
    Achievement,
    AwardConferred,
    AwardRevoked,
    AwardRule,
    CouncilVoted,
    Decision,
    Eligibility,
    EligibilityReevaluated,
    Evidence,
    Level,
    Nominee,
    NomineeNotified,
    NoticeOutcome,
    ObjectionAnswered,
    ObjectionRaised,
    Outcome,
    ProposalAccepted,
    ProposalEscalated,
    ProposalFiled,
    ProposalJustified,
    ProposalPublicised,
    ProposalReaddressed,
    ProposalRejected,
    ProposalReturned,
    ProposalWithdrawn,
    RevocationReason,
    RuleSetData,
)
from services.awards.domain.council import CouncilSteps
from services.awards.domain.dossier import PIECE_NAMES, missing_pieces, pieces_present
from services.awards.domain.eligibility import worse
from services.awards.domain.rules import (
    ACCEPTED,
    CONFERRED,
    ESCALATED,
    FILED,
    LEVEL_RANK,
    OPEN,
    PASSED,
    PUBLIC,
    RETURNED,
    Actor,
    allowed_next,
    level_kind,
    level_of,
    require_decider,
    require_preparer,
    status_after,
)
from shared.aggregate import Aggregate
from shared.errors import Conflict, IllegalTransition, InvalidInput, NotFound
from shared.events import Event
from shared.units import UnitRef


def _illegal(status: str, what: str) -> IllegalTransition:
    nxt = allowed_next(status)
    return IllegalTransition(
        f"the proposal is {status}; it cannot {what}; allowed next: {', '.join(nxt) or 'nothing'}",
        code="award.illegal_transition",
        params={"status": status},
        allowed_next=nxt,
    )


class Proposal(CouncilSteps, Aggregate):
    def __init__(self, proposal_id: str) -> None:
        super().__init__(proposal_id)
        self.status = FILED
        self.filed: ProposalFiled | None = None
        self.current: Level | None = None  # the level handling it now
        self.inbox: Level | None = None  # the level it waits at, while escalated
        self.sent_from: Level | None = None  # the level that escalated it last
        self.eligibility: Eligibility | None = None
        self.justification: str | None = None
        self.flagged = False
        self.publicity: dict[str, ProposalPublicised] = {}  # level unit id → window
        self.objections: dict[str, ObjectionRaised] = {}
        self.answered: dict[str, ObjectionAnswered] = {}
        self.votes: dict[str, CouncilVoted] = {}  # level unit id → vote
        self.escalations: list[ProposalEscalated] = []
        self.came_from: dict[str, Level] = {}  # level unit id → the level that sent it there
        self.readdressed: list[ProposalReaddressed] = []  # moved by the platform when the tree changed
        self.conferred: AwardConferred | None = None
        self.revoked: AwardRevoked | None = None

    # -- state -------------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        self.status = status_after(self.status, event)
        match event:
            case ProposalFiled():
                self.filed = event
                self.current = event.level
                self.eligibility = event.eligibility
                self.justification = event.justification
                self.flagged = event.eligibility.outcome != "met"
            case ProposalJustified():
                self.justification = event.justification
            case EligibilityReevaluated():
                self.eligibility = event.eligibility
                self.flagged = event.flagged
            case ProposalPublicised():
                self.publicity[event.level.unit_id] = event
            case ObjectionRaised():
                self.objections[event.objection_id] = event
            case ObjectionAnswered():
                self.answered[event.objection_id] = event
            case CouncilVoted():
                self.votes[event.level.unit_id] = event
            case ProposalEscalated():
                self.escalations.append(event)
                self.sent_from = event.from_level
                self.inbox = event.to_level
                self.came_from[event.to_level.unit_id] = event.from_level
            case ProposalReaddressed():
                self.readdressed.append(event)
                self.current = event.sender
                self.sent_from = event.sender
                self.inbox = event.to_level
                if event.to_level is not None:
                    self.came_from[event.to_level.unit_id] = event.sender
            case ProposalAccepted():
                self.current = event.level
                self.inbox = None
            case ProposalReturned():
                self.current = event.to_level
                self.inbox = None
            case AwardConferred():
                self.conferred = event
            case AwardRevoked():
                self.revoked = event

    @property
    def record(self) -> ProposalFiled:
        if self.filed is None:
            raise NotFound(f"no proposal {self.id}", code="award.proposal_not_found")
        return self.filed

    @property
    def level(self) -> Level:
        assert self.current is not None
        return self.current

    def _require(self, statuses: tuple[str, ...], what: str) -> None:
        if self.filed is None:
            raise NotFound(f"no proposal {self.id}", code="award.proposal_not_found")
        if self.status not in statuses:
            raise _illegal(self.status, what)

    def _rejection(self, actor: Actor, level: Level, reasons: str) -> list[Event]:
        """Not awarded at ``level`` (a decision, an upheld objection, a failed vote), and the nominee told why."""
        rejected = ProposalRejected(
            proposal_id=self.id, unit_id=self.record.unit_id, level=level, reasons=reasons, rejected_by=actor.subject
        )
        return [rejected, self._notice("rejected", reasons)]

    def _notice(self, outcome: NoticeOutcome, message: str) -> NomineeNotified:
        record = self.record
        return NomineeNotified(
            proposal_id=self.id,
            unit_id=record.unit_id,
            nominee_id=record.nominee.id,
            nominee_kind=record.nominee.kind,
            outcome=outcome,
            message=message,
        )

    # -- filing ------------------------------------------------------------------------------------

    @staticmethod
    def file(
        proposal_id: str,
        *,
        unit_id: str,
        level: Level,
        nominee: Nominee,
        rule_set: RuleSetData,
        rule: AwardRule,
        year: int,
        campaign_id: str | None,
        achievement: Achievement,
        summary: str,
        evidence: tuple[Evidence, ...],
        attested: tuple[str, ...],
        eligibility: Eligibility,
        justification: str | None,
        actor: Actor,
    ) -> list[Event]:
        require_preparer(actor, level, "propose awards")
        if nominee.kind != rule.nominee_kind:
            raise InvalidInput(
                f"{rule.code} is for a{'n' if rule.nominee_kind == 'individual' else ''} {rule.nominee_kind}, "
                f"not a{'n' if nominee.kind == 'individual' else ''} {nominee.kind}",
                code="award.wrong_nominee_kind",
                field="nominee",
                params={"award_code": rule.code, "expected": rule.nominee_kind},
            )
        if LEVEL_RANK[rule.authority] < LEVEL_RANK[level.kind]:
            raise InvalidInput(
                f"{rule.code} is decided at {rule.authority} level, below {level.path}; propose it there",
                code="award.below_level",
                field="award_code",
                params={"award_code": rule.code, "authority": rule.authority},
            )
        if rule.category == "thematic" and not campaign_id:
            raise InvalidInput(
                f"{rule.code} is a thematic award of a campaign; name the campaign",
                code="award.campaign_required",
                field="campaign_id",
            )
        codes = {c.code for c in rule.criteria}
        for index, code in enumerate(attested):
            if code not in codes:
                raise InvalidInput(
                    f"{code!r} is not a criterion of {rule.code}",
                    code="award.unknown_criterion",
                    field=f"attested.{index}",
                    params={"criteria": sorted(codes)},
                )
        if eligibility.outcome == "not_met" and not justification:
            failing = [c.code for c in eligibility.criteria if c.outcome == "not_met"]
            raise InvalidInput(
                f"not eligible ({', '.join(failing)} not met): a proposal that is not eligible needs a justification",
                code="award.justification_required",
                field="justification",
                params={"not_met": failing},
            )
        return [
            ProposalFiled(
                proposal_id=proposal_id,
                unit_id=unit_id,
                level=level,
                nominee=nominee,
                award_code=rule.code,
                award_name=rule.name,
                track=rule.track,
                category=rule.category,
                authority=rule.authority,
                year=year,
                campaign_id=campaign_id,
                achievement=achievement,
                summary=summary,
                evidence=evidence,
                attested=attested,
                eligibility=eligibility,
                justification=justification,
                filed_by=actor.subject,
            )
        ]

    def justify(self, actor: Actor, justification: str) -> list[Event]:
        self._require(OPEN, "be justified")
        require_preparer(actor, self.level, "justify proposals")
        return [
            ProposalJustified(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                justification=justification,
                justified_by=actor.subject,
            )
        ]

    def reevaluate(self, eligibility: Eligibility, cause: str) -> list[Event]:
        """Judge again after a fact or a rule set changed; nothing when the judgement is the same."""
        if self.filed is None or self.status not in (*OPEN, CONFERRED):
            return []
        before = self.eligibility
        assert before is not None
        return reevaluation(self.id, self.record.unit_id, before, eligibility, cause)

    # -- escalation --------------------------------------------------------------------------------

    def escalate(
        self,
        actor: Actor,
        rule: AwardRule,
        parent: Level,
        submission_number: str,
        submitted_on: date,
    ) -> list[Event]:
        """Send it (with others of the same submission) to ``parent``; the quota is the ledger's."""
        resend = self.status == RETURNED
        self._require((PASSED, RETURNED), "be sent upward")
        require_decider(actor, self.level, "send proposals upward")
        if LEVEL_RANK[rule.authority] <= LEVEL_RANK[self.level.kind]:
            raise IllegalTransition(
                f"{rule.code} is decided at {self.level.path}; allowed next: decide or reject",
                code="award.decided_here",
                allowed_next=["decide", "reject"],
            )
        if resend and self.level.unit_id not in self.votes:
            raise _illegal(self.status, "be sent upward before its council voted here")
        present = pieces_present(
            submission_number=submission_number,
            summary=self.record.summary,
            eligibility=self.eligibility or self.record.eligibility,
            evidence=self.record.evidence,
            voted_here=self.votes.get(self.level.unit_id) is not None and self.votes[self.level.unit_id].passed,
        )
        missing = missing_pieces(rule, present)
        if missing:
            raise Conflict(
                f"the dossier of proposal {self.id} is missing: {'; '.join(PIECE_NAMES[m] for m in missing)}",
                code="award.dossier_incomplete",
                params={"proposal_id": self.id, "missing": missing},
            )
        return [
            ProposalEscalated(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                from_level=self.level,
                to_level=parent,
                submission_number=submission_number,
                submitted_on=submitted_on,
                dossier=tuple(p for p in rule.dossier if p in present),
                forwarded=self.level.unit_id != self.record.level.unit_id,
                quota_unit_id=self.level.unit_id,
                escalated_by=actor.subject,
            )
        ]

    def waiting_at(self, chain: list[UnitRef]) -> Level:
        """Where an escalated request waits now. ``chain`` is the sending level's ancestors and itself, as
        the directory says today. If the sending unit moved (or the addressed level merged away), the
        addressed level may no longer be above it: the request then waits at the level of the same kind
        above it now, so a move strands nothing."""
        assert self.inbox is not None
        if self.inbox.kind == "national" or any(u.unit_id == self.inbox.unit_id for u in chain):
            return self.inbox
        for unit in chain:
            if level_kind(unit) == self.inbox.kind and unit.kind != "sub_unit":
                return level_of(unit)
        return level_of(chain[0]) if chain else self.inbox

    def accept(self, actor: Actor, chain: list[UnitRef] | None = None) -> list[Event]:
        self._require((ESCALATED,), "be accepted")
        assert self.inbox is not None
        if self.inbox.kind == "national":
            raise _illegal(self.status, "be accepted outside the platform (record the confederation's decision)")
        at = self.waiting_at(chain) if chain is not None else self.inbox
        require_decider(actor, at, "accept proposals")
        return [ProposalAccepted(proposal_id=self.id, unit_id=self.record.unit_id, level=at, accepted_by=actor.subject)]

    def return_down(self, actor: Actor, reasons: str, chain: list[UnitRef] | None = None) -> list[Event]:
        self._require((ESCALATED, ACCEPTED), "be returned")
        if self.status == ESCALATED:
            at = self.waiting_at(chain) if chain is not None else self.inbox
        else:
            at = self.level
        assert at is not None and self.sent_from is not None
        require_decider(actor, at if at.kind != "national" else self.sent_from, "return proposals")
        return [
            ProposalReturned(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                by_level=at,
                to_level=self.sent_from,
                reasons=reasons,
                quota_unit_id=self.sent_from.unit_id,
                returned_by=actor.subject,
            ),
            self._notice("returned", reasons),
        ]

    def position(self) -> Level | None:
        """The level a request waits at (its inbox) or is handled at, when that is above the level that
        first handled it; None otherwise (it is where its unit is, or closed)."""
        if self.filed is None or self.status not in OPEN:
            return None
        at = self.inbox if self.status == ESCALATED else self.current
        if at is None or at.kind == "national" or at.unit_id == self.record.level.unit_id:
            return None
        return at

    def readdress(self, actor: Actor, waiting_at: str, to: Level | None, reason: str) -> list[Event]:
        """The tree changed under it (``shared.upward``): ``waiting_at`` is no longer above its unit. It goes
        to ``to``'s inbox, or back to the level that sent it up when ``to`` is None."""
        at = self.position()
        if at is None or at.unit_id != waiting_at:
            raise Conflict(
                f"proposal {self.id} no longer waits at {waiting_at}",
                code="award.moved_meanwhile",
                params={"waiting_at": waiting_at},
            )
        if to is not None and to.unit_id == at.unit_id:
            raise Conflict(f"proposal {self.id} is already at {to.path}", code="award.moved_meanwhile")
        if self.status == ESCALATED:
            assert self.sent_from is not None
            sender = self.sent_from
        else:
            sender = self.came_from.get(at.unit_id, self.record.level)
        events: list[Event] = [
            ProposalReaddressed(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                from_level=at,
                to_level=to,
                sender=sender,
                reason=reason,
                readdressed_by=actor.subject,
            )
        ]
        if to is None:
            events.append(self._notice("returned", reason))
        return events

    def withdraw(self, actor: Actor, reason: str) -> list[Event]:
        self._require((FILED, PUBLIC, RETURNED), "be withdrawn")
        require_preparer(actor, self.level, "withdraw proposals")
        return [
            ProposalWithdrawn(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                level=self.level,
                reason=reason,
                withdrawn_by=actor.subject,
            )
        ]

    # -- decision ----------------------------------------------------------------------------------

    def deciding_level(self, rule: AwardRule) -> Level:
        """Where the decision is taken or recorded: the level handling it, or (for an award above the
        platform) the level that sent it to the confederation."""
        if (
            self.status == ESCALATED
            and self.inbox is not None
            and self.inbox.kind == "national"
            and rule.authority == "national"
        ):
            assert self.sent_from is not None
            return self.sent_from
        if self.status == PASSED and LEVEL_RANK[rule.authority] == LEVEL_RANK[self.level.kind]:
            return self.level
        raise IllegalTransition(
            f"the proposal is {self.status} at {self.level.path}; {rule.code} is decided at {rule.authority} level; "
            f"allowed next: {', '.join(allowed_next(self.status)) or 'nothing'}",
            code="award.not_decidable_here",
            params={"status": self.status, "authority": rule.authority},
            allowed_next=allowed_next(self.status),
        )

    def decide(
        self,
        actor: Actor,
        rule: AwardRule,
        rule_set: str,
        award_id: str,
        decision: Decision,
        amount_vnd: int,
        base_salary_vnd: int,
    ) -> list[Event]:
        self._require((PASSED, ESCALATED), "be decided")
        level = self.deciding_level(rule)
        require_decider(actor, level, "record award decisions")
        eligibility = self.eligibility or self.record.eligibility
        if eligibility.outcome == "not_met" and not self.justification:
            failing = [c.code for c in eligibility.criteria if c.outcome == "not_met"]
            raise IllegalTransition(
                f"not eligible ({', '.join(failing)} not met) and not justified; allowed next: justify, reject",
                code="award.not_eligible",
                params={"not_met": failing},
                allowed_next=["justify", "reject"],
            )
        record = self.record
        return [
            AwardConferred(
                proposal_id=self.id,
                award_id=award_id,
                unit_id=record.unit_id,
                unit_path=record.nominee.unit_path,
                nominee=record.nominee,
                award_code=rule.code,
                award_name=rule.name,
                form=rule.form,
                is_title=rule.is_title,
                track=rule.track,
                category=rule.category,
                year=record.year,
                campaign_id=record.campaign_id,
                achievement=record.achievement,
                decision=decision,
                rule_set=rule_set,
                amount_vnd=amount_vnd,
                base_salary_vnd=base_salary_vnd,
                multiple=rule.multiple,
                early_raise_months=rule.early_raise_months,
                recorded_by=actor.subject,
            ),
            self._notice("conferred", f"{rule.name} — Quyết định số {decision.number}"),
        ]

    def reject(self, actor: Actor, rule: AwardRule, reasons: str) -> list[Event]:
        self._require((PASSED, ESCALATED), "be rejected")
        level = self.deciding_level(rule)
        require_decider(actor, level, "reject proposals")
        return self._rejection(actor, level, reasons)

    def revoke(self, actor: Actor, reason: RevocationReason, explanation: str, decision: Decision) -> list[Event]:
        self._require((CONFERRED,), "be revoked")
        conferred = self.conferred
        assert conferred is not None
        require_decider(actor, conferred.decision.level, "revoke its decisions")
        if decision.decided_on < conferred.decision.decided_on:
            raise InvalidInput(
                "a revocation cannot predate the decision it annuls",
                code="award.revocation_before_decision",
                field="decided_on",
                params={"decided_on": conferred.decision.decided_on.isoformat()},
            )
        return [
            AwardRevoked(
                proposal_id=self.id,
                award_id=conferred.award_id,
                unit_id=conferred.unit_id,
                unit_path=conferred.unit_path,
                nominee=conferred.nominee,
                award_code=conferred.award_code,
                award_name=conferred.award_name,
                year=conferred.year,
                reason=reason,
                explanation=explanation,
                decision=decision,
                amount_to_recover_vnd=conferred.amount_vnd,
                revoked_by=actor.subject,
            ),
            self._notice("revoked", f"{conferred.award_name} — thu hồi theo Quyết định số {decision.number}"),
        ]


def reevaluation(proposal_id: str, unit_id: str, before: Eligibility, after: Eligibility, cause: str) -> list[Event]:
    """The event of a new judgement (none when it is the same); flagged when not met or worse than before."""
    if before.outcome == after.outcome and before.criteria == after.criteria:
        return []
    return [judged_again(proposal_id, unit_id, before.outcome, after, cause)]


def judged_again(proposal_id: str, unit_id: str, previous: Outcome, after: Eligibility, cause: str) -> Event:
    """A different judgement than before (the caller compared them); flagged when not met or worse."""
    return EligibilityReevaluated(
        proposal_id=proposal_id,
        unit_id=unit_id,
        eligibility=after,
        previous_outcome=previous,
        cause=cause,
        flagged=after.outcome != "met" or worse(previous, after.outcome),
    )
