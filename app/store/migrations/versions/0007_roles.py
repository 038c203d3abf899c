"""Roles without borrowed power (PostgreSQL): a NOLOGIN schema owner, user management through guarded functions, no argon2 copy of passwords.

Placeholder: filled in by its issue-8/9 work (empty upgrade until then).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
