"""QGIS work in jobs (a QgsFeedback tied to the job's Feedback) and the jobs of the window."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime

import pytest

from app.jobs import Cancelled, Feedback, JobListener, JobRunner, JobState

pytestmark = pytest.mark.qgis
T0 = datetime(2026, 11, 20, 10, 30)


def test_progress_and_cancel_go_both_ways(qgis_app):
    from app.gis.jobs import qgs_feedback

    fb = Feedback()
    seen = []
    fb.subscribe(lambda f, m: seen.append(f))
    with pytest.raises(Cancelled), qgs_feedback(fb, 0.2, 0.6) as qf:
        qf.setProgress(50)
        assert fb.fraction == pytest.approx(0.4)
        fb.cancel()  # the job's cancel button
        assert qf.isCanceled()
    assert seen == [pytest.approx(0.4)]

    fb = Feedback()
    with pytest.raises(Cancelled), qgs_feedback(fb) as qf:
        qf.cancel()  # QGIS's own cancel
        assert fb.cancelled
    with pytest.raises(Cancelled), qgs_feedback(fb) as qf:  # a job already cancelled
        assert qf.isCanceled()

    fb = Feedback()
    with qgs_feedback(fb) as qf:
        qf.setProgress(100)
    assert fb.fraction == 1.0 and not fb.cancelled
    fb.cancel()  # after the block: the QgsFeedback is no longer followed
    assert not qf.isCanceled()


def _points_layer(n: int):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    # The field in the URI: QgsField(name, QVariant.Type) is deprecated from QGIS 3.38 on, and its
    # QMetaType.Type replacement does not exist in 3.22.
    layer = QgsVectorLayer("Point?crs=EPSG:4549&field=n:integer", "points", "memory")
    features = []
    for i in range(n):
        f = QgsFeature(layer.fields())
        f.setAttributes([i])
        f.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(512000 + i, 3466000 + i)))
        features.append(f)
    layer.dataProvider().addFeatures(features)
    return layer


def export_job(layer, path):
    """The work: write ``layer`` to a GeoPackage with QGIS's writer; a cancel removes the file."""
    from qgis.core import QgsCoordinateTransformContext, QgsVectorFileWriter

    from app.gis.jobs import qgs_feedback

    def work(fb):
        options = QgsVectorFileWriter.SaveVectorOptions()
        options.driverName = "GPKG"
        try:
            with qgs_feedback(fb) as qf:
                options.feedback = qf
                error, message, _, _ = QgsVectorFileWriter.writeAsVectorFormatV3(
                    layer, str(path), QgsCoordinateTransformContext(), options)
            if error != QgsVectorFileWriter.NoError:
                raise RuntimeError(message)
        except Cancelled:
            path.unlink(missing_ok=True)  # the work's duty: nothing half-written stays
            raise
        return path
    return work


def test_a_qgis_export_job_reports_progress_and_cancels(qgis_app, tmp_path):
    layer = _points_layer(20_000)
    runner = JobRunner()
    fractions = []
    runner.subscribe(JobListener(progress=lambda job, f, m: fractions.append(f)))
    try:
        done = runner.run("导出", export_job(layer, tmp_path / "all.gpkg"))
        assert done.wait(60) and done.outcome().exists()
        assert fractions and fractions[-1] == pytest.approx(1.0) and fractions == sorted(fractions)

        runner.subscribe(JobListener(progress=lambda job, f, m: job.cancel() if f >= 0.3 else None))
        cancelled = runner.run("导出", export_job(layer, tmp_path / "part.gpkg"))
        assert cancelled.wait(60)
        assert cancelled.state is JobState.CANCELLED and not (tmp_path / "part.gpkg").exists()
    finally:
        runner.shutdown()


# -- the window's jobs -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_city(tmp_path_factory):
    from data.democity.generate import generate

    path = tmp_path_factory.mktemp("jobs") / "tiny.sqlite"
    generate(f"sqlite:///{path}", seed=3, scale="tiny", now=T0)
    return path


@pytest.fixture
def hall(qgis_app, tiny_city, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    settings = QSettings(str(tmp_path / "hall.ini"), QSettings.IniFormat)
    built = build_hall(open_store(path), clock=FixedClock(T0), settings=settings, plugins=False, live=False)
    yield built
    built.teardown()


def test_file_menu_verifies_the_audit_chain_as_a_job(qtbot, hall):
    window = hall.window
    registry = window.action_registry
    file_menu = [a.objectName() for a in registry.menu("file").actions()]
    assert file_menu.index("gridhall.audit.verify") == file_menu.index("gridhall.app.quit") - 1
    assert window.statusBar().findChild(type(hall.job_status), "jobStatus") is hall.job_status
    from app.jobs.runner import JobListener

    # every report the work makes (on the worker thread; the strip coalesces bursts, and on a
    # fast machine a one-batch check may finish before the strip ever draws its bar)
    fractions: list[float] = []
    unsubscribe = hall.jobs.subscribe(JobListener(progress=lambda _job, fraction, _text: fractions.append(fraction)))
    registry.action("gridhall.audit.verify").trigger()
    [job] = hall.jobs.jobs or [None]  # may already be done on a fast machine
    qtbot.waitUntil(lambda: window.statusBar().currentMessage().startswith("审计链完整"), timeout=30_000)
    assert job is None or (job.state is JobState.DONE and job.fraction == 1.0)
    assert hall.job_status.rows() == {} and hall.job_status.isHidden()
    unsubscribe()
    # verify_audit reports a fraction per batch of events (a determinate bar, not a busy one), ending at 1
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions), fractions


def test_teardown_cancels_running_jobs_and_waits(qtbot, qgis_app, tiny_city, tmp_path):
    from qgis.PyQt.QtCore import QSettings

    from app.bootstrap import build_hall
    from app.domain.clock import FixedClock
    from app.store.engine import open_store

    path = tmp_path / "hall.sqlite"
    shutil.copyfile(tiny_city, path)
    built = build_hall(open_store(path), clock=FixedClock(T0), plugins=False, live=False,
                       settings=QSettings(str(tmp_path / "hall.ini"), QSettings.IniFormat))
    started = threading.Event()

    def until_cancelled(fb):
        started.set()
        while True:
            fb.progress(0.5, "等待取消")
            fb.check()
            threading.Event().wait(0.01)

    job = built.jobs.run("长任务", until_cancelled)
    assert started.wait(10)
    qtbot.waitUntil(lambda: built.job_status.row(job) is not None)
    built.teardown()
    assert job.finished and job.state is JobState.CANCELLED
    with pytest.raises(RuntimeError, match="shut down"):
        built.jobs.run("太晚", lambda fb: None)
