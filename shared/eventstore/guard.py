"""No stored event may ever fail to load: each event is round-tripped before it is appended.

An event is stored as JSON (orjson) and read back through the event registry (upcasters, then the event
class). ``check_storable`` does exactly that before the append and refuses the event if what would be read
back is not what was meant: a ``NaN`` that JSON would store as ``null``, a lone surrogate no UTF-8 column
holds, data the event class no longer accepts, or a value that decodes to something else. The refusal
names the event type and the field, and nothing is written.

The check encodes each part once and hands back that JSON (``Stored``): the store writes exactly the text
that was proven to load back, and pays for no second encoding.
"""

from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError

from shared.errors import UnstorableEvent
from shared.events import EventEnvelope, EventMetadata, registry


class Stored(NamedTuple):
    """An event's data and metadata as the JSON text the store writes (and was proven to load back).
    A tuple: made for every event appended, where a frozen dataclass's ``__init__`` cost a microsecond."""

    data: str
    metadata: str


def check_storable(envelope: EventEnvelope, metadata: str | None = None) -> Stored:
    """The stored JSON of ``envelope``; raises ``UnstorableEvent`` unless it loads back equal to itself.

    ``metadata``: the JSON of ``envelope.metadata`` already checked (events of one command share theirs).
    """
    event_type = envelope.event_type
    encoded, data = _stored(envelope.data, event_type, "data")
    if data != envelope.data:
        _refuse(event_type, _first_difference(envelope.data, data), "it does not survive JSON (e.g. NaN or Infinity)")
    try:
        decoded = registry.decode(event_type, envelope.schema_version, data)
    except ValidationError as error:
        first = error.errors()[0]
        _refuse(event_type, ".".join(map(str, first["loc"])), f"it does not decode: {first['msg']}")
    except KeyError as error:
        _refuse(event_type, "", str(error.args[0]))
    again = decoded.model_dump(mode="json")
    if again != data:
        _refuse(event_type, _first_difference(data, again), "it decodes to a different value")
    return Stored(encoded, metadata if metadata is not None else storable_metadata(envelope))


def storable_metadata(envelope: EventEnvelope) -> str:
    """The stored JSON of ``envelope.metadata``, refused unless it loads back as the same metadata."""
    if _plain(envelope.metadata):  # loads back as itself once it can be written (no lone surrogate)
        return _encoded(envelope.metadata.__dict__, envelope.event_type, "metadata").decode()
    meant = envelope.metadata.model_dump(mode="json")
    encoded, metadata = _stored(meant, envelope.event_type, "metadata")
    if metadata != meant or not _loads_back_as(metadata, envelope.metadata):
        _refuse(envelope.event_type, "metadata", "its metadata does not survive JSON")
    return encoded


def _field_types() -> tuple[tuple[str, tuple[type, ...]], ...] | None:
    """Each metadata field and the types it may hold for ``_plain``; None if a field is anything but
    unconstrained text, or the model validates beyond its fields' types (a validator, a text setting)."""
    decorators = EventMetadata.__pydantic_decorators__
    if (
        decorators.field_validators
        or decorators.model_validators
        or any(key.startswith("str_") or key == "strict" for key in EventMetadata.model_config)
    ):
        return None
    allowed: list[tuple[str, tuple[type, ...]]] = []
    for name, info in EventMetadata.model_fields.items():
        if info.annotation is str and not info.metadata:
            allowed.append((name, (str,)))
        elif info.annotation == str | None and not info.metadata:
            allowed.append((name, (str, type(None))))
        else:
            return None
    return tuple(allowed)


_PLAIN_FIELDS = _field_types()
_MISSING = object()


def _plain(metadata: EventMetadata) -> bool:
    """Whether ``metadata`` holds exactly its fields, each a plain ``str`` (or None where the field allows it).

    Such metadata validates back to itself from its JSON: every field is unconstrained text, so JSON gives
    each string back as it was and validation keeps it. Then the check needs only the encoding (which
    refuses a lone surrogate), not a dump, a decode and a validation per command (a tenth of an append).
    Anything else (a subclass, a field built without validation) takes the full round trip.
    """
    if _PLAIN_FIELDS is None or type(metadata) is not EventMetadata:
        return False
    values = metadata.__dict__
    if len(values) != len(_PLAIN_FIELDS):
        return False
    for name, types in _PLAIN_FIELDS:  # every field present (and no other: the count), each of its types
        if type(values.get(name, _MISSING)) not in types:
            return False
    return True


def _loads_back_as(stored: Any, meant: EventMetadata) -> bool:
    """Whether ``stored`` validates as ``meant``: metadata made without validation may not validate at all
    (a refusal, not a ValidationError). Compared field by field (``__dict__``): pydantic's ``==`` costs more
    than the validation it checks."""
    try:
        return EventMetadata.model_validate(stored).__dict__ == meant.__dict__
    except ValidationError:
        return False


def encoded(envelope: EventEnvelope) -> Stored:
    """The stored JSON of ``envelope`` without the check (``EventStore(verify_events=False)``)."""
    return Stored(
        orjson.dumps(envelope.data).decode(), orjson.dumps(envelope.metadata.model_dump(mode="json")).decode()
    )


def _stored(value: dict[str, Any], event_type: str, part: str) -> tuple[str, Any]:
    """``value`` as stored JSON text, and as it is read back."""
    text = _encoded(value, event_type, part)
    return text.decode(), orjson.loads(text)


def _encoded(value: dict[str, Any], event_type: str, part: str) -> bytes:
    try:
        return orjson.dumps(value)
    except (orjson.JSONEncodeError, TypeError) as error:
        _refuse(event_type, part, f"it cannot be written as JSON ({error})")


def _refuse(event_type: str, field: str, reason: str) -> Any:
    where = f" at {field}" if field else ""
    raise UnstorableEvent(
        f"the event {event_type} would not load back from the store{where}: {reason}; nothing was stored",
        field=field or None,
        params={"event_type": event_type, "field": field, "reason": reason},
    )


def _first_difference(expected: Any, actual: Any, path: str = "") -> str:
    """The dotted path of the first value that differs (``targets.<id>.registered``)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in expected.keys() | actual.keys():
            if key not in expected or key not in actual or not _same(expected[key], actual[key]):
                return _first_difference(expected.get(key), actual.get(key), f"{path}.{key}" if path else str(key))
    if isinstance(expected, list | tuple) and isinstance(actual, list | tuple) and len(expected) == len(actual):
        for index, (a, b) in enumerate(zip(expected, actual, strict=True)):
            if not _same(a, b):
                return _first_difference(a, b, f"{path}.{index}" if path else str(index))
    return path


def _same(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b) if not isinstance(a, dict | list | tuple) else a == b
