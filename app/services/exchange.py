"""Exchange with an upper platform over Open311 (issue 16, item 4): the hall's side of it, without HTTP.

The HTTP client and the run that drives it live in ``app.open311.client``; this module holds what
needs the store and the rules, so a run is idempotent and resumable:

- :class:`ExchangeBook` — the links (hall case ↔ platform request), cursors and log of one
  endpoint. Every item is committed on its own: a claim before the case (or the remote request)
  is made, the link, the cursor and the log line after it, so a run stopped anywhere resumes and
  never makes a second case for one request;
- :func:`report_values` — a platform request as the values of the 上报 command (category from the
  service code, point from lat/long, the request id in the description);
- :func:`platform_status` — the status an Open311 platform gets for a state (basic and the
  FixMyStreet/mySociety extended set of ``servicerequestupdates``).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy.exc import IntegrityError

from app.domain.clock import Clock
from app.domain.definitions import CaseState, Source
from app.domain.messages import Msg
from app.domain.text import MAX_DESCRIPTION
from app.services.errors import ValidationError
from app.store import exchange as book
from app.store.engine import Store

#: The source a pulled request is reported with: the upper platform forwards the public's reports,
#: so they get the public's treatment (verification before filing, the two replies).
PULLED_SOURCE = Source.PUBLIC
#: How the description of a pulled case names its request (also the key that recovers a claim).
MARKER = "（上级平台编号 {remote_id}）"
#: The spec's longest window of one GET requests (days).
MAX_WINDOW_DAYS = 90
#: Directions of the log and the cursors.
PULL, PUSH = "pull", "push"

#: (basic Open311 status, FixMyStreet/mySociety extended status) of each state.
_STATUS: dict[CaseState, tuple[str, str]] = {
    CaseState.REPORTED: ("open", "OPEN"),
    CaseState.VERIFYING: ("open", "INVESTIGATING"),
    CaseState.NOT_FILED: ("closed", "NO_FURTHER_ACTION"),
    CaseState.FILED: ("open", "ACTION_SCHEDULED"),
    CaseState.DISPATCHED: ("open", "ACTION_SCHEDULED"),
    CaseState.CLOSED: ("closed", "FIXED"),
    CaseState.VOIDED: ("closed", "CLOSED"),
}


def platform_status(state: CaseState | str, *, duplicate: bool = False) -> tuple[str, str]:
    """(``open``/``closed``, extended upper-case status) of a hall state; a linked duplicate is DUPLICATE."""
    parsed = CaseState(state)
    if duplicate and parsed is CaseState.NOT_FILED:
        return "closed", "DUPLICATE"
    return _STATUS.get(parsed, ("open", "IN_PROGRESS"))


def normalise_endpoint(url: str) -> str:
    """The endpoint as stored: scheme and host lower-case, no query, no trailing slash.

    Refuses anything but http(s) URLs with a host (ValidationError naming ``endpoint``).
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValidationError("endpoint", Msg("交换地址「{url}」无效：应为 http:// 或 https:// 开头的网址", url=text[:200]))
    if parts.username or parts.password:
        raise ValidationError("endpoint", Msg("交换地址不能包含用户名或密码：请用 --api-key 给出密钥"))
    path = parts.path.rstrip("/")
    out = urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))
    if len(out) > 200:
        raise ValidationError("endpoint", Msg("交换地址太长（{n} 个字符，最多 200）", n=len(out)))
    return out


def platform_key(text: str) -> str:
    """How links, cursors and the log name a platform: a name (letters, digits, ``_.-:``), else its endpoint."""
    name = (text or "").strip()
    if "://" in name:
        return normalise_endpoint(name)
    if not name or len(name) > 64 or not all(c.isalnum() or c in "_.-:" for c in name):
        raise ValidationError("platform", Msg("平台名称「{name}」无效：只能用字母、数字和 _.-:，至多 64 个字符",
                                              name=name[:80]))
    return name


def parse_remote_time(text: object) -> datetime | None:
    """A W3C datetime of the platform as naive China Standard Time (the store's convention)."""
    if not isinstance(text, str) or not text.strip():
        return None
    raw = text.strip().replace("Z", "+00:00")
    try:
        value = datetime.fromisoformat(raw)
        if value.tzinfo is not None:
            value = value.astimezone(timezone(timedelta(hours=8))).replace(tzinfo=None)
    except (ValueError, OverflowError):  # not a time, or out of range once in China Standard Time (0001-01-01+09:00)
        return None
    if not datetime(1900, 1, 1) <= value <= datetime(9000, 1, 1):  # as the server's parse_w3: no real request's time
        return None
    return value


def w3c(value: datetime) -> str:
    """A naive China Standard Time as the W3C datetime Open311 wants (with +08:00)."""
    return value.replace(microsecond=0).isoformat() + "+08:00"


def store_to_lonlat(x: float, y: float) -> tuple[float, float]:
    """EPSG:4549 x/y → CGCS2000 longitude/latitude (≈ WGS84 to centimetres), for a request sent up."""
    import pyproj
    from pyproj import Transformer

    from app.domain.definitions import STORE_SRID

    try:
        pyproj.datadir.get_data_dir()
    except pyproj.exceptions.DataDirError:  # as app.services.location: Debian's PROJ data
        pyproj.datadir.set_data_dir("/usr/share/proj")
    lon, lat = Transformer.from_crs(STORE_SRID, 4490, always_xy=True).transform(x, y)
    return float(lon), float(lat)


def report_values(request: Mapping[str, Any], service_map: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The 上报 command's values for one platform request (ValidationError when it cannot be taken in).

    The category is ``service_map[service_code]`` if given, else the service code itself (a
    GB/T 47678.5 code such as ``event:06010`` or ``06010``, as this hall's own Open311 server
    names its services). The point comes from ``long``/``lat`` (WGS84), else the address is
    located. The description ends with the request's id (:data:`MARKER`).
    """
    remote_id = str(request.get("service_request_id") or "").strip()
    if not remote_id:
        raise ValidationError("service_request_id", Msg("上级平台的请求没有 service_request_id"))
    for name in ("service_request_id", "service_code", "description", "service_name", "address"):
        if isinstance(request.get(name), (dict, list)):  # the platform's schema is not GeoReport's
            raise ValidationError(name, Msg("上级平台请求 {remote_id} 的 {name} 应为文本", remote_id=remote_id[:64],
                                            name=name))
        if "\x00" in str(request.get(name) or ""):  # PostgreSQL refuses a NUL in a query
            raise ValidationError(name, Msg("上级平台请求 {remote_id} 的 {name} 含有 NUL 字符", remote_id=remote_id[:64],
                                            name=name))
    code = str(request.get("service_code") or "").strip()
    category = (service_map or {}).get(code, code)
    if not category:
        raise ValidationError("service_code", Msg("上级平台请求 {remote_id} 没有 service_code", remote_id=remote_id))
    values: dict[str, Any] = {"category": category, "source": PULLED_SOURCE.value}
    lon, lat = _number(request.get("long")), _number(request.get("lat"))
    address = str(request.get("address") or "").strip() or None
    if lon is not None and lat is not None:
        values["lonlat"] = (lon, lat)
    elif address is None:
        raise ValidationError("location", Msg("上级平台请求 {remote_id} 既没有坐标也没有地址", remote_id=remote_id))
    if address:
        values["address"] = address[:200]
    marker = MARKER.format(remote_id=remote_id)
    description = str(request.get("description") or "").strip() or str(request.get("service_name") or "").strip()
    room = MAX_DESCRIPTION - len(marker)
    values["description"] = (description[:room] if description else "") + marker
    return values


def _number(value: object) -> float | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


@dataclass(frozen=True)
class Claim:
    """A claimed item: the link row written before the case (or remote request) is made."""

    link_id: int
    remote_id: str | None
    case_id: int | None


class ExchangeBook:
    """The links, cursors and log of one endpoint; each method is its own committed transaction."""

    def __init__(self, store: Store, clock: Clock, endpoint: str, *, run_id: str | None = None) -> None:
        self.store = store
        self.clock = clock
        self.endpoint = platform_key(endpoint)
        self.run_id = run_id or self.clock.now().strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3)

    # -- reads ---------------------------------------------------------------------------------

    def link_of_remote(self, remote_id: str) -> book.Link | None:
        with self.store.session() as s:
            return book.link_of_remote(s, self.endpoint, remote_id)

    def link_of_case(self, case_id: int) -> book.Link | None:
        with self.store.session() as s:
            return book.link_of_case(s, self.endpoint, case_id)

    def links(self, state: str | None = None) -> list[book.Link]:
        with self.store.session() as s:
            return book.links(s, self.endpoint, state=state)

    def cursor(self, direction: str) -> str | None:
        with self.store.session() as s:
            return book.get_cursor(s, self.endpoint, direction)

    def log_rows(self, *, this_run: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        with self.store.session() as s:
            return book.log_rows(s, run_id=self.run_id if this_run else None, endpoint=self.endpoint, limit=limit)

    def pending_status(self) -> list[tuple[book.Link, int]]:
        with self.store.session() as s:
            return book.pending_status(s, self.endpoint)

    def hall_cases_to_send(self, sources: list[str], since: datetime, limit: int = 500) -> list[int]:
        with self.store.session() as s:
            return book.hall_cases_to_send(s, self.endpoint, sources, since, limit)

    # -- writes (one transaction each) ---------------------------------------------------------

    def log(self, direction: str, outcome: str, *, remote_id: str | None = None, case_id: int | None = None,
            detail: str | None = None) -> None:
        with self.store.session() as s, s.begin():
            book.add_log(s, run_id=self.run_id, at=self.clock.now(), endpoint=self.endpoint, direction=direction,
                         outcome=outcome, remote_id=remote_id, case_id=case_id, detail=(detail or None))

    def claim_remote(self, remote_id: str) -> Claim | None:
        """Claim a platform request before its case is made; None when it is linked or claimed already."""
        try:
            with self.store.session() as s, s.begin():
                link_id = book.claim(s, endpoint=self.endpoint, origin="remote", remote_id=remote_id,
                                     now=self.clock.now())
        except IntegrityError:
            return None
        return Claim(link_id, remote_id, None)

    def recover(self, link: book.Link) -> int | None:
        """A claim left by a run that stopped between its claim and its link: the case it made (found by
        the request id in the description, reported after the claim), linked now; None if it made none."""
        assert link.remote_id is not None
        with self.store.session() as s, s.begin():
            since = book.claimed_at(s, link.id)
            case_id = book.case_with_marker(s, MARKER.format(remote_id=link.remote_id),
                                            since - timedelta(seconds=1) if since else datetime.min)
            if case_id is not None:
                book.set_link(s, link.id, self.clock.now(), case_id=case_id, state="linked")
        return case_id

    def linked(self, claim: Claim, case_id: int, *, direction: str, mark: str | None, outcome: str,
               remote_id: str | None = None, detail: str | None = None) -> None:
        """The item is made: link it, move the cursor to ``mark`` and log it, in one transaction."""
        now = self.clock.now()
        with self.store.session() as s, s.begin():
            values: dict[str, Any] = {"case_id": case_id, "state": "linked"}
            if remote_id is not None:
                values["remote_id"] = remote_id
            book.set_link(s, claim.link_id, now, **values)
            if mark is not None:
                _forward(s, self.endpoint, direction, mark, now)
            book.add_log(s, run_id=self.run_id, at=now, endpoint=self.endpoint, direction=direction, outcome=outcome,
                         remote_id=remote_id or claim.remote_id, case_id=case_id, detail=detail)

    def drop_claim(self, claim: Claim) -> None:
        """The item was certainly not made (refused before any write, or the platform unreachable)."""
        with self.store.session() as s, s.begin():
            book.drop_claim(s, claim.link_id)

    def uncertain(self, claim: Claim, detail: str) -> None:
        """A send whose answer was lost: kept as ``uncertain`` (not sent again by itself), logged."""
        now = self.clock.now()
        with self.store.session() as s, s.begin():
            book.set_link(s, claim.link_id, now, state="uncertain")
            book.add_log(s, run_id=self.run_id, at=now, endpoint=self.endpoint, direction=PUSH, outcome="uncertain",
                         case_id=claim.case_id, detail=detail)

    def claim_hall(self, case_id: int) -> Claim | None:
        """Claim a hall case before it is sent up; None when it has a link to this endpoint already."""
        try:
            with self.store.session() as s, s.begin():
                link_id = book.claim(s, endpoint=self.endpoint, origin="hall", case_id=case_id, now=self.clock.now())
        except IntegrityError:
            return None
        return Claim(link_id, None, case_id)

    def advance_to(self, direction: str, mark: str) -> None:
        """Move the cursor forward to ``mark`` (never back)."""
        with self.store.session() as s, s.begin():
            _forward(s, self.endpoint, direction, mark, self.clock.now())

    def refused(self, direction: str, *, mark: str | None, remote_id: str | None, detail: str,
                case_id: int | None = None) -> None:
        """An item that cannot be taken (bad data): logged, and the cursor moves past it."""
        now = self.clock.now()
        with self.store.session() as s, s.begin():
            if mark is not None:
                _forward(s, self.endpoint, direction, mark, now)
            book.add_log(s, run_id=self.run_id, at=now, endpoint=self.endpoint, direction=direction,
                         outcome="refused", remote_id=remote_id, case_id=case_id, detail=detail)

    def pushed(self, link: book.Link, event_id: int, status: str, *, detail: str | None = None,
               reply: Mapping[str, Any] | None = None, outcome: str | None = "updated") -> None:
        """A status update went out: the link's high-water mark, the push cursor, the log line and the
        delivery record of the reply it carried (``reply``: app.store.replies.record_delivery's values)."""
        from app.store.replies import delivered_events, record_delivery

        now = self.clock.now()
        with self.store.session() as s, s.begin():
            book.set_link(s, link.id, now, pushed_event_id=event_id, remote_status=status)
            _forward(s, self.endpoint, PUSH, str(event_id), now)
            if reply is not None and not delivered_events(s, [int(reply["event_id"])]):
                record_delivery(s, **{**reply, "done_at": now})
            if outcome is not None:  # None: the mark moves on, nothing was sent
                book.add_log(s, run_id=self.run_id, at=now, endpoint=self.endpoint, direction=PUSH, outcome=outcome,
                             remote_id=link.remote_id, case_id=link.case_id, detail=detail)


def _later(direction: str, mark: str, previous: str | None) -> bool:
    if previous is None:
        return True
    if direction == PUSH:  # case event ids
        return not previous.isdigit() or int(mark) > int(previous)
    new, old = parse_remote_time(mark), parse_remote_time(previous)
    return old is None or (new is not None and new > old)


def _forward(session: Any, endpoint: str, direction: str, mark: str, now: datetime) -> None:
    """The cursor moved to ``mark`` unless it is there or further already."""
    if _later(direction, mark, book.get_cursor(session, endpoint, direction)):
        book.set_cursor(session, endpoint, direction, mark, now)


__all__ = ["MARKER", "MAX_WINDOW_DAYS", "PULL", "PULLED_SOURCE", "PUSH", "Claim", "ExchangeBook", "normalise_endpoint",
           "parse_remote_time", "platform_key", "platform_status", "report_values", "store_to_lonlat", "w3c"]
