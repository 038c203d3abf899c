"""`python tests/cli/kill_during_import.py N[:PREFIX] gridhall-arguments…`: the command line killed (SIGKILL,
no clean-up of any kind) right after its N-th INSERT into the base-data tables (or its N-th statement
starting with PREFIX, e.g. ``CREATE TRIGGER``) went to the database, inside the import's transaction. Not a
test module itself."""

import os
import signal
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.cli import main

_n, _, _prefix = sys.argv.pop(1).partition(":")
after = int(_n)
prefixes = (_prefix.upper(),) if _prefix else (
    "INSERT INTO COMPONENTS", "INSERT INTO UNIT_GRIDS", "INSERT INTO DEPARTMENTS", "INSERT INTO ROADS",
    "INSERT INTO CASES", "INSERT INTO CASE_EVENTS")
seen: list[int] = []


@event.listens_for(Engine, "after_cursor_execute")
def _kill(conn, cursor, statement, parameters, context, executemany) -> None:
    if statement.lstrip().upper().startswith(prefixes):
        seen.append(1)
        if len(seen) >= after:
            os.kill(os.getpid(), signal.SIGKILL)


sys.exit(main())
