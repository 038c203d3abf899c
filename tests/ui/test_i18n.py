"""The message catalogue: Chinese by default, English tables complete."""

from __future__ import annotations

import ast
import inspect
import re
from enum import Enum
from pathlib import Path

import pytest

import app.domain.definitions as definitions
from app.commands import builtin_commands
from app.domain.definitions import Action, CaseState, Role
from app.domain.workflow import Outcome
from app.i18n import Catalogue, english_missing
from app.ui.actions import BUILTIN_ACTIONS, MENUS
from app.ui.attributes_dock import FIELD_LABELS, KIND_TITLES
from app.ui.case_actions import case_action_specs
from app.ui.live_status import BANNER_TEXT, STATUS_LOOK
from app.ui.queue_model import COLUMNS
from app.ui.work.case_list import COLUMNS as LIST_COLUMNS
from app.ui.work.case_list import LIGHT_TEXT

pytestmark = pytest.mark.neutral  # imports qtpy (column and action tables)

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u4e00-\u9fff]")
# Calls whose literal arguments are shown translated later: name -> positions of such arguments
# (dock and action titles go through the catalogue when the dock or menu entry is built).
TRANSLATED_ARGS = {"tr": (0,), "DockSpec": (1,), "ActionSpec": (1, 3), "add": (1,)}


def _callee(node: ast.Call) -> str | None:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)


def scan_source(source: str, where: str) -> tuple[dict[str, str], list[str]]:
    """Literal texts that reach tr() (text -> first place) and places passing tr() an f-string."""
    texts: dict[str, str] = {}
    fstrings: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or _callee(node) not in TRANSLATED_ARGS:
            continue
        name = _callee(node)
        args = [node.args[i] for i in TRANSLATED_ARGS[name] if i < len(node.args)]
        args += [k.value for k in node.keywords if k.arg == "tip"]
        for arg in args:
            if isinstance(arg, ast.JoinedStr) and name == "tr":
                fstrings.append(f"{where}:{node.lineno}")
            # other callees also take ids and menu keys: only Chinese text is a title there
            elif (isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value
                  and (name == "tr" or HAN.search(arg.value))):
                texts.setdefault(arg.value, f"{where}:{node.lineno}")
    return texts, fstrings


def scan_tree() -> tuple[dict[str, str], list[str]]:
    texts: dict[str, str] = {}
    fstrings: list[str] = []
    for path in sorted([*(ROOT / "app").rglob("*.py"), *(ROOT / "plugins").rglob("*.py")]):
        found, bad = scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        for text, where in found.items():
            texts.setdefault(text, where)
        fstrings += bad
    return texts, fstrings


def test_chinese_is_the_default_and_fills_placeholders():
    cat = Catalogue()
    assert cat.tr("红 {n}", n=3) == "红 3"
    assert cat.label(CaseState.HANDLING) == "处置中"


def test_english_translates_text_and_enum_labels():
    cat = Catalogue("en")
    assert cat.tr("红 {n}", n=3) == "Red 3"
    assert cat.label(CaseState.HANDLING) == "Handling"
    assert cat.label_of(Role, "dispatcher") == "Dispatcher"
    assert cat.label_of(Action, "no_such_action") == "no_such_action"


def _labelled_enums() -> list[type[Enum]]:
    found = [e for e in vars(definitions).values()
             if inspect.isclass(e) and issubclass(e, Enum) and e.__module__ == definitions.__name__
             and not e.__name__.startswith("_")]
    return [*sorted(found, key=lambda e: e.__name__), Outcome]


def test_every_domain_enum_is_covered():
    names = {e.__name__ for e in _labelled_enums()}
    assert {"CaseState", "Action", "ComponentStatus", "AreaLevel", "DepartmentKind", "Outcome"} <= names


@pytest.mark.parametrize("enum", _labelled_enums(), ids=lambda e: e.__name__)
def test_every_enum_member_has_an_english_name(enum):
    cat = Catalogue("en")
    untranslated = [m.value for m in enum if cat.label(m) == m.label]
    assert untranslated == [], f"{enum.__name__} members without English: {untranslated}"


def test_every_tr_literal_in_app_and_plugins_has_english():
    texts, fstrings = scan_tree()
    assert len(texts) > 100  # the scan really found the UI's strings
    missing = [f"{texts[t]}: {t!r}" for t in english_missing(list(texts))]
    assert missing == [], "strings without English in app/i18n/catalogue.py _EN:\n" + "\n".join(missing)
    assert fstrings == [], "tr() given an f-string (use tr('…{n}…', n=…)):\n" + "\n".join(fstrings)


def test_the_scan_reports_fstrings_and_untranslated_literals():
    source = 'cat.tr(f"共 {n} 件")\ncat.tr("没有这条译文")\nDockSpec("x", "某面板", "left", None)\n'
    texts, fstrings = scan_source(source, "demo.py")
    assert fstrings == ["demo.py:1"]
    assert english_missing(list(texts)) == ["没有这条译文", "某面板"]


def test_menu_action_and_column_titles_have_english_entries():
    texts = [*MENUS.values(), *(a.title for a in BUILTIN_ACTIONS), *(c.title for c in COLUMNS)]
    assert english_missing(texts) == []


def test_tables_translated_at_display_time_have_english_entries():
    prompted = [c for c in builtin_commands() if c.on_case]
    texts = [*FIELD_LABELS.values(), *KIND_TITLES.values(), *(f.label for c in prompted for f in c.fields if f.prompt),
             *(c.hint for c in prompted if c.hint), *LIST_COLUMNS, "位置",
             *(t for t in LIGHT_TEXT.values() if t), *(label for label, _ in STATUS_LOOK.values()), BANNER_TEXT]
    assert english_missing(texts) == []


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_case_action_titles_and_tips_translate(role):
    cat = Catalogue("en")
    for spec in case_action_specs(role, lambda action: None):
        assert not HAN.search(cat.tr(spec.title)), spec.title
        assert not HAN.search(cat.tr(spec.tip)), spec.tip


def test_bulk_action_titles_translate():
    cat = Catalogue("en")
    assert cat.tr(f"批量{Action.DISPATCH.label}…") == "Bulk dispatch…"
    assert cat.tr(f"批量{Action.CLOSE.label}…") == "Bulk close…"


def test_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="zh_CN, en"):
        Catalogue("fr")


# ---- the English interface at the edges: errors, identify values, login, Qt's own buttons ----


def test_error_text_translates_service_errors_conflicts_and_other_failures():
    from app.domain.messages import Msg
    from app.services.errors import ConflictError, ValidationError
    from app.ui.forms.common import error_text

    en = Catalogue("en")
    invalid = ValidationError("description", Msg("问题描述不能为空：请写明现场情况（什么问题、在哪里、影响多大）"))
    assert error_text(invalid, en) == "The description must not be empty: say what the problem is, where, and how serious"
    assert error_text(invalid) == str(invalid)  # without a catalogue: Chinese, as before
    conflict = ConflictError(Msg("案卷状态已被他人改变，请刷新后重试"))
    assert error_text(conflict, en) == ("Someone else changed the case's state; refresh and retry. "
                                        "What you typed is kept; refresh the case and submit again.")
    assert not HAN.search(error_text(RuntimeError("boom"), en))


def test_identify_values_are_shown_by_their_label(qtbot):
    from app.ui.attributes_dock import AttributesPanel

    panel = AttributesPanel(Catalogue("en"))
    qtbot.addWidget(panel)
    panel.show_feature("component", {"code": "32050800101001", "status": "damaged"})
    assert ("State", "Damaged") in panel.rows() and panel.title.text() == "Component 32050800101001"
    panel.show_feature("case", {"number": "S1", "state": "handling", "light": "red", "level": "general",
                                "category": "06013 道路破损"})
    rows = dict(panel.rows())
    assert (rows["State"], rows["Light"], rows["Level"]) == ("Handling", "Red", "General")
    assert rows["Category"] == "06013 道路破损"  # case data stays as it is
    chinese = AttributesPanel()
    qtbot.addWidget(chinese)
    chinese.show_feature("case", {"number": "S1", "state": "handling"})
    assert ("状态", "处置中") in chinese.rows()


def test_login_dialog_speaks_english_including_refusals(qtbot, runner):
    from qtpy.QtWidgets import QLabel, QPushButton

    from app.domain.messages import Msg
    from app.services.auth import LOCKED_MESSAGE, AuthError
    from app.ui.forms.login_dialog import LoginDialog

    dialog = LoginDialog(lambda name, password: None, runner, Catalogue("en"), username="zhangsan")
    qtbot.addWidget(dialog)
    shown = [dialog.windowTitle(), *(w.text() for w in dialog.findChildren(QLabel) + dialog.findChildren(QPushButton))]
    assert not [t for t in shown if HAN.search(t)], shown
    dialog._failed(AuthError(Msg("用户名或密码错误，还可尝试 {left} 次", left=2)))
    assert dialog.banner.text() == "Wrong user name or password; 2 attempts left"
    dialog._failed(AuthError(LOCKED_MESSAGE, reason="locked"))
    assert not HAN.search(dialog.banner.text()) and not dialog.ok_button.isEnabled()


def test_claims_and_timeline_entries_follow_the_language(qtbot):
    from datetime import datetime

    from app.domain.cases import CaseEventRecord
    from app.services.claims import Claim
    from app.ui.claim_banner import ClaimBanner
    from app.ui.detail_dock import event_text

    claim = Claim(1, "zhangsan", "张三", "dispatcher", "席位 3", "dispatch", datetime(2026, 3, 2, 9), datetime(2026, 3, 2, 9, 2))
    assert claim.text == "张三（派遣员）正在派遣此案卷（工作站 席位 3）"
    banner = ClaimBanner(catalogue=Catalogue("en"))
    qtbot.addWidget(banner)
    banner.show_claim(claim.text)
    assert banner.text() == "张三 (Dispatcher) is working on this case: Dispatch (workstation 席位 3)"
    banner.show_claim(None)
    assert banner.text() == "" and not banner.isVisibleTo(None)
    event = CaseEventRecord(2, datetime(2026, 3, 2, 9, 30), "dispatch", "filed", "dispatched", "李四", "dispatcher",
                            "区市政公用局")
    assert event_text(event, Catalogue("en")) == ("03-02 09:30  Dispatch  李四 (Dispatcher) 区市政公用局\n"
                                                  "Awaiting dispatch → Awaiting acceptance")


def test_qt_dialog_buttons_use_qt_translations(qapp):
    from qtpy.QtWidgets import QDialogButtonBox

    from app.ui.translations import install_qt_translations, qt_translations_dir

    if not (qt_translations_dir() / "qtbase_zh_CN.qm").is_file():
        pytest.skip("Debian package qttranslations5-l10n is not installed")
    assert install_qt_translations(qapp, "en") == []
    translators = install_qt_translations(qapp, "zh_CN")
    try:
        assert translators
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        texts = {box.button(QDialogButtonBox.StandardButton.Ok).text(),
                 box.button(QDialogButtonBox.StandardButton.Cancel).text()}
        assert texts == {"确定", "取消"}
        box.deleteLater()
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
