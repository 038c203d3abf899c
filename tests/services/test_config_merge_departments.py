"""ConfigService.check_departments / merge_departments (the departments import's public way in): the
rows given become ONE audited change set, parents first; departments left out stay as they are; one
bad row refuses the set; a dry run writes nothing (both backends)."""

from __future__ import annotations

import pytest

from app.domain.clock import FixedClock
from app.services.config import ConfigService
from app.services.errors import PermissionDenied, ValidationError
from services.world import T0, build_world


@pytest.fixture
def setup(store):
    world = build_world(store)
    return ConfigService(store, FixedClock(T0)), world.actors["admin"], world


def _depts(cfg):
    return {d["code"]: d for d in cfg.departments()}


def test_merge_adds_and_changes_parents_first_and_retires_nothing(setup):
    cfg, admin, _ = setup
    before = _depts(cfg)
    records = {"GL01": {"code": "GL01", "name": "园林一队", "kind": "company", "parent": "YL2"},  # child first
               "YL2": {"code": "YL2", "name": "园林二所", "kind": "bureau"},
               "HW": {**before["HW"], "phone": "0512-9"},
               "SZ": dict(before["SZ"])}  # unchanged: no change
    result = cfg.merge_departments(admin, records, reason="新城交接")
    keys = [c.key for c in result.changes]
    assert result.applied and sorted(keys) == ["GL01", "HW", "YL2"] and keys.index("YL2") < keys.index("GL01")
    after = _depts(cfg)
    assert after["GL01"]["parent"] == "YL2" and after["HW"]["phone"] == "0512-9"
    assert all(after[code]["active"] == d["active"] for code, d in before.items())  # none left out retired
    history = cfg.history("department", "GL01")
    assert history[-1]["actor"] == admin.username and history[-1]["reason"] == "新城交接"


def test_check_departments_says_why_per_row_and_merge_refuses_the_whole_set(setup):
    cfg, admin, _ = setup
    before = _depts(cfg)
    records = {"A1": {"code": "A1", "name": "甲", "kind": "bureau"},
               "A2": {"code": "A2", "name": "乙", "kind": "bureau", "parent": "NOPE"}}
    checked = cfg.check_departments(records)
    assert isinstance(checked["A1"], dict) and isinstance(checked["A2"], ValidationError)
    assert "NOPE" in str(checked["A2"].msg)
    with pytest.raises(ValidationError):
        cfg.merge_departments(admin, records, reason="试")
    assert _depts(cfg) == before


def test_merge_dry_run_and_permission(setup):
    cfg, admin, world = setup
    before = _depts(cfg)
    records = {"B1": {"code": "B1", "name": "丙", "kind": "bureau"}}
    result = cfg.merge_departments(admin, records, reason="试", dry_run=True)
    assert not result.applied and [c.key for c in result.changes] == ["B1"] and _depts(cfg) == before
    with pytest.raises(PermissionDenied):
        cfg.merge_departments(world.actors["dispatcher"], records, reason="试")
    assert _depts(cfg) == before
