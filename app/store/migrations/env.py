"""Alembic environment: runs on the connection that ``app.store.commands`` hands over.

The connection comes from ``open_store`` so that SpatiaLite is loaded and the pragmas
are set. Run from the command line (``alembic -c app/store/alembic.ini``) it opens the
store named by ``sqlalchemy.url`` (or ``-x db=...``) itself.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from app.store.models import Base

config = context.config


def _include(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    # SpatiaLite's own metadata and R*Tree index tables are not part of our schema.
    from geoalchemy2.alembic_helpers import include_object

    if type_ == "table" and reflected and compare_to is None:
        return False
    return include_object(obj, name, type_, reflected, compare_to)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from app.store.engine import open_store

    url = context.get_x_argument(as_dictionary=True).get("db") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("No database: pass -x db=... or set sqlalchemy.url in the Alembic configuration")
    store = open_store(url, create=True)
    try:
        with store.engine.begin() as conn:
            _run(conn)
    finally:
        store.dispose()


if context.is_offline_mode():
    raise SystemExit("GridHall migrations need a live database; offline (--sql) mode is not supported")
_main()
