"""Parsing of spoken and typed addresses (app/domain/address.py): pure, no store."""

from __future__ import annotations

import pytest

from app.domain.address import chinese_number, normalize, parse_address, road_stem


@pytest.mark.parametrize(("text", "value"), [("二百", 200), ("一百二十八", 128), ("十五", 15), ("三零五", 305),
                                             ("两千零五", 2005), ("十", 10), ("人民", None), ("", None)])
def test_chinese_numbers(text, value):
    assert chinese_number(text) == value


def test_normalize_drops_spaces_and_makes_numbers_digits():
    assert normalize(" 人民路 １２８ 号，") == "人民路128号"
    assert normalize("人民路一百二十八号") == "人民路128号"
    assert normalize("友谊桥往南二百米") == "友谊桥往南200米"


def test_the_administrative_prefix_is_split_off():
    parsed = parse_address("江苏省苏州市姑苏区人民路128号")
    assert (parsed.prefix, parsed.place, parsed.number) == ("江苏省苏州市姑苏区", "人民路", 128)
    assert parse_address("苏州市人民路5号").prefix == "苏州市"
    assert parse_address("人民路5号").prefix == ""


def test_a_market_is_not_a_city():
    parsed = parse_address("和平菜市场")
    assert parsed.prefix == "" and parsed.place == "和平菜市场"


@pytest.mark.parametrize(("text", "direction", "metres", "dx", "dy"), [
    ("人民路友谊桥往南200米", "南", 200.0, 0.0, -200.0),
    ("友谊桥东侧约50米", "东", 50.0, 50.0, 0.0),
    ("友谊桥向西北100m", "西北", 100.0, -70.71, 70.71),
    ("友谊桥北边二百米处", "北", 200.0, 0.0, 200.0),
])
def test_landmark_direction_and_distance(text, direction, metres, dx, dy):
    parsed = parse_address(text)
    assert parsed.direction == direction and parsed.distance_m == metres
    assert parsed.offset == pytest.approx((dx, dy), abs=0.01)
    assert parsed.place.endswith("友谊桥")


def test_fillers_at_the_end_are_dropped_and_no_offset_is_none():
    parsed = parse_address("和平广场附近")
    assert parsed.place == "和平广场" and parsed.offset is None and parsed.number is None


def test_road_stems():
    assert road_stem("人民路") == "人民" and road_stem("解放大道") == "解放" and road_stem("平江街") == "平江"
    assert road_stem("路") == "路" and road_stem("东街") == "东街"  # too short to lose its suffix


def test_a_trailing_number_while_typing_is_a_house_number():
    parsed = parse_address("人民路10")
    assert (parsed.place, parsed.number) == ("人民路", 10)
    assert parse_address("10").number is None
