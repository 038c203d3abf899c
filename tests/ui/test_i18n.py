"""The message catalogue: Chinese by default, English tables complete."""

from __future__ import annotations

import pytest

from app.domain.definitions import Action, Basis, CaseState, Kind, Level, Light, Role, Source, Stage
from app.ui.actions import BUILTIN_ACTIONS, MENUS
from app.ui.i18n import Catalogue, english_missing
from app.ui.queue_model import COLUMNS

pytestmark = pytest.mark.neutral  # imports qtpy (column and action tables)


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


@pytest.mark.parametrize("enum", [Action, Basis, CaseState, Kind, Level, Light, Role, Source, Stage])
def test_every_enum_member_has_an_english_name(enum):
    cat = Catalogue("en")
    untranslated = [m for m in enum if cat.label(m) == m.label]
    assert untranslated == []


def test_menu_action_and_column_titles_have_english_entries():
    texts = [*MENUS.values(), *(a.title for a in BUILTIN_ACTIONS), *(c.title for c in COLUMNS)]
    assert english_missing(texts) == []


def test_unknown_language_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="zh_CN, en"):
        Catalogue("fr")
