"""app.domain.timeline: the facts of an event, one message each; nothing in a payload is dropped."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.cases import CaseEventRecord
from app.domain.messages import Msg
from app.domain.timeline import attachment_line, event_facts, payload_facts, size_text, urge_text, when
from app.i18n import Catalogue, english_missing

ZH, EN = Catalogue("zh_CN"), Catalogue("en")

#: (action, payload, photos) → the Chinese facts, in order
CASES = [
    ("report", {"location": "component", "grid": "320599001001006", "x": 557150.0, "y": 3464450.0}, 1,
     ["定位方式：部件，网格 320599001001006（x=557150.0, y=3464450.0）", "附照片 1 张"]),
    ("send_verify", {"supervisor": "chen", "deadline": "2026-03-02 10:20:00"}, 0,
     ["时限截止：2026-03-02 10:20", "派给监督员：chen"]),
    ("verify", {"result": "不属实：无垃圾", "confirmed": False}, 0, ["核实结果：不属实：无垃圾", "问题不属实"]),
    ("dispatch", {"department": "HW", "department_name": "环卫所", "suggested_rank": None, "level": "urgent"}, 0,
     ["派往：环卫所（HW）", "不在派遣建议中", "等级改为：紧急"]),
    ("request_extension", {"minutes": 480}, 0, ["申请延期 480 分钟"]),
    ("approve", {"request": "extension_requested", "minutes": 240, "requested_minutes": 480}, 0,
     ["批准延期 240 分钟", "原申请延期 480 分钟", "所涉申请：延期申请中"]),
    ("approve", {"request": "return_requested", "returned_by": 4}, 0,
     ["所涉申请：回退申请中", "退回部门（编号）：4"]),
    ("feedback", {"text": "已清运"}, 2, ["处置情况：已清运", "附照片 2 张"]),
    ("check", {"outcome": "failed"}, 0, ["核查结论：不通过"]),
    ("urge", {"urge_level": 1, "urge_count": 2}, 0, ["督办级别：1 级（一般督办）", "第 2 次督办"]),
    ("rule", {"department": "SZ", "department_name": "市政", "ruling": "remedial", "responsible": "HW"}, 0,
     ["裁定由 市政（SZ） 负责", "裁定结果：指定部门代整改", "实际责任部门：HW"]),
    ("callback", {"result": "unreachable", "note": ""}, 0, ["回访结果：未联系上", "回访记录：（空）"]),
    ("close", {"evidence": {"before_at": "2026-03-02 09:00:00", "after_at": None,
                            "missing": ["after_time", "weird"]}, "override": True}, 0,
     ["处置前照片拍摄于：2026-03-02 09:00", "处置后照片：无拍摄时间", "结案证据缺少：处置后照片的拍摄时间、weird",
      "证据不全，值班长确认结案"]),
    ("reply", {"text": "已立案", "auto": True, "after": "file", "caused_by": "li"}, 0,
     ["自动回复（立案，由 li 的操作引起）：已立案"]),
    ("reply", {"text": "谢谢", "auto": False}, 0, ["回复内容：谢谢"]),
    ("link", {"duplicate_of": "S20260302-0001", "duplicate_of_id": 1}, 0, ["与案卷 S20260302-0001 重复"]),
    ("edit", {"changes": {"address": ["A", None], "colour": ["red", "blue"], "odd": "x"}}, 0,
     ["地址：A → （空）", "colour：red → blue", "changes.odd：x"]),
    ("accept", {}, 0, []),
]


def test_each_known_fact_is_told_in_words():
    for action, payload, photos, expected in CASES:
        facts = payload_facts(action, payload, photos=photos)
        assert [f.text() for f in facts] == expected, action
        assert all(isinstance(f, Msg) for f in facts)


def test_every_fact_has_english():
    ids = {f.id for action, payload, photos, _ in CASES for f in payload_facts(action, payload, photos=photos)}
    ids |= {attachment_line("before", "a.jpg", None, 10).id, attachment_line("x", "a.jpg", "2026-03-02 09:00", 1).id,
            urge_text(3).id, urge_text(2, "2026-03-02 09:00").id}
    assert english_missing(sorted(ids)) == []
    rendered = [EN.text(f) for action, payload, photos, _ in CASES for f in payload_facts(action, payload, photos=photos)]
    assert "Dispatched to: 环卫所 (HW)" in rendered and "Evidence incomplete: closed on the shift leader's confirmation" \
        in rendered


KNOWN = ["department", "department_name", "suggested_rank", "level", "deadline", "minutes", "requested_minutes",
         "request", "result", "confirmed", "note", "text", "auto", "after", "caused_by", "outcome", "supervisor",
         "urge_level", "urge_deadline", "urge_count", "ruling", "responsible", "remedial", "evidence", "override",
         "changes", "duplicate_of", "location", "grid", "x", "y"]


@settings(deadline=None)  # the first example loads the catalogue
@given(st.dictionaries(st.one_of(st.sampled_from(KNOWN), st.text(min_size=1, max_size=12).filter(str.isidentifier)),
                       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                                 st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3),
                                                                                     st.integers(), max_size=2)),
                       max_size=6),
       st.sampled_from(["report", "dispatch", "urge", "callback", "close", "reply", "feedback", "note"]))
def test_no_key_of_a_payload_is_dropped_and_nothing_raises(payload, action):
    facts = payload_facts(action, payload)
    text = "\n".join(ZH.text(f) for f in facts) + "\n".join(EN.text(f) for f in facts)
    known = {"department", "department_name", "suggested_rank", "level", "deadline", "minutes", "requested_minutes",
             "request", "returned_by", "result", "confirmed", "note", "text", "auto", "after", "caused_by", "outcome",
             "supervisor", "urge_level", "urge_deadline", "urge_count", "ruling", "responsible", "remedial",
             "evidence", "override", "changes", "duplicate_of", "duplicate_of_id", "location", "grid", "x", "y"}
    for key in payload:
        assert key in known or f"{key}：" in text, (key, text)


def test_an_event_record_brings_its_photo_count():
    event = CaseEventRecord(3, datetime(2026, 3, 2, 9), "check", "checking", "to_close", "chen", "supervisor",
                            payload={"outcome": "passed"}, photos=3)
    assert [ZH.text(f) for f in event_facts(event)] == ["核查结论：通过", "附照片 3 张"]


def test_attachment_lines_sizes_times_and_the_urge_mark():
    assert [size_text(v) for v in (None, 77, 2048, 5 * 1024 * 1024)] == ["?", "77 B", "2.0 KB", "5.0 MB"]
    assert when("2026-03-02 09:00:07") == when(datetime(2026, 3, 2, 9, 0, 7)) == "2026-03-02 09:00"
    assert when("not a time") == "not a time"
    line = attachment_line("after", "后.jpg", datetime(2026, 3, 2, 11, 5), 4096)
    assert ZH.text(line) == "「后.jpg」（处置后照片）4.0 KB，拍摄于 2026-03-02 11:05"
    assert EN.text(attachment_line("report", "a.png", None, 77)) == '"a.png" (photo with the report) 77 B, no shooting time'
    assert urge_text(0) is None
    assert ZH.text(urge_text(3, "2026-03-03 17:00:00")) == "挂牌督办（3 级），督办时限 2026-03-03 17:00"


def test_the_report_facts_and_a_starting_limit_are_told_in_words():
    zh, en = Catalogue("zh_CN"), Catalogue("en")
    report = payload_facts("report", {"kind": "event", "category": "06001", "source": "public", "street": "320508001",
                                      "community": "320508001005", "component": None, "limit_minutes": 30,
                                      "basis": "working"})
    assert [zh.text(m) for m in report] == ["类型：事件", "类别：06001", "来源：公众举报", "街道：320508001",
                                            "社区：320508001005", "时限 30 分钟（工作时间）"]
    dispatch = payload_facts("dispatch", {"limit_minutes": 4800, "basis": "natural"})
    assert [en.text(m) for m in dispatch] == ["Limit 4800 min (natural time)"]
    # a category key on another event is not a report fact: it stays, told generically
    assert len(payload_facts("edit", {"category": "06001"})) == 1
