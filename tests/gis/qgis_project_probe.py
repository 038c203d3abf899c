"""Run by tests/gis/test_qgis_project.py in a separate Python process, as an analyst's QGIS would:
open a .qgz and print, per layer, whether it is valid, its feature count, the provider, whether its
source names a password, whether labels are on and the case layer's light values (JSON on stdout)."""

from __future__ import annotations

import json
import os
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QGIS_CUSTOM_CONFIG_PATH"] = tempfile.mkdtemp(prefix="probe-qgis-")

from qgis.core import QgsApplication, QgsProject  # noqa: E402

QgsApplication.setPrefixPath("/usr", True)
app = QgsApplication([b"probe"], False, os.environ["QGIS_CUSTOM_CONFIG_PATH"])
app.initQgis()
project = QgsProject.instance()
ok = project.read(sys.argv[1])
out = {"read": bool(ok), "crs": project.crs().authid(), "layers": []}
for node in project.layerTreeRoot().findLayers():
    layer = node.layer()
    entry = {"name": layer.name(), "valid": layer.isValid(), "provider": layer.providerType(),
             "password": "password=" in layer.source(), "count": int(layer.featureCount()) if layer.isValid() else -1,
             "labels": bool(layer.labelsEnabled()), "renderer": layer.renderer().type() if layer.renderer() else None}
    if layer.isValid() and layer.fields().indexOf("light") >= 0:
        entry["lights"] = sorted({str(f["light"]) for f in layer.getFeatures()})
    out["layers"].append(entry)
print(json.dumps(out, ensure_ascii=False))
project.clear()
app.exitQgis()
