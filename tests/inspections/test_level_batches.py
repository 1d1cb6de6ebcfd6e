"""The inspections projection puts its writes off to the end of each batch (``adapters/level_writes.py``):
whatever the batches, a level ends exactly as if each event had been applied in a batch of its own —
every table, at a level a unit moves within, one it leaves and one it joins (back-filled).

The history has events of one unit that depend on each other inside a batch: an initiative registered
(twice: delivered again), applied twice (the earliest day kept), recognised twice (counted once) and
accepted; one registered before its campaign was launched; a checklist issued, found overdue, submitted
on time on paper (the late sign just put off is dropped) and amended; a pledge amended and a target
assigned again (the latest replaces); reports meeting the target with and without a link; a unit that
moves, one that merges and the checklist it withdraws."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts.directory import (
    MemberEnrolled,
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
    UnitRenamed,
)
from contracts.inspections import (
    ChecklistIssued,
    ChecklistWithdrawn,
    Contradiction,
    CorrectiveActionAssigned,
    SelfInspectionAmended,
    SelfInspectionOverdue,
    SelfInspectionSubmitted,
)
from contracts.pledges import (
    CampaignLaunched,
    Commitment,
    Indicator,
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
    InitiativeRevised,
    PossibleDuplicate,
)
from services.inspections.adapters import bulk, risk
from services.inspections.adapters.level import InspectionsProjection
from shared import bulk as shared_bulk
from shared.db import open_database
from shared.events import Event
from shared.membership import Membership, level_units
from shared.membership import metadata as membership_metadata
from shared.projection import Message
from shared.subjects import ancestors, in_subtree
from tests.inspections.api_helpers import registration
from tests.inspections.test_inspections_level import at, dump, history_of
from tests.levels import apply_level, message

PATHS = ("hn", "hn.ntl", "hn.dd", "hn.ntl.fecon", "hn.ntl.ceo", "hn.dd.handico", "hn.ntl.fecon.tc")
IDS = {p: f"u-{p.replace('.', '-')}" for p in PATHS}
KINDS = {
    "hn": "city_federation",
    "hn.ntl": "upper_level_union",
    "hn.dd": "upper_level_union",
    "hn.ntl.fecon.tc": "sub_unit",
}
FECON, CEO, HANDICO, TC = IDS["hn.ntl.fecon"], IDS["hn.ntl.ceo"], IDS["hn.dd.handico"], IDS["hn.ntl.fecon.tc"]
CAMPAIGN = "c-18"


def day(month: int, d: int) -> datetime:
    return datetime(2025, month, d, 8, tzinfo=UTC)


def registered(initiative: str, unit: str, duplicates: tuple[PossibleDuplicate, ...] = ()) -> InitiativeRegistered:
    return InitiativeRegistered(
        initiative_id=initiative,
        unit_id=unit,
        campaign_id=CAMPAIGN,
        registration=registration(f"Sáng kiến {initiative}", CAMPAIGN),
        registered_by="m",
        possible_duplicates=duplicates,
    )


def applied(initiative: str, unit: str, since: date) -> InitiativeApplied:
    return InitiativeApplied(
        initiative_id=initiative, unit_id=unit, where="Xưởng", since=since, evidence="Biên bản",
        actual_benefit_vnd=1, reported_by="m",
    )  # fmt: skip


def recognised(initiative: str, unit: str) -> InitiativeRecognised:
    return InitiativeRecognised(
        initiative_id=initiative, unit_id=unit, scope="grassroots", by_unit_id=unit, by_unit_path="hn.ntl.fecon",
        decision_number="1/QĐ", decision_date=date(2025, 5, 10), decided_by="m",
    )  # fmt: skip


def reported(unit: str, path: str, value: float, evidence: tuple[str, ...], when: datetime) -> tuple:
    event = ProgressReported(
        campaign_id=CAMPAIGN, unit_id=unit, indicator="activities", value=value, delta=1, evidence=evidence,
        reported_at=when,
    )  # fmt: skip
    return ("pledges", event, path, when)


def contradiction(item: str) -> Contradiction:
    return Contradiction(item=item, code="done_below_target", message="3 < 10", measured=3, target=10)


def submitted(unit: str, days_late: int, when: datetime, *found: Contradiction) -> SelfInspectionSubmitted:
    return SelfInspectionSubmitted(
        round_id="r-1", unit_id=unit, submitted_at=when, days_late=days_late, answers=(), findings=(),
        contradictions=found, submitted_by="bch",
    )  # fmt: skip


def issued(unit: str) -> ChecklistIssued:
    return ChecklistIssued(
        round_id="r-1", unit_id=unit, level_path="hn", year=2025, period="half_year", due_on=date(2025, 6, 30),
        commitments=(), initiatives=(),
    )  # fmt: skip


def overdue(unit: str) -> SelfInspectionOverdue:
    return SelfInspectionOverdue(round_id="r-1", unit_id=unit, due_on=date(2025, 6, 30), detected_at=day(7, 3),
                                 days_late=3)  # fmt: skip


def history() -> list[Message]:
    events: list[tuple[str, Event, str, datetime]] = []
    for path in PATHS:
        parent = path.rpartition(".")[0]
        unit = UnitRegistered(
            unit_id=IDS[path], code=path.rsplit(".", 1)[-1], name=path, kind=KINDS.get(path, "grassroots_union"),
            parent_id=IDS.get(parent), path=path,
        )  # fmt: skip
        events.append(("directory", unit, path, datetime(2015, 1, 5, tzinfo=UTC)))
    launched = CampaignLaunched(
        campaign_id=CAMPAIGN,
        launcher_unit_id=IDS["hn"],
        launcher_path="hn",
        title="Đổi mới",
        plan_number="18/KH",
        pillars=(),
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        report_deadlines=(date(2025, 6, 30),),
        indicators=(
            Indicator(
                code="registered",
                name="Sáng kiến",
                unit_of_measure="sáng kiến",
                method="counted",
                source="initiatives_registered",
                direction="at_least",
            ),
            Indicator(
                code="activities",
                name="Hoạt động",
                unit_of_measure="hoạt động",
                method="reported",
                direction="at_least",
            ),
        ),
    )
    duplicate = PossibleDuplicate(
        initiative_id="i-2", unit_id=HANDICO, title="Sáng kiến i-2", score=0.95, other_unit=True
    )
    echo = PossibleDuplicate(initiative_id="i-1", unit_id=FECON, title="Sáng kiến i-1", score=0.92, other_unit=True)
    late = contradiction("commitment:c-18:registered")
    move = {
        "unit_id": HANDICO, "from_path": "hn.dd.handico", "to_path": "hn.ntl.handico", "old_parent_id": IDS["hn.dd"],
        "new_parent_id": IDS["hn.ntl"], "previous_paths": ("hn.dd.handico",),
    }  # fmt: skip
    events += [
        ("registry", registered("i-early", FECON), "hn.ntl.fecon", day(1, 3)),  # before its campaign
        ("pledges", launched, "hn", day(1, 5)),
        (
            "pledges",
            TargetAssigned(campaign_id=CAMPAIGN, unit_id=CEO, by_unit_id=IDS["hn.ntl"], targets={"activities": 2}),
            "hn.ntl.ceo",
            day(1, 6),
        ),
        (
            "pledges",
            TargetAssigned(campaign_id=CAMPAIGN, unit_id=CEO, by_unit_id=IDS["hn.ntl"], targets={"activities": 3}),
            "hn.ntl.ceo",
            day(1, 7),
        ),
        (
            "pledges",
            PledgeSigned(
                pledge_id="p-1",
                campaign_id=CAMPAIGN,
                unit_id=FECON,
                signed_on=date(2025, 1, 15),
                commitments=(Commitment(indicator="activities", target=2, deadline=date(2025, 11, 30)),),
                signatories=(),
            ),
            "hn.ntl.fecon",
            day(1, 15),
        ),
        (
            "pledges",
            PledgeAmended(
                pledge_id="p-1",
                campaign_id=CAMPAIGN,
                unit_id=FECON,
                amendment=2,
                reason="Tăng",
                commitments=(
                    Commitment(indicator="activities", target=4, deadline=date(2025, 11, 30)),
                    Commitment(indicator="registered", target=5, deadline=date(2025, 11, 30)),
                ),
            ),
            "hn.ntl.fecon",
            day(1, 16),
        ),
        reported(FECON, "hn.ntl.fecon", 4, ("Biên bản",), day(2, 1)),  # meets 4 without a link: a sign
        reported(CEO, "hn.ntl.ceo", 3, ("Biên bản",), day(2, 2)),
        reported(FECON, "hn.ntl.fecon", 5, ("https://drive.example/bien-ban",), day(2, 3)),  # now verifiable
        ("registry", registered("i-2", HANDICO), "hn.dd.handico", day(2, 10)),
        ("registry", registered("i-1", FECON, (duplicate,)), "hn.ntl.fecon", day(2, 11)),
        ("registry", applied("i-1", FECON, date(2025, 4, 1)), "hn.ntl.fecon", day(5, 1)),
        ("registry", registered("i-1", FECON, (duplicate,)), "hn.ntl.fecon", day(2, 11)),  # delivered again
        (
            "registry",
            InitiativeAccepted(
                initiative_id="i-1",
                unit_id=FECON,
                by_unit_path="hn.ntl.fecon",
                actual_benefit_vnd=1,
                note="",
                decided_by="m",
            ),
            "hn.ntl.fecon",
            day(5, 2),
        ),
        ("registry", applied("i-1", FECON, date(2025, 5, 1)), "hn.ntl.fecon", day(5, 3)),  # the earliest day kept
        ("registry", recognised("i-1", FECON), "hn.ntl.fecon", day(5, 10)),  # later: it stays accepted
        ("registry", recognised("i-1", FECON), "hn.ntl.fecon", day(5, 11)),  # counted once
        ("registry", recognised("i-gone", FECON), "hn.ntl.fecon", day(5, 13)),  # no row: counted, nothing else
        ("registry", applied("i-gone", FECON, date(2025, 5, 1)), "hn.ntl.fecon", day(5, 13)),
        (
            "registry",
            InitiativeRevised(
                initiative_id="i-2",
                unit_id=HANDICO,
                registration=registration("Robot", None),
                revised_by="m",
                possible_duplicates=(echo,),
            ),
            "hn.dd.handico",
            day(5, 14),
        ),
        ("registry", registered("i-3", TC), "hn.ntl.fecon.tc", day(6, 1)),  # a sub-unit's: counts for fecon
        *[("registry", registered(f"i-c{n}", CEO), "hn.ntl.ceo", day(6, 25 + n)) for n in range(5)],  # bunched
        (
            "directory",
            MemberEnrolled(member_id="m-1", unit_id=FECON, full_name="Nguyễn Văn An"),
            "hn.ntl.fecon",
            day(6, 2),
        ),
        ("inspections", issued(FECON), "hn.ntl.fecon", day(6, 1)),
        ("inspections", issued(CEO), "hn.ntl.ceo", day(6, 1)),
        ("inspections", issued(HANDICO), "hn.dd.handico", day(6, 1)),
        ("inspections", overdue(FECON), "hn.ntl.fecon", day(7, 3)),
        ("inspections", submitted(FECON, 0, day(6, 29), late), "hn.ntl.fecon", day(7, 4)),  # on time, on paper
        (
            "inspections",
            SelfInspectionAmended(
                round_id="r-1",
                unit_id=FECON,
                amendment=1,
                reason="Sửa",
                answers=(),
                findings=(),
                contradictions=(contradiction("commitment:c-18:activities"),),
                amended_by="bch",
            ),
            "hn.ntl.fecon",
            day(7, 5),
        ),
        ("inspections", overdue(CEO), "hn.ntl.ceo", day(7, 3)),
        ("inspections", overdue(HANDICO), "hn.dd.handico", day(7, 3)),
        (
            "pledges",
            ReminderIssued(
                campaign_id=CAMPAIGN,
                unit_id=HANDICO,
                kind="report_overdue",
                deadline=date(2025, 6, 30),
                issued_at=day(7, 1),
                message="Quá hạn",
            ),
            "hn.dd.handico",
            day(7, 1),
        ),
        ("directory", UnitMovedOut(**move), "hn.dd.handico", day(7, 6)),
        ("directory", UnitMovedIn(**move), "hn.ntl.handico", day(7, 6)),
        ("inspections", submitted(HANDICO, 6, day(7, 6)), "hn.ntl.handico", day(7, 6)),  # after its move
        (
            "registry",
            InitiativeRejected(
                initiative_id="i-2", unit_id=HANDICO, by_unit_path="hn.ntl", reasons="Trùng", decided_by="m"
            ),
            "hn.ntl.handico",
            day(7, 7),
        ),
        ("registry", applied("i-3", TC, date(2025, 7, 1)), "hn.ntl.fecon.tc", day(7, 8)),
        (
            "directory",
            UnitMerged(unit_id=CEO, into_unit_id=FECON, from_path="hn.ntl.ceo", into_path="hn.ntl.fecon"),
            "hn.ntl.ceo",
            day(7, 9),
        ),
        (
            "directory",
            UnitAbsorbed(
                unit_id=FECON, absorbed_unit_id=CEO, absorbed_path="hn.ntl.ceo", absorbed_paths=("hn.ntl.ceo",)
            ),
            "hn.ntl.fecon",
            day(7, 9),
        ),
        (
            "inspections",
            ChecklistWithdrawn(round_id="r-1", unit_id=CEO, merged_into_unit_id=FECON, withdrawn_at=day(7, 9)),
            "hn.ntl.ceo",
            day(7, 9),
        ),
        (
            "inspections",
            CorrectiveActionAssigned(
                inspection_id="ins-1",
                unit_id=FECON,
                action_id="a-1",
                finding_id="f-1",
                by_path="hn.ntl",
                description="Nộp báo cáo",
                owner="Chủ tịch",
                due_on=date(2025, 7, 31),
                assigned_by="x",
            ),
            "hn.ntl.fecon",
            day(7, 10),
        ),
    ]
    return [at(when, message(service, event, path, n)) for n, (service, event, path, when) in enumerate(events, 1)]


async def level_in_batches(
    tmp_path: Path, level: str, size: int, behind: bool, url: str | None = None
) -> dict[str, list[tuple[str, ...]]]:
    """The level after the history in batches of ``size``, each in its own transaction with its flush (as the
    runner applies them); ``behind``: every batch but the last is delivered with a backlog. On SQLite
    unless given another database's ``url``."""
    messages = history()
    db = open_database(url or f"sqlite+aiosqlite:///{tmp_path}/{level}-{size}-{behind}.db")
    projection = InspectionsProjection()  # one instance across the batches, as a live runner has
    for start in range(0, len(messages), size):
        projection.backlog = len(messages) - start - size if behind else 0
        await apply_level(db, projection, level, messages[start : start + size], history_of(messages))
    found = await dump(db)
    await db.dispose()
    return found


def test_the_history_reaches_every_level_it_is_meant_to() -> None:
    """The levels below see the moves as a unit leaving (hn.dd) and joining (hn.ntl, back-filled)."""
    paths = {m.path for m in history()}
    assert any(in_subtree(p, "hn.dd") for p in paths) and "hn.ntl.handico" in paths
    assert all(in_subtree(p, "hn") or p in ancestors("hn") for p in paths)


@pytest.mark.parametrize("level", ["hn", "hn.ntl", "hn.dd"])
async def test_any_batches_give_the_level_one_event_at_a_time_gives(tmp_path: Path, level: str) -> None:
    one_at_a_time = await level_in_batches(tmp_path, level, 1, behind=False)
    if level == "hn.dd":  # Handico left it, taking every row it had (written at the batch's end or not)
        assert one_at_a_time["insp_unit_dates"] == [(IDS["hn.dd"], "2015-01-05", "None")]
        assert not any(HANDICO in row for rows in one_at_a_time.values() for row in rows)
    else:
        assert one_at_a_time["insp_initiatives"] and one_at_a_time["insp_risk"]  # the history reached the level
    for size in (2, 3, 5, 8, 1000):
        for behind in (False, True):
            assert await level_in_batches(tmp_path, level, size, behind) == one_at_a_time, (size, behind)


async def test_what_depends_on_earlier_events_of_the_batch_is_as_one_at_a_time(tmp_path: Path) -> None:
    """The dependent facts themselves, read from the level that took the history in one batch."""
    level = await level_in_batches(tmp_path, "hn", 1000, behind=False)
    initiatives = {row[0]: row for row in level["insp_initiatives"]}
    # (initiative_id, unit_id, title, campaign_id, status, registered_on, applied_on, recognised)
    assert initiatives["i-1"][4:] == ("accepted", "2025-02-11", "2025-04-01", "True")  # as it was, and recognised
    assert initiatives["i-2"][2] == "Robot" and initiatives["i-2"][4] == "rejected"
    assert "i-gone" not in initiatives and "i-early" in initiatives
    counted = sorted((row[0], row[2], row[4]) for row in level["insp_counts"] if row[1] == "initiatives_recognised")
    assert counted == [(FECON, "2025-05-10", "1"), (FECON, "2025-05-13", "1")]  # i-1 once; i-gone (no row to say no)
    signs = {(row[0], row[1], row[2]) for row in level["insp_signals"]}
    assert (FECON, "self_inspection_late", "r-1") not in signs  # put off by the overdue, dropped by the submission
    assert (HANDICO, "self_inspection_late", "r-1") in signs
    assert {s for s in signs if s[1] == "contradicted"} == {(FECON, "contradicted", "r-1:commitment:c-18:activities")}
    assert (FECON, "near_duplicate", "i-1:i-2") in signs and (HANDICO, "near_duplicate", "i-2:i-1") in signs
    assert {s for s in signs if s[1] == "reported_without_evidence"} == {
        (CEO, "reported_without_evidence", "c-18:activities")
    }
    assert (CEO, "bunched_registrations", "c-18:2025-06-30") in signs
    assert {row[1:3] for row in level["insp_commitments"]} == {(FECON, "activities"), (FECON, "registered")}
    assert [row[3] for row in level["insp_targets"]] == ["3.0"]


async def test_the_driver_writes_what_sqlalchemy_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The hot statements go through the SQLite driver with rows converted by SQLAlchemy's own bind
    processors (``shared/bulk.py``): the level ends the same as through SQLAlchemy (dates, booleans, JSON)."""
    through_driver = await level_in_batches(tmp_path / "driver", "hn", 1000, behind=True)
    monkeypatch.setattr(shared_bulk, "_plan", lambda *_: None)  # every statement through SQLAlchemy
    assert await level_in_batches(tmp_path / "sqlalchemy", "hn", 1000, behind=True) == through_driver


@pytest.mark.parametrize("size", [3, 1000])
async def test_reading_every_units_rows_at_once_gives_what_in_lists_give(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """A level settling after a replay reads whole tables instead of IN lists of thousands of units."""
    by_lists = await level_in_batches(tmp_path / "lists", "hn", size, behind=True)
    for module in (bulk, risk):
        monkeypatch.setattr(module, "WHOLE", 0)  # every read of units' rows: one read of the whole query
    assert await level_in_batches(tmp_path / "whole", "hn", size, behind=True) == by_lists


async def test_on_postgresql_the_level_ends_as_on_sqlite(tmp_path: Path, postgres_url: str) -> None:
    """PostgreSQL takes the hot statements through SQLAlchemy, SQLite through its driver: the same level."""
    on_sqlite = await level_in_batches(tmp_path, "hn", 1, behind=False)
    on_postgresql = await level_in_batches(tmp_path, "hn", 1000, behind=True, url=postgres_url)
    assert on_postgresql["insp_initiatives"] and on_postgresql["insp_risk"] and on_postgresql["insp_signals"]
    utc = "+00:00"  # SQLite keeps a time without its zone
    assert {
        t: [tuple(v.removesuffix(utc) for v in row) for row in rows] for t, rows in on_postgresql.items()
    } == on_sqlite


async def test_units_joining_in_a_batch_are_written_with_it_and_before_the_membership_changes_them(
    tmp_path: Path,
) -> None:
    """The projection's handlers never read ``level_units`` (``reads_level_units``): the rows of units that
    join are written at the batch's end, or before the membership's own next statement on the table."""
    assert InspectionsProjection.reads_level_units is False
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/joining.db")
    membership = Membership("hn", InspectionsProjection(), lambda *_: None)  # type: ignore[arg-type,return-value]
    registered = [at(day(1, 5), message("directory", UnitRegistered(
        unit_id=IDS[p], code=p, name=p, kind=KINDS.get(p, "grassroots_union"), parent_id=IDS.get(p.rsplit(".", 1)[0]),
        path=p), p, n)) for n, p in enumerate(("hn", "hn.ntl", "hn.ntl.fecon"), 1)]  # fmt: skip
    renamed = at(day(1, 6), message("directory", UnitRenamed(unit_id=FECON, name="Fecon", previous_name="hn.ntl.fecon"),
                                    "hn.ntl.fecon", 4))  # fmt: skip

    async def rows(conn) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return {u: name for u, name in await conn.execute(select(level_units.c.unit_id, level_units.c.name))}

    async with db.writer.begin() as conn:
        await conn.run_sync(membership_metadata.create_all)
        await conn.run_sync(InspectionsProjection.metadata.create_all)
        await membership.load(conn)
        for msg in registered[:2]:
            await membership.route(conn, msg)
        assert await rows(conn) == {} and IDS["hn.ntl"] in membership.units  # held at once, written later
        await membership.written(conn)
        assert await rows(conn) == {IDS["hn"]: "hn", IDS["hn.ntl"]: "hn.ntl"}
        await membership.route(conn, registered[2])
        await membership.route(conn, renamed)  # the membership's own update: the joining row first
        assert (await rows(conn))[FECON] == "Fecon"
    with pytest.raises(RuntimeError):
        async with db.writer.begin() as conn:
            await membership.route(conn, at(day(1, 7), message("directory", UnitRegistered(
                unit_id="u-gone", code="gone", name="gone", kind="grassroots_union", parent_id=IDS["hn.ntl"],
                path="hn.ntl.gone"), "hn.ntl.gone", 5)))  # fmt: skip
            raise RuntimeError("the batch fails")
    membership.reset()  # as the runner does when a batch rolls back: the joining row goes with it
    async with db.writer.begin() as conn:
        await membership.written(conn)
        assert set(await rows(conn)) == {IDS["hn"], IDS["hn.ntl"], FECON}
    await db.dispose()
