"""Field lengths enforced identically on both backends.

PostgreSQL refuses a value longer than a ``VARCHAR(n)`` column ("value too long for type
character varying(n)"); SQLite ignores declared lengths and stored a 100 KB address in
``VARCHAR(200)``. On SQLite this migration adds, per table, a BEFORE INSERT and a BEFORE
UPDATE OF trigger refusing a value longer than the column's declared length, in characters
like PostgreSQL (``length()`` counts characters of text), with a message naming the table,
the column and the limit: ``value too long for cases.address: at most 200 characters``.
Nothing changes on PostgreSQL. The columns are the text columns a person or a client can
fill: cases, users, attachments and case_claims (frozen here: a later length change of a
column needs its own migration; tests/domain/test_text.py checks them against the models).

The application refuses oversized input before it reaches the database (app/domain/text.py);
these triggers are the backstop for every other writer. The bulk loader drops a big table's
triggers during a load and restores them afterwards (app/store/bulk.py).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

#: table → ((column, declared length), …), as in app/store/models.py at this revision.
LENGTHS: dict[str, tuple[tuple[str, int], ...]] = {
    "cases": (("number", 32), ("kind", 16), ("level", 16), ("state", 24), ("source", 16), ("address", 200),
              ("reporter_name", 64), ("reporter_phone", 32), ("stage", 16), ("timer_basis", 16)),
    "users": (("username", 64), ("display_name", 64), ("role", 16), ("password_hash", 255), ("phone", 32)),
    "attachments": (("kind", 16), ("filename", 200), ("mime", 64), ("sha256", 64)),
    "case_claims": (("holder", 64), ("role", 16), ("workstation", 64), ("action", 24)),
}


def trigger_name(table: str, verb: str) -> str:
    return f"{table}_length_{verb}"


def _sqlite_triggers(table: str, columns: tuple[tuple[str, int], ...]) -> list[str]:
    when = " OR ".join(f"length(NEW.{c}) > {n}" for c, n in columns)
    body = "\n".join(f"  SELECT RAISE(ABORT, 'value too long for {table}.{c}: at most {n} characters') "
                     f"WHERE length(NEW.{c}) > {n};" for c, n in columns)
    names = ", ".join(c for c, _ in columns)
    return [f"CREATE TRIGGER {trigger_name(table, 'insert')} BEFORE INSERT ON {table}\n"
            f"WHEN {when}\nBEGIN\n{body}\nEND",
            f"CREATE TRIGGER {trigger_name(table, 'update')} BEFORE UPDATE OF {names} ON {table}\n"
            f"WHEN {when}\nBEGIN\n{body}\nEND"]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return  # PostgreSQL enforces VARCHAR(n) itself
    for table, columns in LENGTHS.items():
        for sql in _sqlite_triggers(table, columns):
            op.execute(sql)


def downgrade() -> None:
    if not _sqlite():
        return
    for table in LENGTHS:
        for verb in ("insert", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, verb)}")
