"""What the portal's inspections pages share: the codes the service speaks in, their words in the person's
language, and the few steps every page takes (send a command, read a refusal beside the form's fields,
find the level host that serves a unit).
"""

import re
from typing import Any

from services.portal.adapters.platform import Platform, Problem
from services.portal.adapters.sessions import Person, Session
from services.portal.entrypoints import i18n
from services.portal.entrypoints.i18n import N_, _
from services.portal.entrypoints.problems import CODE_MESSAGES, Said
from services.portal.entrypoints.web import form_key, refused

SERVICE = "inspections"
ANSWERS = ("done", "partly", "not_done")
CONTENTS = ("charter_compliance", "pledge_fulfilment", "finance", "signs_of_violation")
SEVERITIES = ("minor", "moderate", "serious")
GRADES = ("excellent", "good", "completed", "not_completed")
UNION_TYPES = ("enterprise", "public_sector")
TEAM_ROLES = ("chair", "standing_committee", "executive_committee", "inspection_committee")
GRASSROOTS = "grassroots_union"

# The words of the inspections pages the services send as codes, said in the person's language.
i18n.LABELS.update(
    {
        "done": N_("done"),
        "partly": N_("partly done"),
        "not_done": N_("not done"),
        "issued": N_("to answer"),
        "withdrawn": N_("withdrawn"),
        "overdue": N_("overdue"),
        "half_year": N_("half-year"),
        "year": N_("full year"),
        "charter_compliance": N_("compliance with the Charter"),
        "pledge_fulfilment": N_("fulfilment of the pledges"),
        "finance": N_("union finance"),
        "signs_of_violation": N_("signs of violation"),
        "minor": N_("minor"),
        "moderate": N_("moderate"),
        "serious": N_("serious"),
        "scheduled": N_("scheduled"),
        "noticed": N_("notice issued"),
        "decided": N_("decision issued"),
        "concluded": N_("concluded"),
        "fix_reported": N_("fix reported"),
        "verified": N_("verified"),
        "manual": N_("chosen by hand"),
        "random": N_("random sample"),
        "risk": N_("risk-based sample"),
        "excellent": N_("excellently completed its tasks"),
        "good": N_("well completed its tasks"),
        "completed": N_("completed its tasks"),
        "not_completed": N_("did not complete its tasks"),
        "enterprise": N_("enterprise grassroots union"),
        "public_sector": N_("public-sector grassroots union"),
        "done_below_target": N_("Answered done, but the measured value misses the target"),
        "applied_without_application": N_("Answered done, but no application of the initiative is recorded"),
        "SelfGraded": N_("self-graded"),
        "GradeConfirmed": N_("confirmed by the parent level"),
        "CorrectiveActionFixReported": N_("fix reported"),
        "CorrectiveActionVerified": N_("verified"),
        "CorrectiveActionReopened": N_("reopened"),
    }
)

# The inspections service's refusals that have a sentence of their own.
CODE_MESSAGES.update(
    {
        "sample.seed_required": N_("A random sample needs its seed."),
        "sample.size_required": N_("A sample needs its size."),
        "sample.not_the_draw": N_("The units listed are not the sample this seed draws: draw again."),
        "sample.not_proposed": N_("{unit} is not among the units the radar proposes."),
        "grading.not_eligible": N_("This union cannot be graded for this year: it has not operated long enough."),
        "grading.too_early": N_("This year can be graded from {opens}."),
        "grading.reason_required": N_("Give the reason for changing the grade."),
        "grading.unscored": N_("Score every indicator."),
        "checklist.evidence_required": N_("Done and partly done need evidence: a statement, a link or a file."),
        "checklist.unanswered": N_("Answer every item before submitting."),
        "checklist.reason_required": N_("An amendment after submission needs its reason."),
        "checklist.empty_amendment": N_("The amendment changes no answer and no finding."),
        "checklist.submitted": N_("The self-inspection is already submitted: amend it with a reason."),
        "round.due_in_past": N_("The due date cannot be in the past."),
        "round.no_units": N_("No active grassroots union below needs a checklist for this year and period."),
        "action.evidence_required": N_("A fix is reported with its evidence."),
    }
)


async def send(api: Platform, session: Session, path: str, body: Any, form: Any) -> Any:
    assert session.token is not None
    return (await api.command(SERVICE, "POST", path, session.token, body, form_key(form))).body


def form_field(name: str) -> str:
    """A service's field path as the forms name it: ``answer.evidence`` and ``answers.0.evidence`` are the
    evidence box, ``evidence.links.2`` the links box."""
    name = re.sub(r"^(answer|answers\.\d+)\.", "", name)
    if name.startswith("evidence."):
        name = re.sub(r"\.\d+$", "", name)
    return "evidence.text" if name == "evidence" else name


def said_of(problem: Problem) -> Said:
    """The refusal in words, beside the fields the forms show."""
    if problem.status >= 500:
        raise problem
    said = refused(problem)
    said.fields = {form_field(name): message for name, message in said.fields.items()}
    return said


def not_done(said: Said, shown: tuple[str, ...]) -> Said:
    """A refused action's message above its form: "Not done:" and what no field of the form shows."""
    said.general = [_("Not done:"), *said.general, *(m for k, m in said.fields.items() if k not in shown)]
    return said


def person_of(session: Session) -> Person:
    assert session.person is not None
    return session.person


def level_of(api: Platform, path: str) -> str:
    return api.topology.level_for(SERVICE, path, [])


async def unit_at(api: Platform, session: Session, path: str) -> dict[str, Any]:
    return await api.query("directory", f"/units/by-path/{path}", session.token)


def checklist_id(unit_id: str, year: int, period: str) -> str:
    """The service keeps one checklist per unit, year and period under this id (its level reads list
    checklists by unit)."""
    return f"{unit_id}-{year}-{period}"


def evidence(form: Any, prefix: str = "evidence") -> dict[str, Any]:
    """A statement and links (one per line) → the service's evidence."""
    links = [line.strip() for line in str(form.get(f"{prefix}.links") or "").splitlines() if line.strip()]
    return {"text": str(form.get(f"{prefix}.text") or "").strip(), "links": links}


def lines_of(form: Any, name: str) -> list[str]:
    return [line.strip() for line in str(form.get(name) or "").splitlines() if line.strip()]


async def or_empty(call: Any, empty: Any) -> Any:
    """A panel whose read failed (a level host catching up) shows nothing rather than failing the page."""
    try:
        return await call
    except Problem as problem:
        if problem.status in (401,):
            raise
        return empty
