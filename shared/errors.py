"""Errors every layer understands; the HTTP layer maps each to one status code."""


class ThiduaError(Exception):
    """Base class: carries a message a union official can act on."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(ThiduaError):
    status_code = 404


class Forbidden(ThiduaError):
    status_code = 403


class Conflict(ThiduaError):
    """A duplicate, a cycle, or anything that contradicts state already recorded."""

    status_code = 409


class IllegalTransition(Conflict):
    """The aggregate is not in a state that allows this command; the message says what is allowed next."""


class ConcurrencyError(Conflict):
    """Another command changed the stream first (optimistic concurrency lost the race)."""


class InvalidInput(ThiduaError):
    """Invalid data that passed schema validation but breaks a domain rule about one field."""

    status_code = 422
