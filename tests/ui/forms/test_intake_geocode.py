"""The intake form and the gazetteer: a picked point fills the address, a typed address the point."""

from __future__ import annotations

import pytest

from app.domain.definitions import Role
from app.services.geocode import GeocodeIndex
from app.ui.forms.intake_form import IntakeForm
from ui.forms.world import street_point

pytestmark = pytest.mark.neutral


@pytest.fixture
def form(qtbot, desk, login_as, runner):
    GeocodeIndex._cache.clear()
    widget = IntakeForm(desk, login_as(Role.ACCEPTOR), runner)
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    GeocodeIndex._cache.clear()


def test_a_picked_point_fills_the_address_with_the_nearest_house(qtbot, form, desk):
    x, y = street_point(desk)
    expected = desk.reverse_geocode(x, y)
    assert expected is not None
    form.set_point(x, y)
    qtbot.waitUntil(lambda: form.address.text() != "", timeout=10000)
    assert form.address.text() == f"{expected.road}{expected.number}号"
    assert form.values()["at"] == (x, y)  # the picked point stays the location
    assert form.values()["address"] == form.address.text()


def test_a_typed_address_finds_its_point_and_grid(qtbot, form, desk):
    road = GeocodeIndex.for_store(desk.store).roads[0]
    best = desk.geocode(f"{road.name}21号")[0]
    form.address.setText(f"{road.stem}21号")  # the suffix left off
    form.address.editingFinished.emit()
    qtbot.waitUntil(lambda: form.where.property("grid_code") is not None, timeout=10000)
    assert form.values()["at"] == pytest.approx((best.x, best.y))
    assert form.where.property("grid_code") == best.grid
    assert form.address.text() == f"{road.stem}21号"  # what the operator typed is kept


def test_a_typed_address_typed_over_a_picked_point_keeps_the_point(qtbot, form, desk):
    x, y = street_point(desk)
    form.set_point(x, y)
    form.address.setText("随便写的地址")
    form.address.editingFinished.emit()
    assert form.values()["at"] == (x, y)
