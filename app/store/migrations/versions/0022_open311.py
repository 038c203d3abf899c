"""Placeholder for the Open311 server (keys, tokens, its own role) (a helper of this session fills it in).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07
"""

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
