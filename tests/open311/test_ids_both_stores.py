"""Ids in the URL and the query on both stores: a NUL or another control character in a request id or a
token is the spec's 400 or 404 (PostgreSQL refuses a NUL in a query: it was the general 400 and a
traceback in the log)."""

from __future__ import annotations

import logging

from services.world import T0, build_world

from app.domain.clock import FixedClock
from app.open311.testing import running_server
from app.services import open311 as o3
from open311.conftest import Server, validate


def test_control_characters_in_ids_are_refused_on_both_stores(store, caplog):
    build_world(store)
    key = o3.add_key(store, "ids", rate_per_minute=600, now=T0).key
    url = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    if store.path:
        url = f"sqlite:///{url}"
    clock = FixedClock(T0)
    with caplog.at_level(logging.WARNING, logger="app.open311.server"), running_server(url, clock=clock) as base:
        srv = Server(base, url, key, clock)
        for path, status in [("/requests.json?service_request_id=%00", 400),
                             ("/requests.json?service_request_id=S1%00,S2", 400),
                             ("/requests.json?service_request_id=S1%07", 400),
                             ("/requests/%00.json", 404), ("/requests/S20260302-0001%00.xml", 404),
                             ("/tokens/%00.json", 404), ("/tokens/abc%1F.json", 404)]:
            r = srv.call("GET", path)
            assert r.status == status, (path, r.status, r.body)
            if path.split("?")[0].endswith(".json"):
                validate(r.json, "errors")
            else:
                assert r.xml.tag == "errors"
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
