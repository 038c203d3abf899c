"""Spatial bookmarks: named extents saved per user in QSettings (``bookmarks/<user>/<name>``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from qgis.core import QgsRectangle
from qgis.PyQt.QtCore import QSettings

from app.domain.messages import Msg, MsgError

MAX_NAME = 60
MAX_BOOKMARKS = 200


@dataclass(frozen=True)
class Bookmark:
    name: str
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @property
    def rect(self) -> QgsRectangle:
        return QgsRectangle(self.xmin, self.ymin, self.xmax, self.ymax)


class Bookmarks:
    """The bookmarks of one user (``user`` None: the shared demo/read-only desk)."""

    def __init__(self, settings: QSettings, user: str | None):
        self.settings = settings
        self.key = f"map_bookmarks/{(user or '_anonymous').replace('/', '_')}"

    def _load(self) -> list[Bookmark]:
        raw = self.settings.value(self.key, "")
        try:
            items = json.loads(raw) if raw else []
            return [Bookmark(str(i["name"]), float(i["xmin"]), float(i["ymin"]), float(i["xmax"]),
                             float(i["ymax"])) for i in items]
        except (ValueError, TypeError, KeyError):
            return []  # a damaged entry is dropped, never a crash

    def _save(self, items: list[Bookmark]) -> None:
        self.settings.setValue(self.key, json.dumps([b.__dict__ for b in items], ensure_ascii=False))
        self.settings.sync()

    def all(self) -> list[Bookmark]:
        return self._load()

    def names(self) -> list[str]:
        return [b.name for b in self._load()]

    def get(self, name: str) -> Bookmark | None:
        return next((b for b in self._load() if b.name == name), None)

    def add(self, name: str, rect: QgsRectangle) -> Bookmark:
        """Save ``rect`` as ``name`` (replacing a bookmark of that name)."""
        name = " ".join((name or "").split())
        if not name:
            raise MsgError(Msg("书签名称不能为空"))
        if len(name) > MAX_NAME:
            raise MsgError(Msg("书签名称过长（最多 {n} 个字）", n=MAX_NAME))
        if rect.isEmpty():
            raise MsgError(Msg("地图范围为空，无法保存书签"))
        items = [b for b in self._load() if b.name != name]
        if len(items) >= MAX_BOOKMARKS:
            raise MsgError(Msg("书签已达上限（{n} 个），请先删除一些", n=MAX_BOOKMARKS))
        bookmark = Bookmark(name, rect.xMinimum(), rect.yMinimum(), rect.xMaximum(), rect.yMaximum())
        items.append(bookmark)
        self._save(items)
        return bookmark

    def remove(self, name: str) -> bool:
        items = self._load()
        kept = [b for b in items if b.name != name]
        if len(kept) == len(items):
            return False
        self._save(kept)
        return True
