"""Grid codes, component identifiers (17 and legacy 16 digits) and event codes."""

from __future__ import annotations

import pytest

from app.domain.codes import (
    CodeError,
    ComponentId,
    EventCode,
    GridCode,
    LegacyComponentId,
    check_admin_code,
    normalize_component_id,
    parse_any_component_id,
    street_kind_of,
)
from app.domain.taxonomy import Taxonomy


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.load()


class TestGridCode:
    def test_parts_and_derived_codes(self):
        g = GridCode.parse(" 320582110152102\n")
        assert (g.admin, g.street, g.community, g.seq) == ("320582", "110", "152", "102")
        assert g.street_code == "320582110"
        assert g.community_code == "320582110152"
        assert g.street_kind == "镇"
        assert str(g) == "320582110152102"
        assert GridCode.parse(320582110152102) == g

    def test_wrong_length(self):
        with pytest.raises(CodeError) as err:
            GridCode.parse("3205081101521")
        assert str(err.value) == "网格编码 3205081101521 应为15位数字，实际13位"

    def test_non_digit_names_the_position(self):
        with pytest.raises(CodeError, match="第15位「X」不是数字"):
            GridCode.parse("32058211015210X")
        with pytest.raises(CodeError, match="第7位「 」不是数字"):
            GridCode.parse("320582 10152102")

    def test_empty(self):
        with pytest.raises(CodeError, match="为空"):
            GridCode.parse("  ")

    @pytest.mark.parametrize("street", ["000", "400", "999"])
    def test_street_segment_out_of_range(self, street):
        code = f"320508{street}152102"
        with pytest.raises(CodeError) as err:
            GridCode.parse(code)
        assert f"网格编码 {code} 的街道/乡镇段 {street} 无效：应为 001–399" in str(err.value)
        assert err.value.part == "street"

    @pytest.mark.parametrize("code, part", [("320508001000102", "community"), ("320508001152000", "seq")])
    def test_zero_community_or_sequence(self, code, part):
        with pytest.raises(CodeError) as err:
            GridCode.parse(code)
        assert err.value.part == part and "000 无效" in str(err.value)

    @pytest.mark.parametrize("street, kind", [("001", "街道"), ("099", "街道"), ("100", "镇"), ("200", "乡"), ("399", "乡")])
    def test_street_kind(self, street, kind):
        assert street_kind_of(street) == kind

    @pytest.mark.parametrize("admin, fragment", [
        ("990000", "省级代码 99 不存在"),
        ("320500", "县级段"),
        ("320008", "地级段"),
    ])
    def test_bad_admin_segment(self, admin, fragment):
        with pytest.raises(CodeError) as err:
            GridCode.parse(f"{admin}001152102")
        msg = str(err.value)
        assert f"行政区划段 {admin} 不是有效的县级行政区划代码" in msg and fragment in msg
        assert err.value.part == "admin"


class TestAdminCode:
    @pytest.mark.parametrize("admin", ["110101", "320508", "419001", "650102"])
    def test_valid(self, admin):
        assert check_admin_code(admin) == admin

    def test_message_without_label(self):
        with pytest.raises(CodeError, match="^行政区划段 990000 不是有效的县级行政区划代码"):
            check_admin_code("990000")


class TestComponentId:
    def test_parts(self, tax):
        c = ComponentId.parse("32050801001000001", tax)
        assert (c.admin, c.major, c.minor, c.serial) == ("320508", "01", "001", "000001")
        assert c.category_code == "01001"
        assert str(c) == "32050801001000001"

    def test_major_outside_components(self):
        with pytest.raises(CodeError) as err:
            ComponentId.parse("32050806001000001")
        assert "大类段 06 无效：应为 01–05" in str(err.value) and err.value.part == "major"

    def test_unknown_category_only_checked_with_taxonomy(self, tax):
        assert ComponentId.parse("32050801016000001").category_code == "01016"
        with pytest.raises(CodeError) as err:
            ComponentId.parse("32050801016000001", tax)
        assert err.value.part == "category"
        assert "类别段 01016" in str(err.value) and "01015" in str(err.value)

    def test_zero_serial(self):
        with pytest.raises(CodeError, match="流水号段 000000 无效"):
            ComponentId.parse("32050801001000000")

    def test_make(self, tax):
        assert str(ComponentId.make("320508", "03005", 42, tax)) == "32050803005000042"
        with pytest.raises(CodeError, match="流水号"):
            ComponentId.make("320508", "03005", 0)

    def test_from_legacy(self, tax):
        new = ComponentId.from_legacy("3205080101000001", tax)
        assert str(new) == "32050801001000001"
        assert LegacyComponentId.parse("3205080305000123").to_component_id(tax).category_code == "03005"

    def test_unmapped_legacy_names_the_id(self, tax):
        with pytest.raises(CodeError) as err:
            ComponentId.from_legacy("3205080501000001", tax)
        assert "3205080501000001" in str(err.value) and "legacy_map.csv" in str(err.value)
        assert err.value.part == "category"


class TestLegacyComponentId:
    def test_parts(self):
        old = LegacyComponentId.parse("3205080101000001")
        assert (old.admin, old.major, old.minor, old.serial) == ("320508", "01", "01", "000001")
        assert old.category_code == "0101" and str(old) == "3205080101000001"

    @pytest.mark.parametrize("text, fragment", [
        ("3205080701000001", "大类段 07 无效：应为 01–06"),
        ("3205080100000001", "小类段 00 无效"),
        ("320508010100001", "应为16位数字，实际15位"),
    ])
    def test_invalid(self, text, fragment):
        with pytest.raises(CodeError, match=fragment):
            LegacyComponentId.parse(text)


class TestAnyComponentId:
    def test_dispatches_on_length(self, tax):
        assert isinstance(parse_any_component_id("3205080101000001"), LegacyComponentId)
        assert isinstance(parse_any_component_id("32050801001000001", tax), ComponentId)

    def test_other_length(self):
        with pytest.raises(CodeError, match="部件标识码 320508010010001 应为17位或16位数字，实际15位"):
            parse_any_component_id("320508010010001")

    def test_normalize(self, tax):
        assert str(normalize_component_id("3205080111000009", tax)) == "32050801011000009"
        assert str(normalize_component_id("32050801011000009", tax)) == "32050801011000009"


class TestEventCode:
    def test_parts(self, tax):
        e = EventCode.parse("32050806012", tax)
        assert (e.admin, e.major, e.minor, e.category_code) == ("320508", "06", "012", "06012")
        assert str(e) == "32050806012"
        assert tax.get("event", e.category_code).name == "道路不洁"

    def test_major_range(self):
        with pytest.raises(CodeError, match="大类段 11 无效：应为 01–10"):
            EventCode.parse("32050811001")

    def test_unknown_event_category(self, tax):
        with pytest.raises(CodeError, match="类别段 06031 无效"):
            EventCode.parse("32050806031", tax)

    def test_wrong_length(self):
        with pytest.raises(CodeError, match="事件编码 3205080601 应为11位数字，实际10位"):
            EventCode.parse("3205080601")

    def test_not_text(self):
        with pytest.raises(CodeError, match="数字文本"):
            EventCode.parse(None)  # type: ignore[arg-type]
