"""Tables of the registry's level projection (one database per level; the level's units are the
runner's ``level_units``)."""

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

metadata = MetaData()

book = Table(
    "registry_level_initiatives",
    metadata,
    # A stable integer key (SQLite's rowid): every index entry carries it, so the search index's matches
    # (integers) are checked against the book's ordered index without reading a row or a string key.
    Column("doc", Integer, primary_key=True, autoincrement=True),
    Column("initiative_id", String(36), nullable=False, unique=True),
    Column("unit_id", String(36), nullable=False, index=True),
    Column("unit_path", String(400), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("search", Text, nullable=False),  # folded: search works with and without diacritics
    Column("pillar", String(20), nullable=True),
    Column("field", String(500), nullable=True),
    Column("campaign_id", String(64), nullable=True),
    Column("year", Integer, nullable=True),
    Column("status", String(20), nullable=False),
    Column("in_book", Integer, nullable=False, default=0),  # 1 once recognised: the book's own index
    Column("scope", String(20), nullable=True),
    Column("authors", JSON, nullable=False),
    Column("estimated_benefit_vnd", BigInteger, nullable=False, default=0),
    Column("benefit_vnd", BigInteger, nullable=False, default=0),
    Column("scores", Integer, nullable=False, default=0),
    Column("applications", Integer, nullable=False, default=0),
    Column("recognised_by_path", String(400), nullable=True),
    Column("decision_number", String(100), nullable=True),
    Column("decision_date", Date, nullable=True),
    Column("registered_at", DateTime(timezone=True), nullable=True),
    Column("recognised_at", DateTime(timezone=True), nullable=True),
    Column("pending_at_path", String(400), nullable=True, index=True),
    Column("pending_since", DateTime(timezone=True), nullable=True),
    Column("decisions", JSON, nullable=False),  # every decision, newest last: what flows back down
    Column("possible_duplicates", JSON, nullable=False),
)
# The book pages newest first along these; counts and searches read only the covering indexes.
Index("ix_registry_level_book_order", book.c.in_book, book.c.recognised_at, book.c.initiative_id)
Index("ix_registry_level_status_order", book.c.status, book.c.recognised_at)
Index(
    "ix_registry_level_book_facets",
    book.c.in_book, book.c.year, book.c.pillar, book.c.scope, book.c.unit_path, book.c.status, book.c.initiative_id,
)  # fmt: skip

# Folded words of each initiative's searchable text, on SQLite: an FTS5 index whose rowid is the book's
# ``doc`` (word postings merged in C; a search's matches are integers). Only the distinct words are
# indexed (detail=none: presence, not positions), so a match means what a ``terms`` lookup means.
SEARCH_FTS = "registry_level_search"
event.listen(
    metadata,
    "after_create",
    DDL(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_FTS} USING fts5(words, "
        "tokenize='unicode61 remove_diacritics 0', detail=none)"
    ).execute_if(dialect="sqlite"),
)
event.listen(metadata, "before_drop", DDL(f"DROP TABLE IF EXISTS {SEARCH_FTS}").execute_if(dialect="sqlite"))

# The same words as rows, on PostgreSQL: a search intersects postings (primary-key ranges) instead of
# scanning.
terms = Table(
    "registry_level_terms",
    metadata,
    Column("term", String(60), primary_key=True),
    Column("initiative_id", String(36), primary_key=True),
)

authors = Table(
    "registry_level_authors",
    metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("member_id", String(64), nullable=True, index=True),
    Column("name", String(200), nullable=False),
    Column("share", Integer, nullable=False),
)

replications = Table(
    "registry_level_replications",
    metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("by_unit_path", String(400), primary_key=True),
    Column("target_paths", JSON, nullable=False),
    Column("origin_unit_path", String(400), nullable=False),
    Column("title", String(200), nullable=False),
    Column("pillar", String(20), nullable=False),
    Column("scope", String(20), nullable=True),
    Column("benefit_vnd", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
    Column("ordered_at", DateTime(timezone=True), nullable=False),
)

replication_reports = Table(
    "registry_level_replication_reports",
    metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("unit_id", String(36), primary_key=True),
    Column("unit_path", String(400), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("reported_at", DateTime(timezone=True), nullable=False),
)
