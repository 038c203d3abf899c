"""The command layer: every case operation declared once, for the GUI, the CLI, bulk runs and plugins.

Qt-free: it imports the domain and the services only. See ``model`` (Command, Field), ``registry``
(CommandRegistry), ``builtin`` (the built-in commands, ``default_registry``) and ``bulk`` (run_bulk).
"""

from app.commands.builtin import (
    WORKDAY_MINUTES,
    builtin_commands,
    command_id,
    default_registry,
    register_builtins,
)
from app.commands.bulk import BulkOutcome, run_bulk
from app.commands.model import CliAlias, Command, CommandInputError, Field, FieldKind, Problem, cases_of
from app.commands.registry import RESERVED_VERBS, CommandRegistry, VerbGroup

__all__ = [
    "RESERVED_VERBS", "WORKDAY_MINUTES", "BulkOutcome", "CliAlias", "Command", "CommandInputError",
    "CommandRegistry", "Field", "FieldKind", "Problem", "VerbGroup", "builtin_commands", "cases_of", "command_id",
    "default_registry", "register_builtins", "run_bulk",
]
