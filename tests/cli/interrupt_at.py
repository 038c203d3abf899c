"""`python tests/cli/interrupt_at.py WHERE gridhall-arguments…`: the command line with Ctrl+C landing
exactly at a session event of the first step that writes a case event (before_commit: before the
database commits; after_commit: after the database committed, before SQLAlchemy's bookkeeping),
the two sides of the window a real Ctrl+C falls into at random. Not a test module itself."""

import sys

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.cli import main
from app.store.models import CaseEvent

where = sys.argv.pop(1)
armed: list[int] = []


@event.listens_for(Session, "transient_to_pending")
@event.listens_for(Session, "detached_to_persistent")  # PostGIS: the event row comes back from an INSERT … RETURNING
def _arm(session, obj) -> None:
    if isinstance(obj, CaseEvent):
        armed.append(1)


@event.listens_for(Session, where)
def _interrupt(session) -> None:
    if armed:
        raise KeyboardInterrupt


sys.exit(main())
