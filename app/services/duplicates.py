"""Duplicate suggestions at intake: nearby open or recently closed cases of the same or related category."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from app.domain.cases import CaseSummary
from app.domain.definitions import OPEN_STATES, CaseState
from app.store import queries
from app.store.models import Case, Category

DEFAULT_RADIUS_M = 50.0
DEFAULT_WINDOW_DAYS = 7
# Weights of the score (sum to 1): nearer, same category, more recent rank higher.
_W_DISTANCE, _W_CATEGORY, _W_TIME = 0.5, 0.3, 0.2


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
    since = now - timedelta(days=window_days)
    related = {c.id: c for c in session.scalars(select(Category).where(
        Category.kind == category.kind, Category.major_code == category.major_code))}
    cx, cy = func.ST_X(Case.geom), func.ST_Y(Case.geom)
    cols = (Case.id, Case.state, Case.closed_at, Case.reported_at, Case.category_id, cx.label("x"), cy.label("y"))
    near = (cx.between(x - radius_m, x + radius_m), cy.between(y - radius_m, y + radius_m))
    # Two index-driven parts (open states; recently closed) rather than one OR over every case
    # of the major, which the planners answer by scanning the category index.
    open_part = select(*cols).where(Case.state.in_([s.value for s in OPEN_STATES]), *near)
    closed_part = select(*cols).where(Case.closed_at >= since, Case.state == CaseState.CLOSED.value, *near)
    if exclude_case_id is not None:
        open_part = open_part.where(Case.id != exclude_case_id)
        closed_part = closed_part.where(Case.id != exclude_case_id)
    rows = [r for r in session.execute(union_all(open_part, closed_part)) if r.category_id in related]
    scored = []
    for r in rows:
        cat = related[r.category_id]
        dist = math.hypot(float(r.x) - x, float(r.y) - y)
        if dist > radius_m:
            continue
        reasons = [f"相距 {dist:.0f} 米"]
        if cat.code == category.code:
            cat_score = 1.0
            reasons.append(f"同一类别「{cat.name}」")
        else:
            cat_score = 0.5
            reasons.append(f"同属大类「{cat.major_name}」（{cat.name}）")
        if r.state == CaseState.CLOSED.value:
            age = max(0.0, (now - r.closed_at) / timedelta(days=1))
            time_score = max(0.0, 1.0 - age / max(window_days, 1))
            reasons.append(f"{_age_text(now - r.closed_at)}结案")
        else:
            time_score = 1.0
            reasons.append(f"未结案（{CaseState(r.state).label}，{_age_text(now - r.reported_at)}上报）")
        dist_score = 1.0 - dist / radius_m if radius_m > 0 else 1.0
        score = _W_DISTANCE * dist_score + _W_CATEGORY * cat_score + _W_TIME * time_score
        scored.append((round(score, 3), dist, r.id, tuple(reasons)))
    scored.sort(key=lambda t: (-t[0], t[1], t[2]))
    out = []
    for score, dist, case_id, reasons in scored[:limit]:
        summary = queries.case_summary(session, case_id)
        if summary is not None:
            out.append(DuplicateCandidate(summary, round(dist, 1), score, reasons))
    return out


def _age_text(delta: timedelta) -> str:
    minutes = max(0, int(delta / timedelta(minutes=1)))
    if minutes < 60:
        return f"{minutes} 分钟前"
    if minutes < 24 * 60:
        return f"{minutes // 60} 小时前"
    return f"{minutes // (24 * 60)} 天前"


__all__ = ["DEFAULT_RADIUS_M", "DEFAULT_WINDOW_DAYS", "DuplicateCandidate", "find_duplicates"]
