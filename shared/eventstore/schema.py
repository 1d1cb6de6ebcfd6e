"""Tables of a service's event store (created and evolved by the Alembic migrations beside this file)."""

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

Json = JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements an INTEGER PRIMARY KEY (the rowid); PostgreSQL gets a bigint identity.
Position = BigInteger().with_variant(Integer(), "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("event_type", String(100), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("data", Json, nullable=False),
    Column("metadata", Json, nullable=False),
    UniqueConstraint("stream_id", "version", name="uq_events_stream_version"),
)

# How far each relay has published (the outbox cursor over events.position).
outbox = Table(
    "outbox",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Responses of commands sent with an Idempotency-Key, written in the same transaction as their events.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("namespace", String(200), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response", Json, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Keys expire after the retention window: the prune finds the oldest by this index (migration 0003).
    Index("ix_idempotency_keys_created_at", "created_at"),
)
