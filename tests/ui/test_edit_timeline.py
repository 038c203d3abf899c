"""A 修改 event's timeline entry in the case detail dock: each changed field, before → after, in either language."""

from __future__ import annotations

from datetime import datetime

from app.domain.cases import CaseEventRecord
from app.i18n import Catalogue
from app.ui.detail_dock import event_text


def _edit(**changes) -> CaseEventRecord:
    return CaseEventRecord(5, datetime(2026, 3, 2, 10, 5), "edit", "handling", "handling", "张三", "dispatcher",
                           reason="地址笔误", payload={"changes": changes})


def test_an_edit_entry_lists_before_and_after():
    event = _edit(address=["人民路12号", "人民路21号"], reporter_name=["刘先生", None])
    assert event_text(event, Catalogue("zh_CN")).split("\n") == [
        "03-02 10:05  修改  张三（派遣员）", "处置中 → 处置中 · 地址笔误",
        "地址：人民路12号 → 人民路21号", "举报人：刘先生 → （空）"]
    assert event_text(event, Catalogue("en")).split("\n")[2:] == [
        "Address: 人民路12号 → 人民路21号", "Reporter: 刘先生 → (empty)"]


def test_other_entries_add_no_lines_and_odd_payloads_are_shown_as_they_are():
    assert event_text(_edit(address="not a pair"), Catalogue("en")).split("\n")[2:] == [
        "changes.address: not a pair"]  # never dropped (app.domain.timeline)
    plain = CaseEventRecord(2, datetime(2026, 3, 2, 9, 30), "accept", "dispatched", "handling", "周敏", "department")
    assert len(event_text(plain, Catalogue("en")).split("\n")) == 2
