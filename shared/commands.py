"""What every command handler needs besides its aggregate: who acts, metadata, idempotent commit."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared.auth import Caller
from shared.errors import Conflict
from shared.events import EventMetadata
from shared.eventstore.store import EventStore, IdempotencyRecord, IdempotentReplay, StreamAppend
from shared.telemetry import current_trace_headers


@dataclass
class CommandContext:
    """The caller, the correlation id and the Idempotency-Key of one command."""

    caller: Caller
    idempotency_key: str | None = None
    idempotency_namespace: str = ""
    request_hash: str = ""
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None

    def metadata(self, unit_path: str) -> EventMetadata:
        trace = current_trace_headers()
        return EventMetadata(
            actor=self.caller.subject,
            unit_path=unit_path,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            traceparent=trace.get("traceparent"),
            tracestate=trace.get("tracestate"),
        )

    def replayed(self, record: IdempotencyRecord) -> IdempotentReplay:
        if record.request_hash != self.request_hash:
            raise Conflict(
                "this Idempotency-Key was already used for a different request; use a new key",
                field="Idempotency-Key",
            )
        return IdempotentReplay(record)


async def commit(
    store: EventStore,
    ctx: CommandContext,
    appends: Sequence[StreamAppend],
    response: dict[str, Any],
    status_code: int = 200,
) -> dict[str, Any]:
    """Append a command's events with its response; a retried key raises IdempotentReplay instead."""
    record = None
    if ctx.idempotency_key:
        record = IdempotencyRecord(
            ctx.idempotency_namespace, ctx.idempotency_key, ctx.request_hash, status_code, response
        )
    try:
        await store.append(*appends, idempotency=record)
    except IdempotentReplay as replay:
        raise ctx.replayed(replay.record) from None
    return response
