"""The awards level projection, fed in-process as its runner would: the inbox, the review board by state,
the histories, and a unit leaving the level taking its proposals with it."""

from pathlib import Path

from sqlalchemy import select

from services.awards.adapters.level import AwardsLevel, board_state, level_awards, level_proposals, metadata
from services.awards.domain.rules import level_of
from shared.db import open_database
from shared.events import EventMetadata, new_envelope
from shared.projection import Context, Message
from tests.awards.awards_helpers import BCH, BOOK, BTV_HN, FECON, HN, NTL, TODAY, decision, proposal
from tests.awards.test_awards_domain import at_city, file, publicised, voted


async def _apply(db, events, level: str = "hn.ntl") -> None:  # type: ignore[no-untyped-def]
    projection = AwardsLevel()
    async with db.writer.begin() as conn:
        for n, event in enumerate(events, 1):
            envelope = new_envelope("proposal-p-1", n, event, EventMetadata(actor="t", unit_path=FECON.path))
            await projection.handle(
                conn, event, Context(level, Message(f"thidua.awards.x.{FECON.path}", n, FECON.path, envelope))
            )


async def test_inbox_board_and_history_follow_the_proposal(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/level.db")
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
    p = voted(publicised(proposal(*file())))
    _, rule = BOOK.award("cstd_tinh", TODAY)
    sent = p.escalate(BCH, rule, level_of(NTL), "07/TTr", TODAY)
    await _apply(db, [*file(), *p.publicity.values(), *p.votes.values(), *sent])
    async with db.reader.connect() as conn:
        (row,) = list(await conn.execute(select(level_proposals)))
    assert row.inbox == NTL.unit_id and board_state(row, NTL.unit_id) == "escalated"
    done = at_city()
    amount, base = BOOK.amount(rule, TODAY)
    conferred = done.decide(BTV_HN, rule, "v", "a-1", decision(level_of(HN)), amount, base)
    await _apply(db, [done.escalations[-1], *conferred])
    async with db.reader.connect() as conn:
        (row,) = list(await conn.execute(select(level_proposals)))
        (award,) = list(await conn.execute(select(level_awards)))
    assert board_state(row, NTL.unit_id) == "decided_above" and board_state(row, HN.unit_id) == "decided_here"
    assert award.nominee_name == "Nguyễn Văn An" and not award.revoked
    async with db.writer.begin() as conn:
        envelope = new_envelope("x", 1, conferred[0], EventMetadata(actor="t", unit_path=FECON.path))
        ctx = Context("hn.ntl", Message("s", 1, FECON.path, envelope))
        await AwardsLevel().units_left(conn, ctx, {FECON.unit_id})
    async with db.reader.connect() as conn:
        assert list(await conn.execute(select(level_proposals))) == []
        assert list(await conn.execute(select(level_awards))) == []
    await db.dispose()
