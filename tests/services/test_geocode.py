"""Geocoding on the tiny district (人民路 west–east, 凤凰街 south–north, crossing), both backends."""

from __future__ import annotations

import math

import pytest
from geoalchemy2 import WKTElement

from app.domain.definitions import STORE_SRID
from app.services import geocode as geo
from app.services.geocode import GeocodeIndex, geocode, reverse_geocode
from app.store.models import Road
from bench.world import X0, Y0, build_world


@pytest.fixture
def index(store) -> GeocodeIndex:
    build_world(store)
    return GeocodeIndex.from_store(store)


def test_the_gazetteer_of_the_tiny_district(index):
    names = sorted(r.name for r in index.roads)
    assert names == ["人民路", "凤凰街"]
    people = next(r for r in index.roads if r.name == "人民路")
    assert min(people.numbers) == 1 and len(people.numbers) == 2 * int(400 // geo.METRES_PER_NUMBER_PAIR)
    (_, y_odd), (_, y_even) = people.numbers[1], people.numbers[2]
    assert y_odd > Y0 + 200 > y_even  # odd on the left of the road's direction (west → east), even on the right
    assert len(index.landmarks) == 1  # one crossing, one landmark
    assert [s for s, _, _ in people.segments] == [] and people.name in {r.name for r in index.roads}


def test_forward_house_number_with_grid_community_and_street(index):
    best = index.geocode("人民路10号")[0]
    assert (best.kind, best.road, best.number, best.label) == ("house", "人民路", 10, "人民路10号")
    assert best.score >= 95 and best.grid and best.community and best.street
    assert math.dist((best.x, best.y), index.roads[0].numbers[10] if index.roads[0].name == "人民路"
                     else index.roads[1].numbers[10]) < 1e-6


@pytest.mark.parametrize("text", ["人民10号", "人明路10号", "姑苏区人民路十号", " 人民路 10 号 ", "人民路10号附近"])
def test_partial_misspelt_and_colloquial_forms_find_the_same_house(index, text):
    best = index.geocode(text)[0]
    assert (best.road, best.number) == ("人民路", 10), text


def test_a_house_number_that_does_not_exist_becomes_the_nearest_on_the_same_side(index):
    best = index.geocode("人民路999号")[0]
    people = next(r for r in index.roads if r.name == "人民路")
    top_odd = max(k for k in people.numbers if k % 2)
    assert best.number == top_odd and best.score < index.geocode(f"人民路{top_odd}号")[0].score


def test_landmark_plus_direction_and_distance_walks_along_the_road(index):
    landmark = index.landmarks[0]
    best = index.geocode(f"凤凰街{landmark.name}往南100米")[0]
    assert best.kind == "offset" and best.road == "凤凰街" and best.landmark == landmark.name
    assert best.x == pytest.approx(X0 + 350, abs=0.5) and best.y == pytest.approx(landmark.y - 100, abs=0.5)
    alias = index.geocode(landmark.aliases[0])[0] if landmark.aliases else index.geocode(landmark.name)[0]
    assert alias.landmark == landmark.name and (alias.x, alias.y) == (landmark.x, landmark.y)


def test_nothing_known_gives_no_candidates(index):
    assert index.geocode("完全不相干的地方") == [] and index.geocode("") == []


def test_reverse_gives_the_nearest_house_and_its_area(index):
    people = next(r for r in index.roads if r.name == "人民路")
    x, y = people.numbers[21]
    found = index.reverse(x + 1.0, y + 1.0)
    assert (found.road, found.number) == ("人民路", 21) and found.grid and found.community and found.street
    assert found.grid == index.area_at(x, y)[0]


def test_the_index_is_built_once_and_rebuilt_when_roads_change(store, monkeypatch):
    build_world(store)
    monkeypatch.setattr(geo, "REFRESH_SECONDS", 0.0)
    GeocodeIndex._cache.clear()
    first = GeocodeIndex.for_store(store)
    assert GeocodeIndex.for_store(store) is first
    with store.session() as s:
        s.add(Road(name="干将路", kind="main", width_m=20,
                   geom=WKTElement(f"LINESTRING({X0} {Y0 + 300},{X0 + 400} {Y0 + 300})", srid=STORE_SRID)))
        s.commit()
    assert geocode(store, "干将路3号")[0].road == "干将路"
    assert reverse_geocode(store, X0 + 5, Y0 + 305).road == "干将路"
    GeocodeIndex._cache.clear()


# --- the stored gazetteer (migration 0021) and imports through OGR --------------------------------

def _geojson(path, features, crs=True):
    import json

    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": props, "geometry": geom} for props, geom in features]}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_generated_gazetteer_is_stored_and_read_back(store, index):
    from app.store.gazetteer import read_gazetteer, write_gazetteer

    counts = write_gazetteer(store, index.to_stored())
    assert counts[1] == sum(len(r.numbers) for r in index.roads) and counts[2] == len(index.landmarks)
    stored = read_gazetteer(store)
    assert len(stored.houses) == counts[1] and stored.landmarks[0][4] == index.landmarks[0].aliases
    again = GeocodeIndex.from_store(store)
    assert again.geocode("人民路10号")[0].number == 10
    assert write_gazetteer(store, index.to_stored()) == counts  # replaced, not doubled


def test_import_landmarks_addresses_and_roads_from_files(store, index, tmp_path):
    from app.store.gazetteer import import_file

    marks = _geojson(tmp_path / "marks.geojson", [
        ({"name": "老虎灶", "kind": "店", "aliases": "老虎灶茶馆、灶头"}, {"type": "Point", "coordinates": [X0 + 60, Y0 + 230]})])
    assert import_file(store, marks, "landmarks") == 1
    houses = _geojson(tmp_path / "houses.geojson", [
        ({"路名": "人民路", "门牌号": "8号"}, {"type": "Point", "coordinates": [X0 + 33, Y0 + 188]})])
    assert import_file(store, houses, "addresses") == 1
    roads = _geojson(tmp_path / "roads.geojson", [
        ({"name": "十全街"}, {"type": "LineString", "coordinates": [[X0, Y0 + 350], [X0 + 400, Y0 + 350]]})])
    assert import_file(store, roads, "roads") == 1
    fresh = GeocodeIndex.from_store(store)
    found = fresh.geocode("灶头往东50米")[0]
    assert found.landmark == "老虎灶" and found.x == pytest.approx(X0 + 110)
    assert (fresh.geocode("人民路8号")[0].x, fresh.geocode("人民路8号")[0].y) == pytest.approx((X0 + 33, Y0 + 188))
    assert fresh.geocode("十全街")[0].road == "十全街"


def test_a_bad_file_writes_nothing(store, index, tmp_path):
    from app.store.gazetteer import GazetteerError, import_file, read_gazetteer

    bad = _geojson(tmp_path / "bad.geojson", [
        ({"路名": "人民路", "门牌号": "1"}, {"type": "Point", "coordinates": [X0 + 10, Y0 + 210]}),
        ({"路名": "人民路", "门牌号": "八号"}, {"type": "Point", "coordinates": [X0 + 20, Y0 + 210]})])
    with pytest.raises(GazetteerError, match="第 2 个要素"):
        import_file(store, bad, "addresses")
    wgs = _geojson(tmp_path / "wgs.geojson", [({"name": "X"}, {"type": "Point", "coordinates": [X0, Y0]})], crs=False)
    with pytest.raises(GazetteerError, match="EPSG:4549"):
        import_file(store, wgs, "landmarks")
    with pytest.raises(GazetteerError, match="无法读取"):
        import_file(store, tmp_path / "missing.gpkg", "roads")
    assert read_gazetteer(store).houses == () and read_gazetteer(store).landmarks == ()


@pytest.mark.postgis
def test_everyone_reads_the_gazetteer_and_only_the_administrators_write(store):
    if store.backend != "postgis":
        pytest.skip("grants are PostgreSQL's")
    from sqlalchemy import text

    from app.store.security import GROUP_ROLES, group_role

    with store.engine.connect() as conn:
        for role in GROUP_ROLES:
            for table in ("road_segments", "house_numbers", "landmarks", "landmark_aliases"):
                name = group_role(role)
                reads = conn.execute(text(f"SELECT has_table_privilege('{name}', '{table}', 'SELECT')")).scalar()
                writes = conn.execute(text(f"SELECT has_table_privilege('{name}', '{table}', 'INSERT')")).scalar()
                assert reads and writes == (name == group_role("admin")), (name, table)
