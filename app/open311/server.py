"""The Open311 GeoReport v2 server: a Starlette application over the headless core (served by uvicorn).

``make_app(db_url, clock=…, …)`` returns the ASGI application; ``gridhall serve-open311`` runs it,
``app.open311.testing.running_server`` starts it on a free loopback port for tests. Endpoints
(``fmt`` is ``json`` or ``xml``)::

    GET  /discovery.fmt                 the service discovery document
    GET  /services.fmt                  every category in use, as services
    GET  /services/<service_code>.fmt   its definition (attributes)
    POST /requests.fmt                  a public report (api_key required), form-encoded,
                                        multipart (photo uploads), JSON or XML body
    GET  /requests.fmt                  service_request_id, service_code, start_date, end_date, status
    GET  /requests/<id>.fmt             one request
    GET  /tokens/<token>.fmt            the request id of a token

A POST becomes a case through the command layer's ``report`` command with source 公众举报, so it
needs on-site verification before filing like every public report. Errors are the spec's
``errors`` lists (400, 403, 404; 413 for a body over the limit, 408 for a body that does not
arrive in time, 429 past a key's rate limit, 503 when the store is unreachable); never a 500.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.core import Core, open_core
from app.domain.clock import Clock, SystemClock
from app.domain.definitions import Role, Source
from app.domain.messages import Msg, MsgError
from app.domain.text import MAX_DESCRIPTION
from app.i18n.catalogue import Catalogue
from app.services import open311 as o3
from app.services.actors import Actor
from app.services.attachments import PhotoInput
from app.services.errors import NotFound, PermissionDenied, ServiceError
from app.services.open311 import Open311Error

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07"
FORMATS = ("json", "xml")
PATH = re.compile(r"^/(?:(?P<top>discovery|services|requests)|(?P<kind>services|requests|tokens)/(?P<id>[^/]+))"
                  r"\.(?P<fmt>[A-Za-z0-9]+)$")
FIELDS_LIMIT = 200
TEXT_LIMIT = MAX_DESCRIPTION  # the hall's description limit (2,000 characters; the spec allows clients 4,000)
SERVICES_TTL = 10.0  # seconds a read of the services list is served again
METHODS = ("GET", "HEAD", "POST")  # what the endpoints answer
ALL_METHODS = (*METHODS, "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT")


@dataclass
class Settings:
    """The server's limits and choices (``make_app`` keywords)."""

    jurisdiction_id: str = "gridhall"
    lang: str = "zh_CN"
    allowed_media_hosts: tuple[str, ...] = ()  # host or host:port a media_url may point at
    max_body_bytes: int = 8 * 1024 * 1024  # any body, photos included
    max_form_bytes: int = 64 * 1024  # a body without files
    body_timeout_s: float = 10.0  # the whole body must arrive within this
    media_timeout_s: float = 5.0
    anonymous_rate_per_minute: int = 600  # GETs without a key, per client address
    max_media_files: int = 3
    contact: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class _BodyRefused(Exception):
    def __init__(self, status: int, message: Msg):
        super().__init__(message)
        self.status = status
        self.msg = message


class Open311App:
    """The ASGI application: limits the body first, then routes."""

    def __init__(self, core: Core, settings: Settings, *, own_core: bool) -> None:
        self.core = core
        self.settings = settings
        self.catalogue = Catalogue(settings.lang)
        self.limiter = o3.RateLimiter()
        self._own_core = own_core
        self._intake_user: str | None = None
        self._services: tuple[float, list[o3.Service]] = (0.0, [])
        # every method reaches the endpoint, so PUT, DELETE, … get a 405 as the spec's errors body too
        self.starlette = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=list(ALL_METHODS))],
                                   lifespan=self._lifespan)

    # ---- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.starlette(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except _BodyRefused as exc:
            fmt = _format_of(scope.get("path", ""))
            await self._error_response(fmt, exc.status, [(exc.status, exc.msg)])(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        scope.setdefault("state", {})["body"] = body
        await self.starlette(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        limit = self.settings.max_body_bytes
        length = headers.get("content-length")
        if length is not None:
            if not length.strip().isdigit():
                raise _BodyRefused(400, Msg("Content-Length 无效"))
            if int(length) > limit:
                raise _BodyRefused(413, Msg("请求体太大：超过 {limit} 字节", limit=limit))
        chunks: list[bytes] = []
        size = 0
        try:
            with anyio.fail_after(self.settings.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        break
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > limit:
                        raise _BodyRefused(413, Msg("请求体太大：超过 {limit} 字节", limit=limit))
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise _BodyRefused(408, Msg("请求体在 {seconds} 秒内未传完", seconds=self.settings.body_timeout_s)) from None
        return b"".join(chunks)

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> Any:
        try:
            yield
        finally:
            if self._own_core:
                self.core.close()

    # ---- routing ------------------------------------------------------------------------------
    async def _endpoint(self, request: Request) -> Response:
        path = request.url.path
        fmt = _format_of(path)
        if request.method not in METHODS:
            refused = self._error_response(fmt, 405, [(405, Msg("不支持 {method} 请求：请用 GET 或 POST",
                                                                  method=request.method[:20]))])
            refused.headers["Allow"] = ", ".join(METHODS)
            return refused
        try:
            return await self._dispatch(request, path, fmt)
        except Open311Error as exc:
            return self._error_response(fmt, exc.status, [(exc.code, exc.msg)], retry_after=getattr(exc, "retry", None))
        except NotFound as exc:
            return self._error_response(fmt, 404, [(404, exc.msg)])
        except PermissionDenied as exc:
            return self._error_response(fmt, 403, [(403, exc.msg)])
        except (ServiceError, MsgError) as exc:
            return self._error_response(fmt, 400, [(400, exc.msg)])
        except Exception as exc:  # the spec's "general service error": never a 500
            if _unreachable(exc):
                log.warning("Open311: the store is unreachable: %s", exc)
                return self._error_response(fmt, 503, [(503, Msg("数据库暂时无法访问，请稍后再试"))])
            log.exception("Open311: unexpected failure on %s %s", request.method, path)
            return self._error_response(fmt, 400, [(400, Msg("服务处理失败，请稍后再试或联系管理员"))])

    async def _dispatch(self, request: Request, path: str, fmt: str) -> Response:
        match = PATH.match(path)
        if match is None:
            raise Open311Error(404, Msg("没有这个接口：{path}", path=path[:80]))
        if fmt not in FORMATS:
            raise Open311Error(400, Msg("格式「{fmt}」不支持：应为 json 或 xml", fmt=match["fmt"][:10]))
        top, kind, ident = match["top"], match["kind"], match["id"]
        ident = urllib.parse.unquote(ident) if ident else ident
        query = _query(request)
        self._check_jurisdiction(query)
        method = request.method
        if method == "POST":
            if top != "requests":
                raise Open311Error(404, Msg("这个接口不接受 POST：{path}", path=path[:80]))
            return await self._post_request(request, query, fmt)
        key = _last(query, "api_key")
        if key:
            row = await self._checked_key(request, key)
            self._limit(f"key:{row.id}", row.rate_per_minute)
        else:
            self._limit(_client_bucket(request), self.settings.anonymous_rate_per_minute)
        if top == "discovery":
            return self._render(fmt, self._discovery(request), "discovery")
        if top == "services":
            items = await run_in_threadpool(self._service_list)
            return self._render(fmt, [_service_doc(s, self.catalogue.text) for s in items], "services")
        if kind == "services":
            svc = await run_in_threadpool(o3.service, self.core.store, ident, self._service_list())
            return self._render(fmt, {"service_code": svc.code, "attributes": o3.attributes(svc, self.catalogue.text)},
                                "service_definition")
        if top == "requests":
            checked = o3.request_query(query, self.core.clock.now())
            rows = await run_in_threadpool(o3.find_requests, self.core.store, checked)
            docs = await run_in_threadpool(o3.request_documents, rows, self.catalogue.text)
            return self._render(fmt, docs, "service_requests")
        if kind == "requests":
            one = await run_in_threadpool(o3.one_request, self.core.store, ident)
            return self._render(fmt, [o3.request_document(one, self.catalogue.text)], "service_requests")
        assert kind == "tokens"
        number = await run_in_threadpool(o3.token_request, self.core.store, ident)
        return self._render(fmt, [{"service_request_id": number, "token": ident}], "service_requests")

    def _service_list(self) -> list[o3.Service]:
        """The services, read again at most every SERVICES_TTL seconds (the administrator may enable or
        disable a category; the list is the same for every caller)."""
        expires, items = self._services
        now = time.monotonic()
        if now >= expires or not items:
            items = o3.services(self.core.store)
            self._services = (now + SERVICES_TTL, items)
        return items

    def _check_jurisdiction(self, query: Mapping[str, list[str]]) -> None:
        given = _last(query, "jurisdiction_id")
        if given and given != self.settings.jurisdiction_id:
            raise Open311Error(404, Msg("没有 jurisdiction_id「{id}」", id=given[:40]))

    async def _checked_key(self, request: Request, key: str | None) -> Any:
        """The key's row; a missing, unknown or revoked key is counted against the client address's
        anonymous rate before its 403 (so guessing keys or posting without one is rate limited too)."""
        try:
            return await run_in_threadpool(o3.check_key, self.core.store, key)
        except Open311Error as exc:
            if exc.status == 403:
                self._limit(_client_bucket(request), self.settings.anonymous_rate_per_minute)
            raise

    def _limit(self, who: str, rate: int) -> None:
        wait = self.limiter.allow(who, rate)
        if wait > 0:
            exc = Open311Error(429, Msg("请求太频繁：每分钟至多 {rate} 次，请 {seconds} 秒后再试", rate=rate,
                                        seconds=max(1, math.ceil(wait))))
            exc.retry = max(1, math.ceil(wait))  # type: ignore[attr-defined]
            raise exc

    # ---- POST requests ------------------------------------------------------------------------
    async def _post_request(self, request: Request, query: Mapping[str, list[str]], fmt: str) -> Response:
        fields, files = await self._post_fields(request, query)
        row = await self._checked_key(request, fields.get("api_key"))
        self._limit(f"key:{row.id}", row.rate_per_minute)
        self._check_jurisdiction({"jurisdiction_id": [fields.get("jurisdiction_id", "")]})
        posted, values = await run_in_threadpool(self._checked_post, fields)
        photos = list(files)
        if posted.media_url:
            photos.append(await run_in_threadpool(self._fetch_media, posted.media_url))
        values["photos"] = tuple(photos)
        number = await run_in_threadpool(self._report, values)
        token: str | None = None
        try:
            token = await run_in_threadpool(o3.record_token, self.core.store, number, row.id, posted.media_url,
                                            self.core.clock.now())
        except Exception as exc:  # the case is written: the client must learn its id, or it posts it again
            log.warning("Open311: %s was filed but its token was not recorded: %s", number, str(exc)[:200])
        notice = self.catalogue.text(Msg("已受理，编号 {number}；核实后立案处置", number=number))
        return self._render(fmt, [{"service_request_id": number, "token": token, "service_notice": notice,
                                   "account_id": None}], "service_requests")

    async def _post_fields(self, request: Request, query: Mapping[str, list[str]]) -> tuple[dict[str, str],
                                                                                             list[PhotoInput]]:
        body: bytes = request.scope.get("state", {}).get("body", b"")
        ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        fields: dict[str, str] = {k: v[-1] for k, v in query.items() if v}
        files: list[PhotoInput] = []
        if ctype == "multipart/form-data":
            try:
                form = await request.form(max_files=self.settings.max_media_files, max_fields=FIELDS_LIMIT,
                                          max_part_size=self.settings.max_body_bytes)
            except Exception as exc:  # starlette's MultiPartException and the parser's own
                raise Open311Error(400, Msg("multipart 请求体无法解析：{error}", error=str(exc)[:120])) from None
            for name, value in form.multi_items():
                if isinstance(value, str):
                    # starlette decodes a part that is not UTF-8 as Latin-1: such a value is not in the body
                    if not value.isascii() and value.encode("utf-8") not in body:
                        await form.close()
                        raise Open311Error(400, Msg("请求体不是 UTF-8 编码"))
                    fields[name] = value
                else:
                    data = await value.read()
                    files.append(PhotoInput(_safe_name(value.filename or name), data, "report"))
            await form.close()
            return _strings(fields), files
        if len(body) > self.settings.max_form_bytes:
            raise Open311Error(413, Msg("请求体太大：不带文件的请求至多 {limit} 字节", limit=self.settings.max_form_bytes),
                               code=413)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Open311Error(400, Msg("请求体不是 UTF-8 编码")) from None
        if ctype in ("application/json", "text/json"):
            fields.update(_json_fields(text))
        elif ctype in ("application/xml", "text/xml"):
            fields.update(_xml_fields(body))
        elif ctype in ("application/x-www-form-urlencoded", "") or not text.strip():
            try:
                pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=False,
                                               max_num_fields=FIELDS_LIMIT, errors="strict")
            except (ValueError, UnicodeDecodeError):
                raise Open311Error(400, Msg("表单请求体无法解析")) from None
            fields.update(dict(pairs))
        else:
            raise Open311Error(400, Msg("不支持的请求体类型「{type}」：请用 application/x-www-form-urlencoded、"
                                        "multipart/form-data、JSON 或 XML", type=ctype[:60]))
        return _strings(fields), files

    def _checked_post(self, fields: Mapping[str, str]) -> tuple[o3.Posted, dict[str, Any]]:
        code = (fields.get("service_code") or "").strip()
        if not code:
            raise Open311Error(400, Msg("缺少 service_code"))
        try:
            svc = o3.service(self.core.store, code, self._service_list())
        except Open311Error:
            raise Open311Error(400, Msg("service_code「{code}」无效：没有这个服务", code=code[:40])) from None
        posted = o3.Posted(svc)
        lat, long = fields.get("lat", "").strip(), fields.get("long", "").strip()
        if lat or long:
            if not (lat and long):
                raise Open311Error(400, Msg("lat 与 long 需要同时给出"))
            posted.lat = o3.number("lat", lat, -90, 90)
            posted.long = o3.number("long", long, -180, 180)
        posted.address = _text(fields, "address_string", 200)
        if posted.lat is None and not posted.address:
            raise Open311Error(400, Msg("缺少位置：请给出 lat 和 long，或 address_string"))
        posted.description = _text(fields, "description", TEXT_LIMIT) or ""
        names = [n for n in (_text(fields, "last_name", 32), _text(fields, "first_name", 32)) if n]
        posted.reporter = "".join(names) if all(_cjk(n) for n in names) else " ".join(reversed(names))
        posted.reporter = posted.reporter or None
        posted.phone = _text(fields, "phone", 32)
        posted.email = _text(fields, "email", 200)
        media = _text(fields, "media_url", 2000)
        if media:
            self._check_media_url(media)
            posted.media_url = media
        # Attributes the service does not define are ignored: FixMyStreet, for one, adds its own
        # (attribute[fixmystreet_id], [easting], [northing], [title], [report_url], …) to every request.
        if svc.kind == "component":
            posted.component = _text(fields, f"attribute[{o3.COMPONENT_ATTRIBUTE}]", 40)
        description = posted.description or self.catalogue.text(
            Msg("公众通过 Open311 上报「{name}」（未附描述）", name=svc.name))
        values: dict[str, Any] = {"category": svc.code, "source": Source.PUBLIC.value, "description": description,
                                  "address": posted.address, "reporter": posted.reporter, "phone": posted.phone}
        if posted.component:
            values["component"] = posted.component
        elif posted.lat is not None:
            values["lonlat"] = (posted.long, posted.lat)
        return posted, values

    def _check_media_url(self, url: str) -> None:
        try:
            parts = urllib.parse.urlsplit(url)
            port = parts.port
        except ValueError:
            raise Open311Error(400, Msg("media_url 无效")) from None
        host = (parts.hostname or "").lower()
        allowed = {h.lower() for h in self.settings.allowed_media_hosts}
        if parts.scheme not in ("http", "https") or not host:
            raise Open311Error(400, Msg("media_url 只接受 http 或 https 地址"))
        if host not in allowed and f"{host}:{port}" not in allowed:
            raise Open311Error(400, Msg("media_url 的主机「{host}」不在允许的列表中：请直接上传照片（multipart 的 media 字段）",
                                        host=host[:80]))

    def _fetch_media(self, url: str) -> PhotoInput:
        limit = self.core.cases.settings.max_photo_bytes

        class _NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args: Any, **kwargs: Any) -> None:
                return None  # a redirect could leave the allowed hosts

        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(urllib.request.Request(url, headers={"User-Agent": "gridhall-open311"}),
                             timeout=self.settings.media_timeout_s) as reply:
                if reply.status != 200:
                    raise Open311Error(400, Msg("media_url 取不到照片（HTTP {status}）", status=reply.status))
                data = _read_within(reply, limit + 1, self.settings.media_timeout_s)
        except Open311Error:
            raise
        except Exception as exc:
            raise Open311Error(400, Msg("media_url 取不到照片：{error}", error=str(exc)[:120])) from None
        if len(data) > limit:
            raise Open311Error(400, Msg("media_url 的照片太大：超过 {limit} 字节", limit=limit))
        name = _safe_name(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1] or "media")
        return PhotoInput(name, data, "report")

    def _actor(self) -> Actor:
        if self._intake_user is None:
            self._intake_user = o3.login_username(self.core.store) or "open311"
        return Actor(self._intake_user, "Open311", Role.ACCEPTOR)

    def _report(self, values: dict[str, Any]) -> str:
        assert self.core.commands is not None
        command = self.core.commands.by_verb("report")
        assert command is not None
        result = command.run(self.core, self._actor(), None, None, values)
        return str(result.case.number)

    # ---- documents ----------------------------------------------------------------------------
    def _discovery(self, request: Request) -> dict[str, Any]:
        base = str(request.base_url).rstrip("/")
        return {"changeset": CHANGESET, "contact": self.settings.contact, "key_service": "gridhall open311 key add",
                "endpoints": [{"specification": SPEC, "url": base, "changeset": CHANGESET, "type": "production",
                               "formats": ["text/xml", "application/json"]}]}

    def _render(self, fmt: str, doc: Any, root: str, status: int = 200) -> Response:
        if fmt == "xml":
            return Response(to_xml(root, doc), status, media_type="text/xml; charset=utf-8")
        return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status,
                        media_type="application/json; charset=utf-8")

    def _error_response(self, fmt: str, status: int, errors: list[tuple[int, Msg | str]],
                        retry_after: int | None = None) -> Response:
        doc = [{"code": code, "description": self.catalogue.text(text)} for code, text in errors]
        response = self._render(fmt if fmt in FORMATS else "xml", doc, "errors", status)
        if retry_after:
            response.headers["Retry-After"] = str(retry_after)
        return response


# ---- helpers ------------------------------------------------------------------------------------

def _format_of(path: str) -> str:
    tail = path.rsplit("/", 1)[-1]
    return tail.rsplit(".", 1)[-1].lower() if "." in tail else ""


def _query(request: Request) -> dict[str, list[str]]:
    raw = request.scope.get("query_string", b"")
    try:
        text = raw.decode("utf-8")
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, max_num_fields=FIELDS_LIMIT, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise Open311Error(400, Msg("查询参数无法解析")) from None
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def _read_within(reply: Any, limit: int, seconds: float) -> bytes:
    """At most ``limit`` bytes of ``reply``, all within ``seconds`` (the socket's time-out bounds each read
    only: a server that drips its answer is cut off); TimeoutError past it."""
    deadline = time.monotonic() + seconds
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        chunk = reply.read1(min(65536, limit - size)) if hasattr(reply, "read1") else reply.read(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _client_bucket(request: Request) -> str:
    """The rate limiter's bucket of the client address (requests without a valid key)."""
    return f"ip:{request.client.host if request.client else '-'}"


def _last(query: Mapping[str, list[str]], name: str) -> str | None:
    values = query.get(name) or []
    return values[-1] if values else None


def _strings(fields: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in fields.items():
        if len(k) > 100:
            raise Open311Error(400, Msg("字段名太长"))
        out[str(k)] = v if isinstance(v, str) else ("true" if v is True else "false" if v is False else
                                                     "" if v is None else str(v))
    return out


def _json_fields(text: str) -> dict[str, Any]:
    try:
        doc = json.loads(text) if text.strip() else {}
    except (ValueError, RecursionError):
        raise Open311Error(400, Msg("JSON 请求体无法解析")) from None
    if isinstance(doc, list) and len(doc) == 1:
        doc = doc[0]
    if not isinstance(doc, dict):
        raise Open311Error(400, Msg("JSON 请求体应为一个对象"))
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if k == "attributes" and isinstance(v, dict):
            out.update({f"attribute[{a}]": b for a, b in v.items()})
        elif isinstance(v, (dict, list)):
            raise Open311Error(400, Msg("JSON 字段「{name}」应为文本或数字", name=str(k)[:40]))
        else:
            out[k] = v
    return out


def _xml_fields(body: bytes) -> dict[str, str]:
    from defusedxml import ElementTree  # type: ignore[import-untyped]
    from defusedxml.common import DefusedXmlException  # type: ignore[import-untyped]

    try:
        root = ElementTree.fromstring(body, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError):
        raise Open311Error(400, Msg("XML 请求体无法解析")) from None
    out: dict[str, str] = {}
    for child in list(root)[:FIELDS_LIMIT]:
        tag = _local(child.tag)
        if len(child):
            if tag == "attributes":
                for attr in child:
                    out[f"attribute[{_local(attr.tag)}]"] = (attr.text or "").strip()
                continue
            raise Open311Error(400, Msg("XML 字段「{name}」应为文本", name=tag[:40]))
        out[tag] = child.text or ""
    return out


def _local(tag: object) -> str:
    """An element's name without its namespace (``{urn:x}api_key`` → ``api_key``: some clients' XML
    serialisers put every field in one)."""
    return str(tag).rsplit("}", 1)[-1]


def _text(fields: Mapping[str, str], name: str, limit: int) -> str | None:
    value = (fields.get(name) or "").strip()
    if not value:
        return None
    if len(value) > limit:
        raise Open311Error(400, Msg("{name} 太长：至多 {limit} 个字符", name=name, limit=limit))
    return value


def _cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\-]+", "_", name)[-80:].strip("._") or "media"
    return cleaned


def _unreachable(exc: BaseException) -> bool:
    from sqlalchemy.exc import DisconnectionError, OperationalError

    return isinstance(exc, (OperationalError, DisconnectionError))


def _service_doc(s: o3.Service, translate: Callable[[Msg], str]) -> dict[str, Any]:
    return {"service_code": s.code, "service_name": s.name, "description": translate(s.description),
            "metadata": s.metadata,
            "type": "realtime", "keywords": s.keywords, "group": s.group}


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PLURAL = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
           "values": "value", "endpoints": "endpoint", "formats": "format"}


def _xml_value(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return escape(_XML_BAD.sub("", str(value)))


def _xml_node(tag: str, value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        out.append(f"<{tag}>")
        for k, v in value.items():
            _xml_node(k, v, out)
        out.append(f"</{tag}>")
    elif isinstance(value, list):
        out.append(f"<{tag}>")
        for item in value:
            _xml_node(_PLURAL.get(tag, "item"), item, out)
        out.append(f"</{tag}>")
    else:
        out.append(f"<{tag}>{_xml_value(value)}</{tag}>")


def to_xml(root: str, doc: Any) -> str:
    """The spec's XML shape of a document (lists become repeated singular elements)."""
    out = ['<?xml version="1.0" encoding="utf-8"?>']
    _xml_node(root, doc, out)
    return "".join(out)


def make_app(db_url: str, *, clock: Clock | None = None, core: Core | None = None, **settings: Any) -> Open311App:
    """The Open311 ASGI application over the store at ``db_url`` (``core``: an already open one, kept
    open at shutdown). Keywords set :class:`Settings` (``allowed_media_hosts``, ``max_body_bytes``,
    ``anonymous_rate_per_minute``, ``lang``, ``jurisdiction_id``, …)."""
    given: dict[str, Any] = {k: tuple(v) if k == "allowed_media_hosts" else v for k, v in settings.items()}
    opts = Settings(**given)
    if core is None:
        return Open311App(open_core(db_url, clock or SystemClock(), workstation="open311"), opts, own_core=True)
    return Open311App(core, opts, own_core=False)


__all__ = ["Open311App", "Settings", "make_app", "to_xml"]
