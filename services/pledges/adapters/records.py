"""The pledges service's records of its own aggregates: campaigns, targets, pledges, registrations and
reports. Updated in the append's transaction (``shared.records``); they back the lists (paginated,
filtered to the caller's subtree by joining the service's copy of the directory for current paths) and
the reminder scheduler.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.pledges import (
    CampaignClosed,
    CampaignLaunched,
    PledgeAmended,
    PledgeSigned,
    ProgressReported,
    RegistrationSubmitted,
    TargetAssigned,
)
from shared.directory_copy import units
from shared.projection import Context, on
from shared.records import Records
from shared.subjects import ancestors
from shared.subtree import at_or_below, below

metadata = MetaData()

campaigns = Table(
    "pledges_campaigns",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("launcher_unit_id", String(36), nullable=False),
    Column("launcher_path", String(400), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("plan_number", String(60), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("launch", JSON, nullable=False),
    Column("review", JSON, nullable=True),
    Column("version", Integer, nullable=False),
)
targets = Table(
    "pledges_targets",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("by_unit_id", String(36), nullable=False),
    Column("targets", JSON, nullable=False),
)
pledges = Table(
    "pledges_pledges",
    metadata,
    Column("pledge_id", String(100), primary_key=True),
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("signed_on", Date, nullable=False),
    Column("amendment", Integer, nullable=False),
    Column("commitments", JSON, nullable=False),
    Column("signatories", JSON, nullable=False),
    Column("version", Integer, nullable=False),
)
registrations = Table(
    "pledges_registrations",
    metadata,
    Column("registration_id", String(100), primary_key=True),
    Column("member_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("year", Integer, nullable=False),
    Column("target_titles", JSON, nullable=False),
    Column("topics", JSON, nullable=False),
)
reports = Table(
    "pledges_reports",
    metadata,
    Column("campaign_id", String(36), nullable=False, index=True),
    Column("unit_id", String(36), nullable=False),
    Column("indicator", String(40), nullable=False),
    Column("value", Float, nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)


class PledgesRecords(Records):
    """The records (updated inline) and the reads of the service's own lists."""

    metadata = metadata

    @on(CampaignLaunched)
    async def launched(self, conn: AsyncConnection, event: CampaignLaunched, ctx: Context) -> None:
        await conn.execute(
            insert(campaigns).values(
                campaign_id=event.campaign_id,
                launcher_unit_id=event.launcher_unit_id,
                launcher_path=event.launcher_path,
                title=event.title,
                plan_number=event.plan_number,
                starts_on=event.starts_on,
                ends_on=event.ends_on,
                status="open",
                launch=event.model_dump(mode="json"),
                version=ctx.message.envelope.version,
            )
        )

    @on(TargetAssigned)
    async def target(self, conn: AsyncConnection, event: TargetAssigned, ctx: Context) -> None:
        key = (targets.c.campaign_id == event.campaign_id, targets.c.unit_id == event.unit_id)
        await conn.execute(delete(targets).where(*key))
        await conn.execute(
            insert(targets).values(event.model_dump(include={"campaign_id", "unit_id", "by_unit_id", "targets"}))
        )
        await self._version(conn, event.campaign_id, ctx.message.envelope.version)

    @on(CampaignClosed)
    async def closed(self, conn: AsyncConnection, event: CampaignClosed, ctx: Context) -> None:
        await conn.execute(
            update(campaigns)
            .where(campaigns.c.campaign_id == event.campaign_id)
            .values(status="closed", review=event.model_dump(mode="json"), version=ctx.message.envelope.version)
        )

    @on(PledgeSigned)
    async def signed(self, conn: AsyncConnection, event: PledgeSigned, ctx: Context) -> None:
        d = event.model_dump(mode="json")
        await conn.execute(
            insert(pledges).values(
                pledge_id=event.pledge_id,
                campaign_id=event.campaign_id,
                unit_id=event.unit_id,
                signed_on=event.signed_on,
                amendment=1,
                commitments=d["commitments"],
                signatories=d["signatories"],
                version=ctx.message.envelope.version,
            )
        )

    @on(PledgeAmended)
    async def amended(self, conn: AsyncConnection, event: PledgeAmended, ctx: Context) -> None:
        commitments = event.model_dump(mode="json")["commitments"]
        await conn.execute(
            update(pledges)
            .where(pledges.c.pledge_id == event.pledge_id)
            .values(amendment=event.amendment, commitments=commitments, version=ctx.message.envelope.version)
        )

    @on(RegistrationSubmitted)
    async def registered(self, conn: AsyncConnection, event: RegistrationSubmitted, ctx: Context) -> None:
        keys = {"registration_id", "member_id", "unit_id", "year", "target_titles", "topics"}
        await conn.execute(insert(registrations).values(event.model_dump(mode="json", include=keys)))

    @on(ProgressReported)
    async def reported(self, conn: AsyncConnection, event: ProgressReported, ctx: Context) -> None:
        await conn.execute(
            insert(reports).values(
                campaign_id=event.campaign_id,
                unit_id=event.unit_id,
                indicator=event.indicator,
                value=event.value,
                reported_at=event.reported_at,
            )
        )

    @staticmethod
    async def _version(conn: AsyncConnection, campaign_id: str, version: int) -> None:
        await conn.execute(update(campaigns).where(campaigns.c.campaign_id == campaign_id).values(version=version))

    # -- reads -----------------------------------------------------------------------------------

    async def _rows(self, stmt: Any) -> list[dict[str, Any]]:
        async with self.db.reader.connect() as conn:
            return [dict(row._mapping) for row in await conn.execute(stmt)]

    async def campaign(self, campaign_id: str) -> dict[str, Any] | None:
        rows = await self._rows(select(campaigns).where(campaigns.c.campaign_id == campaign_id))
        return rows[0] if rows else None

    async def campaigns_for(self, path: str | None, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
        """Campaigns launched by the unit, by any unit below it, or by any unit above it (they reach it);
        every campaign for ``None`` (the platform admin)."""
        seen = (
            (campaigns.c.launcher_path.in_([*ancestors(path), path])) | below(campaigns.c.launcher_path, path)
            if path is not None
            else campaigns.c.campaign_id.is_not(None)
        )
        async with self.db.reader.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(campaigns).where(seen)) or 0
            rows = await conn.execute(
                select(campaigns)
                .where(seen)
                .order_by(campaigns.c.starts_on.desc(), campaigns.c.campaign_id)
                .limit(limit)
                .offset(offset)
            )
            return total, [dict(r._mapping) for r in rows]

    async def open_campaigns(self) -> list[dict[str, Any]]:
        return await self._rows(select(campaigns).where(campaigns.c.status == "open"))

    async def targets_of(self, campaign_id: str) -> list[dict[str, Any]]:
        stmt = (
            select(targets, units.c.path)
            .join(units, units.c.unit_id == targets.c.unit_id, isouter=True)
            .where(targets.c.campaign_id == campaign_id)
        )
        return await self._rows(stmt)

    async def pledges_of(
        self, campaign_id: str, under: str, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        where = (pledges.c.campaign_id == campaign_id, at_or_below(units.c.path, under))
        joined = pledges.join(units, units.c.unit_id == pledges.c.unit_id)
        async with self.db.reader.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(joined).where(*where)) or 0
            rows = await conn.execute(
                select(pledges, units.c.path, units.c.name)
                .select_from(joined)
                .where(*where)
                .order_by(units.c.path)
                .limit(limit)
                .offset(offset)
            )
            return total, [dict(r._mapping) for r in rows]

    async def registrations_of(
        self, unit_id: str, year: int | None, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        where = [registrations.c.unit_id == unit_id] + ([registrations.c.year == year] if year else [])
        async with self.db.reader.connect() as conn:
            total = await conn.scalar(select(func.count()).select_from(registrations).where(*where)) or 0
            rows = await conn.execute(
                select(registrations)
                .where(*where)
                .order_by(registrations.c.year.desc(), registrations.c.member_id)
                .limit(limit)
                .offset(offset)
            )
            return total, [dict(r._mapping) for r in rows]

    async def reported_units(self, campaign_id: str, after: datetime, until: datetime) -> set[str]:
        stmt = select(reports.c.unit_id).where(
            reports.c.campaign_id == campaign_id, reports.c.reported_at > after, reports.c.reported_at <= until
        )
        async with self.db.reader.connect() as conn:
            return {uid for (uid,) in await conn.execute(stmt)}
