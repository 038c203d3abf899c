"""Search over every case (issue 10, item 2): what a dispatcher types, turned into criteria.

The query language (words separated by spaces; every word narrows, AND):

* a bare word is text found anywhere in the case — number or any part of it (``0294``,
  ``S20261207-0294``, ``2026``), reporter phone (``13800138000``), address, description words
  (``井盖``, ``人民路``; one Chinese character works too), grid and component code, category
  name. ``"…"`` (or ``“…”``) keeps spaces inside one word;
* ``编号:`` ``电话:`` ``地址:`` ``描述:`` (``no:`` ``phone:`` ``addr:`` ``desc:``) limit a text to
  that field;
* a state by its name (``已结案``, ``已作废``, ``不予立案``, ``处置中`` …, or ``closed`` …), ``在办``
  (every open state), or ``状态:`` / ``state:`` with a name or a part of one (``状态:申请``);
* a source by its name (``12319热线``, ``公众举报`` …) or ``来源:`` / ``source:`` with a part of one
  (``来源:热线``);
* ``类别:`` / ``cat:`` a category code prefix (``06``, ``06001``) or a part of its name;
  ``部门:`` / ``dept:`` a department code or a part of its name; ``类型:部件|事件``;
* ``网格:`` / ``grid:`` a grid code prefix (a street's 9 or community's 12 digits work);
  ``部件:`` / ``comp:`` a component code prefix;
* a period of the report: ``2026-12-07``, ``2026-12``, ``2026-12-01..2026-12-07`` (also ``~`` or
  ``至``), ``2026年12月``, ``2026年12月7日``, or ``日期:`` / ``date:`` with one of those.

Results: :class:`CaseSummary` rows of every state (open, closed, voided, not filed), the exact
number, serial or phone first, then newest first; a total count; paging. On PostgreSQL the
login's row-level security limits what it finds; on SpatiaLite pass ``department_id`` to scope a
department operator (issue 10, item 5).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.domain.cases import CaseSummary
from app.domain.definitions import OPEN_STATES, CaseState, Kind, Source
from app.domain.messages import Msg, MsgError
from app.store import queries
from app.store import search as store_search
from app.store.engine import Store
from app.store.search import SearchCriteria

#: Longest query accepted (characters).
MAX_QUERY = 200
#: Most words in one query.
MAX_WORDS = 12
#: Largest page.
MAX_PAGE = 500
#: Counting stops here (a query matching more says "more than").
COUNT_CAP = 1_000

_KEYS = {
    "编号": "number", "no": "number", "number": "number",
    "电话": "phone", "phone": "phone", "tel": "phone",
    "地址": "address", "addr": "address", "address": "address",
    "描述": "description", "desc": "description", "description": "description",
    "状态": "state", "state": "state",
    "来源": "source", "source": "source",
    "类别": "category", "cat": "category", "category": "category",
    "部门": "department", "dept": "department", "department": "department",
    "类型": "kind", "kind": "kind",
    "网格": "grid", "grid": "grid",
    "部件": "component", "comp": "component", "component": "component",
    "日期": "period", "时间": "period", "date": "period", "period": "period",
}
_WORD = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')
_KEYED = re.compile(r"^([^\s:：]{1,12})[:：](.*)$")
_DAY = r"(\d{4})[-/.](\d{1,2})(?:[-/.](\d{1,2}))?"
_CN_DAY = r"(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?"
_ONE_DAY = re.compile(rf"^(?:{_DAY}|{_CN_DAY})$")
_RANGE = re.compile(r"^(.+?)(?:\.\.|~|～|至)(.+)$")
_OPEN_WORDS = {"在办", "open"}


class SearchError(MsgError, ValueError):
    """The query cannot be understood (too long, an unknown state, a bad date …): one clear message."""


@dataclass(frozen=True)
class SearchResult:
    """One page of matching cases, best first, and how many match in all."""

    rows: list[CaseSummary]
    total: int
    offset: int
    limit: int
    criteria: SearchCriteria
    capped: bool = False  # the total is COUNT_CAP: more cases match

    @property
    def more(self) -> bool:
        """True when a later page exists."""
        return self.offset + len(self.rows) < self.total


@dataclass
class _Parsed:
    terms: list[tuple[str | None, str]] = field(default_factory=list)
    states: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    kinds: set[str] = field(default_factory=set)
    categories: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)
    grids: list[str] = field(default_factory=list)
    components: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    exact: str | None = None


def _day(text: str) -> tuple[datetime, datetime] | None:
    """[start, end) of a day or month written ``2026-12-07``, ``2026-12``, ``2026年12月7日`` …."""
    m = _ONE_DAY.match(text)
    if not m:
        return None
    y, mo, d = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(4), m.group(5), m.group(6))
    try:
        if d:
            first = date(int(y), int(mo), int(d))
            return datetime.combine(first, datetime.min.time()), datetime.combine(first + timedelta(days=1),
                                                                                 datetime.min.time())
        first = date(int(y), int(mo), 1)
    except ValueError:
        raise SearchError(Msg("日期 {text} 不存在", text=text)) from None
    following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return datetime.combine(first, datetime.min.time()), datetime.combine(following, datetime.min.time())


def _period(text: str) -> tuple[datetime, datetime] | None:
    one = _day(text)
    if one:
        return one
    m = _RANGE.match(text)
    if not m:
        return None
    a, b = _day(m.group(1)), _day(m.group(2))
    if a is None or b is None:
        return None
    if b[1] <= a[0]:
        raise SearchError(Msg("日期范围 {text} 的结束早于开始", text=text))
    return a[0], b[1]


def _states(value: str, *, whole: bool) -> set[str]:
    if value in _OPEN_WORDS:
        return {s.value for s in OPEN_STATES}
    exact = {s.value for s in CaseState if value in (s.value, s.label)}
    if exact or whole:
        return exact
    return {s.value for s in CaseState if value in s.label}


def _sources(value: str, *, whole: bool) -> set[str]:
    exact = {s.value for s in Source if value in (s.value, s.label)}
    if exact or whole:
        return exact
    return {s.value for s in Source if value in s.label}


def _code(value: str, what: Msg) -> str:
    if not value.isascii() or not value.isdigit():
        raise SearchError(Msg("{what}只能是数字：{text}", what=what, text=value))
    return value


def parse(query: str) -> _Parsed:
    """The criteria a query asks for (lookups of categories and departments left as text)."""
    text = unicodedata.normalize("NFKC", query or "").strip()
    if len(text) > MAX_QUERY:
        raise SearchError(Msg("检索内容共 {n} 个字，超过 {limit} 字上限", n=len(text), limit=MAX_QUERY))
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text):
        text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf") else ch for ch in text)
    words = [(m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3),
              m.group(3) is None) for m in _WORD.finditer(text)]
    if len(words) > MAX_WORDS:
        raise SearchError(Msg("检索词共 {n} 个，超过 {limit} 个上限", n=len(words), limit=MAX_WORDS))
    p = _Parsed()
    for word, quoted in words:
        word = word.strip()
        if not word:
            continue
        keyed = None if quoted else _KEYED.match(word)
        key = _KEYS.get(keyed.group(1).lower()) if keyed else None
        if keyed and key is None:
            keyed = None  # "http:" or "a:b": plain text
        if keyed and key:
            _keyed(p, key, keyed.group(2).strip(), word)
            continue
        if not quoted:
            if (states := _states(word, whole=True)):
                p.states |= states
                continue
            if (sources := _sources(word, whole=True)):
                p.sources |= sources
                continue
            if (span := _period(word)) is not None:
                _narrow(p, span)
                continue
        term = store_search.normalize(word)
        p.terms.append((None, term))
        if p.exact is None and re.fullmatch(r"[0-9a-z-]+", term):
            p.exact = term
    return p


def _narrow(p: _Parsed, span: tuple[datetime, datetime]) -> None:
    p.start = span[0] if p.start is None else max(p.start, span[0])
    p.end = span[1] if p.end is None else min(p.end, span[1])


def _keyed(p: _Parsed, key: str, value: str, word: str) -> None:
    if not value:
        raise SearchError(Msg("检索词 {word} 缺少要找的内容", word=word))
    if key in store_search.FIELDS:
        term = store_search.normalize(value)
        p.terms.append((key, term))
        if key in ("number", "phone") and p.exact is None:
            p.exact = term
    elif key == "state":
        found = _states(value, whole=False)
        if not found:
            raise SearchError(Msg("没有名为 {text} 的案卷状态", text=value))
        p.states |= found
    elif key == "source":
        found = _sources(value, whole=False)
        if not found:
            raise SearchError(Msg("没有名为 {text} 的案件来源", text=value))
        p.sources |= found
    elif key == "kind":
        kinds = {k.value for k in Kind if value in (k.value, k.label)}
        if not kinds:
            raise SearchError(Msg("类型只能是部件或事件：{text}", text=value))
        p.kinds |= kinds
    elif key == "category":
        p.categories.append(value)
    elif key == "department":
        p.departments.append(value)
    elif key == "grid":
        p.grids.append(_code(value, Msg("网格编码")))
    elif key == "component":
        p.components.append(_code(value, Msg("部件编码")))
    elif key == "period":
        span = _period(value)
        if span is None:
            raise SearchError(Msg("看不懂日期 {text}：请写成 2026-12-07、2026-12 或 2026-12-01..2026-12-07", text=value))
        _narrow(p, span)


class CaseSearch:
    """Finds cases in any state; every call opens its own short session (safe from workers)."""

    def __init__(self, store: Store):
        self._store = store

    def find(self, query: str, *, department_id: int | None = None, limit: int = 50,
             offset: int = 0) -> SearchResult:
        """One page of the cases matching ``query`` (see the module's query language).

        ``department_id``: only what that department may read, its cases and its own undispatched
        reports (a department operator on SpatiaLite).
        Raises :class:`SearchError` for a query it cannot understand.
        """
        if not 1 <= limit <= MAX_PAGE:
            raise SearchError(Msg("每页条数须在 1 到 {limit} 之间", limit=MAX_PAGE))
        if offset < 0:
            raise SearchError(Msg("起始位置不能为负数"))
        p = parse(query)
        with self._store.session() as session:
            criteria = SearchCriteria(
                terms=tuple(p.terms), states=tuple(sorted(p.states)), sources=tuple(sorted(p.sources)),
                kinds=tuple(sorted(p.kinds)), grid_prefixes=tuple(p.grids), component_prefixes=tuple(p.components),
                reported_from=p.start, reported_until=p.end, scope_department_id=department_id, exact=p.exact)
            criteria = replace(criteria, category_ids=self._lookup(session, p.categories, store_search.category_ids,
                                                                   Msg("没有名称或编码含 {text} 的类别")),
                               department_ids=self._lookup(session, p.departments, store_search.department_ids,
                                                           Msg("没有名称或编码含 {text} 的部门")))
            ids, total = store_search.search_ids(session, criteria, limit=limit, offset=offset,
                                                 count_limit=COUNT_CAP)
            rows = queries.case_summaries(session, ids)
        return SearchResult(rows=rows, total=total, offset=offset, limit=limit, criteria=criteria,
                            capped=total >= COUNT_CAP)

    @staticmethod
    def _lookup(session: Session, needles: list[str], lookup: Callable[[Session, str], list[int]],
                missing: Msg) -> tuple[int, ...]:
        found: set[int] | None = None
        for needle in needles:
            ids = set(lookup(session, needle))
            if not ids:
                raise SearchError(Msg(missing.id, text=needle))
            found = ids if found is None else found & ids
        if found is not None and not found:
            return (-1,)  # two lookups with nothing in common: nothing matches
        return tuple(sorted(found or ()))


__all__ = ["COUNT_CAP", "MAX_PAGE", "MAX_QUERY", "MAX_WORDS", "CaseSearch", "SearchError", "SearchResult", "parse"]
