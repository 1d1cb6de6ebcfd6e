"""What every directory handler shares: stream names, authority checks, loading, location guards."""

from collections.abc import Iterable

from services.directory.adapters.tree import Tree
from services.directory.domain.member import Member
from services.directory.domain.rules import UnitRef
from services.directory.domain.unit import Unit
from shared.auth import Caller
from shared.errors import ConcurrencyError, Forbidden, NotFound
from shared.eventstore import EventStore, StreamAppend


def unit_stream(unit_id: str) -> str:
    return f"unit-{unit_id}"


def member_stream(member_id: str) -> str:
    return f"member-{member_id}"


def can_see(caller: Caller, path: str) -> bool:
    """The platform admin sees every tree (there may be several roots); others see their subtree."""
    return "admin" in caller.roles or caller.sees(path)


def require_subtree(caller: Caller, path: str, field: str | None = None) -> None:
    if not can_see(caller, path):
        raise Forbidden(f"unit {path} is outside your unit {caller.unit_path}", field=field)


async def locate_unit(
    tree: Tree, unit_id: str, *, field: str | None = None, what: str = "unit"
) -> tuple[UnitRef, list[UnitRef]]:
    """The unit (404 if unknown) and its ancestors, outermost first."""
    ref, lineage = await tree.locate(unit_id)
    if ref is None:
        raise NotFound(f"{what} {unit_id} not found", field=field)
    return ref, lineage


async def load_unit(store: EventStore, ref: UnitRef) -> Unit:
    unit = Unit.from_history(ref.unit_id, await store.load(unit_stream(ref.unit_id)))
    _check_same(unit.version, ref.version, ref.path)
    return unit


async def load_member(store: EventStore, member_id: str, tree_version: int) -> Member:
    member = Member.from_history(member_id, await store.load(member_stream(member_id)))
    _check_same(member.version, tree_version, f"member {member_id}")
    return member


def _check_same(stream_version: int, tree_version: int, what: str) -> None:
    # The stream and the tree were read one after the other; a commit in between means the location
    # we hold may be stale, so refuse rather than publish on a wrong path.
    if stream_version != tree_version:
        raise ConcurrencyError(f"{what} changed while this command was read; try again")


def location_guards(units: Iterable[UnitRef], *, exclude: Iterable[str] = ()) -> list[StreamAppend]:
    """Empty appends that hold each unit's stream at the version we read.

    A unit's path depends on its ancestors' moves and merges; if any of them commits first, these
    guards make this command lose the race (409) instead of writing events with a stale path.
    """
    skip, seen = set(exclude), set()
    guards = []
    for unit in units:
        if unit.unit_id in skip or unit.unit_id in seen:
            continue
        seen.add(unit.unit_id)
        guards.append(StreamAppend(unit_stream(unit.unit_id), unit.version, []))
    return guards
