"""Search over every case: the search index (``case_search``) and the search query.

One definition of the index on both backends, so SpatiaLite and PostGIS find the same cases:

* a case's **document** is its number, reporter phone, address, grid code, component code,
  category name and description joined by spaces, ASCII letters lower-cased (``doc_sql``),
  capped at :data:`MAX_DOC` characters (the description comes last, so only its tail can be cut);
* its **terms** are, for every character of the document (``terms_sql``):
  a Chinese character (U+3400–U+9FFF) gives the bigram it starts (``井盖``), or itself alone
  when the next character is not Chinese; an ASCII letter or digit gives the rest of its
  letter/digit run from there, up to :data:`ASCII_TERM` characters (``s20261207``,
  ``20261207``, ``0261207`` … ``7``: every substring of a run is a prefix of one of them);
  every other character separates.

Chinese has no spaces and two-character words (井盖, 占道) are common, so words are found as
sets of bigrams; a one-character word as a prefix of a bigram; digits (serials, phones,
codes) as prefixes of run suffixes. The index only narrows the candidates: every hit is then
checked by a plain substring test on the stored document (or on the named field), so results
are exact and the same on both backends whatever the index engine does at its edges.

SpatiaLite keeps the terms in an FTS5 table (``unicode61`` over the space-separated terms,
the document ``UNINDEXED``; rowid = case id); PostgreSQL in a ``tsvector`` built with
``array_to_tsvector`` (the terms verbatim, no parser) under a GIN index. Triggers on ``cases``
keep it in step (SQL only, so any program writing the file keeps it right); on PostgreSQL the
trigger function is SECURITY DEFINER (a login has no write grant on the index, and the
database's own derive trigger updates cases as the owner) and ``case_search`` has row-level
security: a department sees the index rows of the cases it sees, and the search joins
``cases`` as well. The migration is ``0011_search``; bulk loads that set triggers aside call
:func:`fill_missing` (PostgreSQL: ``gridhall_search_fill()``).

The query side (:func:`search_ids`) never puts user text into the FTS/tsquery syntax: terms
are cut into the same kind of tokens here, and tokens hold only ``[0-9a-z]`` and Chinese
characters; everything else is a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

#: Longest indexed document (characters); the description, last, loses its tail beyond it.
MAX_DOC = 4000
#: Longest ASCII term (a run suffix); longer query runs are looked up by their first characters.
ASCII_TERM = 24
#: Chinese characters: CJK Unified Ideographs Extension A and the URO block.
CJK_FIRST, CJK_LAST = 0x3400, 0x9FFF

_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = _UPPER.lower()
_ASCII_LOWER = str.maketrans(_UPPER, _LOWER)


def _code(dialect: str, expr: str) -> str:
    # unicode() (SQLite) and ascii() (PostgreSQL, UTF8) both give the code point.
    return f"{'unicode' if dialect == 'sqlite' else 'ascii'}({expr})"


def _lower_ascii(dialect: str, expr: str) -> str:
    # SQLite's lower() changes ASCII only; PostgreSQL's follows the locale: translate() does ASCII only.
    return f"lower({expr})" if dialect == "sqlite" else f"translate({expr}, '{_UPPER}', '{_LOWER}')"


def doc_sql(dialect: str, row: str) -> str:
    """The document of the case row ``row`` (``NEW`` in a trigger, an alias elsewhere)."""
    parts = [
        f"{row}.number",
        f"coalesce({row}.reporter_phone, '')",
        f"coalesce({row}.address, '')",
        f"coalesce((SELECT g.code FROM unit_grids g WHERE g.id = {row}.grid_id), '')",
        f"coalesce((SELECT k.code FROM components k WHERE k.id = {row}.component_id), '')",
        f"coalesce((SELECT t.name FROM categories t WHERE t.id = {row}.category_id), '')",
        f"coalesce({row}.description, '')",
    ]
    joined = " || ' ' || ".join(parts)
    return f"substr({_lower_ascii(dialect, joined)}, 1, {MAX_DOC})"


def terms_sql(dialect: str, doc: str) -> str:
    """A scalar subquery: the terms of the document ``doc`` (FTS5 text or a tsvector).

    One row per character position (``search_positions``; the position after the end reads as
    a separator), classified once: 1 ASCII letter or digit, 2 Chinese, 0 separator. A window
    gives each position the next separator at or after it (where its ASCII run ends) and
    whether the next character is Chinese.
    """
    u = _code(dialect, f"substr({doc}, p.n, 1)")
    kind = (f"CASE WHEN {u} BETWEEN 48 AND 57 OR {u} BETWEEN 97 AND 122 THEN 1 "
            f"WHEN {u} BETWEEN {CJK_FIRST} AND {CJK_LAST} THEN 2 ELSE 0 END")
    chars = f"SELECT p.n AS n, {kind} AS k FROM search_positions p WHERE p.n <= length({doc}) + 1"
    walk = (f"SELECT ch.n AS n, ch.k AS k, lead(ch.k) OVER (ORDER BY ch.n) AS k2, "
            f"min(CASE WHEN ch.k <> 1 THEN ch.n END) OVER (ORDER BY ch.n DESC) AS stop FROM ({chars}) ch")
    shortest = "min" if dialect == "sqlite" else "least"
    token = (f"CASE WHEN w.k = 1 THEN substr({doc}, w.n, {shortest}({ASCII_TERM}, w.stop - w.n)) "
             f"WHEN w.k2 = 2 THEN substr({doc}, w.n, 2) ELSE substr({doc}, w.n, 1) END")
    rows = f"FROM ({walk}) w WHERE w.k > 0"
    if dialect == "sqlite":
        return f"(SELECT coalesce(group_concat(tok, ' '), '') FROM (SELECT {token} AS tok {rows}) toks)"
    return (f"(SELECT array_to_tsvector(coalesce(array_agg(DISTINCT tok), '{{}}'::text[])) "
            f"FROM (SELECT {token} AS tok {rows}) toks)")


def fill_statements(dialect: str, where: str) -> list[str]:
    """PostgreSQL: the statement indexing the cases ``c`` matching ``where`` (SQL over alias ``c``).

    ``OFFSET 0`` keeps the document a computed value: pulled up, it would be rebuilt (three
    lookups and the concatenation) at each reference in the term SQL.
    """
    return [f"INSERT INTO case_search (case_id, doc, terms) SELECT x.id, x.doc, gridhall_search_terms(x.doc) "
            f"FROM (SELECT c.id, {doc_sql(dialect, 'c')} AS doc FROM cases c WHERE {where} OFFSET 0) x"]


#: Cases per batch when SpatiaLite's index is filled from Python.
FILL_BATCH = 5000


def fill_missing(conn: Connection, progress: Callable[[int], None] | None = None) -> int:
    """Index the cases that have no index row yet (the migration; a bulk load that set triggers aside).

    PostgreSQL runs ``gridhall_search_fill()`` (the owner's). On SpatiaLite the documents come
    from the same SQL as the trigger's and are cut into terms by :func:`doc_terms` (the same
    terms as the trigger's SQL, tests/store/test_search.py checks; several times faster than
    SQLite evaluating that SQL per character). Returns the number of cases indexed;
    ``progress(n)`` after each batch.
    """
    if conn.dialect.name != "sqlite":
        return int(conn.execute(text("SELECT gridhall_search_fill()")).scalar_one())
    rows = conn.execute(text(f"SELECT c.id, {doc_sql('sqlite', 'c')} FROM cases c "
                             "WHERE c.id NOT IN (SELECT rowid FROM case_search) ORDER BY c.id")).all()
    insert = text("INSERT INTO case_search (rowid, doc, terms) VALUES (:id, :doc, :terms)")
    for start in range(0, len(rows), FILL_BATCH):
        batch = rows[start:start + FILL_BATCH]
        conn.execute(insert, [{"id": i, "doc": d, "terms": " ".join(sorted(doc_terms(d)))} for i, d in batch])
        if progress is not None:
            progress(start + len(batch))
    return len(rows)


# --- the query ----------------------------------------------------------------------------------

_RUN = re.compile(r"[0-9a-z]+|[\u3400-\u9fff]+")


def normalize(term: str) -> str:
    """A query term as the document holds text: ASCII letters lower-cased, nothing else changed."""
    return term.strip().translate(_ASCII_LOWER)


def query_tokens(term: str) -> list[tuple[str, bool]]:
    """The index tokens a document containing ``term`` (normalised) must have: (token, prefix?).

    A Chinese run gives its bigrams (one character: a prefix); an ASCII run its first
    :data:`ASCII_TERM` characters, as a prefix. Empty when the term has no letter, digit or
    Chinese character (then only the substring test applies).
    """
    out: list[tuple[str, bool]] = []
    for run in _RUN.findall(term):
        if run[0].isascii():
            out.append((run[:ASCII_TERM], True))
        elif len(run) == 1:
            out.append((run, True))
        else:
            out.extend((run[i:i + 2], False) for i in range(len(run) - 1))
    return list(dict.fromkeys(out))


def doc_terms(doc: str) -> set[str]:
    """The index terms of a document, exactly as ``terms_sql`` cuts them (bulk fills and tests)."""
    out: set[str] = set()
    for run in _RUN.findall(doc.translate(_ASCII_LOWER)[:MAX_DOC]):
        if run[0].isascii():
            out.update(run[i:i + ASCII_TERM] for i in range(len(run)))
        else:
            out.update(run[i:i + 2] for i in range(len(run)))  # the last one is a single character
    return out


def _index_is_exact(term: str) -> bool:
    """True when the index alone decides whether a document holds ``term``: one ASCII run of at
    most :data:`ASCII_TERM` characters (a prefix of a run suffix is exactly a substring of the
    run), or one or two Chinese characters (a bigram, or a prefix of the terms a character
    starts). Otherwise hits are confirmed by a substring test."""
    runs = _RUN.findall(term)
    if len(runs) != 1 or runs[0] != term:
        return False
    return len(term) <= (ASCII_TERM if term.isascii() else 2)


def _fts5(tokens: Sequence[tuple[str, bool]]) -> str:
    # Tokens hold only [0-9a-z] and Chinese characters: quoting them cannot break the syntax.
    return " AND ".join(f'"{t}"' + ("*" if prefix else "") for t, prefix in tokens)


def _tsquery(tokens: Sequence[tuple[str, bool]]) -> str:
    return " & ".join(f"'{t}'" + (":*" if prefix else "") for t, prefix in tokens)


#: Fields a term may be limited to, and the SQL text each is tested on (ASCII lower-cased).
FIELDS = {
    "number": "c.number",
    "phone": "coalesce(c.reporter_phone, '')",
    "address": "coalesce(c.address, '')",
    "description": "coalesce(c.description, '')",
}


@dataclass(frozen=True)
class SearchCriteria:
    """What to look for; every part narrows (AND). Empty criteria find every case.

    ``terms``: (field or None, normalised text): the text occurs in the case's document (None)
    or in that field (:data:`FIELDS`). ``grid_prefixes`` / ``component_prefixes``: code
    prefixes, any of them. ``reported_from`` ≤ reported_at < ``reported_until``.
    ``scope_department_id``: only what that department may read — its cases and its own reports
    not yet dispatched (SpatiaLite's department scope, ``queries.department_scope``;
    PostgreSQL's row-level security applies in any case).
    """

    terms: tuple[tuple[str | None, str], ...] = ()
    states: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    category_ids: tuple[int, ...] = ()
    department_ids: tuple[int, ...] = ()
    grid_prefixes: tuple[str, ...] = ()
    component_prefixes: tuple[str, ...] = ()
    reported_from: datetime | None = None
    reported_until: datetime | None = None
    scope_department_id: int | None = None
    exact: str | None = field(default=None)  # a number/serial/phone to rank first


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _where(dialect: str, c: SearchCriteria, params: dict[str, object],
           exact_tier: bool = False) -> tuple[str, list[str]]:
    """(FROM clause, WHERE conditions) for the criteria; fills ``params``.

    ``exact_tier``: only the cases whose number, serial or phone is ``c.exact``; its ASCII runs
    are then looked up as whole index terms (a serial ``0294`` is a run of its own), not prefixes.
    """
    conds: list[str] = []
    tokens: list[tuple[str, bool]] = []
    if exact_tier and c.exact:
        tokens.extend((t, False) for t in _RUN.findall(c.exact) if t.isascii() and len(t) <= ASCII_TERM)
        params["exact"] = c.exact
        params["serial"] = "%-" + c.exact.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conds.append("(lower(c.number) = :exact OR lower(c.number) LIKE :serial ESCAPE '\\' "
                     "OR c.reporter_phone = :exact)")
    for i, (fld, term) in enumerate(c.terms):
        tokens.extend(query_tokens(term))
        if fld is None and _index_is_exact(term):
            continue
        params[f"t{i}"] = term
        haystack = "s.doc" if fld is None else _lower_ascii(dialect, FIELDS[fld])
        conds.append(f"instr({haystack}, :t{i}) > 0" if dialect == "sqlite" else f"strpos({haystack}, :t{i}) > 0")
    tokens = list(dict.fromkeys(tokens))
    if dialect == "sqlite":
        source = "cases c JOIN case_search s ON s.rowid = c.id" if c.terms else "cases c"
        if tokens:
            # The index drives (CROSS JOIN fixes SQLite's join order): otherwise the planner may walk
            # cases by a state or date index and probe the FTS table once per case.
            source = "case_search s CROSS JOIN cases c ON c.id = s.rowid"
            params["fts"] = _fts5(tokens)
            conds.insert(0, "case_search MATCH :fts")
    else:
        source = "cases c JOIN case_search s ON s.case_id = c.id" if c.terms else "cases c"
        if tokens:
            params["tsq"] = _tsquery(tokens)
            conds.insert(0, "s.terms @@ CAST(:tsq AS tsquery)")

    def any_of(column: str, name: str, values: Sequence[object]) -> None:
        if values:
            keys = [f":{name}{i}" for i in range(len(values))]
            params.update({f"{name}{i}": v for i, v in enumerate(values)})
            conds.append(f"{column} IN ({', '.join(keys)})")

    any_of("c.state", "st", c.states)
    any_of("c.source", "so", c.sources)
    any_of("c.kind", "ki", c.kinds)
    any_of("c.category_id", "ca", c.category_ids)
    any_of("c.department_id", "de", c.department_ids)
    for name, table, column, prefixes in (("gp", "unit_grids", "c.grid_id", c.grid_prefixes),
                                          ("cp", "components", "c.component_id", c.component_prefixes)):
        if prefixes:
            likes = []
            for i, p in enumerate(prefixes):
                params[f"{name}{i}"] = _like_prefix(p)
                likes.append(f"x.code LIKE :{name}{i} ESCAPE '\\'")
            conds.append(f"{column} IN (SELECT x.id FROM {table} x WHERE {' OR '.join(likes)})")
    if c.reported_from is not None:
        params["rfrom"] = c.reported_from
        conds.append("c.reported_at >= :rfrom")
    if c.reported_until is not None:
        params["runtil"] = c.reported_until
        conds.append("c.reported_at < :runtil")
    if c.scope_department_id is not None:  # queries.department_scope's rule, in this module's SQL
        params["scope"] = c.scope_department_id
        conds.append("(c.department_id = :scope OR (c.department_id IS NULL AND EXISTS ("
                     "SELECT 1 FROM case_events fe WHERE fe.case_id = c.id AND fe.seq = 1 "
                     "AND fe.department_id = :scope)))")
    return source, conds


#: Most cases in the exact tier (number, serial or phone equal to what was typed).
EXACT_MAX = 100


def _ids(conn: Connection, sql: str, params: dict[str, object]) -> list[int]:
    return [int(r[0]) for r in conn.execute(text(sql), params)]


class _Broad(Exception):  # noqa: N818 (a signal, not an error)
    """A broad text whose capped total the probe already knows."""

    def __init__(self, total: int) -> None:
        super().__init__(total)
        self.total = total


#: PostgreSQL: a text matching fewer index rows than this is answered from those rows (sorted);
#: a broader one by walking the cases newest first until a page is full.
PROBE = 5000


def _narrow_postgres(conn: Connection, criteria: SearchCriteria, params: dict[str, object], conds: list[str],
                     limit: int, offset: int, count_limit: int | None) -> tuple[list[int], int] | None:
    """The page and total when the text is narrow (fewer than :data:`PROBE` index rows), else None.

    A GIN index gives its rows in no useful order: asked for the newest 50, the planner either
    sorts every match (slow for a broad word) or walks the cases backwards testing each (slow
    for a rare one, such as a phone number: a million rows for one hit). The candidates are
    fetched first, at most PROBE of them, straight from the index; only when there are that
    many does the walk run.
    """
    others = [c for c in conds if not c.startswith("s.terms @@")]
    ps = {**params, "probe": PROBE}
    tier = "1"
    if criteria.exact:
        exact: dict[str, object] = {}
        _where("postgresql", criteria, exact, exact_tier=True)
        ps["exact"], ps["serial"] = exact["exact"], exact["serial"]
        tier = ("CASE WHEN lower(c.number) = :exact OR lower(c.number) LIKE :serial ESCAPE '\\' "
                "OR c.reporter_phone = :exact THEN 0 ELSE 1 END")
    candidates = ("SELECT s.case_id, s.doc FROM case_search s WHERE s.terms @@ CAST(:tsq AS tsquery) "
                  "LIMIT :probe")
    where = f"WHERE {' AND '.join(others)}" if others else ""
    rows = conn.execute(text(
        f"WITH s AS MATERIALIZED ({candidates}) SELECT (SELECT count(*) FROM s), c.id, {tier} AS tier "
        f"FROM s JOIN cases c ON c.id = s.case_id {where} ORDER BY tier, c.id DESC"), ps).all()
    found = int(rows[0][0]) if rows else int(conn.execute(
        text(f"SELECT count(*) FROM ({candidates}) n"), ps).scalar_one())
    if found >= PROBE:
        if count_limit is not None and len(rows) >= count_limit:
            raise _Broad(count_limit)  # the probe alone shows the count reaches its cap
        return None
    ids = [int(r[1]) for r in rows]
    total = len(ids) if count_limit is None else min(len(ids), count_limit)
    return ids[offset:offset + limit], total


def search_ids(session: Session, criteria: SearchCriteria, *, limit: int = 50,
               offset: int = 0, count_limit: int | None = None) -> tuple[list[int], int]:
    """The ids of one page of matching cases, best first, and how many match in all.

    Order: the cases whose number, serial (the digits after the last ``-``) or reporter phone
    is ``criteria.exact`` first, then the rest, newest registered first (case id: the order of
    registration, which the index can walk backwards and stop after a page, however many
    cases match). ``count_limit``: stop counting there (the total is then at most that).
    """
    conn = session.connection()
    dialect = conn.dialect.name
    params: dict[str, object] = {}
    source, conds = _where(dialect, criteria, params)
    key = "s.rowid" if source.startswith("case_search") else "c.id"
    walk = False
    known: int | None = None
    if "tsq" in params:
        try:
            narrow = _narrow_postgres(conn, criteria, params, conds, limit, offset, count_limit)
        except _Broad as broad:
            narrow, known = None, broad.total
        if narrow is not None:
            return narrow
        walk = True  # a broad text: walk the cases newest first (GIN can only hand over every match)

    def walking(on: bool) -> None:
        # GIN is reached only through bitmap scans: with them off the planner walks cases_pkey backwards.
        if walk:
            conn.execute(text("SELECT set_config('enable_bitmapscan', :v, true)"), {"v": "off" if on else "on"})

    def select(conditions: list[str], ps: dict[str, object], lim: int, off: int) -> list[int]:
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        ps = {**ps, "limit": lim, "offset": off}
        return _ids(conn, f"SELECT c.id FROM {source} {where} ORDER BY {key} DESC LIMIT :limit OFFSET :offset", ps)

    first: list[int] = []
    if criteria.exact:
        exact_params: dict[str, object] = {}
        _, exact_conds = _where(dialect, criteria, exact_params, exact_tier=True)
        first = select(exact_conds, exact_params, EXACT_MAX, 0)
    page = first[offset:offset + limit]
    rest_conds = list(conds)
    if first:
        params.update({f"x{i}": v for i, v in enumerate(first)})
        rest_conds.append(f"c.id NOT IN ({', '.join(f':x{i}' for i in range(len(first)))})")
    walking(True)
    try:
        if len(page) < limit:
            page += select(rest_conds, params, limit - len(page), max(0, offset - len(first)))
        if offset == 0 and len(page) < limit:
            return page, len(page)
        return page, known if known is not None else _count(conn, source, key, conds, params, count_limit)
    finally:
        walking(False)


def _count(conn: Connection, source: str, key: str, conds: list[str], params: dict[str, object],
           count_limit: int | None) -> int:
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    if key == "s.rowid" and not any("c." in cond for cond in conds):
        source = "case_search s"  # SQLite, text only: the index alone counts (no row-level security there)
    if count_limit is None:
        total = conn.execute(text(f"SELECT count(*) FROM {source} {where}"), params).scalar_one()
    else:
        params["cap"] = count_limit
        total = conn.execute(text(f"SELECT count(*) FROM (SELECT 1 FROM {source} {where} LIMIT :cap) n"),
                             params).scalar_one()
    return int(total)


def category_ids(session: Session, needle: str) -> list[int]:
    """Categories whose code starts with ``needle`` or whose name (or major's name) contains it."""
    conn = session.connection()
    fn = "instr" if conn.dialect.name == "sqlite" else "strpos"
    rows = conn.execute(text(
        f"SELECT id FROM categories WHERE code LIKE :p ESCAPE '\\' OR {fn}(name, :n) > 0 OR {fn}(major_name, :n) > 0"),
        {"p": _like_prefix(needle), "n": needle})
    return [int(r[0]) for r in rows]


def department_ids(session: Session, needle: str) -> list[int]:
    """Departments whose code is ``needle`` or whose name contains it."""
    fn = "instr" if session.connection().dialect.name == "sqlite" else "strpos"
    rows = session.connection().execute(text(
        f"SELECT id FROM departments WHERE lower(code) = lower(:n) OR {fn}(name, :n) > 0"), {"n": needle})
    return [int(r[0]) for r in rows]


__all__ = ["ASCII_TERM", "FIELDS", "MAX_DOC", "SearchCriteria", "category_ids", "department_ids", "doc_sql",
           "doc_terms", "fill_missing", "fill_statements", "normalize", "query_tokens", "search_ids", "terms_sql"]
