"""English for the desk messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

DESK_EN: dict[str, str] = {
}
