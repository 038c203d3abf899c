"""Text is data, never markup: hostile case and user text in every view that shows it.

Each view gets the same strings — HTML with font/img/a/h1/table whose ``<img>`` names a real local
PNG of a colour found nowhere else, a 3,000-character unbroken run, control characters and an
RTL override — and is grabbed: no pixel of the markup's pure red and none of the probe image's
pure green may appear (a positive control shows both do when Qt renders the markup), the literal
tags are what the widget holds, and long text wraps or is elided instead of widening the window.

Set ``HOSTILE_SHOTS=<dir>`` to keep the screenshots (the detail panel and the dispatcher's desk at
1920×1080) for a look.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from qtpy.QtCore import QPoint, QSettings, Qt
from qtpy.QtGui import QColor, QImage
from qtpy.QtWidgets import QApplication, QLabel, QMainWindow, QToolTip, QWidget
from samples import MemoryCaseSource, case_row

from app.domain.cases import CaseEventRecord
from app.i18n import Catalogue
from app.ui import plain
from app.ui.detail_dock import CaseDetailDock
from app.views.queue_state import QueueState
from ui.forms.world import desk, desk_store, desk_template, login_as  # noqa: F401  (fixtures)

from .conftest import NOW

pytestmark = pytest.mark.neutral

PROBE = (0, 255, 0)  # the probe image's colour: pure green, used by nothing in the interface
LONG = "".join(chr(ord("A") + i % 26) for i in range(3000))  # 3,000 characters, no break anywhere
CONTROLS = "\u202eevil\u202c\x1b[2J\x1b[1;31m\x07\x7f\x01\x85 note\u2066x\u2069"


@pytest.fixture
def probe(tmp_path) -> Path:
    """A real local PNG of pure green, 48×48."""
    path = tmp_path / "probe.png"
    image = QImage(48, 48, QImage.Format.Format_RGB32)
    image.fill(QColor(*PROBE))
    assert image.save(str(path))
    return path


def markup(probe: Path, tag: str = "") -> str:
    return (f'<font color="red" size="6">RED-BIG{tag}</font><img src="{probe}">'
            f'<a href="http://example.invalid/">CLICK</a><h1>HEAD</h1><table border=1><tr><td>T</td></tr></table>')


def pixels(source) -> np.ndarray:
    """The widget's (or image's) pixels as an H×W×3 RGB array."""
    image = source if isinstance(source, QImage) else source.grab().toImage()
    image = image.convertToFormat(QImage.Format.Format_RGB32)
    bits = image.constBits()
    if hasattr(bits, "setsize"):  # PyQt5's sip.voidptr
        bits.setsize(image.sizeInBytes())
    raw = np.frombuffer(bytes(bits), np.uint8).reshape(image.height(), image.bytesPerLine())
    bgra = raw[:, : image.width() * 4].reshape(image.height(), image.width(), 4)
    return bgra[:, :, 2::-1]


def marks(source) -> dict[str, int]:
    """How many pixels show the markup's pure red text and the probe image's pure green."""
    rgb = pixels(source).astype(int)
    r, g, b = rgb[:, :, 0], rgb[:, :, 1], rgb[:, :, 2]
    return {"red": int(((r >= 235) & (g <= 40) & (b <= 40)).sum()),
            "probe": int(((r <= 20) & (g >= 235) & (b <= 20)).sum())}


def clean_screen(source) -> None:
    assert marks(source) == {"red": 0, "probe": 0}


def save(widget: QWidget, name: str) -> None:
    folder = os.environ.get("HOSTILE_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / name))


def hostile_row(case_id: int, probe: Path, *, address: str | None = None):
    row = case_row(case_id, NOW, limit_minutes=100, started_minutes_ago=95, department=("D01", markup(probe, "D")),
                   category=("06010", markup(probe, "C")), grid_code="320582001001001")
    return row.__class__(**{**row.__dict__, "address": address if address is not None else markup(probe, "A"),
                            "description": markup(probe, "S") + CONTROLS,
                            "street_name": f"<h1>{CONTROLS}</h1>", "community_name": LONG[:300]})


def hostile_timeline(probe: Path):
    return [
        CaseEventRecord(1, NOW - timedelta(minutes=95), "report", None, "reported", markup(probe, "U"), "supervisor",
                        department_name=markup(probe, "D"), reason=markup(probe, "R")),
        CaseEventRecord(2, NOW - timedelta(minutes=60), "urge", "handling", "handling", LONG[:200] + CONTROLS,
                        "leader", reason=LONG + "\n" * 50 + CONTROLS),
    ]


def shown_tooltip(text: str, widget: QWidget) -> QWidget:
    """Show ``text`` as Qt shows a tooltip and return the tooltip widget."""
    QToolTip.showText(widget.mapToGlobal(QPoint(5, 5)), text, widget)
    tips = [w for w in QApplication.topLevelWidgets() if w.inherits("QLabel") and w.isVisible()
            and w.metaObject().className() == "QTipLabel"]
    assert tips, "no tooltip shown"
    return tips[0]


# ---- the helpers -------------------------------------------------------------------------------


def test_the_probe_sees_markup_when_qt_renders_it(qtbot, probe):
    """Positive control: an ordinary QLabel renders the string as rich text, loading the local image."""
    label = QLabel(markup(probe))
    qtbot.addWidget(label)
    label.resize(900, 400)
    seen = marks(label)
    assert seen["red"] > 50 and seen["probe"] >= 48 * 48


def test_plain_text_helpers():
    assert plain.clean("a\x1b[2Jb\x07\x7f\x01\u202ec\r\nd\u2028e\x85f\tg") == "a\ufffd[2Jb\ufffd\ufffd\ufffd\ufffdc\nd\ne\nf\tg"
    assert plain.clean(None) == ""
    chinese = "苏州市姑苏区人民路二十五号门口井盖破损严重影响通行" * 5
    assert plain.breakable(chinese) == chinese  # Chinese breaks anywhere already
    assert plain.breakable("ordinary words stay") == "ordinary words stay"
    broken = plain.breakable(LONG)
    assert broken.replace(plain.ZWSP, "") == LONG
    assert max(len(part) for part in broken.split(plain.ZWSP)) == plain.RUN
    assert plain.breakable("e\u0301" * 30).replace(plain.ZWSP, "") == "e\u0301" * 30
    assert all(not part.startswith("\u0301") for part in plain.breakable("e\u0301" * 30).split(plain.ZWSP))
    assert plain.html('<img src="x">\n&') == "&lt;img src=&quot;x&quot;&gt;<br>&amp;"
    assert plain.tooltip("正常的说明") == "正常的说明"
    tip = plain.tooltip('<font color="red">x</font>')
    assert "<font" not in tip and "&lt;font" in tip
    assert len(plain.tooltip("x" * 100_000)) < 2 * plain.TOOLTIP_CHARS
    assert plain.tooltip("   ") == ""
    assert plain.line("a\nb\r\nc") == "a b c"
    assert plain.clamp("x" * 10, 4) == ("xxxx…", True)
    assert plain.clamp("a\nb\nc", max_lines=2) == ("a\nb…", True)


def test_labels_hold_the_whole_text_and_show_it_plain(qtbot, probe):
    label = plain.PlainLabel(markup(probe) + LONG, max_chars=100, max_lines=2)
    qtbot.addWidget(label)
    assert label.textFormat() == Qt.TextFormat.PlainText and label.wordWrap()
    assert label.full_text().startswith('<font color="red"') and len(label.text()) < 120
    assert "&lt;font" in label.toolTip()
    label.resize(300, 200)
    clean_screen(label)
    elided = plain.ElidedLabel(markup(probe) + LONG, max_width=400)
    qtbot.addWidget(elided)
    assert elided.sizeHint().width() <= 400 and elided.minimumSize().width() < 60
    assert elided.text().startswith('<font color="red"')  # what it holds; painted elided
    assert elided.shown_text().endswith("…") and "&lt;font" in elided.toolTip()
    clean_screen(elided)


# ---- the case detail ---------------------------------------------------------------------------


@pytest.fixture
def hostile(qtbot, calendar, runner, probe):
    long_address = case_row(2, NOW, limit_minutes=100, started_minutes_ago=95)
    long_address = long_address.__class__(**{**long_address.__dict__, "address": LONG,
                                             "description": "井盖破损，" + markup(probe, "S")})
    rows = [hostile_row(1, probe), long_address, hostile_row(3, probe, address=CONTROLS)]
    source = MemoryCaseSource(rows, {r.id: hostile_timeline(probe) for r in rows})
    state = QueueState(calendar)
    state.reset(rows, NOW)
    return state, source


def test_the_detail_dock_shows_every_field_as_text(qtbot, hostile, runner, probe):
    state, source = hostile
    dock = CaseDetailDock(state, source, runner)
    qtbot.addWidget(dock)
    dock.resize(480, 900)
    dock.show()
    for case_id in (1, 3):
        state.select(case_id)
        qtbot.waitUntil(lambda: dock.timeline.count() == 2)
        for key in ("类别", "责任部门", "网格", "地址", "描述"):
            assert dock.fields[key].textFormat() == Qt.TextFormat.PlainText, key
        assert "<font" in dock.fields["描述"].text() and "<img" in dock.fields["描述"].text()
        assert "<h1>" in dock.fields["网格"].text()
        assert "\x1b" not in dock.fields["描述"].text() and "\u202e" not in dock.fields["描述"].text()
        assert "\ufffd[2J" in dock.fields["描述"].text()
        first, second = (dock.timeline.item(i).text() for i in range(2))
        assert "<font" in first and "RED-BIGU" in first and "RED-BIGR" in first
        assert "\u202e" not in second and second.count("\n") < 15  # the 50 blank lines are clamped
        note_tip = dock.timeline.item(1).toolTip()  # the whole note, escaped and wrapping
        assert note_tip.startswith("<p") and LONG[:100] in note_tip.replace(plain.ZWSP, "")
        clean_screen(dock)
    dock.teardown()


def test_an_h1_address_is_one_line_not_a_heading(qtbot, calendar, runner, probe):
    row = case_row(1, NOW)
    row = row.__class__(**{**row.__dict__, "address": "<h1>人民路</h1>"})
    state = QueueState(calendar)
    state.reset([row], NOW)
    dock = CaseDetailDock(state, MemoryCaseSource([row], {1: []}), runner)
    qtbot.addWidget(dock)
    dock.resize(480, 700)
    dock.show()
    state.select(1)
    address = dock.fields["地址"]
    assert address.text() == "<h1>人民路</h1>"
    assert address.height() <= address.fontMetrics().lineSpacing() * 1.6
    dock.teardown()


def _hall(qtbot, tmp_path, state, source, runner):
    from app.ui.builtin import builtin_docks, register_builtin_docks
    from app.ui.layouts import WindowLayouts
    from app.ui.main_window import MainWindow
    from app.views.layouts import builtin_layout

    window = MainWindow(QSettings(str(tmp_path / "hall.ini"), QSettings.Format.IniFormat),
                        capabilities=("cases", "map"))
    qtbot.addWidget(window)
    central = QLabel("地图")
    central.setStyleSheet("background:#e8eaed;")
    window.set_central(central)
    register_builtin_docks(window.dock_registry, builtin_docks(state, source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    layout, problems = builtin_layout("desk", "dispatcher")
    layouts = WindowLayouts(window, window.dock_registry, layout, window.settings)
    window.layouts = layouts
    window.resize(1920, 1080)
    window.show()
    layouts.apply()
    qtbot.waitExposed(window)
    return window


def test_the_detail_panel_at_1920x1080_keeps_the_description_in_view(qtbot, tmp_path, hostile, runner, probe):
    state, source = hostile
    window = _hall(qtbot, tmp_path, state, source, runner)
    dock = window.findChild(CaseDetailDock)
    window.set_user(LONG)  # a 3,000-character display name cannot widen the status bar either
    state.select(2)  # the 3,000-character address
    qtbot.waitUntil(lambda: dock.timeline.count() == 2)
    QApplication.processEvents()
    save(window, "hall-long-address.png")
    save(dock, "detail-long-address.png")
    wide = [(w.objectName() or type(w).__name__, w.minimumSizeHint().width()) for w in window.findChildren(QWidget)
            if w.isVisible() and w.minimumSizeHint().width() > 1000]
    assert window.width() == 1920 and dock.width() < 700, wide
    address, description = dock.fields["地址"], dock.fields["描述"]
    assert address.text().endswith("…") and len(address.full_text()) == 3000
    assert LONG[:80] in address.text().replace(plain.ZWSP, "")
    assert address.width() <= dock.width()
    assert address.height() <= address.fontMetrics().lineSpacing() * 5  # clamped: a few lines, then "…"
    # the description shows inside the header's scroll area, without scrolling
    scroll = dock.findChild(QWidget, "detailScroll")
    top_left = description.mapTo(scroll.viewport(), QPoint(0, 0))
    assert description.isVisible() and not description.visibleRegion().isEmpty()
    assert 0 <= top_left.y() < scroll.viewport().height() - description.fontMetrics().lineSpacing()
    assert scroll.verticalScrollBar().value() == 0
    status_user = window.findChild(QLabel, "statusUser")
    assert status_user.width() <= 330 and status_user.text() == "用户：" + LONG
    state.select(1)  # the markup
    qtbot.waitUntil(lambda: "RED-BIGU" in dock.timeline.item(0).text() if dock.timeline.count() else False)
    QApplication.processEvents()
    save(window, "hall-markup.png")
    save(dock, "detail-markup.png")
    clean_screen(window)
    window.dock_registry.unregister_all()


# ---- the queue, the work lists, tooltips -------------------------------------------------------


def test_queue_cells_and_tooltips_are_text(qtbot, hostile, probe):
    from app.ui.queue_dock import CaseQueueDock
    from app.ui.queue_model import COLUMNS

    state, _source = hostile
    dock = CaseQueueDock(state, Catalogue())
    qtbot.addWidget(dock)
    dock.resize(1400, 400)
    dock.show()
    model = dock.model
    texts = [model.data(model.index(r, c)) for r in range(model.rowCount()) for c in range(len(COLUMNS))]
    assert any("<font" in (t or "") for t in texts)
    assert not any("\u202e" in (t or "") or "\n" in (t or "") for t in texts)
    tip = model.data(model.index(0, 4), Qt.ItemDataRole.ToolTipRole)
    assert "<img" not in tip and "&lt;img" in tip
    clean_screen(dock)
    clean_screen(shown_tooltip(tip, dock.table))
    tip_widget = shown_tooltip(plain.tooltip(LONG), dock.table)
    screen = QApplication.primaryScreen().availableGeometry()
    assert tip_widget.width() <= screen.width()  # wrapped, not one 30,000-pixel line
    QToolTip.hideText()
    dock.teardown()


def test_work_lists_timers_and_alerts_show_text(qtbot, hostile, probe):
    from app.ui.work.alerts import AlertBanner
    from app.ui.work.case_list import CaseList
    from app.ui.work.timers_dock import TimersDock
    from app.views.alerts import AlertCenter

    state, _source = hostile
    cat = Catalogue()
    listing = CaseList(state, cat)
    qtbot.addWidget(listing)
    listing.resize(900, 300)
    listing.show_rows(state.rows, lambda r: r.description)
    item = listing.topLevelItem(0)
    assert "<font" in item.text(4) and "&lt;img" in item.toolTip(0)
    listing.show()
    clean_screen(listing)
    clean_screen(shown_tooltip(item.toolTip(0), listing))
    QToolTip.hideText()

    timers = TimersDock(state, cat)
    qtbot.addWidget(timers)
    timers.resize(600, 400)
    timers.show()
    clean_screen(timers)

    center = AlertCenter(state, cat)
    flashes = []
    banner = AlertBanner(center, state, cat, status=lambda text, ms: flashes.append(text))
    qtbot.addWidget(banner)
    banner.resize(900, 80)
    banner.show()
    banner.notify(markup(probe) + LONG + CONTROLS)
    assert banner.headline.textFormat() == Qt.TextFormat.PlainText
    assert "<font" in banner.headline.text() and "\u202e" not in banner.headline.text()
    assert banner.headline.width() <= 900 and banner.sizeHint().width() < 1400
    assert "\n" not in flashes[-1] and len(flashes[-1]) <= 501
    banner.history_button.setChecked(True)
    clean_screen(banner)
    for widget in (timers, banner):
        widget.teardown()
    center.teardown()


def test_banners_claims_and_field_errors_show_text(qtbot, probe):
    from app.ui.claim_banner import ClaimBanner
    from app.ui.forms.common import Banner, FieldError

    host = QWidget()
    qtbot.addWidget(host)
    claim, banner, error = ClaimBanner(host), Banner(host), FieldError("address", host)
    claim.show_claim(f"{markup(probe)}（派遣员）正在派遣此案卷")
    banner.show_message(f"地址“{markup(probe)}{LONG}”无法定位")
    error.show_error(markup(probe) + CONTROLS)
    for i, widget in enumerate((claim, banner, error)):
        assert widget.textFormat() == Qt.TextFormat.PlainText and "<font" in widget.text()
        widget.setGeometry(0, 130 * i, 500, 120)
    assert len(banner.text()) < 700  # a message quoting a long input is cut
    host.resize(520, 400)
    host.show()
    clean_screen(host)


def test_the_identify_panel_shows_feature_text(qtbot, probe):
    from app.ui.attributes_dock import AttributesPanel

    panel = AttributesPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 500)
    panel.show_feature("component", {"code": markup(probe), "name": LONG, "note": markup(probe) + CONTROLS,
                                     markup(probe): "field name from a layer"})
    assert panel.title.textFormat() == Qt.TextFormat.PlainText and "<font" in panel.title.text()
    rows = dict(panel.rows())
    assert rows["名称"].startswith(LONG[:200]) and len(rows["名称"]) <= 301
    assert "\u202e" not in rows["备注"]
    panel.show()
    clean_screen(panel)
    note = next(panel.table.item(r, 1) for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "备注")
    clean_screen(shown_tooltip(note.toolTip(), panel.table))
    QToolTip.hideText()


def test_message_boxes_plugins_and_photos_show_text(qtbot, probe):
    from app.jobs import Job
    from app.ui.forms.photo_picker import PhotoStrip
    from app.ui.jobs import JobRow, report_outcome
    from app.ui.plugin_dialog import PluginStatusDialog

    window = QMainWindow()
    qtbot.addWidget(window)
    job = Job(markup(probe), lambda fb: (_ for _ in ()).throw(ValueError(markup(probe))))
    job.run()
    box = report_outcome(window, Catalogue(), job, lambda result: ("", False))
    assert box is not None and box.textFormat() == Qt.TextFormat.PlainText
    clean_screen(box)
    box.close()
    row = JobRow(job, Catalogue())
    qtbot.addWidget(row)
    row.refresh()
    assert row.label.textFormat() == Qt.TextFormat.PlainText and "&lt;img" in row.label.toolTip()
    row.show()
    clean_screen(row)

    dialog = PluginStatusDialog([SimpleNamespace(id=markup(probe), name=LONG, version="1", state="failed",
                                                 error=markup(probe) + CONTROLS)])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.table.columnWidth(1) <= 360
    clean_screen(dialog)

    class Photo:
        kind, filename, data = "report", markup(probe) + ".png", b""

    strip = PhotoStrip()
    qtbot.addWidget(strip)
    strip.show_photos([Photo()])
    assert "&lt;img" in strip.view.item(0).toolTip()


def test_duplicate_candidates_show_text(qtbot, hostile, probe):
    from app.services.duplicates import DuplicateCandidate
    from app.ui.forms.duplicates_panel import DuplicatesPanel

    state, _source = hostile
    panel = DuplicatesPanel()
    qtbot.addWidget(panel)
    panel.resize(500, 200)
    panel.show_candidates([DuplicateCandidate(state.summary(1), 12.0, 0.9, (markup(probe), LONG))])
    panel.show()
    assert "<font" in panel.list.item(0).text()
    clean_screen(panel)


# ---- against a real store: the dispatch dialog and the dispatcher's whole desk ------------------


@pytest.fixture
def hostile_store(desk, login_as, probe):  # noqa: F811
    """The demo store with hostile text where strangers and admins put it: a 待派遣 case's address
    and description, the first suggested department's name and the shift leader's display name
    (written as they came: what a store filled before any input policy holds), and a reply to the
    reporter made through the service."""
    from sqlalchemy import text

    from app.domain.definitions import CaseState, Role
    from app.services.users import demo_username

    cases = sorted(desk.source.open_cases(), key=lambda r: r.number)
    filed = next(r for r in cases if r.state is CaseState.FILED)
    department_id = desk.cases.dispatch_suggestions(filed.id)[0].department_id
    with desk.store.session() as s:
        s.execute(text("UPDATE cases SET address = :a, description = :d WHERE id = :id"),
                  {"a": markup(probe, "A")[:190], "d": markup(probe, "S") + LONG + CONTROLS, "id": filed.id})
        s.execute(text("UPDATE departments SET name = :n WHERE id = :id"),
                  {"n": '<font color="red" size="6">RED-BIGD</font>', "id": department_id})
        s.execute(text("UPDATE users SET display_name = :n WHERE username = :u"),
                  {"n": '<font color="red" size="6">RED-BIGU</font>', "u": demo_username(Role.SHIFT_LEADER)})
        s.commit()
    acceptor = login_as(Role.ACCEPTOR)
    desk.cases.reply(acceptor, filed.id, desk.cases.get(filed.id).version, text=markup(probe, "P"))
    leader = login_as(Role.SHIFT_LEADER)
    desk.claim(leader, filed.id, "dispatch")  # the banner names the leader (a display name is data)
    return filed.id


def test_the_dispatch_dialog_quotes_case_text_as_text(qtbot, desk, login_as, runner, hostile_store):  # noqa: F811
    from app.domain.definitions import Role
    from app.ui.forms.dispatch_form import DispatchForm

    case = desk.cases.get(hostile_store)
    form = DispatchForm(desk, login_as(Role.DISPATCHER), runner, case.id, case.version)
    qtbot.addWidget(form)
    form.resize(780, 520)
    form.show()
    qtbot.waitUntil(lambda: form.dispatch_button.isEnabled(), timeout=10000)
    qtbot.waitUntil(lambda: form.claim_banner.isVisible(), timeout=10000)
    runner.wait()
    QApplication.processEvents()
    save(form, "dispatch-dialog.png")
    assert form.title.textFormat() == Qt.TextFormat.PlainText and "<font" in form.title.text()
    assert "RED-BIGU" in form.claim_banner.text() and form.claim_banner.textFormat() == Qt.TextFormat.PlainText
    assert "<font" in form.suggestions.topLevelItem(0).text(1)
    assert form.width() < 1000  # the 3,000-character description cannot widen the dialog
    clean_screen(form)
    form.reject()
    runner.wait()


def test_the_dispatchers_desk_at_1920x1080(qtbot, tmp_path, desk, login_as, runner, hostile_store,  # noqa: F811
                                           probe):
    from app.domain.definitions import Role
    from app.services.calendar import load_calendar
    from app.ui.builtin import builtin_docks, register_builtin_docks
    from app.ui.claim_banner import ClaimWatcher
    from app.ui.layouts import WindowLayouts
    from app.ui.main_window import MainWindow
    from app.ui.work.install import install_work
    from app.views.layouts import builtin_layout
    from ui.work.helpers import wait_idle

    state = QueueState(load_calendar(desk.store))
    state.reset(desk.source.open_cases(), desk.clock.now())
    dispatcher = login_as(Role.DISPATCHER)
    window = MainWindow(QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat), capabilities=("cases", "map"))
    qtbot.addWidget(window)
    central = QLabel("地图")
    central.setStyleSheet("background:#e8eaed;")
    window.set_central(central)
    register_builtin_docks(window.dock_registry, builtin_docks(state, desk.source, runner, Catalogue(),
                                                               lambda: QLabel("图层树")))
    teardown = install_work(window, state, runner, desk, dispatcher)
    dock = window.findChild(CaseDetailDock)
    watcher = ClaimWatcher(state, lambda case_id: desk.claim_text(dispatcher, case_id), runner, dock.show_claim)
    try:
        layout, _problems = builtin_layout("desk", "dispatcher")
        window.layouts = WindowLayouts(window, window.dock_registry, layout, window.settings, user=dispatcher.username)
        window.resize(1920, 1080)
        window.show()
        window.layouts.apply()
        qtbot.waitExposed(window)
        window.set_user(f"{markup(probe)}（派遣员）")
        state.select(hostile_store)
        qtbot.waitUntil(lambda: dock.timeline.count() > 0, timeout=10000)
        qtbot.waitUntil(lambda: dock.claim_banner.isVisible(), timeout=10000)
        wait_idle(qtbot, runner)
        QApplication.processEvents()
        save(window, "desk-dispatcher.png")
        assert window.width() == 1920
        assert "RED-BIGU" in dock.claim_banner.text()
        description = dock.fields["描述"]
        assert description.text().startswith("<font") and description.text().endswith("…")
        assert not description.visibleRegion().isEmpty()
        media = teardown.desk.widgets["gridhall.desk.media"]
        qtbot.waitUntil(lambda: any("RED-BIGP" in media.replies.item(i).text() for i in range(media.replies.count())),
                        timeout=10000)
        window.dock_registry.dock("gridhall.desk.media").raise_()
        QApplication.processEvents()
        save(window, "desk-dispatcher-replies.png")
        clean_screen(window)
        clean_screen(window)
    finally:
        watcher.teardown()
        runner.wait()
        teardown()
        window.dock_registry.unregister_all()


def test_action_and_bulk_dialogs_quote_case_text_as_text(qtbot, desk, login_as, runner, hostile_store,  # noqa: F811
                                                         probe):
    from dataclasses import replace

    from app.domain.definitions import Action, Role
    from app.services.calendar import load_calendar
    from app.ui.forms.action_dialogs import ActionDialog
    from app.ui.work.bulk import BulkDialog

    leader = login_as(Role.SHIFT_LEADER)
    state = QueueState(load_calendar(desk.store))
    rows = [replace(r, category_name=markup(probe, "C")) if r.id == hostile_store else r
            for r in desk.source.open_cases()]
    state.reset(rows, desk.clock.now())
    case = state.summary(hostile_store)
    dialog = ActionDialog(desk, leader, runner, Action.FILE, case)
    qtbot.addWidget(dialog)
    dialog.show()
    runner.wait()
    QApplication.processEvents()
    assert "&lt;font" in dialog.title.text() and "<font" not in dialog.title.text().replace("<b>", "")
    assert dialog.width() < 1000
    clean_screen(dialog)
    dialog.reject()

    departments = [(1, "D1", markup(probe, "D")), (2, "D2", LONG)]
    bulk = BulkDialog(desk, login_as(Role.DISPATCHER), runner, state, Action.DISPATCH, [hostile_store], departments)
    qtbot.addWidget(bulk)
    bulk.show()
    QApplication.processEvents()
    texts = [bulk.list.item(i).text() for i in range(bulk.list.count())]
    assert any("RED-BIGC" in t for t in texts)
    assert bulk.width() < 1000  # a 3,000-character department name cannot widen the dialog
    save(bulk, "bulk-dialog.png")
    clean_screen(bulk)
    bulk.reject()
    runner.wait()
