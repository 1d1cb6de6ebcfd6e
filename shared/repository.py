"""The event-sourced repository: one per aggregate type, so a command handler reads load → decide → save.

It names the streams (``<name>-<id>``), loads an aggregate from its history (or refuses with a 404 that
says what was not found), and saves decided events at the version the aggregate was loaded at, each
event published on the unit path the handler gives it, through the idempotent commit of
``shared.commands`` (events, inline read models and the Idempotency-Key record in one transaction).

    initiative = await deps.initiatives.get(initiative_id)
    events = initiative.score(ctx.caller, reviewer, ...)
    return await deps.initiatives.save(initiative, events, ctx, at=home.path, respond=view)
"""

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from shared.aggregate import Aggregate
from shared.commands import CommandContext, commit
from shared.errors import NotFound
from shared.events import Event
from shared.eventstore import EventStore, StreamAppend

A = TypeVar("A", bound=Aggregate)
Response = dict[str, Any] | Callable[[Any], dict[str, Any]]


class Repository(Generic[A]):
    def __init__(self, store: EventStore, aggregate: type[A], name: str, *, what: str | None = None) -> None:
        self.store, self.aggregate, self.name = store, aggregate, name
        self.what = what or name  # how a refusal names it: "initiative 42 not found"

    def stream(self, aggregate_id: str) -> str:
        return f"{self.name}-{aggregate_id}"

    async def load(self, aggregate_id: str) -> A:
        """The aggregate as its stream says (``exists`` is False for a stream never written)."""
        return self.aggregate.from_history(aggregate_id, await self.store.load(self.stream(aggregate_id)))

    async def get(self, aggregate_id: str, *, field: str | None = None) -> A:
        """The aggregate, or 404 naming what was not found (and the field that named it)."""
        aggregate = await self.load(aggregate_id)
        if not aggregate.exists:
            raise NotFound(f"{self.what} {aggregate_id} not found", field=field)
        return aggregate

    def append(
        self, aggregate: A, events: Sequence[Event], ctx: CommandContext, at: str | Sequence[str]
    ) -> StreamAppend:
        """The events as an append at the aggregate's loaded version, each published on its path (``at``:
        one path for all, or one per event); the aggregate then reflects them (for the response)."""
        paths = [at] * len(events) if isinstance(at, str) else list(at)
        if len(paths) != len(events):
            raise ValueError(f"{len(events)} events but {len(paths)} paths")
        append = StreamAppend.of(
            self.stream(aggregate.id),
            aggregate.version,
            [(e, ctx.metadata(p)) for e, p in zip(events, paths, strict=True)],
        )
        for event in events:
            aggregate.apply(event)
        if append.envelopes:
            aggregate.version = append.envelopes[-1].version
        return append

    async def save(
        self,
        aggregate: A,
        events: Sequence[Event],
        ctx: CommandContext,
        *,
        at: str | Sequence[str],
        respond: Response,
        status_code: int = 200,
        also: Sequence[StreamAppend] = (),
    ) -> dict[str, Any]:
        """Append the events (with ``also``, e.g. another aggregate's or a guard) in one idempotent commit
        and answer with ``respond`` (a dict, or a function of the aggregate after the events)."""
        append = self.append(aggregate, events, ctx, at)
        response = respond(aggregate) if callable(respond) else respond
        return await commit(self.store, ctx, [append, *also], response, status_code)
