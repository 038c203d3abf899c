"""A real tiny store and demo logins (the desk fixtures of the form tests) and a task runner, for the
plugin tests that run a plugin's command in the GUI."""

import pytest
from ui.forms.world import desk, desk_store, desk_template, login_as, queue  # noqa: F401


@pytest.fixture
def runner(qtbot):
    """A TaskRunner whose workers are finished before the test ends."""
    from app.ui.tasks import TaskRunner

    task_runner = TaskRunner()
    yield task_runner
    assert task_runner.wait(), "background tasks still running at teardown"
