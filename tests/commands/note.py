"""A test-only command that no edge knows about: 记录督办 (a leader's note, recorded as 督办)."""

from __future__ import annotations

from app.commands import Command, Field, FieldKind
from app.domain.definitions import CaseState, Role

NOTE_ID = "test.case.note"
NOTE_SHORTCUT = "Ctrl+Alt+N"
NOTE_STATES = frozenset({CaseState.FILED, CaseState.DISPATCHED, CaseState.HANDLING})


def note_command() -> Command:
    """Runs the existing 督办 service call with the typed text as its note."""
    return Command(
        NOTE_ID, "记录督办",
        lambda cases, actor, case_id, version, values: cases.urge(actor, case_id, version, note=values["text"]),
        roles=frozenset({Role.LEADER}), states=NOTE_STATES, verb="note", shortcut=NOTE_SHORTCUT,
        fields=(Field("text", FieldKind.LINE, "内容", required=True),), hint="督办要点（记入办理过程）")
