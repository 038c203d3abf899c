"""`python tests/cli/kill_during_import.py N gridhall-arguments…`: the command line killed (SIGKILL, no
clean-up of any kind) right after its N-th INSERT into the base-data tables went to the database, inside
the import's transaction. Not a test module itself."""

import os
import signal
import sys

from sqlalchemy import event
from sqlalchemy.engine import Engine

from app.cli import main

after = int(sys.argv.pop(1))
seen: list[int] = []


@event.listens_for(Engine, "after_cursor_execute")
def _kill(conn, cursor, statement, parameters, context, executemany) -> None:
    if statement.lstrip().upper().startswith(("INSERT INTO COMPONENTS", "INSERT INTO UNIT_GRIDS")):
        seen.append(1)
        if len(seen) >= after:
            os.kill(os.getpid(), signal.SIGKILL)


sys.exit(main())
