"""结案 checks the closing evidence BEFORE it is sent and names what is missing (issue 10, item 1):
the single close dialog and the bulk close, over a real store; strict by configuration or confirmed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import Action, CaseState, Role
from app.services.attachments import PhotoInput, check_photos, store_photos
from app.ui.forms.action_dialogs import ActionDialog
from app.ui.work.bulk import BulkDialog
from ui.forms.world import png_bytes

from .helpers import wait_idle

pytestmark = pytest.mark.neutral


def _checked(queue):
    rows = sorted((r for r in queue.rows if r.state is CaseState.CHECKED), key=lambda r: r.number)
    assert len(rows) >= 2
    return rows


def _attach(desk, case_id, *kinds):
    """Photos of ``kinds`` shot a minute after the case's latest dispatch (the after photo's rule)."""
    dispatched = desk.cases.closing_evidence(case_id).dispatched_at or datetime(2026, 1, 1)
    at = dispatched + timedelta(minutes=1)
    photos = check_photos([PhotoInput(f"{k}.png", png_bytes(), kind=k, taken_at=at) for k in kinds])
    with desk.store.session() as session:
        store_photos(session, case_id, None, photos)
        session.commit()


def _without(desk, kind_set, rows):
    return next(r for r in rows if not {p.kind for p in desk.photos(r.id)} & kind_set)


def _open_close(qtbot, desk, leader, runner, row):
    dialog = ActionDialog(desk, leader, runner, Action.CLOSE, row)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.evidence_check is not None, timeout=20000)
    wait_idle(qtbot, runner)
    return dialog


def test_close_without_the_before_photo_is_refused_before_sending_naming_what_is_missing(qtbot, desk, login_as,
                                                                                          queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    row = _without(desk, {"before", "report"}, _checked(queue))
    _attach(desk, row.id, "after")
    dialog = _open_close(qtbot, desk, leader, runner, row)
    assert "处置前照片：缺少" in dialog.evidence.text() and "处置后照片：" in dialog.evidence.text()
    assert "处置前照片" in dialog.banner.text() and "处置后照片" not in dialog.banner.text().split("缺少")[-1]
    assert not dialog.ok_button.isEnabled() and "处置前照片" in dialog.ok_button.toolTip()
    assert not dialog.submit()  # as Return on the dialog would
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    runner.wait()
    assert dialog.submitter.requests == 0
    assert desk.cases.get(row.id).state is CaseState.CHECKED  # nothing was sent
    # the category allows the shift leader's override, with a reason: then it is sent
    dialog.evidence_ack.setChecked(True)
    assert not dialog.ok_button.isEnabled() and "写明理由" in dialog.ok_button.toolTip()
    dialog.widgets["note"].setText("处置前照片遗失，现场核查已确认")
    assert dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=20000)
    assert desk.cases.get(row.id).state is CaseState.CLOSED
    close = [e for e in desk.cases.events(row.id) if e.action == Action.CLOSE.value][-1]
    assert close.payload["override"] is True and close.payload["evidence"]["missing"] == ["before_photo"]
    assert close.reason == "处置前照片遗失，现场核查已确认"


def test_strict_configuration_cannot_be_confirmed_away(qtbot, desk, login_as, queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    row = _without(desk, {"before", "report", "after"}, _checked(queue))
    desk.cases.settings = replace(desk.cases.settings, require_photos_to_close=True)
    dialog = _open_close(qtbot, desk, leader, runner, row)
    assert dialog.evidence_ack.isHidden()
    assert "不能结案" in dialog.banner.text() and "处置前照片" in dialog.banner.text() \
        and "处置后照片" in dialog.banner.text()
    assert not dialog.ok_button.isEnabled() and not dialog.submit()
    assert desk.cases.get(row.id).state is CaseState.CHECKED


def test_complete_evidence_closes_at_once(qtbot, desk, login_as, queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    row = _checked(queue)[0]
    _attach(desk, row.id, "before", "after")
    dialog = _open_close(qtbot, desk, leader, runner, row)
    assert dialog.evidence_check.complete and dialog.evidence_ack.isHidden() and dialog.ok_button.isEnabled()
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=20000)
    assert dialog.result_value.warnings == ()  # the service found nothing missing either


def test_bulk_close_refuses_cases_lacking_evidence_before_sending_and_names_what_is_missing(qtbot, desk, login_as,
                                                                                            queue, runner):
    leader = login_as(Role.SHIFT_LEADER)
    rows = _checked(queue)
    complete = rows[0]
    _attach(desk, complete.id, "before", "after")
    lacking = _without(desk, {"before", "report", "after"}, rows[1:])
    dialog = BulkDialog(desk, leader, runner, queue, Action.CLOSE, preselected=[complete.id, lacking.id])
    qtbot.addWidget(dialog)
    assert "证据不完整的案卷不会结案" in dialog.summary.text()
    dialog.confirm.setChecked(True)
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=20000)
    assert [n for n, _r in dialog.outcome.done] == [complete.number]
    assert [n for n, _e in dialog.outcome.failed] == [lacking.number]
    assert "处置前照片" in dialog.details.toPlainText()
    assert desk.cases.get(lacking.id).state is CaseState.CHECKED
