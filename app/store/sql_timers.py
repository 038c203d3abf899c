"""The statutory working calendar as rows, for the database's own timer functions (migration 0005).

On PostGIS the database computes a case's timer itself (``gridhall_is_workday``,
``gridhall_basis_minutes``, ``gridhall_deadline``, ``gridhall_limit``), identical to
app.domain.calendar / app.domain.deadlines / app.domain.limits. Which days the State Council
made holidays or 调休 working days comes from the same ``chinese_calendar`` data the clients
use, copied into the ``statutory_days`` table (every day of every year chinesecalendar knows;
other years fall back to Monday–Friday, as ``WorkCalendar`` does). ``gridhall db init`` and
``gridhall db upgrade`` refresh it, so a newer chinesecalendar reaches the database too.
SpatiaLite has none of this: everything here is a no-op there.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, text

from app.domain.statutory import statutory_year

#: The table the migration creates and ``sync_statutory_days`` keeps in step.
STATUTORY_TABLE = "statutory_days"
# chinese_calendar publishes from 2004; look a little around what it has for safety.
_FIRST_YEAR, _LAST_YEAR = 1990, date.today().year + 5


def statutory_years() -> list[int]:
    """The years chinesecalendar knows (statutory holidays published by the State Council)."""
    return [y for y in range(_FIRST_YEAR, max(_LAST_YEAR, 2040) + 1) if statutory_year(y) is not None]


def statutory_rows() -> dict[date, bool]:
    """Every day of every known year with its statutory workday flag."""
    rows: dict[date, bool] = {}
    for year in statutory_years():
        flags = statutory_year(year)
        assert flags is not None  # statutory_years keeps only the known years
        first = date(year, 1, 1)
        for i, workday in enumerate(flags):
            rows[first + timedelta(days=i)] = workday
    return rows


def sync_statutory_days(conn: Connection) -> int:
    """Keep the statutory days in step with the calendar libraries; returns the rows (before
    migration 0016) or years (from 0016 on) changed.

    From migration 0016 on the store's years are data (``calendar_years``): this seeds the years
    the store lacks and refreshes those only the seed wrote (app.store.calendar_years.seed_calendar),
    never a year an administrator set. Before it (PostgreSQL, migration 0005): ``statutory_days``
    made to hold exactly chinesecalendar's days. Writes only what differs (an up-to-date table is
    only read), so running it again is cheap. A no-op on SpatiaLite before migration 0016.
    """
    from app.store.calendar_years import has_calendar_years, seed_calendar

    if has_calendar_years(conn):
        return seed_calendar(conn)
    if conn.dialect.name != "postgresql":
        return 0
    if conn.execute(text(f"SELECT to_regclass('{STATUTORY_TABLE}')")).scalar() is None:
        return 0
    want = statutory_rows()
    have: dict[date, bool] = {d: w for d, w in conn.execute(text(f"SELECT day, workday FROM {STATUTORY_TABLE}"))}
    stale = [d for d in have if d not in want]
    changed = [{"day": d, "workday": w} for d, w in want.items() if have.get(d) is not w]
    if stale:
        conn.execute(text(f"DELETE FROM {STATUTORY_TABLE} WHERE day = ANY(:days)"), {"days": stale})
    if changed:
        conn.execute(text(f"INSERT INTO {STATUTORY_TABLE} (day, workday) VALUES (:day, :workday) "
                          "ON CONFLICT (day) DO UPDATE SET workday = excluded.workday"), changed)
    return len(stale) + len(changed)


__all__ = ["STATUTORY_TABLE", "statutory_rows", "statutory_years", "sync_statutory_days"]
