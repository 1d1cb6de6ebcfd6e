"""The Idea aggregate: a member's free text that an incubator mentor claims, comments and converts."""

from contracts.registry import (
    Author,
    IdeaClaimed,
    IdeaCommented,
    IdeaConverted,
    IdeaSubmitted,
    InitiativeDrafted,
)
from services.registry.domain.rules import MENTOR_ROLES
from shared.aggregate import Aggregate
from shared.errors import Forbidden, IllegalTransition
from shared.events import Event
from shared.identity import Caller
from shared.units import UnitRef

SUBMITTED, CLAIMED, CONVERTED = "submitted", "claimed", "converted"


class Idea(Aggregate):
    def __init__(self, idea_id: str) -> None:
        super().__init__(idea_id)
        self.unit_id = ""
        self.text = ""
        self.status = SUBMITTED
        self.mentor: str | None = None
        self.comments: list[tuple[str, str]] = []

    @staticmethod
    def submit(idea_id: str, unit: UnitRef, text: str, actor: Caller) -> list[Event]:
        return [IdeaSubmitted(idea_id=idea_id, unit_id=unit.unit_id, text=text, submitted_by=actor.subject)]

    def claim(self, actor: Caller) -> list[Event]:
        _require_mentor(actor)
        if self.status != SUBMITTED:
            raise IllegalTransition(f"the idea is {self.status} (mentor {self.mentor}); it cannot be claimed again")
        return [IdeaClaimed(idea_id=self.id, unit_id=self.unit_id, mentor=actor.subject)]

    def comment(self, actor: Caller, comment: str) -> list[Event]:
        self._require_claimed_by(actor, "comment on")
        return [IdeaCommented(idea_id=self.id, unit_id=self.unit_id, by=actor.subject, comment=comment)]

    def convert(self, actor: Caller, initiative_id: str, title: str, authors: tuple[Author, ...]) -> list[Event]:
        """The idea becomes an initiative draft: two events, one for each stream."""
        self._require_claimed_by(actor, "convert")
        return [
            IdeaConverted(idea_id=self.id, unit_id=self.unit_id, initiative_id=initiative_id, by=actor.subject),
            InitiativeDrafted(
                initiative_id=initiative_id,
                unit_id=self.unit_id,
                idea_id=self.id,
                title=title,
                authors=authors,
                drafted_by=actor.subject,
            ),
        ]

    def _require_claimed_by(self, actor: Caller, what: str) -> None:
        _require_mentor(actor)
        if self.status == SUBMITTED:
            raise IllegalTransition(f"the idea is not claimed yet; allowed next: claim it, then {what} it")
        if self.status == CONVERTED:
            raise IllegalTransition("the idea was already converted into an initiative; work on the initiative")
        if self.mentor != actor.subject and "admin" not in actor.roles:
            raise Forbidden(f"the idea is claimed by the mentor {self.mentor}; only they may {what} it")

    def apply(self, event: Event) -> None:
        match event:
            case IdeaSubmitted():
                self.unit_id, self.text = event.unit_id, event.text
            case IdeaClaimed():
                self.status, self.mentor = CLAIMED, event.mentor
            case IdeaCommented():
                self.comments.append((event.by, event.comment))
            case IdeaConverted():
                self.status = CONVERTED
            case _:
                raise TypeError(f"an idea cannot apply {type(event).__name__}")


def _require_mentor(actor: Caller) -> None:
    if not actor.has(*MENTOR_ROLES):
        raise Forbidden("only an incubator mentor (incubator_mentor) works on ideas")
