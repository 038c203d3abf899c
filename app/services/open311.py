"""Open311 GeoReport v2 (issue 16, item 3): keys, services, request documents, the status mapping.

HTTP-free: the server (app/open311/server.py) parses a request into plain values, calls these
functions and renders what they return as JSON or XML. Every refusal is an ``Open311Error`` with
the HTTP status the spec names (400, 403, 404; 429 for the rate limit) and a ``Msg``.

Service codes are ``<kind>:<code>`` (``event:06010``, ``component:01010``), the form the intake and
``gridhall case report --category`` take. A request's ``service_request_id`` is the case number.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from app.domain.clock import CST
from app.domain.definitions import STORE_SRID, CaseState, Kind
from app.domain.messages import Msg, MsgError
from app.store import open311 as db
from app.store.engine import Store

if TYPE_CHECKING:
    from pyproj import Transformer

#: The spec's default window and longest span of GET requests.
WINDOW = timedelta(days=90)
#: The spec's default query limit.
MAX_RESULTS = 1000
#: What a key looks like: this prefix and 43 url-safe characters (32 random bytes).
KEY_PREFIX = "gh311_"
#: Open311's statuses.
OPEN, CLOSED = "open", "closed"
CLOSED_STATES = frozenset({CaseState.CLOSED, CaseState.VOIDED, CaseState.NOT_FILED})
MAX_IDS = 100  # service_request_id values in one GET
KEY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Open311Error(MsgError):
    """A refused Open311 call: the HTTP ``status`` and the error ``code`` the body carries."""

    def __init__(self, status: int, message: str | Msg, *, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code if code is not None else status


# ---- keys ---------------------------------------------------------------------------------------

def hash_key(key: str) -> str:
    """The stored form of a key: SHA-256 hex (a key has 256 random bits: no slow hash needed)."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class NewKey:
    """A key just made: shown once, never stored in clear."""

    id: int
    name: str
    key: str
    rate_per_minute: int


def add_key(store: Store, name: str, *, rate_per_minute: int = 60, now: datetime) -> NewKey:
    """Make an API key called ``name`` (letters, digits, ``_.-``; unique) allowed ``rate_per_minute``."""
    name = (name or "").strip()
    if not KEY_NAME.match(name):
        raise Open311Error(400, Msg("密钥名称「{name}」无效：只能用字母、数字和 _.-，至多 64 个字符", name=name[:80]))
    if not isinstance(rate_per_minute, int) or isinstance(rate_per_minute, bool) or not 1 <= rate_per_minute <= 100000:
        raise Open311Error(400, Msg("每分钟请求上限应为 1–100000 的整数，实际为 {value}", value=rate_per_minute))
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with store.session() as session, session.begin():
            if db.name_taken(session, name):
                raise Open311Error(400, Msg("已有名为「{name}」的密钥：请换一个名称，或先吊销旧密钥", name=name))
            key_id = db.add_key(session, name, key[:10], hash_key(key), rate_per_minute, now)
    except IntegrityError:
        raise Open311Error(400, Msg("已有名为「{name}」的密钥：请换一个名称，或先吊销旧密钥", name=name)) from None
    return NewKey(key_id, name, key, rate_per_minute)


def list_keys(store: Store) -> list[db.KeyRow]:
    with store.session() as session:
        return db.list_keys(session)


def revoke_key(store: Store, name: str, *, now: datetime) -> None:
    with store.session() as session, session.begin():
        if not db.revoke_key(session, name, now):
            raise Open311Error(404, Msg("没有名为「{name}」的有效密钥（可用 gridhall open311 key list 查看）", name=name[:80]))


def check_key(store: Store, key: str | None) -> db.KeyRow:
    """The active key row of ``key``; 403 (the spec's invalid api_key) otherwise."""
    if not key:
        raise Open311Error(403, Msg("缺少 api_key：提交服务请求需要有效的 API 密钥"))
    if len(key) > 200:
        raise Open311Error(403, Msg("api_key 无效"))
    digest = hash_key(key)
    with store.session() as session:
        row = db.key_by_hash(session, digest)
    if row is None or not hmac.compare_digest(digest, hash_key(key)):
        raise Open311Error(403, Msg("api_key 无效"))
    if row.revoked_at is not None:
        raise Open311Error(403, Msg("api_key 已被吊销"))
    return row


# ---- rate limit ---------------------------------------------------------------------------------

class RateLimiter:
    """Token buckets per key (or per client address): ``rate`` per minute, bursts up to ``rate``."""

    def __init__(self, monotonic: Any = time.monotonic) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._now = monotonic

    def allow(self, who: str, rate_per_minute: int) -> float:
        """0 when the call may go ahead (and is counted); else the seconds to wait."""
        now = self._now()
        per_second = rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(who, (float(rate_per_minute), now))
            tokens = min(float(rate_per_minute), tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self._buckets[who] = (tokens - 1.0, now)
                return 0.0
            self._buckets[who] = (tokens, now)
            if len(self._buckets) > 100000:  # never grows without bound under a spray of addresses
                self._buckets.clear()
            return (1.0 - tokens) / per_second


# ---- coordinates --------------------------------------------------------------------------------

@cache
def _to_lonlat() -> Transformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pyproj
        from pyproj import Transformer
    try:
        pyproj.datadir.get_data_dir()
    except pyproj.exceptions.DataDirError:
        pyproj.datadir.set_data_dir("/usr/share/proj")
    return Transformer.from_crs(STORE_SRID, 4490, always_xy=True)


def lonlat(x: float | None, y: float | None) -> tuple[float | None, float | None]:
    """(lat, long) of a store point, 8 decimals (CGCS2000 ≈ WGS84 to centimetres)."""
    if x is None or y is None:
        return None, None
    lon, lat = _to_lonlat().transform(x, y)
    if not (math.isfinite(lon) and math.isfinite(lat)):
        return None, None
    return round(lat, 8), round(lon, 8)


# ---- time ---------------------------------------------------------------------------------------

def w3(at: datetime | None) -> str | None:
    """A stored (China Standard Time, naive) time in the spec's w3 format, e.g. 2026-03-02T09:00:00+08:00."""
    if at is None:
        return None
    return f"{at:%Y-%m-%dT%H:%M:%S}+08:00"  # the stored times are China Standard Time (app.domain.clock)


_W3 = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$")


def parse_w3(name: str, value: str) -> datetime:
    """A w3 datetime (or date) from a query as naive China Standard Time; 400 when it is not one."""
    text = (value or "").strip()
    if not _W3.match(text):
        raise Open311Error(400, Msg("{name} 应为 W3C 日期时间，如 2010-01-01T00:00:00Z，实际为「{value}」",
                                    name=name, value=text[:40]))
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        raise Open311Error(400, Msg("{name} 应为 W3C 日期时间，如 2010-01-01T00:00:00Z，实际为「{value}」",
                                    name=name, value=text[:40])) from None
    try:
        if at.tzinfo is not None:
            at = at.astimezone(CST).replace(tzinfo=None)
        if not datetime(1900, 1, 1) <= at <= datetime(9000, 1, 1):
            raise OverflowError
    except OverflowError:
        raise Open311Error(400, Msg("{name} 超出可用的日期范围：{value}", name=name, value=text[:40])) from None
    return at


def window(now: datetime, start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """The spec's date range: the most recent 90 days by default, never longer than 90 days."""
    first = parse_w3("start_date", start) if start else None
    last = parse_w3("end_date", end) if end else None
    if first is None and last is None:
        return now - WINDOW, now
    if first is None:
        assert last is not None
        return last - WINDOW, last
    if last is None:
        return first, min(first + WINDOW, max(now, first))
    if last < first:
        raise Open311Error(400, Msg("end_date 早于 start_date"))
    if last - first > WINDOW:
        raise Open311Error(400, Msg("start_date 到 end_date 不能超过 90 天"))
    return first, last


# ---- services -----------------------------------------------------------------------------------

def service_code(kind: str, code: str) -> str:
    return f"{kind}:{code}"


def parse_service_code(text: str) -> tuple[str, str]:
    """(kind, code) of a service code ``kind:code`` (or a bare 5-digit event code); 404 when malformed."""
    raw = (text or "").strip()
    kind, sep, code = raw.partition(":")
    if not sep:
        kind, code = Kind.EVENT.value, raw
    if kind not in {k.value for k in Kind} or not re.fullmatch(r"\d{5}", code):
        raise Open311Error(404, Msg("没有服务代码「{code}」", code=raw[:40]))
    return kind, code


@dataclass(frozen=True)
class Service:
    """A category as an Open311 service (``description``: the kind and major group, in the server's language)."""

    code: str
    name: str
    description: Msg
    metadata: bool
    group: str
    keywords: str
    kind: str


def services(store: Store) -> list[Service]:
    """Every category the city uses as an Open311 service (realtime: the request id comes at once)."""
    with store.session() as session:
        rows = db.enabled_categories(session)
    return [Service(service_code(kind, code), name,
                    Msg("{kind}：{major}—{name}", kind=Kind(kind), major=major_name, name=name),
                    kind == Kind.COMPONENT.value, major_name, f"{name},{major_name}", kind)
            for kind, code, name, _major_code, major_name in rows]


def service(store: Store, code: str, items: list[Service] | None = None) -> Service:
    """The service ``code`` of ``items`` (default: read now); 404 when there is none."""
    kind, number = parse_service_code(code)
    wanted = service_code(kind, number)
    for s in services(store) if items is None else items:
        if s.code == wanted:
            return s
    raise Open311Error(404, Msg("没有服务代码「{code}」", code=code[:40]))


COMPONENT_ATTRIBUTE = "component_code"


def attributes(svc: Service, translate: Any = str) -> list[dict[str, Any]]:
    """The service definition's attributes: a component category asks for the component's code
    (``translate``: Msg → text in the server's language)."""
    if svc.kind != Kind.COMPONENT.value:
        return []
    return [{"variable": True, "code": COMPONENT_ATTRIBUTE, "datatype": "string", "required": False,
             "datatype_description": translate(Msg("17 位部件标识码（部件上的标牌）")), "order": 1,
             "description": translate(Msg("部件标识码：若能看到部件上的编号请填写，否则留空")), "values": []}]


# ---- request documents --------------------------------------------------------------------------

#: The status notes of each state (Chinese; the server translates with the catalogue).
STATE_NOTES: dict[CaseState, Msg] = {
    CaseState.REPORTED: Msg("已受理，等待现场核实"),
    CaseState.VERIFYING: Msg("监督员正在现场核实"),
    CaseState.FILED: Msg("已立案，等待派遣"),
    CaseState.DISPATCHED: Msg("已派遣到处置部门"),
    CaseState.HANDLING: Msg("处置部门正在处置"),
    CaseState.RETURN_REQUESTED: Msg("处置部门正在处置"),
    CaseState.EXTENSION_REQUESTED: Msg("处置部门正在处置"),
    CaseState.DEFER_REQUESTED: Msg("处置部门正在处置"),
    CaseState.SHELVE_REQUESTED: Msg("处置部门正在处置"),
    CaseState.DEFERRED: Msg("已批准缓办，暂缓处置"),
    CaseState.SHELVED: Msg("已挂账，列入计划处置"),
    CaseState.FED_BACK: Msg("处置完毕，等待核查"),
    CaseState.CHECKING: Msg("处置完毕，监督员正在核查"),
    CaseState.CHECKED: Msg("核查通过，等待结案"),
    CaseState.VOID_REQUESTED: Msg("处置部门正在处置"),
    CaseState.DISPUTED: Msg("正在协调处置部门"),
    CaseState.CLOSED: Msg("已结案"),
    CaseState.VOIDED: Msg("已作废"),
    CaseState.NOT_FILED: Msg("不予立案"),
}


def status_of(state: str) -> str:
    return CLOSED if CaseState(state) in CLOSED_STATES else OPEN


@cache
def _reply_patterns() -> list[tuple[re.Pattern[str], str]]:
    """The automatic replies' templates (app/domain/derived.py) as patterns that take a written reply apart."""
    from app.domain.derived import TEMPLATES

    out = []
    for template in TEMPLATES.values():
        parts = re.split(r"\{(\w+)\}", template)
        pattern = "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*?)" for i, p in enumerate(parts))
        out.append((re.compile(pattern, re.S), template))
    return out


def reply_msg(text: str) -> Msg | str:
    """A reply as written, as the message of its template when it is an automatic one (so ``--lang en``
    shows it in English, its values as recorded); a reply written by hand as it is."""
    for pattern, template in _reply_patterns():
        found = pattern.fullmatch(text)
        if found is None:
            continue
        values: dict[str, Any] = dict(found.groupdict())
        when = re.fullmatch(r"于(\d{1,2})月(\d{1,2})日", values.get("when") or "")
        if values.get("when") and when is None:
            return text
        if when is not None:
            values["when"] = Msg("于{month}月{day}日", month=int(when.group(1)), day=int(when.group(2)))
        return Msg(template, **values)
    return text


def status_notes(row: db.RequestRow) -> Msg:
    """What the public reads about the request now (docs/open311.md has the table)."""
    state = CaseState(row.state)
    base = STATE_NOTES[state]
    if row.last_reply:  # 两次回复: the reply to the reporter, as written (the store keeps only one still in force)
        return Msg("{state}：{text}", state=base, text=reply_msg(row.last_reply))
    if state is CaseState.NOT_FILED and row.duplicate_of:
        return Msg("与已有请求 {number} 重复，合并处理", number=row.duplicate_of)
    if state is CaseState.CLOSED:
        return Msg("{state}：{text}", state=base, text=Msg("已处置完毕，经监督员现场核查后结案"))
    if state in (CaseState.NOT_FILED, CaseState.VOIDED):
        return Msg("{state}：{text}", state=base, text=row.last_reason or Msg("不符合立案标准"))
    return base


def request_documents(rows: list[db.RequestRow], translate: Any) -> list[dict[str, Any]]:
    """:func:`request_document` of every row, their points transformed in one call."""
    points = [(r.x, r.y) for r in rows if r.x is not None and r.y is not None]
    if not points:
        return [request_document(r, translate) for r in rows]
    lons, lats = _to_lonlat().transform([p[0] for p in points], [p[1] for p in points])
    found = iter(zip(lats, lons, strict=True))
    out = []
    for r in rows:
        if r.x is not None and r.y is not None:
            lat, lon = next(found)
            ok = math.isfinite(lat) and math.isfinite(lon)
            out.append(request_document(r, translate, (round(lat, 8), round(lon, 8)) if ok else (None, None)))
        else:
            out.append(request_document(r, translate, (None, None)))
    return out


def request_document(row: db.RequestRow, translate: Any,
                     at: tuple[float | None, float | None] | None = None) -> dict[str, Any]:
    """One request in the spec's field order (``translate``: Msg → text in the server's language;
    ``at``: its (lat, long) when already computed)."""
    lat, long = at if at is not None else lonlat(row.x, row.y)
    state = CaseState(row.state)
    expected = None if state in CLOSED_STATES else (row.handle_deadline_at or row.deadline_at)
    updated = row.closed_at if state in CLOSED_STATES and row.closed_at else (row.last_event_at or row.updated_at)
    return {
        "service_request_id": row.number,
        "status": status_of(row.state),
        "status_notes": translate(status_notes(row)),
        "service_name": row.category_name,
        "service_code": service_code(row.kind, row.category_code),
        "description": row.description,
        "agency_responsible": row.department,
        "service_notice": None,
        "requested_datetime": w3(row.reported_at),
        "updated_datetime": w3(updated or row.reported_at),
        "expected_datetime": w3(expected),
        "address": row.address,
        "address_id": None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "media_url": row.media_url,
    }


@dataclass(frozen=True)
class RequestQuery:
    """GET requests' parameters, checked."""

    ids: tuple[str, ...] = ()
    categories: tuple[tuple[str, str], ...] = ()
    states: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None


def _split(value: str | Iterable[str] | None) -> list[str]:
    values = [value] if isinstance(value, str) else list(value or ())
    return [p.strip() for v in values for p in v.split(",") if p.strip()]


def request_query(params: Mapping[str, Any], now: datetime) -> RequestQuery:
    """Check GET requests' parameters (lists may be comma-delimited or repeated)."""
    ids = _split(params.get("service_request_id"))
    if len(ids) > MAX_IDS:
        raise Open311Error(400, Msg("service_request_id 至多 {n} 个", n=MAX_IDS))
    if any(len(i) > 40 for i in ids):
        raise Open311Error(400, Msg("service_request_id 太长"))
    if not all(_plain(i) for i in ids):  # PostgreSQL refuses a NUL in a query: never send one
        raise Open311Error(400, Msg("service_request_id 含有控制字符"))
    if ids:  # the spec: ids override every other parameter
        return RequestQuery(ids=tuple(ids))
    codes = _split(params.get("service_code"))
    cats: list[tuple[str, str]] = []
    for code in codes[:200]:
        try:
            cats.append(parse_service_code(code))
        except Open311Error:
            raise Open311Error(400, Msg("service_code「{code}」无效", code=code[:40])) from None
    statuses = _split(params.get("status"))
    states: tuple[str, ...] | None = None
    if statuses:
        wanted = {s.lower() for s in statuses}
        if not wanted <= {OPEN, CLOSED}:
            raise Open311Error(400, Msg("status 只能是 open 或 closed，实际为「{value}」",
                                        value=",".join(sorted(wanted - {OPEN, CLOSED}))[:40]))
        states = tuple(s.value for s in CaseState if status_of(s.value) in wanted)
    start, end = window(now, _one(params, "start_date"), _one(params, "end_date"))
    return RequestQuery(categories=tuple(cats), states=states, start=start, end=end)


def _one(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else None
    return value if value else None


def find_requests(store: Store, query: RequestQuery) -> list[db.RequestRow]:
    with store.session() as session:
        if query.ids:
            return db.requests_by_number(session, list(query.ids))
        assert query.start is not None and query.end is not None
        return db.find_requests(session, start=query.start, end=query.end, categories=query.categories,
                                states=query.states, limit=MAX_RESULTS)


def one_request(store: Store, number: str) -> db.RequestRow:
    with store.session() as session:
        rows = db.requests_by_number(session, [number]) if len(number) <= 40 and _plain(number) else []
    if not rows:
        raise Open311Error(404, Msg("没有服务请求「{id}」", id=number[:40]))
    return rows[0]


def token_request(store: Store, token: str) -> str:
    with store.session() as session:
        number = db.token_request(session, token) if len(token) <= 40 and _plain(token) else None
    if number is None:
        raise Open311Error(404, Msg("没有令牌「{token}」", token=token[:40]))
    return number


def _plain(text: str) -> bool:
    """Whether an id has no control character (a case number or token never has; PostgreSQL refuses NUL)."""
    return not any(ord(ch) < 32 or ord(ch) == 127 for ch in text)


def record_token(store: Store, case_number: str, key_id: int | None, media_url: str | None, now: datetime) -> str:
    """Hand out the token of a request just posted (the case exists, so the id is known at once)."""
    token = secrets.token_hex(16)
    with store.session() as session, session.begin():
        case_id = db.case_id_of_number(session, case_number)
        assert case_id is not None
        db.add_token(session, token, case_id, key_id, media_url, now)
    return token


def login_username(store: Store) -> str | None:
    """The username of the store's PostgreSQL login (the intake records its events as that user)."""
    with store.session() as session:
        return db.login_username(session)


# ---- posted values ------------------------------------------------------------------------------

def number(name: str, value: Any, low: float, high: float) -> float:
    try:
        out = float(str(value).strip())
    except (TypeError, ValueError):
        raise Open311Error(400, Msg("{name} 应为数字，实际为「{value}」", name=name, value=str(value)[:40])) from None
    if not math.isfinite(out) or not low <= out <= high:
        raise Open311Error(400, Msg("{name} 超出范围：应在 {low} 与 {high} 之间", name=name, low=low, high=high))
    return out


@dataclass
class Posted:
    """POST requests' fields, checked (the report command's values come from it)."""

    service: Service
    lat: float | None = None
    long: float | None = None
    address: str | None = None
    description: str = ""
    reporter: str | None = None
    phone: str | None = None
    email: str | None = None
    media_url: str | None = None
    component: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


__all__ = ["CLOSED", "KEY_PREFIX", "MAX_RESULTS", "NewKey", "OPEN", "Open311Error", "Posted", "RateLimiter",
           "RequestQuery", "STATE_NOTES", "Service", "WINDOW", "add_key", "attributes", "check_key",
           "find_requests", "hash_key", "list_keys", "lonlat", "number", "one_request", "parse_service_code",
           "parse_w3", "record_token", "request_document", "request_documents", "request_query", "revoke_key", "service", "services",
           "status_notes", "status_of", "token_request", "w3", "window"]

