"""Commands as accepted over HTTP (the target's id travels in the URL). Text is cleaned and bounded
(``shared.text``); numbers are bounded and strict."""

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, StringConstraints

from contracts.directory import Gender
from services.directory.domain.rules import Kind, OfficialRole
from shared.text import Name, ShortText, UnitCode, nfc

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
Id = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=UUID_PATTERN)]
Email = Annotated[str, BeforeValidator(nfc), StringConstraints(max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterUnit(_Command):
    code: UnitCode
    name: Name
    kind: Kind
    parent_id: Id | None = None


class RenameUnit(_Command):
    name: Name


class MoveUnit(_Command):
    parent_id: Id


class MergeUnit(_Command):
    into_unit_id: Id


class EnrolMember(_Command):
    full_name: Name
    gender: Gender | None = None
    birth_year: Annotated[int, Strict(), Field(ge=1930, le=2020)] | None = None
    job_title: ShortText | None = None
    email: Email | None = None


class AssignRole(_Command):
    role: OfficialRole
    unit_id: Id | None = None  # defaults to the member's unit; any other unit is refused
