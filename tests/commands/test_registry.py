"""CommandRegistry: unique ids and verbs, lookups, stable order, listeners, and the built-ins."""

from __future__ import annotations

import pytest

from app.commands import (
    Command,
    CommandRegistry,
    builtin_commands,
    command_id,
    default_registry,
    register_builtins,
)
from app.domain.definitions import Action, Role


def _note(id_="test.case.note", verb=None, **kw) -> Command:
    return Command(id_, "记录", lambda cases, actor, case_id, version, values: None, roles=frozenset({Role.LEADER}),
                   verb=verb, **kw)


def test_the_builtins_cover_every_case_operation_in_workflow_order():
    commands = builtin_commands()
    assert [c.action for c in commands] == list(Action)  # report … link, each once
    assert [c.id for c in commands] == [f"gridhall.case.{a.value}" for a in Action]
    assert command_id(Action.DISPATCH) == "gridhall.case.dispatch"
    assert [c.verb for c in commands][:4] == ["report", "send-verify", "verify", "file"]
    assert not next(c for c in commands if c.action is Action.REPORT).on_case
    assert {c.action for c in commands if c.direct} == {Action.ACCEPT}  # 派发核实/核查 ask for the supervisor
    shortcuts = [c.shortcut for c in commands if c.shortcut] + [c.bulk_shortcut for c in commands if c.bulk]
    assert len(shortcuts) == len(set(shortcuts)) == len(Action) - 1 + 2  # all but 上报, plus two bulk runs


def test_register_lookup_and_unregister_through_the_handle():
    registry = CommandRegistry()
    register_builtins(registry)
    added, removed = [], []
    registry.added.connect(added.append)
    registry.removed.connect(removed.append)
    note = _note()
    handle = registry.register(note)
    assert added == [note] and registry.ids()[-1] == "test.case.note" and len(registry) == len(Action) + 1
    assert registry.get("test.case.note") is note and registry.by_verb("note") is note and "test.case.note" in registry
    assert registry.for_action(Action.URGE).id == "gridhall.case.urge"  # the first command for the action
    assert registry.for_action("dispatch") is registry.get("gridhall.case.dispatch")
    assert [c.id for c in registry][:2] == ["gridhall.case.report", "gridhall.case.send_verify"]  # stable
    assert note in registry.for_role(Role.LEADER, on_case=True) and note not in registry.for_role(Role.DISPATCHER)
    handle.remove()
    handle.remove()  # idempotent
    assert removed == [note] and "test.case.note" not in registry and registry.by_verb("note") is None
    with pytest.raises(KeyError, match="gridhall.case.dispatch"):
        registry.get("test.case.note")


def test_ids_and_verbs_are_unique_and_read_verbs_reserved():
    registry = CommandRegistry()
    register_builtins(registry)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(_note("gridhall.case.urge", verb="urge2"))
    with pytest.raises(ValueError, match="taken by gridhall.case.urge"):
        registry.register(_note(verb="urge"))
    with pytest.raises(ValueError, match="reserved"):
        registry.register(_note(verb="show"))
    assert len(registry) == len(Action)  # nothing half-registered


def test_verbs_group_the_older_combined_command_line_forms():
    verbs = CommandRegistry()
    register_builtins(verbs)
    groups = verbs.verbs()
    assert [c.id for c in groups["verify"].commands] == ["gridhall.case.verify", "gridhall.case.send_verify"]
    assert [c.id for c in groups["reject"].commands] == ["gridhall.case.reject", "gridhall.case.link"]
    assert groups["request"].primary is None
    assert [a.value for _c, a in groups["request"].aliases] == ["return", "extension", "defer", "shelve", "void"]
    assert groups["send-check"].primary.action is Action.SEND_CHECK


def test_a_command_declares_who_may_take_it_unless_the_workflow_does():
    with pytest.raises(ValueError, match="declare its roles"):
        Command("x.y", "某事", lambda *a: None)
    with pytest.raises(ValueError, match="twice"):
        from app.commands import Field, FieldKind
        Command("x.y", "某事", lambda *a: None, Action.URGE,
                (Field("note", FieldKind.LINE, "备注"), Field("note", FieldKind.TEXT, "备注")))


def test_the_default_registry_is_one_per_process():
    assert default_registry() is default_registry()
    assert [c.id for c in default_registry()][:len(Action)] == [c.id for c in builtin_commands()]


def test_a_declaration_as_plain_data_for_servers_and_scripts():
    import json

    from app.i18n import Catalogue

    check = next(c for c in builtin_commands() if c.action is Action.CHECK)
    data = json.loads(json.dumps(check.describe(Catalogue("en"))))
    assert (data["id"], data["verb"], data["title"], data["on_case"]) == ("gridhall.case.check", "check", "Checked", True)
    assert data["roles"] == ["supervisor", "system"] and data["states"] == ["checking"]
    outcome = data["fields"][0]
    assert (outcome["name"], outcome["kind"], outcome["required"], outcome["default"]) == \
        ("outcome", "choice", True, "passed")
    assert outcome["choices"] == [{"value": "passed", "label": "Passed (to be closed)"},
                                  {"value": "failed", "label": "Failed (rework)"}]
    assert [f["name"] for f in data["fields"]] == ["outcome", "reason", "photos", "photo_time"]
    assert data["fields"][2]["photo_kind"] == "after"
    assert check.describe()["title"] == "核查回复"  # Chinese without a catalogue
