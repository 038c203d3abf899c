"""English for the exchange messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

EXCHANGE_EN: dict[str, str] = {
}
