"""Who acts (``Caller``) and the one authorisation rule every service applies.

A token names a person (``subject``); the directory says, at the moment of the call, which unit they
belong to and which roles they hold there (``shared.directory_copy`` / the directory's own tree). So a
role revoked or a unit moved takes effect at once, and a person's token keeps working after a move.

The rule: the platform admin acts everywhere; anyone else acts on their own unit's subtree, and only
with the roles a command names. A refusal names the field to blame when one is. Plain Python (no I/O):
domains take a ``Caller`` as the actor of a command.
"""

from dataclasses import dataclass

from shared.errors import Forbidden, NotFound
from shared.subjects import in_subtree
from shared.units import UnitRef

# Roles an official can hold in a unit (DESIGN glossary); every enrolled person is also a "member".
ROLES = (
    "chair",
    "executive_committee",
    "standing_committee",
    "inspection_committee",
    "emulation_officer",
    "incubator_mentor",
    "member",
    "admin",  # the platform operator, named in settings (``THIDUA_ADMIN_SUBJECTS``), not in the directory
)
ADMIN, MEMBER = "admin", "member"


@dataclass(frozen=True)
class Caller:
    subject: str
    unit: UnitRef | None  # None only for the platform admin outside the directory, or a system task
    roles: frozenset[str]

    @classmethod
    def system(cls, subject: str) -> "Caller":
        """A task of the platform itself (demo loader, scheduler): admin, in no unit."""
        return cls(subject, None, frozenset({ADMIN}))

    @property
    def unit_path(self) -> str:
        return self.unit.path if self.unit is not None else ""

    @property
    def is_admin(self) -> bool:
        return ADMIN in self.roles

    def has(self, *roles: str) -> bool:
        """Holds one of ``roles`` (the admin holds every role)."""
        return self.is_admin or not self.roles.isdisjoint(roles)

    def is_at(self, unit: UnitRef) -> bool:
        return self.unit is not None and self.unit.unit_id == unit.unit_id

    def sees(self, path: str) -> bool:
        """``path`` is the caller's unit or below it (the admin sees every tree)."""
        return self.is_admin or (self.unit is not None and in_subtree(path, self.unit.path))

    # -- the rule, as refusals ---------------------------------------------------------------------

    def require_subtree(self, path: str, field: str | None = None, *, hide: bool = False) -> None:
        """403 outside the caller's subtree; 404 with ``hide`` (a read must not reveal what exists)."""
        if self.sees(path):
            return
        if hide:
            raise NotFound(f"{path} not found in your unit's subtree", field=field)
        raise Forbidden(f"unit {path} is outside your unit {self.unit_path or '(none)'}", field=field)

    def require_role(self, *roles: str, field: str | None = None) -> None:
        if not self.has(*roles):
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", field=field)

    def require_official_of(self, unit: UnitRef, *roles: str, field: str | None = None) -> None:
        """An official of ``unit`` itself with one of ``roles`` (a level above reads; it does not act
        for its units)."""
        self.require_role(*roles, field=field)
        if not self.is_admin and not self.is_at(unit):
            raise Forbidden(
                f"only officials of {unit.path} act for it; you are an official of {self.unit_path or '(none)'}",
                field=field,
            )
