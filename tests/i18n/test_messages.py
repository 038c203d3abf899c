"""Messages as data: a Msg is its Chinese text, and the catalogue renders it in any language."""

from __future__ import annotations

import pickle

import pytest

from app.domain.definitions import Action, CaseState, Light, Role
from app.domain.messages import Lines, Msg, MsgError, Seq, Words, msg_of
from app.i18n import Catalogue
from app.services.errors import ConflictError, PermissionDenied, ServiceError, ValidationError
from app.store.errors import StoreNotFound

EN, ZH = Catalogue("en"), Catalogue()


def test_a_msg_is_its_chinese_text_and_keeps_id_and_parameters():
    m = Msg("案卷 {text} 不存在：请核对案卷号", text="S1")
    assert m == "案卷 S1 不存在：请核对案卷号" and str(m) == m.text() and "S1" in m
    assert (m.id, dict(m.params)) == ("案卷 {text} 不存在：请核对案卷号", {"text": "S1"})
    assert EN.text(m) == "Case S1 does not exist: check the case number"
    assert ZH.text(m) == str(m)


def test_parameters_follow_the_language_enums_messages_and_lists():
    m = Msg("「{role}」无权执行「{action}」，需要{needed}", role=Role.LEADER, action=Action.DISPATCH,
            needed=Seq([Msg("「{item}」", item=Role.DISPATCHER)], "或", " or "))
    assert str(m) == "「领导」无权执行「派遣」，需要「派遣员」"
    assert EN.text(m) == "A “Leader” may not “Dispatch”; it needs “Dispatcher”"
    listed = Msg("{what}「{value}」无效：应为 {choices}", what=Msg("等级"), value="x",
                 choices=[Msg("{value}（{label}）", value=lv, label=lv) for lv in ("a", "b")])
    assert str(listed) == "等级「x」无效：应为 a（a）、b（b）"
    assert EN.text(listed) == "Level “x” is invalid: use a (a), b (b)"


def test_sequences_join_per_language():
    words = Msg("{parts}", parts=Words([Msg("{n}小时", n=3), Msg("{n}分", n=10)]))
    assert (str(words), EN.text(words)) == ("3小时10分", "3 h 10 min")
    lines = Msg("{x}", x=Lines(["a", Msg("无")]))
    assert (str(lines), EN.text(lines)) == ("a\n无", "a\nnone")


def test_format_specs_and_conversions_survive_translation():
    m = Msg("相距 {dist:.0f} 米", dist=12.4)
    assert (str(m), EN.text(m)) == ("相距 12 米", "12 m away")
    r = Msg("版本号应为整数，而不是 {expected_version!r}", expected_version="7")
    assert EN.text(r) == "The version must be a whole number, not '7'"


def test_a_msg_without_parameters_is_not_formatted():
    assert Msg("{未替换}") == "{未替换}" and EN.text(Msg("{未替换}")) == "{未替换}"


def test_msgs_pickle_for_worker_processes():
    m = Msg("案卷缺少{missing}（结案证据不完整）", missing=Seq([Msg("处置前照片")], "和", " and "))
    back = pickle.loads(pickle.dumps(m))
    assert back == m and back.id == m.id and EN.text(back) == EN.text(m)


@pytest.mark.parametrize("error", [
    ServiceError(Msg("案卷不存在（id {case_id}）", case_id=3)),
    PermissionDenied(Msg("案卷不存在（id {case_id}）", case_id=3)),
    ValidationError("case", Msg("案卷不存在（id {case_id}）", case_id=3)),
    ConflictError(Msg("案卷不存在（id {case_id}）", case_id=3), case_number="S1"),
])
def test_service_errors_carry_the_message(error):
    assert str(error) == "案卷不存在（id 3）"
    assert EN.error(error) == "The case does not exist (id 3)"
    assert msg_of(error) is error.msg


def test_store_errors_and_plain_strings():
    err = StoreNotFound(Msg("数据库文件不存在：{path}。先运行 gridhall db init --db {path}", path="/x.sqlite"))
    assert EN.error(err) == "The database file does not exist: /x.sqlite. Run gridhall db init --db /x.sqlite first"
    plain = ServiceError("请输入密码")  # a constant id: still translated
    assert EN.error(plain) == "Enter the password"
    assert EN.error(RuntimeError(Msg("无法写入案卷图层：{error}", error="disk"))) == "Cannot write to the case layer: disk"
    assert EN.error(ValueError("no message id")) == "no message id"
    assert isinstance(err, MsgError)


def test_enum_labels_stay_translatable_inside_messages():
    m = Msg("{used}，{left}，{light}", used="a", left="b", light=Light.RED)
    assert EN.text(m).endswith("Red") and str(m).endswith(Light.RED.label)
    assert EN.tr("{state}", state=CaseState.HANDLING) == "Handling"


def test_the_command_line_language_comes_from_gridhall_lang_only():
    assert Catalogue.from_env({"GRIDHALL_LANG": "en", "LANG": "zh_CN.UTF-8"}).language == "en"
    assert Catalogue.from_env({"LANG": "en_US.UTF-8"}).language == "zh_CN"
    assert Catalogue.from_env({"GRIDHALL_LANG": "fr"}).language == "zh_CN"


def test_timer_explanations_and_limit_sources_read_in_english():
    import re
    from datetime import datetime

    from app.domain.calendar import WorkCalendar
    from app.domain.cases import TimerSpec
    from app.domain.deadlines import explain, format_limit
    from app.domain.definitions import Basis, Kind, Level, Stage
    from app.domain.limits import LimitTable

    han = re.compile(r"[\u4e00-\u9fff]")
    cal = WorkCalendar()
    # over the 2026 National Day holidays, paused once, extended, started outside working time
    spec = TimerSpec(Stage.HANDLE, Basis.WORKING, 3 * 480, datetime(2026, 9, 30, 19, 5), paused_minutes=90,
                     extension_minutes=480)
    now = datetime(2026, 10, 9, 10, 0)
    text = explain(spec, cal, now)
    assert "国庆节" in text and "延期 +1 个工作日" in text  # Chinese as before
    english = EN.text(text)
    assert not han.search(english), english
    assert "public holiday (National Day)" in english and "extended +1 working days" in english
    natural = explain(TimerSpec(Stage.DISPATCH, Basis.NATURAL, 30, datetime(2026, 10, 9, 9, 0)), cal, now)
    assert not han.search(EN.text(natural)) and EN.text(natural).endswith(".")
    assert EN.text(explain(None, cal, now)) == "This stage has no timer."
    assert (str(format_limit(120, Basis.NATURAL)), EN.text(format_limit(120, Basis.NATURAL))) == ("2 小时", "2 hours")
    table = LimitTable.load()
    source = table.explain_source(Kind.EVENT, "06013", Level.GENERAL, Stage.HANDLE)
    condition = table.lookup(Kind.EVENT, "06013", Level.GENERAL, Stage.HANDLE).condition or ""
    assert not han.search(EN.text(source).replace(condition, "")), EN.text(source)  # the condition is data
