"""What ``service_app`` and ``create_app`` set up in the process for a running service: the garbage
collector tuned while it serves, and FastAPI's request spans only where a tracer provider exists."""

import gc
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from starlette.requests import Request

from services.directory.entrypoints.main import create_app as directory_app
from shared import http
from shared.auth import Caller
from shared.http import command_context, create_app, tracer_provider_installed
from shared.service import GC_YOUNG_THRESHOLD, steady_gc
from shared.settings import Settings


def test_steady_gc_freezes_what_exists_and_gives_the_thresholds_back() -> None:
    before = gc.get_threshold()
    gc.unfreeze()
    with steady_gc():
        assert gc.get_freeze_count() > 0  # the start-up's objects are out of every collection
        assert gc.get_threshold() == (max(before[0], GC_YOUNG_THRESHOLD), *before[1:])
        garbage: list[object] = []
        garbage.append(garbage)  # a cycle made while serving is still collected
        del garbage
        assert gc.collect() >= 1
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


async def test_a_service_runs_with_steady_gc_and_stops_without(tmp_path: Path) -> None:
    settings = Settings(
        service="directory", database_url=f"sqlite+aiosqlite:///{tmp_path}/d.db", relay_enabled=False, log_json=False
    )
    before = gc.get_threshold()
    app = directory_app(settings)
    async with app.router.lifespan_context(app):
        assert gc.get_threshold()[0] >= GC_YOUNG_THRESHOLD
    assert gc.get_threshold() == before


@pytest.mark.parametrize("installed", [False, True])
def test_fastapi_opens_request_spans_only_with_a_tracer_provider(
    installed: bool, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Without a provider FastAPI would ask OpenTelemetry for one on every request (an os.environ look-up).
    provider = TracerProvider() if installed else trace.ProxyTracerProvider()
    monkeypatch.setattr(http.trace, "get_tracer_provider", lambda: provider)
    assert tracer_provider_installed() is installed
    app = create_app(Settings(service="testsvc", database_url=f"sqlite+aiosqlite:///{tmp_path}/t.db"))
    assert app._telemetry["tracing"] is installed  # FastAPI's own switch for request spans


async def test_a_command_without_a_correlation_id_gets_a_new_uuid_and_one_sent_is_kept() -> None:
    def request(headers: list[tuple[bytes, bytes]]) -> Request:
        scope = {"type": "http", "method": "POST", "path": "/units", "headers": headers, "query_string": b""}
        return Request(scope, _empty_body)

    caller = Caller("someone", None, frozenset())
    made = [(await command_context(request([]), caller, None)).correlation_id for _ in range(3)]
    assert len(set(made)) == 3
    assert all(uuid.UUID(made_id).version == 7 for made_id in made)  # time-ordered, random bits read in bulk
    sent = await command_context(request([(b"x-correlation-id", b"from-the-client")]), caller, None)
    assert sent.correlation_id == "from-the-client"


async def _empty_body() -> dict[str, object]:
    return {"type": "http.request", "body": b"", "more_body": False}
