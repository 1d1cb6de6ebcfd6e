"""Human-written text (issue 8 defect 8): one cleaning rule for every field a person types — NFC,
invisible characters removed, blank-after-cleaning refused, a lone surrogate a 422 and never a 500."""

import sys
import unicodedata
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from shared.text import LongText, Name, Note, UnitCode, UnitPath, clean_text, text
from tests.hardening.services import running
from tests.hardening.test_numbers import launch_body
from tests.hardening.test_problem_details import assert_problem
from tests.registry.api_helpers import REGISTRATION

ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
BIDI = ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067",
        "\u2068", "\u2069"]  # fmt: skip
OTHER_INVISIBLE = ["\u3164", "\u115f", "\u1160", "\uffa0", "\u2800", "\u034f", "\ufe0f", "\U000e0041", "\x00", "\x7f"]


Title = text(200, min_length=3)


class Form(BaseModel):
    name: Name
    body: LongText = "x"
    note: Note = ""
    path: UnitPath = "hn"
    code: UnitCode = "hn"


def errors_of(**values: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as refused:
        Form.model_validate(values)
    return [(".".join(map(str, e["loc"])), e["type"]) for e in refused.value.errors()]


@pytest.mark.parametrize("invisible", ZERO_WIDTH + BIDI + OTHER_INVISIBLE)
def test_invisible_characters_are_removed_and_alone_they_are_blank(invisible: str) -> None:
    assert Form(name=f"Tr{invisible}ần Văn{invisible} An").name == "Trần Văn An"
    assert errors_of(name=invisible * 3) == [("name", "text_blank")]
    assert errors_of(name=f" {invisible} \t") == [("name", "text_blank")]


def test_every_unicode_format_character_is_treated_as_invisible() -> None:
    """Category Cf (zero-width, bidi, tags, …) of this Python's Unicode database, every one of them."""
    format_chars = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert len(format_chars) > 150
    kept = [f"U+{ord(c):04X}" for c in format_chars if clean_text(f"a{c}b") != "ab"]
    assert kept == []


def test_text_is_nfc_single_lines_collapse_and_multi_lines_keep_their_breaks() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Văn Đức")
    assert decomposed != "Nguyễn Văn Đức" and Form(name=decomposed).name == "Nguyễn Văn Đức"
    assert Form(name="  Công\u00a0đoàn \n\t Fecon  ").name == "Công đoàn Fecon"
    assert Form(name="a", body=" Dòng 1\r\nDòng 2\rDòng\u2028 3\t(x) ").body == "Dòng 1\nDòng 2\nDòng\n 3\t(x)"
    # Removing an invisible character between a letter and its accent still yields the composed letter.
    assert Form(name="e\u200b\u0301").name == "\u00e9"


def test_a_lone_surrogate_is_a_validation_error_not_a_crash() -> None:
    assert errors_of(name="S\ud800ng") == [("name", "text_invalid_unicode")]
    assert errors_of(name="a", body="\udfff") == [("body", "text_invalid_unicode")]


def test_lengths_hold_before_and_after_cleaning_and_blank_notes() -> None:
    assert errors_of(name="x" * 201) == [("name", "string_too_long")]
    assert errors_of(name="x" * 199 + "\u200b\u200b") == [("name", "string_too_long")]  # the raw input counts
    assert len(Form(name="x" * 200).name) == 200
    assert Form(name="a", note="").note == ""  # an absent note
    assert errors_of(name="a", note=" \u200b ") == [("note", "text_blank")]

    class Titled(BaseModel):
        title: Title

    with pytest.raises(ValidationError, match="string_too_short"):
        Titled(title="a\u200bb")
    with pytest.raises(ValidationError, match="string_type"):
        Titled(title=123)  # type: ignore[arg-type]


def test_unit_codes_and_paths_are_trimmed_and_must_match_their_pattern() -> None:
    assert Form(name="a", path=" hn.ntl.fecon ", code=" fecon\n").model_dump() | {"name": "a"} == {
        "name": "a", "body": "x", "note": "", "path": "hn.ntl.fecon", "code": "fecon",
    }  # fmt: skip
    for bad in ["HN", "hn..ntl", "hn.ntl.", "-hn", "hn\u200b", "hn.ntl fecon", ""]:
        assert errors_of(name="a", path=bad) == [("path", "string_pattern_mismatch")], bad


def test_the_schema_shows_the_rules() -> None:
    from services.registry.domain.commands import RegisterInitiative

    schema = RegisterInitiative.model_json_schema()
    props, defs = schema["properties"], schema["$defs"]
    path = props["unit_path"]["anyOf"][0]
    assert path["pattern"].startswith(r"^\s*[a-z0-9]") and "trimmed" in path["description"]
    assert "sum to exactly 100" in props["authors"]["description"]
    assert props["title"] == props["title"] | {"minLength": 3, "maxLength": 200, "type": "string"}
    assert "invisible characters removed" in props["title"]["description"]
    assert (
        defs["AuthorIn"]["properties"]["share"] | {"minimum": 1, "maximum": 100}
        == defs["AuthorIn"]["properties"]["share"]
    )


async def test_a_title_of_zero_width_characters_is_refused_and_names_are_stored_clean(tmp_path: Path) -> None:
    async with running("registry", tmp_path) as service:
        headers = service.headers("hn.ntl.fecon")
        before = await service.event_count()
        blank = await service.client.post("/initiatives", json=REGISTRATION | {"title": "\u200b\u200b\u200b\u200b"},
                                          headers=headers)  # fmt: skip
        problem = assert_problem(blank, 422, "invalid_input")
        assert problem["field"] == "title" and problem["errors"][0]["code"] == "text_blank"
        assert await service.event_count() == before
        authors = [{"name": "Nguy\u200bễn\u202e Văn An", "share": 100}]
        body = REGISTRATION | {"title": "Ứng\u200b dụng\u2066 mã QR", "authors": authors}
        created = await service.client.post("/initiatives", json=body, headers=service.headers("hn.ntl.fecon"))
        assert created.status_code == 201, created.text
        read = await service.client.get(f"/initiatives/{created.json()['initiative_id']}", headers=headers)
        registration = read.json()["registration"]
        assert registration["title"] == "Ứng dụng mã QR" and registration["authors"][0]["name"] == "Nguyễn Văn An"


async def test_a_plan_number_is_stored_nfc(tmp_path: Path) -> None:
    async with running("pledges", tmp_path) as service:
        body = launch_body(service.ids) | {"plan_number": unicodedata.normalize("NFD", "18/KH-LĐLĐ Hà Nội\u200b")}
        created = await service.client.post("/campaigns", json=body, headers=service.headers())
        assert created.status_code == 201, created.text
        read = await service.client.get(f"/campaigns/{created.json()['campaign_id']}", headers=service.headers())
        assert read.json()["plan_number"] == "18/KH-LĐLĐ Hà Nội"
