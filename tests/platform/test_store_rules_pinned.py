"""The event store's rules, pinned by mutation testing (issue 8): the field a refused event names (the
first value that would not load back), reading the log in position order and in pages, the empty log's
position, the replayed key. Each test fails if its step is removed. SQLite only (the contract on both
stores is in ``test_event_store.py``, the PostgreSQL lock in ``tests/hardening/test_store_rules.py``)."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ConfigDict, field_validator

from shared.db import open_database
from shared.errors import ConcurrencyError, Conflict, UnstorableEvent
from shared.events import EventEnvelope, EventMetadata, new_envelope
from shared.eventstore import EventStore, IdempotencyRecord, StreamAppend, guard
from shared.eventstore.guard import _first_difference, check_storable
from shared.eventstore.migrate import migrate
from shared.eventstore.store import IdempotentReplay
from tests.hardening.test_unloadable_events import META, HardeningMeasured, HardeningTrimmed
from tests.platform.helpers import opened_store


@pytest.mark.parametrize(
    ("expected", "actual", "path"),
    [
        ({"a": 1, "b": {"c": 2.5}}, {"a": 1, "b": {"c": None}}, "b.c"),
        ({"a": 1, "extra": 2}, {"a": 1}, "extra"),  # a key the decoded event dropped
        ({"a": 1}, {"a": 1, "added": 2}, "added"),  # a key the decoded event added
        ({"a": {"b": 1}}, {"a": None}, "a"),  # a dict became something else
        ({"rows": [{"a": 1}, {"a": 2}]}, {"rows": [{"a": 1}, {"a": None}]}, "rows.1.a"),
        ({"rows": [1, 2]}, {"rows": [1, 2, 3]}, "rows"),  # lengths differ: the list itself
        ({"rows": [1, 2]}, {"rows": "12"}, "rows"),
        ([1, 2], [1, 3], "1"),
        ({"n": 1}, {"n": 1.0}, "n"),  # equal numbers of another type differ
        ({"n": 1}, {"n": 1}, ""),
    ],
)
def test_a_refused_event_names_the_first_value_that_would_not_load_back(expected: Any, actual: Any, path: str) -> None:
    assert _first_difference(expected, actual) == path


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[EventStore]:
    async with opened_store(f"sqlite+aiosqlite:///{tmp_path}/store.db") as store:
        yield store


async def test_the_log_is_read_in_position_order_500_at_a_time_from_an_empty_start(store: EventStore) -> None:
    assert await store.last_position() == 0 and await store.read_after(0) == []
    appends = [StreamAppend.of(f"s-{n % 7}", n // 7, [(HardeningMeasured(amount=n), META)]) for n in range(503)]
    await asyncio.gather(*(store.append(a) for a in appends))  # queued in turn: positions interleave the streams
    assert await store.last_position() == 503
    page = await store.read_after(0)
    assert [e.position for e in page] == list(range(1, 501))
    assert [e.position for e in await store.read_after(500)] == [501, 502, 503]
    assert [e.position for e in await store.read_after(10, limit=3)] == [11, 12, 13]


async def test_a_replayed_key_says_which_key_and_carries_the_stored_response(store: EventStore) -> None:
    record = IdempotencyRecord("tester:POST:/x", "key-1", "hash", 201, {"id": "m-1"})
    await store.append(StreamAppend.of("r", 0, [(HardeningMeasured(amount=1), META)]), idempotency=record)
    with pytest.raises(IdempotentReplay) as replay:
        await store.append(StreamAppend.of("r", 1, [(HardeningMeasured(amount=2), META)]), idempotency=record)
    assert str(replay.value) == "key-1" and replay.value.record == record


async def test_the_relays_raw_rows_come_in_position_order_a_page_at_a_time(store: EventStore) -> None:
    for n in range(6):
        await store.append(StreamAppend.of(f"raw-{n % 2}", n // 2, [(HardeningMeasured(amount=n), META)]))
    rows = await store.read_rows_after(1, limit=3)
    assert [(r.position, r.stream_id, r.version) for r in rows] == [(2, "raw-1", 1), (3, "raw-0", 2), (4, "raw-1", 2)]
    assert [r.position for r in await store.read_rows_after(0)] == [1, 2, 3, 4, 5, 6]
    assert [r.position for r in await store.read_rows_after(6)] == []


async def test_a_stored_key_is_found_by_its_namespace_and_its_key(store: EventStore) -> None:
    first = IdempotencyRecord("tester:POST:/x", "key-1", "hash-1", 201, {"id": "m-1"})
    second = IdempotencyRecord("tester:POST:/x", "key-2", "hash-2", 200, {"id": "m-2"})
    for n, record in enumerate([first, second]):
        await store.append(StreamAppend.of(f"k-{n}", 0, [(HardeningMeasured(amount=n), META)]), idempotency=record)
    assert await store.find_idempotent("tester:POST:/x", "key-2") == second
    assert await store.find_idempotent("tester:POST:/x", "key-1") == first
    assert await store.find_idempotent("tester:POST:/x", "key-3") is None
    assert await store.find_idempotent("tester:POST:/y", "key-1") is None


async def test_a_store_that_does_not_verify_still_writes_what_it_was_given(tmp_path: Path) -> None:
    """A test's stand-in for another service's producer: the JSON written is the event's own."""
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/unverified.db")
    await migrate(db)
    store = EventStore(db, verify_events=False)
    try:
        await store.append(StreamAppend.of("u", 0, [(HardeningMeasured(amount=2.5, label="Sáng kiến"), META)]))
        (loaded,) = await store.load("u")
        assert loaded.to_event() == HardeningMeasured(amount=2.5, label="Sáng kiến") and loaded.metadata == META
    finally:
        await store.close()
        await db.dispose()


# -- one group commit: every request gets its own outcome -------------------------------------------------


def measured(stream: str, expected: int, amount: float = 1) -> StreamAppend:
    return StreamAppend.of(stream, expected, [(HardeningMeasured(amount=amount), META)])


async def test_a_lost_race_says_the_version_found_and_the_version_expected(store: EventStore) -> None:
    await store.append(measured("v", 0))
    with pytest.raises(ConcurrencyError) as lost:
        await store.append(measured("v", 0))
    assert str(lost.value) == "v is at version 1, not 0: someone else changed it first; reload and try again"


async def test_a_key_twice_in_one_group_commit_the_second_is_told_it_is_in_progress_and_the_rest_go_on(
    store: EventStore,
) -> None:
    record = IdempotencyRecord("tester:POST:/x", "key-9", "hash", 200, {"ok": True})
    results = await asyncio.gather(
        store.append(measured("d-1", 0), idempotency=record),
        store.append(measured("d-2", 0), idempotency=record),
        store.append(measured("d-3", 0)),
        return_exceptions=True,
    )
    assert isinstance(results[0], list) and isinstance(results[2], list)
    assert isinstance(results[1], Conflict)
    assert str(results[1]) == "the same Idempotency-Key is already being processed"


async def test_a_replayed_key_in_a_group_commit_does_not_stop_the_commands_after_it(store: EventStore) -> None:
    record = IdempotencyRecord("tester:POST:/x", "key-8", "hash", 200, {"ok": True})
    await store.append(measured("e-1", 0), idempotency=record)
    results = await asyncio.gather(
        store.append(measured("e-2", 0), idempotency=record),
        store.append(measured("e-3", 0)),
        store.append(measured("e-4", 0)),
        return_exceptions=True,
    )
    assert isinstance(results[0], IdempotentReplay)
    assert [[e.stream_id for e in r] for r in results[1:]] == [["e-3"], ["e-4"]]  # type: ignore[union-attr]


async def test_a_cancelled_command_in_a_group_commit_does_not_stop_the_commands_after_it(store: EventStore) -> None:
    first = asyncio.create_task(store.append(measured("c-1", 0)))
    second = asyncio.create_task(store.append(measured("c-2", 0)))
    await asyncio.sleep(0)  # both queued for the same commit
    first.cancel()
    (stored,) = await asyncio.wait_for(second, 10)
    assert stored.stream_id == "c-2"


def test_a_refused_event_says_which_event_where_and_why() -> None:
    poisoned = new_envelope("p", 1, HardeningMeasured.model_construct(amount=float("nan")), META)
    with pytest.raises(UnstorableEvent) as refused:
        check_storable(poisoned)
    assert str(refused.value) == (
        "the event HardeningMeasured would not load back from the store at amount: it does not survive JSON "
        "(e.g. NaN or Infinity); nothing was stored"
    )
    unknown = poisoned.model_copy(update={"event_type": "NoSuchEvent", "data": {"a": 1}})
    with pytest.raises(UnstorableEvent) as no_field:
        check_storable(unknown)
    assert str(no_field.value).startswith("the event NoSuchEvent would not load back from the store: ")
    assert no_field.value.field is None


# -- each refusal's exact words: the field, and why ------------------------------------------------------------


def refusal(envelope: EventEnvelope) -> UnstorableEvent:
    with pytest.raises(UnstorableEvent) as refused:
        check_storable(envelope)
    return refused.value


def test_each_refusal_names_the_event_the_field_and_the_reason() -> None:
    good = new_envelope("p", 1, HardeningMeasured(amount=1), META)
    missing = refusal(good.model_copy(update={"data": {"label": "x"}}))
    assert (missing.message, missing.field) == (
        "the event HardeningMeasured would not load back from the store at amount: it does not decode: "
        "Field required; nothing was stored",
        "amount",
    )
    nested = refusal(good.model_copy(update={"data": {"amount": 1, "targets": {"u-1": {"registered": "many"}}}}))
    assert nested.field == "targets.u-1.registered" and "it does not decode: Input should be a valid number" in str(
        nested
    )
    drifting = refusal(
        new_envelope("p", 1, HardeningTrimmed(label="x"), META).model_copy(update={"data": {"label": " x "}})
    )
    assert (drifting.message, drifting.field) == (
        "the event HardeningTrimmed would not load back from the store at label: it decodes to a different value; "
        "nothing was stored",
        "label",
    )
    unknown = refusal(good.model_copy(update={"event_type": "NoSuchEvent"}))
    assert unknown.message == (
        "the event NoSuchEvent would not load back from the store: unknown event type NoSuchEvent; nothing was stored"
    )
    assert unknown.params == {"event_type": "NoSuchEvent", "field": "", "reason": "unknown event type NoSuchEvent"}
    surrogate = refusal(new_envelope("p", 1, HardeningMeasured(amount=1, label="S\ud800ng"), META))
    assert surrogate.field == "data" and surrogate.message.startswith(
        "the event HardeningMeasured would not load back from the store at data: it cannot be written as JSON ("
    )
    assert surrogate.message.endswith("); nothing was stored")
    bad_metadata = refusal(good.model_copy(update={"metadata": META.model_copy(update={"actor": "\udfff"})}))
    assert bad_metadata.field == "metadata" and bad_metadata.message.startswith(
        "the event HardeningMeasured would not load back from the store at metadata: it cannot be written as JSON ("
    )


def test_metadata_already_checked_for_the_command_is_written_as_given() -> None:
    """A command's events share one metadata: its JSON is proven once and handed to the others."""
    envelope = new_envelope("p", 1, HardeningMeasured(amount=1), META)
    stored = check_storable(envelope)
    assert json.loads(stored.data) == envelope.data and json.loads(stored.metadata) == META.model_dump(mode="json")
    assert check_storable(envelope, '{"already": "checked"}').metadata == '{"already": "checked"}'


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
def test_metadata_that_does_not_survive_json_is_refused_naming_its_event() -> None:
    """Metadata made without validation (as a NaN event is, above): its JSON would load back different."""
    broken = EventMetadata.model_construct(actor=float("nan"), unit_path="hn")  # JSON writes NaN as null
    refused = refusal(new_envelope("p", 1, HardeningMeasured(amount=1), META).model_copy(update={"metadata": broken}))
    assert (refused.message, refused.field) == (
        "the event HardeningMeasured would not load back from the store at metadata: its metadata does not survive "
        "JSON; nothing was stored",
        "metadata",
    )


@given(
    st.builds(
        EventMetadata,
        actor=st.text(st.characters(blacklist_categories=("Cs",))),
        unit_path=st.text(),
        causation_id=st.none() | st.text(st.characters(blacklist_categories=("Cs",))),
        tracestate=st.none() | st.just("vendor=1"),
    )
)
def test_plain_metadata_is_written_as_the_full_round_trip_would_write_it(meta: EventMetadata) -> None:
    """Metadata of plain text skips the dump and the validation: what it stores is what the full check
    would have stored, and it loads back as itself."""
    envelope = new_envelope("p", 1, HardeningMeasured(amount=1), meta)
    assert guard._plain(meta)
    stored = check_storable(envelope).metadata
    assert stored == orjson.dumps(meta.model_dump(mode="json")).decode()
    assert EventMetadata.model_validate_json(stored) == meta


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")
@pytest.mark.parametrize(
    "broken",
    [
        EventMetadata.model_construct(actor=None, unit_path="hn"),  # a required text missing
        EventMetadata.model_construct(actor="a", unit_path="hn", causation_id=7),  # a number for text
        EventMetadata.model_construct(actor=b"a", unit_path="hn"),  # bytes: JSON would write text
    ],
    ids=["none", "number", "bytes"],
)
def test_metadata_made_without_validation_takes_the_full_round_trip_and_is_refused(broken: EventMetadata) -> None:
    assert not guard._plain(broken)
    refused = refusal(new_envelope("p", 1, HardeningMeasured(amount=1), META).model_copy(update={"metadata": broken}))
    assert (refused.field, refused.params["reason"]) == ("metadata", "its metadata does not survive JSON")


def test_metadata_of_a_subclass_or_with_a_field_of_its_own_takes_the_full_round_trip() -> None:
    class Traced(EventMetadata):
        span: str = "s"

    assert not guard._plain(Traced(actor="a", unit_path="hn"))

    class Same(EventMetadata):  # no field of its own: the full round trip proves it and it is stored
        pass

    same = Same(actor="a", unit_path="hn")
    assert not guard._plain(same)
    stored = check_storable(new_envelope("p", 1, HardeningMeasured(amount=1), same)).metadata
    assert EventMetadata.model_validate_json(stored).__dict__ == same.__dict__
    with pytest.raises(UnstorableEvent) as refused:  # and one with a field of its own is not
        check_storable(new_envelope("p", 1, HardeningMeasured(amount=1), Traced(actor="a", unit_path="hn")))
    assert (refused.value.field, refused.value.params["reason"]) == ("metadata", "its metadata does not survive JSON")
    with pytest.raises(UnstorableEvent) as unwritable:  # nor one JSON cannot write, named by its event
        lone = Traced(actor="a", unit_path="hn", span="\udfff")
        check_storable(new_envelope("p", 1, HardeningMeasured(amount=1), lone))
    assert unwritable.value.params["event_type"] == "HardeningMeasured" and unwritable.value.field == "metadata"
    assert "cannot be written as JSON" in unwritable.value.params["reason"]
    extra = EventMetadata(actor="a", unit_path="hn")
    object.__setattr__(extra, "__dict__", {**extra.__dict__, "span": "s"})
    assert not guard._plain(extra)
    swapped = EventMetadata(actor="a", unit_path="hn")  # as many fields, one of them not its own
    others = {k: v for k, v in swapped.__dict__.items() if k != "tracestate"}
    object.__setattr__(swapped, "__dict__", {**others, "span": "s"})
    assert not guard._plain(swapped)
    assert guard._plain(EventMetadata(actor="a", unit_path="hn"))


def test_metadata_validated_beyond_its_fields_types_has_no_quick_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """A validator or a text setting on the metadata model may change or refuse plain text: then every
    command's metadata takes the full round trip."""

    class Shouted(EventMetadata):
        @field_validator("actor")
        @classmethod
        def shout(cls, value: str) -> str:
            return value.upper()

    class Short(EventMetadata):
        model_config = ConfigDict(frozen=True, str_max_length=3)

    class Numbered(EventMetadata):
        sequence: int = 0

    class Strict(EventMetadata):
        model_config = ConfigDict(frozen=True, strict=True)

    text, optional = (str,), (str, type(None))  # EventMetadata as it is: the quick check applies
    assert guard._field_types() == guard._PLAIN_FIELDS == (
        ("actor", text), ("unit_path", text), ("correlation_id", text),
        ("causation_id", optional), ("traceparent", optional), ("tracestate", optional),
    )  # fmt: skip
    for model in (Shouted, Short, Numbered, Strict):
        monkeypatch.setattr(guard, "EventMetadata", model)
        assert guard._field_types() is None, model.__name__


def test_a_key_expires_only_once_stored_strictly_before_the_cutoff_whatever_its_zone() -> None:
    """``IdempotencyRecord.expired``: not yet stored is never expired; SQLite's naive stamps are UTC; an aware
    stamp in another zone is compared as the instant it is; the cutoff itself is still inside the window."""
    cutoff = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)

    def stored(at: datetime | None) -> IdempotencyRecord:
        return IdempotencyRecord("a:POST:/x", "k", "h", 201, {}, at)

    assert not stored(None).expired(cutoff)
    assert not stored(cutoff).expired(cutoff)
    assert stored(cutoff - timedelta(microseconds=1)).expired(cutoff)
    assert stored(datetime(2026, 11, 24, 5, 59)).expired(cutoff)  # naive: UTC
    assert not stored(datetime(2026, 11, 24, 6, 0)).expired(cutoff)
    hanoi = timezone(timedelta(hours=7))
    assert stored(datetime(2026, 11, 24, 12, 59, tzinfo=hanoi)).expired(cutoff)  # 05:59 UTC
    assert not stored(datetime(2026, 11, 24, 5, 0, tzinfo=timezone(timedelta(hours=-1)))).expired(cutoff)  # 06:00
