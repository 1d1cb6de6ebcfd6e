"""The awards service's codes said in the person's language: labels of statuses, states, outcomes and kinds,
its refusal codes (added to the portal's shared table) and its eligibility reasons.
"""

from collections.abc import Mapping
from typing import Any

from services.portal.entrypoints import i18n, problems
from services.portal.entrypoints.i18n import N_, gettext, number, percent

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


# Eligibility reasons by the service's stable code (``reason_code``), filled from its ``reason_params``.
REASON_CODES = {
    "initiative.qualify": N_("{count} initiative(s) qualify"),
    "initiative.none": N_("no recognised initiative of the nominee is known"),
    "initiative.too_few": N_("{count} of the {needed} initiatives needed qualify ({gaps})"),
    "title_streak.held": N_("held in {from_year}–{to_year}"),
    "title_streak.missing": N_("missing in {years}"),
    "grade.unknown": N_("no confirmed grade for {year} yet"),
    "grade.met": N_("graded: {grade}"),
    "grade.not_met": N_("graded: {grade}; needs one of: {grades}"),
    "pledge.signed": N_("a pledge was signed"),
    "pledge.none": N_("no signed pledge is known"),
    "pledge.no_progress": N_("no progress reported on the pledge yet"),
    "pledge.fulfilment": N_("fulfilment {rate} against {needed} needed"),
    "members.unknown": N_("no member count for {year}"),
    "members.share_more_than": N_("{share} of the members hold the title; more than {needed} needed"),
    "members.share_at_least": N_("{share} of the members hold the title; at least {needed} needed"),
    "members.titles_unknown": N_("no member titles known for {year}"),
    "members.count": N_("{count} members hold the title; {needed} needed"),
    "attested.no": N_("not attested by the proposing unit"),
    "attested.no_file": N_("attested without an evidence file ({kind})"),
    "attested.with_evidence": N_("attested with evidence"),
}
# Why an initiative falls short (the ``gaps`` of ``initiative.too_few``).
INITIATIVE_GAPS = {
    "below_scope": N_("recognised below the {scope}"),
    "not_accepted": N_("not accepted (nghiệm thu)"),
    "not_applied": N_("not applied"),
    "not_recognised": N_("not recognised or recognition revoked"),
    "outside_years": N_("recognised outside {from_year}–{to_year}"),
}
REVOKED_YEARS = N_("revoked in {years}")
TOO_FEW = N_("too few")
ANY_FILE = N_("attested without an evidence file")
# Judgements recorded before the codes: their fixed English reasons, said in the person's language (a reason
# with figures in it is shown as the service wrote it).
REASONS = {
    "attested with evidence": REASON_CODES["attested.with_evidence"],
    "not attested by the proposing unit": REASON_CODES["attested.no"],
    "attested without an evidence file (any)": ANY_FILE,
    "no recognised initiative of the nominee is known": REASON_CODES["initiative.none"],
    "a pledge was signed": REASON_CODES["pledge.signed"],
    "no signed pledge is known": REASON_CODES["pledge.none"],
    "no progress reported on the pledge yet": REASON_CODES["pledge.no_progress"],
}


def alabel(value: object) -> str:
    return gettext(LABELS.get(str(value), str(value)))


def _filled(message: str, params: Mapping[str, Any]) -> str:
    return gettext(message).format(**params)


def reason(criterion: Mapping[str, Any]) -> str:
    """A criterion's reason in the person's language: from its code and parameters where it has them."""
    code, given = criterion.get("reason_code") or "", criterion.get("reason_params") or {}
    if code not in REASON_CODES:
        text = str(criterion.get("reason", ""))
        return gettext(REASONS[text]) if text in REASONS else text
    if code == "attested.no_file" and given.get("kind") == "any":
        return gettext(ANY_FILE)
    years = ", ".join(str(y) for y in given.get("years", ()))  # years as written, never grouped (2.025)
    params = {k: str(v) if k.endswith("year") else v for k, v in given.items()}
    params |= {
        "count": number(given.get("count")), "needed": number(given.get("needed")), "years": years,
        "grade": i18n.label(given.get("grade", "")),
        "grades": ", ".join(i18n.label(g) for g in given.get("grades", ())),
        "kind": alabel(given.get("kind", "")), "scope": i18n.label(given.get("scope", "")),
    }  # fmt: skip
    if code in ("pledge.fulfilment", "members.share_more_than", "members.share_at_least"):
        share = given.get("rate", given.get("share", 0))
        params |= {
            "rate": percent(100 * share),
            "share": percent(100 * share),
            "needed": percent(100 * given["needed"]),
        }
    if code == "initiative.too_few":
        gaps = [_filled(INITIATIVE_GAPS[g], params) for g in given.get("gaps", ()) if g in INITIATIVE_GAPS]
        params["gaps"] = "; ".join(gaps) or gettext(TOO_FEW)
    said = _filled(REASON_CODES[code], params)
    if code == "title_streak.missing" and given.get("revoked"):
        said += " (" + _filled(REVOKED_YEARS, {"years": ", ".join(str(y) for y in given["revoked"])}) + ")"
    return said
