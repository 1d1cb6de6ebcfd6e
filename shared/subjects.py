"""NATS subjects carry the hierarchy: ``thidua.<service>.<event_type>.<unit path tokens>``."""

from shared.events import snake_case

ROOT = "thidua"
STREAM = "THIDUA"
DLQ_STREAM = "THIDUA_DLQ"
DLQ_ROOT = "thidua_dlq"


def event_subject(service: str, event_type: str, unit_path: str) -> str:
    return f"{ROOT}.{service}.{snake_case(event_type)}.{unit_path}"


def ancestors(path: str) -> list[str]:
    """``hn.ntl.fecon`` → ``['hn', 'hn.ntl']`` (outermost first, the unit itself excluded)."""
    tokens = path.split(".")
    return [".".join(tokens[:i]) for i in range(1, len(tokens))]


def level_filters(level: str, service: str = "*") -> list[str]:
    """What a level's projection consumes: its own subjects, its subtree, and its ancestors' broadcasts.

    The level ``*`` is the whole platform (a service's own copy of another service's events).
    """
    if level == "*":
        return [f"{ROOT}.{service}.>"]
    filters = [f"{ROOT}.{service}.*.{level}", f"{ROOT}.{service}.*.{level}.>"]
    filters += [f"{ROOT}.{service}.*.{ancestor}" for ancestor in ancestors(level)]
    return filters


def subtree_filters(path: str, service: str = "*") -> list[str]:
    """Every subject of a unit and its descendants (used to back-fill a unit that moved in)."""
    return [f"{ROOT}.{service}.*.{path}", f"{ROOT}.{service}.*.{path}.>"]


def path_of_subject(subject: str) -> str:
    """The unit path tail of an event subject."""
    return subject.split(".", 3)[3]


def in_subtree(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it."""
    return path == root or path.startswith(root + ".")
