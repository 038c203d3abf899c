"""Time limits by scope: ``kind`` and ``major_code`` on time_limits, a unique key over the scope.

Rules exist per category, per major (2 digits), per kind and globally (app/domain/limits.py);
the old key (category_id, level, stage) could not hold them. SQLite cannot alter constraints,
so the table is rebuilt in Alembic batch mode (``copy_from``: the 0001 constraint is unnamed).
PostgreSQL alters in place, keeping the 0002 grants (SELECT for every group, writes for admin);
they are granted again so a database whose grants were lost is repaired.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

from app.store.security import GROUP_ROLES, group_role

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

NEW_KEY = "uq_time_limits_scope"
OLD_KEY_PG = "time_limits_category_id_level_stage_key"  # PostgreSQL's name for the 0001 constraint


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _old_table(*, with_old_key: bool) -> sa.Table:
    """time_limits as 0001 created it (the batch copy source on SQLite)."""
    extra = [sa.UniqueConstraint("category_id", "level", "stage")] if with_old_key else []
    return sa.Table(
        "time_limits", sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("category_id", sa.Integer(), sa.ForeignKey("categories.id"), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("basis", sa.String(length=16), nullable=False),
        sa.Column("condition", sa.Text(), nullable=True),
        *extra,
    )


SCOPE_INDEX = "uq_time_limits_scope_coalesced"


def upgrade() -> None:
    if _postgres():
        op.drop_constraint(OLD_KEY_PG, "time_limits", type_="unique")
        op.add_column("time_limits", sa.Column("kind", sa.String(length=16), nullable=True))
        op.add_column("time_limits", sa.Column("major_code", sa.String(length=2), nullable=True))
        op.alter_column("time_limits", "category_id", existing_type=sa.Integer(), nullable=True)
        op.create_unique_constraint(NEW_KEY, "time_limits", ["kind", "category_id", "major_code", "level", "stage"])
        everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
        op.execute(f"GRANT SELECT ON time_limits TO {everyone}")
        op.execute(f"GRANT INSERT, UPDATE, DELETE ON time_limits TO {group_role('admin')}")
        op.execute(f"GRANT USAGE, SELECT ON SEQUENCE time_limits_id_seq TO {group_role('admin')}")
        _create_scope_index()
        return
    # copy_from without the old key: the rebuilt table simply does not get it.
    with op.batch_alter_table("time_limits", copy_from=_old_table(with_old_key=False), recreate="always") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("major_code", sa.String(length=2), nullable=True))
        batch.create_unique_constraint(NEW_KEY, ["kind", "category_id", "major_code", "level", "stage"])
    _create_scope_index()


def _create_scope_index() -> None:
    # SQL treats NULLs as distinct, so the key above lets two identical global, kind or major
    # rules coexist; this index on coalesced columns (both backends support it) refuses them.
    op.execute(f"CREATE UNIQUE INDEX {SCOPE_INDEX} ON time_limits "
               "(coalesce(kind, ''), coalesce(category_id, 0), coalesce(major_code, ''), level, stage)")


def downgrade() -> None:
    op.execute(f"DROP INDEX IF EXISTS {SCOPE_INDEX}")
    # Rows that only the new scope can tell apart (major and kind rules) would collide: drop them.
    op.execute("DELETE FROM time_limits WHERE category_id IS NULL AND (kind IS NOT NULL OR major_code IS NOT NULL)")
    if _postgres():
        op.drop_constraint(NEW_KEY, "time_limits", type_="unique")
        op.drop_column("time_limits", "major_code")
        op.drop_column("time_limits", "kind")
        op.create_unique_constraint(OLD_KEY_PG, "time_limits", ["category_id", "level", "stage"])
        return
    with op.batch_alter_table("time_limits", recreate="always") as batch:
        batch.drop_constraint(NEW_KEY, type_="unique")
        batch.drop_column("major_code")
        batch.drop_column("kind")
        batch.create_unique_constraint(OLD_KEY_PG, ["category_id", "level", "stage"])
