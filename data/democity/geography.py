"""The demo city's ground: a warped lattice of unit grids, communities, streets and roads.

Every lattice cell is one unit grid (~100 m x 100 m). Communities are rectangular blocks
of cells bounded by main roads, streets are pairs of community columns, so grids tile each
community seamlessly and never cross a boundary. Roads run along lattice lines, which
are grid edges: a point placed by (cell, u, v) bilinear coordinates is always inside its
own grid, which is how components and cases get their grid without a spatial query.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from data.democity import names
from data.democity.params import DISTRICT_CODE, DISTRICT_NAME, ORIGIN_X, ORIGIN_Y, ScaleSpec

Point = tuple[float, float]


@dataclass
class Area:
    """A district, street or community: a rectangle of lattice cells."""

    code: str
    name: str
    level: str
    parent_code: str | None
    i0: int
    i1: int
    j0: int
    j1: int
    ring: list[Point] = field(default_factory=list)


@dataclass
class Grid:
    """One unit grid (lattice cell)."""

    code: str
    community_code: str
    street_index: int
    i: int
    j: int
    ring: list[Point]
    area: float


@dataclass
class Road:
    """A named road along one lattice line over the cells k0..k1 (exclusive)."""

    name: str
    kind: str  # trunk | main | secondary | lane
    width: float
    axis: str  # 'v' runs south-north along column line i; 'h' runs west-east along row line j
    line: int
    k0: int
    k1: int
    points: list[Point] = field(default_factory=list)


ROAD_WIDTH = {"trunk": 32.0, "main": 24.0, "secondary": 12.0, "lane": 4.0}


class City:
    """The lattice with its areas, grids and roads, and lookups between them."""

    def __init__(self, spec: ScaleSpec, rng: random.Random):
        self.spec = spec
        self.col_band = [rng.randint(*spec.band_cells) for _ in range(spec.col_bands)]
        self.row_band = [rng.randint(*spec.band_cells) for _ in range(spec.row_bands)]
        self.ncols = sum(self.col_band)
        self.nrows = sum(self.row_band)
        self.cw = [rng.uniform(88.0, 116.0) for _ in range(self.ncols)]
        self.rh = [rng.uniform(88.0, 116.0) for _ in range(self.nrows)]
        self.xs = _cumulative(self.cw)
        self.ys = _cumulative(self.rh)
        self.nodes = self._warp(rng)
        self.district = Area(DISTRICT_CODE, DISTRICT_NAME, "district", None, 0, self.ncols, 0, self.nrows)
        self.streets: list[Area] = []
        self.communities: list[Area] = []
        self.grids: list[Grid] = []
        self.grid_at: dict[tuple[int, int], int] = {}
        self.roads: list[Road] = []
        self.vroad: dict[tuple[int, int], int] = {}  # (column line i, row j) -> road index
        self.hroad: dict[tuple[int, int], int] = {}  # (row line j, column i) -> road index
        self._areas(rng)
        self._grids()
        self._roads(rng)

    # --- lattice ------------------------------------------------------------------------

    def _warp(self, rng: random.Random) -> list[list[Point]]:
        # A gentle smooth warp plus small jitter keeps roads from looking ruled, while every
        # cell stays a convex quadrilateral (jitter << cell size).
        ph = [rng.uniform(0, 2 * math.pi) for _ in range(4)]
        nodes = []
        for i, x in enumerate(self.xs):
            col = []
            for j, y in enumerate(self.ys):
                dx = 38 * math.sin(y / 2300 * 2 * math.pi + ph[0]) + 14 * math.sin(y / 700 + ph[2])
                dy = 30 * math.sin(x / 2900 * 2 * math.pi + ph[1]) + 12 * math.sin(x / 650 + ph[3])
                if 0 < i < self.ncols and 0 < j < self.nrows:
                    dx += rng.uniform(-5, 5)
                    dy += rng.uniform(-5, 5)
                col.append((round(ORIGIN_X + x + dx, 2), round(ORIGIN_Y + y + dy, 2)))  # as stored
            nodes.append(col)
        return nodes

    def point(self, i: int, j: int, u: float, v: float) -> Point:
        """Bilinear point of cell (i, j); 0 < u, v < 1 is strictly inside the cell."""
        (x00, y00), (x10, y10) = self.nodes[i][j], self.nodes[i + 1][j]
        (x01, y01), (x11, y11) = self.nodes[i][j + 1], self.nodes[i + 1][j + 1]
        a, b = (1 - u) * (1 - v), u * (1 - v)
        c, d = (1 - u) * v, u * v
        return (a * x00 + b * x10 + c * x01 + d * x11, a * y00 + b * y10 + c * y01 + d * y11)

    def block_ring(self, i0: int, i1: int, j0: int, j1: int) -> list[Point]:
        """Closed counter-clockwise ring around the block of cells [i0, i1) x [j0, j1)."""
        n = self.nodes
        ring = [n[i][j0] for i in range(i0, i1 + 1)]
        ring += [n[i1][j] for j in range(j0 + 1, j1 + 1)]
        ring += [n[i][j1] for i in range(i1 - 1, i0 - 1, -1)]
        ring += [n[i0][j] for j in range(j1 - 1, j0 - 1, -1)]
        return ring

    # --- areas and grids ----------------------------------------------------------------

    def _areas(self, rng: random.Random) -> None:
        street_names = names.STREET_NAMES[:]
        rng.shuffle(street_names)
        community_names = names.unique_names(names.COMMUNITY_NAMES, self.spec.col_bands * self.spec.row_bands,
                                             "社区", rng)
        cb = _cumulative(self.col_band)
        rb = _cumulative(self.row_band)
        self.district.ring = self.block_ring(0, self.ncols, 0, self.nrows)
        k = 0
        for s in range(self.spec.streets):
            i0, i1 = cb[2 * s], cb[2 * s + 2]
            street = Area(f"{DISTRICT_CODE}{s + 1:03d}", street_names[s % len(street_names)] + "街道",
                          "street", DISTRICT_CODE, i0, i1, 0, self.nrows)
            street.ring = self.block_ring(i0, i1, 0, self.nrows)
            self.streets.append(street)
            seq = 0
            # Communities numbered north to south, west to east inside the street.
            for r in range(self.spec.row_bands - 1, -1, -1):
                for c in (2 * s, 2 * s + 1):
                    seq += 1
                    com = Area(f"{street.code}{seq:03d}", community_names[k], "community", street.code,
                               cb[c], cb[c + 1], rb[r], rb[r + 1])
                    com.ring = self.block_ring(com.i0, com.i1, com.j0, com.j1)
                    self.communities.append(com)
                    k += 1

    def _grids(self) -> None:
        for com in self.communities:
            street_index = int(com.parent_code[-3:]) - 1
            seq = 0
            # 15-digit code: community + sequence west->east, north->south.
            for j in range(com.j1 - 1, com.j0 - 1, -1):
                for i in range(com.i0, com.i1):
                    seq += 1
                    ring = self.block_ring(i, i + 1, j, j + 1)
                    self.grid_at[(i, j)] = len(self.grids)
                    self.grids.append(Grid(f"{com.code}{seq:03d}", com.code, street_index, i, j, ring,
                                           _ring_area(ring)))

    # --- roads --------------------------------------------------------------------------

    def _roads(self, rng: random.Random) -> None:
        used: set[str] = set()
        for axis, bands, n_lines, n_cells, cross_bands in (
                ("v", self.col_band, self.ncols, self.nrows, self.row_band),
                ("h", self.row_band, self.nrows, self.ncols, self.col_band)):
            bounds = set(_cumulative(bands))
            plan: list[tuple[int, str, int, int]] = []  # (line, kind, k0, k1)
            start = 0
            for width in bands:
                for off in range(width + 1):
                    line = start + off
                    if line in bounds:
                        if off == 0 or line == n_lines:
                            kind = "trunk" if line in (0, n_lines) else "main"
                            if (line, kind, 0, n_cells) not in plan:
                                plan.append((line, kind, 0, n_cells))
                    elif off % 3 == 0 and width - off >= 2:
                        plan.append((line, "secondary", 0, n_cells))
                    else:
                        cb = 0
                        for cw in cross_bands:
                            if rng.random() < 0.5:
                                a = cb + rng.randrange(0, max(1, cw - 2))
                                b = min(cb + cw, a + rng.randint(2, 5))
                                plan.append((line, "lane", a, b))
                            cb += cw
                start += width
            majors = [p for p in plan if p[1] != "lane"]
            lanes = [p for p in plan if p[1] == "lane"]
            stems = names.ROAD_STEMS
            road_names = names.unique_names(stems, len(majors), "", rng, set())
            lane_names = names.unique_names(stems, len(lanes), "", rng, set())
            for (line, kind, k0, k1), stem in zip(majors, road_names, strict=True):
                suffix = "路" if kind in ("trunk", "main") else rng.choice(("街", "路", "街"))
                self._add_road(_unique(stem + suffix, used), kind, axis, line, k0, k1)
            for (line, kind, k0, k1), stem in zip(lanes, lane_names, strict=True):
                suffix = rng.choice(("巷", "巷", "弄", "里"))
                self._add_road(_unique(stem + suffix, used), kind, axis, line, k0, k1)

    def _add_road(self, name: str, kind: str, axis: str, line: int, k0: int, k1: int) -> None:
        index = len(self.roads)
        if axis == "v":
            pts = [self.nodes[line][k] for k in range(k0, k1 + 1)]
            table = self.vroad
        else:
            pts = [self.nodes[k][line] for k in range(k0, k1 + 1)]
            table = self.hroad
        for k in range(k0, k1):
            table.setdefault((line, k), index)
        self.roads.append(Road(name, kind, ROAD_WIDTH[kind], axis, line, k0, k1, pts))

    def road_edges(self):
        """Yield (road index, axis, line, k, length_m) for every lattice edge a road runs along."""
        for (line, k), r in self.vroad.items():
            (x0, y0), (x1, y1) = self.nodes[line][k], self.nodes[line][k + 1]
            yield r, "v", line, k, math.hypot(x1 - x0, y1 - y0)
        for (line, k), r in self.hroad.items():
            (x0, y0), (x1, y1) = self.nodes[k][line], self.nodes[k + 1][line]
            yield r, "h", line, k, math.hypot(x1 - x0, y1 - y0)

    def address(self, i: int, j: int, u: float, v: float) -> str:
        """"<road> <n> 号附近" for a point of cell (i, j), from the nearest road."""
        best: tuple[float, int, float, bool] | None = None  # (distance, road, along, left side)
        w, h = self.cw[i], self.rh[j]
        for d in range(0, 6):
            for line, dist, left in ((i - d, (u + d) * w, False), (i + 1 + d, (1 - u + d) * w, True)):
                r = self.vroad.get((line, j))
                if r is not None and (best is None or dist < best[0]):
                    best = (dist, r, self.ys[j] + v * h - self.ys[self.roads[r].k0], left)
            for line, dist, left in ((j - d, (v + d) * h, True), (j + 1 + d, (1 - v + d) * h, False)):
                r = self.hroad.get((line, i))
                if r is not None and (best is None or dist < best[0]):
                    best = (dist, r, self.xs[i] + u * w - self.xs[self.roads[r].k0], left)
            if best is not None:
                break
        if best is None:
            return f"{self.grids[self.grid_at[(i, j)]].code} 网格内"
        _, r, along, left = best
        number = int(along / 7.0) * 2 + (1 if left else 2)
        return f"{self.roads[r].name} {number} 号附近"


def _cumulative(widths: list[float]) -> list:
    out = [0]
    for w in widths:
        out.append(out[-1] + w)
    return out


def _ring_area(ring: list[Point]) -> float:
    s = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        s += x0 * y1 - x1 * y0
    return abs(s) / 2


def _unique(name: str, used: set[str]) -> str:
    if name not in used:
        used.add(name)
        return name
    n = 2
    while f"{name}{n}" in used:
        n += 1
    used.add(f"{name}{n}")
    return f"{name}{n}"


def ring_wkt(ring: list[Point]) -> str:
    """POLYGON WKT of an open ring (closed here)."""
    pts = ring + ring[:1]
    return "POLYGON((" + ",".join(f"{x:.2f} {y:.2f}" for x, y in pts) + "))"


def multi_wkt(ring: list[Point]) -> str:
    """MULTIPOLYGON WKT of one open ring."""
    pts = ring + ring[:1]
    return "MULTIPOLYGON(((" + ",".join(f"{x:.2f} {y:.2f}" for x, y in pts) + ")))"


def line_wkt(points: list[Point]) -> str:
    """LINESTRING WKT."""
    return "LINESTRING(" + ",".join(f"{x:.2f} {y:.2f}" for x, y in points) + ")"


def point_wkt(p: Point) -> str:
    """POINT WKT."""
    return f"POINT({p[0]:.2f} {p[1]:.2f})"
