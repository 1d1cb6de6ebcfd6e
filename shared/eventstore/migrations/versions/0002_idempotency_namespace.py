"""The idempotency key's namespace (who sent it to which route) is no longer called "scope": in thidua a
scope is only ever a recognition scope.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain SQL: SQLite (≥ 3.25) and PostgreSQL both rename a column in place, keeping the primary key.
    op.execute("ALTER TABLE idempotency_keys RENAME COLUMN scope TO namespace")


def downgrade() -> None:
    op.execute("ALTER TABLE idempotency_keys RENAME COLUMN namespace TO scope")
