"""The radar's awards signal, fed by the awards service's events through the inspections projection: a
level whose individual awards of a year went mostly to officials shows ``awards_to_officials`` with the
counts behind it; collective awards do not count; a revoked award no longer does."""

from datetime import date
from decimal import Decimal

from contracts.awards import Achievement, AwardConferred, AwardRevoked, Decision, Level, Nominee
from services.inspections.adapters import views
from services.inspections.domain.rulesets import HD_1294_2019
from shared.directory_copy import units as copy_units
from tests.inspections.api_helpers import World

TODAY = date(2025, 6, 2)


def _decision(world: World) -> Decision:
    return Decision(
        number="15/QĐ-LĐLĐ", decided_on=date(2024, 12, 20),
        level=Level(unit_id=world.ids["hn.ntl"], path="hn.ntl", name="LĐLĐ Nam Từ Liêm", kind="upper_level"),
        deciding_body="Ban Thường vụ LĐLĐ quận Nam Từ Liêm", decider="union_body",
        signer_name="Nguyễn Văn A", signer_title="CHỦ TỊCH",
    )  # fmt: skip


def _nominee(world: World, n: int, official: bool, kind: str = "individual") -> Nominee:
    return Nominee(
        kind=kind, id=f"m-{n}", name=f"Đoàn viên {n}", unit_id=world.ids["hn.ntl.fecon"], unit_path="hn.ntl.fecon",
        unit_name="CĐCS Fecon", is_official=official,
    )  # type: ignore[arg-type]  # fmt: skip


def _conferred(world: World, n: int, official: bool, kind: str = "individual") -> AwardConferred:
    return AwardConferred(
        proposal_id=f"p-{n}", award_id=f"a-{n}", unit_id=world.ids["hn.ntl.fecon"], unit_path="hn.ntl.fecon",
        nominee=_nominee(world, n, official, kind), award_code="gk_ctt", award_name="Giấy khen", form="giay_khen",
        is_title=False, track="union", category="overall", year=2024, campaign_id=None,
        achievement=Achievement(kind="year", ref="2024", summary="Hoàn thành xuất sắc nhiệm vụ"),
        decision=_decision(world), rule_set="awards-2024.1", amount_vnd=0, base_salary_vnd=2_340_000,
        multiple=Decimal("0.3"), recorded_by="m",
    )  # fmt: skip


async def _ntl_awards_sign(world: World) -> tuple[dict[str, int], list[dict]]:
    async with world.app.state.db.reader.connect() as conn:
        rows = await views.radar_rows(conn, copy_units, "hn", TODAY, HD_1294_2019)
        drill = await views.drill_down(conn, copy_units, world.ids["hn.ntl"], TODAY, HD_1294_2019)
    ntl = next((r for r in rows if r.path == "hn.ntl"), None)
    counts = dict(ntl.risk.counts) if ntl is not None else {}
    return counts, [s for s in drill["signals"] if s["signal"] == "awards_to_officials"]


async def test_a_level_giving_its_awards_mostly_to_officials_shows_on_the_radar(world: World) -> None:
    for n, official in enumerate((True, True, False)):
        await world.feed(_conferred(world, n, official), "hn.ntl.fecon", service="awards")
    await world.feed(_conferred(world, 9, True, "collective"), "hn.ntl.fecon", service="awards")
    counts, signs = await _ntl_awards_sign(world)
    assert counts == {"awards_to_officials": 1}
    assert signs[0]["evidence"] == {
        "year": 2024, "awards": 3, "to_officials": 2, "to_direct_workers": 1, "max_share": 0.5,
    }  # fmt: skip
    assert signs[0]["unit_path"] == "hn.ntl" and signs[0]["rule_set"] == HD_1294_2019.version

    first = _conferred(world, 0, True)
    revoked = AwardRevoked(
        proposal_id=first.proposal_id, award_id=first.award_id, unit_id=first.unit_id, unit_path=first.unit_path,
        nominee=first.nominee, award_code=first.award_code, award_name=first.award_name, year=2024,
        reason="false_claims", explanation="Kê khai không đúng", decision=_decision(world), amount_to_recover_vnd=0,
        revoked_by="m",
    )  # fmt: skip
    await world.feed(revoked, "hn.ntl.fecon", service="awards")
    counts, signs = await _ntl_awards_sign(world)
    assert counts == {} and signs == []  # one official, one direct worker: half is not above the rule's share
