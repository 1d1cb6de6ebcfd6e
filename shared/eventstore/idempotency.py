"""Idempotency keys: the stored response of a command sent with an ``Idempotency-Key``, its expiry, and
the statements the store runs on the key table (look-up by primary key, prune by ``created_at``).

A key is remembered for the retention window (``THIDUA_IDEMPOTENCY_RETENTION`` days, default 7; Stripe keeps
24 hours, the IETF Idempotency-Key draft lets a server expire keys): a retry inside it answers with the
stored response, a key older than that is a new command. The window is applied on look-up, so the answer
does not depend on when the prune last ran.
"""

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, text

from shared.eventstore.schema import idempotency_keys


@dataclass
class IdempotencyRecord:
    """The response to a command sent with an Idempotency-Key; stored with the command's events."""

    namespace: str
    key: str
    request_hash: str
    status_code: int
    response: dict[str, Any]
    created_at: datetime | None = field(default=None, compare=False)  # when stored (None: not yet)

    def expired(self, cutoff: datetime) -> bool:
        """Stored before ``cutoff`` (the start of the retention window): the key may be used anew."""
        if self.created_at is None:
            return False
        stored = self.created_at if self.created_at.tzinfo else self.created_at.replace(tzinfo=UTC)  # SQLite: naive UTC
        return stored < cutoff


class IdempotentReplay(Exception):
    """The key was used before: the caller returns the stored response instead of acting again."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


@functools.lru_cache(maxsize=64)
def sqlite_keys(count: int) -> Any:
    """SQLite: a VALUES list joined to the key table, so each key is a primary-key search."""
    pairs = ", ".join(f"(:s{i}, :k{i})" for i in range(count))
    return text(
        "SELECT k.namespace, k.key, k.request_hash, k.status_code, k.response, k.created_at "
        f"FROM (VALUES {pairs}) AS w JOIN idempotency_keys AS k ON k.namespace = w.column1 AND k.key = w.column2"
    ).columns(
        idempotency_keys.c.namespace,
        idempotency_keys.c.key,
        idempotency_keys.c.request_hash,
        idempotency_keys.c.status_code,
        idempotency_keys.c.response,
        idempotency_keys.c.created_at,
    )


def sqlite_key_params(chunk: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for i, (namespace, key) in enumerate(chunk):
        params[f"s{i}"], params[f"k{i}"] = namespace, key
    return params


# The prune: the oldest expired keys by the created_at index, deleted by their row's address (SQLite's rowid,
# PostgreSQL's ctid: no second look-up by the primary key); ``created_at`` checked again on the row deleted.
PRUNE_KEYS_SQLITE = text(
    "DELETE FROM idempotency_keys WHERE rowid IN (SELECT rowid FROM idempotency_keys WHERE created_at < :cutoff "
    "ORDER BY created_at LIMIT :limit) AND created_at < :cutoff"
).bindparams(bindparam("cutoff", type_=DateTime(timezone=True)), bindparam("limit", type_=Integer))
PRUNE_KEYS_PG = text(
    "DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(SELECT ctid FROM idempotency_keys "
    "WHERE created_at < :cutoff ORDER BY created_at LIMIT :limit)) AND created_at < :cutoff"
).bindparams(bindparam("cutoff", type_=DateTime(timezone=True)), bindparam("limit", type_=Integer))
# An expired key used again before the prune reached it: its old row, by the primary key.
DELETE_KEY = idempotency_keys.delete().where(
    idempotency_keys.c.namespace == bindparam("namespace"), idempotency_keys.c.key == bindparam("key")
)


def key_row(record: IdempotencyRecord, now: datetime) -> dict[str, Any]:
    return {
        "namespace": record.namespace,
        "key": record.key,
        "request_hash": record.request_hash,
        "status_code": record.status_code,
        "response": record.response,
        "created_at": now,
    }
