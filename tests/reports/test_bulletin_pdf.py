"""The monthly bulletin PDF built from a fresh demo store: its headline figures are Core.evaluate's,
its pages render to non-blank images, the CJK font is embedded, two builds give the same text (and
bytes), every build is recorded in the history, and an edited event refuses the bulletin."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess

import pytest
from PIL import Image, ImageStat

from app.cli import main
from app.core import build_core
from app.domain.clock import SystemClock
from app.services.bulletin import Month
from app.store.engine import open_store

from .conftest import MONTH


def _pdftotext(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def _month() -> Month:
    y, m = MONTH.split("-")
    return Month(int(y), int(m))


@pytest.fixture(scope="module")
def built(demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "bulletin.pdf"
    assert main(["report", "monthly", "--month", MONTH, "--out", str(out), "--db", demo_db]) == 0
    return out


def test_headline_figures_are_the_evaluations(built, demo_db):
    store = open_store(demo_db)
    try:
        month = _month()
        core = build_core(store, SystemClock())
        ev = core.evaluate(None, "region", month.start, month.end, level="district")
        before = core.evaluate(None, "region", month.previous().start, month.previous().end, level="district")
    finally:
        store.dispose()
    r, p = ev.results[0], before.results[0]
    text = " ".join(_pdftotext(built).split())
    assert ev.cases > 100
    # the headline rows: label, this month, last month, change
    assert f"有事件的案卷数 {ev.cases} {before.cases}" in text
    for key, label in (("filed", "立案数"), ("dispatched", "派遣数"), ("closed", "结案数")):
        assert f"{label} {r.counts[key]} {p.counts[key]}" in text
    for key, label in (("close_rate", "结案率"), ("close_on_time_rate", "按期结案率"),
                       ("timely_solved_rate", "问题及时解决率")):
        now, was = r.rates[key].value, p.rates[key].value
        assert f"{label} {now * 100:.1f}% {was * 100:.1f}% {(now - was) * 100:+.1f}" in text
    assert f"综合得分 {r.score:.1f} {p.score:.1f}" in text
    assert f"等级（A–E） {r.grade} {p.grade}" in text
    # the department ranking's first row is the evaluation's
    deps = build_core(open_store(demo_db), SystemClock()).evaluate(None, "department", month.start, month.end)
    first = deps.results[0]
    assert first.rank == 1 and f"1 {first.code}" in text
    # the audit chain's link at the end of the month
    assert "月末审计链" in text


def test_pages_render_non_blank_and_font_embedded(built, tmp_path):
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(built), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 6
    variances = []
    for page in pages:
        stat = ImageStat.Stat(Image.open(page).convert("L"))
        variances.append(stat.var[0])
        assert stat.var[0] > 50, page.name  # not a blank page
    # the map page (QGIS) has colour: the cases' blue and the hotspots' red
    colourful = [p for p in pages if max(ImageStat.Stat(Image.open(p).convert("RGB")).stddev) > 20]
    assert colourful
    fonts = subprocess.run(["pdffonts", str(built)], capture_output=True, text=True, check=True).stdout
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and all(line.split()[-5] == "yes" for line in cjk)  # emb column


def test_two_builds_identical(demo_db, built, tmp_path):
    again = tmp_path / "again.pdf"
    assert main(["report", "monthly", "--month", MONTH, "--out", str(again), "--db", demo_db]) == 0
    assert _pdftotext(again) == _pdftotext(built)
    assert again.read_bytes() == built.read_bytes()


def test_history_records_each_build(demo_db, built, capsys):
    capsys.readouterr()
    assert main(["report", "history", "--db", demo_db, "--format", "json", "--month", MONTH]) == 0
    rows = json.loads(capsys.readouterr().out)
    mine = [r for r in rows if r["file_name"] == str(built)]
    assert mine and mine[-1]["kind"] == "monthly" and mine[-1]["month"] == MONTH
    assert mine[0]["sha256"] == hashlib.sha256(built.read_bytes()).hexdigest()
    assert mine[0]["pages"] >= 6 and len(mine[0]["head_hash"]) == 64 and mine[0]["chain_no"] > 0


def test_department_report_and_english(demo_db, tmp_path):
    out = tmp_path / "gd.pdf"
    store = open_store(demo_db)
    try:
        month = _month()
        deps = build_core(store, SystemClock()).evaluate(None, "department", month.start, month.end)
    finally:
        store.dispose()
    code = deps.results[0].code
    assert main(["report", "department", code, "--month", MONTH, "--out", str(out), "--db", demo_db,
                 "--lang", "en", "--no-record"]) == 0
    text = " ".join(_pdftotext(out).split())
    assert "monthly evaluation report" in text and "Headline figures" in text
    r = deps.results[0]
    assert f"Cases sent to the department {r.counts['assigned']}" in text
    assert "Audit chain" in text


def test_edited_event_refuses(demo_copy, tmp_path, capsys):
    conn = sqlite3.connect(demo_copy)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
                                        "'case_events'")]
    for name in names:
        conn.execute(f'DROP TRIGGER "{name}"')
    conn.execute("UPDATE case_events SET reason = '经核实属误报' WHERE chain_no = 1000")
    conn.commit()
    conn.close()
    out = tmp_path / "refused.pdf"
    capsys.readouterr()
    assert main(["report", "monthly", "--month", MONTH, "--out", str(out), "--db", demo_copy]) == 1
    err = capsys.readouterr().err
    assert "审计链校验未通过，拒绝生成简报" in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.glob("*.part")) == [] and list(tmp_path.glob(".*")) == []
