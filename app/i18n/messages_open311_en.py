"""English for the open311 messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

OPEN311_EN: dict[str, str] = {
}
