"""Judge open proposals again when what they rest on changes: a rule set published or amended, an
initiative's recognition, a grade, a pledge's progress, an award conferred or revoked.

Bulk and cheap: proposals are read from the inline records (no aggregate replay), facts for a batch of
nominees in a few queries, and each changed judgement is appended at the version the record says (a
proposal changed meanwhile loses the race and is judged again in the next pass). Unchanged judgements
append nothing, so running it twice is harmless.
"""

import asyncio
import contextlib
import gc
import logging
import uuid
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select

from contracts.awards import Evidence
from services.awards.adapters.facts import dirty
from services.awards.adapters.records import judgement, proposals
from services.awards.application.deps import Deps
from services.awards.domain.eligibility import Claim, evaluate
from services.awards.domain.proposal import judged_again
from services.awards.domain.rules import CONFERRED, OPEN
from shared.errors import ConcurrencyError, Conflict, InvalidInput
from shared.events import EventEnvelope, EventMetadata
from shared.eventstore import StreamAppend
from shared.ids import time_ordered_id

log = logging.getLogger(__name__)
BATCH = 2000
ACTOR = "system:reevaluation"
JUDGED = frozenset({*OPEN, CONFERRED})
# Only what judging needs (not the filed proposal's whole JSON).
PAGE_COLUMNS = [
    proposals.c[name]
    for name in (
        "proposal_id", "unit_id", "nominee_id", "nominee_kind", "award_code", "year", "campaign_id", "status",
        "outcome", "judgement", "attested", "evidence", "version",
    )
]  # fmt: skip


class _Metadata:
    """The metadata of one pass's judgements: one correlation id for everything one change caused, one
    metadata per unit path (the store proves each only once that it loads back)."""

    def __init__(self) -> None:
        self.correlation_id = str(uuid.uuid4())
        self._by_path: dict[str, EventMetadata] = {}

    def of(self, unit_path: str) -> EventMetadata:
        meta = self._by_path.get(unit_path)
        if meta is None:
            meta = EventMetadata(actor=ACTOR, unit_path=unit_path, correlation_id=self.correlation_id)
            self._by_path[unit_path] = meta
        return meta


async def reevaluate(deps: Deps, cause: str, nominee_ids: Iterable[str] | None = None) -> int:
    """Judge again every open proposal (and conferred award) of ``nominee_ids`` (all when None);
    returns how many judgements changed."""
    changed = 0
    metas = _Metadata()
    with _heap_frozen():
        if nominee_ids is not None:  # some nominees: their proposals by the nominee index, a chunk at a time
            wanted = sorted(set(nominee_ids))
            for start in range(0, len(wanted), BATCH):
                stmt = select(proposals).where(proposals.c.nominee_id.in_(wanted[start : start + BATCH]))
                changed += (await _judge_page(deps, stmt, cause, metas))[0]
            return changed
        after: str | None = ""
        while after is not None:  # everyone: walk the primary key (a status filter would scan and sort per page)
            stmt = (
                select(proposals).where(proposals.c.proposal_id > after).order_by(proposals.c.proposal_id).limit(BATCH)
            )
            judged, after = await _judge_page(deps, stmt, cause, metas)
            changed += judged
    return changed


@contextlib.contextmanager
def _heap_frozen() -> Iterator[None]:
    """The process's heap as it is, left out of the collector's full passes while judging.

    A page's judgements live until their transaction commits, so thousands of them reach the oldest
    generation and trigger full collections — each of which would walk the whole heap (modules, schemas, the
    rule book, caches) again: a quarter of the pass's CPU time, measured. Frozen, that heap is skipped;
    unfrozen after, it is collected as before (garbage in it only waits until then). A pass running beside
    another may unfreeze early: only slower, never wrong."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


async def _judge_page(deps: Deps, stmt: Any, cause: str, metas: _Metadata) -> tuple[int, str | None]:
    """Judge one page of proposals; returns how many changed and the page's last id (None: no page)."""
    async with deps.db.reader.connect() as conn:
        page = list(await conn.execute(stmt.with_only_columns(*PAGE_COLUMNS)))
        rows = [r for r in page if r.status in JUDGED]
        facts = await deps.facts_of(conn, sorted({(r.nominee_kind, r.nominee_id) for r in rows})) if rows else {}
    last = page[-1].proposal_id if page else None
    return (await _judge(deps, rows, facts, cause, metas) if rows else 0), last


async def _judge(deps: Deps, rows: list[Any], facts: dict[str, Any], cause: str, metas: _Metadata) -> int:
    book = await deps.book()
    today = deps.clock()
    paths = await deps.directory.paths(sorted({r.unit_id for r in rows}))
    appends: list[StreamAppend] = []
    rules: dict[str, Any] = {}  # award code → (rule set, rule) today, looked up once per page
    for row in rows:
        if row.award_code not in rules:
            try:
                rules[row.award_code] = book.award(row.award_code, today)
            except (InvalidInput, Conflict):
                rules[row.award_code] = None
        if rules[row.award_code] is None:
            continue  # the award left the catalogue: the proposal keeps the judgement it had
        rule_set, rule = rules[row.award_code]
        claim = Claim(
            row.year,
            row.campaign_id,
            frozenset(row.attested),
            tuple(Evidence.model_validate(e) for e in row.evidence) if row.evidence else (),
        )
        after = evaluate(rule, rule_set.version, facts[row.nominee_id], claim, today)
        event = judged_again(row.proposal_id, row.unit_id, row.outcome, after, cause)
        data = event.model_dump(mode="json")  # once: the digest below and the stored event share it
        if row.outcome == after.outcome and row.judgement == judgement(data["eligibility"]["criteria"]):
            continue  # the same judgement (only its date or version would differ): nothing to record
        stream_id = f"proposal-{row.proposal_id}"
        envelope = EventEnvelope(
            event_id=time_ordered_id(),
            event_type=event.event_type,
            schema_version=event.schema_version,
            stream_id=stream_id,
            version=row.version + 1,
            occurred_at=datetime.now(UTC),
            data=data,
            metadata=metas.of(paths.get(row.unit_id, "")),
        )
        appends.append(StreamAppend(stream_id, row.version, [envelope]))
    if not appends:
        return 0
    try:  # one transaction for the batch; if any proposal changed meanwhile, each goes on its own
        await deps.store.append(*appends)
        results: list[object] = []
    except ConcurrencyError:
        results = list(await asyncio.gather(*(deps.store.append(a) for a in appends), return_exceptions=True))
    lost = [r for r in results if isinstance(r, ConcurrencyError)]
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, ConcurrencyError):
            raise result
    if lost:
        log.info("%d proposals changed while being judged again; the next pass judges them", len(lost))
    if appends:
        deps.on_commit()
    return len(appends) - len(lost)


async def reevaluate_dirty(deps: Deps) -> int:
    """Judge again the nominees whose facts changed (``awards_fact_dirty``), then forget those rows."""
    async with deps.db.reader.connect() as conn:
        # The head of a queue drained each round: a range on its key (a search, never a scan of the table).
        rows = list(await conn.execute(select(dirty).where(dirty.c.seq > 0).order_by(dirty.c.seq).limit(5000)))
    if not rows:
        return 0
    causes = sorted({r.cause for r in rows})
    changed = await reevaluate(deps, "; ".join(causes)[:200], [r.nominee_id for r in rows])
    async with deps.db.writer.begin() as conn:  # rows marked meanwhile (a higher seq) stay for the next pass
        await conn.execute(delete(dirty).where(dirty.c.seq <= rows[-1].seq))
    return changed
