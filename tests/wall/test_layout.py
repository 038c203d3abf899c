"""The wall's layout file: the shipped default, a two-screen file, and malformed files (default + message)."""

from __future__ import annotations

import pytest

from app.i18n import Catalogue
from app.views.wall.layout import DEFAULT, DEFAULT_FILE, PANELS, Screen, load_layout


def test_the_shipped_layout_is_the_default():
    layout, problem = load_layout()
    assert problem is None
    assert layout == DEFAULT and layout.source == str(DEFAULT_FILE)
    assert layout.screens == (Screen(),) and layout.panels == PANELS


def test_a_two_screen_layout(tmp_path):
    path = tmp_path / "two.toml"
    path.write_text('format = 1\ntitle = "指挥大厅"\nmin_text_px = 36\n'
                    '[[screens]]\ntop = "tiles"\nmain = "map"\nside = "none"\nbottom = "none"\n'
                    '[[screens]]\ntop = "none"\nmain = "playlist"\nside = "urged"\nbottom = "ticker"\nside_width = 40\n'
                    '[playlist]\npanels = ["departments", "trend"]\ndwell_s = 15\n', encoding="utf-8")
    layout, problem = load_layout(path)
    assert problem is None
    assert layout.title == "指挥大厅" and layout.min_text_px == 36
    assert layout.screens[0].parts() == ("tiles", "map")
    assert layout.screens[1] == Screen(top="none", main="playlist", side="urged", bottom="ticker", side_width=40)
    assert layout.panels == ("departments", "trend") and layout.dwell_s == 15


@pytest.mark.parametrize(("text", "words"), [
    ("format = 1\n[[screens]\n", "不是有效的 TOML"),
    ("format = 2\n", "格式版本"),
    ("format = 1\nmystery = 3\n", "未知的键 mystery"),
    ('[[screens]]\nmain = "weather"\n', "screens[0].main 不能是 'weather'"),
    ("min_text_px = 4\n", "min_text_px 应为 12–200 的整数"),
    ('min_text_px = "big"\n', "min_text_px"),
    ('[playlist]\npanels = ["departments", "horoscope"]\n', "playlist.panels"),
    ("[playlist]\ndwell_s = 0\n", "dwell_s"),
    ("screens = []\n", "至少一个表"),
])
def test_a_malformed_file_gives_the_default_and_one_clear_message(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    layout, problem = load_layout(path)
    assert layout == DEFAULT
    assert problem is not None
    said = str(problem)
    assert words in said and "已使用默认布局" in said and str(path) in said
    assert "\n" not in Catalogue("zh_CN").text(problem)


def test_a_missing_or_binary_file_gives_the_default(tmp_path):
    layout, problem = load_layout(tmp_path / "nowhere.toml")
    assert layout == DEFAULT and "无法读取" in str(problem)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00title")
    layout, problem = load_layout(binary)
    assert layout == DEFAULT and "UTF-8" in str(problem)


def test_the_shipped_two_screen_example_parses():
    layout, problem = load_layout(DEFAULT_FILE.with_name("two_screens.toml"))
    assert problem is None and len(layout.screens) == 2 and layout.screens[1].main == "playlist"
