"""Errors every layer understands; the HTTP layer maps each to one status code."""

from collections.abc import Mapping, Sequence
from typing import Any


class ThiduaError(Exception):
    """Base class: carries a message a union official can act on, a stable code and its parameters.

    (``code``, ``params`` and ``allowed_next`` follow the briefing's decision 3; the hardening work
    renders them as RFC 9457 problem details.)
    """

    status_code = 400
    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        params: Mapping[str, Any] | None = None,
        allowed_next: Sequence[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code
        self.params: dict[str, Any] = dict(params or {})
        self.allowed_next = list(allowed_next) if allowed_next is not None else None


class NotFound(ThiduaError):
    status_code = 404
    default_code = "not_found"


class Forbidden(ThiduaError):
    status_code = 403
    default_code = "forbidden"


class Conflict(ThiduaError):
    """A duplicate, a cycle, or anything that contradicts state already recorded."""

    status_code = 409
    default_code = "conflict"


class IllegalTransition(Conflict):
    """The aggregate is not in a state that allows this command; the message says what is allowed next."""

    default_code = "illegal_transition"


class ConcurrencyError(Conflict):
    """Another command changed the stream first (optimistic concurrency lost the race)."""

    default_code = "concurrency"


class InvalidInput(ThiduaError):
    """Invalid data that passed schema validation but breaks a domain rule about one field."""

    status_code = 422
    default_code = "invalid_input"
