"""Layouts applied to a real QMainWindow with real docks: areas, tabs, fronts, hidden docks, sizes,
late (plugin) docks, 重置布局 and the user's own arrangement saved per user and mode."""

from __future__ import annotations

import pytest
from qtpy.QtCore import QRect, QSettings, Qt
from qtpy.QtWidgets import QLabel

from app.domain.definitions import Role
from app.i18n import Catalogue
from app.ui.builtin import (
    ATTRIBUTES_DOCK,
    DETAIL_DOCK,
    LAYERS_DOCK,
    QUEUE_DOCK,
    builtin_docks,
    register_builtin_docks,
)
from app.ui.docks import DockSpec
from app.ui.layouts import SAVED_VERSION, SavedArrangements, WindowLayouts
from app.ui.main_window import MainWindow
from app.ui.work import install
from app.views.layouts import LAYOUTS_DIR, builtin_layout, load_layout, parse_layout
from app.views.queue_state import QueueState
from ui.forms.world import desk, desk_store, desk_template, login_as, queue  # noqa: F401  (fixtures)

pytestmark = pytest.mark.neutral

LEFT, RIGHT = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
TOP, BOTTOM = Qt.DockWidgetArea.TopDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea

LAYOUT = """
format = 1
hidden = ["gridhall.attributes"]

[corners]
bottom_left = "left"

[areas.left]
size = 300
[[areas.left.groups]]
docks = ["gridhall.layers", "gridhall.attributes", "gridhall.desk.intake"]
front = "gridhall.desk.intake"

[areas.bottom]
size = "40%"
[[areas.bottom.groups]]
docks = ["gridhall.queue", "gridhall.desk.my_queue"]
front = "gridhall.desk.my_queue"

[areas.right]
size = "25%"
[[areas.right.groups]]
docks = ["gridhall.detail"]
size = "70%"
[[areas.right.groups]]
docks = ["gridhall.desk.timers", "plugin.named"]

[areas.top]
[[areas.top.groups]]
docks = ["gridhall.desk.alerts"]
titlebar = false
"""
#: The desk docks the layout names, registered here as plain panels at a deliberately wrong area.
PANELS = ("gridhall.desk.intake", "gridhall.desk.my_queue", "gridhall.desk.timers", "gridhall.desk.alerts")


@pytest.fixture
def hall_window(qtbot, tmp_path, calendar, source, runner):
    """A main window with the real queue and detail docks, a layer tree and desk-like panels."""
    window = MainWindow(QSettings(str(tmp_path / "user.ini"), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    state = QueueState(calendar)
    register_builtin_docks(window.dock_registry, builtin_docks(state, source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    for dock_id in (ATTRIBUTES_DOCK, *PANELS):
        window.dock_registry.register(DockSpec(dock_id, "面板", "right", lambda d=dock_id: QLabel(d)))
    window.resize(1600, 1000)
    yield window
    if window.layouts is not None:
        window.layouts.close()
    window.dock_registry.unregister_all()


def dock(window, dock_id):
    return window.dock_registry.dock(dock_id)


def in_front(window, dock_id) -> bool:
    """Shown and the current tab of its group (a background tab has no visible region)."""
    return not dock(window, dock_id).visibleRegion().isEmpty()


def tabbed(window, dock_id) -> set[str]:
    return {d.objectName() for d in window.tabifiedDockWidgets(dock(window, dock_id))}


def show(qtbot, window):
    window.show()
    qtbot.waitExposed(window)


#: A 1920×1080 screen with a 40 px panel at the bottom, for the arrangements kept per screen size.
FHD = ((1920, 1080), QRect(0, 0, 1920, 1040))


def use(window, layout, **kwargs) -> WindowLayouts:
    kwargs.setdefault("screen", lambda: FHD)
    layouts = WindowLayouts(window, window.dock_registry, layout, window.settings, **kwargs)
    layouts.apply()
    window.use_layouts(layouts)
    return layouts


def test_a_layout_puts_docks_in_areas_tab_groups_and_fronts(qtbot, hall_window):
    window = hall_window
    use(window, parse_layout(LAYOUT))
    show(qtbot, window)
    assert window.dockWidgetArea(dock(window, LAYERS_DOCK)) == LEFT
    assert window.dockWidgetArea(dock(window, QUEUE_DOCK)) == BOTTOM
    assert window.dockWidgetArea(dock(window, DETAIL_DOCK)) == RIGHT
    assert window.dockWidgetArea(dock(window, "gridhall.desk.alerts")) == TOP
    assert tabbed(window, LAYERS_DOCK) >= {"gridhall.desk.intake"}  # Qt 6 leaves hidden tabs out
    assert tabbed(window, QUEUE_DOCK) == {"gridhall.desk.my_queue"}
    assert tabbed(window, DETAIL_DOCK) == set()  # a group of its own, split from the timers
    assert in_front(window, "gridhall.desk.intake") and not in_front(window, LAYERS_DOCK)
    assert in_front(window, "gridhall.desk.my_queue") and not in_front(window, QUEUE_DOCK)
    assert in_front(window, DETAIL_DOCK) and in_front(window, "gridhall.desk.timers")
    attributes = dock(window, ATTRIBUTES_DOCK)
    assert attributes.isHidden() and not attributes.toggleViewAction().isChecked()
    attributes.toggleViewAction().trigger()  # 面板 → 要素属性 opens it in its place
    assert tabbed(window, LAYERS_DOCK) == {ATTRIBUTES_DOCK, "gridhall.desk.intake"}
    assert window.corner(Qt.Corner.BottomLeftCorner) == LEFT
    assert window.corner(Qt.Corner.BottomRightCorner) == RIGHT  # the default corner
    assert dock(window, "gridhall.desk.alerts").titleBarWidget() is not None  # no caption bar
    assert dock(window, DETAIL_DOCK).titleBarWidget() is None


def test_sizes_are_pixels_or_percentages_of_the_window(qtbot, hall_window):
    window = hall_window
    use(window, parse_layout(LAYOUT))
    show(qtbot, window)
    window.layouts.apply_sizes()
    qtbot.wait(10)
    assert abs(dock(window, "gridhall.desk.intake").width() - 300) <= 10
    assert 340 <= dock(window, "gridhall.desk.my_queue").height() <= 410  # 40 % of 1000, less its tab bar
    assert abs(dock(window, DETAIL_DOCK).width() - 400) <= 10
    detail, timers = dock(window, DETAIL_DOCK).height(), dock(window, "gridhall.desk.timers").height()
    assert 0.6 < detail / (detail + timers) < 0.8  # the 70 % / 30 % split of the right column


def test_bars_follow_the_layout_and_come_back_with_another(qtbot, hall_window):
    window = hall_window
    layouts = use(window, parse_layout("format = 1\n[window]\nmenubar = false\nstatusbar = false\n"))
    show(qtbot, window)
    assert window.menuBar().isHidden() and window.statusBar().isHidden()
    layouts.layout = parse_layout(LAYOUT)
    layouts.reset()
    assert not window.menuBar().isHidden() and not window.statusBar().isHidden()
    assert dock(window, "gridhall.desk.alerts").titleBarWidget() is not None
    layouts.layout = parse_layout("format = 1\n")  # the alerts no longer lose their title bar
    layouts.reset()
    assert dock(window, "gridhall.desk.alerts").titleBarWidget() is None


def test_docks_registered_later_are_placed_by_the_layout(qtbot, hall_window):
    window = hall_window
    use(window, parse_layout(LAYOUT))
    show(qtbot, window)
    reg = window.dock_registry
    reg.register(DockSpec("plugin.named", "插件", "left", lambda: QLabel("named")))
    reg.register(DockSpec("plugin.unnamed", "插件", "bottom", lambda: QLabel("unnamed")))
    reg.register(DockSpec("plugin.alone", "插件", "top", lambda: QLabel("alone")))
    qtbot.wait(10)
    # named: joins its group on the right (the plugin asked for left), behind the group's front
    assert window.dockWidgetArea(dock(window, "plugin.named")) == RIGHT
    assert "plugin.named" in tabbed(window, "gridhall.desk.timers")
    assert in_front(window, "gridhall.desk.timers") and not in_front(window, "plugin.named")
    # not named: a background tab of the last group of its own area
    assert "plugin.unnamed" in tabbed(window, QUEUE_DOCK)
    assert in_front(window, "gridhall.desk.my_queue")
    assert window.dockWidgetArea(dock(window, "plugin.alone")) == TOP
    for plugin in ("plugin.named", "plugin.unnamed", "plugin.alone"):
        reg.unregister(plugin)


def test_unlisted_docks_are_hidden_when_the_layout_says_so(qtbot, hall_window):
    window = hall_window
    use(window, load_layout(LAYOUTS_DIR / "wall.toml"))
    show(qtbot, window)
    window.dock_registry.register(DockSpec("plugin.late", "插件", "left", lambda: QLabel("late")))
    assert not dock(window, "gridhall.desk.alerts").isHidden()
    hidden = [d for d in window.dock_registry.ids() if d != "gridhall.desk.alerts"]
    assert hidden and all(dock(window, d).isHidden() for d in hidden)


def test_reset_layout_restores_the_builtin_arrangement(qtbot, hall_window):
    window = hall_window
    use(window, parse_layout(LAYOUT))
    show(qtbot, window)
    # the user rearranges: the detail floats off, the queue moves left, the intake closes
    dock(window, DETAIL_DOCK).setFloating(True)
    window.addDockWidget(LEFT, dock(window, QUEUE_DOCK))
    dock(window, "gridhall.desk.intake").close()
    window.action_registry.action("gridhall.view.reset_layout").trigger()
    qtbot.wait(10)
    assert not dock(window, DETAIL_DOCK).isFloating()
    assert window.dockWidgetArea(dock(window, DETAIL_DOCK)) == RIGHT
    assert window.dockWidgetArea(dock(window, QUEUE_DOCK)) == BOTTOM
    assert tabbed(window, QUEUE_DOCK) == {"gridhall.desk.my_queue"}
    assert in_front(window, "gridhall.desk.intake")
    assert "已恢复内置布局" in window.statusBar().currentMessage()


def test_reset_without_layouts_says_it_is_not_available(hall_window):
    hall_window.action_registry.action("gridhall.view.reset_layout").trigger()
    assert "不可用" in hall_window.statusBar().currentMessage()


def _second_window(qtbot, path, calendar, source, runner, extra=(), skip=()):
    window = MainWindow(QSettings(str(path), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(QueueState(calendar), source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    for dock_id in (ATTRIBUTES_DOCK, *PANELS, *extra):
        if dock_id not in skip:
            window.dock_registry.register(DockSpec(dock_id, "面板", "right", lambda d=dock_id: QLabel(d)))
    window.resize(1600, 1000)
    return window


def test_the_users_arrangement_is_saved_per_user_and_mode_and_restored(qtbot, hall_window, tmp_path,
                                                                        calendar, source, runner):
    window = hall_window
    use(window, parse_layout(LAYOUT), user="alice", mode="desk")
    window.settings.setValue("window/state", b"from an older version")
    show(qtbot, window)
    window.addDockWidget(LEFT, dock(window, DETAIL_DOCK))  # alice wants the detail on the left
    dock(window, QUEUE_DOCK).close()
    window.close()  # saves
    saved = QSettings(str(tmp_path / "user.ini"), QSettings.Format.IniFormat)
    assert saved.value("layouts/alice/desk/1920x1080/state") is not None
    assert int(saved.value("layouts/alice/desk/1920x1080/version")) == SAVED_VERSION
    assert saved.value("window/state") is None  # the old, user-less entry is gone

    again = _second_window(qtbot, tmp_path / "user.ini", calendar, source, runner)
    layouts = use(again, parse_layout(LAYOUT), user="alice", mode="desk")
    try:
        assert layouts.start(restore=True)
        show(qtbot, again)
        assert again.dockWidgetArea(dock(again, DETAIL_DOCK)) == LEFT
        assert dock(again, QUEUE_DOCK).isHidden()
    finally:
        layouts.close()
        again.dock_registry.unregister_all()

    for user, mode in (("bob", "desk"), ("alice", "analyst")):  # someone else, another mode: built-in
        other = _second_window(qtbot, tmp_path / "user.ini", calendar, source, runner)
        layouts = use(other, parse_layout(LAYOUT), user=user, mode=mode)
        try:
            assert not layouts.start(restore=True)
            show(qtbot, other)
            assert other.dockWidgetArea(dock(other, DETAIL_DOCK)) == RIGHT
            assert not dock(other, QUEUE_DOCK).isHidden()
        finally:
            layouts.close()
            other.dock_registry.unregister_all()


def test_restore_false_and_an_explicit_layout_file_never_use_the_saved_arrangement(qtbot, hall_window):
    window = hall_window
    layouts = use(window, parse_layout(LAYOUT), user="alice", mode="desk")
    show(qtbot, window)
    window.addDockWidget(LEFT, dock(window, DETAIL_DOCK))
    layouts.save()
    assert not layouts.start(restore=False)  # screenshots: the built-in sizes, nothing restored
    layouts.remember = False  # a --layout file is the arrangement: not restored, not saved over
    assert not layouts.start(restore=True)
    layouts.reset()
    assert window.dockWidgetArea(dock(window, DETAIL_DOCK)) == RIGHT


def test_new_docks_and_vanished_docks_do_not_break_a_saved_arrangement(qtbot, hall_window, tmp_path,
                                                                       calendar, source, runner):
    window = hall_window
    window.dock_registry.register(DockSpec("plugin.gone", "旧插件", "left", lambda: QLabel("gone")))
    use(window, parse_layout(LAYOUT), user="alice", mode="desk")
    show(qtbot, window)
    window.dock_registry.unregister("gridhall.desk.timers")  # a dock this version does not have yet
    window.close()
    assert "gridhall.desk.timers" not in str(window.settings.value("layouts/alice/desk/1920x1080/docks"))

    # now the plugin is gone and the timers dock is new (not in the saved state)
    again = _second_window(qtbot, tmp_path / "user.ini", calendar, source, runner)
    layouts = use(again, parse_layout(LAYOUT), user="alice", mode="desk")
    try:
        assert layouts.start(restore=True)
        show(qtbot, again)
        timers = dock(again, "gridhall.desk.timers")
        assert not timers.isHidden() and again.dockWidgetArea(timers) == RIGHT  # placed by the layout
        # the plugin comes back later: Qt puts it where the user had it
        again.dock_registry.register(DockSpec("plugin.gone", "旧插件", "right", lambda: QLabel("back")))
        assert again.dockWidgetArea(dock(again, "plugin.gone")) == LEFT
        assert not dock(again, "plugin.gone").isHidden()
    finally:
        layouts.close()
        again.dock_registry.unregister_all()


@pytest.mark.parametrize("damage", [
    {"state": b"not a Qt state"},
    {"state": "text, not bytes"},
    {"version": 1},  # saved by an older version
    {"version": "x"},
])
def test_a_damaged_or_outdated_saved_arrangement_falls_back_to_the_layout(qtbot, hall_window, damage):
    window = hall_window
    layouts = use(window, parse_layout(LAYOUT), user="alice", mode="desk")
    show(qtbot, window)
    window.addDockWidget(LEFT, dock(window, DETAIL_DOCK))
    layouts.save()
    layouts.reset()
    group = SavedArrangements.group("alice", "desk", "1920x1080")
    for key, value in damage.items():
        window.settings.setValue(f"{group}/{key}", value)
    assert not layouts.start(restore=True)
    assert window.dockWidgetArea(dock(window, DETAIL_DOCK)) == RIGHT


def test_user_names_are_safe_settings_keys():
    assert SavedArrangements.group("张三/x", "desk") == "layouts/%5F20%4E09%002Fx/desk"
    assert SavedArrangements.group(None, "wall") == "layouts/_anonymous/wall"


def test_problems_are_shown_in_the_status_bar(hall_window):
    from app.domain.messages import Msg

    hall_window.show_problems([Msg("已改用内置布局 {name}", name="desk")])
    assert hall_window.statusBar().currentMessage() == "已改用内置布局 desk"


def test_every_builtin_layout_names_only_docks_that_exist():
    from app.ui.admin.workspace import ADMIN_DOCK
    from app.ui.archive_dock import ARCHIVE_DOCK
    from app.ui.ledger_dock import LEDGER_DOCK
    from app.ui.replies_dock import REPLIES_DOCK
    from app.ui.stats.dock import STATS_DOCK
    from app.ui.tasks_dock import TASKS_DOCK
    from plugins.duban_today import DOCK_ID

    known = {QUEUE_DOCK, ARCHIVE_DOCK, DETAIL_DOCK, LAYERS_DOCK, ATTRIBUTES_DOCK, DOCK_ID, install.ALERTS_DOCK,
             install.TIMERS_DOCK, install.MEDIA_DOCK, install.INTAKE_DOCK, install.MY_QUEUE_DOCK,
             install.APPROVALS_DOCK, install.WORKBENCH_DOCK, TASKS_DOCK, LEDGER_DOCK, ADMIN_DOCK,
             STATS_DOCK, REPLIES_DOCK}
    for path in sorted(LAYOUTS_DIR.glob("*.toml")):
        layout = load_layout(path)
        assert set(layout.named()) | layout.hidden <= known, path.name


@pytest.mark.parametrize(("role", "groups", "front"), [
    (Role.DISPATCHER, {QUEUE_DOCK: {install.MY_QUEUE_DOCK, install.APPROVALS_DOCK}}, [QUEUE_DOCK, DETAIL_DOCK]),
    (Role.ACCEPTOR, {install.INTAKE_DOCK: {LAYERS_DOCK}}, [install.INTAKE_DOCK, QUEUE_DOCK]),
    (Role.SHIFT_LEADER, {install.APPROVALS_DOCK: {install.TIMERS_DOCK}}, [install.APPROVALS_DOCK, DETAIL_DOCK]),
    (Role.DEPARTMENT, {install.WORKBENCH_DOCK: {QUEUE_DOCK, install.MY_QUEUE_DOCK}},
     [install.WORKBENCH_DOCK, DETAIL_DOCK]),
])
def test_the_desk_of_each_role_on_the_real_desk_docks(qtbot, tmp_path, login_as, queue, runner, desk,  # noqa: F811
                                                       source, role, groups, front):
    from app.ui.work.install import install_work

    window = MainWindow(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    register_builtin_docks(window.dock_registry, builtin_docks(queue, source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    window.dock_registry.register(DockSpec(ATTRIBUTES_DOCK, "要素属性", "left", QLabel))
    actor = login_as(role)
    teardown = install_work(window, queue, runner, desk, actor)
    layout, problems = builtin_layout("desk", actor.role.value)
    assert problems == [] and layout.name == f"desk_{role.value}"
    layouts = WindowLayouts(window, window.dock_registry, layout, window.settings, user=actor.username)
    try:
        layouts.apply(sizes=False)
        window.resize(1920, 1080)
        layouts.start(restore=True)
        show(qtbot, window)
        for anchor, mates in groups.items():
            assert mates <= tabbed(window, anchor)
        for dock_id in front:
            assert in_front(window, dock_id), dock_id
        assert dock(window, install.ALERTS_DOCK).titleBarWidget() is not None
    finally:
        layouts.close()
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()
