"""Duplicate suggestions at intake: nearby open or recently closed cases of the same or related category."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, Float, Integer, MetaData, Row, Select, Table, case, func, literal, select
from sqlalchemy.orm import Session

from app.domain.cases import CaseSummary
from app.domain.definitions import OPEN_STATES, STORE_SRID, CaseState
from app.domain.messages import Msg
from app.store import queries
from app.store.models import Case, Category

DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW_DAYS = 7
# Weights of the score (sum to 1): nearer, same category, more recent rank higher.
_W_DISTANCE, _W_CATEGORY, _W_TIME = 0.5, 0.3, 0.2
_OPEN_VALUES = sorted(s.value for s in OPEN_STATES)
# SpatiaLite's R*Tree of cases.geom (made by the spatial index of the model's geometry column).
_RTREE = Table("idx_cases_geom", MetaData(), Column("pkid", Integer), Column("xmin", Float),
               Column("xmax", Float), Column("ymin", Float), Column("ymax", Float))


@dataclass(frozen=True)
class DuplicateCandidate:
    """An existing case that may be the same problem, with its distance, score (0–1) and reasons."""

    case: CaseSummary
    distance_m: float
    score: float
    reasons: tuple[str, ...]


def find_duplicates(session: Session, *, category: Category, x: float, y: float, now: datetime,
                    radius_m: float = DEFAULT_RADIUS_M, window_days: int = DEFAULT_WINDOW_DAYS,
                    exclude_case_id: int | None = None, limit: int = 10) -> list[DuplicateCandidate]:
    """Open cases and cases closed within ``window_days`` of the same category or major, within
    ``radius_m`` metres of (x, y), best first."""
    if limit <= 0:
        return []
    since = now - timedelta(days=window_days)
    fetch = limit + _MARGIN
    while True:
        rows = session.execute(_candidates(session, category, x, y, now, since, radius_m, window_days,
                                           exclude_case_id, fetch)).all()
        scored = sorted((t for t in (_score(r, category, x, y, now, radius_m, window_days) for r in rows)
                         if t[1] <= radius_m), key=lambda t: (-t[0], t[1], t[2]))
        # The SQL score orders before Python rounds it: a row cut off by LIMIT could only tie
        # with the last kept one if its unrounded score is within the rounding step.
        if len(rows) < fetch or len(scored) < limit or rows[-1].proxy < scored[limit - 1][0] - _ROUNDING:
            break
        fetch *= 4
    scored = scored[:limit]
    summaries = {s.id: s for s in queries.case_summaries(session, [t[2] for t in scored])}
    return [DuplicateCandidate(summaries[case_id], round(dist, 1), score, reasons)
            for score, dist, case_id, reasons in scored if case_id in summaries]


# Rows fetched beyond ``limit`` so that the SQL order rarely needs a second query.
_MARGIN = 5
_ROUNDING = 0.002


def _candidates(session: Session, category: Category, x: float, y: float, now: datetime, since: datetime,
                radius_m: float, window_days: int, exclude_case_id: int | None, fetch: int) -> Select:
    """One statement: open and recently closed cases within the radius, best score first."""
    cx, cy = func.ST_X(Case.geom), func.ST_Y(Case.geom)
    dist2 = (cx - x) * (cx - x) + (cy - y) * (cy - y)
    sqlite = session.get_bind().dialect.name == "sqlite"
    # The point's spatial index answers the bounding box: a handful of rows whatever the size
    # of the district (the state index alone reads every closed case of the year).
    if sqlite:
        box = Case.id.in_(select(_RTREE.c.pkid).where(
            _RTREE.c.xmin <= x + radius_m, _RTREE.c.xmax >= x - radius_m,
            _RTREE.c.ymin <= y + radius_m, _RTREE.c.ymax >= y - radius_m))
        age_days = func.julianday(literal(now.isoformat(sep=" "))) - func.julianday(Case.closed_at)
    else:
        box = Case.geom.op("&&")(func.ST_MakeEnvelope(x - radius_m, y - radius_m, x + radius_m, y + radius_m,
                                                      STORE_SRID))
        age_days = func.extract("epoch", literal(now) - Case.closed_at) / 86400.0
    closed = Case.state == CaseState.CLOSED.value
    window = float(max(window_days, 1))
    time_score = case((~closed, 1.0), (age_days <= 0, 1.0), (age_days >= window, 0.0),
                      else_=1.0 - age_days / window)
    dist = func.sqrt(dist2)
    dist_score = 1.0 - dist / radius_m if radius_m > 0 else literal(1.0)
    cat_score = case((Category.code == category.code, 1.0), else_=0.5)
    proxy = (_W_DISTANCE * dist_score + _W_CATEGORY * cat_score + _W_TIME * time_score).label("proxy")
    stmt = (
        select(Case.id, Case.state, Case.closed_at, Case.reported_at, Category.code.label("cat_code"),
               Category.name.label("cat_name"), Category.major_name, cx.label("x"), cy.label("y"), proxy)
        # "+ 0" keeps SQLite from driving the join by the category index (every case of the major).
        .join(Category, Category.id == Case.category_id + 0)
        .where(box, Category.kind == category.kind, Category.major_code == category.major_code,
               Case.state.in_(_OPEN_VALUES) | (closed & (Case.closed_at >= since)),
               cx.between(x - radius_m, x + radius_m), cy.between(y - radius_m, y + radius_m),
               dist2 <= radius_m * radius_m)
        .order_by(proxy.desc(), dist, Case.id)
        .limit(fetch)
    )
    if exclude_case_id is not None:
        stmt = stmt.where(Case.id != exclude_case_id)
    return stmt


def _score(r: Row, category: Category, x: float, y: float, now: datetime, radius_m: float,
           window_days: int) -> tuple[float, float, int, tuple[str, ...]]:
    dist = math.hypot(float(r.x) - x, float(r.y) - y)
    reasons = [Msg("相距 {dist:.0f} 米", dist=dist)]
    if r.cat_code == category.code:
        cat_score = 1.0
        reasons.append(Msg("同一类别「{name}」", name=r.cat_name))
    else:
        cat_score = 0.5
        reasons.append(Msg("同属大类「{major}」（{name}）", major=r.major_name, name=r.cat_name))
    if r.state == CaseState.CLOSED.value:
        age = max(0.0, (now - r.closed_at) / timedelta(days=1))
        time_score = max(0.0, 1.0 - age / max(window_days, 1))
        reasons.append(Msg("{age}结案", age=_age_text(now - r.closed_at)))
    else:
        time_score = 1.0
        reasons.append(Msg("未结案（{state}，{age}上报）",
                           state=CaseState(r.state), age=_age_text(now - r.reported_at)))
    dist_score = 1.0 - dist / radius_m if radius_m > 0 else 1.0
    score = _W_DISTANCE * dist_score + _W_CATEGORY * cat_score + _W_TIME * time_score
    return round(score, 3), dist, r.id, tuple(reasons)


def _age_text(delta: timedelta) -> Msg:
    minutes = max(0, int(delta / timedelta(minutes=1)))
    if minutes < 60:
        return Msg("{n} 分钟前", n=minutes)
    if minutes < 24 * 60:
        return Msg("{n} 小时前", n=minutes // 60)
    return Msg("{n} 天前", n=minutes // (24 * 60))


__all__ = ["DEFAULT_RADIUS_M", "DEFAULT_WINDOW_DAYS", "DuplicateCandidate", "find_duplicates"]
