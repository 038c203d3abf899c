"""Placeholder for the administrator's rules (users, jurisdictions, owner routing, privileges) (a helper of this session fills it in).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
