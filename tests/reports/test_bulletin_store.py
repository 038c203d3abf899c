"""The bulletin over the small hand-built world on both backends (migration 0019 on PostGIS too):
its headline is the evaluation's, the PDF (with the map page) builds, the build is recorded with
the chain head at the end of the month, and a month without cases is a valid, empty bulletin."""

from __future__ import annotations

import subprocess
from datetime import datetime, time, timedelta

from services.world import T0, build_world, draft, service

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.reports.build import build_bulletin
from app.services.bulletin import Month, build_history, sha256_file
from app.services.evaluation import EvaluationService
from app.store import bulletins as store_bul


def _world(store):
    world = build_world(store)
    clock = FixedClock(T0)
    svc, a = service(store, clock), world.actors
    for dept in ("JD001", "HW"):
        r = svc.report(a["supervisor"], draft(source="supervisor"))
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        r = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=dept)
        r = svc.accept(a["dept_jd" if dept == "JD001" else "dept_hw"], r.case.id, r.version)
    clock.advance(timedelta(hours=2))
    return world


def test_bulletin_on_the_store(store, tmp_path):
    _world(store)
    month = Month(T0.year, T0.month)
    later = FixedClock(T0 + timedelta(days=40))
    out = tmp_path / "b.pdf"
    built = build_bulletin(store, None, month, out, later, Catalogue("zh_CN").tr, lang="zh_CN", by="tester")
    ev = EvaluationService(store, today=lambda: later.now().date()).evaluate(
        None, "region", month.start, month.end, level="district")
    assert built.bulletin.cases == ev.cases == 2
    assert built.bulletin.figures()["filed"] == ev.results[0].counts["filed"] == 2
    assert [n for _d, n, _c in built.bulletin.daily if n] == [2]
    text = " ".join(subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "有事件的案卷数" in text and "审计链" in text
    with store.session() as session:
        head = store_bul.period_head(session, datetime.combine(month.next().start, time.min))
    assert built.bulletin.chain == head and head is not None
    rows = build_history(store)
    assert len(rows) == 1 and rows[0].month == str(month) and rows[0].built_by == "tester"
    assert rows[0].sha256 == sha256_file(out) and rows[0].chain_no == head[0] and rows[0].pages == built.pages


def test_empty_month_on_the_store(store, tmp_path):
    _world(store)
    month = Month(T0.year, T0.month).previous()
    later = FixedClock(T0 + timedelta(days=40))
    built = build_bulletin(store, None, month, tmp_path / "e.pdf", later, Catalogue("en").tr, lang="en",
                           with_map=False, record=False)
    assert built.bulletin.empty and built.bulletin.chain is None and built.history_id is None
    assert build_history(store) == []


def test_cli_as_analyst_records_the_build(store, tmp_path, monkeypatch, capsys):
    """The scheduled build runs as an analyst: on PostGIS through the analyst's own login (0019's
    grants let it add the history row), on SpatiaLite through the users table."""
    import json

    from services.world import PASSWORD

    from app.cli import main
    from app.services import auth

    auth.configure_hasher(time_cost=1, memory_cost=64, parallelism=1)
    try:
        if store.backend == "spatialite":
            world = build_world(store, password_hash=auth.hash_password(PASSWORD))
        else:
            from tests.store.hall import world_logins

            world = build_world(store)
            world_logins(store, world, PASSWORD)
        clock = FixedClock(T0)
        svc, a = service(store, clock), world.actors
        svc.report(a["supervisor"], draft(source="supervisor"))
        monkeypatch.setenv("GRIDHALL_PASSWORD", PASSWORD)
        url = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
        month = str(Month(T0.year, T0.month))
        out = tmp_path / "a.pdf"
        assert main(["report", "monthly", "--month", month, "--out", str(out), "--db", url, "--as", "analyst",
                     "--no-map"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        assert main(["report", "history", "--db", url, "--as", "analyst", "--format", "json"]) == 0
        rows = json.loads(capsys.readouterr().out)
        assert [(r["month"], r["built_by"], r["sha256"]) for r in rows] == [(month, "analyst", sha256_file(out))]
    finally:
        auth.configure_hasher()
        if store.backend == "postgis":
            from app.store import security

            for name in world.actors:
                security.drop_login(store, name)


def test_cancel_leaves_nothing(store, tmp_path):
    """A GUI job's cancel: during the chain's verification, before the map, after the PDF was laid out
    (before its rename) — no file, no temporary file, no history row."""
    import pytest

    from app.jobs import Cancelled, Feedback

    _world(store)
    month = Month(T0.year, T0.month)
    later = FixedClock(T0 + timedelta(days=40))
    folder = tmp_path / "out"
    folder.mkdir()
    for at in (0.1, 0.6, 0.8):
        fb = Feedback()
        fb.subscribe(lambda fraction, _m, fb=fb, at=at: fb.cancel() if fraction >= at else None)
        with pytest.raises(Cancelled):
            build_bulletin(store, None, month, folder / "c.pdf", later, Catalogue("zh_CN").tr, lang="zh_CN",
                           feedback=fb)
        assert list(folder.iterdir()) == [], at
    assert build_history(store) == []
    messages: list[str] = []
    build_bulletin(store, None, month, tmp_path / "ok.pdf", later, Catalogue("en").tr, lang="en",
                   feedback=Feedback(lambda _f, m: messages.append(m)))
    assert "Rendering the map page with QGIS…" in messages and messages[-1] == "Done"
