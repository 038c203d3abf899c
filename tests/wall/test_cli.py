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
