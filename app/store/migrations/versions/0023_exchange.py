"""Placeholder for exchange with an upper platform and replies to the public (a helper of this session fills it in).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
