"""The monthly bulletin's build history (issue 13, item 3).

- ``bulletins(id, kind 'monthly'|'department', month 'YYYY-MM', department, built_at, built_by,
  file_name, sha256, chain_no, head_hash, pages, lang)``: one row per bulletin PDF built by
  ``gridhall report`` — what was built when, by whom, the file's SHA-256 and the audit chain's
  head at the end of the period it printed. Rows are only added.
- PostgreSQL: everyone reads; the leader, analyst and administrator groups insert (the scheduled
  build runs as an analyst account or the owner).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from app.store.security import GROUP_ROLES, group_role

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("department", sa.String(64), nullable=True),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.Column("built_by", sa.String(64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("chain_no", sa.BigInteger(), nullable=True),
        sa.Column("head_hash", sa.String(64), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.CheckConstraint("kind IN ('monthly', 'department')", name="ck_bulletins_kind"),
    )
    op.create_index("ix_bulletins_month", "bulletins", ["month"])
    if op.get_bind().dialect.name == "postgresql":
        everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
        op.execute(f"GRANT SELECT ON bulletins TO {everyone}")
        writers = ", ".join(group_role(r) for r in ("leader", "analyst", "admin") if _known(r))
        if writers:
            op.execute(f"GRANT INSERT ON bulletins TO {writers}")
            op.execute(f"GRANT USAGE ON SEQUENCE bulletins_id_seq TO {writers}")


def _known(role: str) -> bool:
    try:
        group_role(role)
    except Exception:  # noqa: BLE001 - a role this schema has no group for
        return False
    return True


def downgrade() -> None:
    op.drop_index("ix_bulletins_month", table_name="bulletins")
    op.drop_table("bulletins")
