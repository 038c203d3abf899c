"""Errors of the demo generator; each message says what is wrong and what to do (zh_CN)."""

from __future__ import annotations

from app.jobs.feedback import Cancelled
from app.store.errors import StoreError


class DemoError(StoreError):
    """The demo cannot be generated; nothing was written."""


class DemoCancelled(DemoError, Cancelled):
    """The user cancelled; nothing was written (also an app.jobs.Cancelled)."""


CANCELLED = "已取消，未写入任何数据"
