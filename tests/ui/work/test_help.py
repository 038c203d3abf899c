"""F1 opens the help: the loop, each role's work and every shortcut, generated from the declarations
(issue 10, item 8)."""

from __future__ import annotations

import pytest

from app.domain.definitions import Role
from app.i18n import Catalogue
from app.ui.help import DESK_ROLES, HelpDialog

from .helpers import desk_window

pytestmark = pytest.mark.neutral


def _keys(window) -> list[tuple[str, str]]:
    registry = window.action_registry
    return [(registry.action(i).text(), registry.action(i).shortcut().toString()) for i in registry.ids()
            if registry.action(i).shortcut().toString()]


@pytest.mark.parametrize("role", [Role.DISPATCHER, Role.DEPARTMENT, Role.ACCEPTOR])
def test_f1_opens_help_listing_every_shortcut_of_the_window_and_every_command(qtbot, tmp_path, desk, login_as,
                                                                              queue, runner, role):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(role)) as (window, _made):
        window.show()
        qtbot.waitExposed(window)
        entry = window.action_registry.action("gridhall.help.guide")
        assert entry.shortcut().toString() == "F1" and entry.isEnabled()
        entry.trigger()  # as F1 does (offscreen windows are not reliably active for key events)
        qtbot.waitUntil(lambda: window.help_dialog is not None and window.help_dialog.isVisible())
        text = window.help_dialog.text()
        keys = _keys(window)
        assert len(keys) >= 8
        for title, key in keys:  # every key of this window, as registered now
            assert key in text and title.replace("&", "") in text, (title, key)
        for command in desk.commands:  # every case command of every role, with its keys
            if command.on_case:
                assert command.title in text
                for key in (command.shortcut, command.bulk_shortcut):
                    assert not key or key in text, (command.id, key)
        for r in DESK_ROLES:
            assert r.label in text
        assert "办理闭环" in text and "回车键不会执行批量操作" in text
        from qtpy.QtWidgets import QShortcut

        for shortcut in window.findChildren(QShortcut):  # keys of widgets (the report form's Ctrl+Return)
            assert shortcut.key().toString() in text, shortcut.key().toString()
        assert "Ctrl+Return" in text
        window.help_dialog.close()


def test_a_command_registered_later_appears_in_the_help(qtbot, tmp_path, desk, login_as, queue, runner):
    from commands.note import NOTE_SHORTCUT, note_command

    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.LEADER)) as (window, _made):
        handle = desk.commands.register(note_command())
        try:
            window.show_help()
            assert "记录督办" in window.help_dialog.text() and NOTE_SHORTCUT in window.help_dialog.text()
        finally:
            handle.remove()
        window.show_help()
        assert "记录督办" not in window.help_dialog.text()


def test_help_speaks_english(qtbot, tmp_path, desk, login_as, queue, runner):
    with desk_window(qtbot, tmp_path, queue, runner, desk, login_as(Role.SHIFT_LEADER)) as (window, _made):
        dialog = HelpDialog(window.action_registry, window.command_registry, Catalogue("en"), window)
        qtbot.addWidget(dialog)
        text = dialog.text()
        assert "closed loop" in text and "Shift leader" in text and "Keyboard shortcuts" in text
        assert "Ctrl+Shift+J" in text  # bulk close
        assert "派遣" not in text.replace("派遣员", "")  # the command titles are translated too
