"""The indicators on a small hand-built history, every expected value worked out by hand below.

Five cases, period 2026-03-01 … 2026-03-31 (``[START, END)``), rules as shipped but min_cases = 2:

S1  street ST1, grid G1, 监督员 sup1 reports 03-02 09:00; filed 09:30 (deadline 10:00: on time);
    dispatched to D1 10:00 (deadline 10:30: on time); fed back 15:00 (handle deadline 03-03 10:00);
    check sent 15:30, passed 16:00 (check deadline 17:00); closed 17:00 (close deadline 18:00).
    Every stage on time.
S2  street ST1, grid G2, 公众举报 recorded by acc1 03-03 09:00; 派发核实 09:20 (≤ 10:00) to sup1,
    核实 11:30 (deadline 11:00: LATE), confirmed; filed 12:00 (≤ 12:30); dispatched to D1 14:00
    (deadline 13:00: LATE); fed back 03-05 09:00 (deadline 03-04 14:00: LATE); check failed 10:00
    (rework, new limit); fed back 15:00; check passed 15:30; closed 16:00 (≤ 17:30).
S3  street ST2, grid G3, sup2 reports 03-10; filed 09:10 (≤ 10:00); dispatched to D2 09:20 (≤ 10:10);
    D2 asks 回退, approved 09:40; dispatched to D1 09:50 (≤ 10:40); D1 handling at the period's end.
S4  street ST2, grid G4, sup2 reports 03-11; filed 09:10 (≤ 10:00); voided 10:00.
S5  street ST1, reported and filed 02-27 (before the period), dispatched to D1 in February; closed
    03-02 10:00 by leader1, late (close deadline 03-02 09:00), by override without the after photo.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from app.domain.indicators import (
    CaseHistory,
    EvaluationRules,
    Event,
    case_facts,
    evaluate_departments,
    evaluate_positions,
    evaluate_regions,
    walk,
)

START, END = datetime(2026, 3, 1), datetime(2026, 4, 1)
RULES = dataclasses.replace(EvaluationRules.load(), min_cases=2)
ROLE = {"sup1": "supervisor", "sup2": "supervisor", "acc1": "acceptor", "leader1": "shift_leader",
        "disp1": "dispatcher", "d1": "department", "d2": "department"}


def t(day: int, hm: str, month: int = 3) -> datetime:
    h, m = hm.split(":")
    return datetime(2026, month, day, int(h), int(m))


def case(case_id: int, number: str, facts: dict, *steps) -> CaseHistory:
    events = []
    for seq, (action, frm, to, who, at, *rest) in enumerate(steps, start=1):
        payload = dict(rest[0]) if rest else {}
        dept = payload.pop("dept", None)
        if ROLE[who] == "department":
            dept = 1 if who == "d1" else 2
        events.append(Event(seq, action, frm, to, who, ROLE[who], dept, at, payload))
    return CaseHistory(case_id, number, facts, events)


def facts(grid: str, community: str, street: str, source: str) -> dict:
    return {"kind": "event", "category": "010101", "level": "general", "source": source, "grid": grid,
            "community": community, "street": street, "component": None}


def dl(at: datetime, **extra) -> dict:
    return {"deadline": f"{at:%Y-%m-%d %H:%M:%S}", **extra}


LIMIT = {"limit_minutes": 60, "basis": "working"}

S1 = case(1, "S1", facts("G1", "C1", "ST1", "supervisor"),
          ("report", None, "reported", "sup1", t(2, "09:00"), dl(t(2, "10:00"), **LIMIT)),
          ("file", "reported", "filed", "leader1", t(2, "09:30"), dl(t(2, "10:30"), **LIMIT)),
          ("dispatch", "filed", "dispatched", "disp1", t(2, "10:00"), dl(t(3, "10:00"), dept=1, **LIMIT)),
          ("accept", "dispatched", "handling", "d1", t(2, "10:10")),
          ("feedback", "handling", "fed_back", "d1", t(2, "15:00"), dl(t(2, "17:00"), **LIMIT)),
          ("send_check", "fed_back", "checking", "acc1", t(2, "15:30"), {"supervisor": "sup1"}),
          ("check", "checking", "checked", "sup1", t(2, "16:00"), dl(t(2, "18:00"), outcome="passed", **LIMIT)),
          ("close", "checked", "closed", "leader1", t(2, "17:00")))
S2 = case(2, "S2", facts("G2", "C1", "ST1", "public"),
          ("report", None, "reported", "acc1", t(3, "09:00"), dl(t(3, "10:00"), **LIMIT)),
          ("send_verify", "reported", "verifying", "acc1", t(3, "09:20"), dl(t(3, "11:00"), supervisor="sup1", **LIMIT)),
          ("verify", "verifying", "reported", "sup1", t(3, "11:30"), dl(t(3, "12:30"), confirmed=True, **LIMIT)),
          ("file", "reported", "filed", "leader1", t(3, "12:00"), dl(t(3, "13:00"), **LIMIT)),
          ("dispatch", "filed", "dispatched", "disp1", t(3, "14:00"), dl(t(4, "14:00"), dept=1, **LIMIT)),
          ("accept", "dispatched", "handling", "d1", t(3, "14:30")),
          ("feedback", "handling", "fed_back", "d1", t(5, "09:00"), dl(t(5, "11:00"), **LIMIT)),
          ("send_check", "fed_back", "checking", "acc1", t(5, "09:10"), {"supervisor": "sup1"}),
          ("check", "checking", "dispatched", "sup1", t(5, "10:00"), dl(t(6, "10:00"), outcome="failed", **LIMIT)),
          ("accept", "dispatched", "handling", "d1", t(5, "10:30")),
          ("feedback", "handling", "fed_back", "d1", t(5, "15:00"), dl(t(5, "17:00"), **LIMIT)),
          ("send_check", "fed_back", "checking", "acc1", t(5, "15:10"), {"supervisor": "sup1"}),
          ("check", "checking", "checked", "sup1", t(5, "15:30"), dl(t(5, "17:30"), outcome="passed", **LIMIT)),
          ("close", "checked", "closed", "leader1", t(5, "16:00")),
          ("callback", "closed", "closed", "acc1", t(6, "09:00"), {"result": "unreachable", "department": "D1"}),
          ("callback", "closed", "closed", "acc1", t(6, "15:00"),
           {"result": "basically_satisfied", "department": "D1"}))  # the later call-back counts
S3 = case(3, "S3", facts("G3", "C2", "ST2", "supervisor"),
          ("report", None, "reported", "sup2", t(10, "09:00"), dl(t(10, "10:00"), **LIMIT)),
          ("file", "reported", "filed", "leader1", t(10, "09:10"), dl(t(10, "10:10"), **LIMIT)),
          ("dispatch", "filed", "dispatched", "disp1", t(10, "09:20"), dl(t(11, "09:20"), dept=2, **LIMIT)),
          ("request_return", "dispatched", "return_requested", "d2", t(10, "09:30")),
          ("approve", "return_requested", "filed", "disp1", t(10, "09:40"),
           dl(t(10, "10:40"), request="return_requested", **LIMIT)),
          ("dispatch", "filed", "dispatched", "disp1", t(10, "09:50"), dl(t(11, "09:50"), dept=1, **LIMIT)),
          ("accept", "dispatched", "handling", "d1", t(10, "10:00")))
S4 = case(4, "S4", facts("G4", "C2", "ST2", "supervisor"),
          ("report", None, "reported", "sup2", t(11, "09:00"), dl(t(11, "10:00"), **LIMIT)),
          ("file", "reported", "filed", "leader1", t(11, "09:10"), dl(t(11, "10:10"), **LIMIT)),
          ("void", "filed", "voided", "leader1", t(11, "10:00")))
S5 = case(5, "S5", facts("G1", "C1", "ST1", "supervisor"),
          ("report", None, "reported", "sup1", t(27, "09:00", 2), dl(t(27, "10:00", 2), **LIMIT)),
          ("file", "reported", "filed", "leader1", t(27, "09:10", 2), dl(t(27, "10:10", 2), **LIMIT)),
          ("dispatch", "filed", "dispatched", "disp1", t(27, "09:20", 2), dl(t(28, "09:20", 2), dept=1, **LIMIT)),
          ("accept", "dispatched", "handling", "d1", t(27, "09:30", 2)),
          ("feedback", "handling", "fed_back", "d1", t(27, "15:00", 2), dl(t(27, "17:00", 2), **LIMIT)),
          ("send_check", "fed_back", "checking", "acc1", t(27, "15:10", 2), {"supervisor": "sup1"}),
          ("check", "checking", "checked", "sup1", t(27, "16:00", 2), dl(t(2, "09:00"), outcome="passed", **LIMIT)),
          ("close", "checked", "closed", "leader1", t(2, "10:00"),
           {"override": True, "evidence": {"before_at": None, "after_at": None, "missing": ["after"]}}))
CASES = [S1, S2, S3, S4, S5]
GRIDS = {"ST1": 2, "ST2": 4, "C1": 2, "C2": 2, "district": 4}
SUPERVISORS = {"G1": "sup1", "G2": "sup1", "G3": "sup2", "G4": "sup2"}


def fig(result, key) -> tuple[int, int]:
    f = result.rates[key]
    return f.numerator, f.denominator


def test_the_deadline_in_force_at_each_event():
    timed = walk(S2.events)
    # the 核实 ended the verify stage whose deadline the 派发核实 recorded (11:00): late
    assert (timed[2].deadline, timed[2].on_time()) == (t(3, "11:00"), False)
    assert (timed[4].deadline, timed[4].on_time()) == (t(3, "13:00"), False)  # dispatch 14:00
    assert (timed[6].deadline, timed[6].on_time()) == (t(4, "14:00"), False)  # first feedback
    assert (timed[10].deadline, timed[10].on_time()) == (t(6, "10:00"), True)  # after the rework's new limit
    f = case_facts(S2, RULES)
    assert f.flags == {"reworked"} and not f.all_on_time and f.verified_public
    assert case_facts(S1, RULES).all_on_time
    assert case_facts(S5, RULES).flags == {"override", "no_evidence"}


def test_streets_by_hand():
    st1, st2 = evaluate_regions(CASES, START, END, RULES, level="street", grids=GRIDS)
    # ST1: S1 and S2 filed in March (S5 was filed in February); both closed, S1 every stage on time
    assert (st1.code, st1.counts["filed"], st1.counts["due_to_close"]) == ("ST1", 2, 2)
    assert fig(st1, "close_rate") == (2, 2)
    assert fig(st1, "close_on_time_rate") == (1, 2)
    assert fig(st1, "timely_solved_rate") == (1, 2)  # 问题及时解决率
    assert fig(st1, "report_supervision_rate") == (1, 2)  # S2: a public report confirmed on site
    # 立案数 per grid 2 / 2 = 1 → 90; 10·50 + 20·90 + 30·100 + 40·50 = 7300 → 73.0, C
    assert st1.components == {"report_supervision_rate": 50.0, "case_count": 90.0, "close_rate": 100.0,
                              "close_on_time_rate": 50.0}
    assert (st1.score, st1.grade, st1.colour, st1.rank) == (pytest.approx(73.0), "C", "#e6c229", 1)
    assert st1.averages["closing"].total_minutes == 8 * 60 + (2 * 24 + 7) * 60  # S1 8 h, S2 2 d 7 h
    # ST2: S3 and S4 filed; S4 voided (not due); S3 still handled: 0 of 1 closed; S3 was returned once
    assert (st2.counts["filed"], st2.counts["voided"], st2.counts["due_to_close"]) == (2, 1, 1)
    assert fig(st2, "close_rate") == (0, 1) and fig(st2, "return_share") == (1, 1)
    # 2 cases / 4 grids = 0.5 per grid → the band of 0 → 100; 20·100 / 100 = 20 → E; 1 case: not ranked
    assert (st2.score, st2.grade, st2.insufficient, st2.rank) == (pytest.approx(20.0), "E", True, None)


def test_the_district_is_one_region():
    (district,) = evaluate_regions(CASES, START, END, RULES, level="district", grids=GRIDS)
    assert (district.counts["filed"], fig(district, "close_rate")) == (4, (2, 3))


def test_departments_by_hand():
    d1, d2 = evaluate_departments(CASES, START, END, RULES, names={1: ("D1", "部门一"), 2: ("D2", "部门二")})
    # D1: S1, S2, S3 assigned in March (S5 in February); S1 fed back on time, S2 late, S3 not yet
    assert (d1.code, d1.name, d1.counts["assigned"], d1.counts["due"]) == ("D1", "部门一", 3, 3)
    assert fig(d1, "handle_rate") == (2, 3) and fig(d1, "handle_on_time_rate") == (1, 3)
    assert fig(d1, "close_rate") == (2, 3) and fig(d1, "rework_rate") == (1, 2)
    assert d1.averages["handling"].total_minutes == 300 + 43 * 60 and d1.averages["handling"].count == 2
    # 10·100 (3 cases) + 30·66.67 + 30·33.33 + 30·50 = 5500 → 55.0, D
    assert (d1.score, d1.grade, d1.rank) == (pytest.approx(55.0), "D", 1)
    assert d1.flags == {"moved": ["S3"], "reworked": ["S2"]}
    assert fig(d1, "satisfied_share") == (1, 1) and "satisfied_share" not in d1.components  # 回访, not weighted
    # D2: its one assignment came back (回退): nothing due, not ranked
    assert (d2.counts["returned"], fig(d2, "return_share"), d2.base, d2.rank) == (1, (1, 1), 0, None)
    assert d2.rates["close_rate"].value is None and d2.insufficient


def test_positions_by_hand():
    results = {(r.level, r.code): r for r in evaluate_positions(CASES, START, END, RULES,
                                                                  grid_supervisors=SUPERVISORS)}
    sup1 = results["supervisor", "sup1"]
    assert fig(sup1, "valid_report_rate") == (1, 1)
    assert fig(sup1, "missed_rate") == (1, 2)  # S2 in its grid G2, first reported by the public
    assert fig(sup1, "verify_on_time_rate") == (0, 1)  # S2's 核实 at 11:30, due 11:00
    assert fig(sup1, "check_on_time_rate") == (3, 3)
    assert (sup1.score, sup1.grade) == (pytest.approx(70.0), "C")  # 40·100 + 20·50 + 20·0 + 20·100
    sup2 = results["supervisor", "sup2"]
    assert fig(sup2, "valid_report_rate") == (2, 2)  # S4 was filed before it was voided: valid
    assert (sup2.score, sup2.grade, sup2.rank, sup1.rank) == (pytest.approx(100.0), "A", 1, 2)
    acc1 = results["acceptor", "acc1"]
    assert (acc1.counts["accepted"], fig(acc1, "verify_sent_on_time_rate"), fig(acc1, "check_sent_on_time_rate")) \
        == (1, (1, 1), (3, 3))
    assert (acc1.score, acc1.grade) == (pytest.approx(75.0), "B")  # 25·0 (1 report) + 40·100 + 35·100
    leader = results["shift_leader", "leader1"]
    assert fig(leader, "file_on_time_rate") == (4, 4) and fig(leader, "file_accuracy_rate") == (3, 4)
    assert fig(leader, "close_on_time_rate") == (2, 3)  # S5 closed late in March
    assert leader.score == pytest.approx((25 * 100 + 40 * 75 + 35 * 200 / 3) / 100) and leader.grade == "B"
    assert leader.flags["override"] == ["S5"] and leader.flags["no_evidence"] == ["S5"]
    disp = results["dispatcher", "disp1"]
    assert fig(disp, "dispatch_on_time_rate") == (3, 4) and fig(disp, "dispatch_accuracy_rate") == (3, 4)
    assert (disp.score, disp.grade) == (pytest.approx(60.0), "C")  # 20·0 + 40·75 + 40·75


def test_nothing_after_the_period_counts():
    # the same history cut at 03-05 12:00: S2 not closed yet, S3 and S4 not there at all
    cut = datetime(2026, 3, 5, 12)
    cases = [CaseHistory(h.case_id, h.number, h.facts, [e for e in h.events if e.at < cut]) for h in CASES]
    cases = [h for h in cases if h.events]
    (st1,) = evaluate_regions(cases, START, cut, RULES, level="street", grids=GRIDS)
    assert fig(st1, "close_rate") == (1, 2)


def test_quick_close_and_weights_that_do_not_sum_to_100():
    quick = case(9, "Q1", facts("G1", "C1", "ST1", "supervisor"),
                 ("report", None, "reported", "sup1", t(9, "09:00"), dl(t(9, "10:00"))),
                 ("file", "reported", "filed", "leader1", t(9, "09:01"), dl(t(9, "10:00"))),
                 ("dispatch", "filed", "dispatched", "disp1", t(9, "09:02"), dl(t(10, "09:00"), dept=1)),
                 ("feedback", "dispatched", "fed_back", "d1", t(9, "09:03"), dl(t(9, "11:00"))),
                 ("check", "fed_back", "checked", "sup1", t(9, "09:04"), dl(t(9, "12:00"))),
                 ("close", "checked", "closed", "leader1", t(9, "09:05")))
    assert "quick_close" in case_facts(quick, RULES).flags
    weights = {**RULES.weights, "region": {"report_supervision_rate": 10, "case_count": 20, "close_rate": 30,
                                           "close_on_time_rate": 10}}  # the source's 70 %
    rules70 = dataclasses.replace(RULES, weights=weights)
    st1, _ = evaluate_regions(CASES, START, END, rules70, level="street", grids=GRIDS)
    assert st1.weight_sum == 70 and st1.score == pytest.approx((500 + 1800 + 3000 + 500) / 70)


def test_rules_file_and_grades():
    rules = EvaluationRules.load()
    assert [(g.grade, g.min) for g in rules.grades] == [("A", 90), ("B", 75), ("C", 60), ("D", 40), ("E", 0)]
    assert sum(rules.weights["region"].values()) == 100 and rules.inverse["department"] == {"rework_rate"}
    assert rules.band_score("handled", 2001) == 100 and rules.band_score("handled", 100) == 0
    assert rules.band_score("department_cases", 51) == 90 and rules.band_score("region_class_two", 10) == 0
    assert rules.grade(89.99).grade == "B" and rules.grade(None) is None
    with pytest.raises(ValueError):
        EvaluationRules.parse(b"version = [")


def test_the_cases_behind_every_figure():
    st1, _ = evaluate_regions(CASES, START, END, RULES, level="street", grids=GRIDS)
    assert st1.behind("close_on_time_rate") == (["S1"], ["S1", "S2"])
    assert st1.behind("report_supervision_rate") == (["S2"], ["S1", "S2"])
    d1, _d2 = evaluate_departments(CASES, START, END, RULES, names={1: ("D1", "部门一"), 2: ("D2", "部门二")})
    assert d1.behind("handle_on_time_rate") == (["S1"], ["S1", "S2", "S3"])
    assert d1.behind("rework_rate") == (["S2"], ["S1", "S2"])
    results = {(r.level, r.code): r for r in evaluate_positions(CASES, START, END, RULES,
                                                                  grid_supervisors=SUPERVISORS)}
    assert results["shift_leader", "leader1"].behind("file_accuracy_rate") == (["S1", "S2", "S3"],
                                                                             ["S1", "S2", "S3", "S4"])
    assert results["dispatcher", "disp1"].behind("dispatch_accuracy_rate") == (["S1", "S2", "S3"],
                                                                              ["S1", "S2", "S3", "S3"])
    assert results["supervisor", "sup1"].behind("check_on_time_rate") == (["S1", "S2", "S2"], ["S1", "S2", "S2"])
    # every rate of every subject: its lists are exactly as long as its counts
    for r in [st1, d1, *results.values()]:
        for key, figure in r.rates.items():
            top, bottom = r.behind(key)
            assert (len(top), len(bottom)) == (figure.numerator, figure.denominator), (r.code, key)
    assert "members" not in st1.record() and "sources" not in st1.record()
