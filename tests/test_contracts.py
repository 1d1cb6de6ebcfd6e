"""The committed contracts/ must be what the code exports now, and every schema in it must be valid."""

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from shared.cloudevents import to_cloudevent
from shared.events import EventEnvelope, EventMetadata
from tools.contracts import DEFAULT_OUT

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    # A fresh process: the event registry holds only what the services register, not what tests add,
    # and THIDUA_* settings of the caller cannot leak into the exported documents.
    env = {key: value for key, value in os.environ.items() if not key.startswith("THIDUA_")}
    return subprocess.run(
        [sys.executable, "-m", "tools.contracts", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _tree(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("contracts")
    result = _run("export", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return _tree(out)


def test_export_is_deterministic(exported: dict[str, str], tmp_path: Path) -> None:
    result = _run("export", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert _tree(tmp_path) == exported


def test_committed_contracts_equal_a_fresh_export(exported: dict[str, str]) -> None:
    committed = _tree(DEFAULT_OUT)
    stale = sorted(path for path, text in exported.items() if committed.get(path) != text)
    assert not stale, f"contracts/ is stale, run `make contracts`: {stale}"
    # Files the export no longer produces (a removed event, a removed service) are stale too;
    # `check` knows which older event versions are kept on purpose.
    result = _run("check")
    assert result.returncode == 0, result.stderr


def test_every_schema_is_valid_json_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schemas = [*sorted((DEFAULT_OUT / "events").glob("*.json")), DEFAULT_OUT / "envelope.json"]
    for path in schemas:
        schema = json.loads(path.read_text(encoding="utf-8"))
        validator = jsonschema.validators.validator_for(schema)
        assert validator is jsonschema.Draft202012Validator, path.name
        validator.check_schema(schema)


def _envelope() -> EventEnvelope:
    return EventEnvelope(
        event_id="e-1",
        event_type="InitiativeRecognised",
        schema_version=2,
        stream_id="initiative-1",
        version=3,
        occurred_at=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        data={"scope": "city"},
        metadata=EventMetadata(actor="user-1", unit_path="hn.ntl.fecon", correlation_id="c-1"),
        position=7,
    )


def test_a_stored_envelope_is_valid_against_the_envelope_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((DEFAULT_OUT / "envelope.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(_envelope().model_dump(mode="json"))


def test_asyncapi_has_a_channel_per_exported_event_schema(exported: dict[str, str]) -> None:
    document = yaml.safe_load(exported["asyncapi.yaml"])
    assert document["asyncapi"] == "3.0.0"
    schemas = {path.removeprefix("events/").split(".v")[0] for path in exported if path.startswith("events/")}
    assert set(document["channels"]) == schemas
    for name, channel in document["channels"].items():
        service = channel["address"].split(".")[1]
        assert channel["address"].startswith(f"thidua.{service}.")
        assert channel["address"].endswith(".{unitPath}")
        assert name in document["components"]["messages"]


def test_an_envelope_maps_to_a_cloudevent() -> None:
    cloudevent = to_cloudevent(_envelope(), "registry", schema_base_url="https://example.org/contracts/")
    assert cloudevent == {
        "specversion": "1.0",
        "id": "e-1",
        "source": "/thidua/registry/hn.ntl.fecon",
        "type": "vn.thidua.registry.initiative_recognised.v2",
        "subject": "initiative-1",
        "time": "2025-01-02T03:04:05Z",
        "datacontenttype": "application/json",
        "dataschema": "https://example.org/contracts/events/InitiativeRecognised.v2.json",
        "correlationid": "c-1",
        "data": {"scope": "city"},
    }
