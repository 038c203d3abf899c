"""The period picker's ranges (pure)."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.periods import months, period_range, shift, trend_start


def test_ranges():
    day = date(2026, 11, 19)  # a Thursday
    assert period_range("day", day) == (day, day)
    assert period_range("week", day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert period_range("month", day) == (date(2026, 11, 1), date(2026, 11, 30))
    assert period_range("month", date(2028, 2, 10)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert period_range("quarter", day) == (date(2026, 10, 1), date(2026, 12, 31))
    assert period_range("quarter", date(2026, 3, 31)) == (date(2026, 1, 1), date(2026, 3, 31))
    assert period_range("custom", day, (date(2026, 5, 3), date(2026, 4, 1))) == (date(2026, 4, 1), date(2026, 5, 3))
    with pytest.raises(ValueError):
        period_range("year", day)


def test_shift_and_months():
    assert shift("month", date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert shift("month", date(2026, 1, 15), -1) == date(2025, 12, 15)
    assert shift("quarter", date(2026, 2, 10), 1) == date(2026, 5, 10)
    assert shift("week", date(2026, 11, 19), -1) == date(2026, 11, 12)
    assert shift("day", date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert trend_start(date(2026, 11, 30)) == date(2025, 12, 1)
    assert months(date(2025, 12, 5), date(2026, 2, 1)) == [date(2025, 12, 1), date(2026, 1, 1), date(2026, 2, 1)]
