"""Geocoding: address text → candidates (point, grid, community, street, score), point → address.

The gazetteer is read once per store into an in-memory index (``GeocodeIndex.for_store``):
roads with their segments between crossings (人民路(友谊桥至和平桥)), house numbers (odd on the
left of the road's direction, even on the right, one pair every ``METRES_PER_NUMBER_PAIR``
metres — the rule ``app.services.location`` guesses with), landmarks with aliases, and the unit
grids with their community and street. The demo gazetteer is derived deterministically (seed)
from the store's roads: landmarks stand at road crossings.

Matching: ``app.domain.address.parse_address`` splits off the administrative prefix, house
number and "往南200米"; jieba (with the gazetteer's names as its vocabulary) segments what is
left; words found in the gazetteer match exactly, the rest fuzzily (rapidfuzz) against every
road name, road stem (人民 for 人民路), landmark and alias. A house number that does not exist
becomes the nearest existing one on the same side.
"""

from __future__ import annotations

import logging
import math
import os
import random
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.ops
from geoalchemy2.shape import to_shape
from rapidfuzz import fuzz, process
from shapely.geometry import LineString, Point
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.domain.address import ParsedAddress, parse_address, road_stem
from app.store import gazetteer as gaz
from app.store.engine import Store
from app.store.gazetteer import StoredGazetteer, read_gazetteer
from app.store.models import AdminArea, Road, UnitGrid

#: Metres of frontage per pair of house numbers (the same rule as app.services.location).
METRES_PER_NUMBER_PAIR = 7.0
#: Seed of the demo gazetteer's landmarks.
DEMO_SEED = 16
#: Fuzzy matches below this rapidfuzz ratio are not candidates.
MIN_FUZZY = 60.0
#: Seconds between checks whether the store's roads changed (the index is rebuilt then).
REFRESH_SECONDS = 5.0

_LANDMARK_STEMS = ("友谊", "和平", "胜利", "光明", "幸福", "朝阳", "新华", "解放", "文化", "红旗", "团结",
                   "建设", "东方", "长青", "明珠", "锦绣", "金桥", "翠湖", "滨江", "春晖", "青年", "工人",
                   "人和", "永安", "太平", "振兴", "吉祥", "长乐", "安康", "丰收", "百花", "彩虹")
#: Landmark kind → (suffix, alias suffixes a caller uses instead).
_LANDMARK_KINDS = (("桥", ()), ("广场", ("广场那里",)), ("公园", ("花园",)), ("小学", ("小",)),
                   ("医院", ("医",)), ("大厦", ("大楼",)), ("菜市场", ("菜场",)), ("体育馆", ("体育中心",)),
                   ("图书馆", ("图书室",)), ("商场", ("商城",)))
_KIND_BONUS = {"trunk": -0.1, "main": -0.2, "secondary": -0.3, "branch": -0.4, "lane": -0.5}
_STOP = {"的", "那", "那边", "这边", "靠近", "旁", "边", "在", "附近", "门口", "对面", "往", "向", "一带", "路口"}


@dataclass
class GRoad:
    name: str
    kind: str
    width: float
    line: LineString
    numbers: dict[int, tuple[float, float]] = field(default_factory=dict)
    segments: list[tuple[str, float, float]] = field(default_factory=list)  # label, from, to (m along)

    @property
    def stem(self) -> str:
        return road_stem(self.name)


@dataclass(frozen=True)
class Landmark:
    name: str
    kind: str
    x: float
    y: float
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    """One answer: a label (人民路128号), the point, its grid, community, street, and a score 0–100."""

    label: str
    x: float
    y: float
    score: float
    kind: str  # house | landmark | offset | road
    road: str | None = None
    number: int | None = None
    landmark: str | None = None
    grid: str | None = None
    community: str | None = None
    street: str | None = None

    @property
    def address(self) -> str:
        """The postal form (人民路128号) when there is a house number, else the label."""
        return f"{self.road}{self.number}号" if self.road and self.number is not None else self.label


def _house_points(line: LineString, width: float) -> dict[int, tuple[float, float]]:
    pairs = int(line.length // METRES_PER_NUMBER_PAIR)
    if pairs < 1:
        return {}
    along = (np.arange(1, pairs + 1) - 0.5) * METRES_PER_NUMBER_PAIR
    ahead = shapely.get_coordinates(shapely.line_interpolate_point(line, np.minimum(along + 1.0, line.length)))
    here = shapely.get_coordinates(shapely.line_interpolate_point(line, along))
    behind = shapely.get_coordinates(shapely.line_interpolate_point(line, np.maximum(along - 1.0, 0.0)))
    tangent = ahead - behind
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    left = np.column_stack([-tangent[:, 1], tangent[:, 0]])
    off = width / 2.0 + 4.0
    out: dict[int, tuple[float, float]] = {}
    for k in range(pairs):
        out[2 * k + 1] = (float(here[k, 0] + left[k, 0] * off), float(here[k, 1] + left[k, 1] * off))
        out[2 * k + 2] = (float(here[k, 0] - left[k, 0] * off), float(here[k, 1] - left[k, 1] * off))
    return out


def demo_landmarks(roads: list[GRoad], seed: int = DEMO_SEED) -> list[Landmark]:
    """Landmarks at road crossings, deterministic by ``seed`` (one per stem × kind, at most)."""
    rng = random.Random(seed)
    tree = shapely.STRtree([r.line for r in roads])
    crossings: list[tuple[float, float]] = []
    for i, road in enumerate(roads):
        for j in tree.query(road.line, predicate="intersects"):
            if j <= i:
                continue
            hit = road.line.intersection(roads[j].line)
            if not hit.is_empty:
                p = hit if hit.geom_type == "Point" else hit.centroid
                crossings.append((p.x, p.y))
    rng.shuffle(crossings)
    names = [(stem + suffix, suffix, tuple(stem + a for a in aliases))
             for stem in _LANDMARK_STEMS for suffix, aliases in _LANDMARK_KINDS]
    rng.shuffle(names)
    road_names = {r.name for r in roads} | {r.stem for r in roads}
    out = []
    for (x, y), (name, kind, aliases) in zip(crossings, names, strict=False):
        if name in road_names:
            continue
        dx, dy = rng.choice(((1, 1), (1, -1), (-1, 1), (-1, -1)))
        out.append(Landmark(name, kind, x + 12.0 * dx, y + 12.0 * dy, aliases))
    return out


def _segments(roads: list[GRoad], landmarks: list[Landmark]) -> None:
    tree = shapely.STRtree([r.line for r in roads])
    mark_tree = shapely.STRtree([Point(lm.x, lm.y) for lm in landmarks])
    for i, road in enumerate(roads):
        stops: list[tuple[float, str]] = []
        for j in tree.query(road.line, predicate="intersects"):
            if j == i:
                continue
            hit = road.line.intersection(roads[j].line)
            if hit.is_empty:
                continue
            p = hit if hit.geom_type == "Point" else hit.centroid
            near = mark_tree.query(p, predicate="dwithin", distance=25.0)
            name = landmarks[int(near.min())].name if len(near) else roads[j].name
            stops.append((road.line.project(p), name))
        stops.sort()
        stops = [st for k, st in enumerate(stops) if k == 0 or st[0] - stops[k - 1][0] > 5.0]
        road.segments = [(f"{road.name}({a}至{b})", da, db) for (da, a), (db, b) in zip(stops, stops[1:], strict=False)]


class GeocodeIndex:
    """The in-memory gazetteer of one store, with its lookups (thread-safe once built)."""

    _cache: dict[str, tuple[GeocodeIndex, float]] = {}
    _lock = threading.Lock()

    def __init__(self, roads: list[GRoad], landmarks: list[Landmark],
                 grids: list[tuple[str, str, str, object]], prefixes: tuple[str, ...] = (),
                 token: object = None) -> None:
        self.roads = roads
        self.landmarks = landmarks
        self.prefixes = prefixes
        self.token = token
        self._grids = grids
        self._grid_tree = shapely.STRtree([g[3] for g in grids]) if grids else None
        self._house_keys: list[tuple[int, int]] = []
        coords = []
        for ri, road in enumerate(roads):
            for n, xy in road.numbers.items():
                self._house_keys.append((ri, n))
                coords.append(xy)
        self._house_tree = shapely.STRtree(shapely.points(np.array(coords))) if coords else None
        self._lm_tree = shapely.STRtree([Point(lm.x, lm.y) for lm in landmarks]) if landmarks else None
        # vocabulary: name -> ('road', index) | ('landmark', index)
        vocab: dict[str, list[tuple[str, int]]] = {}
        for i, road in enumerate(roads):
            vocab.setdefault(road.name, []).append(("road", i))
            if road.stem != road.name:
                vocab.setdefault(road.stem, []).append(("road", i))
        for i, lm in enumerate(landmarks):
            for name in (lm.name, *lm.aliases):
                vocab.setdefault(name, []).append(("landmark", i))
        self.vocab = vocab
        self._choices = list(vocab)
        self._road_names = sorted({r.name for r in roads})
        self._tokenizer = _tokenizer(list(vocab))

    # --- building ----------------------------------------------------------------------------

    @classmethod
    def from_store(cls, store: Store, seed: int = DEMO_SEED) -> GeocodeIndex:
        with store.session() as session:
            roads = [GRoad(name, kind, float(width or 10.0), to_shape(geom))
                     for name, kind, width, geom in session.execute(
                         select(Road.name, Road.kind, Road.width_m, Road.geom).where(Road.geom.isnot(None)).order_by(Road.id))]
            areas = {a.id: a for a in session.scalars(select(AdminArea))}
            grids = []
            for code, community_id, geom in session.execute(select(UnitGrid.code, UnitGrid.community_id, UnitGrid.geom)
                                                            .where(UnitGrid.retired_on.is_(None))  # in use
                                                            .order_by(UnitGrid.id)):
                community = areas.get(community_id)
                street = areas.get(community.parent_id) if community and community.parent_id else None
                grids.append((code, community.name if community else "", street.name if street else "", to_shape(geom)))
            prefixes = tuple(sorted({a.name for a in areas.values() if a.level in ("district", "street")},
                                    key=len, reverse=True))
            token = _token(session)
        stored = _stored(store)
        by_name = {r.name: r for r in roads}
        inside = shapely.STRtree([g[3] for g in grids]) if grids else None
        for road in roads:
            road.numbers = _house_points(road.line, road.width)
            if inside is not None and road.numbers:  # a number across a boundary road is not ours
                keys = list(road.numbers)
                hits = set(inside.query(shapely.points(np.array([road.numbers[k] for k in keys])),
                                        predicate="intersects")[0].tolist())
                road.numbers = {k: road.numbers[k] for i, k in enumerate(keys) if i in hits}
        if stored.houses:  # stored house numbers replace the derived ones of their roads
            for road in roads:
                road.numbers = {}
            for name, number, x, y in stored.houses:
                if name in by_name:
                    by_name[name].numbers[number] = (x, y)
        if stored.landmarks:
            landmarks = [Landmark(n, k, x, y, a) for n, k, x, y, a in stored.landmarks]
        else:
            landmarks = demo_landmarks(roads, seed)
        _segments(roads, landmarks)
        return cls(roads, landmarks, grids, prefixes, token)

    def to_stored(self) -> StoredGazetteer:
        """This index's gazetteer as rows for ``app.store.gazetteer.write_gazetteer``."""
        segments = []
        for road in self.roads:
            for label, a, b in road.segments:
                part = shapely.ops.substring(road.line, a, b)
                names = label[len(road.name) + 1:-1].split("至")
                segments.append((road.name, label, names[0], names[-1], part.wkt))
        houses = [(r.name, n, round(x, 3), round(y, 3)) for r in self.roads for n, (x, y) in sorted(r.numbers.items())]
        marks = [(lm.name, lm.kind, lm.x, lm.y, lm.aliases) for lm in self.landmarks]
        return StoredGazetteer(tuple(segments), tuple(houses), tuple(marks))

    @classmethod
    def for_store(cls, store: Store) -> GeocodeIndex:
        """The store's index, built on first use and rebuilt when its roads changed."""
        key = store.display_url
        with cls._lock:
            cached = cls._cache.get(key)
            now = time.monotonic()
            if cached is not None and now - cached[1] < REFRESH_SECONDS:
                return cached[0]
            if cached is not None:
                with store.session() as session:
                    if _token(session) == cached[0].token:
                        cls._cache[key] = (cached[0], now)
                        return cached[0]
            index = cls.from_store(store)
            cls._cache[key] = (index, now)
            return index

    # --- lookups ---------------------------------------------------------------------------

    def area_at(self, x: float, y: float) -> tuple[str | None, str | None, str | None]:
        """(grid code, community, street) of the grid containing the point (nearest grid if none)."""
        if self._grid_tree is None:
            return None, None, None
        hits = self._grid_tree.query(Point(x, y), predicate="intersects")
        if not len(hits):
            return None, None, None  # outside the district
        code, community, street, _ = self._grids[int(hits.min())]
        return code, community, street

    def _candidate(self, label: str, x: float, y: float, score: float, kind: str, **extra: Any) -> Candidate:
        grid, community, street = self.area_at(x, y)
        return Candidate(label, x, y, round(max(0.0, min(100.0, score)), 1), kind,
                         grid=grid, community=community, street=street, **extra)

    def _strip_prefix(self, place: str) -> str:
        for name in self.prefixes:
            if place.startswith(name):
                return place[len(name):]
        return place

    def _matches(self, place: str) -> tuple[dict[int, float], dict[int, float]]:
        """Road and landmark indexes mentioned in ``place`` with their match scores."""
        roads: dict[int, float] = {}
        marks: dict[int, float] = {}

        def take(hits: list[tuple[str, int]], score: float) -> None:
            for what, i in hits:
                table = roads if what == "road" else marks
                table[i] = max(table.get(i, 0.0), score)

        runs: list[str] = []
        current = ""
        words = list(self._tokenizer.cut(place, HMM=False))
        for word in words:
            if word in self.vocab:
                take(self.vocab[word], 100.0 if len(word) > 1 else 70.0)
                if current:
                    runs.append(current)
                current = ""
            elif word in _STOP:
                if current:
                    runs.append(current)
                current = ""
            else:
                current += word
        if current:
            runs.append(current)
        for run in runs:
            if len(run) < 2:
                continue
            for name, score, _ in process.extract(run, self._choices, scorer=fuzz.ratio, limit=4,
                                                  score_cutoff=MIN_FUZZY):
                take(self.vocab[name], score * 0.95)
        # Rescore roads on the whole road part (landmarks and fillers left out): 竹辉辉巷 is
        # 竹辉巷 with a typo, not 竹辉路 because the stem 竹辉 matched.
        rest = "".join(w for w in words if w not in _STOP and not any(k == "landmark" for k, _ in self.vocab.get(w, ())))
        if rest:
            for name, score, _ in process.extract(rest, self._road_names, scorer=fuzz.ratio, limit=4,
                                                  score_cutoff=MIN_FUZZY):
                take(self.vocab[name], score * 0.95)
            for i in roads:
                road = self.roads[i]
                roads[i] = 100.0 if rest == road.name else 95.0 if rest == road.stem else fuzz.ratio(rest, road.name)
        return roads, marks

    def geocode(self, text: str, limit: int = 5) -> list[Candidate]:
        """Candidates for ``text``, best first (empty when nothing in it is a known place)."""
        parsed = parse_address(text)
        place = self._strip_prefix(parsed.place)
        roads, marks = self._matches(place)
        if not roads and not marks and parsed.prefix:  # the "prefix" may have been a place name
            roads, marks = self._matches(parsed.prefix + place)
        out: list[Candidate] = []
        for li, lscore in sorted(marks.items(), key=lambda kv: -kv[1])[:3]:
            out.extend(self._from_landmark(parsed, li, lscore, roads))
        for ri, rscore in sorted(roads.items(), key=lambda kv: -kv[1])[:4]:
            if marks and parsed.offset is not None:
                continue  # landmark + offset answers already cover the road
            out.append(self._from_road(parsed, ri, rscore, bool(marks)))
        out.sort(key=lambda c: -c.score)
        seen: set[tuple[int, int]] = set()
        unique = []
        for c in out:
            key = (round(c.x), round(c.y))
            if key not in seen:
                seen.add(key)
                unique.append(c)
        return unique[:limit]

    def _from_landmark(self, parsed: ParsedAddress, li: int, score: float, roads: dict[int, float]) -> list[Candidate]:
        lm = self.landmarks[li]
        offset = parsed.offset
        if offset is None:
            if roads:
                near = max(roads, key=lambda r: (roads[r], -self.roads[r].line.distance(Point(lm.x, lm.y))))
                if self.roads[near].line.distance(Point(lm.x, lm.y)) < 60.0:
                    score += 2.0  # landmark on the road named with it
            return [self._candidate(lm.name, lm.x, lm.y, score, "landmark", landmark=lm.name)]
        x, y = lm.x + offset[0], lm.y + offset[1]
        road_name = None
        if roads:  # walk along the named road: snap the offset point onto it
            best = min(roads, key=lambda r: (-roads[r], self.roads[r].line.distance(Point(x, y))))
            line = self.roads[best].line
            if line.distance(Point(lm.x, lm.y)) < 60.0:
                p = line.interpolate(line.project(Point(x, y)))
                x, y, road_name = p.x, p.y, self.roads[best].name
                score = min(score, roads[best]) + 1.0
        label = f"{road_name or ''}{lm.name}{parsed.direction}{parsed.distance_m:g}米"
        return [self._candidate(label, x, y, score - 1.0, "offset", road=road_name, landmark=lm.name)]

    def _from_road(self, parsed: ParsedAddress, ri: int, score: float, with_landmark: bool) -> Candidate:
        road = self.roads[ri]
        score += _KIND_BONUS.get(road.kind, 0.0)  # a bare stem (护龙) means the bigger road first
        if parsed.number is not None and road.numbers:
            n = parsed.number
            if n not in road.numbers:
                wanted = n
                same_side = [k for k in road.numbers if k % 2 == wanted % 2] or list(road.numbers)
                n = min(same_side, key=lambda k: (abs(k - wanted), k))
                score -= 5.0
            x, y = road.numbers[n]
            return self._candidate(f"{road.name}{n}号", x, y, score, "house", road=road.name, number=n)
        mid = road.line.interpolate(0.5, normalized=True)
        return self._candidate(road.name, mid.x, mid.y, score - (25.0 if with_landmark else 15.0), "road", road=road.name)

    def reverse(self, x: float, y: float) -> Candidate | None:
        """The nearest house number to the point, with its grid, community and street."""
        if self._house_tree is None:
            return None
        i = int(self._house_tree.nearest(Point(x, y)))
        ri, n = self._house_keys[i]
        road = self.roads[ri]
        hx, hy = road.numbers[n]
        distance = math.hypot(hx - x, hy - y)
        label = f"{road.name}{n}号"
        along = road.line.project(Point(hx, hy))
        segment = next((s for s, a, b in road.segments if a <= along <= b), None)
        landmark = None
        if self._lm_tree is not None:
            j = int(self._lm_tree.nearest(Point(x, y)))
            lm = self.landmarks[j]
            if math.hypot(lm.x - x, lm.y - y) < 150.0:
                landmark = lm.name
        grid, community, street = self.area_at(x, y)
        return Candidate(label if segment is None else f"{label}（{segment}）", x, y,
                         round(max(0.0, 100.0 - distance), 1), "house", road=road.name, number=n,
                         landmark=landmark, grid=grid, community=community, street=street)


def _tokenizer(words: list[str]) -> Any:
    """A jieba tokenizer whose dictionary is the gazetteer's names and the filler words only."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="gridhall-jieba-") as folder:  # its cache goes too
        path = os.path.join(folder, "gazetteer.txt")
        with open(path, "w", encoding="utf-8") as out:
            for word in (*words, *_STOP):
                out.write(f"{word} {1000 * len(word)}\n")
        tokenizer = jieba.Tokenizer(dictionary=path)
        tokenizer.tmp_dir = folder
        tokenizer.initialize()
    return tokenizer


def _stored(store: Store) -> StoredGazetteer:
    try:
        return read_gazetteer(store)
    except DBAPIError:  # a store older than migration 0021: derive everything from the roads
        return StoredGazetteer((), (), ())


def _token(session: Session) -> tuple[Any, ...]:
    token = tuple(session.execute(select(func.count(Road.id), func.max(Road.id))).one())
    try:
        with session.begin_nested():
            for table in (gaz.house_numbers, gaz.landmarks, gaz.landmark_aliases):
                token += tuple(session.execute(select(func.count(table.c.id), func.max(table.c.id))).one())
    except DBAPIError:
        pass
    return token


def geocode(store: Store, text: str, limit: int = 5) -> list[Candidate]:
    """Forward geocoding against ``store``'s gazetteer (see the module doc)."""
    return GeocodeIndex.for_store(store).geocode(text, limit)


def reverse_geocode(store: Store, x: float, y: float) -> Candidate | None:
    """Reverse geocoding: the nearest address to (x, y) in the store CRS."""
    return GeocodeIndex.for_store(store).reverse(x, y)
