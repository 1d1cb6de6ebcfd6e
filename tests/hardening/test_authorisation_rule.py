"""The one authorisation rule (``shared.identity.Caller``), pinned so that deleting any of its checks
fails a test (mutation testing found ``require_subtree`` with no test at all)."""

import pytest

from shared.errors import Forbidden, NotFound
from shared.identity import Caller
from shared.units import UnitRef

NTL = UnitRef(unit_id="u-ntl", path="hn.ntl", parent_id="u-hn", kind="upper_level_union")
FECON = UnitRef(unit_id="u-fecon", path="hn.ntl.fecon", parent_id="u-ntl", kind="grassroots_union")
NTL_CHAIR = Caller("m-1", NTL, frozenset({"chair"}))
FECON_MEMBER = Caller("m-2", FECON, frozenset({"member"}))
NOBODY = Caller("m-3", None, frozenset())


@pytest.mark.parametrize("path", ["hn.ntl", "hn.ntl.fecon", "hn.ntl.fecon.thi-cong"])
def test_a_caller_acts_in_their_unit_and_below(path: str) -> None:
    NTL_CHAIR.require_subtree(path)
    assert NTL_CHAIR.sees(path)


@pytest.mark.parametrize("path", ["hn", "hn.dd", "hn.dd.handico", "hn.ntlx", "hn.ntl-2.fecon"])
def test_outside_the_subtree_is_403_naming_the_field_or_404_when_hidden(path: str) -> None:
    with pytest.raises(Forbidden, match=f"unit {path} is outside your unit hn.ntl") as refused:
        NTL_CHAIR.require_subtree(path, "unit_path")
    assert refused.value.field == "unit_path" and refused.value.status_code == 403
    with pytest.raises(NotFound, match=f"{path} not found in your unit's subtree") as hidden:
        NTL_CHAIR.require_subtree(path, "unit_id", hide=True)
    assert hidden.value.field == "unit_id" and hidden.value.status_code == 404


def test_a_member_below_does_not_reach_up_and_nobody_reaches_anything() -> None:
    with pytest.raises(Forbidden):
        FECON_MEMBER.require_subtree("hn.ntl")
    with pytest.raises(Forbidden, match=r"outside your unit \(none\)"):
        NOBODY.require_subtree("hn")
    Caller.system("admin").require_subtree("hn.dd.handico")  # the platform operator sees everything


def test_roles_and_officials() -> None:
    NTL_CHAIR.require_role("chair", "standing_committee")
    with pytest.raises(Forbidden, match="needs one of the roles: executive_committee") as refused:
        FECON_MEMBER.require_role("executive_committee", field="role")
    assert refused.value.field == "role"
    NTL_CHAIR.require_official_of(NTL, "chair")
    with pytest.raises(Forbidden):
        NTL_CHAIR.require_official_of(FECON, "chair")  # a level above reads; it does not act for its units
    with pytest.raises(Forbidden):
        FECON_MEMBER.require_official_of(FECON, "chair")
