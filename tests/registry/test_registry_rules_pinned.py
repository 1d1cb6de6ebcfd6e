"""The registry's rules, pinned by mutation testing (issue 8): who decides at which level, what each
status allows next, ideas and their mentor, re-addressing a request, the authors' shares. Each test fails
if a check, or what its refusal says (type, field, message), is removed. Domain only, no I/O."""

from collections.abc import Callable
from datetime import date

import pytest
from pydantic import ValidationError

from contracts.registry import (
    EscalationReaddressed,
    IdeaClaimed,
    IdeaCommented,
    IdeaConverted,
    IdeaSubmitted,
    InitiativeRegistered,
    InitiativeRevised,
    PossibleDuplicate,
)
from services.registry.domain.commands import ConvertIdea, RegisterInitiative
from services.registry.domain.idea import Idea
from services.registry.domain.initiative import Initiative
from services.registry.domain.rules import allowed_next, require_decider, scope_of
from services.registry.domain.similarity import Features, features, jaccard, similarity
from shared.errors import Conflict, Forbidden, IllegalTransition, InvalidInput
from shared.identity import Caller
from shared.units import UnitRef
from tests.registry.registry_helpers import (
    BCH,
    BTV_HN,
    BTV_NTL,
    CHAIN,
    DD,
    FECON,
    HN,
    MEMBER,
    NTL,
    actor,
    given,
    registered,
    registration,
    then,
)
from tests.registry.test_registry_domain import AUTHORS, SCORES, D, applied, escalated, idea, recognised, scored

ADMIN = Caller.system("admin")
GRASSROOTS = "executive_committee, chair"
UPPER = "standing_committee, chair"
DUPLICATES = (PossibleDuplicate(initiative_id="i-7", unit_id="u-ceo", title="Mã QR", score=0.91, other_unit=True),)

# -- who decides: each decision refuses an official of another unit, then one without the role -----------

Decide = Callable[[Caller], object]
DECISIONS: list[tuple[str, Decide, str, Caller, str]] = [
    # (what, the decision by an actor, where it is decided, an official there without the role, their roles)
    ("recognise initiatives", lambda a: scored().recognise(a, CHAIN, FECON, "1/QĐ", D), "hn.ntl.fecon",
     actor(FECON, "emulation_officer"), GRASSROOTS),
    ("reject initiatives", lambda a: scored().reject(a, FECON, "Trùng"), "hn.ntl.fecon",
     actor(FECON, "emulation_officer"), GRASSROOTS),
    ("return initiatives", lambda a: scored().return_for_revision(a, FECON, "Bổ sung"), "hn.ntl.fecon",
     actor(FECON, "emulation_officer"), GRASSROOTS),
    ("accept initiatives", lambda a: applied().accept(a, FECON, 1, ""), "hn.ntl.fecon",
     actor(FECON, "emulation_officer"), GRASSROOTS),
    ("propose it upward", lambda a: applied().request_escalation(a, CHAIN, "Đề nghị"), "hn.ntl.fecon",
     actor(FECON, "emulation_officer"), GRASSROOTS),
    ("decide this escalation", lambda a: escalated().recognise(a, CHAIN, FECON, "5/QĐ", D), "hn.ntl",
     actor(NTL, "executive_committee"), UPPER),
    ("forward this request", lambda a: escalated().forward(a, CHAIN, "Trình"), "hn.ntl",
     actor(NTL, "executive_committee"), UPPER),
    ("return this request", lambda a: escalated().return_escalation(a, CHAIN, "Chưa đủ"), "hn.ntl",
     actor(NTL, "executive_committee"), UPPER),
]  # fmt: skip


@pytest.mark.parametrize(("what", "decide", "where", "no_role", "roles"), DECISIONS, ids=[d[0] for d in DECISIONS])
def test_only_the_deciding_role_at_the_deciding_level_decides(
    what: str, decide: Decide, where: str, no_role: Caller, roles: str
) -> None:
    outsider = BTV_HN if where != "hn" else BTV_NTL
    with pytest.raises(Forbidden) as elsewhere:
        decide(outsider)
    assert str(elsewhere.value) == f"only officials of {where} may {what}; you act for {outsider.unit_path}"
    with pytest.raises(Forbidden) as without_role:
        decide(no_role)
    assert str(without_role.value) == f"to {what} at {where} you need one of the roles: {roles}"
    assert decide(ADMIN)  # the platform operator decides anywhere


def test_a_decider_in_no_unit_is_told_so() -> None:
    with pytest.raises(Forbidden) as refused:
        scored().reject(Caller("m-0", None, frozenset({"chair"})), FECON, "Trùng")
    assert str(refused.value) == "only officials of hn.ntl.fecon may reject initiatives; you act for no unit"


# -- what each status allows next -------------------------------------------------------------------------

RECOGNISED_NEXT = "it is recognised; allowed next: report its application, or order its replication"
REFUSED_BY_STATUS: list[tuple[Callable[[], object], str]] = [
    (lambda: recognised().score(BCH, FECON, "x", SCORES, "x"),
     f"a recognised initiative cannot be scored: {RECOGNISED_NEXT}"),
    (lambda: recognised().reject(BCH, FECON, "x"), f"a recognised initiative cannot be rejected: {RECOGNISED_NEXT}"),
    (lambda: recognised().return_for_revision(BCH, FECON, "x"),
     f"a recognised initiative cannot be returned: {RECOGNISED_NEXT}"),
    (lambda: recognised().recognise(BCH, CHAIN, FECON, "2/QĐ", D),
     f"a recognised initiative cannot be recognised: {RECOGNISED_NEXT}"),
    (lambda: given(registered()).recognise(BCH, CHAIN, FECON, "1/QĐ", D),
     "the council has not scored it yet; allowed next: score it in council"),
    (lambda: recognised().complete(registration(), MEMBER), f"the initiative is not a draft: {RECOGNISED_NEXT}"),
    (lambda: recognised().revise(registration(), MEMBER), f"only a returned initiative is revised: {RECOGNISED_NEXT}"),
    (lambda: recognised().accept(BCH, FECON, 1, ""), f"acceptance needs a reported application: {RECOGNISED_NEXT}"),
    (lambda: recognised().request_escalation(BCH, CHAIN, "x"),
     f"only a recognised and applied initiative is proposed upward: {RECOGNISED_NEXT}"),
    (lambda: escalated().request_escalation(BCH, CHAIN, "x"),
     "a request is already waiting upward; allowed next: wait for its decision"),
    (lambda: applied().forward(BTV_NTL, CHAIN, "x"),
     "no escalation request is waiting; allowed next: propose it upward first"),
    (lambda: applied().return_escalation(BTV_NTL, CHAIN, "x"),
     "no escalation request is waiting; allowed next: propose it upward first"),
]  # fmt: skip


@pytest.mark.parametrize(("refused", "says"), REFUSED_BY_STATUS)
def test_a_refused_transition_says_the_status_and_what_is_allowed_next(
    refused: Callable[[], object], says: str
) -> None:
    with pytest.raises(IllegalTransition) as error:
        refused()
    assert str(error.value) == says


def test_an_unknown_status_allows_nothing() -> None:
    assert allowed_next("withdrawn") == "it is withdrawn; allowed next: nothing"


def test_a_request_whose_level_left_the_chain_is_a_conflict_saying_the_tree_changed() -> None:
    with pytest.raises(Conflict) as refused:
        escalated().forward(BTV_NTL, [HN, FECON], "x")
    assert str(refused.value) == "the deciding level is no longer above this initiative's unit (the tree changed)"


# -- possible duplicates travel with the registration ------------------------------------------------------


def test_registering_completing_and_revising_keep_the_possible_duplicates() -> None:
    (registered_event,) = Initiative.register("i-2", FECON, registration(), MEMBER, DUPLICATES)
    assert isinstance(registered_event, InitiativeRegistered) and registered_event.possible_duplicates == DUPLICATES
    draft = given(*idea_converted_to_draft())
    (completed,) = draft.complete(registration(), MEMBER, DUPLICATES)
    assert isinstance(completed, InitiativeRegistered) and completed.possible_duplicates == DUPLICATES
    assert (completed.unit_id, completed.registered_on) == ("u-fecon", None)
    (on_paper,) = draft.complete(registration(), MEMBER, DUPLICATES, date(2025, 3, 2))  # a paper form's day kept
    assert isinstance(on_paper, InitiativeRegistered) and on_paper.registered_on == date(2025, 3, 2)
    returned = scored()
    then(returned, returned.return_for_revision(BCH, FECON, "Bổ sung"))
    (revised,) = returned.revise(registration(), MEMBER, DUPLICATES)
    assert isinstance(revised, InitiativeRevised) and revised.possible_duplicates == DUPLICATES


def idea_converted_to_draft() -> list[object]:
    claimed = idea(IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1"))
    return [claimed.convert(actor(FECON, "incubator_mentor", subject="mentor-1"), "i-1", "Số hoá", AUTHORS)[1]]


# -- replication -----------------------------------------------------------------------------------------


def test_the_platform_operator_orders_replication_at_the_level_that_recognised_it() -> None:
    (event,) = applied().order_replication(ADMIN, CHAIN, FECON, [], "Nhân rộng")
    assert (event.by_unit_id, event.by_unit_path, event.ordered_by) == ("u-fecon", "hn.ntl.fecon", "admin")  # type: ignore[attr-defined]


def test_replication_refusals_say_the_scope_and_the_targets_outside() -> None:
    with pytest.raises(Forbidden) as below_scope:
        applied().order_replication(BTV_NTL, CHAIN, FECON, [], "")
    assert str(below_scope.value) == (
        "it is recognised at grassroots scope; hn.ntl replicates only what is recognised at its own scope or "
        "above (propose it upward first)"
    )
    with pytest.raises(Forbidden) as no_role:
        applied().order_replication(MEMBER, CHAIN, FECON, [], "")
    assert str(no_role.value) == f"to order replication at hn.ntl.fecon you need one of the roles: {GRASSROOTS}"
    with pytest.raises(InvalidInput) as outside:
        applied().order_replication(BCH, CHAIN, FECON, ["hn.ntl.fecon.thi-cong", "hn.ntl.ceo", "hn.dd"], "")
    assert outside.value.field == "target_paths"
    assert str(outside.value) == "outside your subtree hn.ntl.fecon: hn.ntl.ceo, hn.dd"


# -- re-addressing a waiting request (the platform decides it from the directory) --------------------------


def test_a_waiting_request_is_readdressed_to_the_new_level_of_that_rank() -> None:
    initiative = escalated()
    (event,) = initiative.readdress(DD, "Fecon moved to hn.dd")
    assert event == EscalationReaddressed(
        initiative_id="i-1", unit_id="u-fecon", from_unit_id="u-ntl", to_unit_id="u-dd", to_path="hn.dd",
        reason="Fecon moved to hn.dd",
    )  # fmt: skip
    then(initiative, [event])
    assert initiative.pending_at == "u-dd"
    (back,) = initiative.readdress(None, "hn.dd was abolished")
    assert (back.from_unit_id, back.to_unit_id, back.to_path) == ("u-dd", None, None)  # type: ignore[attr-defined]


def test_readdressing_needs_a_waiting_request_and_a_different_level() -> None:
    with pytest.raises(IllegalTransition) as nothing_waits:
        applied().readdress(DD, "moved")
    assert str(nothing_waits.value) == "no escalation request is waiting; nothing to re-address"
    with pytest.raises(Conflict) as same:
        escalated().readdress(NTL, "moved")
    assert str(same.value) == "the request already waits at hn.ntl"


# -- ideas and their mentor ------------------------------------------------------------------------------

MENTOR = actor(FECON, "incubator_mentor", subject="mentor-1")
OTHER_MENTOR = actor(FECON, "incubator_mentor", subject="mentor-2")
CLAIMED = IdeaClaimed(idea_id="d-1", unit_id="u-fecon", mentor="mentor-1")


def test_submitting_and_commenting_record_the_text() -> None:
    assert Idea.submit("d-2", FECON, "Số hoá sổ đoàn viên", MEMBER) == [
        IdeaSubmitted(idea_id="d-2", unit_id="u-fecon", text="Số hoá sổ đoàn viên", submitted_by="member-fecon")
    ]
    assert idea(CLAIMED).comment(MENTOR, "Nêu số giờ") == [
        IdeaCommented(idea_id="d-1", unit_id="u-fecon", by="mentor-1", comment="Nêu số giờ")
    ]
    history = idea(CLAIMED, IdeaCommented(idea_id="d-1", unit_id="u-fecon", by="mentor-1", comment="Nêu số giờ"))
    assert history.comments == [("mentor-1", "Nêu số giờ")]
    assert (history.unit_id, history.text, history.mentor) == ("u-fecon", "Số hoá sổ đoàn viên", "mentor-1")


def test_the_platform_operator_works_on_an_idea_another_mentor_claimed() -> None:
    (event,) = idea(CLAIMED).comment(ADMIN, "Bổ sung")
    assert isinstance(event, IdeaCommented) and event.by == "admin"
    assert idea(CLAIMED).convert(ADMIN, "i-9", "Số hoá", AUTHORS)


@pytest.mark.parametrize(("work", "what"), [
    (lambda i, a: i.comment(a, "x"), "comment on"),
    (lambda i, a: i.convert(a, "i-9", "Số hoá", AUTHORS), "convert"),
])  # fmt: skip
def test_only_the_claiming_mentor_works_on_an_idea_and_only_while_it_is_claimed(
    work: Callable[[Idea, Caller], object], what: str
) -> None:
    with pytest.raises(Forbidden) as not_a_mentor:
        work(idea(CLAIMED), MEMBER)
    assert str(not_a_mentor.value) == "only an incubator mentor (incubator_mentor) works on ideas"
    with pytest.raises(IllegalTransition) as unclaimed:
        work(idea(), MENTOR)
    assert str(unclaimed.value) == f"the idea is not claimed yet; allowed next: claim it, then {what} it"
    with pytest.raises(Forbidden) as someone_else:
        work(idea(CLAIMED), OTHER_MENTOR)
    assert str(someone_else.value) == f"the idea is claimed by the mentor mentor-1; only they may {what} it"
    converted = idea(CLAIMED, IdeaConverted(idea_id="d-1", unit_id="u-fecon", initiative_id="i", by="mentor-1"))
    with pytest.raises(IllegalTransition) as done:
        work(converted, MENTOR)
    assert str(done.value) == "the idea was already converted into an initiative; work on the initiative"


def test_an_idea_applies_only_its_own_events() -> None:
    with pytest.raises(TypeError, match="an idea cannot apply InitiativeRegistered"):
        idea().apply(registered())
    with pytest.raises(TypeError, match="an initiative cannot apply IdeaClaimed"):
        given(registered()).apply(CLAIMED)


# -- the authors' shares --------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [ConvertIdea, RegisterInitiative])
@pytest.mark.parametrize("shares", [[60, 39], [60, 41]])
def test_the_authors_shares_sum_to_exactly_100(
    command: type[ConvertIdea | RegisterInitiative], shares: list[int]
) -> None:
    body = {**registration().model_dump(mode="json"), "campaign_id": "camp-1"}
    body["authors"] = [{"name": f"Tác giả {i}", "share": s} for i, s in enumerate(shares)]
    if command is ConvertIdea:
        body = {"title": body["title"], "authors": body["authors"]}
    with pytest.raises(ValidationError) as refused:
        command.model_validate(body)
    (error,) = refused.value.errors()
    assert error["loc"] == ("authors",) and error["type"] == "share_total"
    assert error["msg"] == f"the authors' contribution shares must sum to 100 (they sum to {sum(shares)})"
    assert error["ctx"] == {"total": sum(shares), "expected": 100}
    body["authors"][0]["share"] = 100 - sum(shares[1:])
    assert command.model_validate(body).authors[0].share == 100 - sum(shares[1:])


# -- statuses an event leaves ---------------------------------------------------------------------------


def test_an_accepted_initiative_is_not_accepted_twice_and_stays_accepted_when_applied_again() -> None:
    initiative = applied()
    then(initiative, initiative.accept(BCH, FECON, 75_000_000, "Nghiệm thu"))
    assert initiative.status == "accepted" and initiative.benefit_vnd == 75_000_000
    with pytest.raises(IllegalTransition) as twice:
        initiative.accept(BCH, FECON, 1, "")
    assert str(twice.value) == (
        "acceptance needs a reported application: it is accepted; allowed next: report more applications, "
        "propose it upward or order its replication"
    )
    then(initiative, initiative.report_application(MEMBER, "Khối văn phòng", D, "Biên bản", 90_000_000))
    assert initiative.status == "accepted" and initiative.benefit_vnd == 90_000_000


# -- a level of a kind with no deciding roles of its own ---------------------------------------------------

SUB = UnitRef(unit_id="u-tc", path="hn.ntl.fecon.thi-cong", kind="sub_unit", parent_id="u-fecon")


def test_at_a_level_of_another_kind_only_the_chair_decides_and_the_scope_is_grassroots() -> None:
    require_decider(actor(SUB, "chair"), SUB, "decide")
    with pytest.raises(Forbidden) as refused:
        require_decider(actor(SUB, "executive_committee"), SUB, "decide")
    assert str(refused.value) == "to decide at hn.ntl.fecon.thi-cong you need one of the roles: chair"
    assert scope_of(SUB) == "grassroots" and scope_of(NTL) == "upper_level"


# -- the duplicate score ----------------------------------------------------------------------------------


def test_features_are_content_words_their_bigrams_and_character_trigrams() -> None:
    found = features("Và của Sáng kiến")
    assert found.terms == {"sang", "kien", "cua_sang", "sang_kien"}  # stop words alone, or paired, say nothing
    assert found.grams == {
        "va ", "a c", " cu", "cua", "ua ", "a s", " sa", "san", "ang", "ng ", "g k", " ki", "kie", "ien",
    }  # fmt: skip
    assert features("ab").grams == frozenset()


def test_the_score_blends_both_overlaps_to_three_places_and_nothing_shared_is_zero() -> None:
    a = Features(frozenset({"x"}), frozenset({"p"}))
    b = Features(frozenset("xyzuvwt"), frozenset({"q"}))
    assert similarity(a, b) == 0.086  # 0.6 × 1/7
    assert jaccard(frozenset(), frozenset({"x"})) == 0.0 and jaccard(frozenset({"x"}), frozenset()) == 0.0
