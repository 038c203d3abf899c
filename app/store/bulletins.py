"""The bulletin's reads and its build history (issue 13, item 3; migration 0019).

- :func:`period_head`: the audit chain's link at the end of a period — the event with the highest
  ``chain_no`` recorded before ``end`` — whose hash the bulletin prints (every link hashes its
  predecessor, so that hash fixes the whole history the bulletin was computed from).
- :func:`month_geometries`: the points of the cases reported in a period and the polygons of the
  named grids, as WKT, for the bulletin's map page.
- :func:`record_build` / :func:`build_history`: the ``bulletins`` table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, func, select
from sqlalchemy.orm import Session

from app.store.models import Case, CaseEvent, UnitGrid

_meta = MetaData()
#: Migration 0019's table (not in the ORM models: only this module reads and writes it).
BULLETINS = Table(
    "bulletins", _meta,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("month", String(7), nullable=False),
    Column("department", String(64)),
    Column("built_at", DateTime, nullable=False),
    Column("built_by", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("chain_no", Integer),
    Column("head_hash", String(64)),
    Column("pages", Integer, nullable=False),
    Column("lang", String(8), nullable=False),
)


@dataclass(frozen=True)
class BuildRow:
    id: int
    kind: str
    month: str
    department: str | None
    built_at: datetime
    built_by: str
    file_name: str
    sha256: str
    chain_no: int | None
    head_hash: str | None
    pages: int
    lang: str

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "month": self.month, "department": self.department,
                "built_at": self.built_at.isoformat(sep=" ", timespec="seconds"), "built_by": self.built_by,
                "file_name": self.file_name, "sha256": self.sha256, "chain_no": self.chain_no,
                "head_hash": self.head_hash, "pages": self.pages, "lang": self.lang}


def period_head(session: Session, end: datetime) -> tuple[int, str] | None:
    """``(chain_no, hash)`` of the last link recorded before ``end`` (None: no event yet)."""
    last = select(func.max(CaseEvent.chain_no)).where(CaseEvent.at < end).scalar_subquery()
    row = session.execute(select(CaseEvent.chain_no, CaseEvent.hash).where(CaseEvent.chain_no == last)).first()
    return None if row is None else (int(row[0]), str(row[1]))


def case_points(session: Session, case_ids: list[int]) -> list[tuple[str, str]]:
    """``(number, WKT)`` of the cases with a location, in number order."""
    out: list[tuple[str, str]] = []
    for n in range(0, len(case_ids), 500):
        stmt = (select(Case.number, func.ST_AsText(Case.geom))
                .where(Case.id.in_(case_ids[n:n + 500]), Case.geom.is_not(None)))
        out.extend((str(a), str(b)) for a, b in session.execute(stmt) if b)
    return sorted(out)


def grid_polygons(session: Session, codes: list[str]) -> dict[str, str]:
    """``{grid code: WKT}`` of the named grids."""
    if not codes:
        return {}
    stmt = select(UnitGrid.code, func.ST_AsText(UnitGrid.geom)).where(UnitGrid.code.in_(codes))
    return {str(c): str(w) for c, w in session.execute(stmt) if w}


def street_boundaries(session: Session) -> list[tuple[str, str, str]]:
    """``(code, name, WKT)`` of the streets (the map page's background)."""
    from app.store.models import AdminArea

    stmt = (select(AdminArea.code, AdminArea.name, func.ST_AsText(AdminArea.geom))
            .where(AdminArea.level == "street", AdminArea.geom.is_not(None)).order_by(AdminArea.code))
    return [(str(c), str(n), str(w)) for c, n, w in session.execute(stmt) if w]


def district_extent_wkt(session: Session) -> str | None:
    """The WKT of the envelope of every unit grid (the map page's extent)."""
    return session.scalar(select(func.ST_AsText(func.ST_Envelope(func.ST_Collect(UnitGrid.geom)))))


def record_build(session: Session, **values: Any) -> int:
    """Add one row to the build history; returns its id (the caller commits)."""
    result: Any = session.execute(BULLETINS.insert().values(**values))
    return int(result.inserted_primary_key[0])


def build_history(session: Session, *, month: str | None = None, limit: int = 200) -> list[BuildRow]:
    """The latest builds first."""
    stmt = select(BULLETINS).order_by(BULLETINS.c.id.desc()).limit(limit)
    if month:
        stmt = stmt.where(BULLETINS.c.month == month)
    return [BuildRow(**dict(row._mapping)) for row in session.execute(stmt)]


__all__ = ["BULLETINS", "BuildRow", "build_history", "case_points", "district_extent_wkt", "grid_polygons",
           "period_head", "record_build", "street_boundaries"]


def category_names(session: Session) -> dict[str, str]:
    """``{category code: name}`` (a code shared by an event and a component category: the first)."""
    from app.store.models import Category

    out: dict[str, str] = {}
    for code, name in session.execute(select(Category.code, Category.name).order_by(Category.kind, Category.code)):
        out.setdefault(str(code), str(name))
    return out
