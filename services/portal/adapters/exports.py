"""Book exports too large to wait for: fetched from the level host in the background into a file, with
progress (rows received of the rows counted) and a link when ready. Files are deleted after an hour."""

import asyncio
import contextlib
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.portal.adapters.platform import Platform

KEEP_SECONDS = 3600


@dataclass
class ExportJob:
    id: str
    owner: str  # the session's person: nobody else may fetch the file
    filename: str
    media_type: str
    total_rows: int
    received_rows: int = 0
    received_bytes: int = 0
    status: str = "running"  # running | ready | failed
    error: str = ""
    path: Path | None = None
    created: float = field(default_factory=time.time)

    @property
    def percent(self) -> int:
        if self.status == "ready":
            return 100
        if not self.total_rows:
            return 0
        return min(99, int(100 * self.received_rows / self.total_rows))


class ExportJobs:
    def __init__(self, platform: Platform, folder: str = "") -> None:
        self.platform = platform
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="thidua-exports-"))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jobs: dict[str, ExportJob] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def start(
        self, owner: str, token: str, level: str, fmt: str, total_rows: int, filters: dict[str, Any]
    ) -> ExportJob:
        self._forget_old()
        job = ExportJob(
            id=uuid.uuid4().hex, owner=owner, filename=f"so-vang-sang-kien-{level}.{fmt}",
            media_type="text/csv; charset=utf-8" if fmt == "csv" else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            total_rows=total_rows,
        )  # fmt: skip
        self.jobs[job.id] = job
        task = asyncio.create_task(self._run(job, token, level, fmt, filters))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return job

    def get(self, job_id: str, owner: str) -> ExportJob | None:
        job = self.jobs.get(job_id)
        return job if job is not None and job.owner == owner else None

    async def _run(self, job: ExportJob, token: str, level: str, fmt: str, filters: dict[str, Any]) -> None:
        target = self.folder / f"{job.id}.{fmt}"
        url = self.platform.topology.level_base("registry", level) + f"/registry/book.{fmt}"
        try:
            params = {k: v for k, v in filters.items() if v not in (None, "")}
            async with self.platform.http.stream(
                "GET", url, params=params, headers=self.platform._headers(token), timeout=600
            ) as response:
                if response.status_code >= 400:
                    raise RuntimeError(f"the level host answered {response.status_code}")
                with target.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        job.received_bytes += len(chunk)
                        if fmt == "csv":  # one line per initiative after the header
                            job.received_rows = max(0, job.received_rows + chunk.count(b"\n"))
            job.path, job.status = target, "ready"
        except Exception as error:  # the person sees why; the portal keeps going
            job.status, job.error = "failed", str(error) or type(error).__name__
            with contextlib.suppress(OSError):
                target.unlink()

    def _forget_old(self) -> None:
        now = time.time()
        for job_id, job in list(self.jobs.items()):
            if now - job.created > KEEP_SECONDS:
                if job.path is not None:
                    with contextlib.suppress(OSError):
                        job.path.unlink()
                del self.jobs[job_id]

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
