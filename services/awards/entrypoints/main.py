"""Wiring of the awards service: the store with its inline records, the facts consumer, the background
re-evaluation of proposals whose facts changed, the public feed relay, the evidence store, the routes.

    uvicorn --factory services.awards.entrypoints.main:create_app   (settings from THIDUA_* variables)
"""

import asyncio
import contextlib
import logging
from datetime import date

from fastapi import FastAPI, Request

from services.awards.adapters.consumer import AwardFacts
from services.awards.adapters.facts import metadata
from services.awards.adapters.feed_relay import PublicFeedRelay, ensure_public_stream
from services.awards.adapters.records import AwardRecords, upgrade
from services.awards.application.deps import Deps
from services.awards.application.proposals import StrandedProposals
from services.awards.application.reevaluation import reevaluate_dirty
from services.awards.entrypoints.api import router
from shared.evidence import EvidenceStore, evidence_root, install_evidence
from shared.messaging import connect
from shared.service import consumer_task, service_app
from shared.settings import Settings

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, clock=date.today) -> FastAPI:  # type: ignore[no-untyped-def]
    settings = settings or Settings(service="awards")

    async def start(app: FastAPI) -> None:
        async with app.state.db.writer.begin() as conn:
            await conn.run_sync(metadata.create_all)  # read models: created, rebuildable, not migrated
            await conn.run_sync(upgrade)  # except one narrowing of the proposals' row (records.upgrade)
        deps = Deps(app.state.store, app.state.db, app.state.directory, app.state.evidence, clock=clock)
        app.state.deps = deps
        app.state.judge_wake, app.state.feed_wake = asyncio.Event(), asyncio.Event()

        def committed() -> None:  # a decision or a judgement: the feed and the re-evaluation look now
            app.state.judge_wake.set()
            app.state.feed_wake.set()

        deps.on_commit = committed

    async def judge_again(app: FastAPI, stop: asyncio.Event) -> None:
        """Proposals whose facts changed are judged again soon after (awards_fact_dirty)."""
        while not stop.is_set():
            try:
                await reevaluate_dirty(app.state.deps)
            except Exception:
                log.exception("re-evaluation failed; retrying")
            app.state.judge_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(app.state.judge_wake.wait(), 0.5)

    async def public_feed(app: FastAPI, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                nc, js = await connect(settings.nats_url, "thidua-awards-public-feed")
            except Exception as error:
                log.warning("public feed cannot reach NATS (%s); retrying", error)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                continue
            try:
                await ensure_public_stream(js, settings.stream_replicas)
                relay = PublicFeedRelay(app.state.db, js, wake=app.state.feed_wake)
                app.state.feed_relay = relay
                await relay.run(stop)
            except Exception as error:
                log.warning("public feed relay stopped (%s); restarting", error)
                await asyncio.sleep(1.0)
            finally:
                await nc.close()

    background = [judge_again]
    if settings.relay_enabled:
        background += [consumer_task(AwardFacts, durable="awards_facts"), public_feed]
    app = service_app(
        settings,
        title="thidua awards",
        routers=[router],
        inline=lambda _db: [AwardRecords()],
        on_start=[start],
        background=background,
        upward=lambda app: StrandedProposals(app.state.deps),
        description=(
            "Award proposals judged criterion by criterion against dated rule sets, publicity, council votes, "
            "decisions within each level's authority, escalation upward with dossiers, quotas, revocation, "
            "and the public award feed (CloudEvents on NATS; JSON, JSON Feed and Atom over HTTP)."
        ),
    )

    async def path_of(request: Request, unit_id: str) -> str | None:
        unit = await request.app.state.directory.unit(unit_id)
        return unit.path if unit else None

    install_evidence(app, EvidenceStore(evidence_root(settings)), path_of)
    return app
