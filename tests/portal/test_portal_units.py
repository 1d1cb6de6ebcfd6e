"""The portal's pure parts: which level a unit reads, how form fields become a command's body, and how
a service's refusal is said in Vietnamese beside the field it blames."""

import pytest
from starlette.datastructures import FormData

from services.portal.adapters.platform import Platform, Problem, Topology
from services.portal.entrypoints import forms, i18n
from services.portal.entrypoints.problems import explain


@pytest.fixture(autouse=True)
def vietnamese() -> None:
    token = i18n.current_locale.set("vi")
    yield
    i18n.current_locale.reset(token)


def test_a_unit_reads_the_deepest_level_that_holds_it() -> None:
    per_level = Topology({}, {"registry": {"hn": "http://a", "hn.ntl": "http://b"}})
    assert per_level.level_for("registry", "hn.ntl.fecon.thi-cong", []) == "hn.ntl"
    assert per_level.level_for("registry", "hn.dd.handico", []) == "hn"
    assert per_level.level_base("registry", "hn.ntl") == "http://b"
    with pytest.raises(Problem) as missing:
        per_level.level_base("registry", "hn.dd")
    assert missing.value.status == 404 and missing.value.code == "portal.no_level"

    templated = Topology({}, {"registry": "http://h/levels/{level}"}, ("hn", "hn.ntl"))
    assert templated.level_for("registry", "hn.ntl.fecon", []) == "hn.ntl"
    assert templated.level_for("registry", "hn.gl.bv", []) == "hn"  # Gia Lâm has no level of its own here
    assert templated.level_base("registry", "hn.ntl") == "http://h/levels/hn.ntl"
    # Without a list, a templated host serves the city and the upper-level unions (DESIGN §3).
    assert Topology({}, {"registry": "http://h/levels/{level}"}).level_for("registry", "hn.gl.bv", []) == "hn.gl"


@pytest.mark.parametrize(
    ("typed", "sent"),
    [("1.500.000", 1500000), ("1 500 000", 1500000), ("12,5", 12.5), ("7", 7), ("abc", "abc"), ("1.5", 1.5)],
)
def test_a_vietnamese_number_is_a_number_and_anything_else_goes_as_typed(typed: str, sent: object) -> None:
    assert forms.number(typed) == sent


def test_blank_fields_are_left_out_and_rows_become_lists() -> None:
    form = FormData(
        [("title", "  "), ("objective", "Mục tiêu"), ("authors.1.name", "B"), ("authors.0.name", "A"),
         ("authors.0.share", "60"), ("authors.1.share", "40"), ("authors.2.name", ""), ("csrf", "x")]
    )  # fmt: skip
    assert forms.fields(form, "title", "objective") == {"objective": "Mục tiêu"}
    assert forms.rows(form, "authors", numbers=("share",)) == [{"name": "A", "share": 60}, {"name": "B", "share": 40}]
    assert "csrf" not in forms.values(form)


def test_a_422_is_said_beside_each_field_from_its_code_and_params() -> None:
    problem = Problem(422, {
        "status": 422, "code": "invalid_input", "detail": "3 fields are invalid",
        "errors": [
            {"field": "authors", "code": "share_total", "message": "…", "params": {"total": 60, "expected": 100}},
            {"field": "title", "code": "string_too_long", "message": "…", "params": {"max_length": 200}},
            {"field": "steps", "code": "missing", "message": "Field required", "params": {}},
            {"field": "objective", "code": "text_blank", "message": "…", "params": {}},
            {"field": "estimated_benefit_vnd", "code": "less_than_equal", "message": "…", "params": {"le": 10**15}},
        ],
    })  # fmt: skip
    said = explain(problem)
    assert said.fields == {
        "authors": "Tổng tỷ lệ đóng góp của các tác giả phải bằng 100 (hiện là 60).",
        "title": "Hãy nhập tối đa 200 ký tự.",
        "steps": "Trường này là bắt buộc.",
        "objective": "Trường này không được để trống.",
        "estimated_benefit_vnd": "Hãy nhập số không lớn hơn 1.000.000.000.000.000.",
    }
    assert not said.general


def test_a_refusal_without_a_specific_code_keeps_the_services_reason_beside_the_vietnamese() -> None:
    said = explain(Problem(409, {"code": "illegal_transition", "detail": "it is recognised; allowed next: …",
                                 "allowed_next": ["report_application"]}))  # fmt: skip
    assert said.general[0] == "Bước này hiện chưa được phép. (it is recognised; allowed next: …)"
    assert said.general[1] == "Bước được phép tiếp theo: report_application"
    blamed = explain(Problem(403, {"code": "forbidden", "detail": "only officials of hn.ntl", "field": "unit_id"}))
    assert blamed.fields == {
        "unit_id": "Bạn không có quyền thực hiện việc này cho đơn vị này. (only officials of hn.ntl)"
    }
    english = i18n.current_locale.set("en")
    try:
        assert explain(Problem(503, {"code": "portal.unavailable"})).general == [
            "A service did not answer. Try again in a moment."
        ]
    finally:
        i18n.current_locale.reset(english)


def test_a_paper_record_day_refused_is_said_in_vietnamese_beside_its_field() -> None:
    backdated = {"code": "date.backdated", "field": "reported_on", "detail": "only the platform operator …",
                 "params": {"given": "2025-06-20", "today": "2025-07-05"}}  # fmt: skip
    assert explain(Problem(403, backdated)).fields == {
        "reported_on": "Chỉ quản trị nền tảng mới nhập ngày đã qua (2025-06-20) theo hồ sơ giấy; để trống để ghi "
        "nhận hôm nay."
    }
    passed = {"code": "date.deadline_passed", "field": "report_deadlines", "params": {"passed": ["2025-06-30"]}}
    assert explain(Problem(403, passed)).fields["report_deadlines"].startswith("Có hạn đã qua")
    future = {"code": "date.in_future", "field": "closed_on", "params": {"given": "2026-01-11", "today": "2026-01-10"}}
    assert explain(Problem(422, future)).fields == {"closed_on": "Ngày 2026-01-11 ở sau hôm nay (2026-01-10)."}


@pytest.mark.parametrize("read", ["query", "level", "download", "fetch"])
async def test_a_service_or_level_host_that_does_not_answer_is_a_503_for_every_kind_of_read(read: str) -> None:
    import socket

    from shared.settings import Settings

    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
        api = Platform(Topology({"registry": dead}, {"registry": {"hn": dead}}), Settings())
        try:
            call = {
                "query": lambda: api.query("registry", "/initiatives", "t"),
                "level": lambda: api.level("registry", "hn", "/book", "t"),
                "download": lambda: api.download("registry", "hn", "/book.xlsx", "t"),
                "fetch": lambda: api.fetch("registry", "/x/document", "t"),
            }[read]
            with pytest.raises(Problem) as refused:
                await call()
        finally:
            await api.close()
    assert refused.value.status == 503 and refused.value.code == "portal.unavailable"
    assert dead in refused.value.body["detail"]
