"""Judge open proposals again when what they rest on changes: a rule set published or amended, an
initiative's recognition, a grade, a pledge's progress, an award conferred or revoked.

Bulk and cheap: proposals are read from the inline records (no aggregate replay), facts for a batch of
nominees in a few queries, and each changed judgement is appended at the version the record says (a
proposal changed meanwhile loses the race and is judged again in the next pass). Unchanged judgements
append nothing, so running it twice is harmless.
"""

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select

from contracts.awards import Eligibility, Evidence
from services.awards.adapters.facts import dirty
from services.awards.adapters.records import proposals
from services.awards.application.deps import Deps
from services.awards.domain.eligibility import Claim, evaluate
from services.awards.domain.proposal import reevaluation
from services.awards.domain.rules import CONFERRED, OPEN
from shared.errors import ConcurrencyError, Conflict, InvalidInput
from shared.events import EventMetadata
from shared.eventstore import StreamAppend

log = logging.getLogger(__name__)
BATCH = 1000
ACTOR = "system:reevaluation"


async def reevaluate(deps: Deps, cause: str, nominee_ids: Iterable[str] | None = None) -> int:
    """Judge again every open proposal (and conferred award) of ``nominee_ids`` (all when None);
    returns how many judgements changed."""
    statuses = [*OPEN, CONFERRED]
    changed = 0
    wanted = sorted(set(nominee_ids)) if nominee_ids is not None else None
    chunks = [wanted[i : i + BATCH] for i in range(0, len(wanted), BATCH)] if wanted is not None else [None]
    for chunk in chunks:
        after = ""
        while True:
            stmt = select(proposals).where(proposals.c.status.in_(statuses), proposals.c.proposal_id > after)
            if chunk is not None:
                stmt = stmt.where(proposals.c.nominee_id.in_(chunk))
            async with deps.db.reader.connect() as conn:
                rows = list(await conn.execute(stmt.order_by(proposals.c.proposal_id).limit(BATCH)))
                if not rows:
                    break
                facts = await deps.facts_of(conn, sorted({(r.nominee_kind, r.nominee_id) for r in rows}))
            changed += await _judge(deps, rows, facts, cause)
            after = rows[-1].proposal_id
    return changed


async def _judge(deps: Deps, rows: list[Any], facts: dict[str, Any], cause: str) -> int:
    book = await deps.book()
    today = deps.clock()
    paths = await deps.directory.paths(sorted({r.unit_id for r in rows}))
    appends: list[StreamAppend] = []
    for row in rows:
        try:
            rule_set, rule = book.award(row.award_code, today)
        except (InvalidInput, Conflict):
            continue  # the award left the catalogue: the proposal keeps the judgement it had
        filed = row.filed
        claim = Claim(
            row.year,
            row.campaign_id,
            frozenset(filed.get("attested", ())),
            tuple(Evidence.model_validate(e) for e in filed.get("evidence", ())),
        )
        after = evaluate(rule, rule_set.version, facts[row.nominee_id], claim, today)
        before = Eligibility.model_validate(row.eligibility)
        events = reevaluation(row.proposal_id, row.unit_id, before, after, cause)
        if events:
            meta = EventMetadata(actor=ACTOR, unit_path=paths.get(row.unit_id, ""))
            appends.append(StreamAppend.of(f"proposal-{row.proposal_id}", row.version, [(e, meta) for e in events]))
    results = await asyncio.gather(*(deps.store.append(a) for a in appends), return_exceptions=True)
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
        rows = list(await conn.execute(select(dirty).order_by(dirty.c.seq).limit(5000)))
    if not rows:
        return 0
    causes = sorted({r.cause for r in rows})
    changed = await reevaluate(deps, "; ".join(causes)[:200], [r.nominee_id for r in rows])
    async with deps.db.writer.begin() as conn:  # rows marked meanwhile (a higher seq) stay for the next pass
        await conn.execute(delete(dirty).where(dirty.c.seq <= rows[-1].seq))
    return changed
