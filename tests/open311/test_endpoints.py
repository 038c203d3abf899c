"""Every endpoint in JSON and XML over real HTTP, the spec's own example requests, the documents
validated against the GeoReport v2 schema (tests/open311/georeport_v2.schema.json)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from services.world import MANHOLE, T0

from open311.conftest import inside_lonlat, validate


def _post(server, **fields):
    lat, long = inside_lonlat()
    data = {"service_code": "event:06010", "lat": lat, "long": long, "description": "人民路边有一堆暴露垃圾"}
    data.update(fields)
    return server.post(f"/requests.{fields.pop('fmt', 'json')}", {k: v for k, v in data.items() if k != "fmt"})


def _text(el, name):
    child = el.find(name)
    assert child is not None, f"<{el.tag}> has no <{name}>"
    return child.text or ""


# ---- discovery and services ---------------------------------------------------------------------

def test_discovery_in_both_formats(server):
    r = server.get("/discovery.json")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    validate(r.json, "discovery")
    x = server.get("/discovery.xml")
    assert x.status == 200 and x.headers["content-type"].startswith("text/xml")
    assert x.xml.tag == "discovery"
    assert [e.text for e in x.xml.find("endpoints/endpoint/formats")] == ["text/xml", "application/json"]


def test_services_json_lists_the_categories_in_use(server):
    r = server.get("/services.json")
    assert r.status == 200
    validate(r.json, "services")
    by_code = {s["service_code"]: s for s in r.json}
    assert by_code["event:06010"]["service_name"] == "暴露垃圾"
    assert by_code["event:06010"]["metadata"] is False and by_code["event:06010"]["type"] == "realtime"
    assert by_code["component:01002"]["metadata"] is True


def test_services_xml_has_the_spec_shape(server):
    r = server.get("/services.xml")
    assert r.status == 200 and r.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = r.xml
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(server.get("/services.json").json) > 10
    first = services[0]
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata", "type", "keywords",
                                      "group"]
    assert {_text(s, "metadata") for s in services} == {"true", "false"}  # FixMyStreet reads the strings


def test_service_definition_json_and_xml(server):
    r = server.get("/services/component:01002.json")
    assert r.status == 200
    validate(r.json, "service_definition")
    assert r.json["service_code"] == "component:01002"
    assert [a["code"] for a in r.json["attributes"]] == ["component_code"]
    x = server.get("/services/component%3A01002.xml")
    assert x.status == 200 and x.xml.tag == "service_definition"
    attr = x.xml.find("attributes/attribute")
    assert _text(attr, "variable") == "true" and _text(attr, "required") == "false"
    assert _text(attr, "datatype") == "string" and _text(attr, "order") == "1"
    event = server.get("/services/event:06010.json")
    assert event.status == 200 and event.json["attributes"] == []


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_404_with_an_errors_body(server, fmt):
    r = server.get(f"/services/event:99999.{fmt}")
    assert r.status == 404
    if fmt == "json":
        validate(r.json, "errors")
        assert r.json[0]["code"] == 404
    else:
        assert r.xml.tag == "errors" and _text(r.xml.find("error"), "code") == "404"
        assert _text(r.xml.find("error"), "description")


# ---- POST, tokens, single request ---------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_then_token_then_request(server, fmt):
    r = _post(server, fmt=fmt, first_name="三", last_name="张", phone="13800000000", email="z@example.org")
    assert r.status == 200, r.body
    if fmt == "json":
        validate(r.json, "posted")
        number, token = r.json[0]["service_request_id"], r.json[0]["token"]
        assert r.json[0]["service_notice"] and r.json[0]["account_id"] is None
    else:
        req = r.xml.find("request")
        assert r.xml.tag == "service_requests"
        number, token = _text(req, "service_request_id"), _text(req, "token")
    assert number.startswith("S20260302-")
    t = server.get(f"/tokens/{token}.{fmt}")
    assert t.status == 200
    if fmt == "json":
        validate(t.json, "tokens")
        assert t.json == [{"service_request_id": number, "token": token}]
    else:
        assert _text(t.xml.find("request"), "service_request_id") == number
    one = server.get(f"/requests/{number}.{fmt}")
    assert one.status == 200
    if fmt == "json":
        validate(one.json, "requests")
        doc = one.json[0]
        assert doc["status"] == "open" and doc["service_code"] == "event:06010"
        assert doc["requested_datetime"] == "2026-03-02T09:00:00+08:00"
        assert doc["expected_datetime"] and "13800000000" not in one.body.decode()
        lat, long = inside_lonlat()
        assert abs(doc["lat"] - lat) < 1e-6 and abs(doc["long"] - long) < 1e-6
    else:
        req = one.xml.find("request")
        assert [c.tag for c in req] == ["service_request_id", "status", "status_notes", "service_name", "service_code",
                                        "description", "agency_responsible", "service_notice", "requested_datetime",
                                        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                                        "lat", "long", "media_url"]
        assert _text(req, "status") == "open"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_and_token_are_404(server, fmt):
    assert server.get(f"/requests/S19990101-0001.{fmt}").status == 404
    assert server.get(f"/tokens/nope.{fmt}").status == 404


def test_component_attribute_places_the_report_at_the_component(server):
    r = _post(server, service_code="component:01002", **{"attribute[component_code]": MANHOLE})
    assert r.status == 200, r.body
    doc = server.get(f"/requests/{r.json[0]['service_request_id']}.json").json[0]
    assert doc["service_code"] == "component:01002" and doc["service_request_id"].startswith("B")


def test_attributes_the_service_does_not_define_are_ignored(server):
    """FixMyStreet adds its own attributes (fixmystreet_id, easting, northing, title, report_url) to requests."""
    r = _post(server, **{"attribute[fixmystreet_id]": "1234", "attribute[easting]": "557150",
                         "attribute[title]": "垃圾", "attribute[component_code]": MANHOLE})
    assert r.status == 200, r.body
    assert r.json[0]["service_request_id"].startswith("S")  # an event service: the component code is not used


# ---- GET requests: filters and the 90-day window ------------------------------------------------

def test_get_requests_filters(server):
    a = _post(server).json[0]["service_request_id"]
    b = _post(server, service_code="event:06011" if _has(server, "event:06011") else "event:06010").json[0][
        "service_request_id"]
    r = server.get("/requests.json")
    assert r.status == 200
    validate(r.json, "requests")
    ids = [d["service_request_id"] for d in r.json]
    assert a in ids and b in ids
    only = server.get("/requests.json", service_request_id=f"{a},{b},S19990101-0001").json
    assert [d["service_request_id"] for d in only] == [a, b]
    by_code = server.get("/requests.json", service_code="event:06010").json
    assert by_code and {d["service_code"] for d in by_code} == {"event:06010"}
    assert server.get("/requests.json", status="closed").json == []
    assert {d["status"] for d in server.get("/requests.json", status="open").json} == {"open"}
    both = server.get("/requests.json", status="open,closed").json
    assert len(both) == len(r.json)
    x = server.get("/requests.xml", service_request_id=a)
    assert x.status == 200 and [_text(e, "service_request_id") for e in x.xml.findall("request")] == [a]


def _has(server, code):
    return any(s["service_code"] == code for s in server.get("/services.json").json)


def test_the_default_window_is_the_last_90_days(server):
    server.clock.set(T0 - timedelta(days=120))
    try:
        old = _post(server).json[0]["service_request_id"]
    finally:
        server.clock.set(T0)
    recent = [d["service_request_id"] for d in server.get("/requests.json").json]
    assert old not in recent
    found = server.get("/requests.json", start_date="2025-10-01T00:00:00+08:00",
                       end_date="2025-12-01T00:00:00+08:00").json
    assert old in [d["service_request_id"] for d in found]
    start_only = server.get("/requests.json", start_date="2025-10-01T00:00:00Z").json
    assert old in [d["service_request_id"] for d in start_only]
    assert server.get("/requests.json", service_request_id=old).json[0]["service_request_id"] == old
    too_long = server.get("/requests.json", start_date="2025-01-01T00:00:00Z", end_date="2025-12-01T00:00:00Z")
    assert too_long.status == 400 and "90" in too_long.json[0]["description"]
    backwards = server.get("/requests.json", start_date="2025-12-01T00:00:00Z", end_date="2025-11-01T00:00:00Z")
    assert backwards.status == 400


@pytest.mark.parametrize("params", [{"start_date": "yesterday"}, {"end_date": "2026-13-45T00:00:00Z"},
                                    {"status": "pending"}, {"service_code": "pothole"}])
def test_bad_filters_are_400(server, params):
    for fmt in ("json", "xml"):
        r = server.get(f"/requests.{fmt}", **params)
        assert r.status == 400
        if fmt == "json":
            validate(r.json, "errors")


# ---- the spec's own example requests (wiki.open311.org/GeoReport_v2) ----------------------------

def test_spec_examples_verbatim_get_the_spec_errors(server):
    """The sample URLs name the jurisdiction city.gov, which this server is not: 404 as the spec says."""
    assert server.call("GET", "/services.xml?jurisdiction_id=city.gov").status == 404
    assert server.call("GET", "/services/033.xml?jurisdiction_id=city.gov").status == 404
    body = ("api_key=xyz&jurisdiction_id=city.gov&service_code=001&lat=37.76524078&long=-122.4212043"
            "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
            "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street"
            "&media_url=http%3A%2F%2Fmedia.user.com%2Fimage.png")
    r = server.call("POST", "/requests.xml", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 403 and r.xml.tag == "errors"  # the api_key xyz is checked first
    r = server.call("GET", "/requests.xml?jurisdiction_id=city.gov&service_request_id=638344")
    assert r.status == 404
    r = server.call("GET", "/requests/638344.xml?jurisdiction_id=city.gov")
    assert r.status == 404
    r = server.call("GET", "/tokens/12345.xml?jurisdiction_id=city.gov")
    assert r.status == 404


def test_spec_examples_with_this_jurisdiction(server):
    assert server.call("GET", "/services.xml?jurisdiction_id=gridhall").status == 200
    assert server.call("GET", "/services/033.xml?jurisdiction_id=gridhall").status == 404  # no service 033
    r = server.call("GET", "/requests.xml?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open")
    assert r.status == 200 and r.xml.tag == "service_requests" and r.xml.findall("request") == []
    lat, long = inside_lonlat()
    body = (f"api_key={server.key}&jurisdiction_id=gridhall&service_code=event%3A06010&lat={lat}&long={long}"
            "&address_string=1234+5th+street&email=smit333%40sfgov.edu&device_id=tt222111&account_id=123456"
            "&first_name=john&last_name=smith&phone=111111111&description=A+large+sinkhole+is+destroying+the+street")
    r = server.call("POST", "/requests.xml", body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r.body
    number = r.xml.find("request/service_request_id").text
    doc = server.get(f"/requests/{number}.json").json[0]
    assert doc["description"] == "A large sinkhole is destroying the street"
    assert doc["address"] == "1234 5th street"
    r = server.call("GET", "/requests.xml?jurisdiction_id=gridhall&service_request_id=" + number)
    assert r.status == 200 and r.xml.find("request/service_request_id").text == number
