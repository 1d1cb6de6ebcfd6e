"""The Registration aggregate (đăng ký thi đua): a member's target titles and topics for one year."""

from collections.abc import Sequence

from contracts.pledges import RegistrationSubmitted, Topic
from services.pledges.domain.rules import check_titles
from shared.aggregate import Aggregate
from shared.errors import Conflict, InvalidInput
from shared.events import Event


class Registration(Aggregate):
    """One per member and year: its id is ``<year>-<member id>``; ``registration_id`` (in its event) is
    the stream's name."""

    def __init__(self, registration_id: str) -> None:
        super().__init__(registration_id)
        self.registration_id = f"registration-{registration_id}"

    def submit(
        self, member_id: str, unit_id: str, year: int, titles: Sequence[str], topics: Sequence[Topic], this_year: int
    ) -> list[Event]:
        if self.exists:
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

    def apply(self, event: Event) -> None:
        if not isinstance(event, RegistrationSubmitted):
            raise TypeError(f"a registration cannot apply {type(event).__name__}")
