"""The Member aggregate: an enrolled union member and the roles they hold as an official."""

from contracts.directory import MemberEnrolled, RoleAssigned, RoleRevoked
from services.directory.domain.rules import check_active
from shared.aggregate import Aggregate
from shared.errors import Conflict
from shared.events import Event
from shared.units import UnitRef


class Member(Aggregate):
    def __init__(self, member_id: str) -> None:
        super().__init__(member_id)
        self.enrolled_in = ""
        self.full_name = ""
        self.roles: set[tuple[str, str]] = set()  # (unit_id, role)

    @staticmethod
    def enrol(member_id: str, unit: UnitRef, full_name: str, **details: object) -> list[Event]:
        check_active(unit)
        return [MemberEnrolled(member_id=member_id, unit_id=unit.unit_id, full_name=full_name, **details)]

    def assign_role(self, unit: UnitRef, current_unit_id: str, role: str) -> list[Event]:
        """``current_unit_id`` is the member's unit now (a merge moves members without their stream)."""
        check_active(unit)
        if unit.unit_id != current_unit_id:
            raise Conflict(
                f"{self.full_name} is not a member of {unit.path}; a role is held in one's own unit",
                field="unit_id",
            )
        if (unit.unit_id, role) in self.roles:
            raise Conflict(f"{self.full_name} already holds the role {role} in {unit.path}", field="role")
        return [RoleAssigned(member_id=self.id, unit_id=unit.unit_id, role=role)]

    def revoke_role(self, unit: UnitRef, role: str) -> list[Event]:
        if (unit.unit_id, role) not in self.roles:
            raise Conflict(f"{self.full_name} does not hold the role {role} in {unit.path}", field="role")
        return [RoleRevoked(member_id=self.id, unit_id=unit.unit_id, role=role)]

    def apply(self, event: Event) -> None:
        match event:
            case MemberEnrolled():
                self.enrolled_in, self.full_name = event.unit_id, event.full_name
            case RoleAssigned():
                self.roles.add((event.unit_id, event.role))
            case RoleRevoked():
                self.roles.discard((event.unit_id, event.role))
            case _:
                raise TypeError(f"a member cannot apply {type(event).__name__}")
