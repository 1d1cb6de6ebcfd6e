"""The relay's backlog (events stored but not yet published), exposed on ``GET /metrics`` for operators and
KEDA, on SQLite and PostgreSQL."""

import httpx

from shared.messaging import connect, ensure_streams
from shared.relay import OutboxRelay
from shared.service import service_app
from shared.settings import Settings
from tests.platform.counting import counted


async def metric(client: httpx.AsyncClient, name: str) -> float:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    values = [line.split()[-1] for line in response.text.splitlines() if line.startswith(f"{name}{{")]
    assert len(values) == 1, response.text
    assert f'{name}{{service="testsvc"}}' in response.text
    return float(values[0])


async def test_the_backlog_counts_what_is_stored_and_not_yet_published(settings: Settings, store_url: str) -> None:
    settings = settings.model_copy(update={"database_url": store_url, "relay_enabled": False})
    app = service_app(settings, title="backlog", routers=[], directory_copy=False)
    transport = httpx.ASGITransport(app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://s") as client:
        store = app.state.store
        assert await metric(client, "thidua_relay_backlog") == 0  # an empty store
        for n in range(7):
            await store.append(counted("hn.ntl", n))
        assert await metric(client, "thidua_relay_backlog") == 7
        assert await metric(client, "thidua_relay_publishing") == 0  # this replica runs no relay

        nc, js = await connect(settings.nats_url, "backlog-test")
        try:
            await ensure_streams(js, settings)
            relay = OutboxRelay(store, js, "testsvc", batch=3)
            assert await relay.publish_pending() == 7
            assert await metric(client, "thidua_relay_backlog") == 0
            for n in range(7, 10):
                await store.append(counted("hn.ntl", n))
            assert await metric(client, "thidua_relay_backlog") == 3
        finally:
            await nc.close()
