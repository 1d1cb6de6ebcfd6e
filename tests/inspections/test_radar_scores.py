"""The radar's score rows: a unit's signs and risk score as steps over the day read (domain), rebuilt from
the facts for the unit they count for, and all rebuilt when the radar's rules change (adapter)."""

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from services.inspections.adapters import risk
from services.inspections.adapters.tables import initiatives, metadata, owners, signals
from services.inspections.adapters.tables import risk as rows
from services.inspections.domain import radar
from services.inspections.domain.rulesets import HD_1294_2019
from shared.db import open_database

R = HD_1294_2019.radar
SPANS = radar.segments([(HD_1294_2019.effective_from, R)])
# A later text shortens "never applied" to three months from 2026 and weighs it triple.
SHORTER = replace(R, never_applied_months=3, weights={**R.weights, "never_applied": 3.0})
TWO = radar.segments([(HD_1294_2019.effective_from, R), (date(2026, 1, 1), SHORTER)])


def test_never_applied_starts_on_the_first_day_the_cutoff_reaches_the_registration() -> None:
    for registered in (date(2025, 8, 31), date(2025, 2, 28), date(2025, 1, 10)):
        first = radar.stale_from(registered, R)
        assert radar.stale_cutoff(first, R) >= registered > radar.stale_cutoff(first - timedelta(days=1), R)
    assert radar.stale_from(date(2025, 8, 31), R) == date(2026, 3, 1)  # 28 February is not six months yet


def test_steps_count_each_sign_from_its_day_and_score_it_by_the_rules_in_force() -> None:
    signs = [
        radar.Occurrence("self_inspection_late", date(2025, 7, 1)),
        radar.Occurrence("action_overdue", date(2025, 9, 1), date(2025, 10, 1)),  # fixed on 1 October
        *radar.never_applied_spans(date(2025, 5, 20), TWO),
    ]
    found = [(s.from_day, s.until_day, dict(s.counts), s.score) for s in radar.steps(signs, TWO)]
    assert found == [
        (date(2025, 7, 1), date(2025, 9, 1), {"self_inspection_late": 1}, 4.0),
        (date(2025, 9, 1), date(2025, 10, 1), {"action_overdue": 1, "self_inspection_late": 1}, 8.0),
        (date(2025, 10, 1), date(2025, 11, 20), {"self_inspection_late": 1}, 4.0),
        (date(2025, 11, 20), date(2026, 1, 1), {"never_applied": 1, "self_inspection_late": 1}, 5.0),
        (date(2026, 1, 1), date.max, {"never_applied": 1, "self_inspection_late": 1}, 7.0),  # the new weight
    ]
    assert radar.steps([], TWO) == []


async def test_rows_add_up_a_unions_sub_units_and_are_rebuilt_when_the_rules_change(tmp_path: Path) -> None:
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/radar.db")
    async with db.writer.begin() as conn:
        await conn.run_sync(metadata.create_all)
        await conn.execute(insert(owners).values(unit_id="sub", owner_id="union"))
        await conn.execute(
            insert(signals).values(
                unit_id="sub", kind="contradicted", subject="r:1", active_from=date(2025, 7, 1), detail={},
                rule_set=HD_1294_2019.version,
            )
        )  # fmt: skip
        await conn.execute(
            insert(initiatives).values(
                initiative_id="i-1", unit_id="union", title="Sổ đoàn viên điện tử", campaign_id=None,
                status="registered", registered_on=date(2025, 8, 10), applied_on=None, recognised=False,
            )
        )  # fmt: skip
        assert await risk.rebuild_if_rules_changed(conn, SPANS)
        assert not await risk.rebuild_if_rules_changed(conn, SPANS)  # built by these rules already
        built = [(r.unit_id, r.from_day, r.never_applied, r.contradicted) for r in await conn.execute(select(rows))]
        assert sorted(built) == [("union", date(2025, 7, 1), 0, 1), ("union", date(2026, 2, 10), 1, 1)]

        assert await risk.rebuild_if_rules_changed(conn, TWO)  # a new text: every row again
        built = [(r.from_day, r.never_applied, r.score) for r in await conn.execute(select(rows))]
        assert sorted(built) == [(date(2025, 7, 1), 0, 4.0), (date(2026, 1, 1), 1, 7.0)]
    await db.dispose()
