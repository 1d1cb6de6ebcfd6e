"""The tables of the inspections projection: the facts it copies from the pledges, registry and directory
events, what its own events record per unit, and the radar's signals.

One set of tables serves two places: each level's database (the level host, with the runner's
``level_units``) and the service's own database at level ``*`` (beside its copy of the directory's
units), where the handlers read the facts to pre-fill checklists and judge self-assessments. Every row
names the unit it belongs to, so a unit that leaves a level takes its rows with it.
"""

from sqlalchemy import JSON, Boolean, Column, Date, DateTime, Float, Index, Integer, MetaData, String, Table

from services.inspections.domain.rulesets import SIGNALS

metadata = MetaData()

# -- facts from the directory ------------------------------------------------------------------------

unit_dates = Table(
    "insp_unit_dates",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("operating_since", Date, nullable=True),
    Column("restructured_on", Date, nullable=True),  # last merger it absorbed a unit in
)

# Units merged into another (the directory's UnitMerged): whose facts count for whom, found by index.
merged = Table(
    "insp_merged",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("into_unit_id", String(36), nullable=False, index=True),
)

# -- facts from the pledges service ------------------------------------------------------------------

campaigns = Table(
    "insp_campaigns",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("launcher_path", String(400), nullable=False),
    Column("title", String(200), nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("indicators", JSON, nullable=False),
    Column("report_deadlines", JSON, nullable=False),
    Column("status", String(10), nullable=False),
)
targets = Table(
    "insp_targets",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("target", Float, nullable=False),
    Index("insp_targets_unit", "unit_id"),
)
commitments = Table(
    "insp_commitments",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("target", Float, nullable=False),
    Column("deadline", Date, nullable=False),
    Index("insp_commitments_unit", "unit_id"),
)
# What counted indicators count: registry and directory events per unit, day and source. ``campaign_key``
# is the campaign a registration named ("" for none: it counts for every campaign that reaches the unit).
counts = Table(
    "insp_counts",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("source", String(40), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("campaign_key", String(36), primary_key=True),
    Column("n", Integer, nullable=False),
)
reported = Table(
    "insp_reported",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("value", Float, nullable=False),
    Column("verifiable", Boolean, nullable=False),  # any report of it carried a link or a file
    Column("reported_on", Date, nullable=False),
    Column("evidence", JSON, nullable=False),  # the latest report's evidence, for the drill-down
    Index("insp_reported_unit", "unit_id"),
)
# Every reported value by its report's day (the last entered of a day kept), so a checklist reads the value
# as last reported on or before its window's end; ``insp_reported`` keeps the latest for the radar.
reported_history = Table(
    "insp_reported_history",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("reported_on", Date, primary_key=True),
    Column("value", Float, nullable=False),
    Index("insp_reported_history_unit", "unit_id"),
)

# -- facts from the registry -------------------------------------------------------------------------

initiatives = Table(
    "insp_initiatives",
    metadata,
    Column("initiative_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("title", String(500), nullable=False),
    Column("campaign_id", String(36), nullable=True),
    Column("status", String(20), nullable=False),
    Column("registered_on", Date, nullable=True),
    Column("applied_on", Date, nullable=True),
    Column("recognised", Boolean, nullable=False),
)
# The radar's "never applied" scan reads only initiatives still without an application.
Index(
    "insp_initiatives_unapplied",
    initiatives.c.registered_on,
    sqlite_where=initiatives.c.applied_on.is_(None),
    postgresql_where=initiatives.c.applied_on.is_(None),
)

# -- what the inspections service's own events record ------------------------------------------------

rounds = Table(
    "insp_rounds",
    metadata,
    Column("round_id", String(36), primary_key=True),
    Column("level_unit_id", String(36), nullable=False),
    Column("level_path", String(400), nullable=False),
    Column("year", Integer, nullable=False),
    Column("period", String(10), nullable=False),
    Column("title", String(200), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("unit_count", Integer, nullable=False),
    Column("status", String(10), nullable=False),
)
checklists = Table(
    "insp_checklists",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("round_id", String(36), nullable=False, index=True),
    Column("due_on", Date, nullable=False),
    Column("status", String(10), nullable=False),  # issued, submitted, withdrawn
    Column("submitted_at", DateTime(timezone=True), nullable=True),
    Column("days_late", Integer, nullable=True),  # at submission
    Column("overdue_detected", Date, nullable=True),
    Column("contradictions", Integer, nullable=False),
    Column("amendments", Integer, nullable=False),
    Index("insp_checklists_open", "status", "due_on"),
)
inspections = Table(
    "insp_inspections",
    metadata,
    Column("inspection_id", String(36), primary_key=True),
    Column("by_unit_id", String(36), nullable=False),
    Column("by_path", String(400), nullable=False),
    Column("content", String(30), nullable=False),
    Column("purpose", String(10_000), nullable=False),
    Column("status", String(12), nullable=False),
    Column("period_from", Date, nullable=False),
    Column("period_to", Date, nullable=False),
    Column("selection", JSON, nullable=False),
    Column("notice", JSON, nullable=True),
    Column("decision", JSON, nullable=True),
    Column("conclusion", JSON, nullable=True),
)
inspected = Table(
    "insp_inspected",
    metadata,
    Column("inspection_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("reasons", JSON, nullable=False),
    Index("insp_inspected_unit", "unit_id"),
)
findings = Table(
    "insp_findings",
    metadata,
    Column("finding_id", String(36), primary_key=True),
    Column("inspection_id", String(36), nullable=False, index=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("severity", String(10), nullable=False),
    Column("description", String(10_000), nullable=False),
    Column("recommendation", String(10_000), nullable=False),
    Column("recorded_on", Date, nullable=False),
)
actions = Table(
    "insp_actions",
    metadata,
    Column("action_id", String(36), primary_key=True),
    Column("inspection_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("finding_id", String(36), nullable=False),
    Column("description", String(10_000), nullable=False),
    Column("owner", String(200), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("status", String(14), nullable=False),  # open, fix_reported, verified
    Column("assigned_on", Date, nullable=False),
    Column("fix_reported_on", Date, nullable=True),
    Column("verified_on", Date, nullable=True),
    Column("reopened", Integer, nullable=False),
    Index("insp_actions_open", "status", "due_on"),
)
grades = Table(
    "insp_grades",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("union_type", String(20), nullable=False),
    Column("self_grade", String(20), nullable=False),
    Column("self_points", Float, nullable=False),
    Column("grade", String(20), nullable=True),  # once confirmed
    Column("points", Float, nullable=True),
    Column("changed", Boolean, nullable=False),
    Column("reason", String(10_000), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("rule_set", String(40), nullable=False),
    Column("by_path", String(400), nullable=True),
)

# -- the radar ---------------------------------------------------------------------------------------

# A sign fixed by an event: judged when the event arrives (by the rules then in force, recorded here),
# active from ``active_from``. Signs that depend on the day read (initiatives never applied, actions
# overdue) are judged at read time from ``initiatives`` and ``actions`` instead.
signals = Table(
    "insp_signals",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("kind", String(30), primary_key=True),
    Column("subject", String(200), primary_key=True),  # what it is about: an initiative, a round, a report
    Column("active_from", Date, nullable=False),
    Column("detail", JSON, nullable=False),  # the evidence behind it, for the drill-down
    Column("rule_set", String(40), nullable=False),
    Index("insp_signals_active", "active_from"),
)
# The awards service's signal: each individual award conferred (contracts.awards.AwardConferred), by the
# level that decided it, to a direct worker or to an official; a revoked award is deleted.
awarded = Table(
    "insp_awarded",
    metadata,
    Column("award_id", String(64), primary_key=True),
    Column("unit_id", String(36), nullable=False, index=True),  # the nominee's unit
    Column("by_unit_id", String(36), nullable=False),  # the deciding level
    Column("year", Integer, nullable=False),
    Column("official", Boolean, nullable=False),
    Column("nominee", String(200), nullable=False),
    Index("insp_awarded_by", "by_unit_id", "year"),
)

# Units whose signs count for another unit (the directory's sub-units for their grassroots union, merged
# units for the unit they merged into), as the directory's events said: who a score row adds up.
owners = Table(
    "insp_owners",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("owner_id", String(36), nullable=False, index=True),
)
# The radar's score rows (``adapters/risk.py``): each accountable unit's count of every sign (a column per
# sign, its own and those of the units that count for it) and its risk score, on the days from
# ``from_day`` until ``until_day`` — one row per day they change (a sign's day, N months after a
# registration, the day after an action's due date, a rule set's effective date), rebuilt when the unit's
# facts change. A read for a day takes one row per unit, ordered and paged in SQL.
risk = Table(
    "insp_risk",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("from_day", Date, primary_key=True),
    Column("until_day", Date, nullable=False),
    Column("score", Float, nullable=False),  # weighed and capped by the rules in force from from_day
    *(Column(kind, Integer, nullable=False) for kind in SIGNALS),
    # The rows of a day, with what a level's totals and its page's cut-off read (no table lookups).
    Index("insp_risk_days", "until_day", "from_day", "score", *SIGNALS),
    Index("insp_risk_score", "score"),  # a page's rows, riskiest first, from the cut-off down
)
# Work put off while the level catches up (``level.InspectionsProjection.flush``), done once it has:
# units whose score rows are out of date, (unit, campaign) pairs whose registrations are to be judged
# for bunching, and (campaign, unit) pairs whose reported values are to be judged.
risk_pending = Table(
    "insp_risk_pending",
    metadata,
    Column("unit_id", String(36), primary_key=True),
)
bunching_pending = Table(
    "insp_bunching_pending",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("campaign_id", String(36), primary_key=True),
)
reported_pending = Table(  # (campaign, unit) whose reports, targets or commitments are to be judged
    "insp_reported_pending",
    metadata,
    Column("campaign_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
)
# What the score rows were built by: the rules that move a time-dependent sign's steps (a deployment with
# other rules rebuilds every row at its first batch).
risk_rules = Table(
    "insp_risk_rules",
    metadata,
    Column("name", String(20), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
)

UNIT_TABLES = (
    unit_dates,
    merged,
    targets,
    commitments,
    counts,
    reported,
    reported_history,
    initiatives,
    checklists,
    inspected,
    findings,
    actions,
    grades,
    signals,
    awarded,
    owners,
    risk,
)
