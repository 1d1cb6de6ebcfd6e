"""Human-written text: one cleaning rule for every field a person types, and the bounded types built on it.

Every text type here (``Name``, ``ShortText``, ``LongText``, ``Note``, or ``text(...)`` for other bounds)
cleans the same way before it checks anything:

1. a lone surrogate (``"S\\ud800ng"``, which no UTF-8 store can hold) is refused: ``text_invalid_unicode``;
2. invisible characters are removed: zero-width spaces and joiners, bidi controls, the byte-order mark,
   soft hyphens, variation selectors, tag characters, Hangul fillers, the braille blank and control
   characters (a multi-line text keeps its line breaks and tabs; ``\\r\\n`` becomes ``\\n``);
3. a single-line text turns every run of whitespace into one space;
4. NFC: the same word typed on two keyboards compares equal;
5. surrounding whitespace is trimmed;
6. what is left must not be blank (``text_blank``; only ``Note`` accepts the empty string as "none"),
   and its length is checked (``string_too_long`` / ``string_too_short``). The raw input is held to the
   same maximum, so the JSON Schema's ``maxLength`` is exactly what is refused.

Unit codes and paths are identifiers, not prose: they are trimmed and must match their pattern, which
the schema shows (surrounding whitespace allowed, since it is trimmed).
"""

import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema


def nfc(value: object) -> object:
    """Normalise to NFC and trim (for values that are not prose, e.g. an e-mail address)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def fold(text: str) -> str:
    """Lower-case and strip diacritics (đ → d) for search that works with or without them."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


# Unicode's format characters (category Cf: zero-width space/joiners, bidi embeddings, overrides and
# isolates, word joiner, invisible operators, BOM, soft hyphen, interlinear annotation, tags), plus
# characters that render as nothing though they are letters or marks: the combining grapheme joiner,
# Hangul fillers, Khmer inherent vowels, Mongolian variation selectors, the braille blank, variation
# selectors. tests/hardening checks that every Cf character of this Python's Unicode database is here.
_INVISIBLE = (
    "\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # every C0/C1 control except \t, \n and \r
_invisible = re.compile(f"[{_INVISIBLE}{_CONTROLS}]")
_line_breaks = re.compile("\r\n|[\r\u2028\u2029]")
_whitespace_run = re.compile(r"\s+")
_surrogate = re.compile("[\ud800-\udfff]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """The cleaning rule (steps 1–5 above); raises ``text_invalid_unicode`` on a lone surrogate."""
    surrogate = _surrogate.search(value)
    if surrogate is not None:
        raise PydanticCustomError(
            "text_invalid_unicode",
            "the text contains a lone surrogate (\\u{code}) at position {position}, which is not a character",
            {"code": f"{ord(surrogate.group()):04x}", "position": surrogate.start()},
        )
    if value.isascii() and value.isprintable():  # the common case: nothing to remove or compose
        return _whitespace_run.sub(" ", value).strip() if not multiline else value.strip()
    if multiline:
        value = _invisible.sub("", _line_breaks.sub("\n", value))
    else:
        value = _whitespace_run.sub(" ", _invisible.sub("", value))
    return unicodedata.normalize("NFC", value).strip()


@dataclass(frozen=True)
class TextRule:
    """The bounds of one text type; used as ``Annotated[str, TextRule(...)]`` (see ``text``)."""

    max_length: int
    min_length: int = 1
    multiline: bool = False
    empty_ok: bool = False  # the empty string means "none" (a note); blank after cleaning is still refused
    description: str = ""

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        if len(value) > self.max_length:
            raise _too_long(self.max_length)
        if value == "" and self.empty_ok:
            return value
        cleaned = clean_text(value, multiline=self.multiline)
        if not cleaned:
            raise PydanticCustomError(
                "text_blank", "the text is blank once invisible characters and surrounding spaces are removed"
            )
        if len(cleaned) > self.max_length:
            raise _too_long(self.max_length)
        if len(cleaned) < self.min_length:
            raise PydanticCustomError(
                "string_too_short",
                "String should have at least {min_length} characters",
                {"min_length": self.min_length},
            )
        return cleaned

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        lines = "multi-line" if self.multiline else "single line (whitespace runs become one space)"
        blank = "may be empty (none); otherwise not blank" if self.empty_ok else "must not be blank"
        rule = f"Text, {lines}; NFC, invisible characters removed, trimmed; {blank}."
        return {
            "type": "string",
            "minLength": 0 if self.empty_ok else self.min_length,
            "maxLength": self.max_length,
            "description": f"{self.description} {rule}".strip(),
        }


def _too_long(limit: int) -> PydanticCustomError:
    return PydanticCustomError(
        "string_too_long", "String should have at most {max_length} characters", {"max_length": limit}
    )


def text(
    max_length: int, *, min_length: int = 1, multiline: bool = False, empty_ok: bool = False, description: str = ""
) -> Any:
    """A text type with other bounds, e.g. ``Title = text(200, min_length=3)``."""
    return Annotated[str, TextRule(max_length, min_length, multiline, empty_ok, description)]


Name = text(200)
ShortText = text(500)
LongText = text(10_000, multiline=True)
Note = text(10_000, multiline=True, empty_ok=True)  # optional prose: "" is "no note"


# -- identifiers -------------------------------------------------------------------------------------

CODE_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
_CODE = r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?"
PATH_PATTERN = rf"^{_CODE}(?:\.{_CODE})*$"


@dataclass(frozen=True)
class PatternRule:
    """A trimmed identifier that must match ``pattern`` whole; the schema allows the trimmed spaces."""

    pattern: str
    max_length: int
    message: str
    description: str

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError("string_type", "Input should be a valid string")
        if len(value) > self.max_length:
            raise _too_long(self.max_length)
        trimmed = value.strip()
        if not re.match(self.pattern, trimmed):
            raise PydanticCustomError("string_pattern_mismatch", self.message, {"pattern": self.pattern})
        return trimmed

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate, serialization=core_schema.plain_serializer_function_ser_schema(lambda v: v)
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^\s*" + self.pattern[1:-1] + r"\s*$",
            "maxLength": self.max_length,
            "description": f"{self.description} Surrounding whitespace is trimmed.",
        }


UnitCode = Annotated[
    str,
    PatternRule(
        CODE_PATTERN,
        40,
        "a unit code is 1–40 of a-z, 0-9 and '-', not starting or ending with '-'",
        "A unit code: lower-case ASCII letters, digits and '-'.",
    ),
]
UnitPath = Annotated[
    str,
    PatternRule(
        PATH_PATTERN,
        400,
        "a unit path is unit codes ([a-z0-9-]) joined by dots, e.g. hn.ntl.fecon",
        "A unit path: unit codes joined by dots from the city down, e.g. hn.ntl.fecon.",
    ),
]
