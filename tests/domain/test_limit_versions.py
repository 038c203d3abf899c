"""Time limits with periods of validity (app/domain/limit_versions.py): the table in force at an instant."""

from __future__ import annotations

from datetime import datetime

from app.domain.definitions import Basis, Kind, Level, Stage
from app.domain.limit_versions import LimitVersion, VersionedLimitTable, limits_at
from app.domain.limits import LimitKey, LimitRule, LimitTable

KEY = LimitKey(Kind.EVENT, "06010", Level.GENERAL, Stage.HANDLE)
JAN, FEB, MAR = datetime(2027, 1, 1), datetime(2027, 2, 1), datetime(2027, 3, 1)


def _v(minutes: int, start: datetime | None, end: datetime | None) -> LimitVersion:
    return LimitVersion(KEY, LimitRule(minutes, Basis.WORKING), start, end)


def test_the_rule_in_force_at_each_instant():
    table = VersionedLimitTable([_v(240, None, FEB), _v(480, FEB, MAR), _v(960, MAR, None)], now=FEB)

    def minutes(at):
        return limits_at(table, at).lookup("event", "06010", "general", "handle").minutes

    assert [minutes(JAN), minutes(FEB), minutes(datetime(2027, 2, 28, 23, 59)), minutes(MAR)] == [240, 480, 480, 960]
    assert table.lookup("event", "06010", "general", "handle").minutes == 480  # as built for FEB
    assert VersionedLimitTable(table.versions).lookup("event", "06010", "general", "handle").minutes == 960  # latest
    assert limits_at(table, None) is table
    # an ended scope falls back to the broader rule (here: the built-in default of one working day)
    ended = VersionedLimitTable([_v(240, None, FEB)])
    assert limits_at(ended, MAR).lookup("event", "06010", "general", "handle").minutes == 480


def test_a_plain_table_has_no_periods():
    plain = LimitTable({KEY: LimitRule(240, Basis.WORKING)})
    assert limits_at(plain, MAR) is plain


def test_overlapping_periods():
    assert _v(1, None, FEB).overlaps(_v(2, JAN, None))
    assert not _v(1, None, FEB).overlaps(_v(2, FEB, None))  # valid_to is exclusive
    assert _v(1, None, None).overlaps(_v(2, MAR, None))
    assert not _v(1, JAN, FEB).overlaps(_v(2, MAR, None))
