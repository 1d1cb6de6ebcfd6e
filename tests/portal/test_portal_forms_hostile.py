"""What a hostile or careless browser can send the portal's forms: numbers no JSON can carry, an edited
Idempotency-Key, digits that are not ASCII. Each reaches the service as text it refuses beside the field
(or as a fresh key), never as a portal 500. Unit tests of the form helpers, then one live submit."""

import asyncio
import re
import uuid

import httpx
import pytest
from starlette.datastructures import FormData

from services.portal.adapters.platform import Platform as PlatformApi
from services.portal.adapters.platform import Problem, Topology
from services.portal.entrypoints import forms
from services.portal.entrypoints.awards import _int
from services.portal.entrypoints.settings import PortalSettings
from services.portal.entrypoints.web import form_key
from tests.portal.platform_harness import Platform
from tools.probe_portal import signed_in


@pytest.mark.parametrize("typed", ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e309", "-1e400"])
def test_a_number_no_json_can_carry_goes_as_typed_for_the_service_to_refuse(typed: str) -> None:
    assert forms.number(typed) == typed
    assert forms.fields(FormData([("value", typed)]), "value", numbers=("value",)) == {"value": typed}


def test_vietnamese_numbers_are_still_numbers() -> None:
    assert forms.number("1.500.000") == 1_500_000 and forms.number("12,5") == 12.5 and forms.number("1e3") == 1000.0
    assert forms.number("99999999999999999999999") == 99999999999999999999999  # the service bounds it (422)


@pytest.mark.parametrize("edited", ["a\u200bb", "khóa", "a b", "\x00", "x" * 256, ""])
def test_an_edited_idempotency_key_is_replaced_by_a_fresh_one(edited: str) -> None:
    key = form_key(FormData([("idempotency_key", edited)]))
    assert key != edited and uuid.UUID(key)
    assert form_key(FormData([])) != form_key(FormData([]))  # no key: a fresh one each time


def test_a_rendered_key_is_kept() -> None:
    rendered = str(uuid.uuid4())
    assert form_key(FormData([("idempotency_key", rendered)])) == rendered
    assert form_key(FormData([("idempotency_key", "demo:report:1")])) == "demo:report:1"


@pytest.mark.parametrize("year", ["²⁰²⁵", "２０２５", "٢٠٢٥", "2025.0", "-2025", "20250"])
def test_a_year_in_digits_that_are_not_ascii_is_no_year(year: str) -> None:
    assert _int(year, 2000, 2100) is None
    assert _int(" 2025 ", 2000, 2100) == 2025


def test_a_report_of_nan_with_an_edited_key_is_refused_beside_the_field(platform: Platform) -> None:
    client = signed_in(platform.portal_url, "fecon-chair")
    listed = client.get("/campaigns").text
    campaign = re.search(r'href="(/campaigns/[0-9a-f-]{36})"', listed)
    assert campaign, listed[:500]
    page = client.get(campaign.group(1)).text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf and f'action="{campaign.group(1)}/report"' in page
    body = {"csrf": csrf.group(1), "idempotency_key": "a\u200bb", "indicator": "activities", "value": "1e309",
            "evidence": "Biên bản"}  # fmt: skip
    answer = client.post(f"{campaign.group(1)}/report", data=body)
    assert answer.status_code == 422, answer.text[:500]
    assert "value" in answer.text and "1e309" in answer.text  # shown again beside its refusal


def test_an_id_no_url_may_carry_is_a_404_not_a_500() -> None:
    """A NUL typed into the address bar reaches the portal decoded; the service URL cannot carry it."""

    def answer(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing is sent: {request.url}")

    topology = Topology({"registry": "http://registry"}, {})
    api = PlatformApi(topology, PortalSettings(), transport=httpx.MockTransport(answer))
    with pytest.raises(Problem) as refused:
        asyncio.run(api.query("registry", "/initiatives/\x00", "token"))
    assert refused.value.status == 404 and refused.value.body["code"] == "portal.not_found"


def test_a_title_is_searched_for_duplicates_by_its_pairs_of_syllables() -> None:
    from services.portal.entrypoints.initiatives import _pairs

    assert _pairs("Chuẩn hoá mô hình Bữa cơm ca") == ["Chuẩn hoá", "hình Bữa", "Bữa cơm", "mô hình"]
    assert _pairs("Sáng kiến") == ["Sáng kiến"] and _pairs("Zalo") == ["Zalo"]
    assert _pairs("QR") == [] and _pairs("") == []
    assert len(_pairs("a b " * 100)) <= 4
