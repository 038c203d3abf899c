"""Case state derived from events in the database (PostgreSQL): the appended event sets every loop column of its case.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
