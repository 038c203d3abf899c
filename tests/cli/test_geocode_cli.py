"""`gridhall geocode TEXT` / `gridhall geocode --reverse X,Y` on the tiny district, both backends."""

from __future__ import annotations

import json

import pytest

from app.cli import main
from app.services.geocode import GeocodeIndex
from bench.world import X0, Y0, build_world


@pytest.fixture
def cli(store, capsys):
    build_world(store)
    GeocodeIndex._cache.clear()
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)

    def run(*argv: str):
        try:
            code = main(["geocode", *argv, "--db", db])
        except SystemExit as exc:  # argparse refused the options
            code = exc.code
        out = capsys.readouterr()
        return code, out.out, out.err

    yield run
    GeocodeIndex._cache.clear()


def test_forward_prints_candidates_with_grid_community_and_street(cli):
    code, out, err = cli("人民10号")
    assert code == 0, err
    first = out.splitlines()[0]
    assert "人民路10号" in first and "网格" in first and "社区" in first
    code, out, err = cli("人民路10号", "--format", "json")
    best = json.loads(out)[0]
    assert code == 0 and best["road"] == "人民路" and best["number"] == 10 and best["grid"] and best["street"]


def test_reverse_gives_the_nearest_address(cli):
    code, out, err = cli("--reverse", f"{X0 + 100},{Y0 + 215}", "--format", "json")
    assert code == 0, err
    found = json.loads(out)
    assert len(found) == 1 and found[0]["road"] == "人民路" and found[0]["number"] % 2 == 1


def test_bad_input_is_one_line(cli):
    code, out, err = cli("完全不相干的地方")
    assert code == 1 and out == "" and err.count("\n") == 1 and "没有找到" in err
    code, out, err = cli("--reverse", "abc")
    assert code == 2 and "Traceback" not in err and "557150,3464450" in err
    code, out, err = cli()
    assert code == 2 and err.count("\n") == 1
    code, out, err = cli("人民路", "--reverse", "1,2")
    assert code == 2 and err.count("\n") == 1


def test_a_missing_database_is_one_line(tmp_path, capsys):
    code = main(["geocode", "人民路1号", "--db", str(tmp_path / "none.sqlite")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err


def test_gazetteer_generate_and_import(cli, store, tmp_path, capsys):
    db = str(store.path) if store.path else store.url.render_as_string(hide_password=False)
    assert main(["gazetteer", "generate", "--db", db]) == 0
    assert "门牌" in capsys.readouterr().out
    marks = tmp_path / "marks.geojson"
    marks.write_text(json.dumps({
        "type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
        "features": [{"type": "Feature", "properties": {"name": "老虎灶", "aliases": "灶头"},
                      "geometry": {"type": "Point", "coordinates": [X0 + 60, Y0 + 230]}}]}), encoding="utf-8")
    assert main(["gazetteer", "import", str(marks), "--kind", "landmarks", "--db", db]) == 0
    capsys.readouterr()
    code, out, err = cli("灶头", "--format", "json")
    assert code == 0 and json.loads(out)[0]["landmark"] == "老虎灶"
    assert main(["gazetteer", "import", str(tmp_path / "none.shp"), "--kind", "roads", "--db", db]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "无法读取" in err
    assert main(["gazetteer", "import", "--db", db]) == 2
