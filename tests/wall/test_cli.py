"""``gridhall wall --screenshot`` and ``gridhall run --mode wall`` (the old placeholder mode now opens
the real wall), in process on a copy of the tiny demo city, QGIS offscreen."""

from __future__ import annotations

from qgis.PyQt.QtGui import QImage

from app.cli import main
from app.views.wall.layout import RESOURCES


def test_the_wall_screenshot_at_the_asked_size(qapp, desk_store, tmp_path):
    png = tmp_path / "wall.png"
    assert main(["wall", "--db", str(desk_store.path), "--screenshot", str(png), "--size", "960x540"]) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == (960, 540)


def test_run_mode_wall_opens_the_real_wall(qapp, desk_store, tmp_path, capsys):
    png = tmp_path / "run-wall.png"
    desk_layout = tmp_path / "desk.toml"
    desk_layout.write_text("format = 1\n", encoding="utf-8")
    assert main(["run", "--mode", "wall", "--db", str(desk_store.path), "--screenshot", str(png),
                 "--size", "960x540", "--layout", str(desk_layout)]) == 0
    image = QImage(str(png))
    assert (image.width(), image.height()) == (960, 540)
    err = capsys.readouterr().err
    assert "gridhall wall --layout" in err and "Traceback" not in err  # the desk layout is not the wall's
    two = tmp_path / "two.png"  # the wall's own two-screen layout: two screens side by side
    assert main(["wall", "--db", str(desk_store.path), "--layout", str(RESOURCES / "wall" / "two_screens.toml"),
                 "--screenshot", str(two), "--size", "640x360"]) == 0
    assert QImage(str(two)).width() == 1280


def test_a_screen_that_is_not_plugged_in_is_reported():
    """``gridhall wall --screens 3`` on a one-screen machine ran with no window and said nothing."""
    from app.cli.wall import missing_screens
    from app.i18n import Catalogue

    assert missing_screens([0], 1) is None and missing_screens([0, 1], 2) is None
    said = missing_screens([0, 3], 1)
    assert said is not None and "3" in str(said) and "1" in str(said)
    english = Catalogue("en").text(said)
    assert "screen 3 is not plugged in" in english


def test_lang_en_gives_the_walls_messages_in_english(qapp, desk_store, tmp_path, capsys, monkeypatch):
    """``--lang en`` put the wall in English but its one-line messages stayed Chinese."""
    monkeypatch.delenv("GRIDHALL_LANG", raising=False)
    broken = tmp_path / "broken.toml"
    broken.write_text("format = [\n", encoding="utf-8")
    png = tmp_path / "en.png"
    from app.ui.wall.widgets import set_language

    try:
        assert main(["wall", "--db", str(desk_store.path), "--lang", "en", "--layout", str(broken),
                     "--screenshot", str(png), "--size", "640x360"]) == 0
    finally:
        set_language("zh_CN")  # the wall's language is the process's; the next tests read Chinese
    err = capsys.readouterr().err
    assert "gridhall: " in err and not any("\u4e00" <= ch <= "\u9fff" for ch in err.split("gridhall: ", 1)[1].split("\n")[0])
