"""No stored event can ever fail to load (issue 8 defect 1): the store proves each new event loads back
equal before appending it, on SQLite and PostgreSQL; a refused command writes nothing."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import Field, field_validator
from sqlalchemy import func, select

from shared.db import open_database
from shared.errors import UnstorableEvent
from shared.events import Event, EventEnvelope, EventMetadata, event, new_envelope
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend
from shared.eventstore.migrate import migrate
from shared.eventstore.schema import events, idempotency_keys

META = EventMetadata(actor="tester", unit_path="hn.ntl.fecon")


@event
class HardeningMeasured(Event):
    """A test event with the kinds of field that broke: a float, a dict of floats, text, a timestamp."""

    amount: float
    targets: dict[str, dict[str, float]] = Field(default_factory=dict)
    label: str = "x"
    at: datetime = datetime(2025, 1, 1, tzinfo=UTC)


@event
class HardeningTrimmed(Event):
    """An event whose class changes what it is given: data it did not produce itself loads differently."""

    label: str

    @field_validator("label")
    @classmethod
    def _trim(cls, value: str) -> str:
        return value.strip()


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[EventStore]:
    db = open_database(store_url)
    await migrate(db)
    store = EventStore(db)
    yield store
    await store.close()
    await db.dispose()


async def stored_rows(store: EventStore) -> tuple[int, int]:
    async with store.db.reader.connect() as conn:
        return (
            await conn.scalar(select(func.count()).select_from(events)),
            await conn.scalar(select(func.count()).select_from(idempotency_keys)),
        )


def key() -> IdempotencyRecord:
    return IdempotencyRecord("tester:POST:/x", str(uuid.uuid4()), "hash", 200, {"ok": True})


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": float("nan")}, "amount"),
        ({"amount": float("inf")}, "amount"),
        ({"amount": 1, "targets": {"u-1": {"registered": float("-inf")}}}, "targets.u-1.registered"),
    ],
)
async def test_a_non_finite_number_is_refused_before_anything_is_written(
    store: EventStore, data: dict, field: str
) -> None:
    """The defect: ``Infinity`` was stored as ``null`` and the stream never loaded again."""
    await store.append(StreamAppend.of("m-1", 0, [(HardeningMeasured(amount=1), META)]))
    poisoned = StreamAppend.of("m-1", 1, [(HardeningMeasured.model_construct(**data), META)])
    with pytest.raises(UnstorableEvent) as refused:
        await store.append(poisoned, idempotency=key())
    assert refused.value.field == field and refused.value.status_code == 422
    assert refused.value.code == "event.unstorable"
    assert refused.value.params["event_type"] == "HardeningMeasured"
    assert await stored_rows(store) == (1, 0)
    assert [e.to_event() for e in await store.load("m-1")] == [HardeningMeasured(amount=1)]


async def test_a_lone_surrogate_is_refused(store: EventStore) -> None:
    bad = StreamAppend.of("m-2", 0, [(HardeningMeasured(amount=1, label="S\ud800ng"), META)])
    with pytest.raises(UnstorableEvent, match="cannot be written as JSON"):
        await store.append(bad)
    bad_meta = StreamAppend.of("m-2", 0, [(HardeningMeasured(amount=1), META.model_copy(update={"actor": "\udfff"}))])
    with pytest.raises(UnstorableEvent) as refused:
        await store.append(bad_meta)
    assert refused.value.field == "metadata"
    assert await stored_rows(store) == (0, 0)


async def test_an_event_of_no_known_type_or_data_its_class_refuses_is_refused(store: EventStore) -> None:
    unknown = EventEnvelope(
        event_id=str(uuid.uuid4()), event_type="NoSuchEvent", schema_version=1, stream_id="m-3", version=1,
        occurred_at=datetime.now(UTC), data={"a": 1}, metadata=META,
    )  # fmt: skip
    with pytest.raises(UnstorableEvent, match="unknown event type NoSuchEvent"):
        await store.append(StreamAppend("m-3", 0, [unknown]))
    partial = new_envelope("m-3", 1, HardeningMeasured(amount=1), META).model_copy(update={"data": {"label": "x"}})
    with pytest.raises(UnstorableEvent) as refused:
        await store.append(StreamAppend("m-3", 0, [partial]))
    assert refused.value.field == "amount" and "does not decode" in refused.value.message
    assert await stored_rows(store) == (0, 0)


async def test_data_that_decodes_to_something_else_is_refused(store: EventStore) -> None:
    drifting = new_envelope("m-4", 1, HardeningTrimmed(label="x"), META).model_copy(update={"data": {"label": " x "}})
    with pytest.raises(UnstorableEvent, match="decodes to a different value") as refused:
        await store.append(StreamAppend("m-4", 0, [drifting]))
    assert refused.value.field == "label"


async def test_one_refused_command_in_a_group_commit_does_not_stop_the_others(store: EventStore) -> None:
    import asyncio

    good = [StreamAppend.of(f"g-{n}", 0, [(HardeningMeasured(amount=n), META)]) for n in range(5)]
    bad = StreamAppend.of("g-bad", 0, [(HardeningMeasured.model_construct(amount=float("nan")), META)])
    results = await asyncio.gather(*(store.append(a) for a in [*good[:2], bad, *good[2:]]), return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["list", "list", "UnstorableEvent", "list", "list", "list"]
    assert await stored_rows(store) == (5, 0)
