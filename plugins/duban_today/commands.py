"""今日督办's case command, 督办备注 (a 督办 whose note is required), declared once for every edge.

Qt-free on purpose: ``gridhall case`` imports this module (MANIFEST.toml ``commands``) to offer
the command as ``gridhall case duban-note``; the GUI's plugin manager calls the same
:func:`register` when it enables the plugin (a menu entry for the roles that may urge).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# the declaration types only (not the package: its built-ins reach the services and the store)
from app.commands.model import Command, Field, FieldKind
from app.domain.definitions import Action
from app.domain.workflow import WORKFLOW

if TYPE_CHECKING:
    from app.commands.registry import CommandRegistry
    from app.views.handles import Registration

NOTE_ID = "duban_today.note"
NOTE_VERB = "duban-note"


def _urge(cases: Any, actor: Any, case_id: Any, version: Any, values: dict) -> Any:
    return cases.urge(actor, case_id, version, note=values["text"])


def note_command() -> Command:
    """督办备注: the 督办 service call with the typed points as its (required) note. Who may take it,
    and from which states, is the workflow's 督办 (the service checks both again)."""
    urge = [t for t in WORKFLOW.transitions if t.action is Action.URGE]
    return Command(
        NOTE_ID, "督办备注", _urge, verb=NOTE_VERB,
        roles=frozenset(r for t in urge for r in t.roles),
        states=frozenset(s for t in urge for s in t.from_states if s is not None),
        fields=(Field("text", FieldKind.TEXT, "督办要点", required=True, help="督办要点（记入办理过程）"),),
        hint="督办要点（记入办理过程）", tip="为选中的案卷记录督办要点")


def register(registry: CommandRegistry) -> list[Registration]:
    """The commands hook (MANIFEST.toml): register 督办备注; returns its handle."""
    return [registry.register(note_command())]
