"""Who is acting: the logged-in person as the services see them (a plain value object)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.definitions import Role
from app.domain.messages import Msg


@dataclass(frozen=True)
class Actor:
    """A person (or the system) acting on cases with exactly one role.

    ``department_id`` binds a 专业部门操作员 to the department whose cases they may handle;
    ``user_id`` is the ``users`` row (None for the system or a script without an account).
    """

    username: str
    display_name: str
    role: Role
    department_id: int | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.role, Role):  # accept "dispatcher" or "派遣员" from callers
            object.__setattr__(self, "role", Role.parse(str(self.role)))
        if not (self.username or "").strip():
            raise ValueError("Actor needs a username")

    @property
    def label(self) -> Msg:
        """The name shown in messages, e.g. 张三（派遣员） (a ``Msg``: the role follows the language)."""
        return Msg("{name}（{role}）", name=self.display_name or self.username, role=self.role)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The system itself (imports, demo generation, scheduled jobs)."""
        return cls(username=name, display_name="系统", role=Role.SYSTEM)


__all__ = ["Actor"]
