"""Account administration on both backends: validation, list, disable/unlock, demo logins."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services.actors import Actor
from app.services.auth import PasswordPolicyError, login
from app.services.users import (
    LOGIN_ROLES,
    UserError,
    add_user,
    create_demo_logins,
    demo_username,
    disable_user,
    get_user,
    list_users,
    set_password,
)
from app.store.models import Department, User

PASSWORD = "Zhiban#2026"
DEMO_PASSWORD = "gridhall-demo"
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0))


@pytest.fixture
def depts(store):
    """A store with a city bureau, a street office and a disabled department."""
    with store.session() as s, s.begin():
        s.add_all([Department(code="SZJ", name="市政局", kind="bureau"),
                   Department(code="JD01", name="东城街道办事处", kind="street_office"),
                   Department(code="OLD", name="已撤销单位", kind="company", active=False)])
    return store


def _add(store, name="wang", role="dispatcher", **kw):
    kw.setdefault("display_name", "王芳")
    kw.setdefault("password", PASSWORD)
    return add_user(store, name, role, **kw)


def test_add_user_accepts_value_name_or_chinese_label(store):
    assert _add(store, "a1", "dispatcher").role is Role.DISPATCHER
    assert _add(store, "a2", "SHIFT_LEADER").role is Role.SHIFT_LEADER
    assert _add(store, "a3", "监督员").role is Role.SUPERVISOR
    info = get_user(store, "a3")
    assert (info.display_name, info.active, info.locked, info.has_password) == ("王芳", True, False, True)


@pytest.mark.parametrize("role", ["boss", "system"])
def test_bad_role_is_refused_with_the_choices(store, role):
    with pytest.raises(UserError) as err:
        _add(store, role=role)
    assert role in str(err.value)
    if role == "boss":
        assert "dispatcher（派遣员）" in str(err.value) and "system" not in str(err.value)


def test_department_role_needs_an_existing_active_department(depts):
    with pytest.raises(UserError, match="必须绑定一个部门"):
        _add(depts, "op1", "department")
    with pytest.raises(UserError, match="“NOPE”不存在"):
        _add(depts, "op1", "department", department_code="NOPE")
    with pytest.raises(UserError, match="已停用"):
        _add(depts, "op1", "department", department_code="OLD")
    info = _add(depts, "op1", "department", department_code="SZJ")
    assert (info.department_code, info.department_name) == ("SZJ", "市政局")


def test_other_roles_may_name_a_department_as_information(depts):
    assert _add(depts, "ld01", "leader", department_code="JD01").department_code == "JD01"
    assert _add(depts, "ld02", "leader").department_code is None


def test_duplicate_username_is_refused_whatever_the_case(store):
    _add(store, "wang")
    with pytest.raises(UserError, match="已被使用"):
        _add(store, "Wang")
    assert [u.username for u in list_users(store)] == ["wang"]


@pytest.mark.parametrize("name", ["", "张三", "a b", "-lead", "x" * 64, "pg_admin", "postgres"])
def test_bad_usernames_are_refused(store, name):
    with pytest.raises(UserError, match="用户名"):
        _add(store, name)
    assert list_users(store) == []


@pytest.mark.parametrize("field, value", [("username", "z" * 10_000), ("username", "li\x1b[2J"),
                                          ("display_name", "王" * 10_000), ("display_name", "王\u202e芳"),
                                          ("phone", "1380013800\x07")])
def test_hostile_account_fields_are_named_never_echoed(store, field, value):
    kwargs = {"username": "wangfang", "display_name": "王芳", "phone": None, field: value}
    with pytest.raises(UserError) as refused:
        add_user(store, kwargs["username"], Role.DISPATCHER, display_name=kwargs["display_name"],
                 password="s3cret-pass", phone=kwargs["phone"])
    text = str(refused.value)
    assert len(text) < 300 and "\x1b" not in text and "\u202e" not in text and "\x07" not in text
    assert list_users(store) == []


@pytest.mark.parametrize("password, message", [("short1", "至少需要 8 个字符"), ("        ", "空白"),
                                               ("wangfang", "不能与用户名相同")])
def test_weak_passwords_are_refused(store, password, message):
    with pytest.raises(PasswordPolicyError, match=message):
        _add(store, "wangfang", password=password)
    assert list_users(store) == []
    _add(store, "wangfang")
    with pytest.raises(PasswordPolicyError, match=message):
        set_password(store, "wangfang", password)


def test_only_admins_manage_accounts(store):
    clerk = Actor("sly01", "受理员甲", Role.ACCEPTOR)
    with pytest.raises(UserError, match="无权管理用户账户"):
        _add(store, actor=clerk)
    admin = Actor("root1", "管理员", Role.ADMIN)
    assert _add(store, actor=admin).username == "wang"
    with pytest.raises(UserError, match="无权"):
        disable_user(store, "wang", actor=clerk)


def test_last_active_admin_and_oneself_cannot_be_disabled(store):
    _add(store, "admin1", "admin")
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        disable_user(store, "admin1")
    _add(store, "admin2", "admin")
    me = login(store, "admin2", PASSWORD, clock=CLOCK)
    with pytest.raises(UserError, match="自己"):
        disable_user(store, "admin2", actor=me)
    disable_user(store, "admin1", actor=me)
    assert get_user(store, "admin1").status == "已停用"


def test_unknown_user_operations_say_so(store):
    with pytest.raises(UserError, match="“ghost”不存在"):
        set_password(store, "ghost", PASSWORD)
    with pytest.raises(UserError, match="不存在"):
        disable_user(store, "ghost")


def test_list_users_has_no_hash(depts):
    _add(depts, "op1", "department", department_code="JD01", display_name="赵强")
    [info] = list_users(depts)
    d = info.to_dict()
    assert d["username"] == "op1" and d["role"] == "department" and d["role_label"] == "专业部门操作员"
    assert d["department_code"] == "JD01" and d["status"] == "正常"
    assert not any("hash" in key for key in d)
    assert not any("$argon2" in str(v) for v in d.values())


def test_demo_logins_one_per_role_idempotent(depts):
    first = create_demo_logins(depts, DEMO_PASSWORD, clock=CLOCK)
    assert first == [demo_username(r) for r in LOGIN_ROLES] and "demo_shift_leader" in first
    with depts.session() as s:
        hashes = dict(s.execute(select(User.username, User.password_hash)).all())
    assert create_demo_logins(depts, DEMO_PASSWORD, clock=CLOCK) == first
    with depts.session() as s:
        assert dict(s.execute(select(User.username, User.password_hash)).all()) == hashes  # untouched
    assert len(list_users(depts)) == len(LOGIN_ROLES)
    for role in LOGIN_ROLES:
        actor = login(depts, demo_username(role), DEMO_PASSWORD, clock=CLOCK)
        assert actor.role is role
    dept = get_user(depts, "demo_department")
    assert dept.department_code == "JD01"  # the street office is preferred


def test_demo_logins_restore_a_tampered_demo_account(depts):
    create_demo_logins(depts, DEMO_PASSWORD, clock=CLOCK)
    set_password(depts, "demo_admin", "changed-by-someone")
    disable_user(depts, "demo_leader")
    create_demo_logins(depts, DEMO_PASSWORD, clock=CLOCK)
    assert login(depts, "demo_admin", DEMO_PASSWORD, clock=CLOCK).role is Role.ADMIN
    assert login(depts, "demo_leader", DEMO_PASSWORD, clock=CLOCK).role is Role.LEADER


def test_demo_logins_need_a_department(store):
    with pytest.raises(UserError, match="还没有任何部门"):
        create_demo_logins(store, DEMO_PASSWORD)
    assert list_users(store) == []


def test_change_own_password_proves_the_old_one(store, backend):
    if backend == "postgis":
        pytest.skip("PostGIS: the login's password (tests/services/test_pg_directory.py)")
    from app.services.users import change_own_password

    me = _add(store, name="wang")
    actor = Actor(me.username, "王芳", Role.DISPATCHER)
    with pytest.raises(UserError, match="原密码不正确"):
        change_own_password(store, actor, "Wrong#pass-1", "Second#pass-2")
    change_own_password(store, actor, PASSWORD, "Second#pass-2")
    assert login(store, "wang", "Second#pass-2", clock=CLOCK).username == "wang"
