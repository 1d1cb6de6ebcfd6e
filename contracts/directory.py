"""The directory's events (its contract): units, members and officials' roles.

Each is stored on its aggregate's stream and published on the path of its unit.

A move is two events on the moving unit's stream, ``UnitMovedOut`` on the old path and ``UnitMovedIn`` on
the new one, so the losing and the gaining level both hear of it. A merge is ``UnitMerged`` on the
absorbed unit's stream and ``UnitAbsorbed`` on the absorbing unit's, appended together.
"""

from typing import Literal

from shared.events import Event, event

# The kinds of union unit, outermost first: each sits directly under the kind before it (a city
# federation is a root). Other services read kinds from here (e.g. which level recognises at which scope).
Kind = Literal["city_federation", "upper_level_union", "grassroots_union", "sub_unit"]
KINDS: tuple[Kind, ...] = ("city_federation", "upper_level_union", "grassroots_union", "sub_unit")
CITY, UPPER, GRASSROOTS, SUB_UNIT = KINDS
Gender = Literal["female", "male"]


@event
class UnitRegistered(Event):
    unit_id: str
    code: str
    name: str
    kind: Kind
    parent_id: str | None
    path: str


@event
class UnitRenamed(Event):
    unit_id: str
    name: str
    previous_name: str


class _UnitMove(Event):
    unit_id: str
    from_path: str
    to_path: str
    old_parent_id: str
    new_parent_id: str
    # Every path the unit had before this move (from_path included). Its history, and its subtree's,
    # lies under these: an ancestor's move changes a unit's path without an event on its own stream.
    previous_paths: tuple[str, ...] = ()


@event
class UnitMovedOut(_UnitMove):
    """Published on the old path: the level the unit leaves drops it and its subtree."""


@event
class UnitMovedIn(_UnitMove):
    """Published on the new path: the level the unit joins back-fills it if it came from outside."""


@event
class UnitMerged(Event):
    """The unit (published on its own path) merged into another; its history is kept."""

    unit_id: str
    into_unit_id: str
    from_path: str
    into_path: str


@event
class UnitAbsorbed(Event):
    """The unit (published on its own path) took over a merged unit's children and members."""

    unit_id: str
    absorbed_unit_id: str
    absorbed_path: str
    moved_child_ids: tuple[str, ...] = ()
    absorbed_paths: tuple[str, ...] = ()  # every path the absorbed unit ever had (see previous_paths)


@event
class MemberEnrolled(Event):
    member_id: str
    unit_id: str
    full_name: str
    gender: Gender | None = None
    birth_year: int | None = None
    job_title: str | None = None
    email: str | None = None


@event
class RoleAssigned(Event):
    member_id: str
    unit_id: str
    role: str


@event
class RoleRevoked(Event):
    member_id: str
    unit_id: str
    role: str
