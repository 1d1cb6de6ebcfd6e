"""What every pledges handler shares: stream names, the clock, authority checks and loading."""

from collections.abc import Callable
from datetime import UTC, datetime

from services.pledges.adapters.units import UnitsCopy
from services.pledges.domain.campaign import Campaign
from services.pledges.domain.rules import UnitRef
from shared.auth import Caller
from shared.errors import Forbidden, NotFound
from shared.eventstore import EventStore

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def campaign_stream(campaign_id: str) -> str:
    return f"campaign-{campaign_id}"


def pledge_stream(campaign_id: str, unit_id: str) -> str:
    return f"pledge-{campaign_id}-{unit_id}"  # one pledge per unit and campaign


def registration_stream(member_id: str, year: int) -> str:
    return f"registration-{year}-{member_id}"  # one registration per member and year


def progress_stream(campaign_id: str, unit_id: str) -> str:
    return f"progress-{campaign_id}-{unit_id}"


def can_see(caller: Caller, path: str) -> bool:
    """The platform admin sees every tree; others see their own unit's subtree."""
    return "admin" in caller.roles or caller.sees(path)


def require_subtree(caller: Caller, path: str, field: str | None = None) -> None:
    if not can_see(caller, path):
        raise Forbidden(f"unit {path} is outside your unit {caller.unit_path}", field=field)


def require_own_unit(caller: Caller, unit: UnitRef, *roles: str) -> None:
    """An official of the unit itself (the upper level reads, it does not sign or report for it)."""
    caller.require_role(*roles)
    if "admin" not in caller.roles and caller.unit_path != unit.path:
        raise Forbidden(f"only officials of {unit.path} act for it; you are an official of {caller.unit_path}")


async def locate(units: UnitsCopy, unit_id: str, field: str = "unit_id") -> UnitRef:
    ref = await units.unit(unit_id)
    if ref is None:
        raise NotFound(f"unit {unit_id} is not known to the pledges service", field=field)
    return ref


async def load_campaign(store: EventStore, campaign_id: str) -> Campaign:
    campaign = Campaign.from_history(campaign_id, await store.load(campaign_stream(campaign_id)))
    if not campaign.exists:
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign


async def visible_campaign(store: EventStore, caller: Caller, campaign_id: str) -> Campaign:
    """A campaign the caller may see: launched in their subtree or above their unit (it reaches them)."""
    campaign = await load_campaign(store, campaign_id)
    if not (can_see(caller, campaign.launcher_path) or campaign.reaches(caller.unit_path)):
        raise NotFound(f"campaign {campaign_id} not found")
    return campaign
