"""No stored event may ever fail to load: each event is round-tripped before it is appended.

An event is stored as JSON (orjson, the columns' serializer) and read back through the event registry
(upcasters, then the event class). ``check_storable`` does exactly that before the append and refuses
the event if what would be read back is not what was meant: a ``NaN`` that JSON would store as ``null``,
a lone surrogate no UTF-8 column holds, data the event class no longer accepts, or a value that decodes
to something else. The refusal names the event type and the field, and nothing is written.
"""

from typing import Any

import orjson
from pydantic import ValidationError

from shared.errors import UnstorableEvent
from shared.events import EventEnvelope, EventMetadata, registry


def check_storable(envelope: EventEnvelope) -> None:
    """Raise ``UnstorableEvent`` unless ``envelope`` loads back from the store equal to itself."""
    event_type = envelope.event_type
    data = _stored(envelope.data, event_type, "data")
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
    _check_metadata(envelope.metadata, event_type)


# Metadata proven to load back equal: a command's (or a bulk job's) events share one metadata, proven once.
_storable_metadata: dict[EventMetadata, None] = {}


def _check_metadata(metadata: EventMetadata, event_type: str) -> None:
    try:
        if metadata in _storable_metadata:  # an equal value was proven: the proof holds for this one too
            return
        cacheable = True
    except TypeError:  # an unhashable value slipped in (model_copy skips validation): prove it, keep nothing
        cacheable = False
    stored = _stored(metadata.model_dump(mode="json"), event_type, "metadata")
    if EventMetadata.model_validate(stored) != metadata:
        _refuse(event_type, "metadata", "its metadata does not survive JSON")
    if cacheable:
        if len(_storable_metadata) >= 1024:
            _storable_metadata.clear()
        _storable_metadata[metadata] = None


def _stored(value: dict[str, Any], event_type: str, part: str) -> Any:
    try:
        return orjson.loads(orjson.dumps(value))
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
