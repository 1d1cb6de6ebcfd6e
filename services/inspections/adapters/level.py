"""The inspections projection: one union level's facts, checklists, inspections, grades and radar signals.

Run by the level host for each level (the runner owns which units the level holds, back-fills a unit
that joins and calls ``units_left`` when units leave), and by the service itself at level ``*`` — its own
copy of the pledges, registry and directory facts that pre-fill checklists and judge self-assessments.

Handlers only record facts, keyed by the unit they belong to; where a unit sits (its subtree, its
grassroots union, the unit it merged into) is read from the units table when a view is read, so the same
handlers serve a level and the whole platform. Counts are folded per batch (``flush``); signals fixed by
an event are judged with the rule set in force on the event's date and keep that version.
"""

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.awards import AwardConferred, AwardRevoked
from contracts.directory import MemberEnrolled, UnitAbsorbed, UnitMerged, UnitRegistered
from contracts.inspections import (
    ChecklistIssued,
    ChecklistWithdrawn,
    CorrectiveActionAssigned,
    CorrectiveActionFixReported,
    CorrectiveActionReopened,
    CorrectiveActionVerified,
    FindingRecorded,
    GradeConfirmed,
    InspectionConcluded,
    InspectionDecisionIssued,
    InspectionNoticeIssued,
    InspectionScheduled,
    SelfGraded,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionRoundClosed,
    SelfInspectionRoundOpened,
    SelfInspectionSubmitted,
)
from contracts.pledges import (
    CampaignClosed,
    CampaignLaunched,
    PledgeAmended,
    PledgeSigned,
    ProgressReported,
    ReminderIssued,
    TargetAssigned,
)
from contracts.registry import (
    InitiativeAccepted,
    InitiativeApplied,
    InitiativeRecognised,
    InitiativeRegistered,
    InitiativeRejected,
    InitiativeReturned,
    InitiativeRevised,
)
from services.inspections.adapters.tables import (
    UNIT_TABLES,
    actions,
    awarded,
    campaigns,
    checklists,
    commitments,
    counts,
    findings,
    grades,
    initiatives,
    inspected,
    inspections,
    merged,
    metadata,
    reported,
    rounds,
    signals,
    targets,
    unit_dates,
)
from services.inspections.domain import radar
from services.inspections.domain.rulesets import rules_on
from shared.events import Event
from shared.projection import Context, Projection, on

# What a counted pledge indicator counts (contracts.pledges.Source), by the event that is counted.
COUNTED: dict[str, str] = {
    InitiativeRegistered.event_type: "initiatives_registered",
    InitiativeRecognised.event_type: "initiatives_recognised",
    InitiativeApplied.event_type: "initiatives_applied",
    InitiativeAccepted.event_type: "initiatives_accepted",
    MemberEnrolled.event_type: "members_enrolled",
}
STATUS_AFTER: dict[str, str] = {
    InitiativeRegistered.event_type: "registered",
    InitiativeRevised.event_type: "registered",
    InitiativeReturned.event_type: "returned",
    InitiativeRejected.event_type: "rejected",
    InitiativeRecognised.event_type: "recognised",
    InitiativeApplied.event_type: "applied",
    InitiativeAccepted.event_type: "accepted",
}
_STATUS_RANK = {"registered": 1, "returned": 1, "rejected": 1, "recognised": 2, "applied": 3, "accepted": 4}


def upsert(conn: AsyncConnection, table: Any) -> Any:
    return (pg_insert if conn.dialect.name == "postgresql" else sqlite_insert)(table)


class InspectionsProjection(Projection):
    name = "inspections_level"
    services = ("inspections", "pledges", "registry", "directory", "awards")
    metadata = metadata

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, date, str], int] = defaultdict(int)
        self._bunching: set[tuple[str, str]] = set()  # (unit, campaign) whose registrations changed
        self._campaigns: dict[str, dict[str, Any]] | None = None

    # -- batches ---------------------------------------------------------------------------------------

    async def flush(self, conn: AsyncConnection, level: str) -> None:
        if self._counts:
            rows = [
                {"unit_id": u, "source": s, "day": d, "campaign_key": c, "n": n}
                for (u, s, d, c), n in self._counts.items()
            ]
            self._counts.clear()
            stmt = upsert(conn, counts)
            await conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[counts.c.unit_id, counts.c.source, counts.c.day, counts.c.campaign_key],
                    set_={"n": counts.c.n + stmt.excluded.n},
                ),
                rows,
            )
        if self._bunching:
            pending, self._bunching = self._bunching, set()
            for unit_id, campaign_id in sorted(pending):
                await self._judge_bunching(conn, unit_id, campaign_id)

    def reset(self) -> None:
        self._counts.clear()
        self._bunching.clear()
        self._campaigns = None

    async def units_left(self, conn: AsyncConnection, ctx: Context, unit_ids: set[str]) -> None:
        ids = sorted(unit_ids)
        self._counts = defaultdict(int, {k: v for k, v in self._counts.items() if k[0] not in unit_ids})
        for table in UNIT_TABLES:
            for start in range(0, len(ids), 500):
                await conn.execute(delete(table).where(table.c.unit_id.in_(ids[start : start + 500])))

    # -- directory ---------------------------------------------------------------------------------------

    @on(UnitRegistered)
    async def unit_registered(self, conn: AsyncConnection, event: UnitRegistered, ctx: Context) -> None:
        since = getattr(event, "established_on", None) or ctx.occurred_at.date()
        stmt = upsert(conn, unit_dates).values(unit_id=event.unit_id, operating_since=since)
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[unit_dates.c.unit_id]))

    @on(UnitAbsorbed)
    async def unit_absorbed(self, conn: AsyncConnection, event: UnitAbsorbed, ctx: Context) -> None:
        """A merger restarts the absorbing union's clock for grading (the shorter one, after a merger)."""
        await conn.execute(
            update(unit_dates)
            .where(unit_dates.c.unit_id == event.unit_id)
            .values(restructured_on=ctx.occurred_at.date())
        )

    @on(UnitMerged)
    async def unit_merged(self, conn: AsyncConnection, event: UnitMerged, ctx: Context) -> None:
        stmt = upsert(conn, merged).values(unit_id=event.unit_id, into_unit_id=event.into_unit_id)
        await conn.execute(
            stmt.on_conflict_do_update(index_elements=[merged.c.unit_id], set_={"into_unit_id": event.into_unit_id})
        )

    @on(MemberEnrolled)
    async def member_enrolled(self, conn: AsyncConnection, event: MemberEnrolled, ctx: Context) -> None:
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    # -- pledges -----------------------------------------------------------------------------------------

    @on(CampaignLaunched)
    async def campaign_launched(self, conn: AsyncConnection, event: CampaignLaunched, ctx: Context) -> None:
        stmt = upsert(conn, campaigns).values(
            campaign_id=event.campaign_id,
            launcher_path=event.launcher_path,
            title=event.title,
            starts_on=event.starts_on,
            ends_on=event.ends_on,
            indicators=[i.model_dump(mode="json") for i in event.indicators],
            report_deadlines=[d.isoformat() for d in event.report_deadlines],
            status="open",
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[campaigns.c.campaign_id]))
        self._campaigns = None

    @on(CampaignClosed)
    async def campaign_closed(self, conn: AsyncConnection, event: CampaignClosed, ctx: Context) -> None:
        await conn.execute(
            update(campaigns).where(campaigns.c.campaign_id == event.campaign_id).values(status="closed")
        )

    @on(TargetAssigned)
    async def target_assigned(self, conn: AsyncConnection, event: TargetAssigned, ctx: Context) -> None:
        key = (targets.c.campaign_id == event.campaign_id, targets.c.unit_id == event.unit_id)
        await conn.execute(delete(targets).where(*key))
        rows = [
            {"campaign_id": event.campaign_id, "unit_id": event.unit_id, "indicator": code, "target": value}
            for code, value in event.targets.items()
        ]
        if rows:
            await conn.execute(insert(targets), rows)
        await self._judge_reported(conn, event.campaign_id, event.unit_id)

    @on(PledgeSigned, PledgeAmended)
    async def pledged(self, conn: AsyncConnection, event: PledgeSigned | PledgeAmended, ctx: Context) -> None:
        key = (commitments.c.campaign_id == event.campaign_id, commitments.c.unit_id == event.unit_id)
        await conn.execute(delete(commitments).where(*key))
        rows = {
            c.indicator: {
                "campaign_id": event.campaign_id,
                "unit_id": event.unit_id,
                "indicator": c.indicator,
                "target": c.target,
                "deadline": c.deadline,
            }
            for c in event.commitments
        }
        if rows:
            await conn.execute(insert(commitments), list(rows.values()))
        await self._judge_reported(conn, event.campaign_id, event.unit_id)

    @on(ProgressReported)
    async def progress_reported(self, conn: AsyncConnection, event: ProgressReported, ctx: Context) -> None:
        rules = rules_on(event.reported_at.date()).radar
        key = (
            reported.c.campaign_id == event.campaign_id,
            reported.c.unit_id == event.unit_id,
            reported.c.indicator == event.indicator,
        )
        before = await conn.scalar(select(reported.c.verifiable).where(*key))
        await conn.execute(delete(reported).where(*key))
        await conn.execute(
            insert(reported).values(
                campaign_id=event.campaign_id,
                unit_id=event.unit_id,
                indicator=event.indicator,
                value=event.value,
                verifiable=bool(before) or radar.verifiable(event.evidence, rules),
                reported_on=event.reported_at.date(),
                evidence=list(event.evidence),
            )
        )
        await self._judge_reported(conn, event.campaign_id, event.unit_id)

    @on(ReminderIssued)
    async def reminder_issued(self, conn: AsyncConnection, event: ReminderIssued, ctx: Context) -> None:
        if event.kind != "report_overdue":
            return
        campaign = (await self._campaign_cache(conn)).get(event.campaign_id, {})
        await self._signal(
            conn,
            event.unit_id,
            "report_late",
            f"{event.campaign_id}:{event.deadline.isoformat()}",
            event.deadline + timedelta(days=1),
            rules_on(event.deadline).version,
            {
                "campaign_id": event.campaign_id,
                "campaign": campaign.get("title", ""),
                "deadline": event.deadline,
                "reminded_at": event.issued_at,
            },
        )

    # -- registry ----------------------------------------------------------------------------------------

    @on(InitiativeRegistered)
    async def initiative_registered(self, conn: AsyncConnection, event: InitiativeRegistered, ctx: Context) -> None:
        day = ctx.occurred_at.date()
        stmt = upsert(conn, initiatives).values(
            initiative_id=event.initiative_id,
            unit_id=event.unit_id,
            title=event.registration.title,
            campaign_id=event.campaign_id,
            status="registered",
            registered_on=day,
            applied_on=None,
            recognised=False,
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[initiatives.c.initiative_id]))
        self._count(event.unit_id, COUNTED[event.event_type], ctx, event.campaign_id or "")
        await self._duplicates(
            conn, event.unit_id, event.initiative_id, event.registration.title, event.possible_duplicates, day
        )
        if event.campaign_id:
            self._bunching.add((event.unit_id, event.campaign_id))

    @on(InitiativeRevised)
    async def initiative_revised(self, conn: AsyncConnection, event: InitiativeRevised, ctx: Context) -> None:
        await self._status(conn, event)
        await conn.execute(
            update(initiatives)
            .where(initiatives.c.initiative_id == event.initiative_id)
            .values(title=event.registration.title)
        )
        await self._duplicates(
            conn,
            event.unit_id,
            event.initiative_id,
            event.registration.title,
            event.possible_duplicates,
            ctx.occurred_at.date(),
        )

    @on(InitiativeReturned, InitiativeRejected)
    async def initiative_decided(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        await self._status(conn, event)

    @on(InitiativeRecognised)
    async def initiative_recognised(self, conn: AsyncConnection, event: InitiativeRecognised, ctx: Context) -> None:
        """Counted once, whatever the number of levels that recognise it."""
        before = await conn.scalar(
            select(initiatives.c.recognised).where(initiatives.c.initiative_id == event.initiative_id)
        )
        await self._status(conn, event, recognised=True)
        if not before:
            self._count(event.unit_id, COUNTED[event.event_type], ctx)

    @on(InitiativeApplied)
    async def initiative_applied(self, conn: AsyncConnection, event: InitiativeApplied, ctx: Context) -> None:
        first = await conn.scalar(
            select(initiatives.c.applied_on).where(initiatives.c.initiative_id == event.initiative_id)
        )
        await self._status(conn, event, applied_on=min(first, event.since) if first else event.since)
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    @on(InitiativeAccepted)
    async def initiative_accepted(self, conn: AsyncConnection, event: InitiativeAccepted, ctx: Context) -> None:
        await self._status(conn, event)
        self._count(event.unit_id, COUNTED[event.event_type], ctx)

    # -- self-inspection ---------------------------------------------------------------------------------

    @on(SelfInspectionRoundOpened)
    async def round_opened(self, conn: AsyncConnection, event: SelfInspectionRoundOpened, ctx: Context) -> None:
        await conn.execute(
            insert(rounds).values(
                round_id=event.round_id,
                level_unit_id=event.level_unit_id,
                level_path=event.level_path,
                year=event.year,
                period=event.period,
                title=event.title,
                opened_on=event.opened_on,
                due_on=event.due_on,
                unit_count=event.unit_count,
                status="open",
            )
        )

    @on(SelfInspectionRoundClosed)
    async def round_closed(self, conn: AsyncConnection, event: SelfInspectionRoundClosed, ctx: Context) -> None:
        await conn.execute(update(rounds).where(rounds.c.round_id == event.round_id).values(status="closed"))

    @on(ChecklistIssued)
    async def checklist_issued(self, conn: AsyncConnection, event: ChecklistIssued, ctx: Context) -> None:
        await conn.execute(
            insert(checklists).values(
                unit_id=event.unit_id,
                year=event.year,
                period=event.period,
                round_id=event.round_id,
                due_on=event.due_on,
                status="issued",
                contradictions=0,
                amendments=0,
            )
        )

    @on(SelfInspectionSubmitted, SelfInspectionAmended)
    async def self_inspection_submitted(
        self, conn: AsyncConnection, event: SelfInspectionSubmitted | SelfInspectionAmended, ctx: Context
    ) -> None:
        where = (checklists.c.unit_id == event.unit_id, checklists.c.round_id == event.round_id)
        row = (await conn.execute(select(checklists.c.due_on).where(*where))).first()
        submitted = isinstance(event, SelfInspectionSubmitted)
        day = event.submitted_at.date() if isinstance(event, SelfInspectionSubmitted) else ctx.occurred_at.date()
        if submitted:
            values: dict[str, Any] = {
                "status": "submitted",
                "submitted_at": event.submitted_at,
                "days_late": event.days_late,
            }
        else:
            values = {"amendments": event.amendment}
        await conn.execute(update(checklists).where(*where).values(contradictions=len(event.contradictions), **values))
        version = rules_on(day).version
        await conn.execute(
            delete(signals).where(
                signals.c.unit_id == event.unit_id,
                signals.c.kind == "contradicted",
                signals.c.subject.like(f"{event.round_id}:%"),
            )
        )
        for found in event.contradictions:
            await self._signal(
                conn,
                event.unit_id,
                "contradicted",
                f"{event.round_id}:{found.item}",
                day,
                version,
                {"round_id": event.round_id, **found.model_dump(mode="json")},
            )
        if submitted and event.days_late == 0:
            # Submitted on time on paper and entered after the sweep recorded it overdue: it was not late.
            await self._drop_signal(conn, event.unit_id, "self_inspection_late", event.round_id)
        if isinstance(event, SelfInspectionSubmitted) and event.days_late > 0 and row is not None:
            await self._signal(
                conn,
                event.unit_id,
                "self_inspection_late",
                event.round_id,
                row.due_on + timedelta(days=1),
                version,
                {
                    "round_id": event.round_id,
                    "due_on": row.due_on,
                    "submitted_at": event.submitted_at,
                    "days_late": event.days_late,
                },
            )

    @on(SelfInspectionOverdue)
    async def self_inspection_overdue(self, conn: AsyncConnection, event: SelfInspectionOverdue, ctx: Context) -> None:
        await conn.execute(
            update(checklists)
            .where(checklists.c.unit_id == event.unit_id, checklists.c.round_id == event.round_id)
            .values(overdue_detected=event.detected_at.date())
        )
        await self._signal(
            conn,
            event.unit_id,
            "self_inspection_late",
            event.round_id,
            event.due_on + timedelta(days=1),
            rules_on(event.due_on).version,
            {
                "round_id": event.round_id,
                "due_on": event.due_on,
                "detected_at": event.detected_at,
                "days_late": event.days_late,
                "submitted_at": None,
            },
        )

    @on(ChecklistWithdrawn)
    async def checklist_withdrawn(self, conn: AsyncConnection, event: ChecklistWithdrawn, ctx: Context) -> None:
        await conn.execute(
            update(checklists)
            .where(checklists.c.unit_id == event.unit_id, checklists.c.round_id == event.round_id)
            .values(status="withdrawn")
        )
        await conn.execute(
            delete(signals).where(
                signals.c.unit_id == event.unit_id,
                signals.c.kind == "self_inspection_late",
                signals.c.subject == event.round_id,
            )
        )

    # -- upper-level inspections -------------------------------------------------------------------------

    @on(InspectionScheduled)
    async def inspection_scheduled(self, conn: AsyncConnection, event: InspectionScheduled, ctx: Context) -> None:
        await conn.execute(
            insert(inspections).values(
                inspection_id=event.inspection_id,
                by_unit_id=event.by_unit_id,
                by_path=event.by_path,
                content=event.content,
                purpose=event.purpose,
                status="scheduled",
                period_from=event.period_from,
                period_to=event.period_to,
                selection=event.selection.model_dump(mode="json"),
            )
        )
        await conn.execute(
            insert(inspected),
            [
                {"inspection_id": event.inspection_id, "unit_id": u.unit_id, "reasons": list(u.reasons)}
                for u in event.units
            ],
        )

    @on(InspectionNoticeIssued, InspectionDecisionIssued, InspectionConcluded)
    async def inspection_progressed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        data = event.model_dump(mode="json")
        match event:
            case InspectionNoticeIssued():
                values: dict[str, Any] = {"status": "noticed", "notice": data}
            case InspectionDecisionIssued():
                values = {"status": "decided", "decision": data}
            case _:
                values = {"status": "concluded", "conclusion": data}
        await conn.execute(
            update(inspections).where(inspections.c.inspection_id == data["inspection_id"]).values(**values)
        )

    @on(FindingRecorded)
    async def finding_recorded(self, conn: AsyncConnection, event: FindingRecorded, ctx: Context) -> None:
        await conn.execute(
            insert(findings).values(
                finding_id=event.finding_id,
                inspection_id=event.inspection_id,
                unit_id=event.unit_id,
                severity=event.severity,
                description=event.description,
                recommendation=event.recommendation,
                recorded_on=ctx.occurred_at.date(),
            )
        )

    @on(CorrectiveActionAssigned)
    async def action_assigned(self, conn: AsyncConnection, event: CorrectiveActionAssigned, ctx: Context) -> None:
        await conn.execute(
            insert(actions).values(
                action_id=event.action_id,
                inspection_id=event.inspection_id,
                unit_id=event.unit_id,
                finding_id=event.finding_id,
                description=event.description,
                owner=event.owner,
                due_on=event.due_on,
                status="open",
                assigned_on=ctx.occurred_at.date(),
                reopened=0,
            )
        )

    @on(CorrectiveActionFixReported, CorrectiveActionVerified, CorrectiveActionReopened)
    async def action_progressed(self, conn: AsyncConnection, event: Event, ctx: Context) -> None:
        match event:
            case CorrectiveActionFixReported():
                values: dict[str, Any] = {"status": "fix_reported", "fix_reported_on": event.reported_on}
            case CorrectiveActionVerified():
                values = {"status": "verified", "verified_on": event.verified_on}
            case CorrectiveActionReopened():
                values = {
                    "status": "open",
                    "due_on": event.due_on,
                    "fix_reported_on": None,
                    "reopened": actions.c.reopened + 1,
                }
            case _:
                return
        await conn.execute(update(actions).where(actions.c.action_id == event.action_id).values(**values))  # type: ignore[attr-defined]

    # -- grading -----------------------------------------------------------------------------------------

    @on(SelfGraded)
    async def self_graded(self, conn: AsyncConnection, event: SelfGraded, ctx: Context) -> None:
        await conn.execute(delete(grades).where(grades.c.unit_id == event.unit_id, grades.c.year == event.year))
        await conn.execute(
            insert(grades).values(
                unit_id=event.unit_id,
                year=event.year,
                union_type=event.union_type,
                self_grade=event.grade,
                self_points=event.points,
                changed=False,
                reason="",
                revision=0,
                rule_set=event.rule_set,
            )
        )

    @on(GradeConfirmed)
    async def grade_confirmed(self, conn: AsyncConnection, event: GradeConfirmed, ctx: Context) -> None:
        await conn.execute(
            update(grades)
            .where(grades.c.unit_id == event.unit_id, grades.c.year == event.year)
            .values(
                grade=event.grade,
                points=event.points,
                changed=event.changed,
                reason=event.reason,
                revision=event.revision,
                by_path=event.by_path,
            )
        )

    # -- awards (the radar's awards signal) --------------------------------------------------------------

    @on(AwardConferred)
    async def award_conferred(self, conn: AsyncConnection, event: AwardConferred, ctx: Context) -> None:
        """Who a level's awards go to: direct workers, or officials (seed 001: aimed at direct workers)."""
        if event.nominee.kind != "individual":
            return
        stmt = upsert(conn, awarded).values(
            award_id=event.award_id,
            unit_id=event.unit_id,
            by_unit_id=event.decision.level.unit_id,
            year=event.year,
            official=event.nominee.is_official,
            nominee=event.nominee.name,
        )
        await conn.execute(stmt.on_conflict_do_nothing(index_elements=[awarded.c.award_id]))

    @on(AwardRevoked)
    async def award_revoked(self, conn: AsyncConnection, event: AwardRevoked, ctx: Context) -> None:
        await conn.execute(delete(awarded).where(awarded.c.award_id == event.award_id))

    # -- helpers -----------------------------------------------------------------------------------------

    def _count(self, unit_id: str, source: str, ctx: Context, campaign_key: str = "") -> None:
        self._counts[(unit_id, source, ctx.occurred_at.date(), campaign_key)] += 1

    async def _status(self, conn: AsyncConnection, event: Any, **values: Any) -> None:
        """Move the initiative's status forward (a later recognition never undoes an application)."""
        new = STATUS_AFTER[event.event_type]
        current = await conn.scalar(
            select(initiatives.c.status).where(initiatives.c.initiative_id == event.initiative_id)
        )
        if current is None:
            return  # registered before this level held the unit, and not back-filled: nothing to update
        keep = _STATUS_RANK.get(current, 0) > _STATUS_RANK.get(new, 0) and new not in (
            "returned",
            "rejected",
            "registered",
        )
        await conn.execute(
            update(initiatives)
            .where(initiatives.c.initiative_id == event.initiative_id)
            .values(**({} if keep else {"status": new}), **values)
        )

    async def _signal(
        self,
        conn: AsyncConnection,
        unit_id: str,
        kind: str,
        subject: str,
        active_from: date,
        rule_set: str,
        detail: dict[str, Any],
    ) -> None:
        stmt = upsert(conn, signals).values(
            unit_id=unit_id,
            kind=kind,
            subject=subject,
            active_from=active_from,
            rule_set=rule_set,
            detail=_jsonable(detail),
        )
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[signals.c.unit_id, signals.c.kind, signals.c.subject],
                set_={
                    "active_from": stmt.excluded.active_from,
                    "detail": stmt.excluded.detail,
                    "rule_set": stmt.excluded.rule_set,
                },
            )
        )

    async def _drop_signal(self, conn: AsyncConnection, unit_id: str, kind: str, subject: str) -> None:
        await conn.execute(
            delete(signals).where(signals.c.unit_id == unit_id, signals.c.kind == kind, signals.c.subject == subject)
        )

    async def _duplicates(
        self, conn: AsyncConnection, unit_id: str, initiative_id: str, title: str, found: Any, day: date
    ) -> None:
        rules = rules_on(day)
        for dup in found:
            if radar.near_duplicate(dup.score, dup.other_unit, rules.radar):
                await self._signal(
                    conn,
                    unit_id,
                    "near_duplicate",
                    f"{initiative_id}:{dup.initiative_id}",
                    day,
                    rules.version,
                    {
                        "initiative_id": initiative_id,
                        "title": title,
                        "other_initiative_id": dup.initiative_id,
                        "other_unit_id": dup.unit_id,
                        "other_title": dup.title,
                        "score": dup.score,
                    },
                )

    async def _judge_reported(self, conn: AsyncConnection, campaign_id: str, unit_id: str) -> None:
        """A reported indicator whose target is met only by values reported without checkable evidence."""
        campaign = (await self._campaign_cache(conn)).get(campaign_id)
        if campaign is None:
            return
        rows = await conn.execute(
            select(reported).where(reported.c.campaign_id == campaign_id, reported.c.unit_id == unit_id)
        )
        wanted = {
            r.indicator: r.target
            for r in await conn.execute(
                select(targets.c.indicator, targets.c.target).where(
                    targets.c.campaign_id == campaign_id, targets.c.unit_id == unit_id
                )
            )
        }
        wanted |= {
            r.indicator: r.target
            for r in await conn.execute(
                select(commitments.c.indicator, commitments.c.target).where(
                    commitments.c.campaign_id == campaign_id, commitments.c.unit_id == unit_id
                )
            )
        }
        for row in rows:
            subject = f"{campaign_id}:{row.indicator}"
            target = wanted.get(row.indicator)
            direction = campaign["directions"].get(row.indicator, "at_least")
            if target is None or row.verifiable or not radar.met(row.value, target, direction):
                await self._drop_signal(conn, unit_id, "reported_without_evidence", subject)
                continue
            await self._signal(
                conn,
                unit_id,
                "reported_without_evidence",
                subject,
                row.reported_on,
                rules_on(row.reported_on).version,
                {
                    "campaign_id": campaign_id,
                    "campaign": campaign["title"],
                    "indicator": row.indicator,
                    "value": row.value,
                    "target": target,
                    "reported_on": row.reported_on,
                    "evidence": row.evidence,
                },
            )

    async def _judge_bunching(self, conn: AsyncConnection, unit_id: str, campaign_id: str) -> None:
        """Each deadline of the campaign: did the unit's registrations for it crowd into its last days?"""
        campaign = (await self._campaign_cache(conn)).get(campaign_id)
        if campaign is None:
            return
        days = [
            r
            for (r,) in await conn.execute(
                select(initiatives.c.registered_on).where(
                    initiatives.c.unit_id == unit_id, initiatives.c.campaign_id == campaign_id
                )
            )
        ]
        previous = campaign["starts_on"] - timedelta(days=1)
        for deadline in campaign["deadlines"]:
            rules = rules_on(deadline)
            found = radar.bunching(days, previous, deadline, rules.radar)
            subject = f"{campaign_id}:{deadline.isoformat()}"
            if found is None:
                await self._drop_signal(conn, unit_id, "bunched_registrations", subject)
            else:
                await self._signal(
                    conn,
                    unit_id,
                    "bunched_registrations",
                    subject,
                    deadline + timedelta(days=1),
                    rules.version,
                    {
                        "campaign_id": campaign_id,
                        "campaign": campaign["title"],
                        "deadline": deadline,
                        "registrations": found.total,
                        "in_last_days": found.bunched,
                        "days": rules.radar.bunching_days,
                        "share": found.share,
                    },
                )
            previous = deadline

    async def _campaign_cache(self, conn: AsyncConnection) -> dict[str, dict[str, Any]]:
        if self._campaigns is None:
            found: dict[str, dict[str, Any]] = {}
            for row in await conn.execute(select(campaigns)):
                deadlines = sorted({date.fromisoformat(d) for d in row.report_deadlines} | {row.ends_on})
                found[row.campaign_id] = {
                    "title": row.title,
                    "starts_on": row.starts_on,
                    "deadlines": deadlines,
                    "directions": {i["code"]: i["direction"] for i in row.indicators},
                }
            self._campaigns = found
        return self._campaigns


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return value
