"""Exchange with an upper platform over Open311 and replies to the public (issue 16, items 4–5).

- ``exchange_links(id, endpoint, remote_id, case_id, origin, state, pushed_event_id, remote_status,
  created_at, updated_at)``: one hall case ↔ one request of the platform at ``endpoint``
  (unique both ways). ``origin`` 'remote' (pulled in) or 'hall' (sent up by push); ``state``
  'claimed' (written before the case or the remote request is made), 'linked' (both exist),
  'uncertain' (a send whose answer was lost: not sent again by itself). ``pushed_event_id``: the
  newest case event whose status went out.
- ``exchange_cursors(endpoint, direction, mark, updated_at)``: the high-water mark of a direction,
  moved after each item (pull: the newest ``requested_datetime`` taken; push: the newest case event
  id handled), so a run that fails resumes where it stopped.
- ``exchange_log(id, run_id, at, endpoint, direction, remote_id, case_id, outcome, detail)``: what
  every run did to every item (rows only added).
- ``public_replies(id, case_id, event_id UNIQUE, after, channel, text, due_at, done_at, done_by,
  note)``: one row per reply delivered to a reporter (两次回复), keyed by the 立案/结案 event it
  answers; a reply is due while its event has no row (app.services.replies).

PostgreSQL: row-level security on every table with a ``case_id`` (staff read; a department
login reads none of them); the exchange runs as an acceptor login, so the acceptor group writes
the exchange tables; acceptors and shift leaders record deliveries. Rows of ``exchange_log`` and
``public_replies`` are never updated or deleted by a login.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from app.domain.definitions import Role
from app.store.security import GROUP_ROLES, group_role

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

TABLES = ("exchange_links", "exchange_cursors", "exchange_log", "public_replies")
#: Tables with a case_id: row-level security like the case tables (tests/store/test_privileges.py).
CASE_DATA = ("exchange_links", "exchange_log", "public_replies")


def upgrade() -> None:
    op.create_table(
        "exchange_links",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("remote_id", sa.String(64), nullable=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pushed_event_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("remote_status", sa.String(32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("endpoint", "remote_id", name="uq_exchange_links_remote"),
        sa.UniqueConstraint("endpoint", "case_id", name="uq_exchange_links_case"),
        sa.CheckConstraint("origin IN ('remote', 'hall')", name="ck_exchange_links_origin"),
        sa.CheckConstraint("state IN ('claimed', 'linked', 'uncertain')", name="ck_exchange_links_state"),
    )
    op.create_index("ix_exchange_links_case", "exchange_links", ["case_id"])
    op.create_table(
        "exchange_cursors",
        sa.Column("endpoint", sa.String(200), primary_key=True),
        sa.Column("direction", sa.String(8), primary_key=True),
        sa.Column("mark", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("direction IN ('pull', 'push')", name="ck_exchange_cursors_direction"),
    )
    op.create_table(
        "exchange_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("remote_id", sa.String(64), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_exchange_log_run", "exchange_log", ["run_id"])
    op.create_index("ix_exchange_log_at", "exchange_log", ["at"])
    op.create_table(
        "public_replies",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("case_events.id"), nullable=False),
        sa.Column("after", sa.String(24), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=False),
        sa.Column("done_by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("event_id", name="uq_public_replies_event"),
    )
    op.create_index("ix_public_replies_case", "public_replies", ["case_id"])
    if op.get_bind().dialect.name == "postgresql":
        _privileges()


def _privileges() -> None:
    everyone = ", ".join(group_role(r) for r in GROUP_ROLES)
    staff = ", ".join(group_role(r) for r in GROUP_ROLES if r is not Role.DEPARTMENT)
    acceptor = group_role(Role.ACCEPTOR)
    desk = ", ".join(group_role(r) for r in (Role.ACCEPTOR, Role.SHIFT_LEADER))
    op.execute(f"GRANT SELECT ON exchange_cursors TO {everyone}")
    for table in CASE_DATA:  # a department login is granted none of these
        op.execute(f"GRANT SELECT ON {table} TO {staff}")
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_read ON {table} FOR SELECT TO {staff} USING (true)")
    op.execute(f"GRANT INSERT, UPDATE ON exchange_cursors TO {acceptor}")
    op.execute(f"GRANT INSERT, UPDATE (case_id, state, remote_id, pushed_event_id, remote_status, updated_at), "
               f"DELETE ON exchange_links TO {acceptor}")
    op.execute(f"GRANT USAGE ON SEQUENCE exchange_links_id_seq TO {acceptor}")
    op.execute(f"CREATE POLICY exchange_links_write ON exchange_links FOR ALL TO {acceptor} "
               "USING (true) WITH CHECK (true)")
    op.execute(f"GRANT INSERT ON exchange_log TO {acceptor}")
    op.execute(f"GRANT USAGE ON SEQUENCE exchange_log_id_seq TO {acceptor}")
    op.execute(f"CREATE POLICY exchange_log_insert ON exchange_log FOR INSERT TO {acceptor} WITH CHECK (true)")
    op.execute(f"GRANT INSERT ON public_replies TO {desk}")
    op.execute(f"GRANT USAGE ON SEQUENCE public_replies_id_seq TO {desk}")
    op.execute(f"CREATE POLICY public_replies_insert ON public_replies FOR INSERT TO {desk} "
               "WITH CHECK (done_by = (SELECT gridhall_username(session_user)))")


def downgrade() -> None:
    for index, table in (("ix_public_replies_case", "public_replies"), ("ix_exchange_log_at", "exchange_log"),
                         ("ix_exchange_log_run", "exchange_log"), ("ix_exchange_links_case", "exchange_links")):
        op.drop_index(index, table_name=table)
    for table in reversed(TABLES):
        op.drop_table(table)
