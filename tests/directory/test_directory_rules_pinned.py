"""Every refusal of the directory's domain with its error type, field and message, and every event's
content: the rules mutation testing found no test pinning (issue 8). Domain only, no I/O."""

import dataclasses

import pytest

from contracts.directory import (
    RoleAssigned,
    RoleRevoked,
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
    UnitRenamed,
)
from services.directory.domain.rules import check_active, check_code_free, check_kind_under, rebase
from services.directory.domain.unit import Unit
from shared.errors import Conflict, IllegalTransition, ThiduaError
from shared.units import MERGED
from tests.directory.test_directory_domain import CEO, DD, ENROLLED, FECON, HN, KT, NTL, given_member, given_unit

MERGED_NTL = dataclasses.replace(NTL, status=MERGED, merged_into="u-dd")


def refused(error: type[ThiduaError], call, field: str | None, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as raised:
        call()
    assert type(raised.value) is error
    assert (raised.value.field, raised.value.message) == (field, message)


# -- rules ------------------------------------------------------------------------------------------


def test_a_merged_unit_is_refused_by_the_role_it_plays() -> None:
    refused(
        IllegalTransition, lambda: check_active(MERGED_NTL), None,
        "unit hn.ntl was merged into another unit and no longer changes",
    )  # fmt: skip
    refused(
        IllegalTransition, lambda: check_active(MERGED_NTL, "parent"), "parent_id",
        "parent hn.ntl was merged into another unit and no longer changes",
    )  # fmt: skip
    check_active(NTL, "parent")  # an active unit passes


def test_the_kind_under_which_a_unit_sits() -> None:
    refused(
        Conflict, lambda: check_kind_under("grassroots_union", None), "parent_id",
        "a grassroots_union must have a parent of kind upper_level_union",
    )  # fmt: skip
    refused(
        Conflict, lambda: check_kind_under("grassroots_union", HN), "parent_id",
        "a grassroots_union cannot sit under hn (a city_federation); it belongs under a upper_level_union",
    )  # fmt: skip
    refused(
        Conflict, lambda: check_kind_under("city_federation", HN), "parent_id",
        "a city_federation cannot sit under hn (a city_federation); it belongs only at the root",
    )  # fmt: skip
    check_kind_under("city_federation", None)
    check_kind_under("sub_unit", FECON)


def test_a_code_is_free_among_siblings_or_roots() -> None:
    refused(
        Conflict, lambda: check_code_free("fecon", {"fecon"}, "hn.ntl"), "code",
        "an active unit with code 'fecon' already exists under hn.ntl",
    )  # fmt: skip
    refused(
        Conflict, lambda: check_code_free("hn", {"hn"}, None), "code",
        "an active unit with code 'hn' already exists among the root units",
    )  # fmt: skip
    check_code_free("fecon", {"ceo"}, "hn.ntl")


def test_rebase_refuses_a_path_outside_the_prefix() -> None:
    assert rebase("hn.ntl.fecon.kt", "hn.ntl.fecon", "hn.dd.fecon") == "hn.dd.fecon.kt"
    assert rebase("hn.ntl", "hn.ntl", "hn.dd") == "hn.dd"
    with pytest.raises(ValueError, match=r"^hn\.ntlx is not under hn\.ntl$"):
        rebase("hn.ntlx", "hn.ntl", "hn.dd")


# -- units ------------------------------------------------------------------------------------------


def test_register_refuses_a_merged_parent_a_wrong_kind_and_a_taken_code() -> None:
    refused(
        IllegalTransition, lambda: Unit.register("u-x", "x", "X", "grassroots_union", MERGED_NTL, set()),
        "parent_id", "parent hn.ntl was merged into another unit and no longer changes",
    )  # fmt: skip
    refused(
        Conflict, lambda: Unit.register("u-x", "x", "X", "sub_unit", NTL, set()), "parent_id",
        "a sub_unit cannot sit under hn.ntl (a upper_level_union); it belongs under a grassroots_union",
    )  # fmt: skip
    refused(
        Conflict, lambda: Unit.register("u-x", "ceo", "X", "grassroots_union", NTL, {"ceo"}), "code",
        "an active unit with code 'ceo' already exists under hn.ntl",
    )  # fmt: skip
    (root,) = Unit.register("u-hcm", "hcm", "LĐLĐ TP Hồ Chí Minh", "city_federation", None, set())
    assert isinstance(root, UnitRegistered) and root.parent_id is None and root.path == "hcm"


def test_a_unit_registered_then_renamed_keeps_its_state() -> None:
    unit = given_unit(FECON, UnitRenamed(unit_id="u-fecon", name="Công đoàn Fecon mới", previous_name="x"))
    assert (unit.code, unit.kind, unit.name, unit.status, unit.merged_into) == (
        "fecon", "grassroots_union", "Công đoàn Fecon mới", "active", None,
    )  # fmt: skip
    refused(
        Conflict, lambda: unit.rename("Công đoàn Fecon mới"), "name", "the unit is already named 'Công đoàn Fecon mới'"
    )
    assert unit.rename("Fecon") == [UnitRenamed(unit_id="u-fecon", name="Fecon", previous_name="Công đoàn Fecon mới")]


def test_a_merged_unit_refuses_every_command_naming_where_it_went() -> None:
    merged = given_unit(
        CEO, UnitMerged(unit_id="u-ceo", into_unit_id="u-fecon", from_path=CEO.path, into_path=FECON.path)
    )
    assert (merged.status, merged.merged_into) == (MERGED, "u-fecon")
    message = "unit ceo was merged into unit u-fecon and no longer changes"
    refused(IllegalTransition, lambda: merged.rename("Khác"), None, message)
    refused(IllegalTransition, lambda: merged.move(CEO, DD, set()), None, message)
    refused(IllegalTransition, lambda: merged.merge_into(given_unit(FECON), CEO, FECON, [], set()), None, message)


def test_move_refusals_name_the_parent() -> None:
    fecon = given_unit(FECON)
    refused(
        IllegalTransition, lambda: fecon.move(FECON, dataclasses.replace(DD, status=MERGED), set()), "parent_id",
        "parent hn.dd was merged into another unit and no longer changes",
    )  # fmt: skip
    refused(
        Conflict, lambda: given_unit(NTL).move(NTL, FECON, set()), "parent_id",
        "cannot move hn.ntl under hn.ntl.fecon: that is inside its own subtree (a cycle)",
    )  # fmt: skip
    refused(Conflict, lambda: fecon.move(FECON, NTL, set()), "parent_id", "hn.ntl.fecon is already under hn.ntl")
    refused(
        Conflict, lambda: fecon.move(FECON, HN, set()), "parent_id",
        "a grassroots_union cannot sit under hn (a city_federation); it belongs under a upper_level_union",
    )  # fmt: skip
    refused(
        Conflict, lambda: fecon.move(FECON, DD, {"fecon"}), "code",
        "an active unit with code 'fecon' already exists under hn.dd",
    )  # fmt: skip


def test_a_move_carries_every_path_the_unit_had() -> None:
    out, in_ = given_unit(FECON).move(FECON, DD, {"handico"}, history=("hn.gl.fecon", "hn.ntl.fecon"))
    expected = {
        "unit_id": "u-fecon", "from_path": "hn.ntl.fecon", "to_path": "hn.dd.fecon", "old_parent_id": "u-ntl",
        "new_parent_id": "u-dd", "previous_paths": ("hn.gl.fecon", "hn.ntl.fecon"),
    }  # fmt: skip
    assert out == UnitMovedOut(**expected) and in_ == UnitMovedIn(**expected)


def test_merge_refusals_name_the_target() -> None:
    ceo, fecon = given_unit(CEO), given_unit(FECON)
    refused(
        Conflict, lambda: ceo.merge_into(ceo, CEO, CEO, [], set()), "into_unit_id", "a unit cannot merge into itself"
    )
    gone = given_unit(FECON, UnitMerged(unit_id="u-fecon", into_unit_id="u-x", from_path=FECON.path, into_path="hn.x"))
    refused(
        IllegalTransition, lambda: ceo.merge_into(gone, CEO, FECON, [], set()), "into_unit_id",
        "hn.ntl.fecon was itself merged and cannot absorb",
    )  # fmt: skip
    refused(
        Conflict, lambda: ceo.merge_into(given_unit(DD), CEO, DD, [], set()), "into_unit_id",
        "only units of the same kind merge: hn.ntl.ceo is a grassroots_union, hn.dd a upper_level_union",
    )  # fmt: skip
    inner = dataclasses.replace(FECON, path="hn.ntl.ceo.fecon")
    refused(
        Conflict,
        lambda: ceo.merge_into(fecon, CEO, inner, [], set()),
        "into_unit_id",
        "hn.ntl.ceo.fecon is inside hn.ntl.ceo (a cycle)",
    )
    child = dataclasses.replace(KT, unit_id="u-ceo-kt", parent_id="u-ceo", path="hn.ntl.ceo.kt")
    other = dataclasses.replace(KT, unit_id="u-ceo-hc", parent_id="u-ceo", path="hn.ntl.ceo.hc")
    refused(
        Conflict, lambda: ceo.merge_into(fecon, CEO, FECON, [child, other], {"kt", "hc", "x"}), "into_unit_id",
        "hn.ntl.fecon already has active units with the codes hc, kt; rename or move those children first",
    )  # fmt: skip


def test_a_merge_gives_each_stream_its_event_with_the_paths_and_children() -> None:
    child = dataclasses.replace(KT, unit_id="u-ceo-kt", parent_id="u-ceo", path="hn.ntl.ceo.kt")
    mine, theirs = given_unit(CEO).merge_into(given_unit(FECON), CEO, FECON, [child], {"other"}, history=("hn.gl.ceo",))
    assert mine == [
        UnitMerged(unit_id="u-ceo", into_unit_id="u-fecon", from_path="hn.ntl.ceo", into_path="hn.ntl.fecon")
    ]
    assert theirs == [
        UnitAbsorbed(
            unit_id="u-fecon", absorbed_unit_id="u-ceo", absorbed_path="hn.ntl.ceo", moved_child_ids=("u-ceo-kt",),
            absorbed_paths=("hn.gl.ceo", "hn.ntl.ceo"),
        )
    ]  # fmt: skip


def test_a_unit_applies_only_unit_events() -> None:
    with pytest.raises(TypeError, match=r"^a unit cannot apply RoleAssigned$"):
        given_unit(FECON).apply(RoleAssigned(member_id="m-1", unit_id="u-fecon", role="chair"))


# -- members ----------------------------------------------------------------------------------------


def test_a_role_refusals_name_the_member_the_role_and_the_unit() -> None:
    member = given_member(ENROLLED, RoleAssigned(member_id="m-1", unit_id="u-fecon", role="chair"))
    assert (member.enrolled_in, member.full_name, member.roles) == ("u-fecon", "Nguyễn Thị Lan", {("u-fecon", "chair")})
    refused(
        IllegalTransition, lambda: member.assign_role(dataclasses.replace(FECON, status=MERGED), "u-fecon", "chair"),
        None, "unit hn.ntl.fecon was merged into another unit and no longer changes",
    )  # fmt: skip
    refused(
        Conflict, lambda: member.assign_role(CEO, "u-fecon", "chair"), "unit_id",
        "Nguyễn Thị Lan is not a member of hn.ntl.ceo; a role is held in one's own unit",
    )  # fmt: skip
    refused(
        Conflict, lambda: member.assign_role(FECON, "u-fecon", "chair"), "role",
        "Nguyễn Thị Lan already holds the role chair in hn.ntl.fecon",
    )  # fmt: skip
    refused(
        Conflict, lambda: member.revoke_role(FECON, "executive_committee"), "role",
        "Nguyễn Thị Lan does not hold the role executive_committee in hn.ntl.fecon",
    )  # fmt: skip
    refused(
        Conflict, lambda: member.revoke_role(CEO, "chair"), "role",
        "Nguyễn Thị Lan does not hold the role chair in hn.ntl.ceo",
    )  # fmt: skip


def test_roles_assigned_and_revoked_are_the_members_own() -> None:
    member = given_member(ENROLLED)
    assert member.assign_role(FECON, "u-fecon", "executive_committee") == [
        RoleAssigned(member_id="m-1", unit_id="u-fecon", role="executive_committee")
    ]
    held = given_member(
        ENROLLED,
        RoleAssigned(member_id="m-1", unit_id="u-fecon", role="chair"),
        RoleAssigned(member_id="m-1", unit_id="u-fecon", role="executive_committee"),
        RoleRevoked(member_id="m-1", unit_id="u-fecon", role="chair"),
    )
    assert held.roles == {("u-fecon", "executive_committee")}
    assert held.revoke_role(FECON, "executive_committee") == [
        RoleRevoked(member_id="m-1", unit_id="u-fecon", role="executive_committee")
    ]
    with pytest.raises(TypeError, match=r"^a member cannot apply UnitRenamed$"):
        held.apply(UnitRenamed(unit_id="u-fecon", name="x", previous_name="y"))
