"""One trace from an HTTP command through the store, the relay and NATS to a level projection's consumer."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from nats.js.errors import NotFoundError
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.directory.adapters.level import DirectoryLevelProjection
from services.directory.entrypoints.main import create_app
from shared.auth import issue_token
from shared.db import open_database
from shared.messaging import connect
from shared.runner import ProjectionRunner
from shared.settings import Settings
from tests.platform.helpers import wait_for

_exporter = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def in_memory_spans() -> InMemorySpanExporter:
    """Spans of this process go to memory (the provider is process-wide, so it is installed once)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(_exporter))
    return _exporter


@pytest.fixture
async def directory(settings: Settings, tmp_path: Path) -> AsyncIterator[FastAPI]:
    app = create_app(settings.model_copy(update={"service": "directory"}))
    async with app.router.lifespan_context(app):
        yield app


async def test_one_trace_id_from_http_request_to_the_projection_consumer(
    directory: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    token = issue_token(settings, "admin")  # the platform operator (THIDUA_ADMIN_SUBJECTS of the local run)
    _exporter.clear()
    transport = httpx.ASGITransport(directory)
    async with httpx.AsyncClient(transport=transport, base_url="http://directory") as client:
        response = await client.post(
            "/units",
            json={"code": "hn", "name": "Liên đoàn Lao động Thành phố Hà Nội", "kind": "city_federation"},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "trace-1"},
        )
    assert response.status_code == 201, response.text
    server_spans = [s for s in _exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert len(server_spans) == 1, [s.name for s in server_spans]
    http_span = server_spans[0]
    assert http_span.parent is None and "POST" in http_span.name

    append = next(s for s in _exporter.get_finished_spans() if s.name == "event store append")
    assert append.context.trace_id == http_span.context.trace_id

    nc, js = await connect(settings.nats_url, "trace-test")

    async def published() -> bool:
        try:
            return (await js.stream_info("THIDUA")).state.messages >= 1
        except NotFoundError:  # the relay has not created the stream yet
            return False

    await wait_for(published, what="the relay to publish the event")
    level = open_database(f"sqlite+aiosqlite:///{tmp_path}/level-hn.db")
    runner = ProjectionRunner(DirectoryLevelProjection(), "hn", level, js, settings)
    await runner.start()
    await runner.catch_up()
    consumer_spans = [s for s in _exporter.get_finished_spans() if s.name.startswith("apply directory_level__hn")]
    assert consumer_spans, "the projection recorded no consumer span"
    assert {s.context.trace_id for s in consumer_spans} == {http_span.context.trace_id}
    assert consumer_spans[0].kind == trace.SpanKind.CONSUMER
    relay_batches = [s for s in _exporter.get_finished_spans() if s.name == "relay batch"]
    assert any(link.context.trace_id == http_span.context.trace_id for s in relay_batches for link in s.links)
    await nc.close()
    await level.dispose()
