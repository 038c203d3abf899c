"""The working calendar, the limit table and deadlines in SQL (PostgreSQL): the database can compute a case's timer.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
