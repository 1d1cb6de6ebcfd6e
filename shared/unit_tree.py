"""The table shape of a copy of the directory's unit tree (a service's copy, a level's units)."""

from sqlalchemy import Column, MetaData, String, Table


def unit_table(name: str, metadata: MetaData) -> Table:
    return Table(
        name,
        metadata,
        Column("unit_id", String(36), primary_key=True),
        Column("code", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("kind", String(40), nullable=False),
        Column("parent_id", String(36), nullable=True, index=True),
        Column("path", String(400), nullable=False, index=True),
        Column("status", String(10), nullable=False),
        Column("merged_into", String(36), nullable=True),
    )
