"""The collector and a long-running GUI: what the start-up made is never scanned again.

Python's full (generation 2) collection walks every tracked object. After start-up the desk
holds a large heap that lives as long as the window: imported modules, QGIS layers and their
wrappers, SQLAlchemy's metadata, the queue. Walking it took up to 150 ms on the GUI thread
(measured in the desk benchmark at 4K: the longest stall of the burst and bulk phases was a
full collection triggered by their allocations). ``gc.freeze()`` moves what exists now into the
permanent generation; later collections only walk what was made since.
"""

from __future__ import annotations

import gc


def settle_heap() -> int:
    """Freeze the objects the start-up made (call once the window is built); returns how many
    objects the collector will not walk again. Garbage made before the call is kept, not freed:
    call it after the start-up, not in the middle of work that makes and drops a lot."""
    gc.freeze()
    return gc.get_freeze_count()


__all__ = ["settle_heap"]
