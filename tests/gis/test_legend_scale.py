"""The layer tree's legend follows the map's scale, and only when the scale changes: a pan or a
case located at the same scale leaves the legend as it is (QGIS would rebuild every layer's)."""

from __future__ import annotations

import pytest
from qgis.core import QgsPointXY

pytestmark = pytest.mark.qgis


def test_the_legend_follows_zooms_but_not_pans(qtbot, view):
    tree = view.make_layer_tree()
    qtbot.addWidget(tree)
    model = tree.layerTreeModel()
    rebuilt: list[int] = []
    model.dataChanged.connect(lambda *_args: rebuilt.append(1))
    view.canvas.zoomScale(5000)
    assert model.legendFilterByScale() == pytest.approx(view.canvas.scale())
    assert rebuilt
    rebuilt.clear()
    centre = view.canvas.center()
    for dx in (300, -300, 150):
        view.canvas.setCenter(QgsPointXY(centre.x() + dx, centre.y()))  # emits scaleChanged, same scale
    view.zoom_to_case(centre.x(), centre.y(), scale=view.canvas.scale(), flash=False, highlight=False)
    assert rebuilt == []
    view.canvas.zoomScale(20000)
    assert model.legendFilterByScale() == pytest.approx(20000, rel=1e-3)
