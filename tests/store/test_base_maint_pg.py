"""Base data on PostGIS attacked by raw SQL as every login (migrations 0002, 0010, 0024).

Only the administrator's login changes components and unit grids; nobody deletes one (grids are
retired, components get status 移除); the history ``base_changes`` is read by everyone, appended
to by the administrator alone and only under the administrator's own name, and never changed.
What the administrator does through the maintenance service as its own login is written with
its history row.
"""

from __future__ import annotations

import pytest

from app.domain.clock import FixedClock
from app.services.base_maintenance import BaseMaintenance
from tests.store import hall as _hall
from tests.store.hall import EVERYONE, refused, run

pytestmark = pytest.mark.postgis

backend = _hall.backend
hall = _hall.hall

MANHOLE = "32059901002000001"
GRID = "320599001001006"
WRITES = [
    f"UPDATE components SET name = 'x' WHERE code = '{MANHOLE}'",
    f"UPDATE components SET status = 'removed' WHERE code = '{MANHOLE}'",
    f"UPDATE components SET geom = ST_SetSRID(ST_MakePoint(557050, 3464450), 4549) WHERE code = '{MANHOLE}'",
    "INSERT INTO components (code, category_id, name, status, geom) SELECT '32059901002000099', category_id, 'x', "
    f"'intact', geom FROM components WHERE code = '{MANHOLE}'",
    f"UPDATE unit_grids SET retired_on = '2026-03-01' WHERE code = '{GRID}'",
    f"UPDATE unit_grids SET geom = ST_Buffer(geom, 1)::geometry(Polygon, 4549) WHERE code = '{GRID}'",
    "INSERT INTO unit_grids (code, community_id, area_m2, geom) SELECT '320599001001099', community_id, 1, geom "
    f"FROM unit_grids WHERE code = '{GRID}'",
    "INSERT INTO base_changes (seq, entity, key, action, actor, at, prev_hash, hash) "
    "VALUES (1, 'grid', 'x', 'add', 'x', now(), repeat('0', 64), repeat('1', 64))",
]
DELETES = [f"DELETE FROM components WHERE code = '{MANHOLE}'", f"DELETE FROM unit_grids WHERE code = '{GRID}'",
           "DELETE FROM base_changes", "TRUNCATE base_changes"]


@pytest.mark.parametrize("who", [w for w in EVERYONE if w != "admin"])
def test_no_login_but_the_administrator_changes_base_data(hall, who):
    for sql in WRITES + DELETES:
        refused(hall, who, sql, match="permission denied")
    assert run(hall, who, "SELECT count(*) FROM base_changes")[0][0] == 0  # everyone reads the history
    assert run(hall, who, "SELECT count(*) FROM unit_grids WHERE retired_on IS NULL")[0][0] == 16


def test_the_administrator_maintains_through_its_own_login_and_deletes_nothing(hall):
    admin = hall.actor("admin")
    bm = BaseMaintenance(hall.store_as("admin"), FixedClock(_hall.T0))
    bm.set_status(admin, MANHOLE, "破损", on="2026-03-01", reason="巡查发现")
    change = bm.split_grid(admin, GRID, [(557140, 3464380), (557140, 3464520)], reason="重新划分")
    assert change.codes == ("320599001001009", "320599001001010")
    rows = run(hall, "analyst", "SELECT seq, entity, key, action, actor FROM base_changes ORDER BY seq")
    assert [r[3] for r in rows] == ["status", "split", "add", "add", "regrid"]
    assert {r[4] for r in rows} == {hall.names["admin"]}
    assert bm.verify() is None
    for sql in DELETES:
        refused(hall, "admin", sql, match="permission denied")
    refused(hall, "admin", "UPDATE base_changes SET reason = 'x'", match="permission denied")
    refused(hall, "admin", f"UPDATE unit_grids SET retired_on = NULL WHERE code = '{GRID}'", match="stays retired")
    refused(hall, "admin", "UPDATE unit_grids SET code = '320599001001098' WHERE code = '320599001001001'",
            match="never changes")
    # the history is written under the administrator's own name only
    refused(hall, "admin", "INSERT INTO base_changes (seq, entity, key, action, actor, at, prev_hash, hash) "
                           "SELECT max(seq) + 1, 'grid', 'x', 'add', 'somebody_else', now(), 'x', 'y' FROM base_changes",
            match="own login")
