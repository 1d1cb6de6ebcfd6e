"""Numbers a caller sends: non-finite values never pass the HTTP edge of any service (issue 8 defect 1),
and every number has a documented range, refused outside it (defect 2)."""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared.numbers import MAX_QUANTITY, MAX_VND, Day, Limit, Offset, Percent, Quantity, Share, Vnd, Year
from tests.hardening.services import SERVICES, Running, running
from tests.hardening.test_problem_details import assert_problem
from tests.pledges.pledges_helpers import INDICATORS

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e309", "-1e309", "123456789e999"]


def launch_body(ids: dict[str, str]) -> dict[str, Any]:
    return {
        "unit_id": ids["hn"], "title": "Đổi mới, sáng tạo, hiệu quả", "plan_number": "18/KH-LĐLĐ",
        "starts_on": "2025-01-01", "ends_on": "2025-12-31", "indicators": INDICATORS,
        "targets": {ids["hn.ntl"]: {"registered": 10, "activities": 2}, ids["hn.dd"]: {"registered": 5}},
    }  # fmt: skip


async def launched(service: Running) -> str:
    response = await service.client.post("/campaigns", json=launch_body(service.ids), headers=service.headers())
    assert response.status_code == 201, response.text
    return response.json()["campaign_id"]


def raw(body: dict[str, Any], placeholder: str, token: str) -> bytes:
    """JSON text with ``token`` (e.g. ``Infinity``) where the body has the string ``placeholder``."""
    return json.dumps(body, ensure_ascii=False).replace(f'"{placeholder}"', token).encode()


async def post_raw(service: Running, url: str, content: bytes, unit: str = "hn") -> Any:
    headers = service.headers(unit) | {"content-type": "application/json"}
    return await service.client.post(url, content=content, headers=headers)


@pytest.mark.parametrize("token", NON_FINITE)
async def test_a_non_finite_target_split_is_refused_and_the_campaign_lives_on(tmp_path: Path, token: str) -> None:
    """The reported defect: ``{"registered": Infinity}`` in a split stored null and broke the campaign."""
    async with running("pledges", tmp_path) as service:
        cid, ntl, fecon = await launched(service), service.ids["hn.ntl"], service.ids["hn.ntl.fecon"]
        before = await service.event_count()
        body = {"unit_id": ntl, "targets": {fecon: {"registered": "X", "activities": 1}}}
        response = await post_raw(service, f"/campaigns/{cid}/targets", raw(body, "X", token), "hn.ntl")
        problem = assert_problem(response, 422, "invalid_input")
        assert problem["field"] == f"targets.{fecon}.registered"
        assert problem["errors"][0]["code"] == "finite_number"
        assert await service.event_count() == before
        # Everything else on the campaign still works: the close, reads.
        closed = await service.client.post(
            f"/campaigns/{cid}/close", json={"results": "Đạt"}, headers=service.headers()
        )
        assert closed.status_code == 200, closed.text
        assert (await service.client.get(f"/campaigns/{cid}", headers=service.headers())).status_code == 200


@pytest.mark.parametrize("token", ["NaN", "Infinity", "1e309"])
async def test_non_finite_numbers_in_reports_launches_and_amendments_are_422(tmp_path: Path, token: str) -> None:
    async with running("pledges", tmp_path) as service:
        cid, ntl = await launched(service), service.ids["hn.ntl"]
        report = {"unit_id": ntl, "indicator": "activities", "value": "X", "evidence": ["Biên bản"]}
        launch = launch_body(service.ids) | {"targets": {ntl: {"registered": "X"}}}
        for url, body, field in [
            (f"/campaigns/{cid}/reports", report, "value"),
            ("/campaigns", launch, f"targets.{ntl}.registered"),
        ]:
            response = await post_raw(service, url, raw(body, "X", token))
            assert assert_problem(response, 422, "invalid_input")["field"] == field, url


@pytest.mark.parametrize("name", list(SERVICES))
async def test_every_service_refuses_non_finite_numbers_anywhere_in_a_json_body(name: str, tmp_path: Path) -> None:
    route = {"directory": "/units", "registry": "/initiatives", "pledges": "/campaigns", "inspections": "/rounds",
             "awards": "/proposals"}[name]  # fmt: skip
    async with running(name, tmp_path) as service:
        before = await service.event_count()
        for token in NON_FINITE:
            body = b'{"anything": [1, {"deep": %s}]}' % token.encode()
            problem = assert_problem(await post_raw(service, route, body), 422, "invalid_input")
            assert problem["field"] == "anything.1.deep"
            assert problem["errors"][0] == {
                "field": "anything.1.deep", "code": "finite_number", "message": "Input should be a finite number",
                "params": {"value": token},
            }  # fmt: skip
        assert await service.event_count() == before


@pytest.mark.parametrize("name", list(SERVICES))
async def test_a_lone_surrogate_anywhere_in_a_json_body_is_422_not_500(name: str, tmp_path: Path) -> None:
    route = {"directory": "/units", "registry": "/initiatives", "pledges": "/campaigns", "inspections": "/rounds",
             "awards": "/proposals"}[name]  # fmt: skip
    async with running(name, tmp_path) as service:
        for body, field in [
            (b'{"title": "S\\ud800ng"}', "title"),
            (b'{"authors": [{"name": "\\udfff"}]}', "authors.0.name"),
            (b'{"targets": {"\\ud83d": 1}}', "targets.?"),
        ]:
            problem = assert_problem(await post_raw(service, route, body), 422, "invalid_input")
            assert problem["field"] == field and problem["errors"][0]["code"] == "text_invalid_unicode"


async def test_a_reported_value_beyond_its_range_is_refused_so_sums_stay_finite(tmp_path: Path) -> None:
    """Defect 2: two reports of 1e308 made every level's progress table a 500; now 1e308 is out of range."""
    async with running("pledges", tmp_path) as service:
        cid, ntl = await launched(service), service.ids["hn.ntl"]
        url = f"/campaigns/{cid}/reports"
        body = {"unit_id": ntl, "indicator": "activities", "value": 1e308, "evidence": ["Biên bản"]}
        problem = assert_problem(
            await service.client.post(url, json=body, headers=service.headers("hn.ntl")), 422, "invalid_input"
        )
        assert problem["errors"][0] == {
            "field": "value",
            "code": "less_than_equal",
            "message": "Input should be less than or equal to 1000000000000000",
            "params": {"le": MAX_QUANTITY},
        }
        at_max = body | {"value": MAX_QUANTITY}
        assert (await service.client.post(url, json=at_max, headers=service.headers("hn.ntl"))).status_code == 201


async def test_amounts_are_bounded_whole_numbers(tmp_path: Path) -> None:
    from tests.registry.api_helpers import REGISTRATION

    async with running("registry", tmp_path) as service:
        for value, code in [(MAX_VND + 1, "less_than_equal"), (-1, "greater_than_equal"), ("5", "int_type"),
                            (True, "int_type"), (5.5, "int_type")]:  # fmt: skip
            body = REGISTRATION | {"estimated_benefit_vnd": value}
            response = await service.client.post("/initiatives", json=body, headers=service.headers("hn.ntl.fecon"))
            problem = assert_problem(response, 422, "invalid_input")
            assert (problem["field"], problem["errors"][0]["code"]) == ("estimated_benefit_vnd", code), value


def test_every_number_type_states_its_range_in_the_schema() -> None:
    class Everything(BaseModel):
        vnd: Vnd
        quantity: Quantity
        percent: Percent
        share: Share
        year: Year
        offset: Offset
        limit: Limit
        day: Day

    properties = Everything.model_json_schema()["properties"]
    for name, prop in properties.items():
        assert prop.get("description"), name
        if name != "day":
            assert "minimum" in prop and "maximum" in prop, name
    assert properties["vnd"]["maximum"] == MAX_VND and properties["limit"] == properties["limit"] | {"maximum": 500}
    for value in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValidationError, match="finite_number"):
            Everything.model_validate({"quantity": value, "percent": 1, "vnd": 1, "share": 1, "year": 2025,
                                       "offset": 0, "limit": 1, "day": "2025-01-01"})  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        Everything.model_validate({"quantity": 1, "percent": 1, "vnd": 1, "share": 1, "year": 2025, "offset": 0,
                                   "limit": 1, "day": 20250101})  # fmt: skip
    assert refused.value.errors()[0]["type"] == "date_type"


# The paged lists of each service (inspections has none).
LISTS = {
    "directory": lambda ids: f"/units/{ids['hn.ntl']}/members",
    "registry": lambda ids: "/initiatives",
    "pledges": lambda ids: "/campaigns",
}


@pytest.mark.parametrize("name", list(LISTS))
async def test_list_pages_are_bounded_so_a_huge_offset_is_422_not_500(name: str, tmp_path: Path) -> None:
    """Defect 2: ``offset=99999999999999999999`` was a 500 (too large for an SQLite INTEGER) on every list."""
    async with running(name, tmp_path) as service:
        url = LISTS[name](service.ids)
        for params, field, code in [
            ({"offset": "99999999999999999999"}, "offset", "less_than_equal"),
            ({"offset": "-1"}, "offset", "greater_than_equal"),
            ({"limit": "501"}, "limit", "less_than_equal"),
            ({"limit": "1e309"}, "limit", "int_parsing"),
        ]:
            response = await service.client.get(url, params=params, headers=service.headers())
            problem = assert_problem(response, 422, "invalid_input")
            assert (problem["field"], problem["errors"][0]["code"]) == (field, code), params
        assert (
            await service.client.get(url, params={"offset": 1_000_000}, headers=service.headers())
        ).status_code == 200


async def test_a_year_outside_its_range_is_422(tmp_path: Path) -> None:
    async with running("pledges", tmp_path) as service:
        url = f"/units/{service.ids['hn.ntl.fecon']}/registrations"
        for year in ("99999999999999999999", "1999", "2101"):
            response = await service.client.get(url, params={"year": year}, headers=service.headers())
            assert assert_problem(response, 422, "invalid_input")["field"] == "year"
