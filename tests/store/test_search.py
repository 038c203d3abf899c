"""The search index (migration 0011, app/store/search.py) on SpatiaLite and PostGIS."""

from __future__ import annotations

import psycopg2
import pytest
from alembic import command
from services.seed import seed_case
from services.world import T0, build_world
from sqlalchemy import text

from app.domain.definitions import CaseState
from app.services.search import CaseSearch
from app.store import search
from app.store.commands import alembic_config
from app.store.search import SearchCriteria, doc_terms, fill_missing, search_ids

try:  # the PostGIS hall of logins, for TestLogins (helper D moved it to tests/store/hall.py)
    from tests.store.hall import hall  # noqa: F401
except ImportError:
    from tests.store.test_security import hall  # noqa: F401

MIXED = "人民路12号附近井盖缺失，ABC-007 车牌苏E·12345；占道经营 X"


def _index(store) -> dict[int, tuple[str, set[str]]]:
    with store.engine.connect() as conn:
        if store.backend == "spatialite":
            rows = conn.execute(text("SELECT rowid, doc, terms FROM case_search")).all()
            return {r[0]: (r[1], set(r[2].split())) for r in rows}
        rows = conn.execute(text("SELECT case_id, doc, tsvector_to_array(terms) FROM case_search")).all()
        return {r[0]: (r[1], set(r[2])) for r in rows}


def _set(store, case_id: int, **values) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in values)
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE cases SET {sets} WHERE id = :id"), {**values, "id": case_id})


@pytest.fixture
def world(store):
    return build_world(store)


def test_both_backends_index_the_same_terms(store, world):
    cid, _ = seed_case(store, world, CaseState.FILED, at=T0)
    _set(store, cid, description=MIXED, address="平江路 8 号", reporter_phone="13800138000")
    doc, terms = _index(store)[cid]
    assert doc.startswith("t") and "平江路 8 号" in doc and "abc-007" in doc and "320599001001006" in doc
    assert terms == doc_terms(doc)
    assert {"井盖", "占道", "人民", "民路", "路1", "12", "号附"} - terms == {"路1"}  # bigrams stay in one script
    assert {"13800138000", "38000", "abc", "007", "x", "近井", "营"} <= terms


def test_the_index_follows_updates_and_a_bulk_gap_is_filled(store, world):
    cid, _ = seed_case(store, world, CaseState.HANDLING, at=T0)
    find = CaseSearch(store).find
    assert {r.id for r in find("种子").rows} == {cid}
    _set(store, cid, description="路灯倒伏")
    assert find("种子").total == 0 and [r.id for r in find("倒伏").rows] == [cid]
    _set(store, cid, state="closed")  # a column outside the document: the index row stays
    assert [r.id for r in find("倒伏 已结案").rows] == [cid]
    with store.engine.begin() as conn:  # what a bulk load with its triggers set aside leaves
        conn.execute(text("DELETE FROM case_search"))
    assert find("倒伏").total == 0
    with store.engine.begin() as conn:
        assert fill_missing(conn) == 1
        assert fill_missing(conn) == 0
    assert [r.id for r in find("倒伏").rows] == [cid]


def test_tokens_never_carry_query_syntax():
    for hostile in ('"', 'a" OR "b', "NEAR(x y)", "terms:x", "x*", "^x", "'x':*", "x & !y", "{a b}:c"):
        for token, _prefix in search.query_tokens(search.normalize(hostile)):
            assert token.isalnum() and token == token.lower(), (hostile, token)


def test_criteria_are_parameters(store, world):
    seed_case(store, world, CaseState.FILED, at=T0)
    with store.session() as s:
        for value in ("' OR 1=1 --", "%", "x'); DROP TABLE cases; --"):
            got = search_ids(s, SearchCriteria(terms=((None, value),), states=(value,), grid_prefixes=(value,),
                                               exact=value))
            assert got == ([], 0)
        assert search_ids(s, SearchCriteria())[1] == 1


def test_downgrade_drops_the_index_and_upgrade_rebuilds_it(store, world):
    cid, _ = seed_case(store, world, CaseState.CLOSED, at=T0)
    with store.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0010")
    with store.engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT name FROM sqlite_master" if store.backend == "spatialite" else
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
    assert not {"case_search", "search_positions"} & names
    with store.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    assert set(_index(store)) == {cid}


# --- PostGIS: logins, row-level security, the owner's trigger ------------------------------------

@pytest.mark.postgis
class TestLogins:
    @pytest.fixture
    def backend(self):
        return "postgis"

    def test_a_department_finds_only_its_own_cases(self, hall):
        jd, hw = hall.cases["handling_a"], hall.cases["handling_b"]
        as_a = CaseSearch(hall.store_as("dept_a")).find("种子")
        assert jd in {r.id for r in as_a.rows} and hw not in {r.id for r in as_a.rows}
        assert as_a.total == len(as_a.rows)
        staff = CaseSearch(hall.store_as("dispatcher")).find("种子")
        assert {jd, hw} <= {r.id for r in staff.rows}
        conn = hall.connect("dept_a")  # the index table itself, read directly: the same rows
        try:
            cur = conn.cursor()
            cur.execute("SELECT case_id FROM case_search")
            seen = {r[0] for r in cur.fetchall()}
            assert jd in seen and hw not in seen
        finally:
            conn.close()

    @pytest.mark.parametrize("who", ["dept_a", "dispatcher", "analyst", "admin"])
    def test_nobody_writes_the_index_but_the_trigger(self, hall, who):
        conn = hall.connect(who)
        try:
            for sql in ("DELETE FROM case_search", "UPDATE case_search SET doc = 'x'",
                        "INSERT INTO case_search VALUES (1, 'x', ''::tsvector)", "SELECT gridhall_search_fill()"):
                with pytest.raises(psycopg2.Error) as err, conn.cursor() as cur:
                    cur.execute(sql)
                conn.rollback()
                assert err.value.pgcode == "42501", (who, sql)
        finally:
            conn.close()

    def test_a_login_without_index_rights_still_indexes_its_report(self, hall):
        from services.world import draft

        from app.domain.calendar import WorkCalendar
        from app.domain.clock import SystemClock
        from app.domain.limits import LimitTable
        from app.domain.taxonomy import Taxonomy
        from app.services.cases import CaseService

        svc = CaseService(hall.store_as("acceptor"), clock=SystemClock(), calendar=WorkCalendar(),
                          limits=LimitTable.load(), taxonomy=Taxonomy.load())
        r = svc.report(hall.actor("acceptor"), draft(description="窨井冒溢污水"))
        r = svc.send_verify(hall.actor("acceptor"), r.case.id, r.version)  # the database derives the case
        staff = CaseSearch(hall.store_as("dispatcher"))
        assert [x.id for x in staff.find("窨井 核实中").rows] == [r.case.id]
        assert _index(hall.store)[r.case.id][1] == doc_terms(_index(hall.store)[r.case.id][0])

    def test_the_trigger_function_refuses_a_foreign_table(self, hall):
        with hall.cluster.admin(hall.db) as conn:
            conn.autocommit = False
            cur = conn.cursor()
            cur.execute("CREATE TEMP TABLE bait (LIKE cases)")
            cur.execute("CREATE TRIGGER bait_ins AFTER INSERT ON bait FOR EACH ROW EXECUTE FUNCTION gridhall_cases_search()")
            with pytest.raises(psycopg2.Error) as err:
                cur.execute("INSERT INTO bait SELECT * FROM cases LIMIT 1")
            conn.rollback()
        assert err.value.pgcode == "42501" and "gridhall_cases_search" in str(err.value)

    def test_the_functions_follow_the_schema_rules(self, hall):
        from tests.store.test_privileges import sweep_problems

        with hall.cluster.admin(hall.db) as conn, conn.cursor() as cur:
            assert sweep_problems(cur) == []
            for fn in ("gridhall_cases_search()", "gridhall_search_fill()"):
                cur.execute("SELECT proconfig, prosecdef FROM pg_proc WHERE oid = %s::regprocedure", (fn,))
                config, definer = cur.fetchone()
                assert definer == (fn == "gridhall_cases_search()")


@pytest.mark.parametrize("probe", [2, 5000])
def test_broad_and_narrow_texts_give_the_same_page(store, world, monkeypatch, probe):
    """PostgreSQL answers a text with fewer index rows than PROBE from them, a broader one by a walk."""
    made = [seed_case(store, world, CaseState.CLOSED, at=T0)[0] for _ in range(6)]
    _set(store, made[2], description="井盖松动")
    monkeypatch.setattr(search, "PROBE", probe)
    with store.session() as s:
        assert search_ids(s, SearchCriteria(terms=((None, "种子"),)), limit=3) == (made[:1:-1][:3], 5)
        assert search_ids(s, SearchCriteria(terms=((None, "种子"),)), limit=3, count_limit=4) == (
            made[:1:-1][:3], 4)
        assert search_ids(s, SearchCriteria(terms=((None, "种子"),)), limit=3, offset=3)[0] == [made[1], made[0]]
        assert search_ids(s, SearchCriteria(terms=((None, "种子案"),), states=("closed",)), limit=2,
                          count_limit=2) == ([made[5], made[4]], 2)
        assert search_ids(s, SearchCriteria(terms=((None, "井盖"),)), limit=3) == ([made[2]], 1)
