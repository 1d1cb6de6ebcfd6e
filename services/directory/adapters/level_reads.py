"""Reads of a directory level, served by the level host at ``/levels/{level}/directory/…``."""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from services.directory.adapters.level import read_unit, read_units
from shared.errors import NotFound
from shared.level_host import Level

router = APIRouter(prefix="/directory", tags=["directory level"])


@router.get("/units")
async def units(read: Level, under: Annotated[str | None, Query(max_length=400)] = None) -> dict[str, Any]:
    """The level's units under ``under`` (default: all the caller may see), with members and events seen."""
    path = read.unit(under, "under")
    async with read.db.reader.connect() as conn:
        found = await read_units(conn, None if path == read.level else path)
    return {"level": read.level, "units": found}


@router.get("/units/{unit_id}")
async def unit(read: Level, unit_id: Annotated[str, Path(max_length=64)]) -> dict[str, Any]:
    async with read.db.reader.connect() as conn:
        found = await read_unit(conn, unit_id)
    if found is None or not read.caller.sees(found["path"]):
        raise NotFound(f"unit {unit_id} is not in the level {read.level} within your unit's subtree")
    return found
