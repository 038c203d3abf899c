"""Placeholder for the wall's revision (another helper of this session fills it in).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
