"""The one value type for a union unit as a service sees it now (``UnitRef``), and its statuses.

Every service learns units from the directory (its own tree, or its copy of it): where a unit sits now
(path, parent) changes when it or an ancestor moves or merges, so a ``UnitRef`` is read fresh for each
command and never stored in an aggregate.
"""

from dataclasses import dataclass

ACTIVE, MERGED = "active", "merged"


@dataclass(frozen=True, kw_only=True)
class UnitRef:
    unit_id: str
    path: str  # e.g. hn.ntl.fecon: the unit's code after its ancestors' codes
    kind: str  # contracts.directory.Kind
    name: str = ""
    parent_id: str | None = None
    status: str = ACTIVE
    merged_into: str | None = None
    version: int = 0  # the unit's stream version, where the reader keeps it (the directory's own tree)

    @property
    def code(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def active(self) -> bool:
        return self.status == ACTIVE
