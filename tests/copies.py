"""Feeding a service's copy of the directory in-process, for tests without NATS: the directory's
contract events applied through the copy's own handlers, as its consumer would."""

import uuid
from collections.abc import Iterable

from contracts.directory import MemberEnrolled, RoleAssigned, UnitRegistered
from shared.directory_copy import DirectoryCopy
from shared.events import Event, EventMetadata, new_envelope
from shared.projection import Context, Message
from shared.subjects import event_subject
from tests.people import person_id


async def feed(copy: DirectoryCopy, events: Iterable[tuple[Event, str]]) -> None:
    """Apply directory events (each with the path it is published on) to ``copy``."""
    assert copy.db is not None
    async with copy.db.writer.begin() as conn:
        for sequence, (event, path) in enumerate(events, 1):
            envelope = new_envelope(f"dir-{uuid.uuid4()}", 1, event, EventMetadata(actor="directory", unit_path=path))
            message = Message(event_subject("directory", event.event_type, path), sequence, path, envelope)
            await copy.handle(conn, event, Context("*", message))


async def register_units(copy: DirectoryCopy, units: Iterable[tuple[str, str, str]], ids: dict[str, str]) -> None:
    """Units as (path, kind, name), parents first; ``ids`` maps each path to its unit id."""
    events = []
    for path, kind, name in units:
        parent = path.rpartition(".")[0]
        registered = UnitRegistered(
            unit_id=ids[path], code=path.rsplit(".", 1)[-1], name=name, kind=kind,  # type: ignore[arg-type]
            parent_id=ids.get(parent) if parent else None, path=path,
        )  # fmt: skip
        events.append((registered, path))
    await feed(copy, events)


async def copied_person(copy: DirectoryCopy, path: str, roles: tuple[str, ...], who: str = "") -> str | None:
    """A member of the unit at ``path`` holding ``roles`` in the copy (``tests.people``)."""
    unit = await copy.by_path(path)
    if unit is None:
        return None
    member_id = person_id(unit.unit_id, roles, who)
    if await copy.member(member_id) is None:
        enrolled = MemberEnrolled(member_id=member_id, unit_id=unit.unit_id, full_name="Người Kiểm Thử")
        assigned = [RoleAssigned(member_id=member_id, unit_id=unit.unit_id, role=role) for role in roles]
        await feed(copy, [(enrolled, path), *((event, path) for event in assigned)])
    return member_id
