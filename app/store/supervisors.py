"""Store-side helpers of supervisors' positions (table ``supervisor_positions``, migration 0014)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from app.domain.definitions import Role
from app.store.models import SupervisorPosition, UnitGrid, User


def place_at_their_grids(store: Any, now: datetime, *, off_duty_every: int = 5) -> int:
    """Put every active supervisor that has assigned grids at the centre of the middle one of them
    (the demo city's patrol beats): on duty, reported a few minutes before ``now``; every
    ``off_duty_every``-th supervisor (by username) is off duty. Deterministic; returns the rows written.

    Meant for a freshly generated store (the demo): existing rows of those supervisors are replaced.
    """
    with store.session() as session, session.begin():
        rows = session.execute(
            select(User.username, UnitGrid.code, func.ST_X(func.ST_Centroid(UnitGrid.geom)),
                   func.ST_Y(func.ST_Centroid(UnitGrid.geom)))
            .join(UnitGrid, UnitGrid.supervisor_id == User.id)
            .where(User.role == Role.SUPERVISOR.value, User.active.is_(True), UnitGrid.retired_on.is_(None))
            .order_by(User.username, UnitGrid.code)).all()
        beats: dict[str, list[tuple[float, float]]] = {}
        for username, _code, x, y in rows:
            beats.setdefault(username, []).append((float(x), float(y)))
        written = 0
        for n, (username, points) in enumerate(sorted(beats.items())):
            x, y = points[len(points) // 2]
            on_duty = (n + 1) % off_duty_every != 0 if off_duty_every > 0 else True
            row = session.get(SupervisorPosition, username) or SupervisorPosition(username=username)
            row.on_duty, row.at = on_duty, now - timedelta(minutes=1 + n % 15)
            row.geom = func.ST_GeomFromText(f"POINT({x!r} {y!r})", 4549)
            session.add(row)
            written += 1
        return written


__all__ = ["place_at_their_grids"]
