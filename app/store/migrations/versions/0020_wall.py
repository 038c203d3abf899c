"""The video wall's own read-only role (PostgreSQL): ``gridhall_wall``, SELECT on what the wall shows, nothing else.

What the role may do, and why it is not written out here, is in ``app/store/wall_role.py``.
This revision runs ``sync_wall_role`` on a store built or upgraded through it. Stores that
passed 0020 while it was an empty placeholder get the same thing from ``gridhall db upgrade`` and
``db init``, which run the idempotent sync on every PostGIS store (``app.store.commands``).
Alembic never runs a revision twice. Later revisions (0021+) neither grant to nor revoke from the
wall's group, so the sync can run before them or after them.

The group and the rewritten account functions need a superuser. Run by anyone else while
something is missing, the revision warns and changes nothing. The next ``gridhall db upgrade``
by a superuser completes it.

SpatiaLite: nothing here. The wall opens the file read-only (``mode=ro``, ``PRAGMA query_only``;
``app.store.wall.open_wall_store``).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from alembic import op

from app.store.wall_role import drop_wall_role, sync_wall_role

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sync_wall_role(op.get_bind())


def downgrade() -> None:
    drop_wall_role(op.get_bind())
