"""The local run's supervisor: starts child processes, restarts one that dies (with backoff, saying so),
keeps the others running, and stops them all on Ctrl-C.

Each child runs in its own session (Ctrl-C reaches only the supervisor, which then stops the children
in reverse order: SIGTERM, SIGKILL after a grace period) and writes to ``<logs>/<name>.log``.
"""

import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
HEALTHY_AFTER = 60.0  # a child up this long starts its backoff afresh when it dies


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    failures_in_a_row: int = 0
    restart_at: float | None = None  # when a dead child is due to start again
    once: bool = False  # a one-off task: never restarted
    log: Path = field(default_factory=Path)


class Supervisor:
    def __init__(self, cwd: Path, logs: Path, say=print) -> None:  # type: ignore[no-untyped-def]
        self.cwd, self.logs, self.say = cwd, logs, say
        self.children: list[Child] = []
        logs.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str], env: dict[str, str], *, once: bool = False) -> Child:
        child = Child(name, args, env, once=once, log=self.logs / f"{name}.log")
        self.children.append(child)
        self._spawn(child)
        return child

    def _spawn(self, child: Child) -> None:
        with child.log.open("ab") as log:
            child.proc = subprocess.Popen(
                child.args,
                cwd=self.cwd,
                env={**os.environ, **child.env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        child.started_at, child.restart_at = time.monotonic(), None

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def watch(self) -> None:
        """Restart children that died, each after its backoff; call this every fraction of a second."""
        now = time.monotonic()
        for child in self.children:
            if child.proc is None or child.once:
                continue
            code = child.proc.poll()
            if code is not None and child.restart_at is None:
                lived = now - child.started_at
                child.failures_in_a_row = 1 if lived >= HEALTHY_AFTER else child.failures_in_a_row + 1
                delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (child.failures_in_a_row - 1))
                child.restart_at = now + delay
                self.say(
                    f"{child.name} exited with {code} after {lived:.0f} s; restarting it in {delay:.0f} s "
                    f"(the others keep running; log: {child.log})"
                )
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._spawn(child)
                self.say(f"{child.name} restarted (restart #{child.restarts})")

    def alive(self, name: str) -> bool:
        proc = self.child(name).proc
        return proc is not None and proc.poll() is None

    def stop(self, grace: float = 8.0) -> None:
        for child in reversed(self.children):
            child.restart_at = None
            if child.proc is not None and child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.proc.kill()
                child.proc.wait(5)
        self.children = []
