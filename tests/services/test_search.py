"""Search over every case through the service, on SpatiaLite and PostGIS (issue 10, item 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.location import LocationInput
from app.services.search import MAX_QUERY, CaseSearch, SearchError, parse
from services.world import MANHOLE, T0, draft, verified


@pytest.fixture
def cases(svc, world, clock):
    """Six reports of two days walked to different ends: open, closed, voided, not filed."""
    a = world.actors
    made = {}

    def report(key, **kw):
        r = svc.report(a["acceptor"], draft(**kw))
        made[key] = r.case.id
        return r

    r = report("garbage", description="人民路边有一堆暴露垃圾", source="hotline", reporter_phone="13800138000")
    r = verified(svc, world, r)
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department="JD001")
    svc.accept(a["dept_jd"], r.case.id, r.version)  # open (处置中), at JD001
    r = report("stall", category="event:09006", description="占道经营，堵塞人行道", source="public", reporter_phone="13912345678")
    r = verified(svc, world, r)
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    svc.void(a["leader_shift"], r.case.id, r.version, reason="重复登记")  # voided
    r = report("rejected", category="event:06012", description="井边有少量落叶", source="public")
    svc.reject(a["leader_shift"], r.case.id, r.version, reason="不属于受理范围")  # not filed
    clock.advance(timedelta(days=1))
    r = svc.report(a["supervisor"], draft("component:01002", description="井盖松动，有响声",
                                           location=LocationInput(component_code=MANHOLE)))
    made["manhole"] = r.case.id
    r = svc.file(a["leader_shift"], r.case.id, r.version)
    svc.dispatch(a["dispatcher"], r.case.id, r.version, department="PS")  # open (待接收), at PS
    return made


def numbers(result):
    return [row.number for row in result.rows]


def ids(result):
    return {row.id for row in result.rows}


def test_text_words_in_any_state(store, cases):
    find = CaseSearch(store).find
    assert ids(find("暴露垃圾")) == {cases["garbage"]}
    assert ids(find("人民路 垃圾")) == {cases["garbage"]}
    assert ids(find("占道")) == {cases["stall"]}  # voided
    assert ids(find("落叶")) == {cases["rejected"]}  # not filed
    assert find("人民路 落叶").total == 0  # every word narrows


def test_chinese_terms_of_one_two_and_more_characters(store, cases):
    find = CaseSearch(store).find
    assert ids(find("井")) == {cases["rejected"], cases["manhole"]}  # 井边 and 井盖, 污水井盖
    assert ids(find("松动")) == {cases["manhole"]}
    assert ids(find("有响声")) == {cases["manhole"]}
    assert ids(find("堵塞人行道")) == {cases["stall"]}
    assert find("声有响").total == 0  # the characters of a word, but not in its order
    assert find("垃圾桶").total == 0


def test_numbers_serials_phones_and_codes(store, cases):
    find = CaseSearch(store).find
    first = find(numbers(find("暴露垃圾"))[0])
    assert ids(first) == {cases["garbage"]}
    number = first.rows[0].number  # S20260302-0001
    serial = number.rsplit("-", 1)[1]
    by_serial = find(serial)
    assert by_serial.rows[0].number.endswith("-" + serial)  # the exact serial first
    assert ids(find(number.lower())) == {cases["garbage"]}
    assert ids(find(number[3:9])) >= {cases["garbage"]}  # any part of the number
    assert ids(find("13800138000")) == {cases["garbage"]}
    assert ids(find("0013812")) == set()
    assert ids(find("电话:13912345678")) == {cases["stall"]}
    assert ids(find("编号:13912345678")) == set()
    assert ids(find(MANHOLE)) == {cases["manhole"]}  # the component code
    assert ids(find("部件:" + MANHOLE[:9])) == {cases["manhole"]}
    assert ids(find("网格:320599001001006")) == set(cases.values())
    assert ids(find("320599001001006")) == set(cases.values())  # the grid code as text
    assert ids(find("网格:320599001002")) == set()


def test_state_source_category_department_kind_and_period(store, cases, world):
    find = CaseSearch(store).find
    assert ids(find("已作废")) == {cases["stall"]}
    assert ids(find("不予立案")) == {cases["rejected"]}
    assert ids(find("状态:待接收")) == {cases["manhole"]}
    assert ids(find("处置中")) == {cases["garbage"]}
    assert ids(find("在办")) == {cases["garbage"], cases["manhole"]}
    assert ids(find("12319热线")) == {cases["garbage"]}
    assert ids(find("来源:公众")) == {cases["stall"], cases["rejected"]}
    assert ids(find("类别:01")) == {cases["manhole"]}
    assert ids(find("类别:暴露垃圾")) == {cases["garbage"]}
    assert ids(find("类别:09")) == {cases["stall"]}
    assert ids(find("部门:JD001")) == {cases["garbage"]}
    assert ids(find("部门:排水")) == {cases["manhole"]}
    assert ids(find("类型:部件")) == {cases["manhole"]}
    day = T0.date()
    assert ids(find(day.isoformat())) == {cases["garbage"], cases["stall"], cases["rejected"]}
    assert ids(find(f"{day:%Y年%m月}")) == set(cases.values())
    nxt = day + timedelta(days=1)
    assert ids(find(f"{day}..{nxt}")) == set(cases.values())
    assert ids(find(f"日期:{nxt}~{nxt}")) == {cases["manhole"]}
    assert ids(find(f"井 {nxt}")) == {cases["manhole"]}


def test_order_paging_and_totals(store, cases):
    find = CaseSearch(store).find
    every = find("")
    assert every.total == 4 and [r.reported_at for r in every.rows] == sorted(
        (r.reported_at for r in every.rows), reverse=True)
    page = find("", limit=3)
    assert (len(page.rows), page.total, page.more) == (3, 4, True)
    rest = find("", limit=3, offset=3)
    assert (len(rest.rows), rest.total, rest.more) == (1, 4, False)
    assert ids(page) | ids(rest) == set(cases.values())


def test_department_scope(store, cases, world):
    find = CaseSearch(store).find
    assert ids(find("", department_id=world.dept["JD001"])) == {cases["garbage"]}
    assert ids(find("井", department_id=world.dept["JD001"])) == set()
    assert ids(find("井", department_id=world.dept["PS"])) == {cases["manhole"]}


HOSTILE = ['"', '""', '"井盖', "井盖\"", "NEAR(井 盖)", "井* OR 1", "terms:井", "doc:x", "^井", "- 井", "*", "(", ")",
           "AND", "OR NOT", "{terms doc}:井", "'; DROP TABLE cases; --", "%", "_", "\\", "井%", "\u202e井盖",
           "a:b", "x" * 60, "'", "''", ":*", "&|!", "井 & 盖", "'井':*"]


@pytest.mark.parametrize("query", HOSTILE)
def test_query_syntax_is_harmless(store, cases, query):
    result = CaseSearch(store).find(query)
    for row in result.rows:  # whatever it finds really holds the words typed
        assert row.id in set(cases.values())
    assert CaseSearch(store).find("暴露垃圾").total == 1  # and nothing was changed


def test_a_percent_or_underscore_is_literal(store, cases):
    find = CaseSearch(store).find
    assert find("%").total == 0 and find("_").total == 0 and find("地址:%").total == 0
    with pytest.raises(SearchError):  # a code prefix "0_", not "0 and any character"
        find("类别:0_")


def test_bad_queries_say_why(store, cases):
    find = CaseSearch(store).find
    for query, words in (("井" * (MAX_QUERY + 1), "上限"), ("状态:不存在的状态", "状态"),
                         ("来源:卫星", "来源"), ("类别:不存在的类别", "类别"), ("部门:不存在", "部门"),
                         ("网格:abc", "网格编码"), ("日期:明天", "日期"), ("2026-02-30", "不存在"),
                         ("2026-12-07..2026-12-01", "早于"), ("类型:树", "类型")):
        with pytest.raises(SearchError) as err:
            find(query)
        assert words in str(err.value), query
    with pytest.raises(SearchError):
        find("", limit=0)


def test_the_index_follows_the_case_through_its_events(store, svc, world, clock):
    a = world.actors
    find = CaseSearch(store).find
    r = svc.report(a["acceptor"], draft(description="路灯不亮，夜间漆黑"))
    cid = r.case.id
    assert numbers(find("路灯 已上报")) == [r.case.number]
    r = verified(svc, world, r)  # a hotline report: verified before filing
    r = svc.file(a["leader_shift"], cid, r.version)
    r = svc.dispatch(a["dispatcher"], cid, r.version, department="JD001")
    assert find("路灯 已上报").total == 0 and ids(find("路灯 待接收")) == {cid}
    r = svc.void(a["leader_shift"], cid, r.version, reason="重复")
    assert ids(find("路灯 已作废")) == {cid} and find("路灯").total == 1  # one index row, kept


def test_parser_reads_what_a_dispatcher_types():
    p = parse("0294  井盖 人民路 已结案 来源:热线 2026-12")
    assert p.terms == [(None, "0294"), (None, "井盖"), (None, "人民路")]
    assert p.exact == "0294" and p.states == {"closed"} and p.sources == {"hotline"}
    assert (p.start.month, p.end.month) == (12, 1)
    assert parse('"人民路 12号"').terms == [(None, "人民路 12号")]
    assert parse("ＡＢ１２").terms == [(None, "ab12")]  # full-width folded
    assert parse("http://x").terms == [(None, "http://x")]


def test_the_core_scopes_a_department_operator_on_spatialite(store, cases, world, clock):
    from app.core import build_core

    core = build_core(store, clock)
    mine = ids(core.find_cases(world.actors["dept_jd"], ""))
    if store.backend == "spatialite":
        assert mine == {cases["garbage"]}  # the department's own, nothing else
    else:  # PostGIS: the login's row-level security decides (this store is the superuser's)
        assert mine == set(cases.values())
    assert ids(core.find_cases(world.actors["dispatcher"], "")) == set(cases.values())
