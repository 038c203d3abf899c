"""Bad input to `gridhall report` and the table exports: one clear line, the right exit code, no
file (and no temporary file) left behind; an empty month is a valid report that says so; the
scheduled run builds only on the first working day; Ctrl+C leaves nothing."""

from __future__ import annotations

import argparse
import csv
import os
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.cli import main
from app.cli.report import run_report
from app.domain.calendar import WorkCalendar
from app.domain.clock import FixedClock
from app.services.bulletin import Month, export_table, first_workday, parse_month
from app.services.errors import ValidationError
from app.services.ledger import LedgerWriteError

from .conftest import MONTH, ROOT


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _nothing_in(folder: Path) -> bool:
    return [p.name for p in folder.iterdir()] == []


@pytest.mark.parametrize("month, message", [
    ("2099-01", "尚未开始：无法为未来的月份生成简报"),
    ("2026-13", "月份「2026-13」无效"),
    ("11/2026", "月份「11/2026」无效"),
])
def test_bad_months(demo_db, tmp_path, capsys, month, message):
    code, _out, err = _run(capsys, "report", "monthly", "--month", month, "--out", str(tmp_path / "b.pdf"),
                           "--db", demo_db)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert _nothing_in(tmp_path)


def test_unknown_department(demo_db, tmp_path, capsys):
    code, _out, err = _run(capsys, "report", "department", "NOPE", "--month", MONTH, "--out",
                           str(tmp_path / "d.pdf"), "--db", demo_db, "--no-map")
    assert code == 2 and "部门「NOPE」不存在" in err
    assert _nothing_in(tmp_path)


@pytest.mark.parametrize("where, message", [
    ("missing/b.pdf", "不存在"),
    ("b.txt", "应以 .pdf 结尾"),
])
def test_unwritable_paths(demo_db, tmp_path, capsys, where, message):
    code, _out, err = _run(capsys, "report", "monthly", "--month", MONTH, "--out", str(tmp_path / where),
                           "--db", demo_db)
    assert code == 2 and message in err and "Traceback" not in err
    assert _nothing_in(tmp_path)


def test_read_only_folder(demo_db, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        code, _out, err = _run(capsys, "report", "monthly", "--month", MONTH, "--out", str(folder / "b.pdf"),
                               "--db", demo_db)
        if os.geteuid() == 0:  # root writes anyway: the build succeeds there
            assert code == 0
        else:
            assert code == 2 and "没有写入" in err and _nothing_in(folder)
    finally:
        folder.chmod(0o700)


def test_empty_month_is_a_valid_report_that_says_so(demo_db, tmp_path, capsys):
    out = tmp_path / "empty.pdf"
    code, stdout, _err = _run(capsys, "report", "monthly", "--month", "2020-01", "--out", str(out),
                              "--db", demo_db, "--no-map", "--no-record")
    assert code == 0 and "没有案卷，简报基本为空" in stdout
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "本月没有案卷：以下各项均为空。" in text and "本月没有可排名的部门。" in text


def test_department_without_cases(demo_db, tmp_path, capsys):
    out = tmp_path / "d.pdf"
    code, stdout, _err = _run(capsys, "report", "department", "GD", "--month", "2020-01", "--out", str(out),
                              "--db", demo_db, "--no-record", "--lang", "en")
    assert code == 0 and "has no cases" in stdout
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "This month has no cases" in text


def test_if_first_workday(demo_db, tmp_path, capsys):
    out = tmp_path / "sched.pdf"

    def args(**kw):
        base = dict(report_command="monthly", month="last", out=str(out), db=demo_db, user=None, lang=None,
                    no_map=True, no_record=True, if_first_workday=True)
        return argparse.Namespace(**{**base, **kw})

    # 2026-10-01 … 10-07 are the National Day holidays: the first working day is 10-08
    capsys.readouterr()
    for day in (1, 7, 9):
        assert run_report(args(), clock=FixedClock(datetime(2026, 10, day, 7, 0))) == 0
        assert "不是本月第一个工作日（2026-10-08）" in capsys.readouterr().out and not out.exists()
    assert run_report(args(), clock=FixedClock(datetime(2026, 10, 8, 7, 0))) == 0
    assert "简报已生成" in capsys.readouterr().out and out.exists()


def test_parse_month_and_first_workday():
    today = date(2026, 1, 15)
    assert parse_month("last", today) == Month(2025, 12)
    assert parse_month("2025-07", today) == Month(2025, 7)
    assert parse_month("current", today) == Month(2026, 1)
    with pytest.raises(ValidationError):
        parse_month("2026-02", today)
    cal = WorkCalendar()
    assert first_workday(Month(2026, 10), cal.is_workday) == date(2026, 10, 8)
    assert first_workday(Month(2026, 2), cal.is_workday) == date(2026, 2, 2)  # the 1st is a Sunday
    assert first_workday(Month(2026, 12), cal.is_workday) == date(2026, 12, 1)
    assert Month(2024, 2).end == date(2024, 2, 29)


def test_export_table_xlsx_and_csv(tmp_path):
    rows = [["JD001", "盘溪街道", 0.95, 12], ["=cmd", "-x", None, 3]]
    x = export_table(rows, tmp_path / "t.xlsx", headers=["代码", "名称", "比率", "数"])
    ws = load_workbook(x).active
    assert [c.value for c in ws[1]] == ["代码", "名称", "比率", "数"]
    assert [c.value for c in ws[2]] == ["JD001", "盘溪街道", 0.95, 12]
    assert ws["A3"].value == "'=cmd"  # a formula is never written
    c = export_table(rows, tmp_path / "t.csv", headers=["代码", "名称", "比率", "数"])
    data = c.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert list(csv.reader(data.decode("utf-8-sig").splitlines()))[1] == ["JD001", "盘溪街道", "0.95", "12"]
    with pytest.raises(ValidationError):
        export_table(rows, tmp_path / "t.ods")
    with pytest.raises(LedgerWriteError):
        export_table(rows, tmp_path / "none" / "t.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.xlsx"]


def test_evaluate_xlsx(demo_db, tmp_path, capsys):
    y, m = MONTH.split("-")
    month = Month(int(y), int(m))
    out = tmp_path / "dep.xlsx"
    code, _o, _e = _run(capsys, "evaluate", "--subject", "department", "--from", month.start.isoformat(), "--to",
                        month.end.isoformat(), "--db", demo_db, "--format", "xlsx", "--out", str(out), "--cases")
    assert code == 0
    csv_out = tmp_path / "dep.csv"
    assert main(["evaluate", "--subject", "department", "--from", month.start.isoformat(), "--to",
                 month.end.isoformat(), "--db", demo_db, "--format", "csv", "--out", str(csv_out)]) == 0
    book = load_workbook(out)
    table = [[("" if c is None else str(c)) for c in row] for row in book.worksheets[0].iter_rows(values_only=True)]
    expected = list(csv.reader(csv_out.read_bytes().decode("utf-8-sig").splitlines()))
    assert len(table) == len(expected) and table[0] == expected[0]
    assert [r[2] for r in table] == [r[2] for r in expected]  # the same subjects in the same order
    assert book.sheetnames[1] == "cases" and book.worksheets[1].max_row > 1
    code, _o, err = _run(capsys, "evaluate", "--subject", "department", "--from", month.start.isoformat(), "--to",
                         month.end.isoformat(), "--db", demo_db, "--format", "xlsx")
    assert code == 2 and "--out" in err


def test_ctrl_c_leaves_nothing(demo_db, tmp_path):
    out = tmp_path / "cancelled.pdf"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GRIDHALL_LANG="zh_CN")
    proc = subprocess.Popen([sys.executable, "-m", "app", "report", "monthly", "--month", MONTH, "--out", str(out),
                             "--db", demo_db, "--no-record"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # inside the build (it takes several seconds)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the build finished before the interrupt")
    assert proc.returncode == 130 and "Traceback" not in err
    assert _nothing_in(tmp_path)
