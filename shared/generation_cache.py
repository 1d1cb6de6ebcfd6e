"""What is read for nearly every request — who is calling, and where a unit sits with its ancestors —
kept in memory while the tree and the roles stay as they are: the directory's own records
(``services.directory.adapters.records``) and every other service's copy of them (``shared.directory_copy``).

Every event that can change a caller or a unit's place bumps one generation row in the transaction that
applies it. The cache holds entries of one generation and empties as soon as it sees another:

- after this process applied such an event, it looks at the counter on every access for a while
  (``settle_seconds``), so a role revoked or a unit moved here takes effect for the very next request;
- otherwise at most every ``recheck_seconds``: another replica (PostgreSQL) may have committed one.

An entry is filed under the generation seen *before* its rows were read, so its rows are never older
than the generation it claims; one read while the generation moved on is not kept.
"""

import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

MISSING = object()


class GenerationCache:
    def __init__(
        self,
        read_generation: Callable[[], Awaitable[Hashable]],
        *,
        recheck_seconds: float = 0.05,
        settle_seconds: float = 2.0,
        max_entries: int = 50_000,
    ) -> None:
        self._read_generation = read_generation
        self.recheck_seconds, self.settle_seconds, self.max_entries = recheck_seconds, settle_seconds, max_entries
        self.generation: Hashable | None = None
        self._checked_at = float("-inf")
        self._watch_until = float("-inf")
        self._entries: dict[Hashable, Any] = {}

    def changing(self) -> None:
        """This process is committing a change that bumps the generation: watch for it."""
        self._watch_until = time.monotonic() + self.settle_seconds

    async def current(self) -> Hashable:
        """The generation entries are valid at now (read from the database when due)."""
        now = time.monotonic()
        if self.generation is None or now < self._watch_until or now - self._checked_at >= self.recheck_seconds:
            self._checked_at = now  # one periodic read at a time: the others keep the generation meanwhile
            seen = await self._read_generation()
            if seen != self.generation:
                self._entries.clear()
                self.generation = seen
        assert self.generation is not None
        return self.generation

    def get(self, key: Hashable) -> Any:
        """The entry (valid at the generation ``current`` just returned), or ``MISSING``."""
        return self._entries.get(key, MISSING)

    def put(self, key: Hashable, value: Any, generation: Hashable) -> None:
        """Keep ``value``, read after ``generation`` was seen, unless the generation moved on meanwhile."""
        if generation != self.generation:
            return
        if len(self._entries) >= self.max_entries:
            self._entries.clear()  # a bound, not an eviction policy: refilled by the next reads
        self._entries[key] = value

    def clear(self) -> None:
        self._entries.clear()
        self.generation = None
