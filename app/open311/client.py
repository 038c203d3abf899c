"""The exchange client (issue 16, item 4): cases in and out of an upper platform that speaks Open311.

``Open311Client`` is the HTTP side (httpx): ``GET requests.json`` with a date window, ``POST
requests.json`` and FixMyStreet/mySociety's ``POST servicerequestupdates.json`` (Open311 v2 has no
verb for a status change; docs/exchange.md says what is sent). Every failure is one
:class:`ExchangeError` whose ``kind`` tells whether the platform may have acted on the call:

- ``unreachable`` — nothing reached it (connection refused, DNS): safe to send again;
- ``lost`` — sent, answer lost (time-out, reset): the platform may have acted;
- ``refused`` — a 4xx with the spec's ``errors`` body; ``server`` — a 5xx; ``answer`` — unreadable.

``Exchange`` drives a run over the core: ``pull`` takes new requests in as 上报 through the command
layer (as any intake), ``push`` sends hall cases up (``send_new``) and status changes with the
replies out. The bookkeeping (claims, links, cursors, log: app.services.exchange) makes a repeated
run create nothing twice and a failed run resume where it stopped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core import Core
from app.domain.definitions import Action, CaseState
from app.domain.messages import Msg
from app.services import replies
from app.services.actors import Actor
from app.services.errors import ServiceError, ValidationError
from app.services.exchange import (
    MAX_WINDOW_DAYS,
    PULL,
    PUSH,
    Claim,
    ExchangeBook,
    normalise_endpoint,
    parse_remote_time,
    platform_status,
    report_values,
    store_to_lonlat,
    w3c,
)

log = logging.getLogger(__name__)

#: Seconds to wait for a connection and for an answer.
TIMEOUT = 15.0
#: What the spec suggests a server returns at most per GET requests; a full answer is split.
MAX_PER_CALL = 1000
#: A pull's window never ends closer to now than this: a request the platform is still writing
#: (its clock a little ahead of ours) is looked at again by the next run.
SAFETY = timedelta(minutes=10)
#: The largest answer read (a full page of 1,000 requests with 2,000-character descriptions is ~7 MB).
MAX_ANSWER_BYTES = 32 * 1024 * 1024
#: A whole answer must arrive within this many times the time-out (which bounds each read only).
ANSWER_WITHIN = 4
#: Refusals of a whole run, not of one case: a missing or wrong key (401, 403), past the platform's rate (429).
RUN_REFUSALS = frozenset({401, 403, 429})
#: The longest request id the links keep (exchange_links.remote_id).
MAX_REMOTE_ID = 64


class ExchangeError(ServiceError):
    """An Open311 call failed; ``kind``: unreachable | lost | refused | server | answer."""

    def __init__(self, kind: str, message: Msg, *, status: int | None = None):
        super().__init__(message)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class RemoteUpdate:
    """What ``POST servicerequestupdates`` sends for one status change."""

    service_request_id: str
    update_id: str
    status: str  # mySociety's upper-case extended status (OPEN, FIXED, …)
    description: str
    updated: datetime


class Open311Client:
    """An Open311 GeoReport v2 client of one endpoint (``transport``: httpx's, for a test's own)."""

    def __init__(self, endpoint: str, api_key: str, *, jurisdiction_id: str | None = None, timeout: float = TIMEOUT,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = normalise_endpoint(endpoint)
        if not (api_key or "").strip():
            raise ValidationError("api_key", Msg("缺少上级平台的 API 密钥（--api-key）"))
        self.api_key = api_key.strip()
        self.timeout = timeout
        self.jurisdiction_id = (jurisdiction_id or "").strip() or None
        self.http = httpx.Client(timeout=httpx.Timeout(timeout), transport=transport, follow_redirects=False,
                                 headers={"User-Agent": "GridHall-exchange/1", "Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Open311Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _common(self) -> dict[str, str]:
        out = {"api_key": self.api_key}
        if self.jurisdiction_id:
            out["jurisdiction_id"] = self.jurisdiction_id
        return out

    def _call(self, method: str, path: str, *, params: Mapping[str, str] | None = None,
              data: Mapping[str, str] | None = None) -> Any:
        url = f"{self.endpoint}/{path}"
        try:
            with self.http.stream(method, url, params=params, data=data) as answer:
                body = self._body(answer, path, MAX_ANSWER_BYTES)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ExchangeError("unreachable", Msg("连不上上级平台 {url}：{error}", url=self.endpoint,
                                                   error=_short(exc))) from None
        except httpx.HTTPError as exc:  # sent: a read time-out, a reset, a protocol error
            raise ExchangeError("lost", Msg("上级平台 {url} 没有回应（{error}）：这次调用可能已生效",
                                            url=self.endpoint, error=_short(exc))) from None
        if 300 <= answer.status_code < 400:  # never followed: it could lead anywhere
            raise ExchangeError("refused", Msg("上级平台把 {path} 重定向到「{location}」：请用最终的地址作为 --endpoint",
                                               path=path, location=answer.headers.get("location", "")[:200]),
                                status=answer.status_code)
        if answer.status_code >= 400:
            kind = "server" if answer.status_code >= 500 else "refused"
            raise ExchangeError(kind, Msg("上级平台拒绝了 {method} {path}：HTTP {status} {errors}", method=method,
                                          path=path, status=answer.status_code, errors=_errors(body)),
                                status=answer.status_code)
        try:
            return json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past the parser's depth
            raise ExchangeError("answer", Msg("上级平台 {path} 的回答不是 JSON", path=path),
                                status=answer.status_code) from None

    def _body(self, answer: httpx.Response, path: str, limit: int) -> bytes:
        """The answer's body: at most ``limit`` bytes, all of it within ANSWER_WITHIN time-outs."""
        deadline = time.monotonic() + ANSWER_WITHIN * self.timeout
        data = bytearray()
        for chunk in answer.iter_bytes():
            data += chunk
            if len(data) > limit:
                raise ExchangeError("answer", Msg("上级平台 {path} 的回答太大：超过 {limit} 字节", path=path, limit=limit),
                                    status=answer.status_code)
            if time.monotonic() > deadline:
                raise ExchangeError("lost", Msg("上级平台 {url} 的回答在 {seconds} 秒内没有传完：这次调用可能已生效",
                                                url=self.endpoint, seconds=round(ANSWER_WITHIN * self.timeout)),
                                    status=answer.status_code)
        return bytes(data)

    def requests(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """``GET requests.json`` of the window [start, end] (China Standard Time)."""
        doc = self._call("GET", "requests.json", params={**self._common(), "start_date": w3c(start),
                                                         "end_date": w3c(end)})
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise ExchangeError("answer", Msg("上级平台 {path} 的回答不是请求列表", path="requests.json"))
        return doc

    def media(self, url: str, limit: int) -> bytes:
        """The photo at ``url`` (a request's ``media_url``): no redirect followed, at most ``limit`` bytes."""
        try:
            with self.http.stream("GET", url, headers={"Accept": "image/*"}) as answer:
                if answer.status_code != 200:
                    raise ExchangeError("refused", Msg("media_url 取不到照片（HTTP {status}）", status=answer.status_code),
                                        status=answer.status_code)
                deadline = time.monotonic() + ANSWER_WITHIN * self.timeout
                data = bytearray()
                for chunk in answer.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise ExchangeError("refused", Msg("media_url 的照片太大：超过 {limit} 字节", limit=limit))
                    if time.monotonic() > deadline:
                        raise ExchangeError("lost", Msg("media_url 取不到照片：{error}", error="timed out"))
        except httpx.HTTPError as exc:
            raise ExchangeError("lost", Msg("media_url 取不到照片：{error}", error=_short(exc))) from None
        return bytes(data)

    def post_request(self, fields: Mapping[str, str]) -> str:
        """``POST requests.json`` (form-encoded, as the spec says); the new ``service_request_id`` (or token)."""
        doc = self._call("POST", "requests.json", data={**self._common(), **fields})
        first = doc[0] if isinstance(doc, list) and doc and isinstance(doc[0], dict) else {}
        rid = first.get("service_request_id") or first.get("token")
        if not rid:
            raise ExchangeError("answer", Msg("上级平台 {path} 的回答没有 service_request_id", path="requests.json"))
        if not isinstance(rid, (str, int)) or isinstance(rid, bool) or not 0 < len(str(rid).strip()) <= MAX_REMOTE_ID:
            raise ExchangeError("answer", Msg("上级平台 {path} 回答的 service_request_id 无效：应为至多 {n} 个字符的文本",
                                              path="requests.json", n=MAX_REMOTE_ID))
        return str(rid).strip()

    def post_update(self, update: RemoteUpdate) -> str:
        """``POST servicerequestupdates.json`` (FixMyStreet/mySociety); the platform's update id."""
        doc = self._call("POST", "servicerequestupdates.json", data={
            **self._common(), "service_request_id": update.service_request_id, "update_id": update.update_id,
            "status": update.status, "updated_datetime": w3c(update.updated), "description": update.description})
        items = doc.get("service_request_updates") if isinstance(doc, dict) else doc
        first = items[0] if isinstance(items, list) and items and isinstance(items[0], dict) else {}
        return str(first.get("update_id") or update.update_id)


def _short(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:160]


def _errors(body: bytes) -> str:
    """The descriptions of the spec's ``errors`` body (JSON or XML), else the start of the body."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return _xml_errors(body) or body[:160].decode("utf-8", "replace")
    items = doc if isinstance(doc, list) else doc.get("errors", []) if isinstance(doc, dict) else []
    texts = [str(i.get("description")) for i in items if isinstance(i, dict) and i.get("description")]
    return "; ".join(texts)[:300]


def _xml_errors(body: bytes) -> str | None:
    """The descriptions of an XML ``<errors><error><description>`` body, or None."""
    from defusedxml import ElementTree  # type: ignore[import-untyped]
    from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError, RecursionError):
        return None
    if root.tag != "errors":
        return None
    texts = [(e.findtext("description") or "").strip() for e in root.findall("error")]
    return "; ".join(t for t in texts if t)[:300] or None


# --- a run ---------------------------------------------------------------------------------------

@dataclass
class RunSummary:
    """What a run did (counts per outcome) and, when it stopped early, why."""

    direction: str
    run_id: str
    counts: dict[str, int] = field(default_factory=dict)
    error: ServiceError | None = None  # an ExchangeError (a call failed) or the hall's refusal
    cursor: str | None = None

    def add(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    @property
    def ok(self) -> bool:
        return self.error is None


#: ``on_item(outcome, remote_id, case_id)``: told after each item (progress; tests stop a server there).
OnItem = Callable[[str, str | None, int | None], None]


class Exchange:
    """One platform's exchange over ``core`` acting as ``actor`` (an acceptor's account).

    ``platform`` names the platform in the links, cursors and log (default: the endpoint), so a
    platform that moves to another address keeps its links.
    """

    def __init__(self, core: Core, actor: Actor, client: Open311Client, *, platform: str | None = None,
                 service_map: Mapping[str, str] | None = None, max_per_call: int = MAX_PER_CALL,
                 media_hosts: Iterable[str] = (), on_item: OnItem | None = None) -> None:
        self.core = core
        self.actor = actor
        self.client = client
        self.book = ExchangeBook(core.store, core.clock, platform or client.endpoint)
        self.service_map = dict(service_map or {})
        self.max_per_call = max(1, max_per_call)
        self.on_item = on_item
        #: ``host`` or ``host:port`` whose ``media_url`` photos are fetched (none by default).
        self.media_hosts = frozenset(h.strip().lower() for h in media_hosts if h.strip())

    @property
    def run_id(self) -> str:
        return self.book.run_id

    def _told(self, summary: RunSummary, outcome: str, remote_id: str | None, case_id: int | None) -> None:
        summary.add(outcome)
        if self.on_item is not None:
            self.on_item(outcome, remote_id, case_id)

    # -- pull ---------------------------------------------------------------------------------

    def pull(self, *, since: datetime | None = None, until: datetime | None = None) -> RunSummary:
        """Take the platform's new requests in as 上报 (public reports); stops at the first failed call."""
        summary = RunSummary(PULL, self.run_id)
        now = self.core.clock.now()
        mark = self.book.cursor(PULL)
        start = since or parse_remote_time(mark) or now - timedelta(days=MAX_WINDOW_DAYS)
        end = until or now
        try:
            first = start
            while True:  # at least one window, even when the cursor is now (the mark's own second counts)
                last = max(first, min(first + timedelta(days=MAX_WINDOW_DAYS), end))
                self._pull_window(first, last, summary)
                if until is None and since is None:  # a window looked at whole moves the cursor on
                    self.book.advance_to(PULL, w3c(min(last, now - SAFETY)))
                if last >= end:
                    break
                first = last
        except ServiceError as exc:  # a failed call, or the hall refused an item: resumes next run
            summary.error = exc
            self.book.log(PULL, "failed", detail=str(exc))
        summary.cursor = self.book.cursor(PULL)
        return summary

    def _pull_window(self, start: datetime, end: datetime, summary: RunSummary) -> None:
        items = self.client.requests(start, end)
        if len(items) >= self.max_per_call and end - start > timedelta(seconds=2):
            middle = start + (end - start) / 2  # a full answer may have left some out: halve the window
            self._pull_window(start, middle, summary)
            self._pull_window(middle, end, summary)
            return
        items.sort(key=lambda r: (parse_remote_time(r.get("requested_datetime")) or datetime.min,
                                  str(r.get("service_request_id"))))
        for request in items:
            self._take(request, summary)

    def _take(self, request: Mapping[str, Any], summary: RunSummary) -> None:
        raw_id = request.get("service_request_id")
        remote_id = str(raw_id or "").strip() or None
        at = parse_remote_time(request.get("requested_datetime"))
        mark = w3c(at) if at is not None else None
        if remote_id is None:
            self.book.refused(PULL, mark=mark, remote_id=None, detail=str(Msg("上级平台的请求没有 service_request_id")))
            self._told(summary, "refused", None, None)
            return
        if (not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or len(remote_id) > MAX_REMOTE_ID
                or not remote_id.isprintable()):  # PostgreSQL refuses a NUL in a query: a poison id stopped every run
            self.book.refused(PULL, mark=mark, remote_id=None, detail=str(Msg(
                "上级平台请求的 service_request_id「{id}」无效：应为至多 {n} 个字符的文本", id=ascii(remote_id[:40])[1:-1],
                n=MAX_REMOTE_ID)))
            self._told(summary, "refused", None, None)
            return
        link = self.book.link_of_remote(remote_id)
        if link is not None and link.state == "claimed" and link.origin == "remote":
            case_id = self.book.recover(link)  # a run stopped between its claim and its link
            if case_id is not None:
                self.book.log(PULL, "recovered", remote_id=remote_id, case_id=case_id)
                self._told(summary, "recovered", remote_id, case_id)
                return
            self.book.drop_claim(Claim(link.id, remote_id, None))
            link = None
        if link is not None:
            self._told(summary, "known", remote_id, link.case_id)
            return
        try:
            values = report_values(request, self.service_map)
        except ValidationError as exc:
            self.book.refused(PULL, mark=mark, remote_id=remote_id, detail=str(exc))
            self._told(summary, "refused", remote_id, None)
            return
        claim = self.book.claim_remote(remote_id)
        if claim is None:  # another run took it meanwhile
            self._told(summary, "known", remote_id, None)
            return
        command = self.core.commands.by_verb("report") if self.core.commands is not None else None
        assert command is not None  # the built-in registry always has 上报
        photo_note = self._photo(request, values)
        try:
            try:
                result = command.run(self.core, self.actor, None, None, values)
            except ValidationError as exc:
                if exc.field != "photo" or not values.get("photos"):
                    raise
                photo_note = str(exc)  # a photo the hall refuses does not keep the report out
                result = command.run(self.core, self.actor, None, None, {**values, "photos": ()})
        except ValidationError as exc:  # the request's data: refused before anything was written
            self.book.drop_claim(claim)
            self.book.refused(PULL, mark=mark, remote_id=remote_id, detail=str(exc))
            self._told(summary, "refused", remote_id, None)
            return
        except ServiceError:  # the hall refused (rights, the database's clock, …): stop, take it next run
            self.book.drop_claim(claim)
            raise
        detail = result.case.number if photo_note is None else f"{result.case.number} {photo_note}"
        self.book.linked(claim, result.case.id, direction=PULL, mark=mark, outcome="created", detail=detail)
        self._told(summary, "created", remote_id, result.case.id)

    def _photo(self, request: Mapping[str, Any], values: dict[str, Any]) -> str | None:
        """Fetch the request's ``media_url`` into ``values["photos"]`` when its host is allowed; a note
        (why there is no photo) or None."""
        from urllib.parse import urlsplit

        from app.services.attachments import PhotoInput

        url = str(request.get("media_url") or "").strip()
        if not url:
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not (
                host in self.media_hosts or f"{host}:{parts.port}" in self.media_hosts):
            return str(Msg("照片未取：{host} 不在允许的主机中（--allow-media-host）", host=parts.netloc[:80]))
        try:
            data = self.client.media(url, self.core.cases.settings.max_photo_bytes)
        except ExchangeError as exc:
            return str(exc)
        name = parts.path.rsplit("/", 1)[-1][:80] or "media"
        values["photos"] = (PhotoInput(name, data, "report"),)
        return None

    # -- push ---------------------------------------------------------------------------------

    def push(self, *, send_new: Iterable[str] = (), since: datetime | None = None) -> RunSummary:
        """Send hall cases of the sources ``send_new`` up (POST requests), then every linked case's
        status changes and due replies (POST servicerequestupdates); stops at the first failed call."""
        summary = RunSummary(PUSH, self.run_id)
        sources = sorted(set(send_new))
        try:
            if sources:
                start = since or self.core.clock.now() - timedelta(days=MAX_WINDOW_DAYS)
                for case_id in self.book.hall_cases_to_send(sources, start):
                    self._send_case(case_id, summary)
            for link, newest in self.book.pending_status():
                self._push_status(link, newest, summary)
        except ServiceError as exc:
            summary.error = exc
            self.book.log(PUSH, "failed", detail=str(exc))
        summary.cursor = self.book.cursor(PUSH)
        return summary

    def _send_case(self, case_id: int, summary: RunSummary) -> None:
        claim = self.book.claim_hall(case_id)
        if claim is None:
            return
        case = self.core.cases.get(case_id)
        fields = self._request_fields(case)
        try:
            remote_id = self.client.post_request(fields)
        except ExchangeError as exc:
            if exc.kind == "unreachable" or (exc.kind == "refused" and exc.status in RUN_REFUSALS):
                self.book.drop_claim(claim)  # not this case's fault (the key, the rate): the run stops
                raise
            if exc.kind == "refused":
                self.book.drop_claim(claim)
                self.book.refused(PUSH, mark=None, remote_id=None, case_id=case_id, detail=str(exc))
                self._told(summary, "refused", None, case_id)
                return
            self.book.uncertain(claim, str(exc))
            raise
        self.book.linked(claim, case_id, direction=PUSH, mark=None, outcome="sent", remote_id=remote_id,
                         detail=case.number)
        self._told(summary, "sent", remote_id, case_id)

    def _request_fields(self, case: Any) -> dict[str, str]:
        kind = case.kind.value if hasattr(case.kind, "value") else str(case.kind)
        code = f"{kind}:{case.category_code}"
        reverse = {v: k for k, v in self.service_map.items()}
        fields = {"service_code": reverse.get(code, code), "description": f"{case.description}（{case.number}）"}
        if case.x is not None and case.y is not None:
            lon, lat = store_to_lonlat(case.x, case.y)
            fields.update(long=f"{lon:.7f}", lat=f"{lat:.7f}")
        if case.address:
            fields["address_string"] = case.address
        return fields

    def _push_status(self, link: Any, newest: int, summary: RunSummary) -> None:
        """The due replies of a linked case in order, each with the status it announces, then the current
        status and notes if they differ from the last update sent; each committed as it goes out."""
        assert link.case_id is not None and link.remote_id is not None
        owed = [r for r in replies.due_replies(self.core.store, case_ids=[link.case_id])
                if link.pushed_event_id < r.event_id <= newest]
        sent: tuple[str, str] | None = None
        for reply in owed:
            state = CaseState.FILED if reply.after == Action.FILE.value else CaseState.CLOSED
            status = platform_status(state)[1]
            update = RemoteUpdate(link.remote_id, str(reply.event_id), status, reply.text, reply.at)
            self._send_update(link, reply.event_id, update, summary, reply=reply)
            sent = (status, reply.text)
        case = self.core.cases.get(link.case_id)
        notes, duplicate = self._notes(link.case_id)
        status = platform_status(case.state, duplicate=duplicate)[1]
        notes = notes or case.state.label
        if sent == (status, notes):  # the last reply said it all: nothing new to send
            self.book.pushed(link, newest, status, outcome=None)
            return
        update = RemoteUpdate(link.remote_id, str(newest), status, notes, self.core.clock.now())
        self._send_update(link, newest, update, summary)

    def _notes(self, case_id: int) -> tuple[str | None, bool]:
        """(the newest reply's text, whether the case was closed as a duplicate)."""
        from app.store.exchange import linked_as_duplicate
        from app.store.replies import latest_reply_text

        with self.core.store.session() as s:
            return latest_reply_text(s, case_id), linked_as_duplicate(s, case_id)

    def _send_update(self, link: Any, event_id: int, update: RemoteUpdate, summary: RunSummary, *,
                     reply: replies.DueReply | None = None) -> None:
        remote_update = self.client.post_update(update)
        record = None
        if reply is not None:
            record = {"case_id": reply.case_id, "event_id": reply.event_id, "after": reply.after,
                      "channel": "platform", "text": reply.text, "due_at": reply.due_at,
                      "done_by": self.actor.username, "note": f"servicerequestupdates {remote_update}"}
        self.book.pushed(link, event_id, update.status, reply=record,
                         detail=f"{update.status} update_id={update.update_id}")
        self._told(summary, "updated", link.remote_id, link.case_id)


__all__ = ["MAX_PER_CALL", "Exchange", "ExchangeError", "Open311Client", "RemoteUpdate", "RunSummary"]
