"""Domain events, their metadata and the envelope they are stored and published in.

An event class names itself (``event_type``) and its ``schema_version``; the registry maps stored
(type, version) pairs back to classes. Old schema versions are upcast on read by registered functions;
a stored event is never rewritten.
"""

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

import orjson
from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """A fact, named in the past tense. Subclasses declare fields; instances are frozen.

    ``unit_field`` names the field holding the unit whose history the event belongs to (its subject
    carries that unit's path): ``unit_id`` when the event has one, else nothing. A level keeps an event
    only while it holds that unit. A ``broadcast`` (a launch, an order) is issued by a level for every
    level below it: those levels keep it although they do not hold the issuing unit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
    schema_version: ClassVar[int] = 1
    unit_field: ClassVar[str | None] = None
    broadcast: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "unit_field" not in cls.__dict__ and "unit_id" in cls.model_fields:
            cls.unit_field = "unit_id"


class EventMetadata(BaseModel):
    """Who did it, for which unit, and how it relates to other messages and traces."""

    model_config = ConfigDict(frozen=True)

    actor: str
    unit_path: str
    correlation_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


class EventEnvelope(BaseModel):
    """An event as stored and published: identity, position in its stream, data and metadata."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    schema_version: int
    stream_id: str
    version: int
    occurred_at: datetime
    data: dict[str, Any]
    metadata: EventMetadata
    position: int | None = None  # global position in the owning service's store, once stored

    def to_event(self) -> Event:
        return registry.decode(self.event_type, self.schema_version, self.data)


def decode_envelope(payload: bytes) -> EventEnvelope:
    """An envelope as published (JSON bytes), e.g. a JetStream message's data."""
    return EventEnvelope.model_validate(orjson.loads(payload))


def new_envelope(stream_id: str, version: int, event: Event, metadata: EventMetadata) -> EventEnvelope:
    return EventEnvelope(
        event_id=str(uuid.uuid4()),
        event_type=event.event_type,
        schema_version=event.schema_version,
        stream_id=stream_id,
        version=version,
        occurred_at=datetime.now(UTC),
        data=event.model_dump(mode="json"),
        metadata=metadata,
    )


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
E = TypeVar("E", bound=type[Event])


class EventRegistry:
    """Maps event type names to classes and holds upcasters from old schema versions."""

    def __init__(self) -> None:
        self._classes: dict[str, type[Event]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, cls: E) -> E:
        existing = self._classes.get(cls.event_type)
        if existing is not None and existing is not cls:
            raise ValueError(f"event type {cls.event_type} registered twice")
        self._classes[cls.event_type] = cls
        return cls

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning data of ``from_version`` into ``from_version + 1``."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[(event_type, from_version)] = fn
            return fn

        return decorate

    def decode(self, event_type: str, schema_version: int, data: dict[str, Any]) -> Event:
        cls = self._classes.get(event_type)
        if cls is None:
            raise KeyError(f"unknown event type {event_type}")
        while schema_version < cls.schema_version:
            step = self._upcasters.get((event_type, schema_version))
            if step is None:
                raise KeyError(f"no upcaster for {event_type} v{schema_version}")
            data = step(data)
            schema_version += 1
        return cls.model_validate(data)

    def get(self, event_type: str) -> type[Event] | None:
        return self._classes.get(event_type)

    def classes(self) -> dict[str, type[Event]]:
        return dict(self._classes)


registry = EventRegistry()


def event(cls: E) -> E:
    """Class decorator: register an event type in the process-wide registry."""
    return registry.register(cls)


_snake_re = re.compile(r"(?<!^)(?=[A-Z])")


@lru_cache(maxsize=1024)
def snake_case(event_type: str) -> str:
    """``InitiativeRecognised`` → ``initiative_recognised`` (the subject token)."""
    return _snake_re.sub("_", event_type).lower()
