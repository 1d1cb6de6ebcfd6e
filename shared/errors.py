"""Errors every layer understands; the HTTP layer maps each to one status code and a problem document.

Every error carries a stable machine ``code`` and the ``params`` to render its message in another
language (the portal shows Vietnamese from them); ``message`` is the English sentence. The HTTP shape is
RFC 9457 problem details (``shared.http``). New code raises specific codes, e.g.
``Conflict("the round is closed", code="inspection.round_closed", params={"round": rid})``.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

# The default code of each status, for errors raised without a specific one.
DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    500: "internal",
    503: "unavailable",
}


class ThiduaError(Exception):
    """Base class: carries a message a union official can act on, a stable code and its parameters."""

    status_code: ClassVar[int] = 400
    default_code: ClassVar[str | None] = None  # None: the status's default code

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
        self.code = code or self.default_code or DEFAULT_CODES.get(self.status_code, "error")
        self.params: dict[str, Any] = dict(params or {})
        self.allowed_next = list(allowed_next) if allowed_next is not None else None


class NotFound(ThiduaError):
    status_code = 404
    default_code = "not_found"


class Forbidden(ThiduaError):
    status_code = 403
    default_code = "forbidden"


class Unauthenticated(ThiduaError):
    """No valid bearer token (answered with ``WWW-Authenticate: Bearer``)."""

    status_code = 401
    default_code = "unauthenticated"


class Conflict(ThiduaError):
    """A duplicate, a cycle, or anything that contradicts state already recorded."""

    status_code = 409
    default_code = "conflict"


class IllegalTransition(Conflict):
    """The aggregate is not in a state that allows this command; say what is allowed next."""

    default_code = "illegal_transition"


class ConcurrencyError(Conflict):
    """Another command changed the stream first (optimistic concurrency lost the race)."""

    default_code = "concurrency"


class InvalidInput(ThiduaError):
    """Invalid data that passed schema validation but breaks a domain rule about one field."""

    status_code = 422
    default_code = "invalid_input"


class TooLarge(ThiduaError):
    """The request body is over the service's limit."""

    status_code = 413
    default_code = "too_large"


class UnstorableEvent(InvalidInput):
    """An event that would not load back equal from the store (refused before anything is written)."""

    default_code = "event.unstorable"


class Unavailable(ThiduaError):
    """A dependency (the database) cannot be reached for now: nothing was decided, retry later.

    Answered with ``Retry-After``; a command retried with the same ``Idempotency-Key`` is safe whether or
    not the first attempt was stored.
    """

    status_code = 503
    default_code = "unavailable"

    def __init__(self, message: str, *, retry_after: int = 1, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after
