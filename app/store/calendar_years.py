"""The statutory calendar years and the configuration history in the store (migration 0016).

``calendar_years`` says, per year, whether the arrangement is official or estimated, where it
comes from and who set it; ``statutory_days`` holds every day of each such year (workday flag,
holiday name). The Python calendar (app.services.calendar.load_calendar) and the database's
timer functions (migration 0005, PostgreSQL) read the same rows, so they agree.

``config_changes`` is the append-only, hash-chained history of configuration changes
(app.domain.config_audit); every write here appends to it in the same transaction.

The functions take a SQLAlchemy ``Connection`` and use tables declared here (not the ORM
models), so migration 0016 can seed with them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from app.domain.clock import SystemClock
from app.domain.config_audit import GENESIS_HASH, change_hash, record_json, verify_changes
from app.domain.messages import Msg
from app.domain.statutory import OFFICIAL, StatutoryYear, seed_through, seed_years
from app.store.errors import StoreError

#: The actor recorded for what ``gridhall db init|upgrade`` seeds from the libraries.
SEED_ACTOR = "gridhall db"
#: The configuration history's entity for a calendar year (key: the year).
CALENDAR_ENTITY = "calendar_year"

_meta = sa.MetaData()
YEARS = sa.Table(
    "calendar_years", _meta,
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)
DAYS = sa.Table(
    "statutory_days", _meta,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("workday", sa.Boolean, nullable=False),
    sa.Column("name", sa.String(64)),
)
CHANGES = sa.Table(
    "config_changes", _meta,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("key", sa.String(64), nullable=False),
    sa.Column("before", sa.Text),
    sa.Column("after", sa.Text),
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False, unique=True),
)


def has_calendar_years(conn: Connection) -> bool:
    """Whether the store has migration 0016's tables."""
    return sa.inspect(conn).has_table("calendar_years")


# ----------------------------------------------------------------------------- reading


def read_years(conn: Connection, only: int | None = None) -> dict[int, StatutoryYear]:
    """Every stored year (or just ``only``) with its days."""
    query = sa.select(YEARS.c.year, YEARS.c.status, YEARS.c.source)
    days_query = sa.select(DAYS.c.day, DAYS.c.workday, DAYS.c.name)
    if only is not None:
        query = query.where(YEARS.c.year == only)
        days_query = days_query.where(DAYS.c.day.between(date(only, 1, 1), date(only, 12, 31)))
    heads = {y: (status, source) for y, status, source in conn.execute(query)}
    by_year: dict[int, dict[date, tuple[bool, str | None]]] = {y: {} for y in heads}
    for day, workday, name in conn.execute(days_query):
        if day.year in by_year:
            by_year[day.year][day] = (bool(workday), name)
    return {y: StatutoryYear.from_days(y, status, by_year[y], source or "") for y, (status, source) in heads.items()}


def year_info(conn: Connection, year: int) -> dict[str, Any] | None:
    """The ``calendar_years`` row of ``year`` as a dict, or None."""
    row = conn.execute(sa.select(YEARS).where(YEARS.c.year == year)).mappings().first()
    return dict(row) if row is not None else None


def config_version(conn: Connection) -> int:
    """The number of configuration changes so far (changes when anything is saved)."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(CHANGES.c.seq), 0))).scalar_one())


def changes(conn: Connection, entity: str | None = None, key: str | None = None) -> list[dict[str, Any]]:
    """The configuration history (oldest first), optionally of one entity / key."""
    query = sa.select(CHANGES).order_by(CHANGES.c.seq)
    if entity is not None:
        query = query.where(CHANGES.c.entity == entity)
    if key is not None:
        query = query.where(CHANGES.c.key == key)
    return [dict(r) for r in conn.execute(query).mappings()]


def verify_config_history(conn: Connection) -> Msg | None:
    """The first broken link of the configuration history, or None."""
    return verify_changes(changes(conn))


# ----------------------------------------------------------------------------- writing


def append_change(conn: Connection, *, entity: str, key: str, before: Mapping[str, Any] | None,
                  after: Mapping[str, Any] | None, actor: str, at: datetime, reason: str | None) -> int:
    """Append one change to the history (in the caller's transaction); returns its ``seq``.

    Two changes saved at the same moment compete for the same ``seq``: the later commit is
    refused by the primary key and nothing of it is written.
    """
    last = conn.execute(sa.select(CHANGES.c.seq, CHANGES.c.hash).order_by(CHANGES.c.seq.desc()).limit(1)).first()
    seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS_HASH)
    row = {"seq": seq, "entity": entity, "key": key, "before": record_json(before), "after": record_json(after),
           "actor": actor, "at": at.replace(microsecond=0), "reason": reason}
    conn.execute(CHANGES.insert().values(**row, prev_hash=prev, hash=change_hash(row, prev)))
    return seq


def write_year(conn: Connection, year: StatutoryYear, *, actor: str, at: datetime, reason: str | None) -> int | None:
    """Store ``year`` (checked first; nothing written when it is wrong) and record the change.

    Returns the change's ``seq``, or None when the stored year is already exactly this.
    """
    year.check()
    before_year = read_years(conn, only=year.year).get(year.year)
    before = before_year.as_record() if before_year is not None else None
    after = year.as_record()
    if before == after:
        return None
    at = at.replace(microsecond=0)
    values = {"status": year.status, "source": year.source, "updated_at": at, "updated_by": actor}
    if before_year is None:
        conn.execute(YEARS.insert().values(year=year.year, **values))
    else:
        conn.execute(YEARS.update().where(YEARS.c.year == year.year).values(**values))
    first, last = date(year.year, 1, 1), date(year.year, 12, 31)
    have = {d: (bool(w), n) for d, w, n in conn.execute(
        sa.select(DAYS.c.day, DAYS.c.workday, DAYS.c.name).where(DAYS.c.day.between(first, last)))}
    want = year.days()
    stale = [d for d in have if d not in want]
    changed = [{"day": d, "workday": w, "name": n} for d, (w, n) in want.items() if have.get(d) != (w, n)]
    if stale:
        conn.execute(DAYS.delete().where(DAYS.c.day.in_(stale)))
    fresh = [r for r in changed if r["day"] not in have]
    updates = [r for r in changed if r["day"] in have]
    if fresh:
        conn.execute(DAYS.insert(), fresh)
    if updates:
        conn.execute(DAYS.update().where(DAYS.c.day == sa.bindparam("d")).values(
            workday=sa.bindparam("w"), name=sa.bindparam("n")),
            [{"d": r["day"], "w": r["workday"], "n": r["name"]} for r in updates])
    return append_change(conn, entity=CALENDAR_ENTITY, key=str(year.year), before=before, after=after,
                         actor=actor, at=at, reason=reason)


def seed_calendar(conn: Connection, *, this_year: int | None = None, at: datetime | None = None) -> int:
    """Fill the years the libraries know that the store lacks; refresh the years only the seed
    ever wrote (never a year a person set). Returns how many years were written.

    chinesecalendar's years are official; the years after it, through two years past this year,
    are estimated from ``holidays`` (official when ``holidays`` carries the notice). A newer
    library thus turns a seeded estimate into the official arrangement at the next
    ``gridhall db upgrade``; an administrator's entry is left alone.
    """
    if not has_calendar_years(conn):
        return 0
    at = at or SystemClock().now()
    this_year = this_year if this_year is not None else at.year
    stored = {r.year: r for r in conn.execute(sa.select(YEARS.c.year, YEARS.c.status, YEARS.c.updated_by))}
    written = 0
    wanted = seed_years(this_year)
    for y, seeded in wanted.items():
        row = stored.get(y)
        if row is not None and (row.updated_by != SEED_ACTOR or (row.status == OFFICIAL and seeded.status != OFFICIAL)):
            continue  # a person's entry, or an official year a library no longer has: keep it
        reason = "由日历库填入（chinesecalendar / holidays）" if row is None else "日历库已更新"
        if write_year(conn, seeded, actor=SEED_ACTOR, at=at, reason=reason) is not None:
            written += 1
    assert seed_through(this_year) in wanted
    # days of years the store does not hold (written around the application): the Python
    # calendar counts those years Monday–Friday, so the SQL functions must too
    kept = set(stored) | set(wanted)
    orphans = [d for (d,) in conn.execute(sa.select(DAYS.c.day)) if d.year not in kept]
    if orphans:
        conn.execute(DAYS.delete().where(DAYS.c.day.in_(orphans)))
        written += len({d.year for d in orphans})
    return written


def days_off_the_record(conn: Connection) -> list[int]:
    """The years whose stored days differ from the last change recorded for them, or that have
    days but no ``calendar_years`` row (days written around the configuration history); empty
    when every year is as its history says."""
    recorded: dict[int, dict[str, Any]] = {}
    for change in changes(conn, CALENDAR_ENTITY):
        if change["after"] is not None:
            recorded[int(change["key"])] = json.loads(change["after"])
    stored = read_years(conn)
    orphans = {d.year for (d,) in conn.execute(sa.select(DAYS.c.day))} - set(stored)  # days of no stored year
    return sorted(orphans | {y for y in set(recorded) | set(stored)
                             if y not in stored or y not in recorded or stored[y].as_record() != recorded[y]})


def require_calendar_tables(conn: Connection) -> None:
    """StoreError unless migration 0016 ran."""
    if not has_calendar_years(conn):
        raise StoreError(Msg("数据库尚无日历年度表（calendar_years）：请先运行 gridhall db upgrade"))


__all__ = ["CALENDAR_ENTITY", "CHANGES", "DAYS", "SEED_ACTOR", "YEARS", "append_change", "changes", "config_version", "days_off_the_record",
           "has_calendar_years", "read_years", "require_calendar_tables", "seed_calendar", "verify_config_history",
           "write_year", "year_info"]
