"""A command registered once (by a test or a plugin) gets a menu entry with its shortcut, enabled per
role and state, a prompt from its fields, and runs: nothing in the GUI names it."""

from __future__ import annotations

import textwrap
import uuid

import pytest
from commands.note import NOTE_ID, NOTE_SHORTCUT, note_command
from qtpy.QtCore import Qt

from app.domain.definitions import CaseState, Role

from .helpers import desk_window, wait_idle

pytestmark = pytest.mark.neutral


def first(state, wanted: CaseState):
    return next(r for r in sorted(state.rows, key=lambda r: r.number) if r.state is wanted)


def test_a_registered_command_shows_enabled_per_role_and_state_and_runs(qtbot, tmp_path, desk, login_as, queue,
                                                                         runner):
    handle = desk.commands.register(note_command())
    try:
        leader = login_as(Role.LEADER)
        with desk_window(qtbot, tmp_path, queue, runner, desk, leader) as (window, made):
            action = window.action_registry.action(NOTE_ID)
            assert action.shortcut().toString() == NOTE_SHORTCUT and action.text() == "记录督办"
            assert not action.isEnabled()  # nothing selected
            queue.select(first(queue, CaseState.CHECKED).id)
            wait_idle(qtbot, runner)
            assert not action.isEnabled()  # not one of its states
            row = first(queue, CaseState.HANDLING)
            queue.select(row.id)
            wait_idle(qtbot, runner)
            assert action.isEnabled()
            action.trigger()
            dialog = made.actions.open_dialog
            assert dialog is not None and list(dialog.widgets) == ["text"]
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # the required text is missing
            assert dialog.errors["text"].text() == "内容不能为空" and dialog.submitter.requests == 0
            dialog.widgets["text"].setText("周五前处理完毕")
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            wait_idle(qtbot, runner)
            assert dialog.result_value is not None, dialog.banner.text()
            assert desk.cases.get(row.id).urge_count == row.urge_count + 1
            assert desk.cases.events(row.id)[-1].reason == "周五前处理完毕"
        with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.DISPATCHER)) as (window, made):
            assert NOTE_ID not in window.action_registry.ids()  # not a role that may take it
    finally:
        handle.remove()


def test_the_menu_follows_the_registry_while_the_window_is_open(qtbot, tmp_path, desk, login_as, queue, runner):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.LEADER)) as (window, made):
        assert NOTE_ID not in window.action_registry.ids()
        handle = desk.commands.register(note_command())
        try:
            assert window.action_registry.action(NOTE_ID).shortcut().toString() == NOTE_SHORTCUT
            queue.select(first(queue, CaseState.HANDLING).id)
            wait_idle(qtbot, runner)
            assert window.action_registry.action(NOTE_ID).isEnabled()
        finally:
            handle.remove()
        assert NOTE_ID not in window.action_registry.ids()


PLUGIN = """
from commands.note import note_command

def enable(api):
    api.register_command(note_command())
"""


def test_a_plugins_command_comes_and_goes_with_the_plugin(qtbot, tmp_path, desk, login_as, queue, runner,
                                                            monkeypatch):
    from app.i18n import Catalogue
    from app.plugin.api import AppServices
    from app.plugin.loader import PluginManager

    package = f"gh_cmd_plugins_{uuid.uuid4().hex[:8]}"
    folder = tmp_path / "plugins" / package / "noter"
    folder.mkdir(parents=True)
    (folder.parent / "__init__.py").write_text("")
    (folder / "MANIFEST.toml").write_text('id = "noter"\nname = "记录督办"\nversion = "1.0"\napi_version = "1.0"\n',
                                          encoding="utf-8")
    (folder / "__init__.py").write_text(textwrap.dedent(PLUGIN), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path / "plugins"))
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.LEADER)) as (window, made):
        services = AppServices(window.dock_registry, window.action_registry, queue, desk.clock, Catalogue(),
                               commands=desk.commands)
        manager = PluginManager(folder.parent, package, services)
        assert [r.state for r in manager.start()] == ["enabled"]
        assert NOTE_ID in desk.commands and NOTE_ID in window.action_registry.ids()
        manager.disable("noter")
        assert NOTE_ID not in desk.commands and NOTE_ID not in window.action_registry.ids()


def test_a_command_declared_bulk_gets_a_bulk_entry_and_runs_on_the_selection(qtbot, tmp_path, desk, login_as, queue,
                                                                             runner):
    from dataclasses import replace

    leader = login_as(Role.LEADER)
    with desk_window(qtbot, tmp_path, queue, runner, desk, leader) as (window, made):
        handle = desk.commands.register(replace(note_command(), bulk=True, bulk_shortcut="Ctrl+Alt+Shift+N"))
        try:
            entry = window.action_registry.action("gridhall.desk.bulk_note")
            assert entry.shortcut().toString() == "Ctrl+Alt+Shift+N"
            picked = [r for r in sorted(queue.rows, key=lambda r: r.number) if r.state is CaseState.HANDLING][:2]
            queue.select(picked[0].id)
            entry.trigger()
            dialog = made.widgets["bulk_note"]
            assert {r.state for r in dialog.rows} <= {CaseState.FILED, CaseState.DISPATCHED, CaseState.HANDLING}
            assert [r.id for r in dialog.checked_rows()] == [picked[0].id]  # the selection is pre-checked
            assert not dialog.submit() and "内容不能为空" in dialog.banner.text()  # checked once, before any call
            dialog.widgets["text"].setText("本周内办结")
            assert not dialog.submit()  # not confirmed
            dialog.confirm.setChecked(True)
            assert dialog.submit()
            qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20000)
            assert [n for n, _r in dialog.outcome.done] == [picked[0].number] and dialog.outcome.failed == []
            assert desk.cases.events(picked[0].id)[-1].reason == "本周内办结"
            runner.wait()
        finally:
            handle.remove()
        assert "gridhall.desk.bulk_note" not in window.action_registry.ids()
