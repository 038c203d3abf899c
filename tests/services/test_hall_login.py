"""Logging in at a workstation: on PostGIS as the user's own database login, RLS and checks on."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from app.domain.clock import FixedClock
from app.domain.definitions import Action, CaseState, Role
from app.services.actors import Actor
from app.services.auth import INVALID_MESSAGE, AuthError
from app.services.case_source import StoreCaseSource
from app.services.core import db_refusals
from app.services.errors import ConflictError, PermissionDenied, ServiceError
from app.services.hall_login import NO_PASSWORD_MESSAGE, hall_login, remember_password
from app.services.users import add_user, disable_user
from app.store import security
from app.store.commands import init_db, verify_audit
from app.store.models import Case, CaseEvent
from services.world import T0, draft, photo, service

PASSWORD = "Hall-login-pass-1"
CLOCK = FixedClock(T0)


def _now_clock() -> FixedClock:
    """A clock at the database's time: a login's events are dated within 5 minutes of it (migration 0006)."""
    return FixedClock(datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None, microsecond=0))


@pytest.fixture
def backend() -> str:
    return "postgis"


@pytest.fixture
def hall(store, world, pg_cluster):
    """The tiny district on PostGIS with a database login for each of its users."""
    for who, actor in world.actors.items():
        security.create_login(store, who, actor.role, PASSWORD, department_id=actor.department_id)
    opened: list = []
    yield store, world, opened
    for s in opened:
        s.dispose()
    for who in world.actors:  # logins are cluster-wide: leave none behind
        security.drop_login(store, who)


def _url(store) -> str:
    """The workstation's address: server and database, no account."""
    return store.url.set(username=None, password=None).render_as_string(hide_password=False)


def _login(hall, who: str, password: str | None = PASSWORD):
    store, actor = hall_login(_url(hall[0]), who, password, clock=CLOCK)
    hall[2].append(store)
    return store, actor


def test_spatialite_login_checks_the_hash_and_counts_failures(tmp_path):
    path = tmp_path / "one.sqlite"
    init_db(path).dispose()
    from app.store.engine import open_store

    admin = open_store(path)
    try:
        add_user(admin, "zhang", Role.DISPATCHER, display_name="张伟", password=PASSWORD)
    finally:
        admin.dispose()
    store, actor = hall_login(path, "zhang", PASSWORD, clock=CLOCK)
    try:
        assert (actor.username, actor.role, store.backend) == ("zhang", Role.DISPATCHER, "spatialite")
    finally:
        store.dispose()
    with pytest.raises(AuthError, match="还可尝试 4 次"):
        hall_login(path, "zhang", "wrong-password", clock=CLOCK)


@pytest.mark.postgis
def test_the_store_is_opened_as_the_users_own_login(hall):
    store, actor = _login(hall, "Dispatcher")
    assert actor == hall[1].actors["dispatcher"]
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT session_user")).scalar() == "gh_dispatcher"
    assert store.url.username == "gh_dispatcher"


@pytest.mark.postgis
@pytest.mark.parametrize("who", ["dispatcher", "nobody"])
def test_wrong_password_or_unknown_user_is_one_clear_message(hall, who):
    with pytest.raises(AuthError) as err:
        _login(hall, who, "not-the-password")
    assert str(err.value) == INVALID_MESSAGE and err.value.reason == "invalid"


@pytest.mark.postgis
def test_a_disabled_user_cannot_connect(hall):
    disable_user(hall[0], "supervisor")
    with pytest.raises(AuthError, match="账户已停用") as err:
        _login(hall, "supervisor")
    assert err.value.reason == "disabled"


@pytest.mark.postgis
def test_the_password_can_come_from_the_pgpass_file(hall, tmp_path, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "pgpass"))
    with pytest.raises(AuthError) as err:
        _login(hall, "acceptor", None)
    assert str(err.value) == NO_PASSWORD_MESSAGE
    written = remember_password(_url(hall[0]), "acceptor", PASSWORD)
    assert written == tmp_path / "pgpass" and (written.stat().st_mode & 0o777) == 0o600
    store, actor = _login(hall, "acceptor", None)
    assert actor.role is Role.ACCEPTOR and store.url.password is None


@pytest.mark.postgis
def test_a_department_login_sees_only_its_departments_cases(hall):
    owner, world = hall[0], hall[1]
    svc = service(owner, CLOCK)
    a = world.actors
    ids = {}
    for dept in ("JD001", "HW"):
        r = svc.report(a["supervisor"], draft())
        r = svc.file(a["leader_shift"], r.case.id, r.version)
        ids[dept] = svc.dispatch(a["dispatcher"], r.case.id, r.version, department=dept).case.id
    undispatched = svc.report(a["supervisor"], draft()).case.id
    store, actor = _login(hall, "dept_jd")
    assert {c.id for c in StoreCaseSource(store).open_cases()} == {ids["JD001"]}
    hw_store, _ = _login(hall, "dept_hw")
    assert {c.id for c in StoreCaseSource(hw_store).open_cases()} == {ids["HW"]}
    assert actor.department_id == world.dept["JD001"]
    boss_store, _ = _login(hall, "boss")
    assert {c.id for c in StoreCaseSource(boss_store).open_cases()} == {*ids.values(), undispatched}


@pytest.mark.postgis
def test_the_whole_loop_as_each_roles_own_login(hall):
    clock = _now_clock()

    def desk(who):
        store, actor = _login(hall, who)
        return service(store, clock), actor

    s, me = desk("supervisor")
    for _ in range(3):  # cases the department cannot see take the first numbers of the day
        s.report(me, draft(description="别处的案卷"))
    s, me = desk("dept_jd")
    own = s.report(me, draft(source="department", description="本部门上报"))
    assert own.case.number.endswith("-0004")
    s, me = desk("acceptor")
    r = s.report(me, draft(source="public", reporter_name="市民甲", photos=(photo(taken_at=clock.now()),)))
    cid = r.case.id
    r = s.send_verify(me, cid, r.version)
    s, me = desk("supervisor")
    r = s.verify(me, cid, r.version, result="现场属实")
    s, me = desk("leader_shift")
    r = s.file(me, cid, r.version)
    assert len(r.details["replies"]) == 1  # the automatic reply, recorded as 系统 by this login
    s, me = desk("dispatcher")
    r = s.dispatch(me, cid, r.version, department="JD001")
    s, me = desk("dept_jd")
    r = s.accept(me, cid, r.version)
    clock.advance(timedelta(minutes=3))
    r = s.feedback(me, cid, r.version, text="已清运", photos=(photo("after", "后.png", taken_at=clock.now()),))
    s, me = desk("acceptor")
    r = s.send_check(me, cid, r.version)
    s, me = desk("supervisor")
    r = s.check(me, cid, r.version, outcome="passed")
    s, me = desk("boss")
    r = s.urge(me, cid, r.version, note="尽快结案")
    s, me = desk("leader_shift")
    r = s.close(me, cid, r.version)
    assert r.case.state is CaseState.CLOSED and len(r.details["replies"]) == 1
    with hall[0].session() as session:
        events = session.execute(select(CaseEvent.action, CaseEvent.actor, CaseEvent.role)
                                 .where(CaseEvent.case_id == cid).order_by(CaseEvent.seq)).all()
    assert [e.action for e in events if e.role == "system"] == [Action.REPLY.value] * 2
    assert {e.actor for e in events if e.role != "system"} == {
        "acceptor", "supervisor", "leader_shift", "dispatcher", "dept_jd", "boss"}
    assert verify_audit(hall[0]) is None


@pytest.mark.postgis
def test_two_dispatcher_logins_at_once_one_wins(hall):
    owner, world = hall[0], hall[1]
    svc = service(owner, CLOCK)
    r = svc.report(world.actors["supervisor"], draft())
    filed = svc.file(world.actors["leader_shift"], r.case.id, r.version)
    now = _now_clock()
    desks = [(service(_login(hall, who)[0], now), world.actors[who]) for who in ("dispatcher", "dispatcher2")]
    barrier, outcomes = threading.Barrier(2), []

    def go(s, me, dept):
        barrier.wait()
        try:
            outcomes.append(s.dispatch(me, filed.case.id, filed.version, department=dept))
        except ConflictError as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=go, args=(*d, dept)) for d, dept in zip(desks, ("JD001", "HW"), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(type(o).__name__ for o in outcomes) == ["ActionResult", "ConflictError"]
    with owner.session() as session:
        assert session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == filed.case.id, CaseEvent.action == Action.DISPATCH.value)) == 1
    assert verify_audit(owner) is None


@pytest.mark.postgis
def test_a_refusal_by_the_database_is_a_clear_service_error_and_writes_nothing(hall):
    owner, world = hall[0], hall[1]
    r = service(owner, CLOCK).report(world.actors["supervisor"], draft())
    store, _ = _login(hall, "dispatcher")
    # A client that claims another role than its login has: the services allow 立案, the database not.
    forged = Actor("dispatcher", "张三", Role.SHIFT_LEADER, None, world.actors["dispatcher"].user_id)
    with pytest.raises(ServiceError, match="^数据库拒绝：") as err:
        service(store, CLOCK).file(forged, r.case.id, r.version)
    assert "本次操作未写入任何数据" in str(err.value)
    assert isinstance(err.value, PermissionDenied) and "不属于这一角色的组" in str(err.value)
    # A change without its event is refused (column privileges, migration 0006's trigger, the deferred check).
    with pytest.raises(ServiceError, match="数据库拒绝：(案卷的变更与其事件记录不一致|当前数据库登录没有这项权限)"), \
            db_refusals(), store.session() as session, session.begin():
        session.execute(text("UPDATE cases SET description = '改写' WHERE id = :id"), {"id": r.case.id})
    with owner.session() as session:
        case = session.get(Case, r.case.id)
        assert (case.version, case.state, case.description) == (r.version, "reported", r.case.description)


@pytest.mark.postgis
def test_the_argon2_login_over_a_non_admin_login_says_to_use_hall_login(hall):
    from app.services.auth import NO_HASH_ACCESS, load_account, login

    store, actor = _login(hall, "dispatcher")
    assert load_account(store, "boss").actor() == hall[1].actors["boss"]  # explicit columns: readable
    with pytest.raises(AuthError) as err:
        login(store, "dispatcher", PASSWORD, clock=CLOCK)
    assert str(err.value) == NO_HASH_ACCESS


@pytest.mark.postgis
def test_login_attempts_keep_the_store_of_the_last_success(hall):
    from app.services.hall_login import LoginAttempts

    attempts = LoginAttempts(_url(hall[0]), CLOCK)
    with pytest.raises(AuthError):
        attempts("boss", "wrong-password")
    assert attempts.store is None
    assert attempts("boss", PASSWORD).role is Role.LEADER
    first = attempts.store
    assert attempts("analyst", PASSWORD).role is Role.ANALYST and attempts.store is not first
    hall[2].append(attempts.store)


def test_the_desktop_client_runs_as_the_users_own_login(hall, capsys):
    from app.bootstrap import _login as client_login

    store, world, opened = hall
    who = next(name for name, a in world.actors.items() if a.role == Role.DISPATCHER)
    own, actor, code = client_login(_url(store), None, CLOCK, who, PASSWORD, ask=False)
    opened.append(own)
    assert code is None and actor.username == who
    assert own.url.username == security.login_name(who)  # not the owner: RLS and checks apply
    refused, nobody, code = client_login(_url(store), None, CLOCK, who, "not-the-password", ask=False)
    assert (refused, nobody, code) == (None, None, 1)
    assert INVALID_MESSAGE in capsys.readouterr().out
