"""BulkLoad's error paths: an abort always restores what it changed and keeps the first error."""

from __future__ import annotations

import sqlite3
import sys
import time

import pytest
from sqlalchemy import text

from app.jobs.feedback import Cancelled
from app.store.bulk import BulkLoad, BulkLoadError
from app.store.commands import init_db
from app.store.models import AdminArea, Category


@pytest.fixture
def db(tmp_path):
    db = init_db(tmp_path / "s.sqlite")
    yield db
    db.dispose()


def _count(db, sql: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar_one()


def _area_rows(first: int, n: int) -> list[tuple]:
    return [(i, f"A{i:05d}", f"区{i}", "street", None) for i in range(first, first + n)]


AREA_COLUMNS = ("id", "code", "name", "level", "parent_id")


@pytest.mark.parametrize("separate_process", [False, True], ids=["thread", "process"])
def test_a_rollback_error_keeps_the_cancel_and_restores_the_switch_interval(db, separate_process):
    before = sys.getswitchinterval()
    load = BulkLoad(db, separate_process=separate_process)
    real_rollback = load._impl.rollback

    def failing_rollback() -> None:
        real_rollback()  # the transaction does end; then the driver complains
        raise sqlite3.OperationalError("disk I/O error")

    load._impl.rollback = failing_rollback  # type: ignore[method-assign]
    with pytest.raises(Cancelled, match="stop"), load:
        assert sys.getswitchinterval() < before
        load.insert(AdminArea.__table__, AREA_COLUMNS, _area_rows(1, 10))
        raise Cancelled("stop")
    assert sys.getswitchinterval() == before
    assert load._thread is None
    assert _count(db, "SELECT count(*) FROM admin_areas") == 0


def test_a_rollback_error_without_an_earlier_error_is_raised(db):
    before = sys.getswitchinterval()
    load = BulkLoad(db)
    real_rollback = load._impl.rollback

    def failing_rollback() -> None:
        real_rollback()
        raise sqlite3.OperationalError("disk I/O error")

    load._impl.rollback = failing_rollback  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError), load:
        pass
    assert sys.getswitchinterval() == before


def test_an_abort_drops_the_batches_still_queued(db):
    load = BulkLoad(db)
    written: list[int] = []
    real_insert = load._impl.insert

    def held_insert(*args) -> None:
        # Hold the first batch until the abort has begun and dropped the queue (then only
        # its stop mark waits), so the queued batches are there when it starts.
        for _ in range(2000):
            if load._done and load._queue.qsize() <= 1:
                break
            time.sleep(0.005)
        written.append(args[2][0][0])
        real_insert(*args)

    load._impl.insert = held_insert  # type: ignore[method-assign]
    with pytest.raises(Cancelled), load:
        for k in range(5):  # one more than the queue holds: the writer has the first in hand
            load.insert(AdminArea.__table__, AREA_COLUMNS, _area_rows(1 + 10 * k, 10))
        raise Cancelled("stop")
    assert written == [1]  # the batch in hand, never the four queued ones
    assert _count(db, "SELECT count(*) FROM admin_areas") == 0


def test_update_checks_the_foreign_keys_it_sets(db):
    before = _count(db, "SELECT count(*) FROM categories WHERE default_department_id IS NOT NULL")
    with pytest.raises(BulkLoadError, match="default_department_id"), BulkLoad(db) as load:
        (first,) = load.query("SELECT min(id) FROM categories")[0]
        load.update(Category.__table__, ["default_department_id"], "id", [(999999, first)])
    assert _count(db, "SELECT count(*) FROM categories WHERE default_department_id IS NOT NULL") == before


def test_a_writer_process_that_cannot_open_is_cleaned_up(tmp_path):
    path = tmp_path / "gone.sqlite"
    db = init_db(path)
    db.dispose()
    path.unlink()  # the child's open_store finds no database
    load = BulkLoad(db, separate_process=True)
    before = sys.getswitchinterval()
    with pytest.raises(Exception, match="gone.sqlite|数据库"):
        load.__enter__()
    remote = load._impl
    assert remote.child is None and remote.send_end is None and remote.recv_end is None
    assert sys.getswitchinterval() == before
    assert not path.exists()
