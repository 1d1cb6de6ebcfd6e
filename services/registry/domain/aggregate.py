"""What both aggregates share: rebuilding state from a stream's history."""

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
        raise NotImplementedError
