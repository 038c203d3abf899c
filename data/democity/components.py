"""Place the component inventory plausibly: covers on roads, lamps and trees along kerbs, etc."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from data.democity.geography import City
from data.democity.sampling import pick

# (code, share of all components, placement, road kinds) — placements:
#   centre: in the carriageway; side: along the kerb; junction: at a road crossing; area: inside the grid.
_ALL = ("trunk", "main", "secondary", "lane")
_BIG = ("trunk", "main", "secondary")
_MAIN = ("trunk", "main")
MIX: list[tuple[str, float, str, tuple[str, ...]]] = [
    ("01037", 0.150, "side", _ALL), ("04002", 0.110, "side", _BIG), ("01004", 0.075, "side", _BIG),
    ("01003", 0.060, "centre", _ALL), ("01002", 0.050, "centre", _ALL), ("03005", 0.045, "side", _ALL),
    ("03007", 0.040, "side", _ALL), ("01001", 0.030, "centre", _ALL), ("01007", 0.030, "centre", _BIG),
    ("02038", 0.028, "side", _ALL), ("01005", 0.025, "centre", _BIG), ("02010", 0.025, "junction", _BIG),
    ("01030", 0.020, "side", _ALL), ("02021", 0.018, "side", _BIG), ("04011", 0.018, "side", _BIG),
    ("04003", 0.018, "area", ()), ("01006", 0.015, "centre", _BIG), ("01011", 0.015, "centre", _ALL),
    ("01031", 0.014, "side", _ALL), ("02017", 0.014, "centre", _MAIN), ("01013", 0.012, "side", _ALL),
    ("02012", 0.012, "junction", _ALL), ("04013", 0.012, "area", ()), ("01050", 0.010, "junction", _BIG),
    ("03006", 0.010, "side", _BIG), ("01018", 0.010, "area", ()), ("02025", 0.010, "side", _BIG),
    ("04004", 0.010, "side", _BIG), ("01008", 0.008, "centre", _BIG), ("01027", 0.008, "side", _BIG),
    ("04005", 0.008, "side", _BIG), ("04007", 0.008, "side", _BIG), ("01017", 0.006, "centre", _BIG),
    ("02014", 0.006, "junction", _MAIN), ("03004", 0.006, "area", ()), ("03008", 0.006, "area", ()),
    ("04008", 0.006, "area", ()), ("01009", 0.005, "centre", _BIG), ("01028", 0.005, "side", _BIG),
    ("02034", 0.005, "junction", _BIG), ("03003", 0.005, "area", ()), ("01012", 0.004, "centre", _BIG),
    ("01015", 0.004, "junction", _MAIN), ("01046", 0.004, "area", ()), ("01048", 0.004, "area", ()),
    ("01054", 0.004, "area", ()), ("01059", 0.004, "area", ()), ("01060", 0.004, "side", _BIG),
    ("01065", 0.004, "side", _ALL), ("01026", 0.004, "side", _BIG), ("02003", 0.004, "side", _MAIN),
    ("02004", 0.004, "side", _MAIN), ("03002", 0.004, "side", _BIG), ("03016", 0.004, "side", _BIG),
    ("04009", 0.004, "area", ()), ("01023", 0.003, "centre", _ALL), ("01014", 0.003, "area", ()),
    ("01075", 0.003, "area", ()), ("01077", 0.003, "junction", _MAIN), ("02026", 0.003, "side", _BIG),
    ("02033", 0.003, "junction", ("lane", "secondary")), ("02043", 0.003, "centre", ("secondary", "lane")),
    ("02022", 0.003, "centre", _MAIN), ("03001", 0.003, "area", ()), ("02018", 0.002, "junction", _MAIN),
    ("02001", 0.002, "area", ()), ("03014", 0.002, "area", ()), ("04001", 0.002, "area", ()),
    ("01040", 0.001, "side", _MAIN), ("01042", 0.001, "side", _BIG), ("04006", 0.001, "area", ()),
    ("05009", 0.001, "area", ()), ("05002", 0.001, "area", ()),
]
#: Share given to every other category so all 153 occur somewhere.
RARE_SHARE = 0.0002

_STATUS = (("intact", 0.930), ("damaged", 0.050), ("lost", 0.010), ("abandoned", 0.005), ("removed", 0.005))
_SOURCES = (("实测", 0.80), ("基础地理数据", 0.12), ("地形图", 0.05), ("其他", 0.03))


@dataclass(frozen=True)
class Placed:
    """One placed component: category, cell, bilinear position and point."""

    code: str
    i: int
    j: int
    u: float
    v: float
    x: float
    y: float


def mix(component_codes: list[str]) -> list[tuple[str, float, str, tuple[str, ...]]]:
    """The placement mix over every component category, normalised to sum 1."""
    known = {m[0] for m in MIX}
    rows = [m for m in MIX if m[0] in component_codes]
    rows += [(c, RARE_SHARE, "area", ()) for c in component_codes if c not in known]
    total = sum(r[1] for r in rows)
    return [(c, s / total, mode, kinds) for c, s, mode, kinds in rows]


def place(city: City, component_codes: list[str], rng: random.Random) -> Iterator[Placed]:
    """Yield every component of the city (category by category, deterministic)."""
    target = city.spec.components_per_grid * len(city.grids)
    edges = list(city.road_edges())
    junctions = _junctions(city)
    for code, share, mode, kinds in mix(component_codes):
        n = max(1, round(target * share))
        if mode in ("side", "centre"):
            yield from _along(city, code, n, mode, [e for e in edges if city.roads[e[0]].kind in kinds], rng)
        elif mode == "junction":
            pool = [jn for jn in junctions if jn[2] in kinds] or junctions
            for _ in range(n):
                i, j, _kind = pool[rng.randrange(len(pool))]
                yield _corner(city, code, i, j, rng)
        else:
            for _ in range(n):
                g = city.grids[rng.randrange(len(city.grids))]
                u, v = rng.uniform(0.12, 0.88), rng.uniform(0.12, 0.88)
                yield Placed(code, g.i, g.j, u, v, *city.point(g.i, g.j, u, v))


def _along(city: City, code: str, n: int, mode: str, edges, rng: random.Random) -> Iterator[Placed]:
    # Regular spacing with jitter along all applicable road edges, alternating sides.
    total = sum(e[4] for e in edges)
    if not edges or total <= 0:
        return
    step = total / n
    phase = rng.uniform(0, step)
    side = 0
    made = 0
    for r, axis, line, k, length in edges:
        width = city.roads[r].width
        pos = phase
        while pos < length and made < n:
            t = min(0.98, max(0.02, (pos + rng.uniform(-0.15, 0.15) * step) / length))
            off = width / 2 + rng.uniform(0.6, 1.8) if mode == "side" else rng.uniform(0.8, max(1.0, width / 2 - 0.5))
            side ^= 1
            placed = _beside(city, code, axis, line, k, t, off, side)
            if placed is not None:
                made += 1
                yield placed
            pos += step
        phase = pos - length
    del rng


def _beside(city: City, code: str, axis: str, line: int, k: int, t: float, off: float, side: int):
    if axis == "v":
        cells = [(line - 1, k, "left"), (line, k, "right")]
    else:
        cells = [(k, line - 1, "below"), (k, line, "above")]
    cells = [c for c in cells if (c[0], c[1]) in city.grid_at]
    if not cells:
        return None
    i, j, where = cells[side % len(cells)]
    if axis == "v":
        u = off / city.cw[i]
        u, v = (1 - u if where == "left" else u), t
    else:
        v = off / city.rh[j]
        u, v = t, (1 - v if where == "below" else v)
    u, v = min(0.995, max(0.005, u)), min(0.995, max(0.005, v))
    return Placed(code, i, j, u, v, *city.point(i, j, u, v))


def _junctions(city: City) -> list[tuple[int, int, str]]:
    """Lattice nodes where a vertical and a horizontal road meet, with the bigger road's kind."""
    rank = {"trunk": 0, "main": 1, "secondary": 2, "lane": 3}
    out = []
    for i in range(city.ncols + 1):
        for j in range(city.nrows + 1):
            v = city.vroad.get((i, j)) if (i, j) in city.vroad else city.vroad.get((i, j - 1))
            h = city.hroad.get((j, i)) if (j, i) in city.hroad else city.hroad.get((j, i - 1))
            if v is not None and h is not None:
                kinds = sorted((city.roads[v].kind, city.roads[h].kind), key=rank.__getitem__)
                out.append((i, j, kinds[0]))
    return out


def _corner(city: City, code: str, i: int, j: int, rng: random.Random) -> Placed:
    cells = [(ci, cj, ci == i, cj == j) for ci, cj in ((i - 1, j - 1), (i, j - 1), (i - 1, j), (i, j))
             if (ci, cj) in city.grid_at]
    ci, cj, east, north = cells[rng.randrange(len(cells))]
    du, dv = rng.uniform(0.08, 0.2), rng.uniform(0.08, 0.2)
    u = du if east else 1 - du
    v = dv if north else 1 - dv
    return Placed(code, ci, cj, u, v, *city.point(ci, cj, u, v))


def attributes(rng: random.Random, today: date) -> tuple[str, date, str]:
    """(status, initial_date, data_source) of one component."""
    status = pick(rng, _STATUS)
    initial = date(2008, 1, 1) + timedelta(days=rng.randrange((today - date(2008, 1, 1)).days - 30))
    return status, initial, pick(rng, _SOURCES)
