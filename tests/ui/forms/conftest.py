"""Desk fixtures (a real tiny store, demo logins) shared by the form and work-dock tests."""

from ui.forms.world import desk, desk_store, desk_template, login_as, queue  # noqa: F401
