"""The aggregate base every service's domain uses.

An aggregate is a plain class: command methods check invariants and *return* new events (they never
change state); ``apply`` is the one place state changes, chosen by the event's type (a ``match`` on the
event class). ``from_history`` replays a stream; ``version`` is the version of the last applied event,
which the repository saves against (optimistic concurrency).
"""

from collections.abc import Iterable
from typing import Self

from shared.events import Event, EventEnvelope


class Aggregate:
    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0

    @classmethod
    def from_history(cls, aggregate_id: str, envelopes: Iterable[EventEnvelope]) -> Self:
        aggregate = cls(aggregate_id)
        for envelope in envelopes:
            aggregate.apply(envelope.to_event())
            aggregate.version = envelope.version
        return aggregate

    @property
    def exists(self) -> bool:
        return self.version > 0

    def apply(self, event: Event) -> None:
        raise NotImplementedError(f"{type(self).__name__} must say how each of its events changes it")
