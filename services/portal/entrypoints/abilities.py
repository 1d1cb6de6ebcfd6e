"""What a signed-in person may start, so that the portal offers only what the services would accept.

The services decide: each refuses with 403 whatever this module says. These role groups mirror theirs
only so that a member is not led into a form whose every submission would be refused; a test pins each
group to the service's own rule (``tests/portal/test_portal_abilities.py``).
"""

from services.portal.adapters.sessions import Person

# The pledges service: a unit's leaders launch a campaign and cascade its targets; its officials (the
# leaders and the emulation officer) sign the unit's pledge and report its progress.
LEADER_ROLES = ("chair", "standing_committee", "executive_committee")
OFFICIAL_ROLES = (*LEADER_ROLES, "emulation_officer")
# The awards service: proposals are prepared by the unit's emulation officer or its leaders.
PREPARING_ROLES = ("emulation_officer", "executive_committee", "standing_committee", "chair")


def may_launch_campaigns(person: Person | None) -> bool:
    return person is not None and person.has(*LEADER_ROLES)


def acts_for_pledges(person: Person | None) -> bool:
    return person is not None and person.has(*OFFICIAL_ROLES)


def may_propose_awards(person: Person | None) -> bool:
    return person is not None and person.has(*PREPARING_ROLES)
