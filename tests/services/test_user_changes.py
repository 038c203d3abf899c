"""An administrator changes an existing account's role and department, retires and reactivates
it (issue 12, item 1): on the record (configuration history), refused with one clear message."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services.actors import Actor
from app.services.users import (
    UserError,
    add_user,
    change_user,
    get_user,
    reactivate_user,
    retire_user,
    user_history,
)
from app.store import calendar_years as years_store
from app.store.models import Department

PASSWORD = "Zhiban#2026"
CLOCK = FixedClock(datetime(2026, 12, 7, 9, 0))


@pytest.fixture
def depts(store):
    with store.session() as s, s.begin():
        s.add_all([Department(code="SZJ", name="市政局", kind="bureau"),
                   Department(code="JD01", name="东城街道办事处", kind="street_office"),
                   Department(code="OLD", name="已撤销单位", kind="company", active=False)])
    add_user(store, "boss", "admin", display_name="管理员", password=PASSWORD)
    add_user(store, "wang", "dispatcher", display_name="王芳", password=PASSWORD)
    add_user(store, "zhang.san", "acceptor", display_name="张三", password=PASSWORD)
    return store


def boss(store):
    info = get_user(store, "boss")
    return Actor("boss", "管理员", Role.ADMIN, None, info.id)


def test_role_and_department_change_is_on_the_record(depts):
    store = depts
    info = change_user(store, "wang", role="department", department_code="JD01", reason="调到街道",
                       actor=boss(store), clock=CLOCK)
    assert (info.role, info.department_code) == (Role.DEPARTMENT, "JD01")
    [h] = user_history(store, "wang")
    assert (h["actor"], h["reason"], h["entity"]) == ("boss", "调到街道", "user")
    assert '"role":"dispatcher"' in h["before"] and '"department":"JD01"' in h["after"]
    info = change_user(store, "wang", department_code="SZJ", reason="换部门", actor=boss(store), clock=CLOCK)
    assert info.department_code == "SZJ"
    with store.engine.connect() as conn:
        assert years_store.verify_config_history(conn) is None


@pytest.mark.parametrize("kwargs, words", [
    ({"role": "department", "department_code": ""}, "必须绑定一个部门"),
    ({"role": "planet"}, "未知角色"),
    ({"role": "system"}, "只供程序内部使用"),
    ({"department_code": "OLD"}, "已停用"),
    ({"department_code": "NOPE"}, "不存在"),
    ({"role": "leader", "reason": " "}, "修改原因"),
])
def test_bad_changes_are_refused_and_nothing_is_written(depts, kwargs, words):
    store = depts
    kwargs.setdefault("reason", "试试")
    with pytest.raises(UserError, match=words):
        change_user(store, "wang", actor=boss(store), clock=CLOCK, **kwargs)
    assert get_user(store, "wang").role is Role.DISPATCHER and user_history(store, "wang") == []


def test_retire_and_reactivate(depts):
    store = depts
    assert retire_user(store, "wang", reason="离职", actor=boss(store), clock=CLOCK).active is False
    assert reactivate_user(store, "wang", reason="返聘", actor=boss(store), clock=CLOCK).active is True
    assert [h["reason"] for h in user_history(store, "wang")] == ["离职", "返聘"]
    with pytest.raises(UserError, match="自己"):
        retire_user(store, "boss", reason="x", actor=boss(store))
    with pytest.raises(UserError, match="自己"):
        change_user(store, "boss", role="leader", reason="x", actor=boss(store))
    with pytest.raises(UserError, match="最后一个启用的管理员"):
        retire_user(store, "boss", reason="x")  # local administration: still not the last admin
    wang = Actor("wang", "王芳", Role.DISPATCHER, None, get_user(store, "wang").id)
    with pytest.raises(UserError, match="无权管理用户账户"):
        change_user(store, "boss", role="leader", reason="x", actor=wang)


def test_on_postgis_the_login_group_follows_the_role(depts, backend):
    if backend != "postgis":
        pytest.skip("database logins exist on PostGIS only")
    from sqlalchemy import text

    store = depts

    def groups(login: str = "gh_wang") -> set[str]:
        with store.engine.connect() as conn:
            return set(conn.execute(text(
                "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid "
                "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = :login"), {"login": login}).scalars())

    assert groups() == {"gridhall_dispatcher"}
    change_user(store, "wang", role="analyst", reason="转岗分析", actor=boss(store), clock=CLOCK)
    assert groups() == {"gridhall_analyst"}
    change_user(store, "wang", role="department", department_code="JD01", reason="调到街道", actor=boss(store))
    assert groups() == {"gridhall_department"}
    change_user(store, "zhang.san", role="shift_leader", reason="升任值班长", actor=boss(store))  # a dotted name
    assert groups("gh_zhang.san") == {"gridhall_shift_leader"}
    with store.engine.connect() as conn:
        dept = conn.execute(select(Department.id).where(Department.code == "JD01")).scalar()
        assert conn.execute(text("SELECT department_id FROM users WHERE username = 'wang'")).scalar() == dept


def test_hostile_account_changes_are_refused(depts):
    """Reactivating an account that is not retired, retiring one twice, a reason with a control or
    bidi character, the history of an unknown name: one clear refusal, nothing on the record."""
    store = depts
    with pytest.raises(UserError, match="没有停用"):
        reactivate_user(store, "wang", reason="返聘", actor=boss(store), clock=CLOCK)
    retire_user(store, "wang", reason="离职", actor=boss(store), clock=CLOCK)
    with pytest.raises(UserError, match="已经停用"):
        retire_user(store, "wang", reason="再离职", actor=boss(store), clock=CLOCK)
    with pytest.raises(UserError, match="改变文字显示方向"):
        reactivate_user(store, "wang", reason="返\u202e聘", actor=boss(store), clock=CLOCK)
    with pytest.raises(UserError, match="控制字符"):
        change_user(store, "zhang.san", role="leader", reason="升\x00职", actor=boss(store), clock=CLOCK)
    assert [h["reason"] for h in user_history(store, "wang")] == ["离职"]
    assert user_history(store, "zhang.san") == []
    with pytest.raises(UserError, match="不存在"):
        user_history(store, "nobody")
