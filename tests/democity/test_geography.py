"""The demo city's ground: grid codes, seamless tiling, component placement, org codes."""

from __future__ import annotations

import random
import re

import pytest
from shapely.geometry import Point, Polygon
from shapely.ops import unary_union

from data.democity import components as comps
from data.democity.geography import City
from data.democity.org import TELECOMS, build_departments, component_departments, credit_code, uscc_check
from data.democity.params import SCALES


@pytest.fixture(scope="module")
def city() -> City:
    return City(SCALES["tiny"], random.Random(7))


def test_codes_nest_street_community_grid(city):
    assert [s.code for s in city.streets] == ["320508001"]
    assert [c.code for c in city.communities] == ["320508001001", "320508001002"]
    codes = [g.code for g in city.grids]
    assert len(set(codes)) == len(codes) >= 100
    for g in city.grids:
        assert re.fullmatch(r"\d{15}", g.code)
        assert g.code.startswith(g.community_code)


def test_grid_sequence_runs_west_to_east_then_north_to_south(city):
    for com in city.communities:
        grids = sorted((g for g in city.grids if g.community_code == com.code), key=lambda g: g.code)
        assert grids[0].code.endswith("001")
        assert (grids[0].i, grids[0].j) == (com.i0, com.j1 - 1)  # north-west corner first
        assert (grids[1].i, grids[1].j) == (com.i0 + 1, com.j1 - 1)  # then east
        assert (grids[-1].i, grids[-1].j) == (com.i1 - 1, com.j0)  # south-east corner last


def test_grids_tile_each_community_without_gaps_or_overlaps(city):
    for com in city.communities:
        polys = [Polygon(g.ring) for g in city.grids if g.community_code == com.code]
        assert all(p.is_valid for p in polys)
        boundary = Polygon(com.ring)
        union = unary_union(polys)
        assert abs(union.area - boundary.area) < 1e-3
        assert abs(sum(p.area for p in polys) - boundary.area) < 1e-3  # no overlaps
        assert union.symmetric_difference(boundary).area < 1e-3


def test_grids_are_about_ten_thousand_square_metres(city):
    areas = [g.area for g in city.grids]
    assert 8_500 < sum(areas) / len(areas) < 12_500
    assert min(areas) > 5_000 and max(areas) < 17_000


def test_components_lie_inside_their_grid(city):
    codes = [f"01{n:03d}" for n in range(1, 80)] + ["04002", "03005", "02014", "02010"]
    placed = list(comps.place(city, codes, random.Random(3)))
    assert len(placed) > 500
    rings = {(g.i, g.j): Polygon(g.ring) for g in city.grids}
    for p in placed:
        assert rings[(p.i, p.j)].contains(Point(p.x, p.y)), p


def test_every_road_edge_is_a_grid_edge_and_addresses_name_a_road(city):
    assert any(r.kind == "trunk" for r in city.roads)
    names = {r.name for r in city.roads}
    assert len(names) == len(city.roads)
    text = city.address(0, 0, 0.5, 0.5)
    assert text.endswith("号附近") and text.split(" ")[0] in names


def test_credit_codes_carry_valid_check_characters():
    assert uscc_check("91350100M000100Y4") == "3"  # the example code of GB 32100
    code = credit_code("11", "320508", "01234567")
    assert len(code) == 18 and code[:8] == "11320508"
    assert code[17] == uscc_check(code[:17])
    # GB 11714 check digit of 01234567: 11 - (153 mod 11) = 1
    assert code[8:17] == "012345671"


def test_departments_have_unique_codes_and_utilities_own_their_covers():
    city = City(SCALES["district"], random.Random(1))
    depts = build_departments(city, random.Random(1))
    assert 36 <= len(depts) <= 45
    assert len({d.code for d in depts}) == len(depts)
    assert len({d.credit for d in depts}) == len(depts)
    rng = random.Random(1)
    assert component_departments("01001", 0, rng)[1] == "ZLS"  # water cover: water company
    assert component_departments("01011", 0, rng)[1] == "RQ"  # gas cover: gas company
    assert component_departments("01007", 1, rng)[1] in TELECOMS
    assert component_departments("03005", 2, rng)[2] == "HWQ003"  # bins: the street's sanitation firm
