"""Errors of the case services; ``str(err)`` is a precise Chinese message for the operator.

Each error carries its message as data (``err.msg``, an ``app.domain.messages.Msg``): the
edges show it in the user's language with ``Catalogue.error(err)``.
"""

from __future__ import annotations

from app.domain.messages import Msg, MsgError


class ServiceError(MsgError):
    """Base class: the operation was refused and nothing was written."""


class PermissionDenied(ServiceError):
    """The acting role (or department) may not do this."""


class InvalidTransition(ServiceError):
    """The case's state does not allow this action (wraps the workflow's TransitionError)."""


class ConflictError(ServiceError):
    """The case changed since the caller read it (stale ``expected_version``)."""

    def __init__(self, message: str | Msg, *, case_number: str = "", current_version: int | None = None,
                 by: str | None = None, action: str | None = None):
        super().__init__(message)
        self.case_number = case_number
        self.current_version = current_version
        self.by = by  # username of whoever wrote the newest event
        self.action = action  # the newest event's action value


class ValidationError(ServiceError):
    """An input is wrong; ``field`` names it (description, location, photo, department, ...)."""

    def __init__(self, field: str, message: str | Msg):
        super().__init__(message)
        self.field = field


class NotFound(ServiceError):
    """A case, department, component or user does not exist."""


__all__ = ["ConflictError", "InvalidTransition", "Msg", "NotFound", "PermissionDenied", "ServiceError",
           "ValidationError"]
