"""The intake form against a real store: typed work survives errors; live duplicates; one-click link."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt

from app.domain.definitions import CaseState, Kind, Role
from app.services.intake import ReportDraft
from app.services.location import LocationInput
from app.ui.forms.intake_form import IntakeForm
from ui.forms.world import png_bytes, street_point

pytestmark = pytest.mark.neutral

TEXT = "胥江街道路边私搭乱建棚屋，占用人行道约十米"


@pytest.fixture
def form(qtbot, desk, login_as, runner):
    widget = IntakeForm(desk, login_as(Role.ACCEPTOR), runner)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def category(desk):
    return desk.taxonomy.in_major(Kind.EVENT, "06")[0]


def pick(form, desk, value=None):
    form.category.set_value(value or f"event:{category(desk).code}")


def count_cases(desk):
    return len(desk.cases.list_cases(states=list(CaseState), limit=100000))


def test_location_outside_the_district_keeps_the_typed_description(qtbot, form, desk, runner):
    before = count_cases(desk)
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(1.0, 2.0)  # far outside every grid
    qtbot.waitUntil(lambda: form.errors["location"].isVisible(), timeout=10000)
    assert "网格" in form.errors["location"].text()
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.submit_button.isEnabled() and form.banner.kind == "error", timeout=10000)
    assert "网格" in form.banner.text()
    assert form.description.toPlainText() == TEXT
    assert form.category.value.endswith(category(desk).code)
    assert count_cases(desk) == before


def test_empty_description_is_refused_before_any_request(form, desk):
    pick(form, desk)
    form.set_point(*street_point(desk))
    assert form.submit() is False
    assert form.errors["description"].isVisible()
    assert form.submitter.requests == 0


def test_a_file_that_is_not_a_photo_is_refused_with_its_name(tmp_path, form):
    bad = tmp_path / "report.txt"
    bad.write_text("not an image")
    good = tmp_path / "scene.png"
    good.write_bytes(png_bytes())
    problems = form.photos.add_files([bad, good])
    assert len(problems) == 1 and "report.txt" in problems[0]
    assert form.photos.view.count() == 1
    assert form.photos.error.isVisible()


def test_report_then_duplicates_show_and_link_in_one_click(qtbot, form, desk, login_as, runner):
    x, y = street_point(desk)
    first = desk.cases.report(login_as(Role.ACCEPTOR), ReportDraft(
        category=f"event:{category(desk).code}", description="已有的私搭乱建", location=LocationInput(x=x, y=y)))
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(x + 3, y + 3)
    qtbot.waitUntil(lambda: bool(form.duplicates.candidates), timeout=10000)
    assert form.duplicates.candidates[0].case.id == first.case.id
    assert "相距" in form.duplicates.list.item(0).text()
    assert not form.duplicates.link_button.isEnabled() and "先在列表中选中" in form.duplicates.link_button.toolTip()
    form.duplicates.list.setCurrentRow(0)
    qtbot.mouseClick(form.duplicates.link_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: form.banner.kind in ("info", "warn", "error") and form.submitter.busy is False,
                    timeout=10000)
    runner.wait()
    assert form.banner.kind != "error", form.banner.text()
    linked = [r for r in desk.cases.list_cases(states=[CaseState.NOT_FILED], limit=100000)
              if r.description == TEXT]
    assert len(linked) == 1
    events = desk.cases.events(linked[0].id)
    assert events[-1].action == "link" or any(e.action == "link" for e in events)


def test_successful_report_clears_the_form_and_shows_the_number(qtbot, form, desk, runner):
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(*street_point(desk))
    assert form.photos.add_bytes("scene.png", png_bytes()) is None
    qtbot.waitUntil(lambda: "胥江街道" in form.where.text(), timeout=10000)
    assert form.submit() is True
    qtbot.waitUntil(lambda: form.banner.kind in ("info", "warn"), timeout=10000)
    runner.wait()
    number = form.banner.text().split("：")[1].split("（")[0]
    case = desk.cases.get(number)
    assert case.description == TEXT and case.grid_code
    assert [p.kind for p in desk.photos(case.id)] == ["report"]
    assert form.description.toPlainText() == "" and form.photos.view.count() == 0


def test_category_search_by_code_and_by_name(form, desk):
    hits = form.category.search("井盖")
    assert hits and all("井盖" in c.name or "井盖" in c.major_name for c in hits)
    form.category.search("06001")
    form.category.edit.returnPressed.emit()
    assert form.category.value == "event:06001"


def test_a_lost_database_keeps_the_typed_report(qtbot, form, desk, runner):
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(*street_point(desk))
    qtbot.waitUntil(lambda: "胥江街道" in form.where.text(), timeout=10000)
    runner.wait()
    # the database goes away under the running client (file moved: the next connection finds no tables)
    desk.store.dispose()
    path = desk.store.engine.url.database
    import os

    os.replace(path, path + ".moved")
    assert form.submit() is True
    qtbot.waitUntil(lambda: form.banner.kind == "error" and form.submit_button.isEnabled(), timeout=10000)
    assert "数据库" in form.banner.text() and "保留" in form.banner.text()
    assert form.description.toPlainText() == TEXT
    assert form.category.value


def test_a_supervisor_sees_duplicates_but_cannot_link(qtbot, desk, login_as, runner):
    widget = IntakeForm(desk, login_as(Role.SUPERVISOR), runner)
    qtbot.addWidget(widget)
    assert widget.source.currentData() == "supervisor"  # the role's usual channel
    assert widget.duplicates.can_link is False
    assert widget.link_to(1, "X") is False


# ---- the form runs the registry's 上报 command ------------------------------------------

def _own_registry(desk):
    """Give the desk a registry of its own (the built-ins), so a test's replacement stays private."""
    from app.commands import CommandRegistry, register_builtins

    registry = CommandRegistry()
    register_builtins(registry)
    desk.commands = registry
    return registry


def _replace_report(registry, **changes):
    import dataclasses

    from app.commands import command_id
    from app.domain.definitions import Action

    builtin = registry.get(command_id(Action.REPORT))
    registry.unregister(builtin.id)
    registry.register(dataclasses.replace(builtin, **changes))
    return builtin


def test_the_form_runs_the_report_command_a_plugin_wraps(qtbot, form, desk, runner):
    registry = _own_registry(desk)
    seen = []

    def wrapped(cases, actor, case_id, version, values):  # e.g. a plugin stamping every report
        seen.append(dict(values))
        return builtin.call(cases, actor, case_id, version, {**values, "description": values["description"] + "【已复核】"})

    builtin = _replace_report(registry, call=wrapped)
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(*street_point(desk))
    qtbot.waitUntil(lambda: "胥江街道" in form.where.text(), timeout=10000)
    assert form.submit() is True
    qtbot.waitUntil(lambda: form.banner.kind in ("info", "warn", "error"), timeout=10000)
    runner.wait()
    assert form.banner.kind != "error", form.banner.text()
    assert len(seen) == 1 and seen[0]["category"] == f"event:{category(desk).code}" and seen[0]["at"]
    number = form.banner.text().split("：")[1].split("（")[0]
    assert desk.cases.get(number).description == TEXT + "【已复核】"


def test_a_replaced_report_commands_checks_mark_the_field_before_any_request(qtbot, form, desk):
    from app.commands import Problem

    registry = _own_registry(desk)
    before = count_cases(desk)

    def needs_a_phone(values):
        return None if values.get("phone") else Problem("phone", "联系电话", "{label}不能为空")

    _replace_report(registry, checks=(needs_a_phone,))
    pick(form, desk)
    form.description.setPlainText(TEXT)
    form.set_point(*street_point(desk))
    assert form.submit() is False
    assert form.submitter.requests == 0
    assert "联系电话不能为空" in form.banner.text()
    assert form.description.toPlainText() == TEXT and count_cases(desk) == before


def test_a_missing_category_is_marked_at_the_category(form, desk):
    form.description.setPlainText(TEXT)
    form.set_point(*street_point(desk))
    assert form.submit() is False
    assert form.submitter.requests == 0
    assert form.errors["category"].isVisible() and "类别" in form.errors["category"].text()
