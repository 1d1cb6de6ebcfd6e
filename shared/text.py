"""Vietnamese text handling: NFC normalisation and bounded text fields for commands."""

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StringConstraints


def nfc(value: object) -> object:
    """Normalise to NFC and trim: the same word typed on two keyboards must compare equal."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    return value


def fold(text: str) -> str:
    """Lower-case and strip diacritics (đ → d) for search that works with or without them."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


CODE_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$"
_code_re = re.compile(CODE_PATTERN)


def _check_path(value: str) -> str:
    tokens = value.split(".")
    if not all(_code_re.match(token) for token in tokens):
        raise ValueError("a unit path is unit codes ([a-z0-9-]) joined by dots, e.g. hn.ntl.fecon")
    return value


Name = Annotated[str, BeforeValidator(nfc), StringConstraints(min_length=1, max_length=200)]
ShortText = Annotated[str, BeforeValidator(nfc), StringConstraints(max_length=500)]
LongText = Annotated[str, BeforeValidator(nfc), StringConstraints(max_length=10_000)]
UnitCode = Annotated[str, BeforeValidator(nfc), StringConstraints(pattern=CODE_PATTERN)]
UnitPath = Annotated[str, BeforeValidator(nfc), StringConstraints(max_length=400), AfterValidator(_check_path)]
