"""A delivered message gives a handler the event's time without validating its whole envelope, and the
same time the envelope would give; a body that is not an ISO time is left to the envelope to refuse."""

from datetime import UTC, datetime

import orjson
import pytest
from pydantic import ValidationError

from contracts.registry import InitiativeApplied
from shared.events import EventMetadata, new_envelope
from shared.projection import Message


def body() -> dict:
    event = InitiativeApplied(
        initiative_id="i-1", unit_id="u-1", where="Xưởng", since=datetime(2025, 5, 1).date(), evidence="Biên bản",
        actual_benefit_vnd=1, reported_by="m",
    )  # fmt: skip
    envelope = new_envelope("s-1", 1, event, EventMetadata(actor="test", unit_path="hn"))
    return orjson.loads(envelope.model_dump_json())


def test_the_time_is_read_from_the_body_as_the_envelope_reads_it() -> None:
    for when in ("2025-07-03T08:30:00Z", "2025-07-03T08:30:00.123456+07:00"):
        message = Message("s", 1, "hn", body=body() | {"occurred_at": when})
        assert message.occurred_at == message.envelope.occurred_at
    message = Message("s", 1, "hn", body=body() | {"occurred_at": "2025-07-03T08:30:00Z"})
    assert message.occurred_at == datetime(2025, 7, 3, 8, 30, tzinfo=UTC)
    assert message._envelope is None  # not validated for it


def test_a_time_that_is_not_iso_is_refused_by_the_envelope() -> None:
    with pytest.raises(ValidationError):
        _ = Message("s", 1, "hn", body=body() | {"occurred_at": "yesterday"}).occurred_at
