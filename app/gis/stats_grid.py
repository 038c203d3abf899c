"""The statistics dock's grid colouring (issue 13, item 2): the unit-grid layer drawn by case density or
by the period's region score (grade colours), and its normal style restored afterwards.

``GridShading(layer).show({code: colour}, legend)`` swaps the layer's renderer for a rule-based one on
``code`` (one rule and one legend entry per class; grids without a figure keep a faint outline);
``restore()`` puts the original renderer back (a clone is kept).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from qgis.core import QgsFillSymbol, QgsRuleBasedRenderer, QgsVectorLayer


class GridShading:
    """Colours the grid layer's cells; ``active`` while shown."""

    def __init__(self, layer: QgsVectorLayer) -> None:
        self.layer = layer
        self._saved = None
        self.count = 0

    @property
    def active(self) -> bool:
        return self._saved is not None

    def show(self, colours: Mapping[str, str], legend: list[tuple[str, str]] | None = None) -> None:
        """Fill each grid ``code`` with ``colours[code]`` (others: a faint outline), replacing the last."""
        if self._saved is None:
            self._saved = self.layer.renderer().clone()
        names = {c: label for c, label in (legend or [])}
        by_colour: dict[str, list[str]] = {}
        for code, colour in colours.items():
            by_colour.setdefault(colour, []).append(code)
        root = QgsRuleBasedRenderer.Rule(None)
        order = [c for c, _label in (legend or [])] + sorted(set(by_colour) - set(names))
        for colour in order:
            codes = by_colour.get(colour)
            if not codes:
                continue
            symbol = QgsFillSymbol.createSimple({"color": colour, "outline_color": "#6d6d6d", "outline_width": "0.1"})
            symbol.setOpacity(0.75)
            listed = ",".join("'" + c.replace("'", "''") + "'" for c in sorted(codes))
            root.appendChild(QgsRuleBasedRenderer.Rule(symbol, 0, 0, f'"code" IN ({listed})', names.get(colour, colour)))
        other = QgsFillSymbol.createSimple({"style": "no", "outline_color": "#d9dce1", "outline_width": "0.1"})
        root.appendChild(QgsRuleBasedRenderer.Rule(other, 0, 0, "ELSE", ""))
        self.layer.setRenderer(QgsRuleBasedRenderer(root))
        self.count = len(colours)
        self.layer.triggerRepaint()

    def restore(self) -> None:
        """The layer's normal style again."""
        if self._saved is not None:
            self.layer.setRenderer(self._saved)
            self._saved = None
            self.count = 0
            self.layer.triggerRepaint()

    def teardown(self) -> None:
        with contextlib.suppress(RuntimeError):  # (the layer already deleted)
            self.restore()


__all__ = ["GridShading"]
