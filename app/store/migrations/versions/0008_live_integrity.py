"""The live channel and locks (PostgreSQL): notifications carry no case data, and no login can freeze the hall.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
