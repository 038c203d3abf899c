"""Closing evidence (app/domain/evidence.py): what is missing, named before a close is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.domain.evidence import EvidenceRule, closing_evidence, rule_for
from app.i18n import Catalogue


@dataclass
class Photo:
    kind: str
    taken_at: datetime | None = None


@dataclass
class Untimed:  # a photo source without photo times (today's PhotoRecord)
    kind: str


T1, T2 = datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 20, 15, 0)


def test_both_photos_with_their_times_are_complete():
    check = closing_evidence([Photo("before", T1), Photo("after", T2), Photo("other")], EvidenceRule())
    assert check.complete and not check.refused and check.message() is None
    assert (check.before_at, check.after_at) == (T1, T2)


def test_missing_before_photo_is_named_in_both_languages():
    check = closing_evidence([Photo("after", T2)], EvidenceRule())
    assert [str(m) for m in check.missing] == ["处置前照片"]
    assert not check.refused  # not strict: the user must confirm
    assert "处置前照片" in Catalogue().text(check.message())
    assert "before" in Catalogue("en").text(check.message())


def test_strict_rule_refuses_and_names_everything_missing():
    check = closing_evidence([], EvidenceRule(strict=True))
    assert check.refused
    text = Catalogue().text(check.message())
    assert "处置前照片" in text and "处置后照片" in text and "不能结案" in text


def test_a_report_photo_counts_as_the_before_photo_as_the_service_counts_it():
    assert closing_evidence([Photo("report", T1), Photo("after", T2)], EvidenceRule()).complete


def test_times_are_required_and_ordered_when_the_source_has_them():
    check = closing_evidence([Photo("before", None), Photo("after", T2)], EvidenceRule())
    assert [str(m) for m in check.missing] == ["处置前照片的拍摄时间"]
    check = closing_evidence([Photo("before", T2), Photo("after", T1)], EvidenceRule())
    assert [str(m) for m in check.missing] == ["晚于处置前照片拍摄的处置后照片"]
    assert closing_evidence([Photo("before", None), Photo("after", None)], EvidenceRule(times=False)).complete


def test_a_source_without_photo_times_checks_presence_only():
    check = closing_evidence([Untimed("before"), Untimed("after")], EvidenceRule())
    assert check.complete and not check.times_known


def test_rules_per_category_longest_prefix_wins_and_strictness_comes_from_the_configuration():
    table = {"06": EvidenceRule(after=False), "06010": EvidenceRule(before=False)}
    assert rule_for("06010", categories=table) == EvidenceRule(before=False)
    assert rule_for("06002", strict=True, categories=table) == EvidenceRule(after=False, strict=True)
    assert rule_for("01001") == EvidenceRule()
