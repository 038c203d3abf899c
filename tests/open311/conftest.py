"""Fixtures of the Open311 tests: the tiny district in a SpatiaLite file, a key, the real server on a
free loopback port (uvicorn in a thread), and a plain HTTP client (http.client, no mocks)."""

from __future__ import annotations

import http.client
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from services.world import T0, build_world

from app.domain.clock import FixedClock
from app.services import open311 as o3

SCHEMA = json.loads((Path(__file__).with_name("georeport_v2.schema.json")).read_text(encoding="utf-8"))


def validate(doc: Any, name: str) -> None:
    """``doc`` against the GeoReport v2 schema's definition ``name`` (raises on a mismatch)."""
    import jsonschema

    jsonschema.validate(doc, {**SCHEMA, "$ref": f"#/definitions/{name}"})


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def xml(self) -> Any:
        from defusedxml import ElementTree

        return ElementTree.fromstring(self.body)


@dataclass
class Server:
    base: str
    url: str
    key: str
    clock: FixedClock
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def hostport(self) -> tuple[str, int]:
        parts = urllib.parse.urlsplit(self.base)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def call(self, method: str, path: str, body: bytes | str | None = None, headers: dict[str, str] | None = None,
             timeout: float = 30, source: str | None = None) -> Reply:
        """``source``: the loopback address to call from (its own rate-limit bucket), e.g. 127.0.0.9."""
        host, port = self.hostport
        conn = http.client.HTTPConnection(host, port, timeout=timeout,
                                          source_address=(source, 0) if source else None)
        try:
            data = body.encode("utf-8") if isinstance(body, str) else body
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            return Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        finally:
            conn.close()

    def get(self, path: str, **params: Any) -> Reply:
        query = urllib.parse.urlencode(params, doseq=True)
        return self.call("GET", path + ("?" + query if query else ""))

    def post(self, path: str, fields: dict[str, Any], *, key: str | None = "default") -> Reply:
        data = dict(fields)
        if key is not None:
            data.setdefault("api_key", self.key if key == "default" else key)
        return self.call("POST", path, urllib.parse.urlencode(data, doseq=True),
                         {"Content-Type": "application/x-www-form-urlencoded"})


INSIDE_LONLAT = None


def inside_lonlat() -> tuple[float, float]:
    """(lat, long) of a point inside the tiny district (grid 320599001001006)."""
    global INSIDE_LONLAT
    if INSIDE_LONLAT is None:
        from services.world import INSIDE

        INSIDE_LONLAT = o3.lonlat(*INSIDE)
    lat, long = INSIDE_LONLAT
    assert lat is not None and long is not None
    return lat, long


def make_store(path: Path) -> tuple[str, Any]:
    """(URL, World) of a new SpatiaLite file with the tiny district."""
    from app.store.commands import init_db

    url = f"sqlite:///{path}"
    store = init_db(url)
    world = build_world(store)
    store.dispose()
    return url, world


@pytest.fixture(scope="module")
def district_world(tmp_path_factory) -> tuple[str, Any]:
    return make_store(tmp_path_factory.mktemp("open311") / "district.sqlite")


@pytest.fixture(scope="module")
def district(district_world) -> str:
    """A SpatiaLite file with the tiny district (one per test module)."""
    return district_world[0]


@pytest.fixture(scope="module")
def server(district):
    """The server over the module's district, a key (600 a minute) and a fixed clock at T0."""
    from app.open311.testing import running_server
    from app.store.engine import open_store

    clock = FixedClock(T0)
    store = open_store(district)
    key = o3.add_key(store, "tests", rate_per_minute=600, now=T0).key
    store.dispose()
    with running_server(district, clock=clock) as base:
        yield Server(base, district, key, clock)
