"""Given events → command → expected events or error, for every rule of the Unit and Member aggregates."""

import unicodedata

import pytest
from pydantic import ValidationError

from contracts.directory import (
    MemberEnrolled,
    RoleAssigned,
    RoleRevoked,
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
    UnitRenamed,
)
from services.directory.domain.commands import AssignRole, EnrolMember, RegisterUnit, RenameUnit
from services.directory.domain.member import Member
from services.directory.domain.rules import rebase
from services.directory.domain.unit import Unit
from shared.errors import Conflict, IllegalTransition
from shared.events import Event, EventMetadata, new_envelope
from shared.units import MERGED, UnitRef

HN = UnitRef(unit_id="u-hn", name="LĐLĐ Thành phố Hà Nội", kind="city_federation", parent_id=None, path="hn")
NTL = UnitRef(unit_id="u-ntl", name="LĐLĐ quận Nam Từ Liêm", kind="upper_level_union", parent_id="u-hn", path="hn.ntl")
DD = UnitRef(unit_id="u-dd", name="LĐLĐ quận Đống Đa", kind="upper_level_union", parent_id="u-hn", path="hn.dd")
FECON = UnitRef(
    unit_id="u-fecon", name="Công đoàn Fecon", kind="grassroots_union", parent_id="u-ntl", path="hn.ntl.fecon"
)
CEO = UnitRef(unit_id="u-ceo", name="Công đoàn CEO", kind="grassroots_union", parent_id="u-ntl", path="hn.ntl.ceo")
KT = UnitRef(unit_id="u-kt", name="Tổ công đoàn Kỹ thuật", kind="sub_unit", parent_id="u-fecon", path="hn.ntl.fecon.kt")


def given_unit(ref: UnitRef, *later: Event) -> Unit:
    meta = EventMetadata(actor="test", unit_path=ref.path)
    registered = UnitRegistered(
        unit_id=ref.unit_id, code=ref.code, name=ref.name, kind=ref.kind, parent_id=ref.parent_id, path=ref.path
    )
    history = [registered, *later]
    return Unit.from_history(ref.unit_id, [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])


def given_member(*history: Event) -> Member:
    meta = EventMetadata(actor="test", unit_path="hn.ntl.fecon")
    return Member.from_history("m-1", [new_envelope("s", i + 1, e, meta) for i, e in enumerate(history)])


ENROLLED = MemberEnrolled(member_id="m-1", unit_id="u-fecon", full_name="Nguyễn Thị Lan")


# -- register -------------------------------------------------------------------------------------


def test_register_builds_the_path_from_the_parent() -> None:
    (event,) = Unit.register("u-new", "handico", "Công đoàn HANDICO", "grassroots_union", DD, {"other"})
    assert event == UnitRegistered(
        unit_id="u-new",
        code="handico",
        name="Công đoàn HANDICO",
        kind="grassroots_union",
        parent_id="u-dd",
        path="hn.dd.handico",
    )


def test_a_city_federation_is_a_root() -> None:
    (event,) = Unit.register("u-hcm", "hcm", "LĐLĐ TP Hồ Chí Minh", "city_federation", None, {"hn"})
    assert event.path == "hcm" and event.parent_id is None
    with pytest.raises(Conflict, match="only at the root"):
        Unit.register("u-x", "x", "X", "city_federation", HN, set())


@pytest.mark.parametrize(
    ("kind", "parent"),
    [("grassroots_union", HN), ("sub_unit", NTL), ("upper_level_union", FECON), ("grassroots_union", None)],
)
def test_a_kind_sits_only_under_the_kind_above_it(kind: str, parent: UnitRef | None) -> None:
    with pytest.raises(Conflict) as error:
        Unit.register("u-x", "x", "X", kind, parent, set())
    assert error.value.field == "parent_id"


def test_a_code_is_unique_among_active_siblings() -> None:
    with pytest.raises(Conflict) as error:
        Unit.register("u-x", "fecon", "Fecon 2", "grassroots_union", NTL, {"fecon", "ceo"})
    assert error.value.field == "code"


def test_nothing_registers_under_a_merged_unit() -> None:
    merged = UnitRef(**{**CEO.__dict__, "status": MERGED, "merged_into": "u-fecon"})
    with pytest.raises(IllegalTransition):
        Unit.register("u-x", "x", "X", "sub_unit", merged, set())


# -- rename ---------------------------------------------------------------------------------------


def test_rename_records_the_previous_name() -> None:
    unit = given_unit(FECON)
    assert unit.rename("Công đoàn Công ty Cổ phần Fecon") == [
        UnitRenamed(unit_id="u-fecon", name="Công đoàn Công ty Cổ phần Fecon", previous_name="Công đoàn Fecon")
    ]


def test_rename_to_the_same_name_is_refused() -> None:
    with pytest.raises(Conflict):
        given_unit(FECON).rename("Công đoàn Fecon")


def test_a_merged_unit_no_longer_changes() -> None:
    unit = given_unit(
        CEO, UnitMerged(unit_id="u-ceo", into_unit_id="u-fecon", from_path=CEO.path, into_path=FECON.path)
    )
    assert unit.status == MERGED and unit.merged_into == "u-fecon"
    with pytest.raises(IllegalTransition):
        unit.rename("Tên mới")
    with pytest.raises(IllegalTransition):
        unit.move(CEO, DD, set())


# -- move -----------------------------------------------------------------------------------------


def test_a_move_is_out_on_the_old_path_and_in_on_the_new() -> None:
    out, in_ = given_unit(FECON).move(FECON, DD, {"handico"}, history=["hn.gl.fecon"])
    data = {
        "unit_id": "u-fecon",
        "from_path": "hn.ntl.fecon",
        "to_path": "hn.dd.fecon",
        "old_parent_id": "u-ntl",
        "new_parent_id": "u-dd",
        "previous_paths": ("hn.gl.fecon", "hn.ntl.fecon"),  # where its history lies, for back-fills
    }
    assert out == UnitMovedOut(**data) and in_ == UnitMovedIn(**data)


def test_moving_under_a_descendant_is_a_cycle() -> None:
    with pytest.raises(Conflict, match="cycle"):
        given_unit(NTL).move(NTL, FECON, set())
    with pytest.raises(Conflict, match="cycle"):
        given_unit(FECON).move(FECON, FECON, set())


def test_moving_to_the_current_parent_is_refused() -> None:
    with pytest.raises(Conflict, match="already under"):
        given_unit(FECON).move(FECON, NTL, {"fecon"})


def test_moving_to_a_parent_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(Conflict, match="cannot sit under"):
        given_unit(KT).move(KT, NTL, set())


def test_moving_next_to_an_active_sibling_with_the_same_code_is_refused() -> None:
    with pytest.raises(Conflict) as error:
        given_unit(FECON).move(FECON, DD, {"fecon"})
    assert error.value.field == "code"


def test_the_root_cannot_move() -> None:
    other_root = UnitRef(unit_id="u-hcm", name="HCM", kind="city_federation", parent_id=None, path="hcm")
    with pytest.raises(Conflict):
        given_unit(HN).move(HN, other_root, set())


# -- merge ----------------------------------------------------------------------------------------


def test_merge_gives_one_event_to_each_stream() -> None:
    mine, theirs = given_unit(CEO).merge_into(given_unit(FECON), CEO, FECON, [KT], {"other"})
    assert mine == [UnitMerged(unit_id="u-ceo", into_unit_id="u-fecon", from_path=CEO.path, into_path=FECON.path)]
    assert theirs == [
        UnitAbsorbed(
            unit_id="u-fecon",
            absorbed_unit_id="u-ceo",
            absorbed_path=CEO.path,
            moved_child_ids=("u-kt",),
            absorbed_paths=(CEO.path,),
        )
    ]


def test_only_units_of_the_same_kind_merge() -> None:
    with pytest.raises(Conflict, match="same kind"):
        given_unit(FECON).merge_into(given_unit(DD), FECON, DD, [], set())


def test_a_unit_cannot_merge_into_itself() -> None:
    fecon = given_unit(FECON)
    with pytest.raises(Conflict, match="itself"):
        fecon.merge_into(fecon, FECON, FECON, [], set())


def test_merging_into_a_merged_unit_is_refused() -> None:
    gone = given_unit(FECON, UnitMerged(unit_id="u-fecon", into_unit_id="u-z", from_path=FECON.path, into_path="z"))
    with pytest.raises(IllegalTransition):
        given_unit(CEO).merge_into(gone, CEO, FECON, [], set())


def test_children_with_clashing_codes_block_a_merge() -> None:
    with pytest.raises(Conflict, match="kt"):
        given_unit(CEO).merge_into(given_unit(FECON), CEO, FECON, [KT], {"kt"})


# -- members --------------------------------------------------------------------------------------


def test_enrol_in_an_active_unit() -> None:
    assert Member.enrol("m-1", FECON, "Nguyễn Thị Lan", gender="female") == [
        MemberEnrolled(member_id="m-1", unit_id="u-fecon", full_name="Nguyễn Thị Lan", gender="female")
    ]
    merged = UnitRef(**{**CEO.__dict__, "status": MERGED})
    with pytest.raises(IllegalTransition):
        Member.enrol("m-2", merged, "Trần Văn Nam")


def test_a_role_is_held_in_ones_own_unit() -> None:
    member = given_member(ENROLLED)
    assert member.assign_role(FECON, "u-fecon", "chair") == [
        RoleAssigned(member_id="m-1", unit_id="u-fecon", role="chair")
    ]
    with pytest.raises(Conflict) as error:
        member.assign_role(CEO, "u-fecon", "chair")
    assert error.value.field == "unit_id"


def test_after_a_merge_the_role_goes_to_the_absorbing_unit() -> None:
    # The member's stream still says fecon; the tree says the member now belongs to ceo.
    member = given_member(ENROLLED)
    assert member.assign_role(CEO, "u-ceo", "chair")[0].unit_id == "u-ceo"


def test_a_role_cannot_be_assigned_twice_nor_revoked_if_not_held() -> None:
    member = given_member(ENROLLED, RoleAssigned(member_id="m-1", unit_id="u-fecon", role="chair"))
    with pytest.raises(Conflict):
        member.assign_role(FECON, "u-fecon", "chair")
    assert member.revoke_role(FECON, "chair") == [RoleRevoked(member_id="m-1", unit_id="u-fecon", role="chair")]
    with pytest.raises(Conflict):
        member.revoke_role(FECON, "emulation_officer")
    revoked = given_member(ENROLLED, *member.assign_role(FECON, "u-fecon", "emulation_officer"))
    assert revoked.roles == {("u-fecon", "emulation_officer")}


# -- commands and rules ---------------------------------------------------------------------------


def test_command_text_is_nfc_and_trimmed() -> None:
    decomposed = unicodedata.normalize("NFD", "  Công đoàn Trường Tiểu học Nam Từ Liêm ")
    assert not unicodedata.is_normalized("NFC", decomposed)
    cmd = RenameUnit(name=decomposed)
    assert cmd.name == unicodedata.normalize("NFC", "Công đoàn Trường Tiểu học Nam Từ Liêm")
    assert EnrolMember(full_name=unicodedata.normalize("NFD", "Đặng Thị Hạnh")).full_name == "Đặng Thị Hạnh"


@pytest.mark.parametrize("code", ["NTL", "ntl.x", "-x", "x-", "đống-đa", "", "a" * 41])
def test_invalid_codes_are_rejected(code: str) -> None:
    with pytest.raises(ValidationError):
        RegisterUnit(code=code, name="X", kind="grassroots_union")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201])
def test_empty_or_overlong_names_are_rejected(name: str) -> None:
    with pytest.raises(ValidationError):
        RenameUnit(name=name)


def test_only_official_roles_are_assignable() -> None:
    with pytest.raises(ValidationError):
        AssignRole(role="admin")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        EnrolMember(full_name="Lê Văn Tám", birth_year=1800)


def test_rebase_moves_a_path_prefix() -> None:
    assert rebase("hn.ntl.fecon.kt", "hn.ntl.fecon", "hn.dd.fecon") == "hn.dd.fecon.kt"
    with pytest.raises(ValueError):
        rebase("hn.ntl.fecon2", "hn.ntl.fecon", "hn.dd.fecon")
