"""The council's part of a proposal at a level: the list made public for the rule set's working days, the
objections raised in the level's subtree and answered, then the council's vote (quorum and threshold from
the rule set). A mixin of ``Proposal``: the state it reads is the proposal's own.
"""

from datetime import date
from typing import TYPE_CHECKING

from contracts.awards import (
    AwardRule,
    CouncilVoted,
    Level,
    Meeting,
    ObjectionAnswered,
    ObjectionRaised,
    ProposalFiled,
    ProposalPublicised,
)
from services.awards.domain.calendar import WorkingCalendar
from services.awards.domain.rules import ACCEPTED, FILED, PUBLIC, Actor, require_decider, require_preparer
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput, NotFound
from shared.events import Event
from shared.subjects import in_subtree


class CouncilSteps:
    """Publicity, objections and the vote of the level handling the proposal."""

    id: str
    publicity: dict[str, ProposalPublicised]  # level unit id → window
    objections: dict[str, ObjectionRaised]
    answered: dict[str, ObjectionAnswered]
    votes: dict[str, CouncilVoted]  # level unit id → vote

    if TYPE_CHECKING:  # the proposal's own (services/awards/domain/proposal.py)

        @property
        def level(self) -> Level: ...

        @property
        def record(self) -> ProposalFiled: ...

        def _require(self, statuses: tuple[str, ...], what: str) -> None: ...

        def _rejection(self, actor: Actor, level: Level, reasons: str) -> list[Event]: ...

    def publicise(
        self, actor: Actor, rule: AwardRule, rule_set: str, calendar: WorkingCalendar, opens_on: date
    ) -> list[Event]:
        self._require((FILED, ACCEPTED), "be made public")
        require_preparer(actor, self.level, "publish its list")
        days = rule.publicity_working_days
        return [
            ProposalPublicised(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                level=self.level,
                opens_on=opens_on,
                closes_on=calendar.window(opens_on, days),
                working_days=days,
                rule_set=rule_set,
                publicised_by=actor.subject,
            )
        ]

    def object(self, actor: Actor, objection_id: str, text: str) -> list[Event]:
        self._require((PUBLIC,), "take objections")
        where = actor.unit.path if actor.unit else ""
        if not actor.is_admin and not in_subtree(where, self.level.path):
            raise Forbidden(
                f"the list is public in {self.level.path}'s subtree; you act for {where or 'an unknown unit'}",
                code="award.outside_publicity",
                params={"level": self.level.path},
            )
        return [
            ObjectionRaised(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                objection_id=objection_id,
                level_path=self.level.path,
                text=text,
                raised_by=actor.subject,
            )
        ]

    def answer(self, actor: Actor, objection_id: str, answer: str, upheld: bool) -> list[Event]:
        self._require((PUBLIC,), "answer objections")
        require_decider(actor, self.level, "answer objections")
        if objection_id not in self.objections:
            raise NotFound(f"no objection {objection_id} on this proposal", code="award.objection_not_found")
        if objection_id in self.answered:
            raise Conflict(f"objection {objection_id} is already answered", code="award.objection_answered")
        events: list[Event] = [
            ObjectionAnswered(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                objection_id=objection_id,
                answer=answer,
                upheld=upheld,
                answered_by=actor.subject,
            )
        ]
        if upheld:
            reasons = f"objection upheld: {answer}"
            events += self._rejection(actor, self.level, reasons)
        return events

    def vote(
        self,
        actor: Actor,
        rule: AwardRule,
        rule_set: str,
        meeting: Meeting,
        votes_for: int,
        votes_against: int,
        votes_abstain: int,
        today: date,
    ) -> list[Event]:
        self._require((FILED, ACCEPTED, PUBLIC), "be voted on")
        require_preparer(actor, self.level, "record its council's vote")
        if self.level.unit_id in self.votes:
            raise Conflict(f"the council of {self.level.path} has already voted", code="award.already_voted")
        window = self.publicity.get(self.level.unit_id)
        if rule.publicity_working_days > 0 and window is None:
            raise IllegalTransition(
                f"{rule.code} is made public for {rule.publicity_working_days} working days before the vote; "
                "allowed next: publicise",
                code="award.publicity_required",
                params={"working_days": rule.publicity_working_days},
                allowed_next=["publicise"],
            )
        if window is not None and meeting.held_on <= window.closes_on:
            raise IllegalTransition(
                f"the list is public until {window.closes_on.isoformat()}; the council meets after that",
                code="award.publicity_not_over",
                field="meeting.held_on",
                params={"closes_on": window.closes_on.isoformat()},
            )
        open_objections = [o for o in self.objections if o not in self.answered]
        if open_objections:
            raise IllegalTransition(
                f"{len(open_objections)} objection(s) are not answered; answer them before the vote",
                code="award.objections_open",
                params={"objection_ids": open_objections},
                allowed_next=["answer_objection"],
            )
        _check_counts(meeting, votes_for, votes_against, votes_abstain, today)
        rule_vote = rule.vote
        if meeting.members_present < rule_vote.quorum_share * meeting.members_total:
            raise InvalidInput(
                f"no quorum: {meeting.members_present} of {meeting.members_total} present, "
                f"{rule_vote.quorum_share:.0%} needed",
                code="award.no_quorum",
                field="meeting.members_present",
                params={"needed_share": rule_vote.quorum_share},
            )
        base = meeting.members_total if rule_vote.of == "all_members" else meeting.members_present
        passed = votes_for >= rule_vote.threshold_share * base
        events: list[Event] = [
            CouncilVoted(
                proposal_id=self.id,
                unit_id=self.record.unit_id,
                level=self.level,
                meeting=meeting,
                votes_for=votes_for,
                votes_against=votes_against,
                votes_abstain=votes_abstain,
                quorum_share=rule_vote.quorum_share,
                threshold_share=rule_vote.threshold_share,
                threshold_of=rule_vote.of,
                passed=passed,
                rule_set=rule_set,
                recorded_by=actor.subject,
            )
        ]
        if not passed:
            reasons = f"{votes_for} of {base} votes for; {rule_vote.threshold_share:.0%} needed"
            events += self._rejection(actor, self.level, reasons)
        return events


def _check_counts(meeting: Meeting, votes_for: int, votes_against: int, votes_abstain: int, today: date) -> None:
    if meeting.members_present > meeting.members_total:
        raise InvalidInput(
            "more members present than the council has",
            code="award.present_over_total",
            field="meeting.members_present",
        )
    if votes_for + votes_against + votes_abstain > meeting.members_present:
        raise InvalidInput(
            f"{votes_for + votes_against + votes_abstain} votes from {meeting.members_present} members present",
            code="award.votes_over_present",
            field="votes_for",
        )
    if meeting.held_on > today:
        raise InvalidInput(
            "a council vote is recorded after the meeting, not before",
            code="award.meeting_in_future",
            field="meeting.held_on",
        )
