"""What a command is: its id, workflow action, title, who may take it from which state, the fields it
asks for, how the command line names it, and the service call it makes.

Every edge (the GUI's dialogs and shortcuts, ``gridhall case <verb>``, bulk actions, plugins, a
future HTTP server) reads these declarations instead of writing its own copy. Titles, labels,
hints and problem texts are Chinese source strings, translated at the edge with ``Catalogue.tr``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from enum import Enum
from typing import Any

from app.domain.definitions import Action, CaseState, Role
from app.domain.messages import Msg
from app.domain.workflow import WORKFLOW
from app.i18n import Catalogue
from app.services.errors import InvalidTransition, PermissionDenied, ValidationError


class FieldKind(str, Enum):  # noqa: UP042 (the values are what edges switch on)
    """How a field is typed in: each edge maps a kind to a widget or a command-line option."""

    TEXT = "text"  # several lines of text
    LINE = "line"  # one line of text
    INT = "int"  # a whole number (minimum/maximum/step)
    BOOL = "bool"  # yes/no (the command line offers the flag that flips the default)
    CHOICE = "choice"  # one of ``choices`` (value, Chinese label)
    PHOTOS = "photos"  # photo files, attached with ``photo_kind``
    CASE_REF = "case-ref"  # another case, by number or id
    DEPARTMENT = "department"  # a department (id in a form; code, name or id on the command line)
    LEVEL = "level"  # the handling level (a form starts at the case's current level)
    POINT = "point"  # a pair of numbers "X,Y"
    INFO = "info"  # read-only text a form shows (``load(cases, case_id)``); never a value


_STRINGS = (FieldKind.TEXT, FieldKind.LINE, FieldKind.CASE_REF)


@dataclass(frozen=True)
class Field:
    """One input of a command."""

    name: str  # the key in ``values``
    kind: FieldKind
    label: str  # Chinese source text
    required: bool = False
    help: str = ""  # placeholder in a form, help on the command line (Chinese source text)
    choices: tuple[tuple[str, str], ...] = ()  # CHOICE: (value, Chinese label)
    photo_kind: str = "other"  # PHOTOS: report / before / after / other
    default: Any = None  # what a form starts with; filled in when an optional value is missing
    minimum: int | None = None  # INT bounds
    maximum: int | None = None
    step: int | None = None  # INT: a form's step
    suffix: str = ""  # INT: a form's unit text (Chinese source text)
    option: str | None = None  # the command-line option (default ``--name`` with hyphens)
    prompt: bool = True  # a form asks for it (False: command line only)
    cli: bool = True  # the command line offers it
    group: str | None = None  # fields of one group exclude each other on the command line
    # INFO: ``load(cases, case_id)`` → the text shown; CHOICE: → [(value, label)] offered (a form
    # fills its list in a worker; the command line takes any value then, the service checks it)
    load: Callable[[Any, int], Any] | None = None

    @property
    def cli_option(self) -> str:
        return self.option or "--" + self.name.replace("_", "-")

    @property
    def dest(self) -> str:
        """The attribute name the command line parses this field into."""
        return self.cli_option.lstrip("-").replace("-", "_")

    def empty(self, value: Any) -> bool:
        return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


@dataclass(frozen=True)
class Problem:
    """Why a value was refused: ``text`` is a Chinese template filled with ``label`` and ``params``."""

    field: str
    label: str
    text: str
    params: Mapping[str, Any] = dc_field(default_factory=dict)

    def message(self, catalogue: Catalogue | None = None) -> str:
        """The message in ``catalogue``'s language (Chinese without one)."""
        if catalogue is None:
            return self.text.format(label=self.label, **self.params)
        return catalogue.tr(self.text, label=catalogue.tr(self.label), **self.params)

    def as_msg(self) -> Msg:
        """The refusal as a message any edge translates (``Catalogue.error`` / ``Catalogue.text``)."""
        return Msg(self.text, label=Msg(self.label), **self.params)


MISSING = "{label}不能为空"
OUT_OF_RANGE = "{label}应在 {minimum} 到 {maximum} 之间"
NOT_A_NUMBER = "{label}应为整数"
NOT_A_CHOICE = "{label}应为：{choices}"


class CommandInputError(ValidationError):
    """The values of a command were refused before any service call; nothing was written.

    ``problems`` lists every refused field (a form marks each); ``str()`` and ``field`` are the first.
    """

    def __init__(self, problems: list[Problem]):
        super().__init__(problems[0].field, problems[0].as_msg())
        self.problems = problems


@dataclass(frozen=True)
class CliAlias:
    """Another way to reach a command on the command line: ``verb`` plus a selector option.

    * ``option`` alone (``verify --send``): a flag that picks this command;
    * ``option`` and ``field`` (``reject --duplicate-of CASE``): an option whose value fills ``field``;
    * ``option`` and ``value`` (``request --type extension``): one of the choices of a shared option.
    """

    verb: str
    option: str
    value: str | None = None
    field: str | None = None

    @property
    def dest(self) -> str:
        return self.option.lstrip("-").replace("-", "_")


#: ``call(cases, actor, case_id, version, values)`` → ActionResult (``cases`` is the CaseService).
Call = Callable[[Any, Any, Any, Any, dict], Any]
#: ``check(values)`` → a Problem or None (checks that involve several fields).
Check = Callable[[dict], "Problem | None"]


@dataclass(frozen=True, eq=False)
class Command:
    """One case operation, declared once for every edge.

    Workflow commands (``action`` set) take their roles and states from the workflow; other
    commands declare ``roles`` and ``states`` (None: any state). ``run`` checks the values,
    then makes the service call; the services check role, state and version again.
    """

    id: str  # stable, e.g. gridhall.case.dispatch
    title: str  # Chinese source text (the menu entry, the dialog's button)
    call: Call
    action: Action | None = None
    fields: tuple[Field, ...] = ()
    hint: str = ""  # one line under a dialog's title (Chinese source text)
    verb: str | None = None  # ``gridhall case <verb>`` (None: from the id)
    direct: bool = False  # runs at once, without a prompt (frequent, nothing to type)
    shortcut: str = ""  # default key sequence, e.g. Ctrl+D
    on_case: bool = True  # acts on an existing case (False: creates one, like 上报)
    roles: frozenset[Role] | None = None  # non-workflow commands: who may take it
    states: frozenset[CaseState] | None = None  # non-workflow commands: from which states (None: any)
    checks: tuple[Check, ...] = ()
    aliases: tuple[CliAlias, ...] = ()
    form: str | None = None  # an edge's own form for it (the GUI's dispatch form: "dispatch")
    bulk: bool = False  # offered as a bulk action on a selection
    bulk_shortcut: str = ""
    bulk_prepare: Callable[[Any, Any, dict], dict] | None = None  # per-case values in a bulk run
    tip: str = ""  # status tip (Chinese source text; default: the title on the selected case)

    def __post_init__(self) -> None:
        if self.verb is None:
            object.__setattr__(self, "verb", self.id.rsplit(".", 1)[-1].replace("_", "-"))
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"command {self.id} declares a field twice: {names}")
        if self.action is None and self.roles is None:
            raise ValueError(f"command {self.id} has no workflow action: declare its roles")

    @property
    def cli_verb(self) -> str:
        """The verb (always set after construction)."""
        return self.verb or self.id

    # ---- who, when -------------------------------------------------------------------
    @property
    def allowed_roles(self) -> frozenset[Role]:
        """Every role that may ever take the command (the workflow's, for workflow actions)."""
        if self.action is not None:
            return frozenset(r for t in WORKFLOW.transitions if t.action is self.action for r in t.roles)
        return frozenset(self.roles or ())

    @property
    def allowed_states(self) -> frozenset[CaseState] | None:
        """The states the command may start from (None: any state)."""
        if self.action is not None:
            return frozenset(s for t in WORKFLOW.transitions if t.action is self.action
                             for s in t.from_states if s is not None)
        return self.states

    def may(self, role: Role) -> bool:
        """Whether ``role`` may ever take the command (its menu entry exists)."""
        return role in self.allowed_roles

    def allows(self, role: Role, state: CaseState | None) -> bool:
        """Whether ``role`` may take the command on a case in ``state`` (None: no case yet)."""
        if self.action is not None:
            return role in WORKFLOW.roles_for(state, self.action)
        if role not in self.allowed_roles or (state is None) == self.on_case:
            return False
        return self.states is None or state in self.states

    # ---- values ----------------------------------------------------------------------
    def describe(self, catalogue: Catalogue | None = None) -> dict[str, Any]:
        """The declaration as plain data (JSON-ready) in ``catalogue``'s language: what a server or a
        script needs to offer the command (who, from which states, which fields) without Python."""
        tr = catalogue.tr if catalogue is not None else (lambda text: text)
        states = self.allowed_states
        return {
            "id": self.id, "action": self.action.value if self.action else None, "title": tr(self.title),
            "verb": self.cli_verb, "on_case": self.on_case, "direct": self.direct, "shortcut": self.shortcut,
            "hint": tr(self.hint) if self.hint else "", "bulk": self.bulk,
            "roles": [r.value for r in Role if r in self.allowed_roles],
            "states": None if states is None else [s.value for s in CaseState if s in states],
            "fields": [{
                "name": f.name, "kind": f.kind.value, "label": tr(f.label), "required": f.required,
                "help": tr(f.help) if f.help else "", "default": f.default, "minimum": f.minimum,
                "maximum": f.maximum, "choices": [{"value": v, "label": tr(label)} for v, label in f.choices],
                "photo_kind": f.photo_kind if f.kind is FieldKind.PHOTOS else None, "option": f.cli_option,
                "prompt": f.prompt,
            } for f in self.value_fields],
        }

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"command {self.id} has no field '{name}'")

    @property
    def value_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.kind is not FieldKind.INFO)

    def problems(self, values: Mapping[str, Any]) -> list[Problem]:
        """Every refused value (empty: the values may be run)."""
        return self._clean(values)[1]

    def clean(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        """The values normalised (text stripped, empty → None, defaults filled); CommandInputError."""
        cleaned, problems = self._clean(values or {})
        if problems:
            raise CommandInputError(problems)
        return cleaned

    def _clean(self, values: Mapping[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
        out: dict[str, Any] = {}
        problems: list[Problem] = []
        for f in self.value_fields:
            value = values.get(f.name)
            if isinstance(value, str) and f.kind in (*_STRINGS, FieldKind.DEPARTMENT, FieldKind.LEVEL,
                                                     FieldKind.CHOICE):
                value = value.strip() or None
            if f.empty(value):
                if f.required:
                    problems.append(Problem(f.name, f.label, MISSING))
                    continue
                value = f.default
            elif f.kind is FieldKind.INT:
                value, problem = _int(f, value)
                if problem is not None:
                    problems.append(problem)
                    continue
            elif f.kind is FieldKind.BOOL:
                value = bool(value)
            elif f.kind is FieldKind.CHOICE and f.choices and value not in {v for v, _l in f.choices}:
                problems.append(Problem(f.name, f.label, NOT_A_CHOICE,
                                        {"choices": "、".join(v for v, _l in f.choices)}))
                continue
            elif f.kind is FieldKind.PHOTOS:
                value = tuple(value or ())
            out[f.name] = value
        if not problems:
            for check in self.checks:
                problem = check(out)
                if problem is not None:
                    problems.append(problem)
        return out, problems

    # ---- running ---------------------------------------------------------------------
    def run(self, target: Any, actor: Any, case_id: int | None, version: int | None,
            values: Mapping[str, Any] | None = None) -> Any:
        """Check ``values``, then make the service call (one transaction); returns its ActionResult.

        ``target`` is the Core (its ``cases`` is used) or a CaseService. Refused values raise
        CommandInputError (a ValidationError) and nothing is called. The services check a workflow
        action's role and state; a command without one is checked here against its declarations
        (its state read just before: the service call's version check covers a change after it).
        """
        cleaned = self.clean(values)
        if self.on_case and case_id is None:
            raise ValidationError("case", Msg("「{title}」需要一件案卷", title=Msg(self.title)))
        cases = cases_of(target)
        if self.action is None:
            self._check_allowed(cases, actor, case_id)
        return self.call(cases, actor, case_id, version, cleaned)

    def _check_allowed(self, cases: Any, actor: Any, case_id: int | None) -> None:
        role = getattr(actor, "role", None)
        if role not in self.allowed_roles:
            who = role if isinstance(role, Role) else Msg("未登录")
            raise PermissionDenied(Msg("「{who}」无权执行「{title}」", who=who, title=Msg(self.title)))
        if self.on_case and self.states is not None:
            state = cases.get(case_id).state
            if state not in self.states:
                raise InvalidTransition(Msg("案卷当前状态为「{state}」，不能执行「{title}」", state=state,
                                            title=Msg(self.title)))


def cases_of(target: Any) -> Any:
    """The CaseService of a Core (or the CaseService itself)."""
    return getattr(target, "cases", target)


def _int(f: Field, value: Any) -> tuple[int | None, Problem | None]:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None, Problem(f.name, f.label, NOT_A_NUMBER)
    low = f.minimum if f.minimum is not None else number
    high = f.maximum if f.maximum is not None else number
    if not low <= number <= high:
        return None, Problem(f.name, f.label, OUT_OF_RANGE,
                             {"minimum": f.minimum if f.minimum is not None else "-∞",
                              "maximum": f.maximum if f.maximum is not None else "∞"})
    return number, None


__all__ = ["CliAlias", "Command", "CommandInputError", "Field", "FieldKind", "MISSING", "Problem", "cases_of"]
