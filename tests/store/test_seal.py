"""Seals of the audit chain (app/store/seal.py) on both backends: made only over a verified chain,
and catching what the chain check alone cannot — the owner's rewrite with a consistently re-hashed tail."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from app.domain.clock import FixedClock
from app.i18n import Catalogue
from app.store.commands import verify_audit
from app.store.seal import (
    SEAL_FORMAT_VERSION,
    SealError,
    SealStatus,
    check_seals,
    make_seal,
    read_seal,
    seal_from_json,
    seal_text,
    write_seal,
)
from store.sealing import (
    TinyCities,
    break_link,
    drop_database,
    link_hash,
    open_city,
    rewrite_history,
    truncate_history,
)

SEALED_AT = datetime(2026, 11, 30, 17, 0, 5)


@pytest.fixture(scope="session")
def tiny_cities(tmp_path_factory) -> TinyCities:
    return TinyCities(tmp_path_factory.mktemp("seal-cities"))


@pytest.fixture
def city(backend, request, tmp_path, tiny_cities):
    """A copy of the tiny demo city (289 cases, 2090 events) on each backend."""
    cluster = request.getfixturevalue("pg_cluster") if backend == "postgis" else None
    store = open_city(tiny_cities.url(backend, tmp_path, cluster))
    yield store
    drop_database(store, cluster)


def seal_of(store):
    return make_seal(store, FixedClock(SEALED_AT))


def test_a_seal_records_the_verified_head_and_the_database(city):
    seal = seal_of(city)
    assert seal.chain_no == seal.events == 2090 and seal.cases == 289
    assert seal.head_hash == link_hash(city, 2090) and seal.first_hash == link_hash(city, 1)
    assert seal.sealed_at == SEALED_AT and seal.gridhall_version and seal.schema_revision
    db = seal.database
    assert db.backend == city.backend and db.url == city.display_url
    if city.backend == "postgis":
        assert db.name == city.url.database and db.system_identifier and db.system_identifier.isdigit()
        assert city.url.password not in json.dumps(seal.as_json())  # the display URL only
    else:
        assert db.path == str(city.path) and db.name == city.path.name
    report = check_seals(city, [("s", seal)])
    assert report.ok and report.problem is None and report.checks[0].status is SealStatus.INTACT


def test_the_seal_file_round_trips_and_is_never_overwritten(city, tmp_path):
    seal = seal_of(city)
    path = write_seal(seal, tmp_path)
    stem = city.url.database if city.backend == "postgis" else "city-3"
    assert path.name == f"gridhall-seal-{stem}-2090-2026-11-30.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format_version"] == SEAL_FORMAT_VERSION and data["sealed_at"] == "2026-11-30T17:00:05+08:00"
    assert data["digest"].startswith("sha256:") and read_seal(path) == seal
    before = path.read_bytes()
    with pytest.raises(SealError, match="已存在"):
        write_seal(seal.replaced(cases=1), path)
    assert path.read_bytes() == before
    with pytest.raises(SealError, match="无法写入"):
        write_seal(seal, tmp_path / "no" / "such" / "dir.json")
    assert not (tmp_path / "no").exists()


def test_the_owners_rewrite_with_a_rehashed_tail_is_caught_only_by_the_seal(city):
    early = seal_of(city).replaced(chain_no=40, head_hash=link_hash(city, 40))  # sealed when the chain was at 40
    seal = seal_of(city)
    rewrite_history(city, 50)  # the owner edits an early event and re-hashes everything after it
    assert link_hash(city, 50) != seal.head_hash  # really rewritten …
    assert verify_audit(city) is None  # … yet the chain alone is consistent: "intact"
    report = check_seals(city, [("early.json", early), ("month.json", seal)])
    assert report.problem is None and not report.ok
    assert [c.status for c in report.checks] == [SealStatus.INTACT, SealStatus.REWRITTEN]
    en = Catalogue("en").text(report.checks[1].message)
    assert en.startswith("The history before seal month.json (2026-11-30 17:00) was rewritten: link 2090")
    assert "之前的历史被改写" in str(report.checks[1].message)


def test_a_broken_chain_is_never_sealed(city):
    break_link(city, 7)
    with pytest.raises(SealError, match="审计链已被破坏，不能封印") as err:
        seal_of(city)
    assert "link 7" in str(err.value)


def test_a_truncated_chain_is_behind_its_seal(city):
    seal = seal_of(city)
    truncate_history(city, 2000)
    assert verify_audit(city) is None  # consistent after the owner's cleanup
    check = check_seals(city, [("s.json", seal)]).checks[0]
    assert check.status is SealStatus.AHEAD
    assert "reaches link 2090 but this database's audit chain ends at link 2000" in Catalogue("en").text(check.message)


def test_a_seal_of_another_database(city, backend, request, tmp_path, tiny_cities):
    cluster = request.getfixturevalue("pg_cluster") if backend == "postgis" else None
    other = open_city(tiny_cities.url(backend, tmp_path, cluster, seed=4))
    (tmp_path / "copy").mkdir()
    copy = open_city(tiny_cities.url(backend, tmp_path / "copy", cluster))  # the same history elsewhere
    try:
        foreign, original = seal_of(other), seal_of(city)
        check = check_seals(city, [("other.json", foreign)]).checks[0]
        assert check.status is SealStatus.FOREIGN and not check.ok
        assert "belongs to another database" in Catalogue("en").text(check.message)
        # a copy (restored backup, copied file) with the same history: the original's seal holds there
        held = check_seals(copy, [("orig.json", original)]).checks[0]
        assert held.status is SealStatus.INTACT and held.copy
        rewrite_history(copy, 3)
        assert check_seals(copy, [("orig.json", original)]).checks[0].status is SealStatus.REWRITTEN
    finally:
        drop_database(other, cluster)
        drop_database(copy, cluster)


def test_damaged_or_foreign_files_are_refused(city, tmp_path):
    seal = seal_of(city)
    path = write_seal(seal, tmp_path / "s.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    edited = dict(data, chain_no=2000)
    with pytest.raises(SealError, match="已损坏或被改动"):
        seal_from_json(edited, "s.json")
    with pytest.raises(SealError, match="已损坏或被改动"):
        seal_from_json(dict(data, note="x"), "s.json")
    with pytest.raises(SealError, match="不是完好的"):
        seal_from_json({k: v for k, v in data.items() if k != "head_hash"}, "s.json")
    with pytest.raises(SealError, match="更新版本的 GridHall"):
        seal_from_json(dict(data, format_version=SEAL_FORMAT_VERSION + 1), "s.json")
    cut = tmp_path / "cut.json"
    cut.write_bytes(path.read_bytes()[:100])
    with pytest.raises(SealError, match="不是 JSON"):
        read_seal(cut)
    with pytest.raises(SealError, match="封印文件不存在"):
        read_seal(tmp_path / "missing.json")


def test_seal_text_prints_in_both_languages(city):
    seal = seal_of(city)
    zh, en = Catalogue("zh_CN").text(seal_text(seal)), Catalogue("en").text(seal_text(seal))
    assert zh.splitlines()[0] == "审计链封印" and en.splitlines()[0] == "Audit chain seal"
    for text_ in (zh, en):
        assert seal.head_hash in text_ and seal.digest in text_ and "2026-11-30 17:00:05" in text_
    assert "Audit chain: link 2090 (2090 events, 289 cases)" in en


@pytest.mark.parametrize("backend", ["postgis"])
def test_a_read_only_analyst_login_seals_and_checks_a_department_login_is_refused(city, request):
    from sqlalchemy.engine import make_url

    from app.store.engine import open_store
    from app.store.errors import StoreError

    cluster = request.getfixturevalue("pg_cluster")
    logins = {"gh_seal_analyst": "gridhall_analyst", "gh_seal_department": "gridhall_department"}
    with cluster.admin() as conn, conn.cursor() as cur:
        for login, group in logins.items():
            cur.execute(f"CREATE ROLE {login} LOGIN PASSWORD 'seal-pw-1' IN ROLE {group}")
    base = make_url(city.url.render_as_string(hide_password=False))
    stores = {login: open_store(base.set(username=login, password="seal-pw-1").render_as_string(hide_password=False))
              for login in logins}
    try:
        analyst = stores["gh_seal_analyst"]
        seal = seal_of(analyst)  # SELECT only is enough: sealing and checking never write
        assert seal == seal_of(city).replaced(database=seal.database) and "gh_seal_analyst" in seal.database.url
        assert seal.database.same_as(seal_of(city).database)  # the same database, whoever sealed it
        assert check_seals(analyst, [("s", seal)]).ok
        with pytest.raises(StoreError, match="专业部门账户只能看到本部门的案卷事件"):
            seal_of(stores["gh_seal_department"])
        with pytest.raises(StoreError, match="专业部门账户只能看到本部门的案卷事件"):
            check_seals(stores["gh_seal_department"], [("s", seal)])
    finally:
        for store in stores.values():
            store.dispose()
        with cluster.admin() as conn, conn.cursor() as cur:
            for login in logins:
                cur.execute(f"DROP ROLE IF EXISTS {login}")
