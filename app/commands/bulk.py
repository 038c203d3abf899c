"""Running one command on many cases: each case its own transaction, one failure never stops the others."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.commands.model import Command, cases_of
from app.commands.registry import CommandRegistry
from app.i18n import Catalogue


@dataclass
class BulkOutcome:
    """What a bulk run did: (case number, ActionResult) per success, (case number, error) per failure."""

    done: list[tuple[str, Any]] = field(default_factory=list)
    failed: list[tuple[str, BaseException]] = field(default_factory=list)

    def text(self, catalogue: Catalogue | None = None,
             describe_error: Callable[[BaseException], str] = str) -> str:
        """A summary line, then one line per failure and per success (in ``catalogue``'s language)."""
        def tr(text: str, **values: Any) -> str:
            return catalogue.tr(text, **values) if catalogue is not None else text.format(**values)

        def label(member: Any) -> str:
            return catalogue.label(member) if catalogue is not None else member.label

        lines = [tr("成功 {done} 件，失败 {failed} 件", done=len(self.done), failed=len(self.failed))]
        lines += [f"✗ {number}：{describe_error(exc)}" for number, exc in self.failed]
        for number, result in self.done:
            line = f"✓ {number}：{tr('{action}完成，现为「{state}」', action=label(result.action), state=label(result.case.state))}"
            if result.case.department_name and result.action.value == "dispatch":
                line += tr("（{department}）", department=result.case.department_name)
            if result.warnings:
                line += tr("；") + tr("；").join(catalogue.text(w) if catalogue is not None else w
                                                for w in result.warnings)
            lines.append(line)
        return "\n".join(lines)


def run_bulk(command: Command | str, target: Any, actor: Any, rows: Iterable[Any],
             values: Mapping[str, Any] | None = None, *, registry: CommandRegistry | None = None,
             precheck: Callable[[Any], None] | None = None,
             between: Callable[[], object] | None = None) -> BulkOutcome:
    """Run ``command`` on each row (anything with ``id``, ``number``, ``version``) in turn.

    ``command`` may be a Command or a command id looked up in ``registry`` (default: the target's
    ``commands``). Each case is one service call, so one transaction; a failure is recorded and the
    next case runs. ``command.bulk_prepare(cases, row, values)`` may fill per-case values
    (派遣: each case's first suggestion). ``precheck(row)`` may refuse a case before anything is
    sent (结案: its closing evidence, ``app.commands.evidence.closing_precheck``). Call it from a
    worker thread in a GUI, with ``between`` (called before every case but the first) waiting for
    the GUI's event loop to come round (``app.ui.tasks.LoopGate.wait``): a case is some ms of
    Python holding the interpreter lock, and the GUI thread, which needs the lock for each call
    into Python while it paints, would otherwise wait for case after case.
    """
    if isinstance(command, str):
        registry = registry if registry is not None else getattr(target, "commands", None)
        if registry is None:
            from app.commands.builtin import default_registry

            registry = default_registry()
        command = registry.get(command)
    cases = cases_of(target)
    outcome = BulkOutcome()
    base = dict(values or {})
    for k, row in enumerate(rows):
        if between is not None and k:
            between()
        try:
            if precheck is not None:
                precheck(row)
            row_values = command.bulk_prepare(cases, row, base) if command.bulk_prepare is not None else base
            result = command.run(cases, actor, row.id, row.version, row_values)
        except Exception as exc:  # noqa: BLE001 — every failure is reported in the outcome
            outcome.failed.append((row.number, exc))
        else:
            outcome.done.append((row.number, result))
    return outcome




@dataclass(frozen=True)
class BulkSummary:
    """What a bulk run is about to do: how many cases per action and per department, in order.

    ``departments`` lists (department name, count) most cases first (ties by name); a case whose
    department is not known yet (its first suggestion still being looked up) counts under ``None``.
    """

    action: str  # the command's title (Chinese source text)
    total: int
    departments: tuple[tuple[str | None, int], ...]

    def lines(self, catalogue: Catalogue | None = None) -> list[str]:
        """One line per action, then one per department (in ``catalogue``'s language)."""
        def tr(text: str, **values: Any) -> str:
            return catalogue.tr(text, **values) if catalogue is not None else text.format(**values)

        out = [tr("{action}：{n} 件", action=tr(self.action), n=self.total)]
        for name, n in self.departments:
            out.append(tr("  {department}：{n} 件", department=name if name is not None else tr("（部门待定）"), n=n))
        return out


def summarize(command: Command, rows: Iterable[Any], department_of: Callable[[Any], str | None]) -> BulkSummary:
    """The summary of running ``command`` on ``rows``; ``department_of(row)`` names where each case
    goes (派遣: the chosen department or the case's first suggestion) or lies (other commands)."""
    counts: dict[str | None, int] = {}
    total = 0
    for row in rows:
        total += 1
        name = department_of(row)
        counts[name] = counts.get(name, 0) + 1
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))
    return BulkSummary(command.title, total, tuple(ordered))


__all__ = ["BulkOutcome", "BulkSummary", "run_bulk", "summarize"]
