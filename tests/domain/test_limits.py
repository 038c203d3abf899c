"""Time-limit tables: the shipped CSV, the fallback chain and the validation of bad rows."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.domain.definitions import Basis, Kind, Level, Stage
from app.domain.limits import (
    BUILTIN_DEFAULTS,
    DEFAULT_PATH,
    LimitKey,
    LimitRule,
    LimitTable,
    read_taxonomy_codes,
)

TABLE = LimitTable.load()
HEADER = "kind,category_code,level,stage,minutes,basis,condition\n"


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "limits.csv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_shipped_table_uses_only_known_category_codes():
    codes = read_taxonomy_codes()
    with open(DEFAULT_PATH, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) > 100
    for row in rows:
        if row["category_code"]:
            assert row["category_code"] in codes[Kind.parse(row["kind"])]


def test_shipped_urgent_limits_run_on_natural_time():
    urgent = [rule for key, rule in TABLE.rules() if key.level is Level.URGENT]
    assert urgent and all(rule.basis is Basis.NATURAL for rule in urgent)


@pytest.mark.parametrize(
    "kind, code, level, minutes, basis",
    [
        (Kind.EVENT, "06012", Level.GENERAL, 180, Basis.WORKING),  # 道路不洁 3 working hours
        (Kind.EVENT, "06010", Level.GENERAL, 240, Basis.WORKING),  # 暴露垃圾
        (Kind.EVENT, "06011", Level.GENERAL, 960, Basis.WORKING),  # 积存垃圾渣土 2 working days
        (Kind.EVENT, "06001", Level.ENGINEERING, 9600, Basis.WORKING),  # 私搭乱建 demolish 20 days
        (Kind.EVENT, "01001", Level.GENERAL, 360, Basis.WORKING),  # 供水井盖异常 6 h
        (Kind.COMPONENT, "01003", Level.URGENT, 120, Basis.NATURAL),  # 雨水井盖 2 h urgent
    ],
)
def test_shipped_handling_limits(kind, code, level, minutes, basis):
    rule = TABLE.lookup(kind, code, level, Stage.HANDLE)
    assert (rule.minutes, rule.basis) == (minutes, basis)


def test_stage_limits_follow_the_standard():
    assert TABLE.lookup(Kind.EVENT, "06012", Level.GENERAL, Stage.DISPATCH) == LimitRule(30, Basis.NATURAL, "立案+派遣")
    assert TABLE.lookup(Kind.EVENT, "06012", Level.URGENT, Stage.DISPATCH).minutes == 10
    assert TABLE.lookup(Kind.COMPONENT, "02014", Level.GENERAL, Stage.CHECK).minutes == 60
    assert TABLE.lookup(Kind.COMPONENT, "02014", Level.URGENT, Stage.VERIFY).minutes == 30


def test_fallback_chain_category_major_kind_global_builtin():
    table = LimitTable({
        LimitKey(Kind.EVENT, "06012", Level.GENERAL, Stage.HANDLE): LimitRule(180, Basis.WORKING),
        LimitKey(Kind.EVENT, "06", Level.GENERAL, Stage.HANDLE): LimitRule(300, Basis.WORKING),
        LimitKey(Kind.EVENT, None, Level.GENERAL, Stage.HANDLE): LimitRule(400, Basis.WORKING),
        LimitKey(None, None, Level.GENERAL, Stage.HANDLE): LimitRule(500, Basis.WORKING),
    })
    assert table.lookup(Kind.EVENT, "06012", Level.GENERAL, Stage.HANDLE).minutes == 180
    assert table.lookup(Kind.EVENT, "06010", Level.GENERAL, Stage.HANDLE).minutes == 300
    assert table.lookup(Kind.EVENT, "07001", Level.GENERAL, Stage.HANDLE).minutes == 400
    assert table.lookup(Kind.EVENT, None, Level.GENERAL, Stage.HANDLE).minutes == 400
    assert table.lookup(Kind.COMPONENT, "01001", Level.GENERAL, Stage.HANDLE).minutes == 500
    builtin = table.lookup(Kind.COMPONENT, "01001", Level.ENGINEERING, Stage.HANDLE)
    assert builtin == BUILTIN_DEFAULTS[(Stage.HANDLE, Level.ENGINEERING)]
    assert builtin.minutes == 2400 and builtin.basis is Basis.WORKING
    # the values as stored (strings) work too
    assert table.lookup("event", "06012", "general", "handle").minutes == 180


def test_explain_source_says_which_rule_applied():
    text = TABLE.explain_source(Kind.EVENT, "06012", Level.GENERAL, Stage.HANDLE)
    assert "该小类 06012 的专门规定" in text and "3 工作小时" in text and "time_limits.csv 第" in text
    text = TABLE.explain_source(Kind.EVENT, "06015", Level.GENERAL, Stage.HANDLE)
    assert "大类 06 的规定" in text
    text = TABLE.explain_source(Kind.EVENT, "06012", Level.URGENT, Stage.DISPATCH)
    assert "全局默认规定" in text and "10 分钟" in text
    text = LimitTable().explain_source(Kind.EVENT, "06012", Level.GENERAL, Stage.ACCEPT)
    assert "系统内置默认值" in text


def test_loading_a_valid_file(tmp_path):
    table = LimitTable.load(write(tmp_path, "event,06012,general,handle,300,working,道路不洁", ""))
    assert table.lookup(Kind.EVENT, "06012", Level.GENERAL, Stage.HANDLE) == LimitRule(300, Basis.WORKING, "道路不洁")


@pytest.mark.parametrize(
    "row, message",
    [
        ("event,06999,general,handle,60,working,", "unknown event category code '06999'"),
        ("component,06012,general,handle,60,working,", "unknown component category code '06012'"),
        (",06012,general,handle,60,working,", "needs a kind"),
        ("event,612,general,handle,60,working,", "5-digit"),
        ("event,06012,general,handle,60,weekly,", "invalid basis"),
        ("event,06012,severe,handle,60,working,", "invalid level"),
        ("event,06012,general,repair,60,working,", "invalid stage"),
        ("event,06012,general,handle,0,working,", "positive whole number"),
        ("event,06012,general,handle,1.5,working,", "positive whole number"),
        ("thing,06012,general,handle,60,working,", "invalid kind"),
    ],
)
def test_bad_rows_name_the_line_and_the_problem(tmp_path, row, message):
    path = write(tmp_path, "event,06010,general,handle,240,working,", row)
    with pytest.raises(ValueError, match="line 3") as info:
        LimitTable.load(path)
    assert message in str(info.value)


def test_duplicate_rules_are_refused(tmp_path):
    path = write(tmp_path, "event,06010,general,handle,240,working,", "event,06010,general,handle,60,working,")
    with pytest.raises(ValueError, match="line 3: duplicate .* line 2"):
        LimitTable.load(path)


def test_missing_columns_are_refused(tmp_path):
    path = tmp_path / "limits.csv"
    path.write_text("kind,category_code,level,stage,minutes\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column"):
        LimitTable.load(path)
