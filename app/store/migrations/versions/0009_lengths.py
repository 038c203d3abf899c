"""Field lengths enforced identically on both backends.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
