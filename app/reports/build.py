"""Build a bulletin file: gather the figures, render the map page with QGIS, write the PDF through a
temporary file renamed at the end, and record the build in the history (``bulletins``).

Callable from the CLI (``gridhall report``) and from a GUI job (``feedback``: progress and cancel);
a failure or a cancel leaves no file behind.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.domain.clock import Clock
from app.domain.messages import Msg
from app.jobs import Feedback
from app.services.actors import Actor
from app.services.bulletin import Bulletin, Month, gather, record_build
from app.services.ledger import LedgerWriteError, _atomic, check_writable
from app.store.engine import Store

Translate = Callable[[Any], str]


@dataclass(frozen=True)
class Built:
    path: Path
    pages: int
    bulletin: Bulletin
    history_id: int | None


def _map_png(store: Store, b: Bulletin, folder: str, tr: Translate) -> Path:
    from app.reports.map import render_map
    from app.store import bulletins as store_bul

    with store.session() as session:
        points = store_bul.case_points(session, b.reported_ids)
        grids = store_bul.grid_polygons(session, [g for g, _n in b.hotspots])
        extent = store_bul.district_extent_wkt(session)
        streets = store_bul.street_boundaries(session)
    return render_map(Path(folder) / "map.png", title=tr(Msg("{month} 案卷与热点网格", month=str(b.month))),
                      time_text=f"{b.month.start.isoformat()} – {b.month.end.isoformat()}",
                      legend_title=tr(Msg("图例")), cases_name=tr(Msg("本月上报的案卷（{n} 件）", n=len(points))),
                      hotspots_name=tr(Msg("热点网格（前 {n} 个）", n=len(grids))), points=points, grids=grids,
                      extent_wkt=extent, streets=streets, streets_name=tr(Msg("街道界")))


class _Part:
    """``feedback``'s span ``start`` … ``end`` for one step's own 0…1 (the chain's verification)."""

    def __init__(self, feedback: Feedback, start: float, end: float) -> None:
        self.feedback, self.start, self.end = feedback, start, end

    def progress(self, fraction: float, message: str = "") -> None:
        self.feedback.progress(self.start + (self.end - self.start) * fraction)

    def check(self) -> None:
        self.feedback.check()


def build_bulletin(store: Store, actor: Actor | None, month: Month, out: str | Path, clock: Clock, tr: Translate, *,
                   lang: str, department: str | None = None, with_map: bool = True, by: str = "",
                   record: bool = True, feedback: Feedback | None = None) -> Built:
    """Write the bulletin of ``month`` (or ``department``'s report) to ``out``; returns what was built.

    ``feedback``: progress (translated messages) and cancel — a GUI job passes its own; a cancel
    (``Cancelled`` from ``feedback.check()``) between the steps, during the chain's verification or
    before the finished file is renamed into place leaves nothing behind and records nothing."""
    from app.reports.pdf import build_pdf, register_font

    target = check_writable(out)
    register_font()  # a missing font refuses before anything is computed
    fb = feedback or Feedback()
    fb.progress(0.02, tr(Msg("正在校验审计链并计算指标…")))
    b = gather(store, actor, month, clock, department=department, feedback=_Part(fb, 0.02, 0.5))
    fb.check()
    folder = tempfile.mkdtemp(prefix="gridhall-bulletin-")
    try:
        png = None
        if with_map and department is None:
            fb.progress(0.6, tr(Msg("正在用 QGIS 渲染地图页…")))
            png = _map_png(store, b, folder, tr)
            fb.check()
        fb.progress(0.8, tr(Msg("正在排版 PDF…")))
        try:
            with _atomic(target) as temp:
                pages = build_pdf(b, temp, tr, map_png=png)
                fb.check()  # (a cancel here removes the finished temporary file)
        except OSError as exc:
            raise LedgerWriteError(Msg("无法导出：写入 {path} 失败（{error}）", path=str(target)[:200],
                                       error=exc.strerror or type(exc).__name__)) from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    history_id = None
    if record:
        history_id = record_build(store, b, target, pages, by or (actor.username if actor else "gridhall"), lang, clock)
    fb.progress(1.0, tr(Msg("完成")))
    return Built(target, pages, b, history_id)


__all__ = ["Built", "build_bulletin"]
