"""status_notes' reply (两次回复) in the server's language: an automatic reply is its template's message (the
same Chinese text, English with ``--lang en``); a reply written by hand is shown as written."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.definitions import Action
from app.i18n.catalogue import Catalogue
from app.services.open311 import reply_msg
from app.services.replies import reply_text


@pytest.mark.parametrize("action", [Action.FILE, Action.CLOSE, Action.REJECT, Action.LINK])
@pytest.mark.parametrize("reported", [date(2026, 3, 2), None])
def test_an_automatic_reply_reads_the_same_in_chinese_and_is_english_with_en(action, reported):
    text = reply_text(action, number="S20260302-0001", category="暴露垃圾", reported_at=reported,
                      reason="不属于城市管理范围", original="S20260301-0009")
    assert Catalogue("zh_CN").tr(reply_msg(text)) == text
    english = Catalogue("en").tr(reply_msg(text))
    assert english.startswith("Hello! The '暴露垃圾' problem you reported")
    assert ("S20260301-0009" if action is Action.LINK else "(case S20260302-0001)") in english
    assert ("on 3/2" in english) is (reported is not None and action is not Action.CLOSE)
    assert "您好" not in english and "于3月" not in english


def test_a_hand_written_reply_is_shown_as_written():
    assert reply_msg("已转交环卫所，今天下午清运") == "已转交环卫所，今天下午清运"
    # a text that only looks like a template's start is not taken apart
    assert reply_msg("您好！您反映的问题已收到") == "您好！您反映的问题已收到"


def test_over_http_with_en_the_filing_reply_is_english(district_world):
    from services.world import T0, service

    from app.domain.clock import FixedClock
    from app.open311.testing import running_server
    from app.services import open311 as o3
    from app.store.engine import open_store
    from open311.conftest import Server, inside_lonlat

    district, world = district_world
    clock = FixedClock(T0)
    store = open_store(district)
    key = o3.add_key(store, "en", rate_per_minute=600, now=T0).key
    svc, a = service(store, clock), world.actors
    try:
        with running_server(district, clock=clock, lang="en") as base:
            srv = Server(base, district, key, clock)
            lat, long = inside_lonlat()
            number = srv.post("/requests.json", {"service_code": "event:06010", "lat": lat, "long": long,
                                                 "description": "人民路边有一堆暴露垃圾"}).json[0]["service_request_id"]
            case_id = next(c.id for c in svc.list_cases() if c.number == number)
            r = svc.send_verify(a["acceptor"], case_id, 1)
            r = svc.verify(a["supervisor"], case_id, r.version, result="现场属实")
            svc.file(a["leader_shift"], case_id, r.version)
            notes = srv.get(f"/requests/{number}.json").json[0]["status_notes"]
            assert notes.startswith("Filed; waiting to be dispatched: Hello! The '暴露垃圾' problem you reported on 3/2")
            assert f"(case {number}) has been filed" in notes
    finally:
        store.dispose()
