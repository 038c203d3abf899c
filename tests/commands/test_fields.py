"""Field declarations: values are normalised and checked before any service call."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.commands import Command, CommandInputError, Field, FieldKind, builtin_commands
from app.domain.definitions import Action, Role
from app.i18n import Catalogue, english_missing
from app.services.errors import PermissionDenied

COMMANDS = {c.action: c for c in builtin_commands()}


def test_required_fields_are_refused_in_the_users_language():
    refuse = COMMANDS[Action.REFUSE]
    problems = refuse.problems({"reason": "   "})
    assert [(p.field, p.message()) for p in problems] == [("reason", "理由不能为空")]
    assert problems[0].message(Catalogue("en")) == "Reason must not be empty"
    with pytest.raises(CommandInputError) as caught:
        refuse.clean({})
    assert caught.value.field == "reason" and str(caught.value) == "理由不能为空"


def test_values_are_stripped_and_optional_ones_take_their_defaults():
    verify = COMMANDS[Action.VERIFY]
    assert verify.clean({"text": "  属实  "}) == {"text": "属实", "confirmed": True, "photos": None, "photo_time": None}
    assert verify.clean({"text": "属实", "confirmed": 0, "photos": []})["confirmed"] is False
    assert COMMANDS[Action.URGE].clean({"note": "  "}) == {"level": "1", "deadline": None, "note": None}
    assert COMMANDS[Action.CHECK].field("outcome").default == "passed"


def test_numbers_and_choices_are_checked():
    extension = COMMANDS[Action.REQUEST_EXTENSION]
    assert extension.clean({"minutes": "60", "reason": "吊车"}) == {"minutes": 60, "reason": "吊车"}
    assert [p.message() for p in extension.problems({"minutes": 0, "reason": "x"})] == ["延期时长应在 1 到 525600 之间"]
    assert [p.message() for p in extension.problems({"minutes": "很久", "reason": "x"})] == ["延期时长应为整数"]
    assert [p.field for p in extension.problems({"reason": "x"})] == ["minutes"]  # no silent default
    check = COMMANDS[Action.CHECK]
    assert [p.message() for p in check.problems({"outcome": "maybe"})] == ["核查结果应为：passed、failed"]


def test_a_failed_check_needs_a_reason():
    check = COMMANDS[Action.CHECK]
    assert [(p.field, p.message()) for p in check.problems({"outcome": "failed"})] == \
        [("reason", "核查不通过时理由不能为空")]
    assert check.problems({"outcome": "failed", "reason": "仍有残留"}) == []
    assert check.problems({"outcome": "passed"}) == []


def test_run_refuses_bad_values_without_calling_the_service():
    calls = []
    note = Command("test.case.note", "记录", lambda *a: calls.append(a), roles=frozenset({Role.LEADER}),
                   fields=(Field("text", FieldKind.LINE, "内容", required=True),))
    leader = SimpleNamespace(role=Role.LEADER)
    with pytest.raises(CommandInputError):
        note.run(object(), leader, 1, 1, {"text": ""})
    with pytest.raises(PermissionDenied, match="「派遣员」无权执行「记录」"):  # its declared roles
        note.run(object(), SimpleNamespace(role=Role.DISPATCHER), 1, 1, {"text": "好"})
    assert calls == []
    note.run(object(), leader, 1, 1, {"text": "好"})
    assert calls and calls[0][4] == {"text": "好"}


def test_every_declared_text_has_english():
    texts = []
    for c in builtin_commands():
        texts += [c.title, *(t for t in (c.hint, c.tip) if t)]
        for f in c.fields:
            texts += [f.label, *(t for t in (f.help, f.suffix) if t and any("\u4e00" <= ch <= "\u9fff" for ch in t))]
            texts += [label for _v, label in f.choices]
    from app.commands import model

    texts += [model.MISSING, model.OUT_OF_RANGE, model.NOT_A_NUMBER, model.NOT_A_CHOICE, "核查不通过时{label}不能为空"]
    assert english_missing(sorted(set(texts))) == []
