"""The command registry: every edge looks commands up here and follows additions and removals."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from app.commands.model import CliAlias, Command
from app.domain.definitions import Action, CaseState, Role
from app.views.events import Signal
from app.views.handles import Registration

#: Verbs the command line keeps for reading (``gridhall case show`` / ``list``).
RESERVED_VERBS = frozenset({"show", "list"})


@dataclass
class VerbGroup:
    """What one ``gridhall case <verb>`` reaches: its own command and/or aliases of others."""

    verb: str
    primary: Command | None = None
    aliases: list[tuple[Command, CliAlias]] = field(default_factory=list)

    @property
    def commands(self) -> list[Command]:
        found = [self.primary] if self.primary is not None else []
        return found + [c for c, _a in self.aliases if c not in found]


class CommandRegistry:
    """Commands by id in registration order; ``added(command)`` / ``removed(command)`` follow changes.

    Ids and verbs are unique; ``register`` returns a handle whose ``remove()`` unregisters.
    """

    def __init__(self, reserved_verbs: Iterable[str] = RESERVED_VERBS) -> None:
        self._commands: dict[str, Command] = {}
        self._reserved = frozenset(reserved_verbs)
        self.added = Signal("commands.added")
        self.removed = Signal("commands.removed")

    # ---- changing ------------------------------------------------------------------
    def register(self, command: Command) -> Registration:
        """Add ``command``; ValueError if its id or verb is taken."""
        if command.id in self._commands:
            raise ValueError(f"command id '{command.id}' is already registered; choose a unique id")
        if command.verb in self._reserved:
            raise ValueError(f"command verb '{command.verb}' is reserved; choose another verb")
        clash = self.by_verb(command.cli_verb)
        if clash is not None:
            raise ValueError(f"command verb '{command.verb}' is taken by {clash.id}; choose another verb")
        for alias in command.aliases:
            if alias.verb in self._reserved:
                raise ValueError(f"command {command.id}: alias verb '{alias.verb}' is reserved")
        self._commands[command.id] = command
        self.added.emit(command)
        return Registration("command", command.id, lambda: self.unregister(command.id))

    def unregister(self, command_id: str) -> None:
        """Remove a command (unknown ids are ignored: a handle may be removed late)."""
        command = self._commands.pop(command_id, None)
        if command is not None:
            self.removed.emit(command)

    # ---- reading -------------------------------------------------------------------
    def __iter__(self) -> Iterator[Command]:
        return iter(list(self._commands.values()))

    def __len__(self) -> int:
        return len(self._commands)

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._commands

    def ids(self) -> list[str]:
        return list(self._commands)

    def get(self, command_id: str) -> Command:
        """The command ``command_id``; KeyError naming the known ids otherwise."""
        try:
            return self._commands[command_id]
        except KeyError:
            raise KeyError(f"no command '{command_id}'; registered: {', '.join(self._commands)}") from None

    def find(self, command_id: str) -> Command | None:
        return self._commands.get(command_id)

    def by_verb(self, verb: str) -> Command | None:
        """The command whose own verb is ``verb`` (aliases not included)."""
        return next((c for c in self._commands.values() if c.verb == verb), None)

    def for_action(self, action: Action | str) -> Command | None:
        """The first command registered for the workflow ``action``."""
        action = Action(action)
        return next((c for c in self._commands.values() if c.action is action), None)

    def for_role(self, role: Role, *, on_case: bool | None = None) -> list[Command]:
        """The commands ``role`` may ever take (``on_case``: only those acting on a case, or not)."""
        return [c for c in self if c.may(role) and (on_case is None or c.on_case is on_case)]

    def allowed(self, role: Role, state: CaseState | None) -> list[Command]:
        """The commands ``role`` may take on a case in ``state``."""
        return [c for c in self if c.allows(role, state)]

    def verbs(self) -> dict[str, VerbGroup]:
        """Every command-line verb with the commands it reaches (registration order)."""
        groups: dict[str, VerbGroup] = {}
        for c in self:
            groups.setdefault(c.cli_verb, VerbGroup(c.cli_verb)).primary = c
            for alias in c.aliases:
                groups.setdefault(alias.verb, VerbGroup(alias.verb)).aliases.append((c, alias))
        return groups


__all__ = ["RESERVED_VERBS", "CommandRegistry", "VerbGroup"]
