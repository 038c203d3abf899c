"""The built-in docks, declared as DockSpecs and registered like any plugin's docks."""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtWidgets import QWidget

from app.i18n import Catalogue
from app.ui.detail_dock import CaseDetailDock
from app.ui.docks import DockRegistry, DockSpec
from app.ui.ports import CaseSource
from app.ui.queue_dock import CaseQueueDock
from app.ui.tasks import TaskRunner
from app.views.handles import Registration
from app.views.queue_state import QueueState

QUEUE_DOCK = "gridhall.queue"
DETAIL_DOCK = "gridhall.detail"
LAYERS_DOCK = "gridhall.layers"
ATTRIBUTES_DOCK = "gridhall.attributes"  # registered by the composition root (it follows the map)


def builtin_docks(
    state: QueueState,
    source: CaseSource,
    runner: TaskRunner,
    catalogue: Catalogue,
    layer_tree_factory: Callable[[], QWidget] | None = None,
) -> list[DockSpec]:
    """Specs of the queue, detail and (when the map provides one) layer-tree docks."""
    specs = [
        DockSpec(QUEUE_DOCK, "案卷队列", "bottom", lambda: CaseQueueDock(state, catalogue), ("cases",)),
        DockSpec(DETAIL_DOCK, "案卷详情", "right",
                 lambda: CaseDetailDock(state, source, runner, catalogue), ("cases",)),
    ]
    if layer_tree_factory is not None:
        specs.append(DockSpec(LAYERS_DOCK, "图层", "left", layer_tree_factory, ("map",)))
    return specs


def register_builtin_docks(registry: DockRegistry, specs: list[DockSpec]) -> list[Registration]:
    """Register ``specs`` in order; the same path plugins use."""
    return [registry.register(spec) for spec in specs]
