"""Export the platform's contracts to ``contracts/`` and check the committed copy is current.

    python -m tools.contracts export [--out DIR]   # write every contract file (`make contracts`)
    python -m tools.contracts check  [--out DIR]   # exit 1 listing files that are stale

What is exported, all derived from code so that a changed event cannot drift from its contract:

- ``events/<EventType>.v<N>.json``: JSON Schema of each registered event's data (pydantic);
- ``envelope.json``: the envelope every event is stored and published in;
- ``asyncapi.yaml``: AsyncAPI 3.0, one channel per event type on its hierarchical subject;
- ``openapi/<service>.json``: each service's HTTP API, from its FastAPI app;
- ``cloudevents.md``: how an envelope maps to a CloudEvent for outside agencies.

Event contracts are discovered as the modules of the ``contracts`` package (``contracts.<service>``
holds the events that service publishes), HTTP APIs as the packages under ``services``: a new service
is picked up without editing this module. Schemas of an event's older versions stay in ``events/`` once
written: stored events of those versions still exist (they are upcast on read), so their contract is
history, not staleness.
"""

import argparse
import contextlib
import importlib
import importlib.util
import json
import os
import pkgutil
import re
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared.cloudevents import CLOUDEVENTS_TYPE_PREFIX, cloudevent_type, to_cloudevent
from shared.events import Event, EventEnvelope, EventMetadata, registry, snake_case
from shared.messaging import H_MSG_ID
from shared.subjects import ROOT

SERVICES_PACKAGE = "services"
CONTRACTS_PACKAGE = "contracts"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "contracts"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# Files and folders under the output folder that this module owns; anything else there is left alone.
_MANAGED_FILES = ("envelope.json", "asyncapi.yaml", "cloudevents.md")
_MANAGED_DIRS = {"events": ".json", "openapi": ".json"}
_EVENT_FILE_RE = re.compile(r"^(?P<type>[A-Za-z0-9_]+)\.v(?P<version>\d+)\.json$")


@dataclass(frozen=True)
class EventContract:
    service: str
    cls: type[Event]

    @property
    def event_type(self) -> str:
        return self.cls.event_type

    @property
    def version(self) -> int:
        return self.cls.schema_version

    @property
    def schema_file(self) -> str:
        return f"events/{self.event_type}.v{self.version}.json"

    @property
    def address(self) -> str:
        return f"{ROOT}.{self.service}.{snake_case(self.event_type)}.{{unitPath}}"


# --- discovery -------------------------------------------------------------------------------------


def discover_services() -> list[str]:
    """Names of the packages under ``services/`` (none yet is a valid answer)."""
    try:
        package = importlib.import_module(SERVICES_PACKAGE)
    except ModuleNotFoundError:
        return []
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if m.ispkg)


def _import_optional(name: str) -> Any | None:
    """Import ``name`` if it exists; a module that exists but fails to import still raises."""
    parts = name.split(".")
    for depth in range(1, len(parts) + 1):
        if importlib.util.find_spec(".".join(parts[:depth])) is None:
            return None
    return importlib.import_module(name)


def discover_contract_modules() -> list[str]:
    """Names of the modules of the ``contracts`` package: one per publishing service."""
    package = importlib.import_module(CONTRACTS_PACKAGE)
    return sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.ispkg)


def event_contracts() -> list[EventContract]:
    """Every event of every ``contracts.<service>`` module, sorted by service then event type."""
    owners = {f"{CONTRACTS_PACKAGE}.{name}": name for name in discover_contract_modules()}
    for module in owners:
        importlib.import_module(module)
    contracts = [
        EventContract(owners[cls.__module__], cls) for cls in registry.classes().values() if cls.__module__ in owners
    ]  # classes registered elsewhere (tests' throwaway events) are not contracts
    return sorted(contracts, key=lambda c: (c.service, c.event_type))


@contextlib.contextmanager
def _scratch_environment(folder: Path) -> Iterator[None]:
    """Point settings at a throwaway database so importing a service's wiring touches nothing real."""
    overrides = {
        "THIDUA_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'contracts.db'}",
        "THIDUA_RELAY_ENABLED": "false",
        "THIDUA_LOCAL": "true",  # a scratch app: the published signing secret is fine
    }
    saved = {key: os.environ.get(key) for key in [*overrides, "THIDUA_OTLP_ENDPOINT"]}
    os.environ.update(overrides)
    os.environ.pop("THIDUA_OTLP_ENDPOINT", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def openapi_documents(services: list[str]) -> dict[str, dict[str, Any]]:
    """Each service's OpenAPI document, from ``create_app(Settings(...))`` or a module-level ``app``."""
    from shared.settings import Settings

    documents: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="thidua-contracts-") as scratch:
        for service in services:
            folder = Path(scratch) / service
            folder.mkdir()
            with _scratch_environment(folder):
                module = _import_optional(f"{SERVICES_PACKAGE}.{service}.entrypoints.main")
                if module is None:
                    continue
                if callable(getattr(module, "create_app", None)):
                    settings = Settings(
                        service=service,
                        database_url=f"sqlite+aiosqlite:///{folder / f'{service}.db'}",
                        relay_enabled=False,
                        otlp_endpoint=None,
                    )
                    app = module.create_app(settings)
                else:
                    app = getattr(module, "app", None)
                if app is not None and hasattr(app, "openapi"):
                    documents[service] = app.openapi()
    return documents


# --- rendering -------------------------------------------------------------------------------------


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _schema(model: type[Any], **extra: Any) -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DIALECT, **model.model_json_schema(), **extra}


def event_schema(contract: EventContract) -> dict[str, Any]:
    return _schema(
        contract.cls,
        **{
            "x-event-type": contract.event_type,
            "x-schema-version": contract.version,
            "x-service": contract.service,
        },
    )


def _project_version() -> str:
    try:
        with (REPO_ROOT / "pyproject.toml").open("rb") as file:
            return str(tomllib.load(file)["project"]["version"])
    except (OSError, KeyError):
        return "0.0.0"


def _summary(cls: type[Any]) -> str:
    doc = (cls.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else cls.__name__


def asyncapi_document(contracts: list[EventContract]) -> dict[str, Any]:
    """AsyncAPI 3.0: the subject of every event type, its headers and its envelope + data payload."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for c in contracts:
        name = c.event_type
        channels[name] = {
            "address": c.address,
            "title": f"{c.service}: {name}",
            "description": (
                f"{name} events of the {c.service} service, on the path of the unit its aggregate "
                "belongs to (a broadcast carries the path of the issuing level)."
            ),
            "parameters": {"unitPath": {"$ref": "#/components/parameters/unitPath"}},
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        operations[f"send{name}"] = {
            "action": "send",
            "summary": f"The {c.service} outbox relay publishes {name} after it is stored.",
            "channel": {"$ref": f"#/channels/{name}"},
            "messages": [{"$ref": f"#/channels/{name}/messages/{name}"}],
        }
        messages[name] = {
            "name": name,
            "title": name,
            "summary": _summary(c.cls),
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/EventHeaders"},
            "correlationId": {"$ref": "#/components/correlationIds/correlationId"},
            "payload": {
                "allOf": [
                    {"$ref": "./envelope.json"},
                    {
                        "type": "object",
                        "required": ["event_type", "schema_version", "data"],
                        "properties": {
                            "event_type": {"const": name},
                            "schema_version": {"const": c.version},
                            "data": {"$ref": f"./{c.schema_file}"},
                        },
                    },
                ]
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "thidua events",
            "version": _project_version(),
            "description": (
                "Domain events of the thidua platform on NATS JetStream (stream THIDUA). Subjects carry "
                f"the union hierarchy: {ROOT}.<service>.<event_type>.<unit path>. Generated by "
                "`python -m tools.contracts export`; do not edit by hand."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "city": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "The city's NATS cluster (3 nodes, JetStream R3).",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "parameters": {
                "unitPath": {
                    "description": (
                        "The unit path, one subject token per level (e.g. hn.ntl.fecon); subscribe to a "
                        "subtree with `<path>.>` and to a level's own subjects with `<path>`."
                    ),
                    "examples": ["hn", "hn.ntl", "hn.ntl.fecon"],
                }
            },
            "correlationIds": {
                "correlationId": {
                    "description": "Shared by every event a command caused, across services.",
                    "location": "$message.payload#/metadata/correlation_id",
                }
            },
            "schemas": {"EventHeaders": _headers_schema()},
            "messages": messages,
        },
    }


def _headers_schema() -> dict[str, Any]:
    # The relay sets these (shared/relay.py); everything else about the event is in the payload.
    return {
        "type": "object",
        "required": [H_MSG_ID],
        "properties": {
            H_MSG_ID: {
                "type": "string",
                "description": "The event id: JetStream drops a re-published duplicate within its window.",
            },
            "traceparent": {"type": "string", "description": "W3C trace context of the causing command."},
            "tracestate": {"type": "string", "description": "W3C trace state, when there is one."},
        },
    }


# --- CloudEvents -----------------------------------------------------------------------------------


def _example_envelope() -> EventEnvelope:
    # Fixed values: the note is a generated file and must not change between runs.
    return EventEnvelope(
        event_id="0b9f1c3e-5a52-4c8e-9a40-2f1f3c2d7e11",
        event_type="InitiativeRecognised",
        schema_version=1,
        stream_id="initiative-7f3a2c",
        version=4,
        occurred_at=datetime(2025, 5, 19, 8, 30, tzinfo=UTC),
        data={"initiative_id": "7f3a2c", "scope": "city", "recognised_by": "hn"},
        metadata=EventMetadata(
            actor="user-42",
            unit_path="hn.ntl.fecon",
            correlation_id="c0ffee00-0000-4000-8000-000000000001",
            traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ),
        position=1042,
    )


def cloudevents_note(contracts: list[EventContract]) -> str:
    example = _json(to_cloudevent(_example_envelope(), "registry")).rstrip("\n")
    rows = [
        f"| `{c.event_type}` | {c.service} | `{cloudevent_type(c.service, c.event_type, c.version)}` "
        f"| [{c.schema_file}]({c.schema_file}) |"
        for c in contracts
    ] or ["| (no event types registered yet) | | | |"]
    return "\n".join(
        [
            "# Events as CloudEvents 1.0",
            "",
            "<!-- Generated by `python -m tools.contracts export`; do not edit by hand. -->",
            "",
            "Inside the platform an event travels in its envelope (`envelope.json`) on a NATS subject.",
            "Events that leave the platform for other agencies (emulation and reward boards, HR, the union",
            "press) are sent as CloudEvents 1.0 in structured JSON mode (`application/cloudevents+json`),",
            "or in binary mode with `ce-` headers on HTTP. `shared.cloudevents.to_cloudevent` is the mapping.",
            "",
            "| CloudEvents attribute | from the envelope |",
            "|---|---|",
            "| `specversion` | `1.0` |",
            "| `id` | `event_id` (unique; a receiver drops a repeated id) |",
            "| `source` | `/thidua/<service>/<metadata.unit_path>`, e.g. `/thidua/registry/hn.ntl.fecon` |",
            f"| `type` | `{CLOUDEVENTS_TYPE_PREFIX}.<service>.<snake_case(event_type)>.v<schema_version>` |",
            "| `subject` | `stream_id` (the aggregate the event belongs to) |",
            "| `time` | `occurred_at`, RFC 3339 in UTC |",
            "| `datacontenttype` | `application/json` |",
            "| `dataschema` | optional: where `events/<EventType>.v<N>.json` is published |",
            "| `data` | `data`, valid against `events/<EventType>.v<N>.json` |",
            "| `traceparent`, `tracestate` | `metadata.traceparent` / `metadata.tracestate` "
            "(Distributed Tracing extension) |",
            "| `correlationid`, `causationid` | `metadata.correlation_id` / `metadata.causation_id` (extensions) |",
            "",
            "Not carried: `metadata.actor` (it identifies a member; agencies need the fact, not who typed",
            "it), `version` and `position` (internal ordering; `id` already makes delivery idempotent).",
            "Absent optional values are omitted, never sent as null.",
            "",
            "A new schema version is a new `type` (`….v2`): a receiver subscribes to the versions it",
            "understands, and older versions keep their schema files here.",
            "",
            "## Example",
            "",
            "```json",
            example,
            "```",
            "",
            "## Event types",
            "",
            "| event type | service | CloudEvents `type` | data schema |",
            "|---|---|---|---|",
            *rows,
            "",
        ]
    )


# --- export and check ------------------------------------------------------------------------------


def render() -> dict[str, str]:
    """Every contract file, relative path → content, built from the code as it is now."""
    import yaml  # a dev dependency; the services never import this module

    services = discover_services()
    documents = openapi_documents(services)
    contracts = event_contracts()
    files = {c.schema_file: _json(event_schema(c)) for c in contracts}
    files["envelope.json"] = _json(_schema(EventEnvelope))
    files["asyncapi.yaml"] = yaml.safe_dump(
        asyncapi_document(contracts), sort_keys=False, allow_unicode=True, width=110
    )
    for service, document in documents.items():
        files[f"openapi/{service}.json"] = _json(document)
    files["cloudevents.md"] = cloudevents_note(contracts)
    return files


def _managed_on_disk(out: Path) -> set[str]:
    found = {name for name in _MANAGED_FILES if (out / name).is_file()}
    for folder, suffix in _MANAGED_DIRS.items():
        if (out / folder).is_dir():
            found |= {f"{folder}/{p.name}" for p in (out / folder).iterdir() if p.name.endswith(suffix)}
    return found


def _is_retired_version(relative: str, current: dict[str, int]) -> bool:
    """An older version of an event type still registered: kept, because stored events still use it."""
    folder, _, name = relative.partition("/")
    match = _EVENT_FILE_RE.match(name) if folder == "events" else None
    return bool(match and int(match["version"]) < current.get(match["type"], 0))


def _current_versions(files: dict[str, str]) -> dict[str, int]:
    versions: dict[str, int] = {}
    for relative in files:
        folder, _, name = relative.partition("/")
        match = _EVENT_FILE_RE.match(name) if folder == "events" else None
        if match:
            versions[match["type"]] = int(match["version"])
    return versions


def stale(out: Path, files: dict[str, str]) -> list[str]:
    """Paths under ``out`` that differ from ``files``: changed, missing, or no longer generated."""
    problems = []
    for relative, content in sorted(files.items()):
        path = out / relative
        if not path.is_file():
            problems.append(f"missing: {relative}")
        elif path.read_text(encoding="utf-8") != content:
            problems.append(f"changed: {relative}")
    current = _current_versions(files)
    for relative in sorted(_managed_on_disk(out) - files.keys()):
        if not _is_retired_version(relative, current):
            problems.append(f"not generated any more: {relative}")
    return problems


def export(out: Path, files: dict[str, str]) -> list[str]:
    """Write ``files`` under ``out`` and remove managed files no longer generated; returns what changed."""
    changes = stale(out, files)
    current = _current_versions(files)
    for relative in _managed_on_disk(out) - files.keys():
        if not _is_retired_version(relative, current):
            (out / relative).unlink()
    for relative, content in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8", newline="\n")
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.contracts", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["export", "check"])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="contracts folder (default: %(default)s)")
    args = parser.parse_args(argv)
    files = render()
    if args.command == "export":
        changes = export(args.out, files)
        print(f"contracts: {len(files)} files in {args.out}; {len(changes)} updated")
        for change in changes:
            print(f"  {change}")
        return 0
    problems = stale(args.out, files)
    if problems:
        print(f"contracts in {args.out} are stale; run `python -m tools.contracts export`:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"contracts: {len(files)} files in {args.out} are current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
