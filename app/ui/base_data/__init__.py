"""Base data in and out from the GUI (issue 15, item 3): the import and export dialogs
(:mod:`app.ui.base_data.dialogs`) and their two menu actions, declared here as data.

``install(window, store, actor, runner, events, catalogue, queue_ids=…, archive_query=…)`` registers
文件 → 导入基础数据… (the administrator only) and 文件 → 导出数据… (everyone; a department exports
its own cases) through the window's action registry and command table; it returns the teardown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from app.i18n import Catalogue
from app.ui.base_data.dialogs import BaseDataPort, ExportDialog, ImportDialog

IMPORT_ACTION = "gridhall.base_data.import"
EXPORT_ACTION = "gridhall.base_data.export"


def action_specs(admin: bool) -> list[Any]:
    """The menu entries (ActionSpec data): import for the administrator, export for everyone."""
    from app.ui.actions import ActionSpec

    specs = [ActionSpec(EXPORT_ACTION, "导出数据…", "", "file", "base_data_export",
                        tip="把网格、部件、部门、道路或案卷（含全部时间字段）导出为 GeoPackage、Shapefile、GeoJSON、CSV 或 Excel")]
    if admin:
        specs.insert(0, ActionSpec(IMPORT_ACTION, "导入基础数据…", "", "file", "base_data_import",
                                   tip="从 GIS 文件导入网格、部件、部门、道路或历史案卷：先预览和校验，再写入"))
    return specs


def install(window: Any, store: Any, actor: Any, runner: Any, events: Any, catalogue: Catalogue, *,
            queue_ids: Callable[[], Sequence[int]] | None = None,
            archive_query: Callable[[], str] | None = None) -> Callable[[], None]:
    """Register the actions and their commands on ``window``; the teardown."""
    admin = actor is not None and getattr(actor.role, "value", actor.role) == "admin"
    port = BaseDataPort(store, actor)
    open_dialogs: list[Any] = []

    def show(dialog: Any) -> Any:
        open_dialogs.append(dialog)
        dialog.finished.connect(lambda _result: open_dialogs.remove(dialog) if dialog in open_dialogs else None)
        dialog.show()
        return dialog

    def open_import() -> Any:
        return show(ImportDialog(port, runner, events, catalogue, window))

    def open_export() -> Any:
        if actor is not None and getattr(actor.role, "value", actor.role) == "department":
            scoped = ExportDialog(_DepartmentPort(store, actor), runner, events, catalogue, window,
                                  queue_ids=queue_ids, archive_query=archive_query)
            return show(scoped)
        return show(ExportDialog(port, runner, events, catalogue, window, queue_ids=queue_ids,
                                 archive_query=archive_query))

    window.commands["base_data_export"] = open_export
    if admin:
        window.commands["base_data_import"] = open_import
    registry = window.action_registry
    specs = action_specs(admin)
    for spec in specs:
        registry.register(spec)

    def teardown() -> None:
        for spec in specs:
            registry.unregister(spec.id)
        for name in ("base_data_export", "base_data_import"):
            window.commands.pop(name, None)
        for dialog in list(open_dialogs):
            dialog.close()

    return teardown


class _DepartmentPort(BaseDataPort):
    """A department operator exports its own cases only."""

    def export(self, kind: str, path: str, fmt: str, filters: dict[str, Any], check: Callable[[], None]) -> int:
        return super().export(kind, path, fmt, {**filters, "department_id": self.actor.department_id}, check)


__all__ = ["EXPORT_ACTION", "IMPORT_ACTION", "BaseDataPort", "ExportDialog", "ImportDialog", "action_specs",
           "install"]
