"""The dispatch form against a real store: suggestions with reasons, one request per double-click,
a reason outside the suggestions, and a conflict that keeps the operator's input."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import Action, CaseState, Role
from app.ui.forms.dispatch_form import DispatchForm

pytestmark = pytest.mark.neutral


@pytest.fixture
def filed(queue):
    """The first 待派遣 case of the demo."""
    return next(r for r in sorted(queue.rows, key=lambda r: r.number) if r.state is CaseState.FILED)


def open_form(qtbot, desk, actor, runner, case):
    form = DispatchForm(desk, actor, runner, case.id, case.version)
    qtbot.addWidget(form)
    form.show()
    qtbot.waitUntil(lambda: form.dispatch_button.isEnabled(), timeout=10000)
    return form


def dispatch_events(desk, case_id):
    return [e for e in desk.cases.events(case_id) if e.action == Action.DISPATCH.value]


def test_suggestions_show_their_reasons_and_the_deadline(qtbot, desk, login_as, runner, filed):
    form = open_form(qtbot, desk, login_as(Role.DISPATCHER), runner, filed)
    expected = desk.cases.dispatch_suggestions(filed.id)
    assert form.suggestions.topLevelItemCount() == len(expected) > 0
    first = form.suggestions.topLevelItem(0)
    assert expected[0].name in first.text(1)
    assert "\n".join(expected[0].reasons) == first.text(2)
    preview = desk.cases.preview_deadline(filed.id)
    assert "截止" in form.deadline.text() and preview.explanation in form.deadline.text()
    assert form.deadline.toolTip() == preview.source  # which rule of the limit table applied


def test_double_click_on_dispatch_sends_one_request(qtbot, desk, login_as, runner, filed):
    form = open_form(qtbot, desk, login_as(Role.DISPATCHER), runner, filed)
    qtbot.mouseDClick(form.dispatch_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.dispatch_button, Qt.MouseButton.LeftButton)
    assert form.submit() is False  # still running: refused before reaching the services
    qtbot.waitUntil(lambda: form.result_value is not None, timeout=10000)
    runner.wait()
    assert form.submitter.requests == 1
    assert len(dispatch_events(desk, filed.id)) == 1
    assert desk.cases.get(filed.id).state is CaseState.DISPATCHED


def test_outside_the_suggestions_needs_a_reason(qtbot, desk, login_as, runner, filed):
    form = open_form(qtbot, desk, login_as(Role.DISPATCHER), runner, filed)
    suggested = form.suggested_ids
    other = next(i for i in range(1, form.other.count()) if form.other.itemData(i) not in suggested)
    form.other.setCurrentIndex(other)
    assert form.submit() is False
    assert form.reason_error.isVisible() and "理由" in form.reason_error.text()
    assert dispatch_events(desk, filed.id) == []


def test_conflict_keeps_the_input_and_says_who_changed_it(qtbot, desk, login_as, runner, filed):
    dispatcher = login_as(Role.DISPATCHER)
    form = open_form(qtbot, desk, dispatcher, runner, filed)
    form.reason.setText("按属地派遣，请尽快处置")
    # a colleague dispatches the same case first
    top = desk.cases.dispatch_suggestions(filed.id)[0]
    desk.cases.dispatch(dispatcher, filed.id, filed.version, department=top.department_id)
    qtbot.mouseClick(form.dispatch_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.banner.isVisible() and form.dispatch_button.isEnabled(), timeout=10000)
    assert form.result_value is None
    assert "派遣" in form.banner.text() and "刷新" in form.banner.text()
    assert form.reason.text() == "按属地派遣，请尽快处置"
    assert form.isVisible()
    assert len(dispatch_events(desk, filed.id)) == 1
