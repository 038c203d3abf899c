"""Layouts as data (Qt-free): parsing, validation messages in both languages, fallback, planning."""

from __future__ import annotations

import pytest

from app.domain.messages import Msg
from app.i18n import Catalogue
from app.views.layouts import (
    FALLBACK,
    LAYOUTS_DIR,
    MODES,
    Group,
    LayoutError,
    Size,
    builtin_layout,
    builtin_names,
    load_layout,
    parse_layout,
    resolve_layout,
)

FULL = """
format = 1
name = "test"
title = "测试"
central = "map"
hidden = ["c"]
unlisted = "hide"
scale = 1.5

[window]
menubar = false
statusbar = true

[corners]
bottom_left = "left"

[areas.left]
size = 320
[[areas.left.groups]]
docks = ["a", "b"]
front = "b"
size = "60%"
[[areas.left.groups]]
docks = ["c"]

[areas.bottom]
size = "40%"
split = "vertical"
[[areas.bottom.groups]]
docks = ["q"]
titlebar = false
"""


def errors(text: str) -> tuple[str, str]:
    """The Chinese and English message of parsing ``text``."""
    with pytest.raises(LayoutError) as caught:
        parse_layout(text, source="my.toml")
    return Catalogue().error(caught.value), Catalogue("en").error(caught.value)


def test_a_full_layout_parses_into_groups_sizes_and_flags():
    layout = parse_layout(FULL, source="my.toml")
    assert layout.name == "test" and layout.title == "测试" and layout.source == "my.toml"
    assert layout.groups == (
        Group("left", ("a", "b"), "b", Size(60, percent=True)),
        Group("left", ("c",), None, None),
        Group("bottom", ("q",), None, None, titlebar=False),
    )
    assert layout.area_sizes == {"left": Size(320), "bottom": Size(40, percent=True)}
    assert layout.split("left") == "vertical" and layout.split("bottom") == "vertical"
    assert layout.split("top") == "horizontal"  # top/bottom groups sit side by side by default
    assert layout.hidden == {"c"} and layout.unlisted == "hide"
    assert (layout.menubar, layout.statusbar, layout.toolbars) == (False, True, True)
    assert layout.corner("bottom_left") == "left" and layout.corner("bottom_right") == "right"
    assert layout.scale == 1.5
    assert layout.named() == ["a", "b", "c", "q"]


def test_sizes_are_pixels_or_percentages_of_a_whole():
    assert Size(320).pixels(1920) == 320
    assert Size(25, percent=True).pixels(1920) == 480
    assert str(Size(25, percent=True)) == "25%" and str(Size(320)) == "320"


def test_the_name_defaults_to_the_file_stem(tmp_path):
    path = tmp_path / "night_shift.toml"
    path.write_text("format = 1\n", encoding="utf-8")
    layout = load_layout(path)
    assert layout.name == "night_shift" and layout.groups == () and layout.source == str(path)


@pytest.mark.parametrize(("text", "zh", "en"), [
    ("[[[", "不是有效的 TOML", "not valid TOML"),
    ("name = 'x'", "缺少 format = 1", "format = 1 (the layout file format) is missing"),
    ("format = 2", "format = 2 不受支持，本版本读取 format = 1",
     "format = 2 is not supported; this version reads format = 1"),
    ("format = true", "format = true 不受支持", "format = true is not supported"),
    ("format = 1\nlayuot = 1", "未知的键 layuot", "unknown key layuot (allowed: format, name"),
    ("format = 1\n[areas.middle]", "未知的键 areas.middle（可用：left, right, top, bottom）",
     "unknown key areas.middle (allowed: left, right, top, bottom)"),
    ("format = 1\n[areas.left]\nsize = '120'", "尺寸 areas.left.size = \"120\" 无效",
     'size areas.left.size = "120" is invalid: write pixels (e.g. 320) or a percentage (e.g. "25%")'),
    ("format = 1\n[areas.left]\nsize = '150%'", "尺寸 areas.left.size = \"150%\" 无效", "is invalid"),
    ("format = 1\n[areas.left]\nsize = 0.3", "尺寸 areas.left.size = 0.3 无效", "size areas.left.size = 0.3"),
    ("format = 1\nhidden = 'a'", "hidden 必须是文字列表，不能是 \"a\"", 'hidden must be a list of texts, not "a"'),
    ("format = 1\n[window]\nmenubar = 'no'", "window.menubar 必须是true 或 false",
     'window.menubar must be true or false, not "no"'),
    ("format = 1\ncentral = 'chart'", "central = \"chart\" 不是 map 之一", 'central = "chart" is not one of map'),
    ("format = 1\n[corners]\ntop_left = 'bottom'", "corners.top_left = \"bottom\" 不是 top, left 之一",
     "is not one of top, left"),
    ("format = 1\nscale = 9", "scale = 9 超出范围（0.5–4.0）", "scale = 9 is out of range (0.5–4.0)"),
    ("format = 1\n[[areas.left.groups]]\ndocks = []", "areas.left.groups[1]：组里没有面板",
     "areas.left.groups[1]: the group names no docks"),
    ("format = 1\n[[areas.left.groups]]\ndocks = ['a']\nfront = 'b'",
     "areas.left.groups[1]：front = \"b\" 不在该组的 docks 中", 'front = "b" is not one of the group\'s docks'),
    ("format = 1\n[[areas.left.groups]]\ndocks = ['a']\n[[areas.right.groups]]\ndocks = ['a']",
     "面板 a 在布局中出现了不止一次", "dock a appears more than once in the layout"),
    ("format = 1\n[[areas.left.groups]]\ndocks = ['a b']", "面板编号 \"a b\" 无效", 'dock id "a b" is invalid'),
    ("format = 1\n[[areas.left.groups]]\ndocks = ['a']\ncolour = 'red'",
     "未知的键 areas.left.groups[1].colour", "unknown key areas.left.groups[1].colour"),
])
def test_a_malformed_layout_says_what_is_wrong_in_both_languages(text, zh, en):
    chinese, english = errors(text)
    assert chinese.startswith("布局 my.toml：") and zh in chinese
    assert english.startswith("Layout my.toml: ") and en in english


def test_an_unreadable_file_is_a_layout_error(tmp_path):
    with pytest.raises(LayoutError) as caught:
        load_layout(tmp_path / "missing.toml")
    assert "无法读取文件" in Catalogue().error(caught.value)
    assert "the file cannot be read" in Catalogue("en").error(caught.value)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00format")
    with pytest.raises(LayoutError, match="无法读取文件"):
        load_layout(binary)


def test_every_builtin_layout_parses():
    files = sorted(LAYOUTS_DIR.glob("*.toml"))
    names = {f.stem for f in files}
    assert {"desk", "analyst", "wall", "desk_dispatcher", "desk_acceptor", "desk_shift_leader",
            "desk_department", "desk_supervisor"} <= names
    for path in files:
        assert load_layout(path).central == "map"


@pytest.mark.parametrize(("mode", "role", "expected"), [
    ("desk", "dispatcher", "desk_dispatcher"),
    ("desk", "acceptor", "desk_acceptor"),
    ("desk", "leader", "desk"),  # no layout of its own: the generic desk
    ("desk", None, "desk"),
    ("analyst", "dispatcher", "analyst"),
    ("wall", None, "wall"),
])
def test_the_builtin_layout_follows_mode_and_role(mode, role, expected):
    layout, problems = builtin_layout(mode, role)
    assert layout.name == expected and problems == []


def test_unknown_modes_are_refused():
    assert builtin_names("desk", "dispatcher") == ["desk_dispatcher", "desk"]
    assert set(MODES) == {"desk", "analyst", "wall"}
    with pytest.raises(ValueError, match="unknown window mode 'cinema'"):
        builtin_names("cinema")


def test_a_malformed_file_falls_back_to_the_builtin_layout_with_its_message(tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text("format = 1\n[areas.left]\nsize = 'wide'\n", encoding="utf-8")
    layout, problems = resolve_layout("desk", "dispatcher", bad)
    assert layout.name == "desk_dispatcher"
    assert [Catalogue("en").text(p) for p in problems] == [
        f'Layout {bad}: size areas.left.size = "wide" is invalid: write pixels (e.g. 320) or a percentage (e.g. "25%")',
        "using the built-in layout desk_dispatcher instead",
    ]
    good = tmp_path / "good.toml"
    good.write_text("format = 1\n", encoding="utf-8")
    assert resolve_layout("desk", "dispatcher", good) == (load_layout(good), [])


def test_a_broken_or_missing_builtin_layout_falls_back_to_the_next_or_to_defaults(tmp_path):
    (tmp_path / "desk_dispatcher.toml").write_text("format = 3\n", encoding="utf-8")
    (tmp_path / "desk.toml").write_text("format = 1\ntitle = '工作台'\n", encoding="utf-8")
    layout, problems = builtin_layout("desk", "dispatcher", tmp_path)
    assert layout.title == "工作台" and len(problems) == 1 and "format = 3" in str(problems[0])
    layout, problems = builtin_layout("wall", None, tmp_path)
    assert layout is FALLBACK
    assert problems == [Msg("找不到 {mode} 模式的内置布局（{folder}），各面板放在默认位置",
                            mode="wall", folder=str(tmp_path))]


def test_a_plan_skips_missing_docks_and_places_unnamed_ones_in_their_own_area():
    layout = parse_layout(FULL.replace('unlisted = "hide"', 'unlisted = "show"'))
    plan = layout.plan({"b": "left", "q": "bottom", "plugin.left": "left", "plugin.top": "top",
                        "plugin.top2": "top"})
    # "a" and "c" are not registered: skipped (the second left group disappears with "c")
    assert plan.groups == (
        Group("left", ("b", "plugin.left"), "b", Size(60, percent=True)),
        Group("bottom", ("q",), "q", None, titlebar=False),
        Group("top", ("plugin.top", "plugin.top2"), "plugin.top", None),
    )
    assert plan.hidden == frozenset()
    assert plan.group_of("plugin.left").area == "left" and plan.group_of("nothing") is None
    assert [g.docks for g in plan.in_area("left")] == [("b", "plugin.left")]


def test_hidden_docks_are_placed_closed_and_never_in_front():
    layout = parse_layout(FULL)
    plan = layout.plan({"a": "right", "b": "right", "c": "left", "q": "bottom", "x": "right"})
    assert plan.hidden == {"c", "x"}  # c by name; x because unlisted docks are hidden here
    assert plan.group_of("c").front == "c"  # the only one: still recorded, but shown nowhere
    assert plan.shown(plan.group_of("c")) == []
    assert plan.group_of("x").area == "right"  # its own area: the layout has no right group
    hide_front = parse_layout("format = 1\nhidden = ['b']\n[[areas.left.groups]]\ndocks = ['a', 'b']\nfront = 'b'")
    assert hide_front.plan({"a": "left", "b": "left"}).group_of("a").front == "a"


def test_the_fallback_puts_every_dock_in_its_own_area_tabbed_there():
    plan = FALLBACK.plan({"q": "bottom", "d": "right", "t": "right", "l": "left"})
    assert [(g.area, g.docks, g.front) for g in plan.groups] == [
        ("bottom", ("q",), "q"), ("right", ("d", "t"), "d"), ("left", ("l",), "l")]


def test_the_run_command_takes_a_mode_and_a_layout_file(tmp_path, capsys):
    from app.cli import build_parser

    parser = build_parser()
    assert (parser.parse_args(["run"]).mode, parser.parse_args(["run"]).layout) == ("desk", None)
    mine = tmp_path / "mine.toml"
    mine.write_text("format = 1\n", encoding="utf-8")
    args = parser.parse_args(["run", "--mode", "wall", "--layout", str(mine)])
    assert (args.mode, args.layout) == ("wall", str(mine))
    for wrong in (["run", "--mode", "cinema"], ["run", "--layout", str(tmp_path / "missing.toml")]):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(wrong)
        assert exited.value.code == 2
    assert "missing.toml' does not exist" in capsys.readouterr().err


def test_a_byte_order_mark_from_a_windows_editor_is_accepted(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes("\ufeffformat = 1\ntitle = '夜班'\n".encode())
    assert load_layout(path).title == "夜班"
