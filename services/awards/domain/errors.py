"""Refusals with a stable machine code and the values to render them in another language.

``shared.errors.ThiduaError`` takes ``code`` and ``params`` once the hardened error shape lands; until
then the attributes are set on the instance, so callers and tests read them the same way either way.
"""

from typing import Any, TypeVar

from shared.errors import ThiduaError

E = TypeVar("E", bound=ThiduaError)


def refuse(
    cls: type[E], message: str, *, code: str, field: str | None = None, params: dict[str, Any] | None = None
) -> E:
    try:
        return cls(message, field=field, code=code, params=params or {})  # type: ignore[call-arg]
    except TypeError:
        error = cls(message, field=field)
        error.code = code  # type: ignore[attr-defined]
        error.params = params or {}  # type: ignore[attr-defined]
        return error
