"""The statements of the event store's group commit: the look-up of stream versions and stored responses,
and the insert of the events, for each store (``store.py`` runs them)."""

import functools
from typing import Any

from sqlalchemy import DateTime, Integer, String, Text, bindparam, insert, text
from sqlalchemy.dialects.postgresql import ARRAY

from shared.events import EventEnvelope
from shared.eventstore.guard import Stored
from shared.eventstore.schema import events

# PostgreSQL, one statement for a group commit's look-ups: a row per stream id (its version: a correlated
# max(), an index-only backward scan however the generic plan estimates the array) and a row per stored
# idempotency key (LIMIT 1 keeps the lateral lookup a primary-key probe per key: the planner cannot turn it
# into a hash join over the whole key table). Arrays: one prepared statement for every batch size.
PG_LOOKUP = """
SELECT ids.stream_id AS name,
       (SELECT max(e.version) FROM events AS e WHERE e.stream_id = ids.stream_id) AS version,
       NULL::varchar AS key, NULL::varchar AS request_hash, NULL::integer AS status_code, NULL::jsonb AS response,
       NULL::timestamptz AS created_at
  FROM unnest($1::varchar[]) AS ids(stream_id)
UNION ALL
SELECT found.namespace, NULL, found.key, found.request_hash, found.status_code, found.response, found.created_at
  FROM unnest($2::varchar[], $3::varchar[]) AS wanted(namespace, key)
  JOIN LATERAL (
    SELECT k.namespace, k.key, k.request_hash, k.status_code, k.response, k.created_at FROM idempotency_keys AS k
     WHERE k.namespace = wanted.namespace AND k.key = wanted.key LIMIT 1
  ) AS found ON true
"""


@functools.lru_cache(maxsize=64)
def sqlite_versions(count: int) -> str:
    """SQLite: the versions of ``count`` streams by the (stream_id, version) index, a statement per count."""
    listed = ", ".join("?" * count)
    return f"SELECT stream_id, max(version) FROM events WHERE stream_id IN ({listed}) GROUP BY stream_id"


def event_row(env: EventEnvelope, stored: Stored) -> dict[str, Any]:
    return {
        "stream_id": env.stream_id,
        "version": env.version,
        "event_id": env.event_id,
        "event_type": env.event_type,
        "schema_version": env.schema_version,
        "occurred_at": env.occurred_at,
        "data": stored.data,
        "metadata": stored.metadata,
    }


COLUMNS = ("stream_id", "version", "event_id", "event_type", "schema_version", "occurred_at", "data", "metadata")


def insert_events() -> Any:
    """SQLite: INSERT of event rows whose data and metadata are JSON text already (``Stored``), written as
    they are (typed as text, not as the JSON columns, whose serializer would encode them again), a row per
    parameter set (``shared/bulk.executemany``). The other columns come from the rows' keys, each typed by
    its column."""
    return insert(events).values(**{name: bindparam(name, type_=Text) for name in ("data", "metadata")})


INSERT_EVENTS = insert_events()

# PostgreSQL: a group commit's events in one statement, a column per array, cast to jsonb by the server:
# one Bind for the whole batch, where an executemany sent and ran a statement per event (the server's
# time and the client's). WITH ORDINALITY keeps the batch's order in the positions the rows are given.
INSERT_EVENTS_PG = text(
    """
INSERT INTO events (stream_id, version, event_id, event_type, schema_version, occurred_at, data, metadata)
SELECT r.stream_id, r.version, r.event_id, r.event_type, r.schema_version, r.occurred_at,
       CAST(r.data AS JSONB), CAST(r.metadata AS JSONB)
  FROM unnest(CAST(:stream_id AS VARCHAR[]), CAST(:version AS INTEGER[]), CAST(:event_id AS VARCHAR[]),
              CAST(:event_type AS VARCHAR[]), CAST(:schema_version AS INTEGER[]),
              CAST(:occurred_at AS TIMESTAMPTZ[]), CAST(:data AS TEXT[]), CAST(:metadata AS TEXT[]))
       WITH ORDINALITY AS r(stream_id, version, event_id, event_type, schema_version, occurred_at, data, metadata, n)
 ORDER BY r.n
"""
).bindparams(
    *(bindparam(name, type_=ARRAY(String)) for name in ("stream_id", "event_id", "event_type", "data", "metadata")),
    *(bindparam(name, type_=ARRAY(Integer)) for name in ("version", "schema_version")),
    bindparam("occurred_at", type_=ARRAY(DateTime(timezone=True))),
)
