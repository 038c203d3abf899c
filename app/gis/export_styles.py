"""Build the map's layer styles in code and export them as QML to resources/styles/.

The application LOADS the QML files at run time (``app.gis.layers.apply_style``); this
script is how they are (re)made: ``python -m app.gis.export_styles``. Edit the palette here,
re-run, commit the QML.
"""

from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsExpression,
    QgsFeatureRequest,
    QgsFillSymbol,
    QgsFontMarkerSymbolLayer,
    QgsGeometryGeneratorSymbolLayer,
    QgsLineSymbol,
    QgsMapLayer,
    QgsMapUnitScale,
    QgsMarkerSymbol,
    QgsMarkerSymbolLayer,
    QgsPalLayerSettings,
    QgsProperty,
    QgsRendererCategory,
    QgsRuleBasedLabeling,
    QgsRuleBasedRenderer,
    QgsSimpleLineSymbolLayer,
    QgsSimpleMarkerSymbolLayer,
    QgsSymbol,
    QgsSymbolLayer,
    QgsTextBufferSettings,
    QgsTextFormat,
    QgsUnitTypes,
    QgsVectorLayer,
    QgsVectorLayerSimpleLabeling,
)
from qgis.PyQt.QtCore import QPointF, Qt
from qgis.PyQt.QtGui import QColor, QFont

from app.domain.definitions import Light

STYLES_DIR = Path(__file__).resolve().parents[2] / "resources" / "styles"
FONT = "WenQuanYi Micro Hei"  # Debian fonts-wqy-microhei; Qt substitutes a CJK font elsewhere

#: Scale denominators: labels and details appear only when zoomed in closer than these.
GRID_LABEL_SCALE = 6000
COMPONENT_SCALE = 10000
ROAD_LABEL_SCALE = 15000
LANE_SCALE = 12000
BRANCH_SCALE = 40000
CASE_LABEL_SCALE = 2500
CASE_NUMBER_GAP_MM = 2.8  # from the case's centre to its number
CASE_NUMBER_CHAR_MM = 1.62  # advance of one digit of the 3 mm number
CASE_SMALL_SCALE = 12000  # cases drawn smaller when zoomed out further than this
#: 督办: a ring around an urged case, thicker with its level (the queue's and the detail's mark colour)
URGE_COLOUR = "#7b1fa2"
URGE_RING_MM = 2.6  # the ring's diameter beyond the case circle's
URGE_WIDTH_MM = (0.5, 0.3)  # ring width: base + per level
#: Components: full markers closer than COMPONENT_FULL_SCALE; between it and COMPONENT_SCALE only
#: small pale dots (a texture under the case markers, which stay legible at 4K); none further out.
COMPONENT_FULL_SCALE = 6000
COMPONENT_DOT_OPACITY = 0.45
GRID_FAINT_SCALE = 10000  # grid outlines fade when zoomed out further than this
STREET_LABEL_CLOSEST = 3000  # street names give way to details when zoomed in closer

#: Case light → fill colour: clear on a big screen, not garish.
LIGHT_COLOURS = {
    Light.RED.value: "#d7301f",
    Light.YELLOW.value: "#f0b000",
    Light.GREEN.value: "#2e9e4f",
    Light.NONE.value: "#7f8791",
}
#: Component major category (GB/T 47678.5, code digits 7–8) → (name, shape, colour).
COMPONENT_MAJORS = {
    "01": ("市政公用设施", "circle", "#2f6db5"),
    "02": ("交通设施", "triangle", "#7b4fa6"),
    "03": ("市容环卫设施", "square", "#9a6a2f"),
    "04": ("园林绿化设施", "diamond", "#23898a"),
    "05": ("其他管理部件", "pentagon", "#5f6670"),
}
# (kind, label, real width m, narrowest fill mm, fill colour, max scale denominator or 0)
ROAD_KINDS = [
    ("trunk", "快速路", 30, 2.2, "#fdf1c9", 0),
    ("main", "主干路", 24, 1.8, "#ffffff", 0),
    ("secondary", "次干路", 16, 1.3, "#ffffff", 0),
    ("branch", "支路", 10, 0.8, "#ffffff", BRANCH_SCALE),
    ("lane", "街巷", 5, 0.45, "#ffffff", LANE_SCALE),
]
ROAD_CASING_M = 2.5  # both kerbs together, in metres
ROAD_CASING_MM = 0.5  # ... and at least this much when zoomed out
ROAD_CASING = "#a9afb7"


def _checked(expression: str) -> str:
    """``expression`` if QGIS parses it; a bad one would silently do nothing in the style."""
    parsed = QgsExpression(expression)
    if parsed.hasParserError():
        raise ValueError(f"bad QGIS expression {expression!r}: {parsed.parserErrorString()}")
    return expression


def _text(size: float, colour: str, *, bold: bool = False, buffer_mm: float = 0.0) -> QgsTextFormat:
    """A plain text format; ``buffer_mm`` > 0 adds a halo (drawn as a path: costly, so only for
    the few street and community names, never for per-feature labels such as grid codes)."""
    fmt = QgsTextFormat()
    fmt.setAllowHtmlFormatting(False)  # labels show names from the data: text, never markup
    font = QFont(FONT)
    font.setBold(bold)
    fmt.setFont(font)
    fmt.setSize(size)
    fmt.setSizeUnit(QgsUnitTypes.RenderPoints)
    fmt.setColor(QColor(colour))
    buf = QgsTextBufferSettings()
    buf.setEnabled(buffer_mm > 0)
    buf.setSize(buffer_mm)
    buf.setColor(QColor(255, 255, 255, 230))
    fmt.setBuffer(buf)
    return fmt


def _label(expr: str, fmt: QgsTextFormat, *, is_expression: bool = True,
           min_scale: float = 0, max_scale: float = 0) -> QgsPalLayerSettings:
    pal = QgsPalLayerSettings()
    pal.fieldName = expr
    pal.isExpression = is_expression
    pal.setFormat(fmt)
    pal.enabled = True
    if min_scale or max_scale:
        pal.scaleVisibility = True
        pal.minimumScale = min_scale  # most zoomed-out denominator still labelled
        pal.maximumScale = max_scale
    return pal


def _road_line(colour: str, width_m: float, min_mm: float) -> QgsSimpleLineSymbolLayer:
    """A line as wide as the road on the ground, never thinner than ``min_mm`` on screen."""
    line = QgsSimpleLineSymbolLayer(QColor(colour), width_m)
    line.setWidthUnit(QgsUnitTypes.RenderMapUnits)
    scale = QgsMapUnitScale()
    scale.minSizeMMEnabled, scale.minSizeMM = True, min_mm
    scale.maxSizeMMEnabled, scale.maxSizeMM = True, 16.0
    line.setWidthMapUnitScale(scale)
    line.setPenCapStyle(Qt.RoundCap)
    line.setPenJoinStyle(Qt.RoundJoin)
    return line


def roads_style(layer: QgsVectorLayer) -> None:
    """White-ish roads with a grey casing, by kind; names along the line at street scale."""
    root = QgsRuleBasedRenderer.Rule(None)
    for rank, (kind, label, width_m, min_mm, fill, max_den) in enumerate(ROAD_KINDS):
        sym = QgsLineSymbol()
        sym.deleteSymbolLayer(0)
        sym.appendSymbolLayer(_road_line(ROAD_CASING, width_m + ROAD_CASING_M, min_mm + ROAD_CASING_MM))
        sym.appendSymbolLayer(_road_line(fill, width_m, min_mm))
        # All casings first, then fills from minor to major roads: junctions read cleanly.
        sym.symbolLayer(0).setRenderingPass(0)
        sym.symbolLayer(1).setRenderingPass(len(ROAD_KINDS) - rank)
        rule = QgsRuleBasedRenderer.Rule(sym, 0, max_den, f"\"kind\" = '{kind}'", label)
        root.appendChild(rule)
    other = QgsLineSymbol.createSimple({"line_color": ROAD_CASING, "line_width": "0.5"})
    other.symbolLayer(0).setRenderingPass(0)
    root.appendChild(QgsRuleBasedRenderer.Rule(other, 0, LANE_SCALE, "ELSE", "其他道路"))
    renderer = QgsRuleBasedRenderer(root)
    renderer.setUsingSymbolLevels(True)
    layer.setRenderer(renderer)
    pal = _label("name", _text(10, "#454b54", buffer_mm=0.8), is_expression=False, min_scale=ROAD_LABEL_SCALE)
    # Straight along the line (curved placement tries many more candidates); a halo, as there
    # are few road names in a view and components line the roads.
    pal.placement = QgsPalLayerSettings.Line
    pal.placementFlags = QgsPalLayerSettings.OnLine
    pal.obstacleSettings().setIsObstacle(False)
    pal.mergeLines = True
    pal.repeatDistance = 120
    pal.repeatDistanceUnit = QgsUnitTypes.RenderMillimeters
    layer.setLabeling(QgsVectorLayerSimpleLabeling(pal))
    layer.setLabelsEnabled(True)


def admin_areas_style(layer: QgsVectorLayer) -> None:
    """Street boundaries bold, community boundaries dashed; names at matching scales."""
    def outline(colour: str, width: float, style: str) -> QgsFillSymbol:
        return QgsFillSymbol.createSimple({"style": "no", "outline_color": colour,
                                           "outline_width": str(width), "outline_style": style,
                                           "joinstyle": "round"})
    root = QgsRuleBasedRenderer.Rule(None)
    root.appendChild(QgsRuleBasedRenderer.Rule(outline("#4a525d", 1.3, "solid"), 0, 0,
                                               "\"level\" = 'district'", "区界"))
    root.appendChild(QgsRuleBasedRenderer.Rule(outline("#5f6873", 0.8, "solid"), 0, 0,
                                               "\"level\" = 'street'", "街道界"))
    root.appendChild(QgsRuleBasedRenderer.Rule(outline("#7d8793", 0.4, "dash"), 0, 40000,
                                               "\"level\" = 'community'", "社区界"))
    layer.setRenderer(QgsRuleBasedRenderer(root))
    lroot = QgsRuleBasedLabeling.Rule(None)
    street = _label("name", _text(15, "#59616c", bold=True, buffer_mm=1.2), is_expression=False)
    street.placement = QgsPalLayerSettings.OverPoint
    street.obstacleSettings().setIsObstacle(False)
    lroot.appendChild(QgsRuleBasedLabeling.Rule(street, STREET_LABEL_CLOSEST, 250000, "\"level\" = 'street'", "街道名"))
    community = _label("name", _text(10.5, "#6d7580", buffer_mm=1.0), is_expression=False)
    community.placement = QgsPalLayerSettings.OverPoint
    community.obstacleSettings().setIsObstacle(False)
    lroot.appendChild(QgsRuleBasedLabeling.Rule(community, 0, 12000, "\"level\" = 'community'",
                                                "社区名"))
    layer.setLabeling(QgsRuleBasedLabeling(lroot))
    layer.setLabelsEnabled(True)


def unit_grids_style(layer: QgsVectorLayer) -> None:
    """Thin grid outlines; codes only at street scale (short code until 1:2,500).

    The codes are part of the grid's symbol (a text marker under each cell's centre), not labels:
    the case layer draws over them, and they cost the labelling engine nothing.
    """
    def outline(colour: str, width: float) -> QgsFillSymbol:
        return QgsFillSymbol.createSimple({"style": "no", "outline_color": colour,
                                           "outline_width": str(width)})
    # Zoomed out the grid only hints at itself, so the road network stays readable.
    root = QgsRuleBasedRenderer.Rule(None)
    close = outline("#c2c8d0", 0.2)
    close.appendSymbolLayer(grid_code_layer())
    root.appendChild(QgsRuleBasedRenderer.Rule(close, 0, GRID_FAINT_SCALE, "", "单元网格"))
    root.appendChild(QgsRuleBasedRenderer.Rule(outline("#d9dce1", 0.15), GRID_FAINT_SCALE, 0, "",
                                               "单元网格（缩小）"))
    layer.setRenderer(QgsRuleBasedRenderer(root))
    layer.setLabeling(None)
    layer.setLabelsEnabled(False)


def grid_code_layer() -> QgsGeometryGeneratorSymbolLayer:
    """A cell's code as text just under its centre, closer than 1:6,000 (the short code until
    1:2,500); drawn with the grid, so case markers (a layer above) are never covered by it."""
    text = QgsFontMarkerSymbolLayer(FONT, "", 2.6, QColor("#7a828c"))
    text.setVerticalAnchorPoint(QgsMarkerSymbolLayer.Top)
    text.setOffset(QPointF(0, 0.8))
    text.setDataDefinedProperty(QgsSymbolLayer.PropertyCharacter, QgsProperty.fromExpression(_checked(
        "CASE WHEN @map_scale <= 2500 THEN \"code\" ELSE right(\"code\", 6) END")))
    marker = QgsMarkerSymbol()
    marker.changeSymbolLayer(0, text)
    generator = QgsGeometryGeneratorSymbolLayer.create({"geometryModifier": "point_on_surface($geometry)",
                                                        "SymbolType": "Marker"})
    generator.setSymbolType(QgsSymbol.Marker)
    generator.setSubSymbol(marker)
    generator.setDataDefinedProperty(QgsSymbolLayer.PropertyLayerEnabled, QgsProperty.fromExpression(
        _checked(f"@map_scale <= {GRID_LABEL_SCALE}")))
    return generator


def components_style(layer: QgsVectorLayer) -> None:
    """Markers by major category (code digits 7–8) close up; thinned to small pale dots between
    1:6,000 and 1:10,000; hidden further out, where the case markers must stand alone.

    Rule-based with scale ranges, so QGIS skips the features of an inactive rule outright: at a
    district view on a 4K screen the 29,000 components cost nothing and swamp nothing.
    """
    root = QgsRuleBasedRenderer.Rule(None)
    full = QgsRuleBasedRenderer.Rule(None, 0, COMPONENT_FULL_SCALE, "", "部件")
    dots = QgsRuleBasedRenderer.Rule(None, COMPONENT_FULL_SCALE, COMPONENT_SCALE, "", "部件")
    for major, (name, shape, colour) in COMPONENT_MAJORS.items():
        where = f"substr(\"code\", 7, 2) = '{major}'"
        sym = QgsMarkerSymbol.createSimple({"name": shape, "color": colour, "size": "2.4",
                                            "outline_color": "#ffffff", "outline_width": "0.25"})
        sym.setDataDefinedSize(QgsProperty.fromExpression(_checked(
            "CASE WHEN @map_scale > 2500 THEN 1.9 ELSE 2.4 END")))
        full.appendChild(QgsRuleBasedRenderer.Rule(sym, 0, 0, _checked(where), f"{major} {name}"))
        dot = QgsMarkerSymbol.createSimple({"name": "circle", "color": colour, "size": "0.9",
                                            "outline_style": "no"})
        dot.setOpacity(COMPONENT_DOT_OPACITY)
        dots.appendChild(QgsRuleBasedRenderer.Rule(dot, 0, 0, _checked(where), f"{major} {name}"))
    root.appendChild(full)
    root.appendChild(dots)
    layer.setRenderer(QgsRuleBasedRenderer(root))
    layer.setScaleBasedVisibility(True)
    layer.setMinimumScale(COMPONENT_SCALE)
    layer.setMaximumScale(0)
    layer.setLabelsEnabled(False)


def case_number_layer() -> QgsFontMarkerSymbolLayer:
    """The case number beside the circle, drawn by the symbol itself when zoomed in closer than
    1:2,500: the case layer takes no part in the shared labelling pass, so a live change repaints
    the case layer alone (QGIS re-renders every labelled layer when any labelled layer changes)."""
    text = QgsFontMarkerSymbolLayer(FONT, "", 3.0, QColor("#30353c"))
    text.setStrokeColor(QColor(0, 0, 0, 0))
    text.setStrokeWidth(0)  # a stroke is drawn over the glyphs: no halo
    text.setOffset(QPointF(2.9, -1.4))
    text.setDataDefinedProperty(QgsSymbolLayer.PropertyCharacter, QgsProperty.fromField("number"))
    # A font marker is centred on its point whatever its anchor: shift it right by half its width.
    text.setDataDefinedProperty(QgsSymbolLayer.PropertyOffset, QgsProperty.fromExpression(_checked(
        f"concat({CASE_NUMBER_GAP_MM} + CASE WHEN coalesce(\"urge\", 0) > 0 THEN {URGE_RING_MM / 2 + 0.8} ELSE 0 END"
        f" + length(\"number\") * {CASE_NUMBER_CHAR_MM / 2}, ',', -1.4)")))  # clear of an urged case's ring
    text.setDataDefinedProperty(QgsSymbolLayer.PropertyLayerEnabled, QgsProperty.fromExpression(
        _checked(f"@map_scale <= {CASE_LABEL_SCALE}")))
    return text


def urge_ring_layer() -> QgsSimpleMarkerSymbolLayer:
    """The 督办 mark: a ring around an urged case (field ``urge`` > 0), thicker with the level; part
    of the symbol, so it costs the labelling engine nothing and repaints with the case layer."""
    ring = QgsSimpleMarkerSymbolLayer.create({"name": "circle", "color": "0,0,0,0", "size": "7.2",
                                              "outline_color": URGE_COLOUR, "outline_width": "0.8"})
    ring.setDataDefinedProperty(QgsSymbolLayer.PropertySize, QgsProperty.fromExpression(_checked(
        f"CASE WHEN @map_scale > {CASE_SMALL_SCALE} THEN {3.4 + URGE_RING_MM} ELSE {4.6 + URGE_RING_MM} END")))
    ring.setDataDefinedProperty(QgsSymbolLayer.PropertyStrokeWidth, QgsProperty.fromExpression(_checked(
        f"{URGE_WIDTH_MM[0]} + {URGE_WIDTH_MM[1]} * min(coalesce(\"urge\", 0), 3)")))
    ring.setDataDefinedProperty(QgsSymbolLayer.PropertyLayerEnabled, QgsProperty.fromExpression(_checked(
        "coalesce(\"urge\", 0) > 0")))
    return ring


def cases_style(layer: QgsVectorLayer) -> None:
    """Large circles with a white outline by light; urged cases ringed (``urge_ring_layer``) and drawn
    over the others, then red over yellow over green; the number beside each circle close up (a
    font marker, not a label: see ``case_number_layer``)."""
    cats = []
    for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.NONE):
        sym = QgsMarkerSymbol.createSimple({"name": "circle", "color": LIGHT_COLOURS[light.value],
                                            "size": "4.6", "outline_color": "#ffffff",
                                            "outline_width": "0.7"})
        sym.symbolLayer(0).setDataDefinedProperty(QgsSymbolLayer.PropertySize, QgsProperty.fromExpression(
            _checked(f"CASE WHEN @map_scale > {CASE_SMALL_SCALE} THEN 3.4 ELSE 4.6 END")))
        sym.insertSymbolLayer(0, urge_ring_layer())  # under the circle's white outline
        sym.appendSymbolLayer(case_number_layer())
        cats.append(QgsRendererCategory(light.value, sym, light.label))
    renderer = QgsCategorizedSymbolRenderer("light", cats)
    order = _checked("coalesce(\"urge\", 0) * 4 + CASE WHEN \"light\" = 'red' THEN 3 "
                     "WHEN \"light\" = 'yellow' THEN 2 WHEN \"light\" = 'green' THEN 1 ELSE 0 END")
    renderer.setOrderBy(QgsFeatureRequest.OrderBy([QgsFeatureRequest.OrderByClause(order, True)]))
    renderer.setOrderByEnabled(True)
    layer.setRenderer(renderer)
    layer.setLabeling(None)
    layer.setLabelsEnabled(False)


#: style name (QML file stem) → (geometry type of a scratch layer, its fields, builder)
BUILDERS = {
    "roads": ("LineString", "field=name:string&field=kind:string", roads_style),
    "admin_areas": ("MultiPolygon", "field=name:string&field=level:string", admin_areas_style),
    "unit_grids": ("Polygon", "field=code:string", unit_grids_style),
    "components": ("Point", "field=code:string&field=name:string", components_style),
    "cases": ("Point", "field=case_id:integer&field=number:string&field=light:string&field=urge:integer",
              cases_style),
}


def export_all(directory: Path = STYLES_DIR) -> list[Path]:
    """Write every style as ``<name>.qml`` into ``directory``; return the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (gtype, fields, build) in BUILDERS.items():
        layer = QgsVectorLayer(f"{gtype}?crs=EPSG:4549&{fields}", name, "memory")
        build(layer)
        path = directory / f"{name}.qml"
        msg, ok = layer.saveNamedStyle(str(path), QgsMapLayer.AllStyleCategories)
        if not ok:
            raise RuntimeError(f"无法写出样式 {path}：{msg}")
        written.append(path)
    return written


def main() -> int:
    """Command-line entry: regenerate resources/styles/*.qml."""
    from app.gis.qgis_app import start_qgis

    start_qgis(gui=False)
    for path in export_all(Path(sys.argv[1]) if len(sys.argv) > 1 else STYLES_DIR):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
