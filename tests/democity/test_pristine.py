"""A cancelled or failed demo leaves an empty target exactly as it was, schema included.

init_db commits the schema and the reference data before the demo's one-transaction load;
on a target that was empty (no file, a zero-byte file, a PostgreSQL database without GridHall
tables, no database yet) data.democity.pristine undoes it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from app.jobs.feedback import Feedback
from app.store.engine import parse_url
from data.democity.generate import DemoCancelled, generate

# Cancel points, in order: before init_db (cancel() is asked first), after the areas, late.
STAGES = ("布设部件", "生成案卷历史", "提交事务")


class Boom(Exception):
    pass


def _stop_at(stage: str, *, fail: bool = False) -> Feedback:
    """A feedback that cancels (or raises Boom, a failure mid-way) when ``stage`` is reported."""
    feedback = Feedback()

    def seen(_fraction: float, message: str) -> None:
        if stage in message:
            if fail:
                raise Boom(stage)
            feedback.cancel()

    feedback.subscribe(seen)
    return feedback


def _files(directory) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in directory.iterdir()}


def test_cancel_before_anything_on_an_empty_file_keeps_it_zero_bytes(tmp_path):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(DemoCancelled, match="未写入任何数据"):
        generate(path, scale="tiny", cancel=lambda: True)
    assert _files(tmp_path) == {"empty.sqlite": 0}


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("fail", [False, True], ids=["cancel", "failure"])
def test_an_empty_file_goes_back_to_zero_bytes(tmp_path, stage, fail):
    path = tmp_path / "empty.sqlite"
    path.touch()
    with pytest.raises(Boom if fail else DemoCancelled):
        generate(path, scale="tiny", feedback=_stop_at(stage, fail=fail))
    assert _files(tmp_path) == {"empty.sqlite": 0}  # no -wal, -shm or -journal either
    assert generate(path, scale="tiny").cases > 0  # and it still takes the demo


@pytest.mark.parametrize("fail", [False, True], ids=["cancel", "failure"])
def test_an_absent_file_stays_absent(tmp_path, fail):
    with pytest.raises(DemoCancelled):
        generate(tmp_path / "new.sqlite", scale="tiny", cancel=lambda: True)
    assert _files(tmp_path) == {}
    with pytest.raises(Boom if fail else DemoCancelled):
        generate(tmp_path / "new.sqlite", scale="tiny", feedback=_stop_at("布设部件", fail=fail))
    assert _files(tmp_path) == {}


def _pg_catalogue(url: str) -> dict:
    engine = create_engine(parse_url(url)[0])
    try:
        with engine.connect() as conn:
            def rows(sql: str) -> list:
                return sorted(tuple(r) for r in conn.execute(text(sql)).all())

            return {
                "public_tables": conn.execute(text(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")).scalar_one(),
                "relations": rows("SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace"),
                "functions": rows("SELECT oid::regprocedure::text FROM pg_proc "
                                  "WHERE pronamespace = 'public'::regnamespace"),
                "types": rows("SELECT typname FROM pg_type WHERE typnamespace = 'public'::regnamespace"),
                "triggers": rows("SELECT tgname FROM pg_trigger"),
                "policies": rows("SELECT polname FROM pg_policy"),
                "extensions": rows("SELECT extname, extversion FROM pg_extension"),
                "roles": rows("SELECT rolname FROM pg_roles"),
                "schema_acl": rows("SELECT coalesce(nspacl::text, '') FROM pg_namespace WHERE nspname = 'public'"),
            }
    finally:
        engine.dispose()


@pytest.mark.postgis
def test_an_empty_postgis_database_is_left_as_it_was(pg_url):
    before = _pg_catalogue(pg_url)
    with pytest.raises(DemoCancelled):
        generate(pg_url, scale="tiny", cancel=lambda: True)
    assert _pg_catalogue(pg_url) == before
    for stage in STAGES[:2]:
        for fail in (False, True):
            with pytest.raises(Boom if fail else DemoCancelled):
                generate(pg_url, scale="tiny", feedback=_stop_at(stage, fail=fail))
            assert _pg_catalogue(pg_url) == before, (stage, fail)
    assert before["public_tables"] == 1  # PostGIS's spatial_ref_sys only
    assert generate(pg_url, scale="tiny").cases > 0  # and it still takes the demo


@pytest.mark.postgis
def test_a_postgis_database_made_for_the_demo_is_dropped_again(pg_cluster):
    name = "demo_absent_db"
    url = pg_cluster.url(name)
    try:
        with pytest.raises(DemoCancelled):
            generate(url, scale="tiny", feedback=_stop_at("布设部件"))
        with pg_cluster.admin() as conn:
            cur = conn.cursor()
            cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", (name,))
            assert cur.fetchone()[0] == 0
    finally:
        pg_cluster.drop_database(name)


def test_with_a_writer_process_an_empty_target_is_left_as_it_was(store_url, monkeypatch):
    import dataclasses

    from data.democity import params

    monkeypatch.setitem(params.SCALES, "tiny", dataclasses.replace(params.SCALES["tiny"], writer_process=True))
    if store_url.startswith("sqlite"):
        path = parse_url(store_url)[1]
        assert path is not None
        path.touch()
        with pytest.raises(Boom):
            generate(store_url, scale="tiny", feedback=_stop_at("生成案卷历史", fail=True))
        assert _files(path.parent) == {path.name: 0}
    else:
        before = _pg_catalogue(store_url)
        with pytest.raises(DemoCancelled):
            generate(store_url, scale="tiny", feedback=_stop_at("生成案卷历史"))
        assert _pg_catalogue(store_url) == before
