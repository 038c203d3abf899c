"""Search over every case: `python -m bench.search [--db district.sqlite] [--city FILE] [--million N] [--postgis]`.

Times ``CaseSearch.find`` (app/services/search.py: parse, index query, total count, the first
page of 50 ``CaseSummary`` rows) for what a dispatcher types, with queries drawn from the
store itself so they hit: a serial (``0294``), a whole number, a reporter phone, a grid (street)
prefix, Chinese words of 1, 2 and 3+ characters, two words, a state with a word, a source with
a month, a month alone. Each query runs ``rounds`` times after one warm-up; the figure is the
slowest query's median (every typical query must stay under the goal, 200 ms):

  search.archive_ms                 the demo district (``--db``; upgraded in a copy if older)
  search.archive_ms.city            the city demo (``--city``, when that file exists)
  search.archive_ms.million         N synthetic cases (default 1,000,000) in a throwaway SpatiaLite
  search.archive_ms.million_postgis the same rows in a throwaway PostGIS cluster (``--postgis``)
  search.broad_ms.<scale>           a word every case holds (the year of the numbers): the count
                                    and order walk every case, the worst case, reported apart
  search.cases.<scale>              how many cases were searched
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.figures import record  # noqa: E402

GOAL_MS = 200.0
ROADS = ["人民路", "干将路", "十全街", "凤凰街", "临顿路", "平江路", "观前街", "东环路", "西环路", "南门路",
         "北环街", "竹辉路", "相门街", "仓街", "白塔路", "养育巷", "景德路", "道前街", "三香路", "金门路"]
PROBLEMS = ["井盖松动", "井盖缺失", "污水井盖破损", "路灯不亮", "暴露垃圾", "占道经营", "乱堆物料", "非机动车乱停放",
            "施工围挡倒塌", "道路坑槽", "绿地毁损", "小广告", "违章搭建", "渣土车遗撒", "积水", "噪声扰民",
            "垃圾箱满溢", "树木倒伏", "架空线缆脱落", "窨井冒溢"]
TAILS = ["，影响通行", "，群众反映较多", "，请及时处理", "约5米", "，存在安全隐患", "", "，夜间尤甚", "，已持续三天"]
STATES = ["closed"] * 88 + ["voided"] * 3 + ["not_filed"] * 4 + ["handling", "dispatched", "filed", "reported", "fed_back"]
SOURCES = ["supervisor"] * 6 + ["hotline"] * 2 + ["public", "video"]


def _median_ms(fn, rounds: int) -> float:
    fn()  # warm-up (statement cache, pages)
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def sample_queries(store) -> tuple[list[str], str]:
    """(typical queries drawn from the store, the broad one): they find something."""
    from sqlalchemy import text

    with store.engine.connect() as conn:
        n = conn.execute(text("SELECT max(id) FROM cases")).scalar_one()
        rng = random.Random(7)
        number = phone = None
        for _ in range(50):
            row = conn.execute(text("SELECT number, reporter_phone FROM cases WHERE id >= :i ORDER BY id LIMIT 1"),
                               {"i": rng.randint(1, n)}).one()
            number = number or row[0]
            phone = phone or row[1]
            if number and phone:
                break
        grid = conn.execute(text("SELECT g.code FROM cases c JOIN unit_grids g ON g.id = c.grid_id "
                                 "WHERE c.id >= :i ORDER BY c.id LIMIT 1"), {"i": n // 2}).scalar()
        latest = conn.execute(text("SELECT max(reported_at) FROM cases")).scalar_one()
    if isinstance(latest, str):
        latest = datetime.fromisoformat(latest)
    month = f"{latest:%Y-%m}"
    queries = [number.rsplit("-", 1)[-1], number, "井盖", "井", "井盖 人民路", "占道经营", "人民路 路灯 不亮",
               "已结案 井盖", f"来源:热线 {month}", month]
    if phone:
        queries.append(phone)
    if grid:
        queries.append(f"网格:{grid[:9]}")
    return queries, number[1:5]


def measure(store, scale: str, rounds: int, *, name: str) -> float:
    """Time the sample queries on ``store``; record the figures; the slowest typical median (ms)."""
    from sqlalchemy import text

    from app.services.search import CaseSearch

    search = CaseSearch(store)
    with store.engine.connect() as conn:
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
    queries, broad = sample_queries(store)
    print(f"  {scale}: {cases:,} cases")
    worst = 0.0
    for q in queries:
        found = search.find(q)
        ms = _median_ms(lambda q=q: search.find(q), rounds)
        worst = max(worst, ms)
        print(f"    {q!r:28} {found.total:>9,}{'+' if found.capped else ' '} found  {ms:8.1f} ms")
    found = search.find(broad)
    broad_ms = _median_ms(lambda: search.find(broad), max(1, rounds // 2))
    print(f"    {broad!r:28} {found.total:>9,}{'+' if found.capped else ' '} found  {broad_ms:8.1f} ms  (every case)")
    verdict = "under" if worst < GOAL_MS else "OVER"
    print(f"  slowest typical query {worst:.1f} ms: {verdict} the {GOAL_MS:.0f} ms goal")
    record(name, worst, "ms")
    record(f"search.broad_ms.{scale}", broad_ms, "ms")
    record(f"search.cases.{scale}", cases, "count")
    return worst


def _at_head(path: Path) -> Path | None:
    """``path`` itself when its schema is current, else an upgraded copy in a temporary directory."""
    from app.store.commands import upgrade_db
    from app.store.engine import open_store
    from app.store.errors import SchemaOutdated

    try:
        open_store(path).dispose()
        return path
    except SchemaOutdated:
        pass
    tmp = Path(tempfile.mkdtemp(prefix="gridhall-search-"))
    copy = tmp / path.name
    print(f"  {path} has an older schema: upgrading a copy (builds the search index)")
    shutil.copy2(path, copy)
    t0 = time.perf_counter()
    upgrade_db(copy).dispose()
    print(f"  upgraded in {time.perf_counter() - t0:.1f} s")
    return copy


def _complete_index(store) -> None:
    """Index the cases a bulk load left out (app/store/bulk.py sets the triggers aside)."""
    from sqlalchemy import text

    from app.store.search import fill_missing

    with store.engine.begin() as conn:
        cases = conn.execute(text("SELECT count(*) FROM cases")).scalar_one()
        indexed = conn.execute(text("SELECT count(*) FROM case_search")).scalar_one()
        if indexed < cases:
            t0 = time.perf_counter()
            print(f"  {cases - indexed:,} cases are not in the search index (a bulk load): indexing them")
            fill_missing(conn)
            print(f"  indexed in {time.perf_counter() - t0:.1f} s")


def bench_file(path: Path, scale: str, name: str, rounds: int) -> float | None:
    from app.store.engine import open_store

    if not path.exists():
        print(f"  {scale}: {path} not found, skipped")
        return None
    usable = _at_head(path)
    store = open_store(usable)
    _complete_index(store)
    try:
        return measure(store, scale, rounds, name=name)
    finally:
        store.dispose()
        if usable != path:
            shutil.rmtree(usable.parent, ignore_errors=True)


# --- synthetic cases ----------------------------------------------------------------------------

def synthetic_rows(n: int, category_ids: list[int], grid_ids: list[int], department_ids: list[int],
                   seed: int = 1):
    """``n`` plausible cases (tuples in :data:`COLUMNS` order), numbered by day like the demo."""
    rng = random.Random(seed)
    day = datetime(2024, 1, 1, 8, 0)
    per_day = max(1, n // 1000)
    serial = 0
    for i in range(n):
        if i and i % per_day == 0:
            day += timedelta(days=1)
            serial = 0
        serial += 1
        kind = "component" if rng.random() < 0.3 else "event"
        number = f"{'B' if kind == 'component' else 'S'}{day:%Y%m%d}-{serial:04d}"
        state = rng.choice(STATES)
        address = f"{rng.choice(ROADS)} {rng.randint(1, 1999)} 号附近"
        description = rng.choice(PROBLEMS) + rng.choice(TAILS)
        phone = f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}" if rng.random() < 0.3 else None
        at = day + timedelta(minutes=rng.randint(0, 600))
        yield (i + 1, number, kind, rng.choice(category_ids), "general", state, rng.choice(SOURCES),
               rng.choice(grid_ids), address, description, phone,
               rng.choice(department_ids) if state not in ("reported", "not_filed") else None, at, 0, 0, 0, 0, 1)


COLUMNS = ("id", "number", "kind", "category_id", "level", "state", "source", "grid_id", "address", "description",
           "reporter_phone", "department_id", "reported_at", "urge_count", "rework_count", "paused_minutes",
           "extension_minutes", "version")


def _reference_rows(conn, text) -> tuple[list[int], list[int], list[int]]:
    """A district, 400 grids and 12 departments for the synthetic cases to point at."""
    conn.execute(text("INSERT INTO admin_areas (id, code, name, level) VALUES (1, '320599', '演示区', 'district')"))
    conn.execute(text("INSERT INTO unit_grids (id, code, community_id, area_m2) VALUES (:id, :code, 1, 10000)"),
                 [{"id": g, "code": f"320599{(g // 100) + 1:03d}{(g // 10) % 10 + 1:03d}{g % 10 + 1:03d}"}
                  for g in range(1, 401)])
    conn.execute(text("INSERT INTO departments (id, code, name, kind, active) VALUES (:id, :code, :name, 'bureau', true)"),
                 [{"id": d, "code": f"D{d:02d}", "name": f"演示部门{d}"} for d in range(1, 13)])
    cats = [r[0] for r in conn.execute(text("SELECT id FROM categories"))]
    return cats, list(range(1, 401)), list(range(1, 13))


def million_spatialite(n: int, rounds: int) -> float:
    from sqlalchemy import text

    from app.store.commands import init_db
    from app.store.search import fill_missing

    tmp = Path(tempfile.mkdtemp(prefix="gridhall-search-million-"))
    try:
        store = init_db(tmp / "million.sqlite")
        t0 = time.perf_counter()
        with store.engine.begin() as conn:
            cats, grids, depts = _reference_rows(conn, text)
            # Generated rows go straight in; the index is then filled the way a bulk load fills it.
            conn.execute(text("DROP TRIGGER cases_search_insert"))
            raw = conn.connection.driver_connection
            sql = f"INSERT INTO cases ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
            rows = synthetic_rows(n, cats, grids, depts)
            while batch := [r for _, r in zip(range(50_000), rows, strict=False)]:
                raw.executemany(sql, batch)
            print(f"  {n:,} synthetic cases written in {time.perf_counter() - t0:.1f} s", flush=True)
            t1 = time.perf_counter()
            fill_missing(conn)
            print(f"  search index filled in {time.perf_counter() - t1:.1f} s", flush=True)
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        try:
            return measure(store, "million", rounds, name="search.archive_ms.million")
        finally:
            store.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _fill_postgis(raw, n: int) -> None:
    """Fill case_search the way SpatiaLite's fill does (documents by the trigger's SQL, terms by
    ``doc_terms``, identical to ``gridhall_search_terms``), loaded with COPY: quicker than the
    owner's ``gridhall_search_fill()`` for a million synthetic rows."""
    import io

    from app.store.search import doc_sql, doc_terms

    def quote(term: str) -> str:  # an element of a text[] literal inside COPY's text format
        return '"' + term.replace("\\", "\\\\").replace('"', '\\"') + '"'

    read = raw.cursor(name="search_docs")  # server-side: the documents stream in batches
    read.itersize = 50_000
    read.execute(f"SELECT c.id, {doc_sql('postgresql', 'c')} FROM cases c")
    write = raw.cursor()
    write.execute("CREATE TEMP TABLE search_load (id integer, doc text, terms text[])")
    while rows := read.fetchmany(50_000):
        lines = []
        for case_id, doc in rows:
            terms = "{" + ",".join(quote(t) for t in sorted(doc_terms(doc))) + "}"
            text_doc = doc.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            lines.append(f"{case_id}\t{text_doc}\t{terms.replace(chr(92), chr(92) * 2)}\n")
        write.copy_expert("COPY search_load FROM STDIN", io.StringIO("".join(lines)))
    read.close()
    write.execute("DROP INDEX ix_case_search_terms")  # built once at the end, as a restore does
    write.execute("INSERT INTO case_search (case_id, doc, terms) "
                  "SELECT id, doc, array_to_tsvector(terms) FROM search_load")
    write.execute("CREATE INDEX ix_case_search_terms ON case_search USING gin (terms)")
    write.execute("DROP TABLE search_load")
    raw.commit()


def million_postgis(n: int, rounds: int) -> float:
    import io

    from sqlalchemy import text

    from app.store.cluster import start_cluster
    from app.store.commands import init_db

    cluster = start_cluster()
    try:
        name = cluster.create_database()
        store = init_db(cluster.url(name))
        t0 = time.perf_counter()
        with store.engine.begin() as conn:
            cats, grids, depts = _reference_rows(conn, text)
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("SET session_replication_role = replica")  # a bulk load: no per-row trigger
            rows = synthetic_rows(n, cats, grids, depts)
            while batch := [r for _, r in zip(range(100_000), rows, strict=False)]:
                buf = io.StringIO("".join("\t".join(r"\N" if v is None else str(v) for v in r) + "\n" for r in batch))
                cur.copy_expert(f"COPY cases ({', '.join(COLUMNS)}) FROM STDIN", buf)
            cur.execute("SET session_replication_role = origin")
            print(f"  {n:,} synthetic cases written in {time.perf_counter() - t0:.1f} s", flush=True)
            raw.commit()
            t1 = time.perf_counter()
            _fill_postgis(raw, n)
            print(f"  search index filled in {time.perf_counter() - t1:.1f} s", flush=True)
            raw.dbapi_connection.autocommit = True  # VACUUM runs outside a transaction
            cur = raw.dbapi_connection.cursor()
            cur.execute("VACUUM ANALYZE cases")
            cur.execute("VACUUM ANALYZE case_search")
            raw.dbapi_connection.autocommit = False
        finally:
            raw.close()
        try:
            return measure(store, "million_postgis", rounds, name="search.archive_ms.million_postgis")
        finally:
            store.dispose()
    finally:
        cluster.stop()


def run(db: str = "data/demo/district.sqlite", *, city: str | None = "data/demo/city.sqlite",
        million: int = 1_000_000, postgis: bool = False, rounds: int = 5) -> None:
    print("\nSearch over every case (ms per search: parse, index, count, first page of 50 rows)")
    if db:
        bench_file(Path(db), "district", "search.archive_ms", rounds)
    if city:
        bench_file(Path(city), "city", "search.archive_ms.city", rounds)
    if million:
        million_spatialite(million, rounds)
        if postgis:
            million_postgis(million, rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="data/demo/district.sqlite")
    parser.add_argument("--city", default="data/demo/city.sqlite", help="the city demo (skipped when absent)")
    parser.add_argument("--million", type=int, default=1_000_000, help="synthetic cases (0: none)")
    parser.add_argument("--postgis", action="store_true", help="the synthetic cases on PostGIS as well")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    run(args.db, city=args.city, million=args.million, postgis=args.postgis, rounds=args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
