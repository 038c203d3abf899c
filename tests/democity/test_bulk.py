"""The bulk path (app/store/bulk.py) the demo writes through, on both backends.

Same seed on SpatiaLite and PostGIS gives the same chain; the generator's fast hashing equals
app.domain.audit.event_hash; a cancel or a rule the skipped triggers would have enforced
leaves the store exactly as it was; the owner without superuser loads through the documented
trigger path too.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

import pytest
from sqlalchemy import text

from app.domain.audit import GENESIS_HASH, event_hash
from app.jobs.feedback import Cancelled, Feedback
from app.store.bulk import BulkLoad, BulkLoadError
from app.store.commands import init_db, verify_audit
from app.store.engine import open_store
from app.store.models import AdminArea, Case, CaseEvent, Category
from data.democity.generate import DemoCancelled, generate
from data.democity.stream import EVENT_COLUMNS, chain


def test_fast_chain_hashes_like_the_audit_module():
    at = datetime(2026, 11, 20, 10, 30, 5)
    events = [
        (1, 1, ("report", None, "reported", "zhang", "supervisor", None, at, None, None)),
        (1, 2, ("dispatch", "filed", "dispatched", "li", "dispatcher", 7, at, None, {"department": "JJ"})),
        (2, 1, ("reject", None, "not_filed", "王五", "shift_leader", None, at,
                'say "no"\\ \n\t\x01 不予立案', None)),
        (2, 2, ("approve", "handling", "handling", "a", "dispatcher", 3, at, None,
                {"extension_minutes": 480, "confirmed": True, "note": "延期"})),
    ]
    rows, head = chain(events, (10, "f" * 64))
    prev = "f" * 64
    for row in rows:
        fields = dict(zip(EVENT_COLUMNS, row, strict=True))
        assert fields["prev_hash"] == prev
        assert fields["hash"] == event_hash(fields, prev)
        prev = fields["hash"]
    assert head == (14, prev) and rows[0][0] == rows[0][1] == 11


def _snapshot_sqlite(path) -> dict:
    conn = sqlite3.connect(path)
    try:
        return {
            "schema": conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall(),
            "counts": {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                       for t in ("admin_areas", "users", "components", "cases", "case_events", "idx_cases_geom")},
            "head": conn.execute("SELECT chain_no, hash FROM audit_head").fetchall(),
            "categories": conn.execute("SELECT id, default_department_id FROM categories").fetchall(),
            "journal": conn.execute("PRAGMA journal_mode").fetchone(),
        }
    finally:
        conn.close()


def _snapshot_pg(url) -> dict:
    store = open_store(url)
    try:
        with store.engine.connect() as conn:
            def rows(sql):
                return conn.execute(text(sql)).all()
            return {
                "triggers": rows("SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger ORDER BY 1, 2"),
                "indexes": rows("SELECT indexrelid::regclass::text FROM pg_index ORDER BY 1"),
                "counts": {t: rows(f"SELECT count(*) FROM {t}")[0][0]
                           for t in ("admin_areas", "users", "components", "cases", "case_events")},
                "head": rows("SELECT chain_no, hash FROM audit_head"),
                "categories": rows("SELECT id, default_department_id FROM categories ORDER BY id"),
                "sequences": rows("SELECT sequencename, last_value FROM pg_sequences ORDER BY 1"),
            }
    finally:
        store.dispose()


def _cancel_during(stage: str) -> Feedback:
    feedback = Feedback()
    feedback.subscribe(lambda _f, message: stage in message and feedback.cancel())
    return feedback


@pytest.mark.parametrize("stage", ["布设部件", "生成案卷历史", "提交事务"])
def test_cancel_leaves_an_existing_spatialite_store_as_it_was(tmp_path, stage):
    path = tmp_path / "empty.sqlite"
    init_db(path).dispose()
    before = _snapshot_sqlite(path)
    with pytest.raises(DemoCancelled) as caught:
        generate(path, scale="tiny", feedback=_cancel_during(stage))
    assert isinstance(caught.value, Cancelled)  # what a job runner catches
    assert _snapshot_sqlite(path) == before  # triggers set aside for the load are back, nothing written
    assert not (tmp_path / "empty.sqlite-journal").exists()


def _writer_process(monkeypatch) -> None:
    """Tiny demos written from a separate process, as the city is."""
    import dataclasses

    from data.democity import params

    monkeypatch.setitem(params.SCALES, "tiny", dataclasses.replace(params.SCALES["tiny"], writer_process=True))


def test_a_writer_process_writes_the_same_demo(store_url, tmp_path, monkeypatch):
    reference = generate(tmp_path / "ref.sqlite", seed=4, scale="tiny")
    _writer_process(monkeypatch)
    summary = generate(store_url, seed=4, scale="tiny")
    assert (summary.audit_hash, summary.cases) == (reference.audit_hash, reference.cases)
    store = open_store(store_url)
    assert verify_audit(store) is None
    # the search index's triggers were set aside during the load: every case is indexed after it
    with store.engine.connect() as conn:
        indexed = conn.execute(text("SELECT count(*) FROM case_search")).scalar_one()
        assert indexed == summary.cases > 0, (indexed, summary.cases)

    store.dispose()


def test_cancel_with_a_writer_process_leaves_the_store_as_it_was(store_url, monkeypatch):
    init_db(store_url).dispose()
    snapshot = _snapshot_sqlite if store_url.startswith("sqlite") else _snapshot_pg
    target = store_url.removeprefix("sqlite:///") if store_url.startswith("sqlite") else store_url
    before = snapshot(target)
    _writer_process(monkeypatch)
    with pytest.raises(DemoCancelled):
        generate(store_url, scale="tiny", feedback=_cancel_during("生成案卷历史"))
    assert snapshot(target) == before


def test_cancel_removes_a_file_made_for_the_demo(tmp_path):
    path = tmp_path / "fresh.sqlite"
    with pytest.raises(DemoCancelled):
        generate(path, scale="tiny", feedback=_cancel_during("生成案卷历史"))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgis
def test_cancel_leaves_a_postgis_database_as_it_was(pg_url):
    init_db(pg_url).dispose()
    before = _snapshot_pg(pg_url)
    for stage in ("生成案卷历史", "提交事务"):
        with pytest.raises(DemoCancelled):
            generate(pg_url, scale="tiny", feedback=_cancel_during(stage))
        assert _snapshot_pg(pg_url) == before
    summary = generate(pg_url, scale="tiny")  # and the database still takes the demo afterwards
    assert summary.cases > 0


def test_small_batches_give_the_same_demo_and_steady_progress(store_url, tmp_path, monkeypatch):
    reference = generate(tmp_path / "ref.sqlite", seed=2, scale="tiny")
    # Many batches: checks and R*Tree upkeep across batch boundaries, progress from every stage.
    monkeypatch.setattr("data.democity.static.COMPONENT_BATCH", 100)
    monkeypatch.setattr("data.democity.stream.CASE_BATCH", 7)
    monkeypatch.setattr("data.democity.stream.EVENT_BATCH", 50)
    heard = []
    summary = generate(store_url, seed=2, scale="tiny", feedback=Feedback(lambda f, m: heard.append(f)))
    assert (summary.audit_hash, summary.events, summary.components) == \
        (reference.audit_hash, reference.events, reference.components)
    assert heard == sorted(heard) and heard[-1] == 1.0
    store = open_store(store_url)
    assert verify_audit(store) is None
    if store.backend == "spatialite":  # the R*Trees filled per batch hold every point, boxed right
        with store.engine.connect() as conn:
            for table in ("components", "cases"):
                boxed = conn.execute(text(
                    f"SELECT count(*) FROM {table} t JOIN idx_{table}_geom r ON r.pkid = t.id "
                    "WHERE ST_X(t.geom) BETWEEN r.xmin - 0.01 AND r.xmax + 0.01 "
                    "AND ST_Y(t.geom) BETWEEN r.ymin - 0.01 AND r.ymax + 0.01")).scalar()
                total = conn.execute(text(f"SELECT count(*) FROM idx_{table}_geom")).scalar()
                assert boxed == total == conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()
    store.dispose()


@pytest.mark.postgis
def test_same_seed_same_chain_on_both_backends(pg_url, tmp_path):
    on_pg = generate(pg_url, seed=5, scale="tiny")
    on_sqlite = generate(tmp_path / "s.sqlite", seed=5, scale="tiny")
    assert on_pg.audit_hash == on_sqlite.audit_hash and on_pg.events == on_sqlite.events
    numbers = []
    for url in (pg_url, tmp_path / "s.sqlite"):
        store = open_store(url)
        with store.engine.connect() as conn:
            numbers.append(conn.execute(text(
                "SELECT number, state, version, ST_X(geom), ST_Y(geom) FROM cases ORDER BY id")).all())
        assert verify_audit(store) is None
        store.dispose()
    assert numbers[0] == numbers[1]


@pytest.mark.postgis
def test_database_owner_without_superuser_loads_through_disabled_user_triggers(pg_cluster):
    # docs/deploy.md: a superuser initialises the hall once; the DBA's own login (a member of the
    # NOLOGIN owner gridhall_owner, no CREATEROLE) then loads the demo
    name = pg_cluster.create_database()
    init_db(pg_cluster.url(name)).dispose()
    with pg_cluster.admin() as conn:
        cur = conn.cursor()
        cur.execute("DROP ROLE IF EXISTS demo_owner")
        cur.execute("CREATE ROLE demo_owner LOGIN PASSWORD 'owner-pw' IN ROLE gridhall_owner")
        cur.execute(f"ALTER DATABASE {name} OWNER TO gridhall_owner")
    url = f"postgresql://demo_owner:owner-pw@127.0.0.1:{pg_cluster.port}/{name}"
    try:
        summary = generate(url, seed=3, scale="tiny")
        store = open_store(url)
        with store.engine.connect() as conn:
            disabled = conn.execute(text("SELECT count(*) FROM pg_trigger WHERE tgenabled = 'D'")).scalar()
        assert verify_audit(store) is None and disabled == 0
        store.dispose()
        assert summary.events > 0
    finally:
        pg_cluster.drop_database(name)


def _forged_load(url, events, separate_process=False):
    """A bulk load of one area-less case and ``events`` (tuples after id) into an initialised store."""
    store = open_store(url)
    try:
        with BulkLoad(store, separate_process=separate_process) as load:
            load.prepare()
            load.insert(AdminArea.__table__, ["id", "code", "name", "level"], [(1, "320508", "区", "district")])
            cat = load.select(Category.__table__, ["id"])[0][0]
            at = datetime(2026, 1, 1, 9)
            load.insert(Case.__table__, ["id", "number", "kind", "category_id", "level", "state", "source",
                                         "description", "reported_at", "paused_minutes", "extension_minutes",
                                         "urge_count", "rework_count", "version"],
                        [(1, "S1", "event", cat, "general", events[-1][6], "hotline", "x", at, 0, 0, 0, 0,
                          len(events))])
            load.insert(CaseEvent.__table__, EVENT_COLUMNS, events)
            load.finish((len(events), events[-1][-1]))
    finally:
        store.dispose()


def _event_rows(n: int, *, break_at: int | None = None):
    at = datetime(2026, 1, 1, 9)
    raw = [(1, k, ("report" if k == 1 else "urge", None if k == 1 else "reported", "reported", "u", "acceptor",
                   None, at, None, None)) for k in range(1, n + 1)]
    rows, _head = chain(raw, (0, GENESIS_HASH))
    if break_at is not None:  # a forged link: its prev_hash no longer names the link before it
        r = list(rows[break_at])
        r[13] = "e" * 64
        rows[break_at] = tuple(r)
    return rows


def test_rows_the_triggers_accept_load_and_verify(store_url):
    init_db(store_url).dispose()
    _forged_load(store_url, _event_rows(3))  # the honest version loads
    store = open_store(store_url)
    assert verify_audit(store) is None
    store.dispose()


@pytest.mark.parametrize("separate_process", [False, True], ids=["thread", "process"])
def test_a_broken_link_is_refused_and_nothing_is_written(store_url, separate_process):
    init_db(store_url).dispose()
    with pytest.raises(BulkLoadError, match="prev_hash"):
        _forged_load(store_url, _event_rows(3, break_at=1), separate_process)
    store = open_store(store_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM admin_areas")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM cases")).scalar() == 0
    store.dispose()
