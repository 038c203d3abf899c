"""The database computes a case's timer itself (migration 0005), exactly as the Python code does.

Parity of gridhall_is_workday / gridhall_basis_minutes / gridhall_deadline / gridhall_limit with
WorkCalendar, basis_minutes, deadline and LimitTable.lookup over deterministic pseudo-random
cases (weekends, statutory holidays, 调休 working weekends, local overrides, window edges,
seconds and microseconds, pauses, extensions, both bases, years chinesecalendar does not know),
plus hand-computed values so that SQL and Python cannot both be wrong the same way.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy.exc
from sqlalchemy import text

from app.domain.calendar import statutory_year
from app.domain.cases import TimerSpec
from app.domain.deadlines import deadline
from app.domain.definitions import Basis, Kind, Level, Role, Stage
from app.services.calendar import load_calendar
from app.services.errors import ValidationError
from app.services.limits import load_limits
from app.services.timers import basis_minutes
from app.store.models import CalendarDay
from app.store.security import GROUP_ROLES, group_role
from app.store.sql_timers import statutory_rows, statutory_years, sync_statutory_days

pytestmark = pytest.mark.postgis

#: Local overrides added by the tests: a weekday off, a Saturday worked, a statutory holiday
#: worked, a 调休 Sunday off, and days in years chinesecalendar does not know.
OVERRIDES = {
    date(2025, 3, 5): (False, "停电检修"),  # Wednesday
    date(2025, 3, 8): (True, None),  # Saturday
    date(2024, 2, 14): (True, None),  # Spring Festival holiday
    date(2024, 2, 18): (False, None),  # 调休 Sunday
    date(2031, 6, 2): (False, "本地假日"),  # Monday, year unknown to chinesecalendar
    date(2031, 6, 7): (True, None),  # Saturday of that year
    date(2026, 12, 31): (False, None),
}
#: Days around which the random instants cluster.
ANCHORS = [date(2024, 2, 7), date(2024, 2, 16), date(2024, 9, 27), date(2025, 1, 24), date(2025, 3, 4),
           date(2025, 9, 26), date(2025, 10, 7), date(2026, 2, 13), date(2026, 12, 29), date(2027, 1, 1),
           date(2031, 5, 30), date(2003, 12, 30), date(2040, 2, 28)]
EDGE_TIMES = [time(0), time(7, 59, 59, 999999), time(8), time(8, 0, 0, 1), time(11, 59, 30), time(12),
              time(12, 0, 0, 1), time(13), time(14), time(17, 59, 59), time(18), time(18, 0, 1),
              time(23, 59, 59, 999999)]
LIMITS = [1, 10, 30, 60, 119, 120, 239, 240, 241, 360, 479, 480, 481, 960, 1440, 2400, 4800]


@pytest.fixture
def backend() -> str:
    return "postgis"


@pytest.fixture
def calendar(store):
    """The store's calendar with OVERRIDES added, as the Python side loads it."""
    with store.session() as session, session.begin():
        for day, (workday, note) in OVERRIDES.items():
            session.add(CalendarDay(day=day, workday=workday, note=note))
    return load_calendar(store)


def _instant(rng: random.Random) -> datetime:
    day = rng.choice(ANCHORS) + timedelta(days=rng.randint(-4, 12))
    if rng.random() < 0.5:
        t = rng.choice(EDGE_TIMES)
    else:
        t = time(rng.randint(0, 23), rng.randint(0, 59), rng.choice([0, 0, rng.randint(0, 59)]),
                 rng.choice([0, 0, 0, rng.randint(0, 999999)]))
    return datetime.combine(day, t)


def _scalar(conn, sql: str, **params):
    return conn.execute(text(sql), params).scalar()


def test_is_workday_matches_the_python_calendar(store, calendar):
    first, last = date(2003, 12, 1), date(2032, 1, 31)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with store.engine.connect() as conn:
        flags = dict(conn.execute(text(
            "SELECT d::date, gridhall_is_workday(d::date) FROM generate_series(:a, :b, interval '1 day') d"),
            {"a": first, "b": last}).all())
        # the counting helper agrees with the flags over ranges of every length and alignment
        rng = random.Random(81)
        for _ in range(300):
            a = rng.choice([rng.choice(days), rng.choice(ANCHORS) + timedelta(days=rng.randint(-30, 10))])
            b = a + timedelta(days=rng.choice([0, 1, 2, 6, 7, 8, 13, 40, 400, rng.randint(0, 3000)]))
            want = sum(calendar.is_workday(a + timedelta(days=i)) for i in range((b - a).days + 1))
            assert _scalar(conn, "SELECT gridhall_workdays(:a, :b)", a=a, b=b) == want, (a, b)
        assert _scalar(conn, "SELECT gridhall_workdays(:a, :b)", a=date(2025, 3, 9), b=date(2025, 3, 8)) == 0
    assert len(flags) == len(days) > 10000
    assert {d: calendar.is_workday(d) for d in days} == flags
    # the cases that matter are really in the range
    assert flags[date(2024, 2, 4)] and not flags[date(2024, 2, 12)]  # 调休 Sunday, Spring Festival Monday
    assert flags[date(2024, 2, 14)] and not flags[date(2024, 2, 18)]  # overridden both ways
    assert not flags[date(2031, 6, 2)] and flags[date(2031, 6, 7)] and flags[date(2031, 6, 3)]


def test_statutory_days_hold_every_year_chinesecalendar_knows(store):
    """From migration 0016 on, statutory_days holds every stored year (calendar_years): chinesecalendar's
    years exactly as it has them, plus the estimated years after; db init/upgrade repairs what the
    seed owns and drops days of years the store does not hold."""
    from app.store.calendar_years import days_off_the_record

    years = statutory_years()
    assert years[0] <= 2004 and years[-1] >= 2026 and statutory_year(years[-1] + 1) is None
    with store.engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT day, workday FROM statutory_days")).all())
        assert {d: w for d, w in rows.items() if d.year in years} == statutory_rows()
        assert {d.year for d in rows} - set(years) == {years[-1] + 1, years[-1] + 2}  # estimated
        assert sync_statutory_days(conn) == 0  # already in step: nothing written
        assert days_off_the_record(conn) == []
        conn.execute(text("UPDATE statutory_days SET workday = NOT workday WHERE day = '2025-10-01'"))
        conn.execute(text("INSERT INTO statutory_days VALUES ('1999-01-01', false)"))
        assert days_off_the_record(conn) == [1999, 2025]
        assert sync_statutory_days(conn) == 2  # 2025 rewritten (and recorded), 1999's day dropped
        assert dict(conn.execute(text("SELECT day, workday FROM statutory_days")).all()) == rows
        assert days_off_the_record(conn) == []


def test_basis_minutes_matches_python(store, calendar):
    rng = random.Random(8)
    cases = []
    for _ in range(600):
        a = _instant(rng)
        shape = rng.random()
        if shape < 0.3:
            b = datetime.combine(a.date(), rng.choice(EDGE_TIMES))  # same day
        elif shape < 0.9:
            b = a + timedelta(minutes=rng.randint(0, 60 * 24 * 20), seconds=rng.choice([0, 30, rng.randint(0, 59)]),
                              microseconds=rng.choice([0, rng.randint(0, 999999)]))
        else:
            b = _instant(rng)  # anywhere, often before a
        cases.append((rng.choice(list(Basis)), a, b))
    # long spans: years, and across the end of chinesecalendar's data
    cases += [(Basis.WORKING, datetime(2004, 1, 1, 9), datetime(2031, 12, 31, 17, 30)),
              (Basis.WORKING, datetime(2026, 12, 30, 15), datetime(2027, 1, 4, 8, 45)),
              (Basis.NATURAL, datetime(2024, 2, 9, 17), datetime(2030, 2, 9, 17, 0, 30))]
    with store.engine.connect() as conn:
        for basis, a, b in cases:
            got = _scalar(conn, "SELECT gridhall_basis_minutes(:basis, :a, :b)", basis=basis.value, a=a, b=b)
            assert got == basis_minutes(basis, a, b, calendar), (basis, a, b)
    assert sum(1 for basis, a, b in cases if b > a and basis_minutes(basis, a, b, calendar)) > 300


def test_basis_minutes_hand_computed(store, calendar):
    with store.engine.connect() as conn:
        def minutes(basis, a, b):
            return _scalar(conn, "SELECT gridhall_basis_minutes(:basis, :a, :b)", basis=basis, a=a, b=b)

        # Fri 11:30–12:00 and 14:00–18:00; the Spring Festival, but 02-14 is worked here (an
        # override) and the 调休 Sunday 02-18 is not; Monday 8:00–8:30
        assert minutes("working", datetime(2024, 2, 9, 11, 30), datetime(2024, 2, 19, 8, 30)) == 30 + 240 + 480 + 30
        # Thu 11:30–12:00 and 14:00–18:00, Fri, the 调休 Sunday 02-04 8:00–8:30
        assert minutes("working", datetime(2024, 2, 1, 11, 30), datetime(2024, 2, 4, 8, 30)) == 30 + 240 + 480 + 30
        assert minutes("natural", datetime(2024, 2, 9, 17), datetime(2024, 2, 10, 17)) == 1440
        # Python's round(): half to even
        assert minutes("natural", datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 10, 0, 30)) == 0
        assert minutes("natural", datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 10, 1, 30)) == 2
        assert minutes("natural", datetime(2025, 3, 3, 10), datetime(2025, 3, 3, 10, 2, 30)) == 2
        assert minutes("working", datetime(2025, 3, 3, 11, 59, 30), datetime(2025, 3, 3, 14, 1)) == 2
        assert minutes("working", datetime(2025, 3, 3, 12), datetime(2025, 3, 3, 14)) == 0
        assert minutes("working", datetime(2025, 3, 3, 18), datetime(2025, 3, 3, 9)) == 0  # backwards: 0
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="计时方式"):
            minutes("lunar", datetime(2025, 3, 3, 9), datetime(2025, 3, 3, 10))


def _spec(rng: random.Random) -> TimerSpec:
    basis = rng.choice(list(Basis))
    paused_since = None
    if rng.random() < 0.1:
        paused_since = _instant(rng)
    extension = rng.choice([0, 0, 0, 30, 480, 2400, rng.randint(1, 5000)])
    if rng.random() < 0.01:
        extension = 999999
    return TimerSpec(stage=rng.choice(list(Stage)), basis=basis,
                     limit_minutes=rng.choice([*LIMITS, rng.randint(1, 6000)]), started_at=_instant(rng),
                     paused_minutes=rng.choice([0, 0, 0, 1, 45, 480, rng.randint(0, 3000)]),
                     paused_since=paused_since, extension_minutes=extension)


_DEADLINE = "SELECT gridhall_deadline(:basis, :limit, :started, :paused, :since, :ext)"


def _sql_deadline(conn, spec: TimerSpec):
    return _scalar(conn, _DEADLINE, basis=spec.basis.value, limit=spec.limit_minutes, started=spec.started_at,
                   paused=spec.paused_minutes, since=spec.paused_since, ext=spec.extension_minutes)


def test_deadline_matches_python(store, calendar):
    rng = random.Random(88)
    specs = [_spec(rng) for _ in range(800)]
    # every window edge as a start, with limits that end exactly at window edges
    for day in (date(2024, 2, 9), date(2024, 2, 4), date(2025, 3, 7), date(2031, 6, 6), date(2026, 12, 30)):
        for t in EDGE_TIMES:
            for limit in (1, 240, 480, 481):
                specs.append(TimerSpec(Stage.HANDLE, Basis.WORKING, limit, datetime.combine(day, t)))
    # zero working minutes: the next working instant (a window's end included)
    specs += [TimerSpec(Stage.HANDLE, Basis.WORKING, 0, datetime.combine(date(2024, 2, 9), t)) for t in EDGE_TIMES]
    specs.append(TimerSpec(Stage.HANDLE, Basis.WORKING, 10, datetime(2025, 3, 3, 9), paused_minutes=-30))
    specs.append(TimerSpec(Stage.HANDLE, Basis.NATURAL, 10, datetime(2025, 3, 3, 9), paused_minutes=-30))
    with store.engine.connect() as conn:
        for spec in specs:
            assert _sql_deadline(conn, spec) == deadline(spec, calendar), spec
    assert sum(1 for s in specs if s.paused_since is None) > 700


def test_deadline_hand_computed(store, calendar):
    with store.engine.connect() as conn:
        def at(basis, limit, started, paused=0, since=None, ext=0):
            return _scalar(conn, _DEADLINE, basis=basis, limit=limit, started=started, paused=paused, since=since,
                           ext=ext)

        # 1 hour on the Friday before the Spring Festival, the next hour on 02-14 (a holiday
        # overridden to a workday here)
        assert at("working", 120, datetime(2024, 2, 9, 17)) == datetime(2024, 2, 14, 9)
        assert at("working", 120, datetime(2024, 2, 2, 17)) == datetime(2024, 2, 4, 9)  # 调休 Sunday worked
        assert at("natural", 120, datetime(2024, 2, 9, 17)) == datetime(2024, 2, 9, 19)
        # a limit ending at a window's end stays there
        assert at("working", 240, datetime(2025, 3, 3, 8)) == datetime(2025, 3, 3, 12)
        assert at("working", 480, datetime(2025, 3, 3, 8)) == datetime(2025, 3, 3, 18)
        assert at("working", 0, datetime(2025, 3, 3, 12, 30)) == datetime(2025, 3, 3, 14)
        assert at("working", 0, datetime(2025, 3, 3, 18)) == datetime(2025, 3, 3, 18)
        # seconds and microseconds carry over; pauses and extensions add up
        assert at("working", 1, datetime(2025, 3, 3, 11, 59, 30, 5)) == datetime(2025, 3, 3, 14, 0, 30, 5)
        assert at("working", 60, datetime(2025, 3, 4, 17), paused=30, ext=30) == datetime(2025, 3, 6, 9, 0)
        assert at("natural", 60, datetime(2025, 3, 4, 17), paused=30, ext=30) == datetime(2025, 3, 4, 19)
        # while paused there is no deadline; nor without a timer
        assert at("working", 60, datetime(2025, 3, 4, 17), since=datetime(2025, 3, 4, 17, 5)) is None
        assert at(None, 60, datetime(2025, 3, 4, 17)) is None
        # 999999 working minutes: 2083 working days and 159 minutes, years ahead, found in a few queries
        far = at("working", 480, datetime(2025, 3, 3, 8), ext=999999)
        spec = TimerSpec(Stage.HANDLE, Basis.WORKING, 480, datetime(2025, 3, 3, 8), extension_minutes=999999)
        assert far == deadline(spec, calendar) and far.year == 2033
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="9999-12-31"):
            at("working", 2_000_000_000, datetime(2025, 3, 3, 8), ext=2_000_000_000)


def test_limit_matches_python_for_every_category(store):
    """Every category at every level for 处置 (where category rules live), no category for every
    kind, level and stage, and a pseudo-random sample of every other combination (kinds mixed)."""
    table = load_limits(store)
    rng = random.Random(808)
    with store.engine.connect() as conn:
        categories = conn.execute(text("SELECT id, kind, code FROM categories ORDER BY id")).all()
        probes = [(kind, id_, level.value, Stage.HANDLE.value) for id_, kind, _code in categories for level in Level]
        probes += [(kind.value, None, level.value, stage.value) for kind in Kind for level in Level for stage in Stage]
        probes += [(rng.choice(list(Kind)).value, rng.choice(categories)[0], rng.choice(list(Level)).value,
                    rng.choice(list(Stage)).value) for _ in range(400)]
        rows = conn.execute(text("""
            SELECT p.kind, p.category_id, p.level, p.stage, r.minutes, r.basis
              FROM unnest(CAST(:kinds AS text[]), CAST(:ids AS integer[]), CAST(:levels AS text[]),
                          CAST(:stages AS text[])) AS p(kind, category_id, level, stage)
             CROSS JOIN LATERAL gridhall_limit(p.kind, p.category_id, p.level, p.stage) r"""),
            {"kinds": [p[0] for p in probes], "ids": [p[1] for p in probes], "levels": [p[2] for p in probes],
             "stages": [p[3] for p in probes]}).all()
        n_rules = conn.execute(text("SELECT count(*) FROM time_limits")).scalar()
    codes = {id_: code for id_, _kind, code in categories}
    assert len(rows) == len(probes) > 1600
    used = set()
    for kind, category_id, level, stage, minutes, basis in rows:
        code = codes.get(category_id)
        rule = table.lookup(kind, code, level, stage)
        assert (minutes, basis) == (rule.minutes, rule.basis.value), (kind, code, level, stage)
        used.add(str(rule.source))
    # most seeded rows were the answer somewhere (plus the built-in defaults for accept/close); the
    # next test reaches every one
    assert len({s for s in used if "time_limits 表第" in s}) >= n_rules - 10 > 150
    assert any("内置默认" in s for s in used)


def test_limit_finds_every_seeded_row_once_more_specific_rows_are_gone(store):
    """Each row of time_limits is the answer for its own scope when the rows that shadow it are removed."""
    with store.engine.connect() as conn:
        rules = conn.execute(text("""
            SELECT r.id, r.kind, r.category_id, c.kind, r.major_code, r.level, r.stage, r.minutes, r.basis
              FROM time_limits r LEFT JOIN categories c ON c.id = r.category_id ORDER BY r.id""")).all()
        assert len(rules) > 150
        for id_, kind, category_id, category_kind, major, level, stage, minutes, basis in rules:
            probes = []  # (kind, category_id, shadowing rows to delete first)
            if category_id is not None:
                probes.append((category_kind, category_id, "false"))
            elif major is not None:
                probe = _scalar(conn, "SELECT min(id) FROM categories WHERE kind = :k AND major_code = :m",
                                k=kind, m=major)
                probes.append((kind, probe, f"category_id = {probe}"))
            elif kind is not None:
                probes.append((kind, None, "false"))
            else:
                probes += [(k.value, None, f"kind = '{k.value}' AND category_id IS NULL AND major_code IS NULL")
                           for k in Kind]
            for probe_kind, probe_category, shadowing in probes:
                with conn.begin_nested() as savepoint:
                    conn.execute(text(f"DELETE FROM time_limits WHERE level = :l AND stage = :s AND ({shadowing})"),
                                 {"l": level, "s": stage})
                    got = conn.execute(text("SELECT * FROM gridhall_limit(:k, :c, :l, :s)"),
                                       {"k": probe_kind, "c": probe_category, "l": level, "s": stage}).one()
                    assert tuple(got) == (minutes, basis), id_
                    savepoint.rollback()


def test_limit_hand_computed_and_scopes_added_later(store):
    with store.engine.begin() as conn:
        def limit(kind, code, level, stage):
            category = None if code is None else _scalar(
                conn, "SELECT id FROM categories WHERE kind = :k AND code = :c", k=kind, c=code)
            return tuple(conn.execute(text("SELECT * FROM gridhall_limit(:k, :c, :l, :s)"),
                                      {"k": kind, "c": category, "l": level, "s": stage}).one())

        assert limit("component", "01001", "general", "handle") == (360, "working")  # the category's own rule
        assert limit("component", "01001", "urgent", "handle") == (120, "natural")
        assert limit("component", "04001", "general", "handle") == (960, "working")  # major 04
        assert limit("event", None, "engineering", "handle") == (2400, "working")  # the kind's default
        assert limit("event", None, "urgent", "dispatch") == (10, "natural")  # global
        assert limit("event", None, "general", "accept") == (240, "working")  # built-in default
        assert limit("event", None, "urgent", "close") == (30, "natural")
        # labels and names are read as the Python parser reads them; a missing level is 一般
        assert limit("事件", None, "GENERAL", "处置") == limit("event", None, None, "handle") == (480, "working")
        # a major rule for 06 written with Chinese labels now applies to 06010's level without a rule
        conn.execute(text("INSERT INTO time_limits (kind, major_code, level, stage, minutes, basis) "
                          "VALUES ('事件', '06', '紧急', 'verify', 17, '自然时间')"))
        assert limit("event", "06010", "urgent", "verify") == (17, "natural")
        assert limit("component", "06001", "urgent", "verify") == (30, "natural")  # other kind: global
    for args, message in ((("event", None, "sometimes", "handle"), "处置级别"),
                          (("matter", None, "general", "handle"), "案件类型"),
                          (("event", None, "general", "later"), "计时环节"),
                          (("event", 999999, "general", "handle"), "类别 999999 不存在")):
        with store.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError, match=message):
            conn.execute(text("SELECT * FROM gridhall_limit(:k, :c, :l, :s)"),
                         dict(zip("kcls", args, strict=True)))


@pytest.mark.parametrize(("sql", "message"), [
    ("UPDATE time_limits SET basis = 'lunar' WHERE id = (SELECT max(id) FROM time_limits)", "basis 无效"),
    ("UPDATE time_limits SET minutes = 0 WHERE id = (SELECT max(id) FROM time_limits)", "须为正整数"),
    ("INSERT INTO time_limits (major_code, level, stage, minutes, basis) "
     "VALUES ('06', 'general', 'handle', 5, 'natural')", "须同时填写 kind"),
    # the same scope as the seeded kind default, spelled with a label: the unique index lets it in
    ("INSERT INTO time_limits (kind, level, stage, minutes, basis) "
     "VALUES ('事件', 'general', 'handle', 5, 'natural')", "适用范围相同"),
    ("DELETE FROM time_limits", "time_limits 表为空"),
])
def test_limit_refuses_a_table_python_refuses(store, sql, message):
    with store.engine.begin() as conn:
        conn.execute(text(sql))
    if message != "time_limits 表为空":  # Python falls back to its shipped CSV; the database has no CSV
        with pytest.raises(ValidationError):
            load_limits(store)
    with store.engine.connect() as conn, pytest.raises(sqlalchemy.exc.DBAPIError, match=message):
        conn.execute(text("SELECT * FROM gridhall_limit('event', NULL, 'general', 'handle')"))


SIGNATURES = [
    "gridhall_is_workday(date)", "gridhall_workdays(date, date)",
    "gridhall_basis_minutes(text, timestamp without time zone, timestamp without time zone)",
    "gridhall_deadline(text, integer, timestamp without time zone, integer, timestamp without time zone, integer)",
    "gridhall_limit(text, integer, text, text)",
]


def test_functions_are_fenced_and_granted(store):
    with store.engine.connect() as conn:
        for sig in SIGNATURES:
            oid = _scalar(conn, "SELECT CAST(:s AS regprocedure)::oid", s=sig)
            config, definer, volatility = conn.execute(text(
                "SELECT proconfig, prosecdef, provolatile FROM pg_proc WHERE oid = :o"), {"o": oid}).one()
            assert config == ["search_path=public, pg_temp"] and not definer and volatility == "s", sig
            assert not _scalar(conn, "SELECT EXISTS (SELECT 1 FROM pg_proc p, aclexplode(p.proacl) a "
                                     "WHERE p.oid = :o AND a.grantee = 0)", o=oid), sig
            for role in GROUP_ROLES:
                assert _scalar(conn, "SELECT has_function_privilege(:r, CAST(:o AS oid), 'EXECUTE')",
                               r=group_role(role), o=oid), (sig, role)
        for role in GROUP_ROLES:
            assert _scalar(conn, "SELECT has_table_privilege(:r, 'statutory_days', 'SELECT')", r=group_role(role))
            # only the administrator enters calendar years (migration 0016), by its columns (0026: a
            # table-level UPDATE would also let it LOCK the table every deadline reads)
            assert _scalar(conn, "SELECT has_any_column_privilege(:r, 'statutory_days', 'UPDATE')",
                           r=group_role(role)) is (role is Role.ADMIN)
            assert _scalar(conn, "SELECT has_table_privilege(:r, 'statutory_days', 'UPDATE')",
                           r=group_role(role)) is False


def test_migration_upgrades_and_downgrades(pg_cluster, pg_database):
    from alembic import command

    from app.store.commands import alembic_config
    from app.store.engine import open_store

    store = open_store(pg_cluster.url(pg_database), create=True)
    try:
        def present():
            with store.engine.connect() as conn:
                return (_scalar(conn, "SELECT count(*) FROM pg_proc WHERE proname IN ('gridhall_is_workday', "
                                      "'gridhall_workdays', 'gridhall_basis_minutes', 'gridhall_deadline', "
                                      "'gridhall_limit')"),
                        _scalar(conn, "SELECT to_regclass('statutory_days') IS NOT NULL"))

        for target, want in (("0005", (5, True)), ("0004", (0, False)), ("0005", (5, True))):
            with store.engine.begin() as conn:
                step = command.upgrade if target == "0005" else command.downgrade
                step(alembic_config(conn), target)
            assert present() == want, target
        with store.engine.connect() as conn:
            assert _scalar(conn, "SELECT count(*) FROM statutory_days") == len(statutory_rows())
            assert _scalar(conn, "SELECT gridhall_deadline('working', 120, '2024-02-09 17:00', 0, NULL, 0)") \
                == datetime(2024, 2, 18, 9)
    finally:
        store.dispose()
