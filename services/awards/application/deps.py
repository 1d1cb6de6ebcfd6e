"""One place builds what the handlers need (cosmicpython's bootstrap): the store and its repositories,
the service's copy of the directory, its copies of the facts, the evidence store, the rule book, a clock."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import Level, Nominee
from services.awards.adapters.facts import FactsReader
from services.awards.domain.eligibility import NomineeFacts
from services.awards.domain.ledgers import NomineeRecord, QuotaLedger
from services.awards.domain.proposal import Proposal
from services.awards.domain.rulebook import RuleBook, RuleBookRecord
from services.awards.domain.rules import OFFICIAL_ROLES, SUB_UNIT, level_of
from shared.db import Database
from shared.directory_copy import DirectoryCopy
from shared.errors import Forbidden, InvalidInput, NotFound
from shared.events import Event
from shared.eventstore import EventStore
from shared.evidence import EvidenceStore
from shared.identity import Caller
from shared.repository import Repository
from shared.units import UnitRef

RULEBOOK_ID = "city"


@dataclass
class Deps:
    store: EventStore
    db: Database
    directory: DirectoryCopy
    evidence: EvidenceStore | None
    clock: Callable[[], date] = date.today
    facts: FactsReader = field(default_factory=FactsReader)
    on_commit: Callable[[], None] = lambda: None  # wakes the public feed relay and the re-evaluation
    background: set[asyncio.Task[Any]] = field(default_factory=set)  # judgements running after a command

    def __post_init__(self) -> None:
        self.proposals = Repository(self.store, Proposal, "proposal")
        self.nominees = Repository(self.store, NomineeRecord, "nominee")
        self.quotas = Repository(self.store, QuotaLedger, "quota")
        self.rulebook = Repository(self.store, RuleBookRecord, "rulebook", what="rule book")

    # -- the rule book -----------------------------------------------------------------------------

    async def book(self) -> RuleBook:
        return (await self.rulebook.load(RULEBOOK_ID)).book

    # -- units and people --------------------------------------------------------------------------

    async def unit_at(self, path: str, field_name: str = "unit_path") -> UnitRef:
        unit = await self.directory.by_path(path)
        if unit is None:
            raise NotFound(f"no unit at {path}", field=field_name, code="award.unit_not_found", params={"path": path})
        return unit

    async def unit(self, unit_id: str) -> UnitRef:
        unit = await self.directory.unit(unit_id)
        if unit is None:
            raise NotFound(f"unit {unit_id} is not known", code="award.unit_not_found", params={"unit_id": unit_id})
        return unit

    async def current(self, unit_id: str) -> UnitRef:
        """The unit as it is today; a unit merged into another answers with the one it merged into."""
        unit = await self.unit(unit_id)
        for _ in range(10):
            if unit.merged_into is None:
                break
            unit = await self.unit(unit.merged_into)
        return unit

    async def subtree(self, path: str) -> dict[str, str]:
        """Unit id → path of every active unit at or under ``path`` now."""
        from shared.directory_copy import units

        stmt = select(units.c.unit_id, units.c.path).where((units.c.path == path) | units.c.path.like(path + ".%"))
        async with self.db.reader.connect() as conn:
            return dict(list(await conn.execute(stmt)))

    async def member_counts(self, conn: AsyncConnection, unit_ids: list[str]) -> dict[str, int]:
        from shared.directory_copy import members

        stmt = (
            select(members.c.unit_id, func.count()).where(members.c.unit_id.in_(unit_ids)).group_by(members.c.unit_id)
        )
        return dict(list(await conn.execute(stmt)))

    async def home(self, caller: Caller, path: str | None) -> UnitRef:
        """The unit a command acts for: the one named (in the caller's subtree), or the caller's own."""
        if path is None:
            if caller.unit is None:
                raise InvalidInput("name the unit (unit_path)", field="unit_path", code="award.unit_required")
            return caller.unit
        unit = await self.unit_at(path)
        caller.require_subtree(unit.path, field="unit_path")
        return unit

    async def chain(self, unit: UnitRef) -> list[UnitRef]:
        return await self.directory.chain(unit)

    async def handling(self, home: UnitRef) -> tuple[UnitRef, list[UnitRef]]:
        """The level that handles a unit's proposals first (a sub-unit's grassroots union) and its chain."""
        chain = await self.chain(home)
        for unit in reversed(chain):
            if unit.kind != SUB_UNIT:
                return unit, await self.chain(unit)
        return home, chain

    async def nominee(self, kind: str, member_id: str | None, unit_path: str | None, level: Level) -> Nominee:
        """The nominee as the directory knows them now; they must belong to the proposing level's subtree."""
        if kind == "individual":
            assert member_id is not None
            member = await self.directory.member(member_id)
            if member is None:
                raise InvalidInput(
                    f"no member {member_id}",
                    field="nominee.member_id",
                    code="award.member_not_found",
                    params={"member_id": member_id},
                )
            unit = await self.unit(member["unit_id"])
            name, job = member["full_name"], member.get("job_title")
            official = bool(OFFICIAL_ROLES & set(member.get("roles", ())))
            nid = member_id
        else:
            assert unit_path is not None
            unit = await self.unit_at(unit_path, "nominee.unit_path")
            name, job, official, nid = unit.name, None, False, unit.unit_id
        if not (unit.path == level.path or unit.path.startswith(level.path + ".")):
            raise Forbidden(
                f"{name} belongs to {unit.path}, outside {level.path}",
                field="nominee",
                code="award.nominee_outside_level",
                params={"nominee_unit": unit.path, "level": level.path},
            )
        return Nominee(
            kind=kind,  # type: ignore[arg-type]
            id=nid,
            name=name,
            unit_id=unit.unit_id,
            unit_path=unit.path,
            unit_name=unit.name,
            is_official=official,
            job_title=job,
        )

    # -- facts -------------------------------------------------------------------------------------

    async def facts_of(self, conn: AsyncConnection, nominees: list[tuple[str, str]]) -> dict[str, NomineeFacts]:
        counts = await self.member_counts(conn, sorted({nid for kind, nid in nominees if kind == "collective"}))
        return await self.facts.load(conn, nominees, counts)


def level(unit: UnitRef) -> Level:
    return level_of(unit)


def flatten(*groups: list[Event]) -> list[Event]:
    return [event for group in groups for event in group]
