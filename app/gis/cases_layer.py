"""The 案卷 layer: a memory layer of open cases coloured by the light the queue computes.

Working-time deadlines cannot be evaluated in SQL or a QGIS expression, so the application
(the case queue, once a second) computes each case's light and hands it to
``CaseLayerFeeder``: one changed light is one attribute change in the provider, no reload.

An urged case (督办) carries its level in the ``urge`` field; the style draws a ring around it,
thicker with the level, as part of the case's own symbol: no label, so the case layer stays out
of the shared labelling pass and a live change repaints this layer alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple

from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer
from qgis.PyQt.QtCore import QTimer

from app.domain.definitions import OPEN_STATES, STORE_SRID, Light
from app.domain.messages import Msg

#: Fields of the case layer, in order (QGIS memory-provider URI syntax).
CASE_FIELDS = (("case_id", "integer"), ("number", "string"), ("light", "string"),
               ("state", "string"), ("category", "string"), ("level", "string"), ("urge", "integer"))
_LIGHTS = {light.value for light in Light}
#: A burst of changes (50 live updates, a bulk run) repaints the case layer at most this often;
#: the features change at once. Each repaint redraws this layer alone over the canvas's cache.
REPAINT_MS = 150


class CaseRow(NamedTuple):
    """One open case as the map shows it (coordinates in EPSG:4549)."""

    case_id: int
    x: float
    y: float
    light: str
    state: str
    number: str
    category: str = ""
    level: str = ""
    urge: int = 0  # 督办 level (0 none, 1–3): the style rings an urged case


def new_case_layer(name: str = "案卷") -> QgsVectorLayer:
    """An empty, valid memory point layer with the case fields, in the store's CRS."""
    fields = "&".join(f"field={n}:{t}" for n, t in CASE_FIELDS)
    layer = QgsVectorLayer(f"Point?crs=EPSG:{STORE_SRID}&{fields}&index=yes", name, "memory")
    if not layer.isValid():
        raise RuntimeError(Msg("无法创建案卷内存图层：QGIS 的 memory 数据提供程序不可用"))
    return layer


def _light(value) -> str:
    text = str(value)  # Light members print as their stored value
    if text not in _LIGHTS:
        raise ValueError(Msg("未知的灯色 {value!r}；应为 {choices} 之一", value=value, choices=sorted(_LIGHTS)))
    return text


class CaseLayerFeeder:
    """Keeps a case layer equal to the set of open cases, changing only what changed.

    Every change asks for a repaint of the case layer only (``triggerRepaint``: a canvas with its
    render cache invalidates that layer's image alone); a burst of changes is one repaint at once
    and at most one more per ``REPAINT_MS``.
    """

    def __init__(self, layer: QgsVectorLayer, repaint_ms: int = REPAINT_MS):
        self.layer = layer
        self.repaints = 0  # how many repaints were asked for (tests)
        self._repaint_due = False
        self._repaint_timer = QTimer(layer)  # deleted with the layer
        self._repaint_timer.setSingleShot(True)
        self._repaint_timer.setInterval(repaint_ms)
        self._repaint_timer.timeout.connect(self._repaint_later)
        self._fid: dict[int, int] = {}  # case id → feature id
        self._light: dict[int, str] = {}
        names = [n for n, _ in CASE_FIELDS]
        self._index = {n: layer.fields().indexOf(n) for n in names}
        missing = [n for n, i in self._index.items() if i < 0]
        if missing:
            raise ValueError(Msg("图层“{name}”缺少案卷字段：{fields}", name=layer.name(), fields=list(missing)))

    def __len__(self) -> int:
        return len(self._fid)

    def feature_id(self, case_id: int) -> int | None:
        """The layer feature id of a case, or None when it is not on the map."""
        return self._fid.get(case_id)

    def _feature(self, row: CaseRow) -> QgsFeature:
        f = QgsFeature(self.layer.fields())
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(row.x), float(row.y))))
        f.setAttributes([int(row.case_id), row.number, _light(row.light), str(row.state),
                         row.category or "", str(row.level or ""), int(row.urge or 0)])
        return f

    def set_cases(self, rows: Iterable[CaseRow | tuple]) -> int:
        """Replace every feature by ``rows``; return how many cases are on the map."""
        rows = [r if isinstance(r, CaseRow) else CaseRow(*r) for r in rows]
        provider = self.layer.dataProvider()
        provider.truncate()
        self._fid.clear()
        self._light.clear()
        feats = [self._feature(r) for r in rows]
        ok, added = provider.addFeatures(feats)
        if not ok:
            raise RuntimeError(Msg("无法写入案卷图层：{error}", error=provider.lastError()))
        for row, feat in zip(rows, added, strict=True):
            self._fid[int(row.case_id)] = feat.id()
            self._light[int(row.case_id)] = _light(row.light)
        self._changed()
        return len(self._fid)

    def upsert(self, row: CaseRow | tuple) -> None:
        """Add a case, or move/refresh it if it is already on the map."""
        row = row if isinstance(row, CaseRow) else CaseRow(*row)
        self.remove(int(row.case_id), repaint=False)
        ok, added = self.layer.dataProvider().addFeatures([self._feature(row)])
        if not ok:
            raise RuntimeError(Msg("无法写入案卷图层：{error}", error=self.layer.dataProvider().lastError()))
        self._fid[int(row.case_id)] = added[0].id()
        self._light[int(row.case_id)] = _light(row.light)
        self._changed()

    def remove(self, case_id: int, *, repaint: bool = True) -> bool:
        """Take a case off the map (closed, voided...); False if it was not there."""
        fid = self._fid.pop(case_id, None)
        self._light.pop(case_id, None)
        if fid is None:
            return False
        self.layer.dataProvider().deleteFeatures([fid])
        if repaint:
            self._changed()
        return True

    def apply(self, upserts: Iterable[CaseRow | tuple] = (), removals: Iterable[int] = ()) -> int:
        """Add or replace ``upserts`` and drop ``removals`` in one edit and one repaint."""
        rows = [r if isinstance(r, CaseRow) else CaseRow(*r) for r in upserts]
        gone = [fid for cid in {*removals, *(int(r.case_id) for r in rows)}
                if (fid := self._fid.pop(cid, None)) is not None]
        for cid in removals:
            self._light.pop(cid, None)
        provider = self.layer.dataProvider()
        if gone:
            provider.deleteFeatures(gone)
        if rows:
            ok, added = provider.addFeatures([self._feature(r) for r in rows])
            if not ok:
                raise RuntimeError(Msg("无法写入案卷图层：{error}", error=provider.lastError()))
            for row, feat in zip(rows, added, strict=True):
                self._fid[int(row.case_id)] = feat.id()
                self._light[int(row.case_id)] = _light(row.light)
        if gone or rows:
            self._changed()
        return len(rows) + len(gone)

    def update_lights(self, lights: Mapping[int, Light | str]) -> int:
        """Set the light of the given cases; return how many features actually changed."""
        col = self._index["light"]
        changes = {}
        for case_id, light in lights.items():
            value = _light(light)
            fid = self._fid.get(case_id)
            if fid is not None and self._light.get(case_id) != value:
                changes[fid] = {col: value}
                self._light[case_id] = value
        if changes:
            self.layer.dataProvider().changeAttributeValues(changes)
            self.repaint()
        return len(changes)

    def light_of(self, case_id: int) -> str | None:
        """The light currently drawn for a case."""
        return self._light.get(case_id)

    def _changed(self) -> None:
        self.layer.updateExtents()
        self.repaint()

    def repaint(self) -> None:
        """Repaint the case layer now, or once the current interval ends if one just happened."""
        if self._repaint_timer.isActive():
            self._repaint_due = True
            return
        self._trigger()
        self._repaint_timer.start()

    def repaint_pending(self) -> bool:
        """Whether a repaint is still to come (the end of a burst)."""
        return self._repaint_due

    def _repaint_later(self) -> None:
        if self._repaint_due:
            self._repaint_due = False
            self._trigger()
            self._repaint_timer.start()

    def _trigger(self) -> None:
        self.repaints += 1
        self.layer.triggerRepaint()


def case_row(summary, light: Light | str) -> CaseRow:
    """The map row of one queue ``CaseSummary`` with its current light."""
    return CaseRow(summary.id, summary.x, summary.y, _light(light), str(summary.state), summary.number,
                   f"{summary.category_code} {summary.category_name}".strip(), str(summary.level),
                   int(getattr(summary, "urge_level", 0) or 0))


def rows_from_summaries(summaries: Iterable, lights: Mapping[int, Light | str]) -> list[CaseRow]:
    """Case rows from the queue's ``CaseSummary`` objects and their current lights."""
    return [case_row(s, lights.get(s.id, Light.NONE)) for s in summaries]


def open_state_filter() -> str:
    """A QGIS/SQL filter selecting cases in an open (non-terminal) state."""
    return "\"state\" IN (" + ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATES)) + ")"


def read_open_cases(store, light: str = Light.NONE.value) -> list[CaseRow]:
    """Open cases read from the store through QGIS (subset filter on the open states).

    The rows carry ``light`` (default: no timer) and the category id as text; the running
    application replaces them with rows built from the queue, which knows the real light.
    """
    provider, uri = store.qgis_uri("cases", "geom", open_state_filter())
    layer = QgsVectorLayer(uri, "open cases", provider)
    if not layer.isValid():
        from app.gis.layers import provider_error

        raise RuntimeError(Msg("无法读取案卷表（{provider}）：{value}",
                               provider=provider, value=provider_error(layer) or Msg("数据源无效")))
    rows = []
    urged = layer.fields().indexOf("urge_level") >= 0  # (migration 0015)
    for f in layer.getFeatures():
        g = f.geometry()
        if g is None or g.isEmpty():
            continue  # a case without a location cannot be drawn
        p = g.asPoint()
        rows.append(CaseRow(int(f["id"]), p.x(), p.y(), light, str(f["state"]), str(f["number"]),
                            str(f["category_id"]), str(f["level"] or ""),
                            int(f["urge_level"] or 0) if urged else 0))
    return rows
