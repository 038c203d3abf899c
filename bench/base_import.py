"""Base-data import/export: `python -m bench.base_import [--db data/demo/district.sqlite] [--n 250000]`.

On copies of ``--db`` in a temporary folder (the demo file is never touched): writes a GeoPackage of
``--n`` components in GB/T 47678.5 fields, one inside each of the store's grids in turn, then records

  import.components_250k_s              gridhall's import (read, map, validate, write; one transaction)
  import.components_250k_ratio_ogr2ogr  that time / a raw ``ogr2ogr -append`` of the same file into the
                                        same database (no validation, no mapping)
  export.components_250k_s              exporting every component of the store to a GeoPackage

(with ``--n`` other than 250000 the names say so: ``components_<n/1000>k``).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.figures import record


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _source(store, path: Path, n: int) -> None:
    from osgeo import ogr, osr
    from sqlalchemy import func, select

    from app.domain.definitions import STORE_SRID
    from app.domain.field_names import EXPORT_NAMES
    from app.store.models import AdminArea, Category, UnitGrid

    ogr.UseExceptions()
    with store.session() as s:
        grids = [(c, x, y) for c, x, y in s.execute(select(
            UnitGrid.code, func.ST_X(func.ST_PointOnSurface(UnitGrid.geom)),
            func.ST_Y(func.ST_PointOnSurface(UnitGrid.geom))))]
        admin = s.scalar(select(AdminArea.code).where(AdminArea.level == "district"))
        cats = [c for c in s.scalars(select(Category.code).where(Category.kind == "component"))]
    names = EXPORT_NAMES["components"]
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(STORE_SRID)
    lyr = ds.CreateLayer("components", srs, ogr.wkbPoint)
    keys = ("code", "name", "grid_code", "status", "initial_date")
    for k in keys:
        lyr.CreateField(ogr.FieldDefn(names[k], ogr.OFTString))
    lyr.StartTransaction()
    for i in range(n):
        code, x, y = grids[i % len(grids)]
        f = ogr.Feature(lyr.GetLayerDefn())
        cat = cats[i % len(cats)]
        for j, v in enumerate((f"{admin}{cat}{900000 - i // len(cats):06d}", "部件", code, "完好", "20200101")):
            f.SetField(j, v)
        f.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT({x} {y})"))
        lyr.CreateFeature(f)
    lyr.CommitTransaction()
    ds = None


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.base_import")
    p.add_argument("--db", default="data/demo/district.sqlite")
    p.add_argument("--n", type=int, default=250_000)
    args = p.parse_args(argv)
    from app.services import base_import as bi
    from app.store.engine import open_store

    tag = f"components_{args.n // 1000}k"
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        tmp = Path(tmp)
        ours, raw = tmp / "ours.sqlite", tmp / "raw.sqlite"
        shutil.copyfile(args.db, ours)
        shutil.copyfile(args.db, raw)
        from app.store.commands import upgrade_db

        upgrade_db(ours).dispose()  # the demo file may predate the newest migration; its copy is upgraded
        store = open_store(ours)
        src = tmp / "src.gpkg"
        _source(store, src, args.n)
        t0, c0 = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
        report = bi.import_file(store, src, "components", on_error="skip")
        ours_s, ours_cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_SELF) - c0
        print(f"import: {report.written} written, {len(report.bad)} rejected in {ours_s:.1f} s "
              f"({report.written / ours_s:,.0f} rows/s)")
        t0, c0 = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
        subprocess.run(["ogr2ogr", "-f", "SQLite", "-update", "-append", "-nln", "components_raw",
                        "-t_srs", "EPSG:4549", "-gt", "65536", str(raw), str(src)], check=True)
        raw_s, raw_cpu = time.perf_counter() - t0, _cpu(resource.RUSAGE_CHILDREN) - c0
        print(f"ogr2ogr: {raw_s:.1f} s; ratio {ours_s / raw_s:.2f}")
        # On a shared, loaded machine the wall times wander; the processor time of each side says more.
        print(f"processor time: ours {ours_cpu:.1f} s, ogr2ogr {raw_cpu:.1f} s; ratio {ours_cpu / raw_cpu:.2f} "
              f"(load average {os.getloadavg()[0]:.1f})")
        t0 = time.perf_counter()
        n = bi.export(store, "components", tmp / "out.gpkg")
        export_s = time.perf_counter() - t0
        print(f"export: {n} components in {export_s:.1f} s")
        store.dispose()
    record(f"import.{tag}_s", round(ours_s, 2), "s")
    record(f"import.{tag}_ratio_ogr2ogr", round(ours_s / raw_s, 2), "ratio")
    record(f"export.{tag}_s", round(export_s, 2), "s")


if __name__ == "__main__":
    main()
