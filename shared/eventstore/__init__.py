"""The append-only event store every service owns; its global position doubles as the outbox."""

from shared.eventstore.store import EventStore, IdempotencyRecord, StreamAppend

__all__ = ["EventStore", "IdempotencyRecord", "StreamAppend"]
