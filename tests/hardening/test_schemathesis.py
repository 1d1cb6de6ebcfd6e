"""schemathesis over every service's OpenAPI (issue 8, tests): each operation is called with generated
valid and invalid requests, in-process (ASGI) against real SQLite with a small city seeded, with a
valid token. Checks: no server error, no response that violates the documented schema or content
type, no status the operation does not document. Deterministic (derandomised) and bounded."""

import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from shared.tokens import issue_token
from tests.hardening.services import SERVICES, SeededApp

EXAMPLES = 6  # per operation and generation mode; the whole run stays within about half a minute
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
_folder = tempfile.TemporaryDirectory(prefix="thidua-schemathesis-")
_apps: dict[str, SeededApp] = {}


def seeded(name: str) -> SeededApp:
    if name not in _apps:
        folder = Path(_folder.name) / name
        folder.mkdir(parents=True, exist_ok=True)
        _apps[name] = SeededApp(name, folder)
    return _apps[name]


def _schema(name: str) -> object:
    """The service's OpenAPI, calling the seeded app in-process (its lifespan starts on the first call)."""
    app = seeded(name)
    schema = schemathesis.openapi.from_dict(app.app.openapi())
    schema.app = app
    return schema


def headers(name: str) -> dict[str, str]:
    """The platform operator (``admin``, the local run's operator subject): every route is open to them."""
    return {"Authorization": f"Bearer {issue_token(seeded(name).settings, 'admin')}"}


FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)

directory = _schema("directory")
registry = _schema("registry")
pledges = _schema("pledges")
inspections = _schema("inspections")
awards = _schema("awards")


@directory.parametrize()
@FUZZ
def test_directory_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("directory"), checks=CHECKS)


@registry.parametrize()
@FUZZ
def test_registry_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("registry"), checks=CHECKS)


@pledges.parametrize()
@FUZZ
def test_pledges_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("pledges"), checks=CHECKS)


@inspections.parametrize()
@FUZZ
def test_inspections_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("inspections"), checks=CHECKS)


@awards.parametrize()
@FUZZ
def test_awards_api(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=headers("awards"), checks=CHECKS)


EVERY = {"directory", "registry", "pledges", "inspections", "awards"}
assert set(SERVICES) == EVERY, "add the new service's schemathesis test above"
