"""Passwords and login on both backends: argon2id, the lock after 5 failures, no user enumeration."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from app.domain.clock import FixedClock
from app.domain.definitions import Role
from app.services import auth
from app.services.auth import (
    DISABLED_MESSAGE,
    LOCK_AFTER,
    LOCKED_MESSAGE,
    AuthError,
    PasswordPolicyError,
    configure_hasher,
    hash_password,
    login,
)
from app.services.users import add_user, disable_user, enable_user, set_password, unlock_user
from app.store.models import User

PASSWORD = "Zhiban#2026"
CLOCK = FixedClock(datetime(2026, 11, 21, 9, 0))


@pytest.fixture
def zhang(store):
    """A dispatcher account ``zhang`` with PASSWORD."""
    add_user(store, "zhang", Role.DISPATCHER, display_name="张伟", password=PASSWORD)
    return store


def _stored(store, name="zhang") -> User:
    with store.session() as s:
        return s.scalars(select(User).where(User.username == name)).one()


def _refused(store, password, name="zhang") -> AuthError:
    with pytest.raises(AuthError) as err:
        login(store, name, password, clock=CLOCK)
    return err.value


def test_hash_is_argon2id_and_verifies():
    h = hash_password(PASSWORD)
    assert h.startswith("$argon2id$")
    assert PASSWORD not in h
    assert auth.verify_password(h, PASSWORD)
    assert not auth.verify_password(h, PASSWORD + "x")
    assert hash_password(PASSWORD) != h  # salted


def test_short_password_is_refused_with_the_minimum():
    with pytest.raises(PasswordPolicyError, match="至少需要 8 个字符"):
        hash_password("abc1234")


def test_plain_password_is_nowhere_in_the_database(zhang):
    login(zhang, "zhang", PASSWORD, clock=CLOCK)
    user = _stored(zhang)
    if zhang.backend == "spatialite":
        assert user.password_hash.startswith("$argon2id$")
    else:  # the login's SCRAM verifier is the only password (migration 0007)
        assert user.password_hash is None
    with zhang.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM users")).all()
    assert rows and not any(PASSWORD in str(value) for row in rows for value in row)
    if zhang.path is not None:  # SpatiaLite: not in the file or its write-ahead log either
        zhang.dispose()
        for suffix in ("", "-wal"):
            f = Path(f"{zhang.path}{suffix}")
            if f.exists():
                assert PASSWORD.encode() not in f.read_bytes()


def test_login_returns_the_actor(store):
    add_user(store, "li.na", "department", display_name="李娜", password=PASSWORD,
             department_code=_department(store))
    actor = login(store, "  Li.Na ", PASSWORD, clock=CLOCK)
    user = _stored(store, "li.na")
    assert (actor.username, actor.display_name, actor.role) == ("li.na", "李娜", Role.DEPARTMENT)
    assert actor.department_id == user.department_id is not None
    assert actor.user_id == user.id


def _department(store) -> str:
    from app.store.models import Department

    with store.session() as s, s.begin():
        s.add(Department(code="SZJ", name="市政局", kind="bureau"))
    return "SZJ"


def test_wrong_password_counts_down_and_locks_at_five(zhang):
    for attempt in range(1, LOCK_AFTER):
        err = _refused(zhang, "wrong-password")
        assert str(err) == f"用户名或密码错误，还可尝试 {LOCK_AFTER - attempt} 次"
        assert (err.reason, err.remaining) == ("invalid", LOCK_AFTER - attempt)
    err = _refused(zhang, "wrong-password")
    assert err.reason == "locked" and LOCKED_MESSAGE in str(err)
    user = _stored(zhang)
    assert user.locked and user.failed_attempts == LOCK_AFTER


def test_locked_account_refuses_the_right_password_until_unlocked(zhang):
    for _ in range(LOCK_AFTER):
        _refused(zhang, "wrong-password")
    err = _refused(zhang, PASSWORD)
    assert str(err) == "账户已锁定（连续5次密码错误），请联系管理员解锁"
    unlock_user(zhang, "zhang")
    assert login(zhang, "zhang", PASSWORD, clock=CLOCK).username == "zhang"


def test_success_resets_the_count(zhang):
    _refused(zhang, "wrong-password")
    _refused(zhang, "wrong-password")
    login(zhang, "zhang", PASSWORD, clock=CLOCK)
    assert _stored(zhang).failed_attempts == 0
    assert _refused(zhang, "wrong-password").remaining == LOCK_AFTER - 1


def test_disabled_user_is_refused_after_the_password(zhang):
    disable_user(zhang, "zhang")
    assert _refused(zhang, "wrong-password").reason == "invalid"  # says nothing about the account
    err = _refused(zhang, PASSWORD)
    assert (str(err), err.reason) == (DISABLED_MESSAGE, "disabled")
    enable_user(zhang, "zhang")
    assert login(zhang, "zhang", PASSWORD, clock=CLOCK).role is Role.DISPATCHER


def test_unknown_user_gets_the_same_message_as_a_wrong_password(zhang):
    wrong = _refused(zhang, "wrong-password")
    unknown = _refused(zhang, "wrong-password", name="nobody")
    assert str(unknown) == str(wrong) == "用户名或密码错误，还可尝试 4 次"
    for _ in range(LOCK_AFTER - 1):  # it keeps behaving like a real account
        last = _refused(zhang, "wrong-password", name="nobody")
    assert last.reason == "locked"
    assert _refused(zhang, PASSWORD, name="nobody").reason == "locked"


def test_account_without_password_cannot_log_in(store):
    with store.session() as s, s.begin():
        s.add(User(username="imported", display_name="导入", role="acceptor"))
    assert _refused(store, "", name="imported").reason == "invalid"
    assert _refused(store, PASSWORD, name="imported").reason == "invalid"


@pytest.mark.parametrize("backend", ["spatialite"])  # PostGIS keeps no argon2 hash (migration 0007)
def test_hash_is_upgraded_at_login_when_parameters_change(zhang):
    old = _stored(zhang).password_hash
    configure_hasher(time_cost=2, memory_cost=16, parallelism=1)
    login(zhang, "zhang", PASSWORD, clock=CLOCK)
    new = _stored(zhang).password_hash
    assert new != old and "m=16,t=2,p=1" in new
    assert login(zhang, "zhang", PASSWORD, clock=CLOCK).username == "zhang"


def test_new_password_works_and_old_one_not(zhang):
    set_password(zhang, "zhang", "Another#Pass1")
    assert _refused(zhang, PASSWORD).reason == "invalid"
    assert login(zhang, "zhang", "Another#Pass1", clock=CLOCK).username == "zhang"


def test_password_never_reaches_the_log(zhang, caplog):
    caplog.set_level("DEBUG")
    _refused(zhang, "wrong-password")
    login(zhang, "zhang", PASSWORD, clock=CLOCK)
    assert caplog.records  # failures and successes are logged ...
    assert "wrong-password" not in caplog.text and PASSWORD not in caplog.text  # ... without passwords


def test_simultaneous_failures_from_several_workstations_all_count(zhang):
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_):
        with pytest.raises(AuthError):
            login(zhang, "zhang", "wrong-password", clock=CLOCK)

    with ThreadPoolExecutor(max_workers=LOCK_AFTER) as pool:
        list(pool.map(attempt, range(LOCK_AFTER)))
    user = _stored(zhang)
    assert user.failed_attempts == LOCK_AFTER and user.locked
