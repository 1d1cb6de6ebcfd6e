"""The whole platform for the browser tests, as separate processes on free ports: a real nats-server,
the directory, registry, pledges, inspections and awards services (SQLite, in-process relays, the demo
city loaded through their APIs by ``python -m demo``), one level host per service for the city and two
districts, and the portal (demo sign-in).

``python -m tests.portal.platform_harness`` starts it by hand and prints the portal's URL.
"""

import ctypes
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.natsserver import NatsServer, free_port

REPO = Path(__file__).resolve().parents[2]
SERVICES = {
    "directory": "services.directory.entrypoints.main:create_app",
    "registry": "services.registry.entrypoints.main:create_app",
    "pledges": "services.pledges.entrypoints.main:create_app",
    "inspections": "services.inspections.entrypoints.main:create_app",
    "awards": "services.awards.entrypoints.main:create_app",
}
PROJECTORS = {name: f"services.{name}.entrypoints.projector" for name in SERVICES}
LEVELS = ("hn", "hn.ntl", "hn.dd")
# The demo loader finds each service by its port (and loads that service's part of the demo).
PORT_ENVS = {name: f"THIDUA_{name.upper()}_PORT" for name in SERVICES}
# ``python -m demo ready`` knows a first read showing the demo for these level hosts; the others are
# waited for until they answer.
DEMO_READY = ("directory", "registry", "pledges", "awards", "inspections")


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM when the test process dies, even by SIGKILL (a killed pytest run used to
    leave the whole platform running, eating the machine's two cores)."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


@dataclass
class Platform:
    folder: Path
    nats: NatsServer | None = None
    procs: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    levels: dict[str, dict[str, str]] = field(default_factory=dict)  # service → level → its base URL
    portal_url: str = ""

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.folder / f"{name}.log", "ab")
        proc = subprocess.Popen(
            args, cwd=REPO, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_die_with_parent,
        )  # fmt: skip
        self.procs.append((name, proc))

    def _wait(self, url: str, name: str, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for proc_name, proc in self.procs:
                if proc.poll() is not None:
                    log = (self.folder / f"{proc_name}.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"{proc_name} exited with {proc.returncode}:\n{log}")
            try:
                if httpx.get(url, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{name} did not answer at {url} within {seconds}s")

    def start(self, portal_env: dict[str, str] | None = None) -> "Platform":
        self.nats = NatsServer(self.folder / "nats").start()
        common = {
            "THIDUA_NATS_URL": self.nats.url, "THIDUA_LOG_JSON": "false", "THIDUA_LOG_LEVEL": "WARNING",
            "THIDUA_RELAY_IDLE_POLL_SECONDS": "0.05", "PYTHONPATH": str(REPO), "THIDUA_LOCAL": "true",
        }  # fmt: skip
        python = sys.executable
        for name, factory in SERVICES.items():
            port = free_port()
            self.urls[name] = f"http://127.0.0.1:{port}"
            env = {
                **common, "THIDUA_SERVICE": name,
                "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{self.folder / (name + '.db')}",
            }  # fmt: skip
            args = [python, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port)]
            self._start(name, [*args, "--log-level", "warning"], env)
        for name in SERVICES:
            self._wait(self.urls[name] + "/health", name)
        ports = {PORT_ENVS[name]: url.rsplit(":", 1)[1] for name, url in self.urls.items() if name in PORT_ENVS}
        loader = subprocess.run(
            [python, "-m", "demo", "load"], cwd=REPO, env={**os.environ, **common, **ports}, capture_output=True,
            timeout=600,
        )  # fmt: skip
        if loader.returncode != 0:
            raise RuntimeError(f"the demo did not load:\n{loader.stderr.decode()[-3000:]}")
        hosts: dict[str, str] = {}
        for name, module in PROJECTORS.items():
            port = free_port()
            self.levels[name] = {level: f"http://127.0.0.1:{port}/levels/{level}" for level in LEVELS}
            hosts[name] = f"http://127.0.0.1:{port}"
            db = f"sqlite+aiosqlite:///{self.folder}/{{projection}}-{{level}}.db"
            args = [python, "-m", module, "--db", db, "--port", str(port)]
            self._start(f"{name}-levels", [*args, *(a for level in LEVELS for a in ("--level", level))], common)
        shown = [hosts[name] for name in DEMO_READY]
        ready = subprocess.run(
            [python, "-m", "demo", "ready", *shown], cwd=REPO, env={**os.environ, **common}, capture_output=True,
            timeout=600,
        )  # fmt: skip
        if ready.returncode != 0:
            raise RuntimeError(f"the level hosts did not show the demo:\n{ready.stderr.decode()[-3000:]}")
        for name in set(hosts) - set(DEMO_READY):
            self._wait(hosts[name] + "/health", f"{name}-levels")
        port = free_port()
        self.portal_url = f"http://127.0.0.1:{port}"
        env = {
            **common, "THIDUA_DEMO_SIGN_IN": "true", "THIDUA_PORTAL_URL": self.portal_url,
            "THIDUA_DIRECTORY_URL": self.urls["directory"], "THIDUA_REGISTRY_URL": self.urls["registry"],
            "THIDUA_PLEDGES_URL": self.urls["pledges"], "THIDUA_INSPECTIONS_URL": self.urls["inspections"],
            "THIDUA_AWARDS_URL": self.urls["awards"], "THIDUA_LEVEL_HOSTS": json.dumps(self.levels),
            "THIDUA_EXPORT_DIR": str(self.folder / "exports"),
            "THIDUA_EXPORT_INLINE_ROWS": "100",  # the demo city's book (~200 rows) then exports in the background
            **(portal_env or {}),
        }  # fmt: skip
        args = [python, "-m", "uvicorn", "--factory", "services.portal.entrypoints.main:create_app"]
        self._start("portal", [*args, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"], env)
        self._wait(self.portal_url + "/health", "portal")
        return self

    def stop(self) -> None:
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(8)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()
        if self.nats is not None:
            self.nats.stop()


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="thidua-portal-"))
    platform = Platform(folder).start()
    print(f"portal: {platform.portal_url}  (logs in {folder})", flush=True)
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        platform.stop()


if __name__ == "__main__":
    main()
