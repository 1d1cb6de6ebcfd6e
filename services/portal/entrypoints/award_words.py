"""The awards service's codes said in the person's language: labels of statuses, states, outcomes and kinds,
its refusal codes (added to the portal's shared table) and its fixed eligibility reasons.
"""

from services.portal.entrypoints import problems
from services.portal.entrypoints.i18n import N_, gettext

# The service's codes, said in the person's language (labels of statuses, states, outcomes, kinds).
LABELS = {
    "filed": N_("filed"),
    "public": N_("made public"),
    "passed": N_("passed by the council"),
    "escalated": N_("sent upward"),
    "accepted": N_("taken on by the upper level"),
    "returned": N_("returned"),
    "conferred": N_("conferred"),
    "rejected": N_("not awarded"),
    "revoked": N_("revoked"),
    "withdrawn": N_("withdrawn"),
    "proposed": N_("proposed"),
    "eligible": N_("eligible"),
    "not_eligible": N_("not eligible"),
    "decided_here": N_("decided at this level"),
    "decided_above": N_("decided above"),
    "met": N_("met"),
    "not_met": N_("not met"),
    "unknown": N_("not known yet"),
    "individual": N_("individual"),
    "collective": N_("collective"),
    "year": N_("the year's work"),
    "initiative": N_("an initiative"),
    "campaign": N_("a campaign"),
    "appraisal": N_("appraisal of the year"),
    "effect_certificate": N_("certificate of the initiative's effect"),
    "recognition_decision": N_("recognition decision"),
    "attestation": N_("attestation"),
    "other": N_("other document"),
    "grassroots": N_("grassroots level"),
    "upper_level": N_("upper level"),
    "city": N_("city level"),
    "national": N_("national level"),
}

# The service's refusal codes, in Vietnamese first; the portal adds them to the shared table.
MESSAGES = {
    "award.publicity_not_over": N_("The list is public until {closes_on}; the council meets after that."),
    "award.publicity_required": N_("Make the list public for {working_days} working days before the vote."),
    "award.publicity_backdated": N_("A list is made public from today ({today}) on, never earlier."),
    "award.justification_required": N_("Not eligible: explain why the proposal should still go ahead."),
    "award.not_eligible": N_("Not eligible and not justified: justify it or reject it."),
    "award.no_quorum": N_("No quorum: too few council members are present."),
    "award.objections_open": N_("Answer the objections before the vote."),
    "award.dossier_incomplete": N_("The dossier is incomplete: {missing}."),
    "award.quota_exceeded": N_("This exceeds the unit's quota for the award this year."),
    "award.already_voted": N_("The council of this level has already voted."),
    "award.meeting_in_future": N_("The meeting cannot be in the future."),
    "award.not_your_level": N_("Only officials of {level} may do this."),
    "award.role_required": N_("You need one of these roles at {level}: {roles}."),
    "award.evidence_not_found": N_("The evidence file was not uploaded for this unit."),
    "award.campaign_required": N_("A thematic award needs its campaign."),
    "award.below_level": N_("This award is decided at a higher level; propose it there."),
    "award.wrong_nominee_kind": N_("This award is for another kind of nominee."),
    "award.achievement_already_proposed": N_("This achievement is already proposed for an award at this level."),
    "award.decided_here": N_("This award is decided at this level: decide or reject it."),
    "award.not_decidable_here": N_("This award is not decided at this level now."),
    "award.votes_over_present": N_("More votes than members present."),
    "award.present_over_total": N_("More members present than the council has."),
    "award.illegal_transition": N_("This step is not allowed now."),
    "award.unknown_award": N_("Choose one of the offered awards."),
    "award.member_not_found": N_("Choose a member of your unit."),
    "award.nominee_outside_level": N_("The nominee is outside this level."),
}
problems.CODE_MESSAGES.update(MESSAGES)


# The service's fixed reasons (English) said in the person's language; a reason with figures in it is shown
# as the service wrote it (it has no code yet).
REASONS = {
    "attested with evidence": N_("attested with evidence"),
    "not attested by the proposing unit": N_("not attested by the proposing unit"),
    "attested without an evidence file (appraisal)": N_("attested without an evidence file (appraisal)"),
    "attested without an evidence file (any)": N_("attested without an evidence file"),
    "no recognised initiative of the nominee is known": N_("no recognised initiative of the nominee is known"),
    "a pledge was signed": N_("a pledge was signed"),
    "no signed pledge is known": N_("no signed pledge is known"),
    "no progress reported on the pledge yet": N_("no progress reported on the pledge yet"),
}


def alabel(value: object) -> str:
    return gettext(LABELS.get(str(value), str(value)))


def reason(text: str) -> str:
    return gettext(REASONS[text]) if text in REASONS else text
