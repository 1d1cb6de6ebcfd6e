"""HTTP load from ``wrk`` (Debian's package): a C load generator that is not what gets measured.

An httpx client in Python tops out near 600 requests/s on this machine while the server it drives sits
mostly idle; wrk drives the same server with a fraction of a core. POST bodies and per-request headers
(a fresh ``Idempotency-Key``) come from a Lua script written for the run.
"""

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import orjson

LUA = r"""
local bodies = {BODIES}
local headers = {HEADERS}
local counter = 0
local thread_id = 0
local statuses = {}

function setup(thread)
  thread:set("thread_id", THREAD_COUNTER)
  THREAD_COUNTER = THREAD_COUNTER + 1
end

function init(args)
  thread_id = tonumber(wrk.thread:get("thread_id")) or 0
end

function request()
  counter = counter + 1
  headers["Idempotency-Key"] = string.format("wrk-%d-%d-%d", RUN, thread_id, counter)
  return wrk.format("POST", PATH, headers, bodies[(counter + thread_id * 7919) % #bodies + 1])
end
"""


@dataclass
class WrkResult:
    requests: int
    rate: float  # requests/s
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int  # connect/read/write/timeout errors

    def __str__(self) -> str:
        return (
            f"{self.rate:,.0f}/s (p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, {self.requests:,} requests, "
            f"{self.non_2xx} not 2xx, {self.errors} socket errors)"
        )


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk not found: apt-get install -y wrk")
    return found


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def post_load(
    url: str,
    path: str,
    bodies: list[dict],
    headers: dict[str, str],
    work: Path,
    *,
    connections: int = 64,
    threads: int = 2,
    seconds: float = 10.0,
    run: int = 0,
) -> WrkResult:
    """POST ``bodies`` (round robin) to ``url + path`` from ``connections`` keep-alive connections."""
    script = work / f"post-{run}.lua"
    lua_bodies = "{" + ",".join(_lua_string(orjson.dumps(b).decode()) for b in bodies) + "}"
    lua_headers = "{" + ",".join(f"[ {_lua_string(k)} ]={_lua_string(v)}" for k, v in headers.items()) + "}"
    text = (
        LUA.replace("{BODIES}", lua_bodies)
        .replace("{HEADERS}", lua_headers)
        .replace("PATH", _lua_string(path))
        .replace("RUN", str(run))
    )
    script.write_text("THREAD_COUNTER = 0\n" + text)
    done = subprocess.run(
        [
            wrk_binary(),
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:.0f}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
            url,
        ],  # a slow answer is measured, not abandoned (and redone) after wrk's 2 s
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ},
    )
    if done.stderr.strip():  # a script error: wrk would go on with plain GETs
        raise RuntimeError(f"wrk: {done.stderr.strip()[:500]}")
    return parse(done.stdout)


def parse(out: str) -> WrkResult:
    def ms(label: str) -> float:
        found = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not found:
            return float("nan")
        value, unit = float(found.group(1)), found.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=requests,
        rate=rate,
        p50_ms=ms("50"),
        p99_ms=ms("99"),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )
