"""Accounts are PostgreSQL logins on PostGIS: add, password, disable/enable, demo logins."""

from __future__ import annotations

import secrets

import psycopg2
import pytest

from app.domain.definitions import Role
from app.services.users import (
    LocalDirectory,
    PgDirectory,
    UserError,
    add_user,
    create_demo_logins,
    demo_username,
    directory_for,
    disable_user,
    enable_user,
    get_user,
    set_password,
)
from app.store import security
from app.store.models import Department

PASSWORD = "Zhiban#2026"


@pytest.fixture
def hall(store, pg_cluster):
    """A PostGIS store with one street office; the logins the test made are dropped afterwards."""
    with store.session() as s, s.begin():
        s.add(Department(code="JD01", name="东城街道办事处", kind="street_office"))
    before = _logins(pg_cluster)
    yield store
    for login in _logins(pg_cluster) - before:
        security.drop_login(store, security.username_of_login(login))


def on_postgis(test):
    """Run ``test`` on the PostGIS store only (the shared ``backend`` fixture, indirectly)."""
    return pytest.mark.postgis(pytest.mark.parametrize("backend", ["postgis"], indirect=True)(test))


def _logins(cluster) -> set[str]:
    with cluster.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'gh\\_%'")
        return {r[0] for r in cur.fetchall()}


def _group_of(cluster, username: str) -> set[str]:
    with cluster.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s", (security.login_name(username),))
        return {r[0] for r in cur.fetchall()}


def _connect(cluster, store, username: str, password: str):
    return psycopg2.connect(host="127.0.0.1", port=cluster.port, dbname=store.url.database,
                            user=security.login_name(username), password=password)


def _name() -> str:
    return f"u{secrets.token_hex(4)}"


def test_directory_for_each_backend(store, backend):
    expected = PgDirectory if backend == "postgis" else LocalDirectory
    assert type(directory_for(store)) is expected


@on_postgis
def test_user_add_creates_a_login_in_the_group_of_its_role(hall, pg_cluster):
    name, clerk = _name(), _name()
    add_user(hall, name, "department", display_name="周敏", password=PASSWORD, department_code="JD01")
    add_user(hall, clerk, Role.ACCEPTOR, display_name="王芳", password=PASSWORD)
    assert _group_of(pg_cluster, name) == {"gridhall_department"}
    assert _group_of(pg_cluster, clerk) == {"gridhall_acceptor"}
    conn = _connect(pg_cluster, hall, name, PASSWORD)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT session_user, gridhall_current_department(), d.code FROM departments d "
                        "WHERE d.id = gridhall_current_department()")
            assert cur.fetchone()[::2] == (f"gh_{name}", "JD01")
    finally:
        conn.close()


@on_postgis
def test_a_refused_add_leaves_neither_row_nor_login(hall, pg_cluster):
    name = _name()
    with pytest.raises(UserError, match="部门代码“NOPE”不存在"):
        add_user(hall, name, "department", display_name="x", password=PASSWORD, department_code="NOPE")
    assert not security.login_exists(hall, name)
    # The login name is taken on the server (e.g. by another database): the users row is undone too.
    security.create_login(hall, name, Role.ANALYST, PASSWORD)
    with pytest.raises(UserError, match="已存在"):
        add_user(hall, name, "analyst", display_name="x", password=PASSWORD)
    with pytest.raises(UserError, match="不存在"):
        get_user(hall, name)


@on_postgis
def test_password_disable_and_enable_follow_the_account(hall, pg_cluster):
    name = _name()
    add_user(hall, name, "dispatcher", display_name="张三", password=PASSWORD)
    set_password(hall, name, "Second#pass-2")
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(pg_cluster, hall, name, PASSWORD)
    _connect(pg_cluster, hall, name, "Second#pass-2").close()
    disable_user(hall, name)
    with pytest.raises(psycopg2.OperationalError, match="not permitted to log in"):
        _connect(pg_cluster, hall, name, "Second#pass-2")
    enable_user(hall, name)
    _connect(pg_cluster, hall, name, "Second#pass-2").close()


@on_postgis
def test_demo_logins_are_database_logins_and_idempotent(hall, pg_cluster):
    names = create_demo_logins(hall, "gridhall-demo")
    assert create_demo_logins(hall, "gridhall-demo") == names  # again: passwords reset, no error
    for role in (Role.DISPATCHER, Role.DEPARTMENT, Role.ADMIN):
        _connect(pg_cluster, hall, demo_username(role), "gridhall-demo").close()
        assert _group_of(pg_cluster, demo_username(role)) == {security.group_role(role)}


def _dba(cluster, store):
    """The DBA's own login as docs/deploy.md makes it: a member of gridhall_owner, nothing more."""
    name, password = f"dba_{secrets.token_hex(3)}", "Dba#pass-2026"
    with cluster.admin() as conn, conn.cursor() as cur:
        cur.execute(f'CREATE ROLE "{name}" LOGIN PASSWORD %s', (password,))
        cur.execute(f'GRANT {security.OWNER_ROLE} TO "{name}"')
    return name, store.url.set(username=name, password=password).render_as_string(hide_password=False)


def _drop(cluster, name):
    with cluster.admin() as conn, conn.cursor() as cur:
        cur.execute(f'DROP ROLE IF EXISTS "{name}"')


@on_postgis
def test_demo_logins_without_the_account_functions_write_only_the_users_rows(hall, pg_cluster):
    from app.store.engine import open_store

    dba, url = _dba(pg_cluster, hall)  # owns the schema, but no EXECUTE on gridhall_accounts
    as_dba = open_store(url)
    try:
        names = create_demo_logins(as_dba, "gridhall-demo")
    finally:
        as_dba.dispose()
        _drop(pg_cluster, dba)
    assert get_user(hall, names[0]).active
    assert not any(security.login_exists(hall, n) for n in names)


@on_postgis
def test_an_admin_login_manages_logins_and_the_dba_gets_a_clear_refusal(hall, pg_cluster):
    admin, clerk = _name(), _name()
    add_user(hall, admin, "admin", display_name="管理员", password=PASSWORD)
    add_user(hall, clerk, "acceptor", display_name="王芳", password=PASSWORD)
    from app.store.engine import open_store

    dba, url = _dba(pg_cluster, hall)
    as_dba = open_store(url)
    try:
        with pytest.raises(UserError, match="无权管理数据库登录"):
            set_password(as_dba, clerk, "Second#pass-2")
        with pytest.raises(UserError, match="无权管理数据库登录"):
            add_user(as_dba, _name(), "analyst", display_name="x", password=PASSWORD)
    finally:
        as_dba.dispose()
        _drop(pg_cluster, dba)
    _connect(pg_cluster, hall, clerk, PASSWORD).close()  # nothing changed: the old password still works
    # the administrator's own login does it, through the database's account functions
    as_admin = open_store(hall.url.set(username=security.login_name(admin), password=PASSWORD)
                          .render_as_string(hide_password=False))
    try:
        set_password(as_admin, clerk, "Second#pass-2")
        other = _name()
        add_user(as_admin, other, "analyst", display_name="x", password=PASSWORD)
    finally:
        as_admin.dispose()
    _connect(pg_cluster, hall, clerk, "Second#pass-2").close()
    _connect(pg_cluster, hall, other, PASSWORD).close()


@on_postgis
def test_a_non_admin_login_changes_its_own_password(hall, pg_cluster):
    from datetime import datetime

    from app.domain.clock import FixedClock
    from app.services.hall_login import hall_login
    from app.services.users import change_own_password

    name = _name()
    add_user(hall, name, "acceptor", display_name="王芳", password=PASSWORD)
    url = hall.url.render_as_string(hide_password=False)
    own, actor = hall_login(url, name, PASSWORD, clock=FixedClock(datetime(2026, 11, 21, 9, 0)))
    try:
        with pytest.raises(UserError, match="原密码不正确"):
            change_own_password(own, actor, "Wrong#pass-1", "Second#pass-2")
        with pytest.raises(UserError, match="不能与原密码相同"):
            change_own_password(own, actor, PASSWORD, PASSWORD)
        _connect(pg_cluster, hall, name, PASSWORD).close()  # refusals changed nothing
        change_own_password(own, actor, PASSWORD, "Second#pass-2")
    finally:
        own.dispose()
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        _connect(pg_cluster, hall, name, PASSWORD)
    _connect(pg_cluster, hall, name, "Second#pass-2").close()
