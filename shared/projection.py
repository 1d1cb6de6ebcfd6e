"""What a projection is: a read model that says, per event type, how its own tables change.

    class RegistryLevelProjection(Projection):
        name = "registry_level"
        services = ("registry", "directory")
        metadata = metadata

        @on(InitiativeScored)
        async def scored(self, conn: AsyncConnection, event: InitiativeScored, ctx: Context) -> None: ...

        async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None: ...

The runner (``shared.runner``) decodes each message into its typed event (``contracts.<producer>``)
and calls the method registered for its type; events with no method cost nothing (not even decoding).
For a level that follows the directory, the runner owns which units belong to the level: it hands a
projection only the events of units the level holds, back-fills a unit's history when it joins, and
calls ``units_left`` once when units leave. ``ctx.units`` is that membership (paths, parents, statuses).

A projection whose handlers never read the ``level_units`` table (only ``ctx.units``) says so
(``reads_level_units = False``): the runner then writes the rows of units joining in a batch together.

A projection may buffer writes across a batch (counters folded into one statement) and write them in
``flush``; the runner flushes before every change of the level's units and at the end of each batch,
calls ``reset`` when a transaction rolled back (anything cached in memory may be wrong), and
``committed`` once a batch is committed.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.events import Event, EventEnvelope, registry

if TYPE_CHECKING:
    from shared.membership import LevelUnits

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


class Message:
    """One event as delivered: its subject, stream sequence, the unit path the subject carries, the envelope.

    The runner builds it from the message's decoded JSON (``body``): the envelope model is validated only
    when a handler reads it, and the typed event only for a handled type (a replay pays for neither on
    the events it skips, nor for the envelope a handler never reads).
    """

    __slots__ = ("_body", "_envelope", "path", "sequence", "subject")

    def __init__(
        self,
        subject: str,
        sequence: int,
        path: str,
        envelope: EventEnvelope | None = None,
        *,
        body: dict[str, Any] | None = None,
    ) -> None:
        if envelope is None and body is None:
            raise TypeError("a message needs its envelope or its decoded body")
        self.subject, self.sequence, self.path = subject, sequence, path
        self._envelope, self._body = envelope, body

    @property
    def envelope(self) -> EventEnvelope:
        if self._envelope is None:
            self._envelope = EventEnvelope.model_validate(self._body)
        return self._envelope

    @property
    def event_type(self) -> str:
        return self._envelope.event_type if self._envelope is not None else self._body["event_type"]  # type: ignore[index]

    @property
    def data(self) -> dict[str, Any]:
        return self._envelope.data if self._envelope is not None else self._body["data"]  # type: ignore[index]

    @property
    def occurred_at(self) -> datetime:
        """When the event occurred, read from the body alone if it is an ISO time (most handlers read
        only this of the envelope: validating all of it was 5% of a replay)."""
        if self._envelope is None:
            try:
                return datetime.fromisoformat(self._body["occurred_at"])  # type: ignore[index]
            except (KeyError, TypeError, ValueError):
                pass  # the envelope's validation says what is wrong
        return self.envelope.occurred_at

    def event(self) -> Event:
        """The typed event (``contracts.<producer>``), upcast from an older schema version if need be."""
        if self._envelope is not None:
            return self._envelope.to_event()
        body = self._body
        assert body is not None
        return registry.decode(body["event_type"], body["schema_version"], body["data"])

    def __repr__(self) -> str:
        return f"Message({self.subject!r}, {self.sequence}, {self.path!r})"


@dataclass(frozen=True)
class Context:
    """What a handler knows besides the event: the level, the message, and the level's units."""

    level: str  # the unit path this projection serves ("*": a service-wide copy)
    message: Message
    units: "LevelUnits | None" = None  # None unless the projection follows the directory at a level

    @property
    def occurred_at(self) -> datetime:
        return self.message.occurred_at

    @property
    def actor(self) -> str:
        return self.message.envelope.metadata.actor


def on(*event_types: type[Event]) -> Callable[[F], F]:
    """Register the decorated method as the handler of these event types."""

    def mark(method: F) -> F:
        method.__thidua_handles__ = (*getattr(method, "__thidua_handles__", ()), *event_types)  # type: ignore[attr-defined]
        return method

    return mark


class Projection:
    name: ClassVar[str]
    services: ClassVar[tuple[str, ...]]  # whose events it consumes (the first filters the subjects)
    metadata: ClassVar[MetaData]
    handlers: ClassVar[dict[str, Callable[..., Awaitable[None]]]] = {}
    # Messages the runner's consumer still held when the batch being applied was delivered (set before
    # its handlers run): a projection may put off work a later batch would redo, until it is caught up.
    backlog: int = 0
    # Do its handlers read the runner's ``level_units`` table? If not, the runner writes the rows of units
    # joining the level in a batch together at the batch's end (``ctx.units`` has them at once either way).
    reads_level_units: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        table: dict[str, Callable[..., Awaitable[None]]] = {}
        for klass in reversed(cls.__mro__):
            for attribute in vars(klass).values():
                for event_type in getattr(attribute, "__thidua_handles__", ()):
                    table[event_type.event_type] = attribute
        cls.handlers = table

    def handles(self, event_type: str) -> bool:
        return event_type in self.handlers

    async def handle(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        handler = self.handlers.get(event.event_type)
        if handler is not None:
            await handler(self, conn, event, ctx)

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        """These units (a subtree, with the units merged into it) left the level: forget them."""

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        """Write what the handlers buffered (called before the level's units change and per batch)."""

    def reset(self) -> None:
        """Forget buffered writes and caches: the transaction they belonged to rolled back."""

    async def committed(self) -> None:
        """The batch just applied is committed (a projection may tell others what changed)."""
