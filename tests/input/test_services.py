"""The hostile-input corpus through the services: ``CaseService.report`` of a core, on both backends.

Every entry of tests/input/corpus.py is filed as a report by the 受理员. A refused input must
raise a ValidationError naming its field with a clear message (printable, short, the input not
echoed whole, in English too) and leave the store exactly as it was (cases, events,
attachments); an accepted one must store the normalised value and add exactly one case.
"""

from __future__ import annotations

import math

import pytest
from services.world import T0, build_world, draft
from sqlalchemy import func, select

from app.core import build_core
from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.services.attachments import PhotoInput, load_photo
from app.services.cases import CaseService
from app.services.errors import ValidationError
from app.services.location import LocationInput
from app.store.models import Attachment, Case, CaseEvent, Category, Component
from input.corpus import CORPUS, SAME, Entry, make_file

EN = Catalogue("en")
#: Whether CaseService.report runs the whole draft through the input policy (intake.check_draft).
WIRED = "check_draft" in CaseService.report.__code__.co_names


def _reasons_cleaned() -> bool:
    """Whether the services clean notes and reasons by the input policy (probed, not inspected)."""
    from app.services import core

    try:
        core._clean("\x1b")
    except ValidationError:
        return True
    return False


REASONS = _reasons_cleaned()


@pytest.fixture(scope="module", params=["spatialite", pytest.param("postgis", marks=pytest.mark.postgis)])
def desk(request, tmp_path_factory):
    """One store with the tiny district per backend, its core and a directory for photo files."""
    from app.store.commands import init_db

    if request.param == "spatialite":
        url = f"sqlite:///{tmp_path_factory.mktemp('corpus') / 'store.sqlite'}"
        cluster = name = None
    else:
        cluster = request.getfixturevalue("pg_cluster")
        name = cluster.create_database()
        url = cluster.url(name)
    store = init_db(url)
    world = build_world(store)
    core = build_core(store, FixedClock(T0))
    yield core, world, tmp_path_factory.mktemp("files")
    store.dispose()
    if cluster is not None:
        cluster.drop_database(name)


def _draft(entry: Entry, files) -> object:
    v = entry.value
    match entry.field:
        case "description":
            return draft(description=v)
        case "address":
            return draft(location=LocationInput(address=v))
        case "reporter_name" | "reporter_phone":
            return draft(**{entry.field: v})
        case "category":
            return draft(v)
        case "kind":
            return draft("06010", kind=v)
        case "level" | "source":
            return draft(**{entry.field: v})
        case "component":
            return draft("component:01002", location=LocationInput(component_code=v))
        case "at":
            return draft(location=LocationInput(x=v[0], y=v[1]))
        case "lonlat":
            return draft(location=LocationInput(lon=v[0], lat=v[1]))
        case "photo":
            return draft(photos=(PhotoInput(*v),))
        case "photo_file":
            return draft(photos=(load_photo(make_file(v, files)),))
    raise AssertionError(entry.field)


def _counts(store) -> tuple[int, int, int]:
    with store.session() as s:
        return tuple(s.scalar(select(func.count()).select_from(t)) for t in (Case, CaseEvent, Attachment))


def _stored(store, entry: Entry, case_id: int):
    with store.session() as s:
        case = s.get_one(Case, case_id)
        match entry.field:
            case "category":
                return s.get_one(Category, case.category_id).code
            case "component":
                return s.get_one(Component, case.component_id).code
            case "photo" | "photo_file":
                return s.scalars(select(Attachment.filename).where(Attachment.case_id == case_id)).one()
            case field:
                return getattr(case, field)


def _check_message(entry: Entry, err: ValidationError) -> None:
    text = str(err)
    assert err.field == entry.expected_field, f"{err.field}: {text}"
    for w in entry.words:
        assert w in text, text
    english = EN.text(err.msg)
    for shown in (text, english):
        assert all(ch.isprintable() for ch in shown), repr(shown)  # no escape, bidi or NUL reaches a screen
        assert len(shown) < 400, shown  # named by size, never echoed whole
    hostile = entry.value if isinstance(entry.value, str) else None
    if hostile is not None and len(hostile) > 300:
        assert hostile[:300] not in text


@pytest.mark.parametrize("entry", CORPUS, ids=[e.id for e in CORPUS])
def test_corpus_through_the_report_service(desk, entry: Entry):
    core, world, files = desk
    if entry.needs == "check_draft" and not WIRED:
        pytest.xfail("needs intake.check_draft in CaseService.report (wired by the lead)")
    if entry.needs == "reason" and not REASONS:
        pytest.xfail("needs intake.clean_text('reason', …) in app/services/core.py _clean (wired by the lead)")
    actor = world.actors["acceptor"]
    if entry.field == "note":
        _note(core, world, entry)
        return
    before = _counts(core.store)
    if entry.refused:
        with pytest.raises(ValidationError) as err:
            core.cases.report(actor, _draft(entry, files))
        _check_message(entry, err.value)
        assert _counts(core.store) == before, "a refused report wrote something"
        return
    result = core.cases.report(actor, _draft(entry, files))
    after = _counts(core.store)
    assert after[0] == before[0] + 1 and after[1] == before[1] + 1
    expected = entry.value if entry.stored is SAME else entry.stored
    if entry.field == "photo":
        expected = entry.value[0] if entry.stored is SAME else entry.stored
    assert _stored(core.store, entry, result.case.id) == expected


def _note(core, world, entry: Entry) -> None:
    """A 督办 (urge) by the leader on a freshly reported case, with the entry as its note."""
    reported = core.cases.report(world.actors["acceptor"], draft())
    before = _counts(core.store)
    urge = lambda: core.cases.urge(world.actors["boss"], reported.case.id, reported.version,  # noqa: E731
                                   note=entry.value)
    if entry.refused:
        with pytest.raises(ValidationError) as err:
            urge()
        _check_message(entry, err.value)
        assert _counts(core.store) == before, "a refused note wrote something"
        return
    urge()
    assert _counts(core.store) == (before[0], before[1] + 1, before[2])
    with core.store.session() as s:
        reason = s.scalars(select(CaseEvent.reason).where(CaseEvent.case_id == reported.case.id)
                           .order_by(CaseEvent.seq.desc()).limit(1)).one()
    assert reason == (entry.value if entry.stored is SAME else entry.stored)


def test_the_corpus_is_large_and_varied():
    assert len(CORPUS) >= 100
    fields = {e.field for e in CORPUS}
    assert {"description", "address", "reporter_name", "reporter_phone", "category", "level", "source",
            "component", "photo", "photo_file", "note"} <= fields
    assert not any(isinstance(e.value, float) and math.isnan(e.value) for e in CORPUS)
