"""The Registration aggregate (đăng ký thi đua): a member's target titles and topics for one year."""

from collections.abc import Iterable, Sequence

from contracts.pledges import RegistrationSubmitted, Topic
from services.pledges.domain.rules import check_titles
from shared.errors import Conflict, InvalidInput
from shared.events import Event, EventEnvelope


class Registration:
    def __init__(self, registration_id: str) -> None:
        self.registration_id = registration_id
        self.version = 0

    @classmethod
    def from_history(cls, registration_id: str, envelopes: Iterable[EventEnvelope]) -> "Registration":
        registration = cls(registration_id)
        for envelope in envelopes:
            registration.version = envelope.version
        return registration

    def submit(
        self, member_id: str, unit_id: str, year: int, titles: Sequence[str], topics: Sequence[Topic], this_year: int
    ) -> list[Event]:
        if self.version > 0:
            raise Conflict(f"member {member_id} has already registered for {year}", field="year")
        if year < this_year:
            raise InvalidInput(f"registrations for {year} are closed; register for {this_year} or later", field="year")
        check_titles(titles, topics)
        return [
            RegistrationSubmitted(
                registration_id=self.registration_id,
                member_id=member_id,
                unit_id=unit_id,
                year=year,
                target_titles=tuple(dict.fromkeys(titles)),
                topics=tuple(topics),
            )
        ]
