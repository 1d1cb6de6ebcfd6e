"""A service's refusal said in the person's language, beside the field it blames.

A 422 lists every invalid field (pydantic's error ``type`` and its context, or the platform's ``code`` and
``params``); other refusals carry one ``code`` with ``params``. Each known code or type has a message
here; an unknown one falls back to the service's English ``detail`` rather than hiding it.
"""

from dataclasses import dataclass, field
from typing import Any

from services.portal.adapters.platform import Problem
from services.portal.entrypoints.i18n import N_, _, gettext

# pydantic's error types (422 field errors): the message and the context values it shows.
FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("This field is required."),
    "string_too_short": N_("Enter at least {min_length} characters."),
    "string_too_long": N_("Enter at most {max_length} characters."),
    "too_short": N_("Give at least {min_length}."),
    "too_long": N_("Give at most {max_length}."),
    "greater_than_equal": N_("Enter a number of at least {ge}."),
    "greater_than": N_("Enter a number greater than {gt}."),
    "less_than_equal": N_("Enter a number of at most {le}."),
    "less_than": N_("Enter a number less than {lt}."),
    "int_parsing": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "finite_number": N_("Enter a finite number."),
    "date_from_datetime_parsing": N_("Enter a date (dd/mm/yyyy)."),
    "date_parsing": N_("Enter a date (dd/mm/yyyy)."),
    "date_type": N_("Enter a date (dd/mm/yyyy)."),
    "literal_error": N_("Choose one of the offered values."),
    "enum": N_("Choose one of the offered values."),
    "string_pattern_mismatch": N_("This value has the wrong form."),
    "extra_forbidden": N_("This field is not expected."),
    "string_type": N_("Enter text."),
    "list_type": N_("Give a list."),
    "blank": N_("This field cannot be blank."),
    "invisible_characters": N_("Remove the invisible characters."),
    "shares_sum": N_("The authors' contribution shares must sum to 100 (they sum to {total})."),
    "share_total": N_("The authors' contribution shares must sum to 100 (they sum to {total})."),
    "text_blank": N_("This field cannot be blank."),
    "text_invalid_unicode": N_("This text contains a character that is not valid."),
    "int_type": N_("Enter a whole number."),
    "float_type": N_("Enter a number."),
    "bool_type": N_("Choose yes or no."),
    "uuid_parsing": N_("Choose one of the offered values."),
    "too_many_lines": N_("Write at most {max_lines} lines."),
}

# The platform's codes (problem details ``code``): refusals that are not one field's form.
CODE_MESSAGES: dict[str, str] = {
    "not_found": N_("Not found, or outside your unit."),
    "forbidden": N_("You may not do this for this unit."),
    "unauthenticated": N_("Your sign-in has expired. Sign in again."),
    "conflict": N_("This conflicts with what is already recorded."),
    "illegal_transition": N_("This step is not allowed now."),
    "concurrency": N_("Someone changed this at the same time. Reload and try again."),
    "too_large": N_("What you sent is too large."),
    "invalid_input": N_("This value is not accepted."),
    "event.unstorable": N_("This value cannot be stored."),
    "date.in_future": N_("The day {given} is after today ({today})."),
    "date.backdated": N_(
        "Only the platform operator enters a past day ({given}) from paper records; leave it empty to act today."
    ),
    "date.deadline_passed": N_(
        "A deadline has already passed: the units below could not report by it. Only the platform operator "
        "enters a plan that ran on paper."
    ),
    "portal.unavailable": N_("A service did not answer. Try again in a moment."),
    "portal.no_level": N_("No level view serves this unit."),
    "portal.not_found": N_("Not found, or outside your unit."),
}


@dataclass
class Said:
    """A refusal in words: one message per blamed field, and what concerns the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)


def _field_name(error: dict[str, Any]) -> str | None:
    if error.get("field"):
        return str(error["field"])
    loc = [str(p) for p in error.get("loc", []) if p not in ("body", "query", "path", "header")]
    return ".".join(loc) or None


# The error classes' default codes: a Vietnamese sentence, with the service's own reason beside it until
# the service gives that refusal a specific code of its own.
GENERIC = {"not_found", "forbidden", "conflict", "illegal_transition", "concurrency", "invalid_input"}


def _message(kind: str | None, params: dict[str, Any], fallback: str) -> str:
    if kind in GENERIC and fallback:
        return f"{_(CODE_MESSAGES[kind])} ({fallback})"
    if kind in FIELD_MESSAGES:
        try:
            return _(FIELD_MESSAGES[kind], **params)
        except (KeyError, IndexError):  # a parameter the service did not send: say the rest of the sentence
            return gettext(FIELD_MESSAGES[kind]).split("{")[0].rstrip(" (")
    if kind in CODE_MESSAGES:
        return _(CODE_MESSAGES[kind], **params)
    return fallback


def _field_kind(error: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    kind, params = error.get("code") or error.get("type"), dict(error.get("params") or error.get("ctx") or {})
    message = str(error.get("msg") or error.get("message") or "")
    if kind == "string_too_short" and params.get("min_length") == 1:
        return "missing", params  # an empty required text field
    if kind in FIELD_MESSAGES:
        return kind, params
    # Before the platform gives codes to its own validators, recognise the two that matter to the forms.
    if kind == "value_error" and "sum to 100" in message:
        kind = "shares_sum"
        params.setdefault("total", message.rsplit(" ", 1)[-1].rstrip(")"))
    elif kind == "value_error" and "blank" in message:
        kind = "blank"
    return kind, params


def explain(problem: Problem) -> Said:
    body, said = problem.body, Said()
    for error in body.get("errors") or []:
        name = _field_name(error)
        kind, params = _field_kind(error)
        reason = str(error.get("msg") or error.get("message") or "")
        message = _message(kind, params, reason) if reason or kind else _("Invalid value.")
        if name and name not in said.fields:
            said.fields[name] = message
        elif not name:
            said.general.append(message)
    if said.fields:
        return said
    code, params = body.get("code"), dict(body.get("params") or {})
    fallback = str(body.get("detail") or body.get("title") or _("The request was refused."))
    if code:
        message = _message(code, params, fallback)
    else:  # a refusal without a code (older services): the status in words, the service's reason beside it
        generic = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "too_large"}
        kind = generic.get(problem.status)
        message = f"{_message(kind, {}, '')} ({fallback})" if kind else fallback
    if body.get("field"):
        said.fields[str(body["field"])] = message
    else:
        said.general.append(message)
    if body.get("allowed_next"):
        said.general.append(_("Allowed next: {steps}", steps=", ".join(map(str, body["allowed_next"]))))
    return said
