"""A unit's subtree as a condition on a path column, written so that the path index serves it.

Paths are dot-separated unit codes of ``[a-z0-9-]`` (``hn.ntl.fecon``), so every descendant of ``hn.ntl``
has a path in the range ``"hn.ntl." < p < "hn.ntl/"`` ("/" is the character after "."). A ``LIKE
'hn.ntl.%'`` would say the same but, on PostgreSQL without a pattern operator class and on SQLite with
its case-insensitive LIKE, scans every row.
"""

from typing import Any

from sqlalchemy import ColumnElement, and_, or_


def below(column: Any, path: str) -> ColumnElement[bool]:
    """Paths strictly under ``path``."""
    return and_(column > path + ".", column < path + "/")


def at_or_below(column: Any, path: str) -> ColumnElement[bool]:
    """``path`` itself and every path under it."""
    return or_(column == path, below(column, path))
