"""Requests that wait at a level above their unit — an initiative proposed upward, an award proposal —
and what happens to them when the tree changes under them.

The rule: a request waits at a level above its unit. When its unit moves, or a level merges, so that the
waiting level is no longer above the unit, the request is **re-addressed** to the unit that now holds
the same rank (kind) in the unit's chain — Fecon's request waiting at Nam Từ Liêm goes to Đống Đa when
Fecon moves there; a request waiting at a district that merges into another goes to the absorbing
district — with the reason recorded. If the chain has no unit of that rank any more, the request goes
back to the level that sent it (``to`` is None). Nothing is left waiting where nobody can decide it.

A service with upward requests gives ``service_app`` an ``UpwardRequests`` (which requests wait where,
and the command that re-addresses one); the platform settles them after every change of the tree its
copy of the directory applies, and once at start-up (a crash between the two loses nothing).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from fastapi import FastAPI

from shared.directory_copy import DirectoryCopy
from shared.errors import ConcurrencyError, Conflict
from shared.units import UnitRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Waiting:
    request_id: str  # the aggregate that waits (an initiative, a proposal)
    unit_id: str  # the unit the request is about
    waiting_at: str  # the unit id of the level it waits at


class UpwardRequests(Protocol):
    async def waiting(self) -> list[Waiting]:
        """Every request waiting upward now (from the service's records)."""
        ...

    async def readdress(self, request: Waiting, to: UnitRef | None, reason: str) -> None:
        """Send the request to ``to`` (None: back to the level that sent it), recording ``reason``."""
        ...


async def stranded(request: Waiting, directory: DirectoryCopy) -> tuple[UnitRef | None, str] | None:
    """Where a stranded request goes now, and why; None if its waiting level is still above its unit."""
    unit = await directory.unit(request.unit_id)
    if unit is None:
        return None  # a unit the copy does not know yet: nothing to judge
    chain = await directory.chain(unit)
    if len(chain) != unit.path.count(".") + 1:
        # An ancestor is not active: the copy sits between a merge and its absorption (the directory's two
        # events), the unit not yet under the absorbing level. Judge it at the next change of the tree,
        # rather than send the request back to its sender for want of a level above.
        return None
    above = chain[:-1]
    if request.waiting_at in {u.unit_id for u in above}:
        return None
    was = await directory.unit(request.waiting_at)
    rank = was.kind if was is not None else None
    to = next((u for u in above if u.kind == rank), None)
    where = was.path if was is not None else request.waiting_at
    parent = above[-1].path if above else "no level"
    reason = f"{unit.path} now sits under {parent}: {where} is no longer above it"
    return to, reason


async def settle(requests: UpwardRequests, directory: DirectoryCopy) -> int:
    """Re-address every request whose waiting level is no longer above its unit; returns how many."""
    moved = 0
    for request in await requests.waiting():
        found = await stranded(request, directory)
        if found is None:
            continue
        to, reason = found
        try:
            await requests.readdress(request, to, reason)
        except (ConcurrencyError, Conflict):  # decided or re-addressed meanwhile (another replica)
            continue
        moved += 1
        log.info("request %s re-addressed to %s: %s", request.request_id, to.path if to else "its sender", reason)
    return moved


def settle_task(requests: Callable[[FastAPI], UpwardRequests]):  # type: ignore[no-untyped-def]
    """A background task: settle at start, then after every change of the tree the copy applies."""

    async def run(app: FastAPI, stop: asyncio.Event) -> None:
        copy: DirectoryCopy = app.state.directory
        while not stop.is_set():
            try:
                await settle(requests(app), copy)
            except Exception as error:  # the database is away: try again at the next change
                log.warning("settling upward requests failed: %s", error)
            waits = [asyncio.ensure_future(copy.tree_changed.wait()), asyncio.ensure_future(stop.wait())]
            await asyncio.wait(waits, timeout=60, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
            copy.tree_changed.clear()

    run.__name__ = "settle-upward-requests"
    return run
