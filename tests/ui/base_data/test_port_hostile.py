"""The import dialog's port (app/ui/base_data/dialogs.py BaseDataPort): a write cancelled from the job's
progress leaves neither rows nor a reject file behind (the reject file is written first)."""

from __future__ import annotations

import pytest
from services.test_base_import import P6, component, count, point, write_layer
from services.world import build_world

from app.store.models import Component


@pytest.mark.parametrize("backend", ["spatialite"])
def test_a_cancelled_write_leaves_no_reject_file(store, tmp_path):
    from app.ui.base_data.dialogs import BaseDataPort

    world = build_world(store)
    port = BaseDataPort(store, world.actors["admin"])
    path = write_layer(tmp_path / "c.gpkg", [component("32059901002000002"), component("32059901002000003", GLBJZT="坏了")],
                       [point(P6)] * 2)
    report = port.validate(str(path), "components", {}, lambda: None)

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        port.write(report, "skip", cancel)
    assert count(store, Component) == 1 and not (tmp_path / "c_rejects.gpkg").exists()
