"""Only the administrator's login writes the configuration (issue 12, item 4), attacked by raw SQL
as every other login, and checked in the catalogue for every GridHall group role the database has
(roles added by later revisions — the wall's, Open311's — included); the configuration history is
append-only even for the administrator (migrations 0010, 0013, 0016, 0018, 0025)."""

from __future__ import annotations

import pytest

from tests.store import hall as _hall
from tests.store.hall import EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

#: (table, a column to UPDATE) of every configuration table.
CONFIG_TABLES = [
    ("departments", "name"), ("categories", "name"), ("routing_rules", "priority"), ("time_limits", "minutes"),
    ("config_values", "value"), ("calendar_years", "source"), ("statutory_days", "workday"),
    ("calendar_days", "workday"), ("source_rules", "verify_before_filing"), ("config_changes", "reason"),
    ("department_areas", "source"), ("routing_areas", "label"),
]
#: Group roles that may write configuration (the owner and the account manager are not logins' groups).
WRITERS = {"gridhall_admin", "gridhall_owner", "gridhall_usermgr"}


def _statements(table: str, column: str) -> list[str]:
    return [f"INSERT INTO {table} DEFAULT VALUES", f"UPDATE {table} SET {column} = {column}",
            f"DELETE FROM {table}", f"TRUNCATE {table}"]


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "admin"])
def test_no_other_login_writes_any_configuration_table(hall, who):
    for table, column in CONFIG_TABLES:
        for sql in _statements(table, column):
            refused(hall, who, sql, match="permission denied")
        assert run(hall, who, f"SELECT count(*) FROM {table}")[0][0] >= 0 or table == "config_changes"


def test_no_group_role_but_the_administrators_holds_a_write_privilege(hall):
    groups = [r[0] for r in run(hall, "admin", "SELECT rolname FROM pg_roles WHERE left(rolname, 9) = 'gridhall_' "
                                               "AND NOT rolcanlogin ORDER BY rolname")]
    assert "gridhall_dispatcher" in groups and "gridhall_analyst" in groups
    for group in groups:
        if group in WRITERS:
            continue
        for table, _column in CONFIG_TABLES:
            held = run(hall, "admin", "SELECT has_table_privilege(%s, %s, 'INSERT') OR "
                                      "has_table_privilege(%s, %s, 'UPDATE') OR has_table_privilege(%s, %s, 'DELETE') "
                                      "OR has_table_privilege(%s, %s, 'TRUNCATE')", (group, table) * 4)[0][0]
            assert not held, f"{group} may write {table}"
            columns = run(hall, "admin", "SELECT has_any_column_privilege(%s, %s, 'INSERT') OR "
                                         "has_any_column_privilege(%s, %s, 'UPDATE')", (group, table) * 2)[0][0]
            assert not columns, f"{group} may write columns of {table}"


def test_the_administrator_writes_the_new_tables_and_the_history_stays_append_only(hall):
    dept = run(hall, "admin", "SELECT id FROM departments ORDER BY id LIMIT 1")[0][0]
    square = "SRID=4549;MULTIPOLYGON(((557000 3464300,557100 3464300,557100 3464400,557000 3464300)))"
    assert run(hall, "admin", "INSERT INTO department_areas (department_id, source, geom) VALUES (%s, 'x', %s)",
               (dept, square)) == 1
    assert run(hall, "admin", "UPDATE department_areas SET source = 'y'") == 1
    assert run(hall, "admin", "UPDATE calendar_years SET source = source") >= 1
    for sql in ("UPDATE config_changes SET reason = 'rewritten'", "DELETE FROM config_changes",
                "TRUNCATE config_changes"):
        refused(hall, "admin", sql)
    # the history can only grow by its next link: a forged link is refused too
    refused(hall, "admin", "INSERT INTO config_changes (seq, entity, key, actor, at, prev_hash, hash) "
                           "VALUES (1, 'x', 'x', 'x', now(), 'x', 'x')")
