"""Helpers for platform tests: read a stream back, wait for a condition, run a module as a process."""

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from shared.db import open_database
from shared.eventstore import EventStore
from shared.eventstore.migrate import migrate

REPO = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def opened_store(url: str) -> AsyncIterator[EventStore]:
    """An event store on a migrated database at ``url``, closed with its engine afterwards."""
    db = open_database(url)
    await migrate(db)
    store = EventStore(db)
    try:
        yield store
    finally:
        await store.close()
        await db.dispose()


async def wait_for(check: Callable[[], Awaitable[bool]], seconds: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def spawn(module: str, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", module, *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
