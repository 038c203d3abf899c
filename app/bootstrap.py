"""The composition root: the one place that builds the store, map, views and plugins and wires them.

Nothing else looks anything up globally; every part gets what it needs through its constructor.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.config import PLUGINS, redact
from app.core import Core
from app.domain.clock import Clock, SystemClock
from app.services.actors import Actor
from app.store.engine import Store, open_store
from app.store.errors import StoreError

log = logging.getLogger(__name__)

ATTRIBUTES_DOCK = "gridhall.attributes"
INTAKE_DOCK_ID = "gridhall.desk.intake"  # app.ui.work.install.INTAKE_DOCK
#: Map scale of the `--screenshot` view: street scale, where grid codes and components show.
SCREENSHOT_SCALE = 5000


@dataclass
class Hall:
    """Everything the running client is made of, for the screenshot path, tests and teardown."""

    store: Store
    core: Core | None = None  # the headless application the window is built on
    window: object = None
    map_view: object = None
    state: object = None
    controller: object = None
    runner: object = None
    jobs: object = None  # app.jobs.JobRunner: long work with progress and cancel
    job_status: object = None  # app.ui.jobs.JobStatusWidget in the status bar
    job_events: object = None  # app.ui.jobs.JobEvents: the runner's events on the GUI thread
    map_tools: object = None  # app.gis.tools.controller.MapTools
    map_tools_ui: object = None  # app.ui.map_toolbar.MapToolsUi: the map toolbar and 地图 menu
    search_hits: object = None  # app.gis.search_hits.SearchHits: the archive's hits on the map
    plugins: object | None = None
    layouts: object = None
    status_widgets: tuple = ()
    config_watch: object = None  # app.services.config_live.ConfigWatch: saved configuration changes, live
    _closers: list = field(default_factory=list)

    def on_teardown(self, fn) -> None:
        """Run ``fn`` at teardown (in reverse order of registration)."""
        self._closers.append(fn)

    def teardown(self) -> None:
        """Undo everything built, last first; one failing step never skips the others."""
        while self._closers:
            fn = self._closers.pop()
            try:
                fn()
            except Exception:  # keep tearing down: the store must still be closed
                log.exception("teardown step %r failed", fn)


def build_hall(store: Store, *, lang: str = "zh_CN", clock: Clock | None = None, settings=None,
               plugins: bool = True, plugins_dir: Path = PLUGINS, actor=None, live: bool = True,
               mode: str = "desk", layout: str | Path | None = None) -> Hall:
    """Assemble the main window over ``store`` for ``actor`` (None: read-only); QGIS must be started.

    The docks are arranged by the built-in layout of ``mode`` (desk: per role; analyst; wall)
    or by the ``layout`` file (``app/views/layouts.py``); sizes follow in ``hall.layouts.start``.

    The Hall owns ``store`` from here on: its teardown disposes it. If anything fails half-way,
    what was already built (the store included) is torn down before the error propagates.
    """
    hall = Hall(store)
    try:
        _build(hall, lang=lang, clock=clock or SystemClock(), settings=settings, plugins=plugins,
               plugins_dir=plugins_dir, actor=actor, live=live, mode=mode, layout=layout)
    except BaseException:
        hall.teardown()
        raise
    return hall


def _build(hall: Hall, *, lang, clock, settings, plugins, plugins_dir, actor, live, mode, layout) -> None:
    from qtpy.QtWidgets import QVBoxLayout, QWidget

    from app.core import build_core
    from app.gis.canvas import MapView
    from app.gis.case_sync import CaseLayerSync
    from app.gis.layers import build_layers
    from app.i18n import Catalogue
    from app.ui.builtin import builtin_docks, register_builtin_docks
    from app.ui.controller import QueueController
    from app.ui.live_status import LiveStatusIndicator, OfflineBanner
    from app.ui.main_window import MainWindow, user_settings
    from app.ui.tasks import TaskRunner
    from app.views.queue_order import urged_first
    from app.views.queue_state import QueueState

    store = hall.store
    hall.on_teardown(store.dispose)
    catalogue = Catalogue(lang)
    # The headless core first (store, clock, calendar, limits, taxonomy, services, commands);
    # the window, the map and the desk are built on it, with one CaseService and CaseBus.
    hall.core = desk = build_core(store, clock, actor=actor)
    source = desk.source
    assert source is not None
    # 督办 raises the priority: urged cases first in the dispatcher's and the department's queue
    hall.state = state = QueueState(desk.calendar, urged_first=urged_first(actor.role if actor else None))
    hall.runner = runner = TaskRunner()
    hall.on_teardown(runner.wait)
    hall.controller = controller = QueueController(state, source, runner, clock)
    hall.on_teardown(controller.stop)

    hall.map_view = map_view = MapView(build_layers(store, catalogue.tr))
    hall.on_teardown(map_view.teardown)
    hall.on_teardown(CaseLayerSync(state, map_view.layers.feeder).close)
    hall.window = window = MainWindow(settings if settings is not None else user_settings(), catalogue,
                                      capabilities=("cases", "map"))
    hall.on_teardown(window.dock_registry.unregister_all)
    offline_banner = OfflineBanner(catalogue=catalogue)
    central = QWidget()
    column = QVBoxLayout(central)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(0)
    column.addWidget(offline_banner)
    column.addWidget(map_view, 1)
    window.set_central(central)
    indicator = LiveStatusIndicator(catalogue=catalogue)
    window.statusBar().addPermanentWidget(indicator)
    hall.status_widgets = (indicator, offline_banner)
    _install_jobs(hall, catalogue)
    window.set_backend(f"{'PostGIS' if store.backend == 'postgis' else 'SpatiaLite'} {redact(str(store.url))}")
    window.set_map_scale(map_view.scale())
    map_view.scale_changed.connect(window.set_map_scale)
    map_view.canvas.xyCoordinates.connect(lambda p: window.set_cursor_position(p.x(), p.y()))
    hall.on_teardown(window.bind_queue(state))

    register_builtin_docks(window.dock_registry,
                           builtin_docks(state, source, runner, catalogue, map_view.make_layer_tree))
    _install_identify(hall, catalogue)
    hall.on_teardown(state.on_case_selected(lambda _id, x, y: map_view.follow_case(x, y)))  # moves only if needed
    hall.on_teardown(state.events.selection_changed.connect(
        lambda case_id: map_view.clear_highlight() if case_id is None else None))
    window.commands["refresh"] = controller.refresh
    window.commands["zoom_full"] = map_view.zoom_full

    connectivity = _install_live(hall, desk, source, live)
    desk.cases = connectivity.wrap(desk.cases)  # offline: refuse with a clear message, write nothing
    hall.on_teardown(install_desk(hall, desk, actor))
    _install_config_live(hall, desk, live)  # a saved configuration change reaches this desk in seconds
    from app.ui.calendar_warning import install_calendar_watch  # estimated holidays ahead; live reload
    hall.on_teardown(install_calendar_watch(window, store, desk.calendar, clock, runner, catalogue,
                                            watch=hall.config_watch))
    _install_map_tools(hall, catalogue, actor)
    _install_archive(hall, catalogue, actor)
    _install_ledger(hall, catalogue, actor)
    _install_stats(hall, catalogue, actor)
    _install_admin(hall, catalogue, actor)
    _install_base_data(hall, catalogue, actor)
    _install_layouts(hall, mode, layout, actor)
    if plugins:  # plugin docks are placed by the layout as they register
        _install_plugins(hall, plugins_dir, clock, catalogue)


def _install_layouts(hall: Hall, mode: str, layout_file, actor) -> None:
    """Arrange the docks by the mode's layout (per role on the desk) or ``layout_file``.

    A malformed file is reported (status bar, log) and the built-in layout used instead. The
    user's own arrangement is kept per user and mode, except with an explicit layout file.
    """
    from app.ui.layouts import WindowLayouts
    from app.views.layouts import resolve_layout

    window = hall.window
    layout, problems = resolve_layout(mode, actor.role.value if actor is not None else None, layout_file)
    for problem in problems:
        log.warning("layout: %s", problem)
    hall.layouts = layouts = WindowLayouts(
        window, window.dock_registry, layout, window.settings, user=getattr(actor, "username", None),
        mode=mode, remember=layout_file is None, problems=problems)
    hall.on_teardown(layouts.close)
    layouts.apply(sizes=False)  # sizes once the window has its size (``layouts.start``)
    window.use_layouts(layouts)
    window.show_problems(problems)


#: Longest the window's teardown waits for cancelled jobs to stop (seconds).
JOBS_TEARDOWN_WAIT_S = 10.0


def _install_jobs(hall: Hall, catalogue) -> None:
    """The job runner (long work off the GUI thread), its strip in the status bar, and
    文件 → 校验审计链 running ``verify_audit`` as a job. Teardown cancels the jobs and waits."""
    from app.jobs import JobRunner
    from app.store.commands import verify_audit
    from app.ui.actions import ActionSpec
    from app.ui.jobs import JobEvents, JobStatusWidget, job_command, report_outcome

    tr, window, store = catalogue.tr, hall.window, hall.store
    hall.jobs = jobs = JobRunner(max_workers=2, name="gui-job")
    # After the window's parts are gone, before the store closes: cancel, then a bounded wait on
    # the GUI thread (jobs stop at their next check; one that does not is left to its daemon thread).
    hall.on_teardown(lambda: jobs.shutdown(timeout=JOBS_TEARDOWN_WAIT_S))
    hall.job_events = events = JobEvents(jobs, window)
    hall.on_teardown(events.close)
    hall.job_status = JobStatusWidget(events, catalogue)
    window.statusBar().insertPermanentWidget(0, hall.job_status)

    def verify(feedback):
        feedback.progress(0.0, tr("正在校验…"))
        # A fraction per batch of events; read-only, so a cancel just stops (within one batch).
        return verify_audit(store, feedback)

    def describe(problem) -> tuple[str, bool]:
        if problem is None:
            return tr("审计链完整：所有案卷事件的哈希链校验通过"), False
        return tr("审计链被破坏：{problem}", problem=problem), True

    command = job_command(jobs, events, tr("校验审计链"), verify,
                          lambda job: report_outcome(window, catalogue, job, describe))
    window.commands["verify_audit"] = command
    hall.on_teardown(command.disconnect)
    registry = window.action_registry
    registry.register(ActionSpec("gridhall.audit.verify", "校验审计链…", "", "file", "verify_audit",
                                 tip="在后台校验所有案卷事件的哈希链"))
    menu, action = registry.menu("file"), registry.action("gridhall.audit.verify")
    menu.removeAction(action)
    menu.insertAction(registry.action("gridhall.app.quit"), action)  # above 退出
    hall.on_teardown(lambda: registry.unregister("gridhall.audit.verify"))


def _install_identify(hall: Hall, catalogue) -> None:
    """The attributes panel: what the identify tool found; a clicked case also becomes current."""
    from app.ui.attributes_dock import AttributesPanel
    from app.ui.docks import DockSpec

    panel_holder: dict[str, AttributesPanel] = {}

    def make_panel() -> AttributesPanel:
        panel_holder["panel"] = AttributesPanel(catalogue)
        return panel_holder["panel"]

    hall.window.dock_registry.register(DockSpec(ATTRIBUTES_DOCK, "要素属性", "left", make_panel, ("map",)))

    def on_identified(kind: str, attributes: dict) -> None:
        panel = panel_holder.get("panel")
        if panel is not None:
            panel.show_feature(kind, describe_feature(hall, kind, attributes))
            if ATTRIBUTES_DOCK in hall.window.dock_registry.ids():  # identify raises its panel
                dock = hall.window.dock_registry.dock(ATTRIBUTES_DOCK)
                dock.show()
                dock.raise_()
        case_id = attributes.get("case_id")
        if kind == "case" and case_id is not None and hall.state.summary(int(case_id)) is not None:
            hall.state.select(int(case_id))

    hall.map_view.identified.connect(on_identified)
    hall.on_teardown(lambda: hall.map_view.identified.disconnect(on_identified))


def describe_feature(hall: Hall, kind: str, attributes: dict) -> dict:
    """An identified feature's attributes as the panel shows them: ids replaced by what they name
    (a case's state, category, department and address from the queue; a component's category and
    departments); enum values are labelled by the panel."""
    shown = dict(attributes)
    core = hall.core
    if kind == "case" and attributes.get("case_id") is not None and hall.state is not None:
        row = hall.state.summary(int(attributes["case_id"]))
        if row is not None:
            shown.update(state=row.state.value, level=row.level.value, source=row.source.value,
                         category=f"{row.category_code} {row.category_name}",
                         department=row.department_name or "", grid_code=row.grid_code or "",
                         address=row.address or "")
    elif kind == "component" and core is not None:
        code = str(attributes.get("code") or "")
        category = core.taxonomy.find("component", code[6:11]) if len(code) == 17 else None
        if category is not None:
            shown["category"] = f"{category.code} {category.name}"
            shown.pop("category_id", None)
        names = {dept_id: name for dept_id, _code, name in core.departments()} if any(
            attributes.get(f"{role}_department_id") for role in ("authority", "owner", "maintainer")) else {}
        for role in ("authority", "owner", "maintainer"):
            dept_id = shown.pop(f"{role}_department_id", None)
            if dept_id is not None:
                shown[f"{role}_department"] = names.get(dept_id, str(dept_id))
    return shown


#: The map's own status messages last this long (ms).
_MAP_STATUS_MS = 6000


def _install_map_tools(hall: Hall, catalogue, actor) -> None:
    """The map toolbar and 地图 menu (tools, extent history, measure, go-to, bookmarks, export as a
    job), the map's right-click menu and the queue rows' right-click menu."""
    from app.gis.tools.controller import MapTools, theme_icons
    from app.ui.jobs import job_command, report_outcome
    from app.ui.map_toolbar import MapToolsUi, map_context_entries

    window, view, tr = hall.window, hall.map_view, catalogue.tr
    tools = MapTools(view, window.settings, getattr(actor, "username", None))
    hall.on_teardown(tools.teardown)
    pending: dict[str, str] = {}

    def export_work(feedback):
        return pending["work"](feedback)

    def describe(path) -> tuple[str, bool]:
        return tr("地图已导出：{path}", path=str(path)), False

    command = None
    if hall.jobs is not None and hall.job_events is not None:
        command = job_command(hall.jobs, hall.job_events, tr("导出地图"), export_work,
                              lambda job: report_outcome(window, catalogue, job, describe))
        hall.on_teardown(command.disconnect)

    def export(path: str):
        if command is None:
            return None
        now = hall.core.clock.now() if hall.core is not None else None
        pending["work"] = tools.export_work(path, tr("GridHall 数字城管 · 地图"),
                                            now.strftime("%Y-%m-%d %H:%M") if now is not None else "",
                                            tr("图例"))
        return command()

    from app.services.geocode import geocode

    ui = MapToolsUi(window, tools, tools.bookmarks, catalogue, export, theme_icons(),
                    geocode=lambda text: geocode(hall.store, text, 8))
    hall.on_teardown(ui.teardown)
    hall.map_tools, hall.map_tools_ui = tools, ui

    def new_case(x: float, y: float) -> None:
        if INTAKE_DOCK_ID not in window.dock_registry.ids():
            return
        dock = window.dock_registry.dock(INTAKE_DOCK_ID)
        dock.show()
        dock.raise_()
        dock.widget().set_point(x, y, None)

    may_report = INTAKE_DOCK_ID in window.dock_registry.ids()
    view.context_entries = map_context_entries(
        catalogue, identify=tools.identify_at, coordinate_text=tools.coordinate_text,
        zoom_here=tools.zoom_here, new_case=new_case if may_report else None,
        notify=lambda text: window.statusBar().showMessage(text, _MAP_STATUS_MS))
    hall.on_teardown(lambda: setattr(view, "context_entries", []))

    def locate(case_id: int) -> None:
        row = hall.state.summary(case_id)
        if row is not None:
            view.zoom_to_case(row.x, row.y)

    window.commands["locate_case"] = locate
    window.install_queue_menu()


def _install_archive(hall: Hall, catalogue, actor) -> None:
    """The case archive (案卷库): every case searched in a worker, hits marked on the map; the
    queue's search box falls back to it when the loaded queue holds no match (or on Enter)."""
    from app.gis.search_hits import SearchHits
    from app.ui.archive_dock import ARCHIVE_DOCK, ArchiveDock
    from app.ui.builtin import QUEUE_DOCK
    from app.ui.docks import DockSpec

    core, window, state = hall.core, hall.window, hall.state
    hits = SearchHits(hall.map_view.canvas)
    hall.on_teardown(hits.teardown)

    def find(query: str, limit: int, offset: int):
        return core.find_cases(actor, query, limit=limit, offset=offset)

    def make() -> ArchiveDock:
        return ArchiveDock(state, find, hall.runner, catalogue,
                           on_hits=lambda rows: hits.show((row.x, row.y) for row in rows))

    window.dock_registry.register(DockSpec(ARCHIVE_DOCK, "案卷库", "bottom", make, ("cases",)))
    hall.search_hits = hits

    def search_all(text: str, explicit: bool, report) -> None:
        if ARCHIVE_DOCK not in window.dock_registry.ids():
            return
        dock = window.dock_registry.dock(ARCHIVE_DOCK)
        archive = dock.widget()

        def done(result) -> None:
            if isinstance(result, BaseException):
                report(None, catalogue.error(result))
                return
            report(result.total, "")
            if explicit and result.total:
                dock.show()
                dock.raise_()

        archive.search(text, done=done)

    if QUEUE_DOCK in window.dock_registry.ids():
        queue = window.dock_registry.widget(QUEUE_DOCK)
        queue.search_all = search_all
        queue.search_all_button.setVisible(True)
        hall.on_teardown(lambda: setattr(queue, "search_all", None))


#: Roles that read the request ledger (台账): those who decide, lead, evaluate, and the departments (their own).
LEDGER_ROLES = ("dispatcher", "shift_leader", "leader", "analyst", "department")


def _install_ledger(hall: Hall, catalogue, actor) -> None:
    """The request ledger (台账): read in a worker through ``core.ledger`` (a department its own cases),
    exported as jobs; a double click makes the entry's case current."""
    from app.ui.docks import DockSpec
    from app.ui.ledger_dock import LEDGER_DOCK, LedgerDock

    if actor is None or actor.role.value not in LEDGER_ROLES:
        return
    core, state = hall.core, hall.state
    source = core.source

    def make() -> LedgerDock:
        return LedgerDock(lambda start, end, kind: core.ledger(actor, start, end, kind=kind), hall.runner,
                          core.clock.now().date(), catalogue, jobs=hall.jobs, job_events=hall.job_events,
                          state=state, fetch=source.case if source is not None else None)

    hall.window.dock_registry.register(DockSpec(LEDGER_DOCK, "台账", "bottom", make, ("cases",)))


#: Roles that read the statistics (统计分析): those who evaluate and lead.
STATS_ROLES = ("analyst", "leader", "shift_leader", "dispatcher", "admin")


def _install_stats(hall: Hall, catalogue, actor) -> None:
    """The statistics dock (统计分析, issue 13): charts computed as jobs over ``app.services.statistics``
    (the evaluation's figures), the cases behind a figure marked with the archive's hits, the grid
    layer coloured by density or score (app/gis/stats_grid.py; its style restored)."""
    from app.gis.stats_grid import GridShading
    from app.services import statistics
    from app.ui.docks import DockSpec
    from app.ui.stats.dock import STATS_DOCK, StatsDock

    if actor is None or actor.role.value not in STATS_ROLES or hall.jobs is None:
        return
    core, store = hall.core, hall.store
    layers = getattr(hall.map_view, "layers", None)
    shading = GridShading(layers.unit_grids) if layers is not None else None
    if shading is not None:
        hall.on_teardown(shading.teardown)
    hits = hall.search_hits

    def make() -> StatsDock:
        today = core.clock.now().date()
        return StatsDock(
            lambda start, end, feedback: statistics.compute(store, actor, start, end, today=today, feedback=feedback,
                                                            tr=catalogue.text),
            today, catalogue, jobs=hall.jobs, job_events=hall.job_events, runner=hall.runner,
            month_cases=lambda action, first, last: statistics.month_cases(store, actor, action, first, last),
            points=lambda numbers: statistics.case_points(store, actor, numbers),
            on_hits=hits.show if hits is not None else None,
            shade=shading.show if shading is not None else None,
            unshade=shading.restore if shading is not None else None, find=find, state=hall.state,
            bulletin=bulletin)

    def bulletin(first_day, out, feedback):  # 生成月报 (app/reports/build.py), in the dock's job
        from app.reports.build import build_bulletin
        from app.services.bulletin import Month

        return build_bulletin(store, actor, Month(first_day.year, first_day.month), out, core.clock, catalogue.text,
                              lang=catalogue.language, by=actor.username, feedback=feedback)

    def find(number: str):  # a listed case by its number (any state), for the detail and the map
        return next((r for r in core.find_cases(actor, number, limit=5).rows if r.number == number), None)

    hall.window.dock_registry.register(DockSpec(STATS_DOCK, "统计分析", "bottom", make, ("cases",)))


def _install_admin(hall: Hall, catalogue, actor) -> None:
    """The administrator's workspace (系统管理: calendar, users, configuration, history; app/ui/admin),
    for the administrator only; its pages call the configuration services in workers."""
    from app.domain.definitions import Role
    from app.ui.admin.workspace import ADMIN_DOCK, ADMIN_TITLE, make_workspace
    from app.ui.docks import DockSpec

    if actor is None or actor.role is not Role.ADMIN:
        return
    core, pick = hall.core, None
    map_view = hall.map_view
    if map_view is not None and hasattr(map_view, "canvas"):  # the routing test box picks its point on the map
        from app.gis.pick_tool import MapPicker

        pick = MapPicker(map_view.canvas, lambda: map_view.layers.components if map_view.layers else None).pick
        # the 基础数据 page's split line and redraw (issue 15)
        from app.gis.base_edit_tools import BaseEditTools
        from app.ui.base_maint import set_map_tools

        set_map_tools(BaseEditTools(map_view.canvas, lambda: (map_view.layers.unit_grids, map_view.layers.components)
                                    if map_view.layers else ()))
        hall.on_teardown(lambda: set_map_tools(None))
    make = make_workspace(hall.store, actor, hall.runner, catalogue, core.clock, core.departments, pick,
                          watch=hall.config_watch, draw=_admin_draw(hall))
    hall.window.dock_registry.register(DockSpec(ADMIN_DOCK, ADMIN_TITLE, "right", make, ()))


def _admin_draw(hall: Hall):
    """The administrator's polygon drawing on the map (app/gis/admin_draw.py) as the workspace's
    seam: (draw(callback), show(wkt)), or None without a map canvas."""
    map_view = hall.map_view
    if map_view is None or not hasattr(map_view, "canvas"):
        return None
    from app.gis.admin_draw import MapDrawer

    drawer = MapDrawer(map_view.canvas)
    return drawer.draw, drawer.show


def _install_base_data(hall: Hall, catalogue, actor) -> None:
    """文件 → 导入基础数据… (administrator) and 导出数据… (app/ui/base_data, issue 15): jobs on the
    window's runner; cases narrowed by the queue's shown rows or the archive's current query."""
    from app.ui.archive_dock import ARCHIVE_DOCK
    from app.ui.base_data import install

    window = hall.window

    def archive_query() -> str:
        if ARCHIVE_DOCK not in window.dock_registry.ids():
            return ""
        return window.dock_registry.widget(ARCHIVE_DOCK).query.text().strip()

    hall.on_teardown(install(window, hall.store, actor, hall.jobs, hall.job_events, catalogue,
                             queue_ids=lambda: hall.state.visible_ids, archive_query=archive_query))


def _install_plugins(hall: Hall, plugins_dir: Path, clock, catalogue) -> None:
    """Load the extension plugins through the same registries the built-in docks use."""
    from app.plugin.api import AppServices
    from app.plugin.loader import PluginManager

    window = hall.window
    services = AppServices(window.dock_registry, window.action_registry, hall.state, clock, catalogue,
                           commands=hall.core.commands if hall.core is not None else None)
    manager = PluginManager(plugins_dir, plugins_dir.name, services)
    hall.plugins = manager
    hall.on_teardown(manager.shutdown)
    manager.start()
    window.set_plugin_report(manager.report)
    _follow_plugin_layers(services, hall.map_view, hall)


def _install_config_live(hall: Hall, desk, live: bool) -> None:
    """The configuration feed (app.services.config_live): on a saved change the core reloads its
    calendar and limits (feed thread), then the alert banner takes the stored alert rules and the
    queue reloads its rows (deadlines, lights) on the GUI thread; other views subscribe to
    ``hall.config_watch`` (the calendar warning, the administrator's pages)."""
    if not live:
        return
    from app.services.config_live import ConfigWatch
    from app.ui.live_bridge import GuiDeliverer
    from app.ui.work.install import ALERTS_DOCK

    deliver = GuiDeliverer(hall.window)
    hall.on_teardown(deliver.close)
    hall.config_watch = watch = ConfigWatch(hall.store, deliver, refresh=desk.refresh_config)
    registry = hall.window.dock_registry

    def changed(update) -> None:
        if ALERTS_DOCK in registry.ids() and hasattr(registry.widget(ALERTS_DOCK), "set_stored"):
            registry.widget(ALERTS_DOCK).set_stored(update.settings.get("alerts"))
        from qtpy.QtWidgets import QWidget

        for picker in hall.window.findChildren(QWidget, "categoryPicker"):  # intake: categories in use only
            picker.hidden = update.disabled_categories
        if not update.first and hall.controller is not None:
            hall.controller.refresh()

    hall.on_teardown(watch.subscribe(changed))
    hall.on_teardown(watch.close)
    watch.start()


def _install_live(hall: Hall, desk, source, live: bool):
    """Live sync: one change feed (LISTEN/NOTIFY on PostGIS, polling on SpatiaLite) feeding the
    queue, the map and the desk's bus, and the connectivity watch that guards every action."""
    from app.services.connectivity import Connectivity
    from app.services.live import LiveSync
    from app.store.notify import change_feed
    from app.ui.live_bridge import GuiDeliverer

    connectivity = Connectivity.for_store(hall.store)
    indicator, banner = hall.status_widgets
    deliver = GuiDeliverer(hall.window)

    def show(status) -> None:
        indicator.set_status(status)
        banner.set_status(status)

    connectivity.on_change(lambda status: deliver(lambda: show(status)))
    hall.on_teardown(deliver.close)
    if live:
        from app.ui.tasks import LoopGate, PacedReads

        gate = LoopGate(hall.window)  # re-reading a burst of changed cases lets the GUI's loop come round
        sync = LiveSync(change_feed(hall.store), PacedReads(source, gate), desk.bus, deliver, queue=hall.state,
                        on_resync=hall.controller.refresh, on_claims=desk.claims_changed,
                        connectivity=connectivity)
        hall.on_teardown(sync.close)
        hall.on_teardown(gate.close)  # (runs first) a read waiting at the gate goes on at once
        sync.start()
    return connectivity


def _follow_plugin_layers(services, map_view, hall: Hall) -> None:
    """Add the map layers plugins register to the map, and remove them on unregister."""
    added: dict[str, object] = {}

    def on_added(entry) -> None:
        try:
            layer = entry.factory()
            map_view.project.addMapLayer(layer)
            added[entry.name] = layer
        except Exception:  # a plugin's layer must never take the map down
            log.exception("plugin map layer %s could not be added", entry.name)

    def on_removed(entry) -> None:
        layer = added.pop(entry.name, None)
        if layer is not None and map_view.project.mapLayer(layer.id()) is not None:
            map_view.project.removeMapLayer(layer.id())

    for entry in services.map_layers.entries():
        on_added(entry)
    hall.on_teardown(services.map_layers.added.connect(on_added))
    hall.on_teardown(services.map_layers.removed.connect(on_removed))


def _login(db_url: str, store: Store | None, clock: Clock, user: str | None, password: str | None,
           ask: bool, catalogue=None):
    """Who acts, and over which store: (store, actor, exit_code).

    ``user`` logs in without a dialog (password from the caller; on PostGIS ~/.pgpass may
    supply it); ``ask`` shows the login dialog; neither gives a read-only view (actor None).
    On PostGIS the returned store is connected AS the user's own database login, so row-level
    security and the database's checks apply to everything this client does.
    """
    from app.services.auth import AuthError
    from app.services.hall_login import LoginAttempts, hall_login

    if user:
        if password is None and store is not None:  # SpatiaLite: nothing else can supply it
            print("gridhall: --user needs the password in $GRIDHALL_PASSWORD")
            return store, None, 1
        try:
            own, actor = hall_login(db_url, user, password, clock=clock)
        except (AuthError, StoreError) as exc:
            print(f"gridhall: {catalogue.error(exc) if catalogue is not None else exc}")
            return store, None, 1
        if store is not None:
            store.dispose()
        return own, actor, None
    if ask:
        from app.config import DEFAULT_DB
        from app.ui.forms.login_dialog import ask_login

        attempts = LoginAttempts(db_url, clock)
        demo = store is not None and store.path is not None and store.path.resolve() == DEFAULT_DB.resolve()
        actor = ask_login(store, clock, username="demo_dispatcher" if demo else "", attempt=attempts,
                          catalogue=catalogue)
        if actor is None:
            if attempts.store is not None:
                attempts.store.dispose()
            return store, None, 0
        if store is not None:
            store.dispose()
        return attempts.store, actor, None
    return store, None, None


def _splash(app, lang: str):
    """A start-up card while the layers and services are built (a few seconds on a remote store)."""
    from qtpy.QtCore import Qt
    from qtpy.QtGui import QColor, QPixmap
    from qtpy.QtWidgets import QSplashScreen

    from app.i18n import Catalogue

    card = QPixmap(520, 150)
    card.fill(QColor("#1f3a5f"))
    splash = QSplashScreen(card)
    splash.showMessage("GridHall\n" + Catalogue(lang).tr("正在打开地图和案卷…"),
                       Qt.AlignmentFlag.AlignCenter, QColor("white"))
    splash.show()
    app.processEvents()  # paint the card once before the synchronous build
    return splash


def _scale_from_layout(mode: str, layout: str | None, ui_scale: float | None = None,
                       screen: tuple[int, int, float] | None = None) -> None:
    """Set the UI scale factor (Qt reads it when the application starts).

    ``ui_scale`` (--ui-scale, $GRIDHALL_UI_SCALE) wins; else the layout's ``scale`` — only what
    is known before the login counts: the ``layout`` file, else the mode's generic built-in
    layout (desk.toml, analyst.toml, wall.toml); else automatic from ``screen`` (width, height,
    logical DPI; ``app.ui.style.auto_ui_scale``). $QT_SCALE_FACTOR, if set, wins over all.
    """
    import os

    from app.ui.style import choose_ui_scale
    from app.views.layouts import resolve_layout

    if os.environ.get("QT_SCALE_FACTOR"):
        return
    chosen, _problems = resolve_layout(mode, None, layout)  # problems are reported after the login
    scale = choose_ui_scale(ui_scale, chosen.scale, screen)
    if scale != 1:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"


def run_client(*, db_url: str, lang: str = "zh_CN", screenshot: str | None = None,
               size: tuple[int, int] = (1920, 1080), plugins: bool = True, user: str | None = None,
               password: str | None = None, login: bool = True, mode: str = "desk",
               layout: str | None = None, ui_scale: float | None = None) -> int:
    """Open the client on ``db_url``; with ``screenshot`` render once, save the PNG and exit.

    ``ui_scale`` None scales the UI for the screen (a screenshot: for ``size``), see
    ``_scale_from_layout``.

    ``mode`` (desk, analyst, wall) picks the built-in layout, ``layout`` a layout file instead;
    the user's own arrangement of that mode is restored, except for screenshots (deterministic).

    Interactive start asks for a login unless ``login`` is False (read-only view) or ``user``
    is given (password from the caller, e.g. $GRIDHALL_PASSWORD); screenshots never ask.
    """
    from app.store.engine import parse_url

    _, path = parse_url(db_url)
    logging_in = bool(user) or (login and not screenshot)
    # A SpatiaLite file is opened first (clear StoreError before any window appears); on PostGIS
    # the store comes out of the login, connected as the user's own database login.
    store = open_store(db_url) if path is not None or not logging_in else None
    from app.gis.qgis_app import start_qgis
    from app.ui.style import apply_theme, probe_screen

    _scale_from_layout(mode, layout, ui_scale, (*size, 96.0) if screenshot else probe_screen())
    app = start_qgis()
    apply_theme(app)
    from app.i18n import Catalogue
    from app.ui.translations import install_qt_translations
    install_qt_translations(app, lang)  # Qt's own buttons and dialogs in the interface language
    clock = SystemClock()
    store, actor, code = _login(db_url, store, clock, user, password, ask=login and not screenshot,
                                catalogue=Catalogue(lang))
    if code is not None:
        if store is not None:
            store.dispose()
        return code
    settings = None
    if screenshot:
        from app.ui.screenshot import screenshot_settings
        settings = screenshot_settings()
    splash = None if screenshot else _splash(app, lang)
    hall = build_hall(store, lang=lang, clock=clock, settings=settings, plugins=plugins, actor=actor,
                      mode=mode, layout=layout)
    window = hall.window
    for problem in hall.layouts.problems:  # a broken layout file: said once, then the built-in one
        print(f"gridhall: {window.cat.text(problem)}", file=sys.stderr)
    ratio = app.devicePixelRatio() if screenshot else 1  # a scaled screenshot keeps --size pixels
    window.resize(round(size[0] / ratio), round(size[1] / ratio))
    hall.layouts.start(restore=not screenshot)
    hall.controller.start()
    window.show()
    if not screenshot:
        from app.ui.heap import settle_heap

        settle_heap()  # the start-up's objects are never walked by a full collection again (app/ui/heap.py)
    if splash is not None:
        splash.finish(window)
    if screenshot:
        from app.ui.screenshot import wait_for_queue
        app.processEvents()  # lay the shown window out, then size the docks for it
        hall.layouts.apply_sizes()
        loaded = wait_for_queue(hall.state, timeout_ms=60000)
        if hall.jobs is not None:  # e.g. the statistics dock's charts
            from app.ui.screenshot import wait_for_jobs
            wait_for_jobs(hall.jobs)
        if loaded and hall.state.visible_ids:
            # Show what a dispatcher sees after picking the most urgent case: its timeline,
            # and the map at street scale with grid codes, components and the flashing case.
            hall.state.select(hall.state.visible_ids[0])
            hall.map_view.canvas.zoomScale(SCREENSHOT_SCALE)
        rendered = hall.map_view.wait_rendered(60000)
        hall.runner.wait()
        hall.controller.tick_now()
        app.processEvents()  # screenshot path only: deliver the timeline and last repaint
        ok = window.grab().save(screenshot)
        hall.teardown()
        if not (ok and loaded and rendered):
            from app.domain.messages import Msg

            why = [Msg("无法写入 {path}（目录不存在、没有写权限或磁盘已满？）", path=screenshot)] if not ok else []
            if not loaded:
                why.append(Msg("案卷队列 60 秒内未加载完"))
            if not rendered:
                why.append(Msg("地图 60 秒内未绘制完"))
            print(f"gridhall: {window.cat.text(Msg('截图不完整：{why}', why=why))}", file=sys.stderr)
            return 1
        print(f"saved {screenshot}")
        return 0
    code = app.exec_()
    hall.teardown()
    end_process(hall, code)
    return code  # not reached


def end_process(hall: Hall, code: int) -> None:
    """End the client's process as soon as its orderly teardown is done.

    Python's and QGIS's own finalisation after that (thousands of sip wrappers, providers, GDAL
    and PROJ) took about a second and saves nothing: the store is already disposed, the plugins
    stopped and the jobs waited for. What would be lost is flushed here: the window's settings
    (the layout), the logs, stdout/stderr, and the temporary QGIS profile is removed.
    """
    import contextlib
    import os

    from app.gis.qgis_app import discard_temp_profile

    settings = getattr(hall.window, "settings", None)
    if settings is not None and hasattr(settings, "sync"):
        settings.sync()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed or broken pipe
            stream.flush()
    discard_temp_profile()
    os._exit(code)


def install_desk(hall, desk: Core, actor: Actor | None) -> Callable[[], None]:
    """Register the desk docks and case actions for ``actor`` in ``hall.window``; returns the teardown.

    ``actor`` None (demo mode without login) installs a read-only desk: timers, alerts, photos.
    """
    from app.ui.work.install import install_work

    pick = unpick = None
    map_view = getattr(hall, "map_view", None)
    if map_view is not None and hasattr(map_view, "canvas"):
        from app.gis.pick_tool import MapPicker

        picker = MapPicker(map_view.canvas, lambda: map_view.layers.components if map_view.layers else None)
        pick, unpick = picker.pick, picker.clear_marker
    teardown = install_work(hall.window, hall.state, hall.runner, desk, actor, pick=pick, unpick=unpick,
                            catalogue=getattr(hall.window, "cat", None))
    stop_watching = watch_claims(hall.window.dock_registry, hall.state, hall.runner, desk, actor)
    if actor is not None:
        hall.window.set_user(actor.label)

    def teardown_all() -> None:
        stop_watching()
        teardown()

    teardown_all.desk = getattr(teardown, "desk", None)  # type: ignore[attr-defined]
    return teardown_all


def watch_claims(registry, state, runner, desk: Core, actor: Actor | None) -> Callable[[], None]:
    """Show on the case detail dock who else holds the selected case; follows selection and
    ``desk.claims_changed``. Returns the teardown."""
    from app.ui.builtin import DETAIL_DOCK
    from app.ui.claim_banner import ClaimWatcher

    def show(case_id: int, text: str | None) -> None:
        # looked up each time: the detail dock may be closed and registered again
        if DETAIL_DOCK in registry.ids():
            widget = registry.widget(DETAIL_DOCK)
            if hasattr(widget, "show_claim"):
                widget.show_claim(case_id, text)

    watcher = ClaimWatcher(state, lambda case_id: desk.claim_text(actor, case_id), runner, show)
    unsubscribe = desk.on_claims_changed(watcher.claims_changed)

    def teardown() -> None:
        unsubscribe()
        watcher.teardown()

    teardown.watcher = watcher  # type: ignore[attr-defined]
    return teardown
