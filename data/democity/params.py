"""Size parameters of the demo city at each scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: The demo's default "now": a Friday morning, a working day.
DEFAULT_NOW = datetime(2026, 11, 20, 10, 30)
#: Administrative code of the fictitious district (苏州市姑苏区).
DISTRICT_CODE = "320508"
DISTRICT_NAME = "姑苏区"
#: South-west corner of the district in EPSG:4549 (about 120.59E 31.28N).
ORIGIN_X = 556_200.0
ORIGIN_Y = 3_462_000.0


@dataclass(frozen=True)
class ScaleSpec:
    """How big the generated city is and how much history it gets."""

    name: str
    col_bands: int  # community columns; two make one street
    row_bands: int  # community rows
    band_cells: tuple[int, int]  # min/max unit grids across one community band
    components_per_grid: float
    cases: int  # all cases over ``days`` (terminal and open)
    open_cases: int  # open cases spread over states and lights
    supervisors: int
    compact_closed: bool = False  # closed cases skip verification and detours (city benchmark)
    days: int = 365
    writer_process: bool = False  # write from a separate process (app.store.bulk): pays off at city scale

    @property
    def streets(self) -> int:
        return self.col_bands // 2


SCALES: dict[str, ScaleSpec] = {
    # Test scale: one street, two communities, ~100 grids.
    "tiny": ScaleSpec("tiny", 2, 1, (7, 9), 10.0, 300, 120, 3, days=21),
    "district": ScaleSpec("district", 6, 4, (9, 13), 10.0, 17_500, 480, 45),
    "city": ScaleSpec("city", 20, 4, (9, 13), 27.0, 1_000_000, 3000, 600, compact_closed=True,
                      writer_process=True),
}
