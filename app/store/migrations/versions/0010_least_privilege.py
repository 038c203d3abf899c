"""Least privilege throughout (PostgreSQL): fixed search_path, no PUBLIC EXECUTE, trigger guards, column grants, row-level security on every table with case data.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
