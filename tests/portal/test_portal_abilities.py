"""The portal offers a person only what the services would accept from them: a member is not led into
launching a campaign, proposing an award or signing the unit's pledge (every submission would be refused);
opening such a form by its address says which roles it needs. The role groups are the services' own."""

import re

import pytest

from services.awards.domain import rules as awards_rules
from services.pledges.domain import rules as pledges_rules
from services.portal.entrypoints import abilities
from tests.portal.platform_harness import Platform
from tools.probe_portal import signed_in


def test_the_portals_role_groups_are_the_services_own() -> None:
    assert set(abilities.LEADER_ROLES) == set(pledges_rules.LEADER_ROLES)
    assert set(abilities.OFFICIAL_ROLES) == set(pledges_rules.OFFICIAL_ROLES)
    assert set(abilities.PREPARING_ROLES) == set(awards_rules.PREPARING_ROLES)


@pytest.mark.parametrize(
    ("form", "list_page", "needed"),
    [
        ("/campaigns/new", "/campaigns", ["chủ tịch", "ban thường vụ", "ban chấp hành"]),
        ("/awards/new", "/awards", ["cán bộ thi đua", "chủ tịch", "ban thường vụ", "ban chấp hành"]),
    ],
)
def test_a_member_is_not_offered_a_form_only_officials_may_send(
    platform: Platform, form: str, list_page: str, needed: list[str]
) -> None:
    member = signed_in(platform.portal_url, "fecon-member")
    page = member.get(form)
    assert page.status_code == 403
    assert "Hãy hỏi chủ tịch công đoàn của bạn" in page.text
    for role in needed:
        assert role in page.text, role
    assert f'href="{form}"' not in member.get(list_page).text
    assert f'href="{form}"' not in member.get("/dashboard").text

    chair = signed_in(platform.portal_url, "fecon-chair")
    assert f'href="{form}"' in chair.get(list_page).text
    assert chair.get(form).status_code == 200


def test_a_member_sees_a_campaign_without_the_forms_of_its_officials(platform: Platform) -> None:
    chair = signed_in(platform.portal_url, "fecon-chair")
    link = re.search(r'href="/campaigns/([0-9a-f-]{36})"', chair.get("/campaigns").text)
    assert link, "the demo lists no campaign for Fecon"
    link = link.group(1)
    assert 'action="/campaigns/' in chair.get(f"/campaigns/{link}").text

    member = signed_in(platform.portal_url, "fecon-member")
    page = member.get(f"/campaigns/{link}")
    assert page.status_code == 200 and 'action="/campaigns/' not in page.text
