"""The inspections level projection under the runner's membership (no NATS): a unit that moves with an
overdue checklist and an open corrective action takes them to its new level — which back-fills its
history — and out of the old one; the new level equals a fresh rebuild; the radar's views read it."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from contracts.directory import UnitMovedIn, UnitMovedOut, UnitRegistered
from contracts.inspections import (
    ChecklistIssued,
    CommitmentItem,
    Contradiction,
    CorrectiveActionAssigned,
    SelfInspectionOverdue,
    SelfInspectionSubmitted,
)
from contracts.registry import InitiativeRegistered
from services.inspections.adapters import views
from services.inspections.adapters.level import InspectionsProjection
from services.inspections.adapters.tables import metadata
from services.inspections.domain.rulesets import HD_1294_2019
from shared.db import Database, open_database
from shared.events import Event
from shared.membership import level_units
from shared.projection import Message
from shared.subjects import in_subtree
from tests.inspections.api_helpers import registration
from tests.levels import apply_level, message

IDS = {p: f"u-{p.replace('.', '-')}" for p in ("hn", "hn.ntl", "hn.dd", "hn.ntl.fecon", "hn.ntl.ceo")}
KINDS = {"hn": "city_federation", "hn.ntl": "upper_level_union", "hn.dd": "upper_level_union"}
ITEM = CommitmentItem(
    key="commitment:c:registered",
    campaign_id="c",
    campaign_title="Đổi mới",
    indicator="registered",
    indicator_name="Sáng kiến đăng ký",
    unit_of_measure="sáng kiến",
    direction="at_least",
    method="counted",
    target=10,
    deadline=date(2025, 11, 30),
    measured=3,
)


def at(when: datetime, msg: Message) -> Message:
    return Message(msg.subject, msg.sequence, msg.path, msg.envelope.model_copy(update={"occurred_at": when}))


def history() -> list[Message]:
    events: list[tuple[str, Event, str, datetime]] = []
    for path in IDS:
        parent = path.rpartition(".")[0]
        events.append(
            (
                "directory",
                UnitRegistered(
                    unit_id=IDS[path],
                    code=path.rsplit(".", 1)[-1],
                    name=path,
                    kind=KINDS.get(path, "grassroots_union"),
                    parent_id=IDS.get(parent),
                    path=path,
                ),
                path,
                datetime(2015, 1, 5, tzinfo=UTC),
            )
        )
    fecon, when = IDS["hn.ntl.fecon"], datetime(2025, 7, 3, tzinfo=UTC)
    events += [
        (
            "registry",
            InitiativeRegistered(
                initiative_id="i-1",
                unit_id=fecon,
                campaign_id=None,
                registration=registration("Sổ QR", None),
                registered_by="m",
            ),
            "hn.ntl.fecon",
            datetime(2024, 10, 1, tzinfo=UTC),
        ),
        (
            "inspections",
            ChecklistIssued(
                round_id="r-1",
                unit_id=fecon,
                level_path="hn",
                year=2025,
                period="half_year",
                due_on=date(2025, 6, 30),
                commitments=(ITEM,),
                initiatives=(),
            ),
            "hn.ntl.fecon",
            datetime(2025, 6, 1, tzinfo=UTC),
        ),
        (
            "inspections",
            SelfInspectionOverdue(
                round_id="r-1", unit_id=fecon, due_on=date(2025, 6, 30), detected_at=when, days_late=3
            ),
            "hn.ntl.fecon",
            when,
        ),
        (
            "inspections",
            CorrectiveActionAssigned(
                inspection_id="ins-1",
                unit_id=fecon,
                action_id="a-1",
                finding_id="f-1",
                by_path="hn.ntl",
                description="Nộp báo cáo",
                owner="Chủ tịch",
                due_on=date(2025, 7, 31),
                assigned_by="x",
            ),
            "hn.ntl.fecon",
            when,
        ),
    ]
    move = {
        "unit_id": fecon,
        "from_path": "hn.ntl.fecon",
        "to_path": "hn.dd.fecon",
        "old_parent_id": IDS["hn.ntl"],
        "new_parent_id": IDS["hn.dd"],
        "previous_paths": ("hn.ntl.fecon",),
    }
    moved = datetime(2025, 8, 1, tzinfo=UTC)
    events += [
        ("directory", UnitMovedOut(**move), "hn.ntl.fecon", moved),
        ("directory", UnitMovedIn(**move), "hn.dd.fecon", moved),
    ]
    late = SelfInspectionSubmitted(
        round_id="r-1",
        unit_id=fecon,
        submitted_at=datetime(2025, 8, 5, tzinfo=UTC),
        days_late=36,
        answers=(),
        findings=(),
        contradictions=(
            Contradiction(item=ITEM.key, code="done_below_target", message="3 < 10", measured=3, target=10),
        ),
        submitted_by="bch",
    )
    events.append(("inspections", late, "hn.dd.fecon", datetime(2025, 8, 5, tzinfo=UTC)))
    return [at(when, message(service, event, path, n)) for n, (service, event, path, when) in enumerate(events, 1)]


def history_of(messages: list[Message]) -> Any:
    async def read(paths: Any, before: int) -> list[Message]:
        return [m for m in messages if m.sequence < before and any(in_subtree(m.path, p) for p in paths)]

    return read


async def dump(db: Database) -> dict[str, list[tuple[str, ...]]]:
    async with db.reader.connect() as conn:
        return {
            t.name: sorted(tuple(map(str, row)) for row in await conn.execute(select(t)))
            for t in [*metadata.sorted_tables, level_units]
        }


async def test_a_unit_moving_with_its_checklist_and_action_strands_nothing(tmp_path: Path) -> None:
    messages = history()
    split = next(m.sequence for m in messages if m.envelope.event_type == "UnitMovedOut")
    levels = {}
    for level in ("hn.ntl", "hn.dd"):
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/{level}.db")
        projection = InspectionsProjection()  # one instance across the two deliveries, as a live runner has
        await apply_level(db, projection, level, [m for m in messages if m.sequence < split], history_of(messages))
        await apply_level(db, projection, level, [m for m in messages if m.sequence >= split], history_of(messages))
        levels[level] = db
    async with levels["hn.dd"].reader.connect() as conn:
        rows = await views.radar_rows(conn, level_units, "hn.dd", date(2025, 8, 10), HD_1294_2019)
        total, late_actions = await views.open_actions(conn, level_units, "hn.dd", date(2025, 8, 10), True, 50, 0)
        drill = await views.drill_down(conn, level_units, IDS["hn.ntl.fecon"], date(2025, 8, 10), HD_1294_2019)
    assert [(r.path, dict(r.risk.counts)) for r in rows] == [
        ("hn.dd.fecon", {"self_inspection_late": 1, "contradicted": 1, "action_overdue": 1, "never_applied": 1})
    ]
    assert total == 1 and late_actions[0]["path"] == "hn.dd.fecon" and late_actions[0]["days_overdue"] == 10
    assert {s["signal"] for s in drill["signals"]} == {
        "self_inspection_late",
        "contradicted",
        "action_overdue",
        "never_applied",
    }
    late = next(s for s in drill["signals"] if s["signal"] == "self_inspection_late")
    assert late["evidence"]["days_late"] == 36 and late["evidence"]["submitted_at"].startswith("2025-08-05")
    left = await dump(levels["hn.ntl"])
    assert not any(
        row for name, rows in left.items() if name != "level_units" for row in rows if IDS["hn.ntl.fecon"] in row
    )
    fresh = open_database(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    await apply_level(fresh, InspectionsProjection(), "hn.dd", messages, history_of(messages))
    assert await dump(fresh) == await dump(levels["hn.dd"])
    for db in (*levels.values(), fresh):
        await db.dispose()


async def test_work_put_off_while_catching_up_is_done_once_caught_up(tmp_path: Path) -> None:
    """Batches delivered with a backlog put off the score rows (and bunching judgements); the first batch
    without one does them: the level then equals one that did them at every batch."""
    messages = history()
    half = len(messages) // 2
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/catching-up.db")
    projection = InspectionsProjection()
    projection.backlog = len(messages) - half  # the runner says more is waiting
    await apply_level(db, projection, "hn", messages[:half], history_of(messages))
    behind = await dump(db)
    assert behind["insp_risk_pending"] == [(IDS["hn.ntl.fecon"],)]  # put off
    projection.backlog = 0
    await apply_level(db, projection, "hn", messages[half:], history_of(messages))
    fresh = open_database(f"sqlite+aiosqlite:///{tmp_path}/fresh.db")
    await apply_level(fresh, InspectionsProjection(), "hn", messages, history_of(messages))
    caught_up = await dump(db)
    assert caught_up == await dump(fresh)
    assert caught_up["insp_risk"] and not caught_up["insp_risk_pending"]
    await db.dispose()
    await fresh.dispose()
