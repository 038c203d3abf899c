"""The configuration tables on PostGIS, attacked by raw SQL as every login (migrations 0010, 0018).

Only the administrator's login writes departments, categories, routing rules, time limits and
whole settings (column by column where 0010 granted so, the columns of 0018 included); nobody
deletes a row of them (rows are retired or ended). What the administrator saves through the
configuration service as its own login is versioned: ``gridhall_limit(…, at)`` answers with the
rule in force at ``at``, as the Python lookup does.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain.clock import FixedClock
from app.domain.limit_versions import limits_at
from app.services.config import ConfigService
from app.services.limits import load_limits
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

WRITES = [
    "UPDATE departments SET name = 'x' WHERE code = 'HW'",
    "UPDATE departments SET active = false WHERE code = 'HW'",
    "INSERT INTO departments (code, name, kind, active) VALUES ('ZZ', 'x', 'bureau', true)",
    "UPDATE categories SET enabled = false WHERE code = '06010'",
    "UPDATE categories SET closing_standard = 'x' WHERE code = '06010'",
    "UPDATE routing_rules SET active = false",
    "INSERT INTO routing_rules (major_code, kind, department_id, priority, active) "
    "SELECT '07', 'event', id, 100, true FROM departments WHERE code = 'HW'",
    "UPDATE time_limits SET valid_to = now() WHERE id = (SELECT min(id) FROM time_limits)",
    "UPDATE time_limits SET minutes = 1",
    "INSERT INTO time_limits (level, stage, minutes, basis, valid_from) VALUES ('general', 'handle', 1, 'natural', now())",
    "INSERT INTO config_values VALUES ('alerts', '{}', now(), 'x')",
]
DELETES = ["DELETE FROM departments WHERE code = 'OLD'", "DELETE FROM routing_rules",
           "DELETE FROM time_limits WHERE id = (SELECT max(id) FROM time_limits)", "DELETE FROM config_values",
           "DELETE FROM categories WHERE code = '06010'"]


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "admin"])
def test_no_login_but_the_administrator_writes_the_configuration(hall, who):
    for sql in WRITES + DELETES:
        refused(hall, who, sql, match="permission denied")
    for table in ("departments", "categories", "routing_rules", "time_limits", "config_values"):
        assert run(hall, who, f"SELECT count(*) FROM {table}")[0][0] >= 0  # everyone reads


def test_the_administrator_writes_columns_but_deletes_nothing(hall):
    assert run(hall, "admin", "UPDATE categories SET enabled = false, closing_standard = '清理干净' "
                              "WHERE kind = 'event' AND code = '06010'") == 1
    assert run(hall, "admin", "UPDATE routing_rules SET active = false WHERE major_code = '09'") == 1
    assert run(hall, "admin", "INSERT INTO config_values VALUES ('alerts', '{}', now(), 'admin')") == 1
    assert run(hall, "admin", "UPDATE time_limits SET valid_to = '2030-01-01' "
                              "WHERE id = (SELECT min(id) FROM time_limits)") == 1
    for sql in DELETES:
        refused(hall, "admin", sql, match="permission denied")


def test_a_limit_saved_as_the_administrator_is_versioned_in_sql_too(hall):
    now = datetime.now().replace(microsecond=0)  # (the database's clock is China time: at least as late)
    effective = now + timedelta(days=2)
    config = ConfigService(hall.store_as("admin"), FixedClock(now))
    result = config.set_limit(hall.actor("admin"), kind="event", code="06010", level="general", stage="handle",
                              minutes=960, basis="working", effective_at=effective, reason="两天后放宽")
    assert result.applied
    category = run(hall, "dispatcher", "SELECT id FROM categories WHERE kind = 'event' AND code = '06010'")[0][0]

    def sql_limit(at):
        return tuple(run(hall, "dispatcher", "SELECT * FROM gridhall_limit('event', %s, 'general', 'handle', %s)",
                         (category, at))[0])

    assert sql_limit(now) == (240, "working")
    assert sql_limit(effective + timedelta(minutes=1)) == (960, "working")
    # the four-argument lookup (0005's signature) asks at the database's clock: still the old rule
    assert tuple(run(hall, "dispatcher", "SELECT * FROM gridhall_limit('event', %s, 'general', 'handle')",
                     (category,))[0]) == (240, "working")
    table = load_limits(hall.store_as("dispatcher"))
    for at in (now, effective + timedelta(minutes=1)):
        rule = limits_at(table, at).lookup("event", "06010", "general", "handle")
        assert (rule.minutes, rule.basis.value) == sql_limit(at)
    # the history says who, when, before, after and why, as the administrator's login wrote it
    last = run(hall, "analyst", "SELECT entity, key, actor, reason FROM config_changes ORDER BY seq DESC LIMIT 1")[0]
    assert last == ("time_limit", "event:06010:general:handle", hall.actor("admin").username, "两天后放宽")
