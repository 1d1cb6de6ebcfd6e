"""Properties (hypothesis): every event any service publishes loads back from the store equal to itself,
and any command a service accepts yields events that load back equal (issue 8, tests)."""

import importlib
import pkgutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import contracts
import services
from shared.errors import UnstorableEvent
from shared.events import Event, EventMetadata, new_envelope, registry
from shared.eventstore.guard import check_storable
from shared.numbers import MAX_QUANTITY, MAX_VND
from tests.hardening.services import running

PROPERTY = settings(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def every_event_class() -> dict[str, type[Event]]:
    """Import every contract and every service's events, then take the registry's classes."""
    for module in pkgutil.iter_modules(contracts.__path__):
        importlib.import_module(f"contracts.{module.name}")
    for service in pkgutil.iter_modules(services.__path__):
        try:
            importlib.import_module(f"services.{service.name}.domain.events")
        except ModuleNotFoundError:
            continue
    return registry.classes()


EVENT_CLASSES = every_event_class()
META = EventMetadata(actor="tester", unit_path="hn.ntl.fecon")


def test_every_service_publishes_events() -> None:
    assert len(EVENT_CLASSES) > 40


def _rule_sets() -> st.SearchStrategy[Any]:
    """A published rule set is too deep and too bounded for hypothesis to build from its types (every try
    is refused by the class): start from the catalogue's real rule sets and vary their texts unchecked —
    a lone surrogate or an invisible character there must still be refused by the store's guard."""
    from services.awards.domain.catalogue import RULE_SETS

    def titled(rule_set: Any, title: str) -> Any:
        return rule_set.model_copy(update={"title": title})  # no validation: what a bug would hand the store

    return st.builds(titled, st.sampled_from(RULE_SETS), st.text(max_size=40))


# Field strategies for classes hypothesis cannot build from the types alone.
FIELDS: dict[str, dict[str, Any]] = {"RuleSetPublished": {"rule_set": _rule_sets()}}


@st.composite
def instances(draw: st.DrawFn, cls: type[Event]) -> Event:
    """An instance built from the field types; values the class itself refuses are not instances."""
    try:
        return draw(st.builds(cls, **FIELDS.get(cls.__name__, {})))
    except (ValidationError, ValueError, ArithmeticError, TypeError):
        reject()


@pytest.mark.parametrize("name", sorted(EVENT_CLASSES))
def test_any_event_either_loads_back_equal_or_is_refused_before_it_is_stored(name: str) -> None:
    """Any instance of the class (hypothesis builds it from the field types, NaN and lone surrogates
    included): the store's guard either proves it loads back equal or refuses it — never a third way."""
    cls = EVENT_CLASSES[name]
    outcomes = {"stored": 0, "refused": 0}

    @settings(PROPERTY, max_examples=6)
    @given(instances(cls))
    def round_trip(event: Event) -> None:
        envelope = new_envelope("s-1", 1, event, META)
        try:
            check_storable(envelope)
        except UnstorableEvent:
            outcomes["refused"] += 1  # refused before anything is written
            return
        outcomes["stored"] += 1
        loaded = envelope.to_event()
        assert loaded.model_dump(mode="json") == envelope.data
        assert loaded == cls.model_validate(envelope.data)

    round_trip()
    assert outcomes["stored"] > 0, f"no instance of {name} was ever storable: {outcomes}"


# -- accepted commands ------------------------------------------------------------------------------

# Text a person might paste: any Unicode except lone surrogates (the JSON edge refuses those).
prose = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=60)
# Text that passes the rules, with the accents, spaces and invisible characters people paste.
words = st.lists(
    st.sampled_from(
        ["Sáng", "kiến", "đoàn", "viên", "Công", "ty", "số", "hoá", "mã", "QR", "\u200b", "\u202e", "e\u0301"]
    ),
    min_size=3,
    max_size=12,
).map(" ".join)
text_or_prose = st.one_of(words, words, prose)
finite = st.floats(min_value=0, max_value=MAX_QUANTITY, allow_nan=False, allow_infinity=False)
anything_numeric = st.one_of(finite, st.integers(-(10**20), 10**20), st.floats())


async def stored_since(service: Any, position: int) -> list[Any]:
    return await service.app.state.store.read_after(position, limit=1000)


async def assert_loads_back_equal(service: Any, position: int) -> None:
    for envelope in await stored_since(service, position):
        event = envelope.to_event()  # decodes through the registry and its upcasters
        assert event.model_dump(mode="json") == envelope.data, envelope.event_type


@pytest.mark.parametrize("name", ["registry"])
async def test_any_accepted_registration_loads_back_equal(name: str, tmp_path: Path) -> None:
    from tests.registry.api_helpers import REGISTRATION

    async with running(name, tmp_path) as service:

        @settings(PROPERTY, max_examples=40)
        @given(
            title=text_or_prose,
            field=text_or_prose,
            author=text_or_prose,
            benefit=st.one_of(st.integers(0, MAX_VND), st.integers(0, MAX_VND), anything_numeric),
        )
        def examples(title: str, field: str, author: str, benefit: Any) -> None:
            bodies.append(REGISTRATION | {"title": title, "field": field, "estimated_benefit_vnd": benefit,
                                          "authors": [{"name": author, "share": 100}]})  # fmt: skip

        bodies: list[dict[str, Any]] = []
        examples()
        accepted = 0
        for body in bodies:
            position = await service.app.state.store.last_position()
            response = await service.client.post("/initiatives", json=body, headers=service.headers("hn.ntl.fecon"))
            assert response.status_code in (201, 409, 422), response.text
            assert response.json().get("code") != "event.unstorable", response.text
            if response.status_code == 201:
                accepted += 1
                await assert_loads_back_equal(service, position)
            else:
                assert await stored_since(service, position) == []
        assert accepted > 3


async def test_any_accepted_campaign_split_and_report_loads_back_equal(tmp_path: Path) -> None:
    from tests.hardening.test_numbers import launch_body

    async with running("pledges", tmp_path) as service:
        ids = service.ids

        @settings(PROPERTY, max_examples=40)
        @given(title=text_or_prose, target=anything_numeric, value=anything_numeric, evidence=text_or_prose)
        def examples(title: str, target: Any, value: Any, evidence: str) -> None:
            cases.append((title, target, value, evidence))

        cases: list[tuple[str, Any, Any, str]] = []
        examples()
        accepted = 0
        for title, target, value, evidence in cases:
            position = await service.app.state.store.last_position()
            targets = {ids["hn.ntl"]: {"registered": target, "activities": target}}
            dates = {"starts_on": "2026-01-01", "ends_on": "2026-12-31"}
            body = launch_body(ids) | dates | {"title": title, "targets": targets}
            launched = await service.client.post("/campaigns", json=body, headers=service.headers())
            assert launched.status_code in (201, 409, 422), launched.text
            assert launched.json().get("code") != "event.unstorable", launched.text
            if launched.status_code != 201:
                assert await stored_since(service, position) == []
                continue
            accepted += 1
            cid = launched.json()["campaign_id"]
            report = {"unit_id": ids["hn.ntl"], "indicator": "activities", "value": value, "evidence": [evidence]}
            reported = await service.client.post(f"/campaigns/{cid}/reports", json=report,
                                                 headers=service.headers("hn.ntl"))  # fmt: skip
            assert reported.status_code in (201, 409, 422), reported.text
            assert reported.json().get("code") != "event.unstorable", reported.text
            await assert_loads_back_equal(service, position)
        assert accepted > 3


async def test_any_accepted_member_loads_back_equal(tmp_path: Path) -> None:
    async with running("directory", tmp_path) as service:
        unit = service.ids["hn.ntl.fecon"]

        @settings(PROPERTY, max_examples=40)
        @given(
            name=text_or_prose,
            job=st.one_of(st.none(), text_or_prose),
            year=st.one_of(st.integers(1930, 2020), st.integers(1900, 2100), anything_numeric),
        )
        def examples(name: str, job: str | None, year: Any) -> None:
            cases.append({"full_name": name, "job_title": job, "birth_year": year})

        cases: list[dict[str, Any]] = []
        examples()
        accepted = 0
        for body in cases:
            position = await service.app.state.store.last_position()
            response = await service.client.post(f"/units/{unit}/members", json=body, headers=service.headers())
            assert response.status_code in (201, 409, 422), response.text
            assert response.json().get("code") != "event.unstorable", response.text
            if response.status_code == 201:
                accepted += 1
            await assert_loads_back_equal(service, position)
        assert accepted > 3


def test_the_clock_is_aware() -> None:
    """Envelopes carry an aware timestamp: a naive one would not compare equal after a round trip."""
    assert new_envelope("s", 1, next(iter(EVENT_CLASSES.values())).model_construct(), META).occurred_at.tzinfo == UTC
    assert datetime.now(UTC).tzinfo is UTC
