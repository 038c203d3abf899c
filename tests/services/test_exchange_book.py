"""The exchange's bookkeeping without HTTP (issue 16, item 4): claims, links, cursors and the log on both
stores, and the pure mappings (request → 上报 values, state → Open311 status, endpoints, times)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from app.domain.definitions import CaseState
from app.services.errors import ValidationError
from app.services.exchange import (
    MARKER,
    PULL,
    PUSH,
    ExchangeBook,
    normalise_endpoint,
    parse_remote_time,
    platform_key,
    platform_status,
    report_values,
    w3c,
)
from services.world import draft


def test_report_values_of_a_request():
    values = report_values({"service_request_id": "A-17", "service_code": "event:06010", "lat": "31.3",
                            "long": 120.6, "address": " 人民路 ", "description": "一堆垃圾"})
    assert values == {"category": "event:06010", "source": "public", "lonlat": (120.6, 31.3), "address": "人民路",
                      "description": "一堆垃圾" + MARKER.format(remote_id="A-17")}
    mapped = report_values({"service_request_id": 5, "service_code": "12", "address_string": "x", "address": "人民路"},
                           {"12": "component:01002"})
    assert mapped["category"] == "component:01002" and "lonlat" not in mapped and mapped["address"] == "人民路"
    long_text = report_values({"service_request_id": "B", "service_code": "06010", "lat": 31, "long": 120,
                               "description": "字" * 5000})["description"]
    assert len(long_text) == 2000 and long_text.endswith(MARKER.format(remote_id="B"))


@pytest.mark.parametrize("request_, field", [
    ({"service_code": "06010", "lat": 1, "long": 1}, "service_request_id"),
    ({"service_request_id": "1", "lat": 1, "long": 1}, "service_code"),
    ({"service_request_id": "1", "service_code": "06010", "lat": "x", "long": None}, "location"),
])
def test_requests_that_cannot_be_taken_in(request_, field):
    with pytest.raises(ValidationError) as refused:
        report_values(request_)
    assert refused.value.field == field


def test_statuses_sent_to_the_platform():
    assert platform_status(CaseState.REPORTED) == ("open", "OPEN")
    assert platform_status("verifying") == ("open", "INVESTIGATING")
    assert platform_status(CaseState.FILED) == ("open", "ACTION_SCHEDULED")
    assert platform_status(CaseState.HANDLING) == ("open", "IN_PROGRESS")
    assert platform_status(CaseState.DEFERRED) == ("open", "IN_PROGRESS")
    assert platform_status(CaseState.CLOSED) == ("closed", "FIXED")
    assert platform_status(CaseState.NOT_FILED) == ("closed", "NO_FURTHER_ACTION")
    assert platform_status(CaseState.NOT_FILED, duplicate=True) == ("closed", "DUPLICATE")
    assert platform_status(CaseState.VOIDED) == ("closed", "CLOSED")
    assert all(platform_status(s)[0] in ("open", "closed") for s in CaseState)


def test_endpoints_platform_names_and_times():
    assert normalise_endpoint(" HTTP://City.Example:8080/open311/v2/ ") == "http://city.example:8080/open311/v2"
    for bad in ("ftp://x", "city", "", "http://user:pw@x/"):
        with pytest.raises(ValidationError):
            normalise_endpoint(bad)
    assert platform_key("city-platform") == "city-platform"
    assert platform_key("https://A.b/v2/") == "https://a.b/v2"
    with pytest.raises(ValidationError):
        platform_key("城市 平台")
    at = datetime(2026, 3, 2, 9, 0)
    assert w3c(at) == "2026-03-02T09:00:00+08:00"
    assert parse_remote_time("2026-03-02T01:00:00Z") == at  # UTC → China Standard Time
    assert parse_remote_time("2026-03-02T09:00:00+08:00") == at
    assert parse_remote_time("2026-03-02T09:00:00") == at
    assert parse_remote_time("soon") is None and parse_remote_time(None) is None


def test_a_request_is_claimed_once_and_linked(store, world, clock, svc):
    book = ExchangeBook(store, clock, "city")
    claim = book.claim_remote("R1")
    assert claim is not None and book.claim_remote("R1") is None  # a second run cannot claim it
    case = svc.report(world.actors["acceptor"], draft(source="public")).case
    book.linked(claim, case.id, direction=PULL, mark="2026-03-02T09:00:00+08:00", outcome="created")
    link = book.link_of_remote("R1")
    assert link is not None and (link.case_id, link.state, link.origin) == (case.id, "linked", "remote")
    assert book.link_of_case(case.id) == link
    assert book.cursor(PULL) == "2026-03-02T09:00:00+08:00"
    assert [(r["outcome"], r["remote_id"], r["case_id"]) for r in book.log_rows()] == [("created", "R1", case.id)]
    # another platform keeps its own links
    other = ExchangeBook(store, clock, "province")
    assert other.link_of_remote("R1") is None and other.claim_remote("R1") is not None


def test_cursors_only_move_forward(store, world, clock):
    book = ExchangeBook(store, clock, "city")
    book.advance_to(PULL, "2026-03-02T09:00:00+08:00")
    book.advance_to(PULL, "2026-03-01T09:00:00+08:00")  # an earlier --since run
    assert book.cursor(PULL) == "2026-03-02T09:00:00+08:00"
    book.advance_to(PULL, "2026-03-02T10:00:00+08:00")
    assert book.cursor(PULL) == "2026-03-02T10:00:00+08:00"
    book.advance_to(PUSH, "12")
    book.advance_to(PUSH, "9")
    assert book.cursor(PUSH) == "12"


def test_a_refused_item_moves_the_cursor_and_is_logged(store, world, clock):
    book = ExchangeBook(store, clock, "city")
    book.refused(PULL, mark="2026-03-02T09:00:00+08:00", remote_id="R9", detail="未知的类别代码")
    assert book.cursor(PULL) == "2026-03-02T09:00:00+08:00"
    assert book.link_of_remote("R9") is None  # not linked: a later --since run takes it once the mapping is fixed
    assert [(r["outcome"], r["detail"]) for r in book.log_rows()] == [("refused", "未知的类别代码")]


def test_a_claim_without_its_case_is_dropped_and_one_with_it_recovered(store, world, clock, svc):
    book = ExchangeBook(store, clock, "city")
    lost = book.claim_remote("R2")
    assert lost is not None
    link = book.link_of_remote("R2")
    assert link is not None and book.recover(link) is None  # no case was made: the claim can go
    book.drop_claim(lost)
    assert book.link_of_remote("R2") is None
    made = book.claim_remote("R3")
    assert made is not None
    clock.advance(timedelta(seconds=5))
    case = svc.report(world.actors["acceptor"],
                      draft(source="public", description="垃圾" + MARKER.format(remote_id="R3"))).case
    link = book.link_of_remote("R3")
    assert link is not None and book.recover(link) == case.id
    relinked = book.link_of_remote("R3")
    assert relinked is not None and (relinked.state, relinked.case_id) == ("linked", case.id)


def test_status_changes_pending_for_linked_cases(store, world, clock, svc):
    book = ExchangeBook(store, clock, "city")
    a = world.actors
    r = svc.report(a["acceptor"], draft(source="public"))
    claim = book.claim_remote("R4")
    assert claim is not None
    book.linked(claim, r.case.id, direction=PULL, mark=None, outcome="created")
    ((link, newest),) = book.pending_status()
    assert link.remote_id == "R4" and newest > 0
    book.pushed(link, newest, "OPEN")
    assert book.pending_status() == []
    svc.send_verify(a["acceptor"], r.case.id, r.version)
    ((link, later),) = book.pending_status()
    assert later > newest and link.pushed_event_id == newest
    assert book.cursor(PUSH) == str(newest)


def test_recovery_matches_the_request_id_exactly(store, world, clock, svc):
    """A LIKE wildcard in a platform's id (``_``) does not pick up another request's case."""
    book = ExchangeBook(store, clock, "city")
    claim = book.claim_remote("A_1")
    assert claim is not None
    clock.advance(timedelta(seconds=5))
    svc.report(world.actors["acceptor"], draft(source="public", description="垃圾" + MARKER.format(remote_id="AB1")))
    link = book.link_of_remote("A_1")
    assert link is not None and book.recover(link) is None
