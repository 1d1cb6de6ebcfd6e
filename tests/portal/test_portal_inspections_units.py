"""The inspections pages' pure parts: a service's field path as the forms name it, the evidence a form
sends, the checklist a level's row opens, and the refusals said in Vietnamese."""

from datetime import date

import pytest
from starlette.datastructures import FormData

from services.portal.adapters.platform import Problem
from services.portal.entrypoints import i18n
from services.portal.entrypoints.grading import graded_year
from services.portal.entrypoints.inspections_common import checklist_id, evidence, form_field, said_of


@pytest.fixture(autouse=True)
def vietnamese() -> None:
    token = i18n.current_locale.set("vi")
    yield
    i18n.current_locale.reset(token)


def test_service_fields_are_named_as_the_forms_name_them() -> None:
    assert form_field("answer.evidence") == "evidence.text"
    assert form_field("answers.0.evidence") == "evidence.text"
    assert form_field("evidence") == "evidence.text"
    assert form_field("evidence.links.2") == "evidence.links"
    assert form_field("units.1") == "units.1"  # a unit of the sample is said above the form, not renamed
    assert form_field("reason") == "reason"


def test_the_evidence_a_form_sends_is_a_statement_and_one_link_per_line() -> None:
    form = FormData([("evidence.text", "  Biên bản họp  "), ("evidence.links", "https://a.vn/1\n\n https://a.vn/2 ")])
    assert evidence(form) == {"text": "Biên bản họp", "links": ["https://a.vn/1", "https://a.vn/2"]}
    assert evidence(FormData([])) == {"text": "", "links": []}


def test_a_checklist_is_one_per_unit_year_and_period() -> None:
    assert checklist_id("u-1", 2026, "half_year") == "u-1-2026-half_year"


def test_the_grading_form_offers_the_year_that_can_be_graded_now() -> None:
    assert graded_year(date(2026, 11, 30)) == 2025
    assert graded_year(date(2026, 12, 1)) == 2026


def test_a_refusal_of_an_answer_without_evidence_is_said_beside_the_evidence_box() -> None:
    problem = Problem(422, {
        "code": "checklist.evidence_required", "field": "answer.evidence", "detail": "needs its evidence",
        "params": {"item": "commitment:c:applied", "answer": "done"},
    })  # fmt: skip
    said = said_of(problem)
    assert said.fields == {"evidence.text": "Trả lời đã thực hiện hoặc thực hiện một phần cần có minh chứng: nội dung, "
                                            "đường dẫn hoặc tệp."}  # fmt: skip
    refusal = {"code": "sample.not_proposed", "field": "units.0", "params": {"unit": "hn.ntl.ceo"}}
    sample = said_of(Problem(422, refusal))
    assert sample.fields == {"units.0": "hn.ntl.ceo không nằm trong các đơn vị radar đề xuất."}


def test_a_service_failure_is_not_turned_into_a_form_message() -> None:
    with pytest.raises(Problem):
        said_of(Problem(503, {"code": "portal.unavailable"}))
