"""The GB/T 47678.5-2026 category lists and the legacy code map."""

from __future__ import annotations

import pytest

from app.domain.definitions import Kind
from app.domain.taxonomy import (
    CategoryDef,
    Taxonomy,
    TaxonomyError,
    UnknownCategory,
    UnmappedLegacyCode,
)

HEADER = "kind,major_code,major_name,code,name\n"


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.load()


def write_lists(directory, components="", events="", legacy=None):
    (directory / "components.csv").write_text(HEADER + components, encoding="utf-8")
    (directory / "events.csv").write_text(HEADER + events, encoding="utf-8")
    if legacy is not None:
        (directory / "legacy_map.csv").write_text("kind,legacy_code,legacy_name,code\n" + legacy, encoding="utf-8")
    return directory


def test_shipped_lists_have_153_components_and_250_events(tax):
    assert len(tax.of_kind(Kind.COMPONENT)) == 153
    assert len(tax.of_kind("event")) == 250
    assert len(tax) == 403 == len(list(tax))


def test_same_digits_in_both_lists_are_different_categories(tax):
    comp = tax.get(Kind.COMPONENT, "01001")
    event = tax.get(Kind.EVENT, "01001")
    assert comp == CategoryDef(Kind.COMPONENT, "01001", "01", "市政公用设施", "供水井盖")
    assert event.name == "供水井盖异常"
    assert comp.key == (Kind.COMPONENT, "01001") != event.key
    assert (Kind.EVENT, "01001") in tax and (Kind.EVENT, "01016") not in tax
    assert ("no such kind", "01001") not in tax and "01001" not in tax


def test_kind_may_be_given_by_value_or_chinese_label(tax):
    assert tax.get("部件", " 03005 ").name == "垃圾箱"
    assert tax.find("event", "06012").name == "道路不洁"


def test_find_returns_none_for_unknown(tax):
    assert tax.find(Kind.COMPONENT, "01016") is None


def test_unknown_code_names_the_code_and_suggests_neighbours(tax):
    with pytest.raises(UnknownCategory) as err:
        tax.get(Kind.COMPONENT, "01016")
    msg = str(err.value)
    assert isinstance(err.value, ValueError)
    assert "01016" in msg and "部件" in msg
    assert "01015 信号灯电源井盖" in msg and "01017 电缆井盖" in msg


def test_unknown_name_suggests_matching_categories(tax):
    with pytest.raises(UnknownCategory, match="供水井盖"):
        tax.get(Kind.COMPONENT, "供水")


def test_a_legacy_code_given_as_a_2026_code_points_to_its_mapping(tax):
    with pytest.raises(UnknownCategory, match="旧版代码.*01001 供水井盖"):
        tax.get(Kind.COMPONENT, "0101")


def test_iteration_lists_components_then_events_by_code(tax):
    keys = [c.key for c in tax]
    assert keys[0] == (Kind.COMPONENT, "01001")
    assert keys[152] == (Kind.COMPONENT, "05009")
    assert keys[153] == (Kind.EVENT, "01001")
    assert keys[-1] == (Kind.EVENT, "10002")


def test_majors_per_kind(tax):
    assert tax.majors(Kind.COMPONENT) == [
        ("01", "市政公用设施"), ("02", "交通设施"), ("03", "市容环卫设施"),
        ("04", "园林绿化设施"), ("05", "其他管理部件"),
    ]
    events = tax.majors(Kind.EVENT)
    assert [code for code, _ in events] == [f"{n:02d}" for n in range(1, 11)]
    assert events[6] == ("07", "宣传广告类")
    assert [c.code for c in tax.in_major(Kind.COMPONENT, "05")] == ["05002", "05003", "05009"]


class TestSearch:
    def test_exact_code_first_then_code_prefix(self, tax):
        found = tax.search("01001")
        assert [c.key for c in found[:2]] == [(Kind.COMPONENT, "01001"), (Kind.EVENT, "01001")]
        assert all(c.code.startswith("0100") for c in tax.search("0100"))
        assert len(tax.search("0100", Kind.COMPONENT)) == 9

    def test_name_prefix_before_substring(self, tax):
        names = [c.name for c in tax.search("垃圾", Kind.EVENT)]
        n_prefix = sum(n.startswith("垃圾") for n in names)
        assert n_prefix >= 2
        assert all(n.startswith("垃圾") for n in names[:n_prefix])
        assert all("垃圾" in n for n in names[n_prefix:])
        assert "暴露垃圾" in names[n_prefix:]

    def test_substring_in_both_kinds_and_kind_filter(self, tax):
        both = tax.search("井盖", limit=500)
        assert {c.kind for c in both} == {Kind.COMPONENT, Kind.EVENT}
        only = tax.search("井盖", kind="component", limit=500)
        assert only and all(c.kind is Kind.COMPONENT and "井盖" in c.name for c in only)

    def test_major_name_matches_after_names(self, tax):
        found = tax.search("宣传广告", Kind.EVENT, limit=50)
        assert found and {c.major_code for c in found} == {"07"}

    def test_limit_and_blank(self, tax):
        assert len(tax.search("0", limit=5)) == 5
        assert tax.search("   ") == []
        assert tax.search("不存在的名字") == []


class TestLegacy:
    def test_confirmed_component_mapping(self, tax):
        assert tax.from_legacy(Kind.COMPONENT, "0101").key == (Kind.COMPONENT, "01001")
        assert tax.from_legacy("component", "0305").name == "垃圾箱"

    def test_event_majors_map_to_06_to_09_with_the_same_minor(self, tax):
        assert tax.from_legacy(Kind.EVENT, "0101").code == "06001"
        assert tax.from_legacy(Kind.EVENT, "0201").name == "非法小广告"
        assert tax.from_legacy(Kind.EVENT, "0316").code == "08016"
        assert tax.from_legacy(Kind.EVENT, "0409").name == "机动车乱停放"

    def test_unmapped_code_says_so_and_how_to_fix(self, tax):
        with pytest.raises(UnmappedLegacyCode) as err:
            tax.from_legacy(Kind.COMPONENT, "0501")
        msg = str(err.value)
        assert "0501" in msg and "房屋土地" in msg and "legacy_map.csv" in msg

    def test_reserved_2026_codes_are_not_mapped(self, tax):
        for legacy in ("0131", "0205", "0407"):  # 06031, 07005, 09007 have no row
            with pytest.raises(UnmappedLegacyCode):
                tax.from_legacy(Kind.EVENT, legacy)

    def test_unknown_legacy_major_and_malformed_code(self, tax):
        with pytest.raises(UnmappedLegacyCode, match="大类 07"):
            tax.from_legacy(Kind.COMPONENT, "0701")
        with pytest.raises(UnmappedLegacyCode, match="4位数字"):
            tax.from_legacy(Kind.COMPONENT, "01001")

    def test_component_rows_keep_major_minor_and_an_equivalent_name(self, tax):
        synonyms = {"上水井盖": "供水井盖", "通讯井盖": "通信井盖"}
        rows = tax.legacy_mappings(Kind.COMPONENT)
        assert rows
        for m in rows:
            new = tax.get(Kind.COMPONENT, m.code)
            assert new.major_code == m.legacy_code[:2]
            assert int(new.code[2:]) == int(m.legacy_code[2:])
            assert synonyms.get(m.legacy_name, m.legacy_name) == new.name

    def test_event_rows_shift_the_major_by_five(self, tax):
        rows = tax.legacy_mappings(Kind.EVENT)
        assert len(rows) == sum(len(tax.in_major(Kind.EVENT, m)) for m in ("06", "07", "08", "09")) == 95
        for m in rows:
            assert int(m.code[:2]) == int(m.legacy_code[:2]) + 5
            assert int(m.code[2:]) == int(m.legacy_code[2:])
            assert tax.get(Kind.EVENT, m.code).name == m.legacy_name

    def test_the_map_is_data(self, tmp_path):
        write_lists(tmp_path, "component,05,其他管理部件,05002,公房地下室\n",
                    legacy="# a city's own mapping\ncomponent,0501,公房地下室,05002\n")
        assert Taxonomy.load(tmp_path).from_legacy(Kind.COMPONENT, "0501").code == "05002"


class TestLoading:
    def test_default_load_is_cached(self):
        assert Taxonomy.load() is Taxonomy.load()

    def test_custom_directory_without_legacy_map(self, tmp_path):
        tax = Taxonomy.load(write_lists(tmp_path, "component,01,市政公用设施,01001,供水井盖\n",
                                        "event,06,市容环境类,06001,私搭乱建\n"))
        assert len(tax) == 2 and tax.legacy_mappings() == []
        with pytest.raises(UnmappedLegacyCode):
            tax.from_legacy(Kind.COMPONENT, "0101")

    def test_missing_file(self, tmp_path):
        with pytest.raises(TaxonomyError, match="components.csv"):
            Taxonomy.load(tmp_path)

    def test_bad_header_names_file_and_line(self, tmp_path):
        (tmp_path / "components.csv").write_text("kind,code,name\n", encoding="utf-8")
        with pytest.raises(TaxonomyError, match=r"components.csv 第1行：表头应为"):
            Taxonomy.load(tmp_path)

    @pytest.mark.parametrize("row, fragment", [
        ("component,01,市政公用设施,1001,供水井盖\n", "应为5位数字"),
        ("component,02,交通设施,01001,供水井盖\n", "不属于大类 02"),
        ("event,01,市政公用设施,01001,供水井盖\n", "kind 应为 component"),
        ("component,01,市政公用设施,01001\n", "应有5列"),
        ("component,01,市政公用设施,01001,\n", "名称不能为空"),
    ])
    def test_bad_rows_name_the_line(self, tmp_path, row, fragment):
        write_lists(tmp_path, "component,01,市政公用设施,01002,污水井盖\n" + row)
        with pytest.raises(TaxonomyError, match=f"第3行：.*{fragment}"):
            Taxonomy.load(tmp_path)

    def test_duplicate_code(self, tmp_path):
        write_lists(tmp_path, "component,01,市政公用设施,01001,供水井盖\n" * 2)
        with pytest.raises(TaxonomyError, match="重复"):
            Taxonomy.load(tmp_path)

    def test_legacy_row_to_unknown_code(self, tmp_path):
        write_lists(tmp_path, "component,01,市政公用设施,01001,供水井盖\n", legacy="component,0102,污水井盖,01002\n")
        with pytest.raises(TaxonomyError, match="01002 不在"):
            Taxonomy.load(tmp_path)
