"""An in-memory index of every registration text of the service, for the duplicate search.

It follows the records' ``registry_similarity_texts`` table (append-only, ordered by ``seq``): each
search first loads the rows it has not seen, so several replicas stay current without messaging. Terms
shared by too many registrations are not looked up (they would only make the search slow); candidates
sharing the most rare terms are then scored exactly.
"""

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from services.registry.adapters.records import texts
from services.registry.domain.similarity import Features, features, similarity

_NEW_TEXTS = select(texts).where(texts.c.seq > bindparam("seen")).order_by(texts.c.seq)
FLAG_AT = 0.35  # a near-copy scores well above this; unrelated initiatives on one theme score below
CANDIDATES = 40
SEARCHED_KEPT = 256


@dataclass
class _Doc:
    initiative_id: str
    unit_id: str
    city: str
    title: str
    features: Features


@dataclass(frozen=True)
class Match:
    initiative_id: str
    unit_id: str
    title: str
    score: float


class DuplicateIndex:
    def __init__(self) -> None:
        self.docs: dict[str, _Doc] = {}
        self.postings: dict[str, set[str]] = defaultdict(set)
        self.seen = 0
        self._lock = asyncio.Lock()
        self._began = float("-inf")  # when the last refresh began reading (time.monotonic)
        # Features of the texts just searched for: a registration's own text is searched first, then
        # added on the next refresh; the pure computation is done once (bounded, oldest dropped).
        self._searched: dict[str, Features] = {}

    async def refresh(self, reader: AsyncEngine) -> None:
        """Load the texts stored since the last refresh. Concurrent callers wait for the lock without a
        connection (a burst of registrations held the whole reader pool while queued here), and a caller
        whose wait saw a refresh begin after it asked has nothing left to load: it returns at once."""
        asked = time.monotonic()
        async with self._lock:
            if self._began > asked:
                return
            self._began = time.monotonic()
            async with reader.connect() as conn:
                rows = await conn.execute(_NEW_TEXTS, {"seen": self.seen})
                for row in rows:
                    self.add(row.initiative_id, row.unit_id, row.city, row.title, row.text)
                    self.seen = row.seq

    def add(self, initiative_id: str, unit_id: str, city: str, title: str, text: str) -> None:
        old = self.docs.get(initiative_id)
        if old is not None:  # a revision replaces the text
            for term in old.features.terms:
                self.postings[term].discard(initiative_id)
        found = self._searched.pop(text, None)
        doc = _Doc(initiative_id, unit_id, city, title, found or features(text))
        self.docs[initiative_id] = doc
        for term in doc.features.terms:
            self.postings[term].add(initiative_id)

    def search(self, text: str, city: str, *, exclude: str | None = None, limit: int = 5) -> list[Match]:
        query = features(text)
        if len(self._searched) >= SEARCHED_KEPT:
            del self._searched[next(iter(self._searched))]
        self._searched[text] = query
        too_common = max(200, len(self.docs) // 50)
        votes: Counter[str] = Counter()
        for term in query.terms:
            posting = self.postings.get(term)
            if posting and len(posting) <= too_common:
                votes.update(posting)
        scored = []
        for initiative_id, _ in votes.most_common(CANDIDATES):
            doc = self.docs[initiative_id]
            if initiative_id == exclude or doc.city != city:
                continue
            score = similarity(query, doc.features)
            if score >= FLAG_AT:
                scored.append(Match(initiative_id, doc.unit_id, doc.title, score))
        scored.sort(key=lambda m: -m.score)
        return scored[:limit]
