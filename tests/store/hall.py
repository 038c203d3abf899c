"""A hall on PostGIS set up exactly as docs/deploy.md sections 1–2 say, for the attack tests.

1. A superuser runs ``gridhall db init`` once (the shared ``store`` fixture: the tests' cluster
   superuser ``gridhall`` plays ``postgres``): schema, groups, the NOLOGIN owner
   ``gridhall_owner`` and the account functions of ``gridhall_usermgr``.
2. The DBA's own login (``dba`` here) is made a member of ``gridhall_owner``, which then owns
   the database too.
3. The superuser adds the first administrator (``gridhall user add … --role admin``).
4. That administrator's own login adds everybody else (``gridhall user add …`` as gh_admin):
   one login per role, a department login per department used (``dept_a`` JD001, ``dept_b`` HW;
   ``Hall.add_login`` adds more the same way).

Every login has the same random password (``Hall.password``). Import ``Hall``, ``hall``,
``refused``, ``run``, ``step`` (and ``backend``, which pins the module to PostGIS) from here.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

import psycopg2
import pytest
from services.seed import seed_case
from services.world import T0, build_world
from sqlalchemy import select

from app.domain.definitions import CaseState, Role
from app.services.actors import Actor
from app.services.users import add_user
from app.store import security
from app.store.engine import open_store
from app.store.models import User

OPERATIONAL = ["acceptor", "shift_leader", "dispatcher", "supervisor", "dept_a", "leader"]
EVERYONE = [*OPERATIONAL, "dept_b", "analyst", "admin"]
ROLE_OF = {"acceptor": Role.ACCEPTOR, "shift_leader": Role.SHIFT_LEADER, "dispatcher": Role.DISPATCHER,
           "supervisor": Role.SUPERVISOR, "dept_a": Role.DEPARTMENT, "dept_b": Role.DEPARTMENT,
           "leader": Role.LEADER, "analyst": Role.ANALYST, "admin": Role.ADMIN}
DEPARTMENT_OF = {"dept_a": "JD001", "dept_b": "HW"}
#: The DBA's login: a member of gridhall_owner (exempt, owns the schema), no CREATEROLE.
DBA = "dba"


@pytest.fixture
def backend() -> str:
    return "postgis"


@dataclass
class Hall:
    """A PostGIS store with the tiny district, one login per role and cases in chosen states.

    ``store`` is the superuser's (the set-up and inspection); ``connect(who)`` and
    ``store_as(who)`` are ``who``'s own login, ``who`` one of EVERYONE, ``"dba"`` or a name
    given to ``add_login``.
    """

    store: object
    cluster: object
    world: object
    password: str
    names: dict[str, str]
    cases: dict[str, int] = field(default_factory=dict)
    _opened: list = field(default_factory=list)

    @property
    def db(self) -> str:
        return self.store.url.database

    def login(self, who: str) -> str:
        """The PostgreSQL login of ``who`` (``gh_<username>``; the DBA's own name)."""
        return self.names[who] if who == DBA else security.login_name(self.names[who])

    def connect(self, who: str):
        """A raw psycopg2 connection as ``who``'s login (a client bypassing the application)."""
        return psycopg2.connect(host="127.0.0.1", port=self.cluster.port, dbname=self.db,
                                user=self.login(who), password=self.password)

    def url_as(self, who: str) -> str:
        """The store's URL with ``who``'s login and password."""
        return self.store.url.set(username=self.login(who), password=self.password).render_as_string(
            hide_password=False)

    def store_as(self, who: str):
        """The application's store opened with ``who``'s login."""
        opened = open_store(self.url_as(who))
        self._opened.append(opened)
        return opened

    def actor(self, who: str) -> Actor:
        with self.store.session() as s:
            u = s.scalars(select(User).where(User.username == self.names[who])).one()
            return Actor(u.username, u.display_name, Role(u.role), u.department_id, u.id)

    def add_login(self, who: str, role: Role, department: str | None = None) -> str:
        """A new user and login, added by the hall's administrator as docs/deploy.md says."""
        name = f"{who.replace('_', '')[:8]}{secrets.token_hex(3)}"
        add_user(self.store_as("admin"), name, role, display_name=who, password=self.password,
                 department_code=department)
        self.names[who] = name
        return name


def _add_dba(cluster, db: str, name: str, password: str) -> None:
    with cluster.admin() as conn, conn.cursor() as cur:  # docs/deploy.md, section 1
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', (password,))
        cur.execute(f'GRANT {security.OWNER_ROLE} TO "{name}"')
        cur.execute(f'ALTER DATABASE "{db}" OWNER TO {security.OWNER_ROLE}')


@pytest.fixture
def hall(store, pg_cluster):
    world = build_world(store)
    token = secrets.token_hex(3)
    names = {who: f"{who.replace('_', '')[:8]}{token}" for who in EVERYONE}
    names[DBA] = f"dba_{token}"
    password = secrets.token_urlsafe(12)
    h = Hall(store, pg_cluster, world, password, names)
    _add_dba(pg_cluster, h.db, names[DBA], password)
    try:
        # the first administrator: by the superuser (docs/deploy.md, section 2)
        add_user(store, names["admin"], Role.ADMIN, display_name="admin", password=password)
        admin = h.store_as("admin")  # then the administrator's own login adds everybody else
        for who in EVERYONE:
            if who != "admin":
                add_user(admin, names[who], ROLE_OF[who], display_name=who, password=password,
                         department_code=DEPARTMENT_OF.get(who))
        h.cases["filed"] = seed_case(store, world, CaseState.FILED, at=T0, department=None)[0]
        h.cases["checked"] = seed_case(store, world, CaseState.CHECKED, at=T0)[0]
        h.cases["handling_a"] = seed_case(store, world, CaseState.HANDLING, at=T0, department="JD001")[0]
        h.cases["handling_b"] = seed_case(store, world, CaseState.HANDLING, at=T0, department="HW")[0]
        h.cases["extension"] = seed_case(store, world, CaseState.EXTENSION_REQUESTED, at=T0, department="JD001")[0]
        h.cases["return"] = seed_case(store, world, CaseState.RETURN_REQUESTED, at=T0, department=None)[0]
        yield h
    finally:
        for opened in h._opened:
            opened.dispose()
        for who, name in h.names.items():  # logins are cluster-wide: leave none behind
            if who != DBA:
                security.drop_login(store, name)
        with pg_cluster.admin() as conn, conn.cursor() as cur:
            cur.execute(f'DROP ROLE IF EXISTS "{names[DBA]}"')


def world_logins(store, world, password: str) -> None:
    """A login for every user of the tiny district (``world``), added by the superuser."""
    for who, actor in world.actors.items():
        security.create_login(store, who, actor.role, password, department_id=actor.department_id)


def refused(hall: Hall, who: str, sql: str, args=(), match: str | None = None) -> str:
    """Run ``sql`` as ``who`` and commit; assert the database refuses it; return the message."""
    conn = hall.connect(who)
    try:
        with pytest.raises(psycopg2.Error) as info:
            with conn.cursor() as cur:
                cur.execute(sql, args)
            conn.commit()
        message = str(info.value)
        if match is not None:
            assert match in message, message
        return message
    finally:
        conn.close()


def run(hall: Hall, who: str, sql: str, args=()):
    """Run ``sql`` as ``who`` and commit; return the rows (or the row count)."""
    conn = hall.connect(who)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, args)
            result = cur.fetchall() if cur.description else cur.rowcount
        conn.commit()
        return result
    finally:
        conn.close()


def event_sql(columns: dict) -> tuple[str, tuple]:
    names = ", ".join(columns)
    marks = ", ".join("%s" for _ in columns)
    return f"INSERT INTO case_events ({names}) VALUES ({marks})", tuple(columns.values())


def step(hall: Hall, who: str, case: int, action: str, from_state: str, to_state: str, **extra) -> dict:
    """The columns of a well-formed event by ``who`` (chain fields left to the database)."""
    u = hall.actor(who)
    return {"case_id": case, "action": action, "from_state": from_state, "to_state": to_state,
            "actor": u.username, "role": u.role.value, "department_id": u.department_id,
            "at": T0 + timedelta(hours=1), **extra}


__all__ = ["DBA", "EVERYONE", "OPERATIONAL", "ROLE_OF", "Hall", "backend", "event_sql", "hall", "refused", "run",
           "step", "world_logins"]
