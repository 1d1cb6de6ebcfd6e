"""One handler per proposal command: load, decide, save (with the nominee's record or the quota ledger
in the same transaction where a rule spans proposals)."""

from typing import Any

from contracts.awards import Achievement, Decision, Evidence, Meeting
from services.awards.adapters.records import waiting_upward
from services.awards.application.deps import Deps
from services.awards.domain.commands import (
    AnswerObjection,
    Decide,
    Escalate,
    FileProposal,
    Justify,
    Object,
    Publicise,
    RecordVote,
    Reject,
    Return,
    Revoke,
    Withdraw,
)
from services.awards.domain.eligibility import Claim, evaluate
from services.awards.domain.ledgers import nominee_key, quota_key
from services.awards.domain.proposal import Proposal
from services.awards.domain.rules import NATIONAL, authority_unit, level_key, level_of
from shared.commands import CommandContext, commit
from shared.errors import InvalidInput
from shared.eventstore import StreamAppend
from shared.identity import Caller
from shared.ids import time_ordered_id
from shared.units import UnitRef
from shared.upward import Waiting

# Who re-addresses a proposal stranded by a change of the tree: the platform, following the directory.
_PLATFORM = CommandContext(caller=Caller.system("platform"))


def view(p: Proposal) -> dict[str, Any]:
    record = p.record
    return {
        "proposal_id": p.id,
        "status": p.status,
        "version": p.version,
        "award_code": record.award_code,
        "award_name": record.award_name,
        "nominee": record.nominee.model_dump(mode="json"),
        "year": record.year,
        "level": p.level.model_dump(mode="json"),
        "inbox": p.inbox.model_dump(mode="json") if p.inbox else None,
        "eligibility": (p.eligibility or record.eligibility).model_dump(mode="json"),
        "flagged": p.flagged,
        "justification": p.justification,
        "award_id": p.conferred.award_id if p.conferred else None,
    }


async def _evidence(deps: Deps, unit_id: str, cmd: FileProposal) -> tuple[Evidence, ...]:
    if not cmd.evidence:
        return ()
    if deps.evidence is None:
        raise InvalidInput("this service takes no evidence files", field="evidence", code="award.no_evidence_store")
    out = []
    for index, item in enumerate(cmd.evidence):
        described = deps.evidence.describe(item.file.sha256, unit_id, item.file.name)
        if described is None:  # a file never uploaded for this unit, or changed on disk
            raise InvalidInput(
                "no such evidence file was uploaded for this unit; upload it first (POST /evidence)",
                field=f"evidence.{index}.file.sha256",
                code="award.evidence_not_found",
                params={"sha256": item.file.sha256},
            )
        out.append(Evidence(kind=item.kind, label=item.label or "", file=described))
    return tuple(out)


async def file_proposal(deps: Deps, ctx: CommandContext, cmd: FileProposal) -> dict[str, Any]:
    caller = ctx.caller
    home = await deps.home(caller, cmd.unit_path)
    handler, chain = await deps.handling(home)
    level = level_of(handler)
    today = deps.clock()
    book = await deps.book()
    rule_set, rule = book.award(cmd.award_code, today)
    nominee = await deps.nominee(cmd.nominee.kind, cmd.nominee.member_id, cmd.nominee.unit_path, level)
    evidence = await _evidence(deps, handler.unit_id, cmd)
    async with deps.db.reader.connect() as conn:
        facts = (await deps.facts_of(conn, [(nominee.kind, nominee.id)]))[nominee.id]
    claim = Claim(cmd.year, cmd.campaign_id, frozenset(cmd.attested), evidence)
    eligibility = evaluate(rule, rule_set.version, facts, claim, today)
    proposal_id = time_ordered_id()
    achievement = Achievement(kind=cmd.achievement.kind, ref=cmd.achievement.ref, summary=cmd.achievement.summary)
    events = Proposal.file(
        proposal_id,
        unit_id=home.unit_id,
        level=level,
        nominee=nominee,
        rule_set=rule_set,
        rule=rule,
        year=cmd.year,
        campaign_id=cmd.campaign_id,
        achievement=achievement,
        summary=cmd.summary,
        evidence=evidence,
        attested=tuple(cmd.attested),
        eligibility=eligibility,
        justification=cmd.justification,
        actor=caller,
    )
    record = await deps.nominees.load(nominee_key(nominee.kind, nominee.id))
    ref = f"year:{cmd.year}:{rule.code}" if achievement.kind == "year" else f"{achievement.kind}:{achievement.ref}"
    key = level_key(rule.decider, authority_unit(chain, rule.authority))
    claimed = record.claim(nominee.id, proposal_id, ref, key, cmd.year, rule.category, rule.code)
    proposal = Proposal(proposal_id)
    also = [deps.nominees.append(record, claimed, ctx, at=home.path)]
    return await deps.proposals.save(proposal, events, ctx, at=home.path, respond=view, status_code=201, also=also)


async def _path(deps: Deps, p: Proposal) -> str:
    """Every event of a proposal goes out on its proposing unit's path as it is now (or, if it merged,
    the path of the unit it merged into)."""
    return (await deps.current(p.record.unit_id)).path


async def justify(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Justify) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.justify(ctx.caller, cmd.justification)
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view)


async def _load_all(deps: Deps, ids: list[str]) -> list[Proposal]:
    if len(set(ids)) != len(ids):
        raise InvalidInput("a proposal is listed twice", field="proposal_ids", code="award.duplicate_ids")
    return [await deps.proposals.get(pid, field="proposal_ids") for pid in ids]


async def _save_all(
    deps: Deps, ctx: CommandContext, decided: list[tuple[Proposal, list]], extra: list[StreamAppend] = ()
) -> dict[str, Any]:  # type: ignore[assignment]
    appends = [deps.proposals.append(p, events, ctx, at=await _path(deps, p)) for p, events in decided]
    response = {"proposals": [view(p) for p, _ in decided]}
    result = await commit(deps.store, ctx, [*appends, *extra], response)
    deps.on_commit()
    return result


async def publicise(deps: Deps, ctx: CommandContext, cmd: Publicise) -> dict[str, Any]:
    today = deps.clock()
    opens_on = cmd.opens_on or today
    if opens_on < today and not ctx.caller.is_admin:  # the operator may record a window that ran on paper
        raise InvalidInput(
            "a list is published from today on, never backdated",
            field="opens_on",
            code="award.publicity_backdated",
            params={"today": today.isoformat()},
        )
    book = await deps.book()
    decided = []
    for p in await _load_all(deps, cmd.proposal_ids):
        rule_set, rule = book.award(p.record.award_code, opens_on)
        decided.append((p, p.publicise(ctx.caller, rule, rule_set.version, book.calendar, opens_on)))
    return await _save_all(deps, ctx, decided)


async def object_to(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Object) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.object(ctx.caller, time_ordered_id(), cmd.text)
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view, status_code=201)


async def answer(
    deps: Deps, ctx: CommandContext, proposal_id: str, objection_id: str, cmd: AnswerObjection
) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.answer(ctx.caller, objection_id, cmd.answer, cmd.upheld)
    also = await _release_if_closed(deps, ctx, p, events, "objection upheld")
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view, also=also)


async def _release_if_closed(
    deps: Deps, ctx: CommandContext, p: Proposal, events: list, reason: str
) -> list[StreamAppend]:
    """A rejected or withdrawn proposal gives its achievement back (it may be proposed again)."""
    from contracts.awards import ProposalRejected, ProposalWithdrawn

    if not any(isinstance(e, ProposalRejected | ProposalWithdrawn) for e in events):
        return []
    nominee = p.record.nominee
    record = await deps.nominees.load(nominee_key(nominee.kind, nominee.id))
    released = record.release(nominee.id, p.id, reason)
    return [deps.nominees.append(record, released, ctx, at=await _path(deps, p))] if released else []


async def record_vote(deps: Deps, ctx: CommandContext, cmd: RecordVote) -> dict[str, Any]:
    m = cmd.meeting
    meeting = Meeting(
        minutes_number=m.minutes_number,
        held_on=m.held_on,
        place=m.place,
        chair=m.chair,
        secretary=m.secretary,
        members_total=m.members_total,
        members_present=m.members_present,
    )
    book = await deps.book()
    today = deps.clock()
    proposals = await _load_all(deps, [v.proposal_id for v in cmd.votes])
    decided, extra = [], []
    for index, (p, vote) in enumerate(zip(proposals, cmd.votes, strict=True)):
        rule_set, rule = book.award(p.record.award_code, m.held_on, field_name=f"votes.{index}.proposal_id")
        events = p.vote(
            ctx.caller, rule, rule_set.version, meeting, vote.votes_for, vote.votes_against, vote.votes_abstain, today
        )
        decided.append((p, events))
        extra += await _release_if_closed(deps, ctx, p, events, "not passed by the council")
    return await _save_all(deps, ctx, decided, extra)


async def escalate(deps: Deps, ctx: CommandContext, cmd: Escalate) -> dict[str, Any]:
    """Send a submission upward: every proposal's dossier complete, within the sending unit's quota."""
    submitted_on = cmd.submitted_on or deps.clock()
    book = await deps.book()
    proposals = await _load_all(deps, cmd.proposal_ids)
    decided = []
    by_quota: dict[tuple[str, int, str], list[Proposal]] = {}
    for p in proposals:
        sender = await deps.current(p.level.unit_id)
        chain = await deps.chain(sender)
        parent = level_of(chain[-2]) if len(chain) > 1 else NATIONAL
        _, rule = book.award(p.record.award_code, submitted_on)
        decided.append((p, p.escalate(ctx.caller, rule, parent, cmd.submission_number, submitted_on)))
        by_quota.setdefault((sender.unit_id, p.record.year, rule.code), []).append(p)
    extra = []
    for (unit_id, year, code), group in by_quota.items():
        ledger = await deps.quotas.load(quota_key(unit_id, year))
        _, rule = book.award(code, submitted_on)
        used = ledger.take(unit_id, year, rule, [p.id for p in group])
        if used:
            extra.append(deps.quotas.append(ledger, used, ctx, at=(await deps.unit(unit_id)).path))
    return await _save_all(deps, ctx, decided, extra)


async def _sender_chain(deps: Deps, p: Proposal) -> list:
    """The sending level's ancestors and itself today (a request follows its unit when the unit moves)."""
    if p.sent_from is None:
        return []
    return await deps.chain(await deps.current(p.sent_from.unit_id))


async def accept(deps: Deps, ctx: CommandContext, proposal_id: str) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.accept(ctx.caller, await _sender_chain(deps, p))
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view)


async def return_down(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Return) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.return_down(ctx.caller, cmd.reasons, await _sender_chain(deps, p))
    returned = events[0]
    ledger = await deps.quotas.load(quota_key(returned.quota_unit_id, p.record.year))
    freed = ledger.give_back(returned.quota_unit_id, p.record.year, p.record.award_code, p.id)
    also = [deps.quotas.append(ledger, freed, ctx, at=returned.to_level.path)] if freed else []
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view, also=also)


class StrandedProposals:
    """The awards service's upward requests for ``shared.upward``: proposals waiting (or handled) at a level
    above their unit. One re-addressed to nobody goes back to its sender, whose quota place is freed."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def waiting(self) -> list[Waiting]:
        async with self.deps.db.reader.connect() as conn:
            return [Waiting(pid, unit_id, at) for pid, unit_id, at in await waiting_upward(conn)]

    async def readdress(self, request: Waiting, to: UnitRef | None, reason: str) -> None:
        deps, ctx = self.deps, _PLATFORM
        p = await deps.proposals.get(request.request_id)
        events = p.readdress(ctx.caller, request.waiting_at, level_of(to) if to else None, reason)
        also = []
        moved = events[0]
        if moved.to_level is None:  # type: ignore[attr-defined]
            sender = moved.sender  # type: ignore[attr-defined]
            ledger = await deps.quotas.load(quota_key(sender.unit_id, p.record.year))
            freed = ledger.give_back(sender.unit_id, p.record.year, p.record.award_code, p.id)
            also = (
                [deps.quotas.append(ledger, freed, ctx, at=(await deps.current(sender.unit_id)).path)] if freed else []
            )
        await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond={}, also=also)


async def withdraw(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Withdraw) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    events = p.withdraw(ctx.caller, cmd.reason)
    also = await _release_if_closed(deps, ctx, p, events, "withdrawn")
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view, also=also)


async def decide(deps: Deps, ctx: CommandContext, cmd: Decide) -> dict[str, Any]:
    """One decision (number, date) for a list of proposals: each conferred with its amount."""
    book = await deps.book()
    proposals = await _load_all(deps, cmd.proposal_ids)
    decided = []
    for index, p in enumerate(proposals):
        rule_set, rule = book.award(p.record.award_code, cmd.decided_on, field_name=f"proposal_ids.{index}")
        level = p.deciding_level(rule)
        decision = Decision(
            number=cmd.decision_number,
            decided_on=cmd.decided_on,
            level=level,
            deciding_body=cmd.deciding_body or rule.deciding_body or _body(level.kind, level.name),
            decider=rule.decider,
            signer_name=cmd.signer_name,
            signer_title=cmd.signer_title,
        )
        amount, base = book.amount(rule, cmd.decided_on)
        events = p.decide(ctx.caller, rule, rule_set.version, time_ordered_id(), decision, amount, base)
        decided.append((p, events))
    return await _save_all(deps, ctx, decided)


def _body(kind: str, name: str) -> str:
    return f"{'Ban Chấp hành' if kind == 'grassroots' else 'Ban Thường vụ'} {name}"


async def reject(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Reject) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    _, rule = (await deps.book()).award(p.record.award_code, deps.clock())
    events = p.reject(ctx.caller, rule, cmd.reasons)
    also = await _release_if_closed(deps, ctx, p, events, "rejected")
    return await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view, also=also)


async def revoke(deps: Deps, ctx: CommandContext, proposal_id: str, cmd: Revoke) -> dict[str, Any]:
    p = await deps.proposals.get(proposal_id)
    conferred = p.conferred
    level = conferred.decision.level if conferred else level_of(await deps.unit(p.level.unit_id))
    decision = Decision(
        number=cmd.decision_number,
        decided_on=cmd.decided_on,
        level=level,
        deciding_body=conferred.decision.deciding_body if conferred else "",
        decider=conferred.decision.decider if conferred else "union_body",
        signer_name=cmd.signer_name,
        signer_title=cmd.signer_title,
    )
    events = p.revoke(ctx.caller, cmd.reason, cmd.explanation, decision)
    result = await deps.proposals.save(p, events, ctx, at=await _path(deps, p), respond=view)
    deps.on_commit()
    return result
