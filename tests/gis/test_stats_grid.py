"""The statistics dock's grid colouring on the real grid layer: the chosen grids filled, one legend entry
per class, and the layer's normal style back after restore."""

from __future__ import annotations

from qgis.core import QgsExpressionContextUtils, QgsRenderContext


def test_shading_and_restore(map_layers):
    from app.gis.stats_grid import GridShading

    layer = map_layers.unit_grids
    before = layer.renderer().type(), len(layer.renderer().legendSymbolItems())
    codes = [f["code"] for f in layer.getFeatures()][:3]
    shading = GridShading(layer)
    shading.show({codes[0]: "#ffffb2", codes[1]: "#bd0026", codes[2]: "#bd0026"},
                 [("#ffffb2", "1"), ("#bd0026", "2–3")])
    assert shading.active and shading.count == 3
    renderer = layer.renderer()
    assert renderer.type() == "RuleRenderer"
    assert [i.label() for i in renderer.legendSymbolItems()] == ["1", "2–3", ""]
    context = QgsRenderContext()
    context.expressionContext().appendScope(QgsExpressionContextUtils.layerScope(layer))
    renderer.startRender(context, layer.fields())
    colours = {}
    try:
        for f in layer.getFeatures():
            context.expressionContext().setFeature(f)
            symbols = renderer.symbolsForFeature(f, context)
            if f["code"] in codes:
                colours[f["code"]] = symbols[0].color().name()
            else:
                assert symbols[0].symbolLayer(0).brushStyle() == 0  # the others: an outline only
    finally:
        renderer.stopRender(context)
    assert colours == {codes[0]: "#ffffb2", codes[1]: "#bd0026", codes[2]: "#bd0026"}
    shading.restore()
    assert not shading.active
    assert (layer.renderer().type(), len(layer.renderer().legendSymbolItems())) == before
