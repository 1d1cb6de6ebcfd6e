"""The Unit aggregate: a union unit's identity, name, kind and lifecycle (active → merged).

Command methods check invariants and return new events; ``apply`` is the only place state changes.
Location (parent, path) comes from the tree read model as a ``UnitRef``: a unit's path also changes
when an ancestor moves or merges, and those events live on the ancestor's stream.
"""

from collections.abc import Collection, Sequence

from contracts.directory import (
    UnitAbsorbed,
    UnitMerged,
    UnitMovedIn,
    UnitMovedOut,
    UnitRegistered,
    UnitRenamed,
)
from services.directory.domain.rules import check_active, check_code_free, check_kind_under, child_path
from shared.aggregate import Aggregate
from shared.errors import Conflict, IllegalTransition
from shared.events import Event
from shared.subjects import in_subtree
from shared.units import ACTIVE, MERGED, UnitRef


class Unit(Aggregate):
    def __init__(self, unit_id: str) -> None:
        super().__init__(unit_id)
        self.code = ""
        self.name = ""
        self.kind = ""
        self.status = ACTIVE
        self.merged_into: str | None = None

    # -- commands --------------------------------------------------------------------------------

    @staticmethod
    def register(
        unit_id: str,
        code: str,
        name: str,
        kind: str,
        parent: UnitRef | None,
        sibling_codes: Collection[str],
    ) -> list[Event]:
        if parent is not None:
            check_active(parent, "parent")
        check_kind_under(kind, parent)
        parent_path = parent.path if parent else None
        check_code_free(code, sibling_codes, parent_path)
        return [
            UnitRegistered(
                unit_id=unit_id,
                code=code,
                name=name,
                kind=kind,  # type: ignore[arg-type]
                parent_id=parent.unit_id if parent else None,
                path=child_path(parent_path, code),
            )
        ]

    def rename(self, name: str) -> list[Event]:
        self._require_active()
        if name == self.name:
            raise Conflict(f"the unit is already named {name!r}", field="name")
        return [UnitRenamed(unit_id=self.id, name=name, previous_name=self.name)]

    def move(
        self, here: UnitRef, new_parent: UnitRef, sibling_codes: Collection[str], history: Collection[str] = ()
    ) -> list[Event]:
        """``history``: the paths the unit has had (from the tree), carried for levels that back-fill it."""
        self._require_active()
        check_active(new_parent, "parent")
        if in_subtree(new_parent.path, here.path):
            raise Conflict(
                f"cannot move {here.path} under {new_parent.path}: that is inside its own subtree (a cycle)",
                field="parent_id",
            )
        if new_parent.unit_id == here.parent_id:
            raise Conflict(f"{here.path} is already under {new_parent.path}", field="parent_id")
        check_kind_under(self.kind, new_parent)
        check_code_free(self.code, sibling_codes, new_parent.path)
        assert here.parent_id is not None  # a root has no parent kind to move under (checked above)
        move = {
            "unit_id": self.id,
            "from_path": here.path,
            "to_path": child_path(new_parent.path, self.code),
            "old_parent_id": here.parent_id,
            "new_parent_id": new_parent.unit_id,
            "previous_paths": tuple(sorted({*history, here.path})),
        }
        return [UnitMovedOut(**move), UnitMovedIn(**move)]

    def merge_into(
        self,
        target: "Unit",
        here: UnitRef,
        there: UnitRef,
        children: Sequence[UnitRef],
        target_child_codes: Collection[str],
        history: Collection[str] = (),
    ) -> tuple[list[Event], list[Event]]:
        """Merge this unit into ``target``: returns (events for this stream, events for the target's)."""
        self._require_active()
        if target.id == self.id:
            raise Conflict("a unit cannot merge into itself", field="into_unit_id")
        if target.status != ACTIVE:
            raise IllegalTransition(f"{there.path} was itself merged and cannot absorb", field="into_unit_id")
        if target.kind != self.kind:
            raise Conflict(
                f"only units of the same kind merge: {here.path} is a {self.kind}, {there.path} a {target.kind}",
                field="into_unit_id",
            )
        if in_subtree(there.path, here.path):
            raise Conflict(f"{there.path} is inside {here.path} (a cycle)", field="into_unit_id")
        clashes = sorted({child.code for child in children} & set(target_child_codes))
        if clashes:
            raise Conflict(
                f"{there.path} already has active units with the codes {', '.join(clashes)}; "
                "rename or move those children first",
                field="into_unit_id",
            )
        merged = UnitMerged(unit_id=self.id, into_unit_id=target.id, from_path=here.path, into_path=there.path)
        absorbed = UnitAbsorbed(
            unit_id=target.id,
            absorbed_unit_id=self.id,
            absorbed_path=here.path,
            moved_child_ids=tuple(child.unit_id for child in children),
            absorbed_paths=tuple(sorted({*history, here.path})),
        )
        return [merged], [absorbed]

    def _require_active(self) -> None:
        if self.status != ACTIVE:
            raise IllegalTransition(f"unit {self.code} was merged into unit {self.merged_into} and no longer changes")

    # -- state -----------------------------------------------------------------------------------

    def apply(self, event: Event) -> None:
        match event:
            case UnitRegistered():
                self.code, self.name, self.kind = event.code, event.name, event.kind
            case UnitRenamed():
                self.name = event.name
            case UnitMerged():
                self.status, self.merged_into = MERGED, event.into_unit_id
            case UnitMovedOut() | UnitMovedIn() | UnitAbsorbed():
                pass  # location and children live in the tree read model
            case _:
                raise TypeError(f"a unit cannot apply {type(event).__name__}")
