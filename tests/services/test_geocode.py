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
