"""The local run's supervisor under a crash: nats-server is SIGKILLed while commands arrive. The supervisor
restarts it (with backoff, saying so) and keeps the other processes running; the directory keeps
accepting commands throughout; every one of them reaches the level host's read model exactly once."""

import asyncio
import signal
import sys
import uuid
from pathlib import Path

import httpx

from deploy.local.supervisor import Supervisor
from shared.settings import Settings
from shared.tokens import issue_token
from tests.natsserver import free_port, nats_server_binary
from tests.platform.helpers import REPO, wait_for


async def test_nats_killed_under_load_is_restarted_and_every_command_is_projected_once(tmp_path: Path) -> None:
    said: list[str] = []
    supervisor = Supervisor(REPO, tmp_path / "logs", say=said.append)
    nats_port, api_port, levels_port = free_port(), free_port(), free_port()
    env = {"THIDUA_LOCAL": "true", "THIDUA_NATS_URL": f"nats://127.0.0.1:{nats_port}", "THIDUA_LOG_JSON": "false"}
    token = issue_token(Settings(local=True), "admin")
    headers = {"Authorization": f"Bearer {token}"}
    nats = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(nats_port), "-js", "-sd", str(tmp_path / "js")]
    try:
        supervisor.start("nats-server", nats, {})
        directory = [sys.executable, "-m", "uvicorn", "--factory", "services.directory.entrypoints.main:create_app"]
        service_env = {**env, "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/directory.db"}
        supervisor.start("directory", [*directory, "--port", str(api_port)], service_env)
        db = f"sqlite+aiosqlite:///{tmp_path}/{{projection}}-{{level}}.db"
        host = [sys.executable, "-m", "services.directory.entrypoints.projector", "--level", "hn", "--db", db]
        supervisor.start("directory-levels", [*host, "--port", str(levels_port)], env)

        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", headers=headers, timeout=10) as api,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{levels_port}", headers=headers, timeout=10) as levels,
        ):

            async def answers(client: httpx.AsyncClient) -> bool:
                supervisor.watch()
                try:
                    return (await client.get("/health")).status_code == 200
                except httpx.HTTPError:
                    return False

            await wait_for(lambda: answers(api), 60, "the directory to answer")
            city = await api.post("/units", json={"code": "hn", "name": "Hà Nội", "kind": "city_federation"})
            city_id = city.json()["unit_id"]
            accepted = 0

            async def enrol(n: int) -> None:
                nonlocal accepted
                body = {"full_name": f"Đoàn viên {n}"}
                response = await api.post(
                    f"/units/{city_id}/members", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
                )
                assert response.status_code == 201, response.text
                accepted += 1

            for n in range(30):  # before, during and after the outage
                if n == 10:
                    supervisor.child("nats-server").proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                supervisor.watch()
                await enrol(n)
                await asyncio.sleep(0.1)
            assert accepted == 30  # the directory never stopped accepting commands
            assert supervisor.alive("directory") and supervisor.alive("directory-levels")

            async def projected() -> bool:
                supervisor.watch()
                try:
                    units = (await levels.get("/levels/hn/directory/units")).json()["units"]
                except (httpx.HTTPError, KeyError):
                    return False
                return bool(units) and units[0]["member_count"] >= 30

            await wait_for(projected, 60, "every enrolment in the level's read model")
            (unit,) = (await levels.get("/levels/hn/directory/units")).json()["units"]
            assert unit["member_count"] == 30 and unit["events_seen"] == 31  # once each: no loss, no double
        assert supervisor.child("nats-server").restarts == 1
        assert any("nats-server exited" in line and "restarting it" in line for line in said), said
        assert any("nats-server restarted" in line for line in said), said
    finally:
        supervisor.stop()
