"""Jurisdictions and routing by area and by component (issue 12, item 2) on both stores: a
department's jurisdiction drawn (WKT) or imported from an OGR file, rules by grid set, drawn
polygon or jurisdiction, overlaps found geometrically, the component owner/maintainer rule,
and the test box saying where a category at a point goes and why."""

from __future__ import annotations

import json

import pytest

from app.domain.clock import FixedClock
from app.services.config import ConfigService, norm_wkt
from app.services.errors import ValidationError
from services.world import INSIDE, MANHOLE, T0, X0, Y0, build_world

WEST = f"POLYGON(({X0} {Y0},{X0 + 200} {Y0},{X0 + 200} {Y0 + 400},{X0} {Y0 + 400},{X0} {Y0}))"
EAST = f"POLYGON(({X0 + 200} {Y0},{X0 + 400} {Y0},{X0 + 400} {Y0 + 400},{X0 + 200} {Y0 + 400},{X0 + 200} {Y0}))"
EAST_POINT = (X0 + 350, Y0 + 50)


@pytest.fixture
def world(store):
    return build_world(store)


@pytest.fixture
def cfg(store, world):
    return ConfigService(store, FixedClock(T0))


def admin(world):
    return world.actors["admin"]


def test_a_drawn_jurisdiction_routes_its_department(cfg, world):
    result = cfg.set_jurisdiction(admin(world), "YL", WEST, reason="园林所管西半区")
    assert result.applied and cfg.state().departments["YL"]["jurisdiction"] == norm_wkt(WEST)
    cfg.set_route(admin(world), scope="category:event:06012", area="jurisdiction", department="YL", priority=10,
                  reason="按辖区")
    inside = cfg.explain_route("event:06012", x=INSIDE[0], y=INSIDE[1])
    assert "派往 区园林绿化管理所（YL）" in inside and "部门辖区" in inside
    outside = cfg.explain_route("event:06012", x=EAST_POINT[0], y=EAST_POINT[1])
    assert "部门辖区" not in outside
    with pytest.raises(ValidationError, match="仍被派遣规则使用"):
        cfg.set_jurisdiction(admin(world), "YL", None, reason="清除")


def test_grid_sets_and_polygons_and_their_overlaps(cfg, world, store):
    from sqlalchemy import select

    from app.store.models import UnitGrid

    with store.engine.connect() as conn:
        grids = sorted(conn.execute(select(UnitGrid.code)).scalars())
    cfg.set_route(admin(world), scope="category:event:06012", area="grids:east", grids=grids[-2:], department="SZ",
                  priority=20, reason="东侧两格")
    cfg.set_route(admin(world), scope="category:event:06012", area="polygon:west", polygon=WEST, department="YL",
                  priority=20, reason="西半区")
    assert "划定区域「west」" in cfg.explain_route("event:06012", x=INSIDE[0], y=INSIDE[1])
    with pytest.raises(ValidationError, match="有重叠"):
        cfg.set_route(admin(world), scope="category:event:06012", area="polygon:left", polygon=WEST, department="SZ",
                      priority=20, reason="重叠")
    with pytest.raises(ValidationError, match="有重叠"):
        cfg.set_route(admin(world), scope="category:event:06012", area="grids:both", grids=grids[-1:], department="YL",
                      priority=20, reason="重叠")
    cfg.set_route(admin(world), scope="category:event:06012", area="polygon:left", polygon=WEST, department="SZ",
                  priority=30, reason="优先级不同，不重叠")
    with pytest.raises(ValidationError, match="不存在"):
        cfg.set_route(admin(world), scope="kind:event", area="grids:x", grids=["NOPE"], department="SZ", reason="r")
    with pytest.raises(ValidationError, match="WKT"):
        cfg.set_route(admin(world), scope="kind:event", area="polygon:x", polygon="POLYGON((", department="SZ",
                      reason="r")
    with pytest.raises(ValidationError, match="还没有辖区"):
        cfg.set_route(admin(world), scope="kind:event", area="jurisdiction", department="SZ", reason="r")
    routes = cfg.state().routes
    assert routes["category:event:06012@grids:east>SZ"]["grids"] == grids[-2:]
    # the area rules travel with the export and come back unchanged
    doc = cfg.export_document()
    assert any(r.get("polygon") == norm_wkt(WEST) for r in doc["routes"])


def test_a_retired_grid_gets_no_new_routing_and_an_old_rule_keeps_it(cfg, world, store):
    from datetime import date

    from sqlalchemy import select, update

    from app.store.models import UnitGrid

    with store.engine.begin() as conn:
        grids = sorted(conn.execute(select(UnitGrid.code)).scalars())
    cfg.set_route(admin(world), scope="kind:event", area="grids:pair", grids=grids[:2], department="SZ",
                  priority=30, reason="两格")
    with store.engine.begin() as conn:  # base maintenance split grids[1] away
        conn.execute(update(UnitGrid).where(UnitGrid.code == grids[1]).values(retired_on=date(2026, 1, 1)))
    with pytest.raises(ValidationError, match="已停用") as refused:
        cfg.set_route(admin(world), scope="kind:event", area="grids:new", grids=[grids[1], grids[2]],
                      department="SZ", reason="新规则")
    assert grids[1] in str(refused.value) and grids[2] not in str(refused.value)
    # the rule that had it may still be edited (its other fields) without dropping it first
    cfg.set_route(admin(world), scope="kind:event", area="grids:pair", grids=grids[:2], department="SZ",
                  priority=40, reason="调整优先级")
    assert cfg.state().routes["kind:event@grids:pair>SZ"]["priority"] == 40


def test_export_import_with_areas_changes_nothing(cfg, world, tmp_path):
    from app.services.config import dumps_toml

    cfg.set_jurisdiction(admin(world), "JD001", EAST, reason="街道辖区")
    cfg.set_route(admin(world), scope="kind:event", area="polygon:w", polygon=WEST, department="YL", priority=50,
                  reason="r")
    cfg.set_component_rule(admin(world), scope="major:component:01", by="owner", reason="r")
    cfg.set_setting(admin(world), "alerts", {"roles": {"dispatcher": {"kinds": ["red"]}}}, reason="r")
    path = tmp_path / "config.toml"
    path.write_text(dumps_toml(cfg.export_document()), encoding="utf-8")
    again = cfg.import_config(admin(world), path, reason="再导入", dry_run=True)
    assert again.changes == []


def test_a_jurisdiction_imported_from_an_ogr_file(cfg, world, tmp_path):
    from osgeo import ogr, osr

    path = tmp_path / "jd.geojson"
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4549)
    driver = ogr.GetDriverByName("GeoJSON")
    ds = driver.CreateDataSource(str(path))
    layer = ds.CreateLayer("jd", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("name", ogr.OFTString))
    for name, wkt in (("east", EAST), ("west", WEST)):
        f = ogr.Feature(layer.GetLayerDefn())
        f.SetField("name", name)
        f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(f)
    ds = None
    result = cfg.import_jurisdiction(admin(world), "SZ", path, where="name = 'east'", reason="导入辖区")
    assert result.applied and cfg.state().departments["SZ"]["jurisdiction"] == norm_wkt(EAST)
    (tmp_path / "bad.geojson").write_text("{", encoding="utf-8")
    with pytest.raises(ValidationError, match="区域文件"):
        cfg.import_jurisdiction(admin(world), "SZ", tmp_path / "bad.geojson", reason="r")


def test_the_component_rule_decides_who_handles_a_named_component(cfg, world, store):
    from sqlalchemy import update

    from app.store.models import Component

    with store.session() as s, s.begin():
        s.execute(update(Component).where(Component.code == MANHOLE).values(owner_department_id=world.dept["SZ"]))
    before = cfg.explain_route("component:01002", component=MANHOLE)
    assert "派往 " in before and "（PS）" in before.text().split("其次")[0]  # the maintainer first
    cfg.set_component_rule(admin(world), scope="major:component:01", by="owner", reason="井盖按权属单位派遣")
    after = cfg.explain_route("component:01002", component=MANHOLE)
    assert "（SZ）" in after.text().split("其次")[0] and "部件派遣规则" in after.text()
    stored = cfg.state().settings["component_routing"]
    assert stored == {"default": "maintainer", "rules": [{"by": "owner", "scope": "major:component:01"}]}
    with pytest.raises(ValidationError, match="部件派遣规则"):
        cfg.set_setting(admin(world), "component_routing", {"default": "mayor"}, reason="r")
    assert json.loads(json.dumps(stored)) == stored
