"""The one input policy (app/domain/text.py): normalised, refused, empty, capped — and the limits
are the schema's (the same numbers the store enforces on both backends)."""

from __future__ import annotations

import importlib

import pytest
from sqlalchemy import String

from app.domain.codes import CodeError, ComponentId, GridCode
from app.domain.text import (
    BIDI_CONTROLS,
    FIELDS,
    MAX_DESCRIPTION,
    MAX_NOTE,
    Shape,
    TextRefused,
    clean_text,
    excerpt,
    normalize_code,
    require_text,
    visible,
)
from app.i18n import Catalogue

EN = Catalogue("en")


def refused(field: str, value: object) -> TextRefused:
    with pytest.raises(TextRefused) as err:
        clean_text(field, value)
    assert err.value.field == field
    message = str(err.value)
    assert all(ch.isprintable() for ch in message), repr(message)  # the message itself is safe to print
    assert all(ch.isprintable() for ch in EN.text(err.value.msg)), EN.text(err.value.msg)
    return err.value


@pytest.mark.parametrize("field, value, expected", [
    ("category", "０６０１０", "06010"),  # full-width digits are a category (issue 9)
    ("category", "ｅｖｅｎｔ：０６０１０", "event:06010"),
    ("category", "٠٦٠١٠", "06010"),  # Arabic-Indic digits: decimal digits of any script
    ("level", "ｕｒｇｅｎｔ", "urgent"),
    ("reporter_phone", "１３８　０００１　２３４５", "138 0001 2345"),
    ("reporter_phone", "+86 (512) 6511-0000 转 8", "+86 (512) 6511-0000 转 8"),
    ("description", "e\u0301", "\u00e9"),  # NFC
    ("description", "第一行\r\n第二行\r第三行\u2028第四行", "第一行\n第二行\n第三行\n第四行"),
    ("description", "\t缩进\t保留", "缩进\t保留"),
    ("address", "人民路\n12 号\t东侧", "人民路 12 号 东侧"),  # one line: line ends and tabs become spaces
    ("address", "  \u200b人民路 1 号\ufeff  ", "人民路 1 号"),
    ("description", "<h1>标题</h1><img src=/etc/passwd>", "<h1>标题</h1><img src=/etc/passwd>"),  # data, not markup
    ("description", "'; DROP TABLE cases; -- {0} %s %n", "'; DROP TABLE cases; -- {0} %s %n"),
    ("display_name", "张\u200d三", "张\u200d三"),  # joiners inside text stay (emoji, scripts)
    ("description", "🧑\u200d🚒 消防", "🧑\u200d🚒 消防"),
])
def test_normalised(field, value, expected):
    assert clean_text(field, value) == expected


@pytest.mark.parametrize("value", [
    None, "", "   ", "\u3000\u3000", "\u200b\u200b\u200b", "\ufeff", "\u200b \u200c\u200d\u2060", "\t\n\r\n",
    "\u3164\u115f\u2800", "\u00ad", "\u0301\u0301",
])
def test_invisible_only_counts_as_empty(value):
    assert clean_text("description", value) is None
    with pytest.raises(TextRefused, match="问题描述不能为空"):
        require_text("description", value)


@pytest.mark.parametrize("ch", ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f", "\x80", "\x85", "\x9b"])
@pytest.mark.parametrize("field", ["description", "address", "category", "reporter_phone", "username"])
def test_control_characters_are_refused_with_their_code_point(field, ch):
    err = refused(field, f"人民路{ch}1")
    assert f"U+{ord(ch):04X}" in str(err) and "第 4 个字符" in str(err)
    assert FIELDS[field].label in str(err)


def test_tab_and_newline_are_allowed_in_prose_only_as_whitespace():
    assert clean_text("reason", "a\n\tb") == "a\n\tb"
    assert clean_text("reporter_name", "a\n\tb") == "a  b"


@pytest.mark.parametrize("cp", sorted(BIDI_CONTROLS))
def test_bidi_overrides_embeddings_and_isolates_are_refused(cp):
    err = refused("description", f"付款{chr(cp)}exe.jpg")
    assert f"U+{cp:04X}" in str(err) and "方向" in str(err)


def test_undecodable_bytes_name_the_byte():
    # what Python makes of a GBK argument on a UTF-8 system (surrogateescape)
    raw = "井盖".encode("gbk").decode("utf-8", "surrogateescape")
    err = refused("description", raw)
    assert "0xBE" in str(err) and "UTF-8" in str(err)
    assert "代理字符" in str(refused("description", "a\ud800b"))


@pytest.mark.parametrize("ch", ["\ufffe", "\uffff", "\ufdd0", "\U0001fffe"])
def test_noncharacters_are_refused(ch):
    assert "非字符" in str(refused("description", "x" + ch))


def test_zalgo_is_refused():
    assert clean_text("description", "Z" + "\u0336" * 30) is not None
    assert "组合符号" in str(refused("description", "Z" + "\u0336" * 31))


@pytest.mark.parametrize("field, limit", [("address", 200), ("description", MAX_DESCRIPTION),
                                          ("reason", MAX_NOTE), ("reporter_name", 64), ("display_name", 64)])
def test_length_limit_named_by_size_never_echoed(field, limit):
    assert clean_text(field, "井" * limit) == "井" * limit
    err = refused(field, "井" * (limit + 1))
    assert f"{limit + 1:,} 字" in str(err) and f"{limit:,} 字上限" in str(err)
    assert "井井井" not in str(err)
    assert EN.text(err.msg) == f"{EN.text(FIELDS[field].label)} has {limit + 1:,} characters, over the limit of {limit:,}"


def test_huge_input_is_refused_before_any_work():
    err = refused("address", "人民路" * 1_000_000)
    assert str(err) == "地址共 3,000,000 字，超过 200 字上限"
    assert str(refused("address", "人" * 3000)) == "地址共 3,000 字，超过 200 字上限"


def test_length_is_counted_after_normalisation():
    assert clean_text("address", "  " + "a" * 200 + "  ") == "a" * 200
    assert clean_text("address", "e\u0301" * 200) == "\u00e9" * 200  # 400 code points typed, 200 stored


@pytest.mark.parametrize("value", [b"bytes", 12345, ["list"], object()])
def test_non_text_is_refused(value):
    assert "应为文本" in str(refused("description", value))


@pytest.mark.parametrize("value, words", [("张先生", "不是数字"), ("12", "至少应有 3 位数字"),
                                          ("138<script>", "不是数字")])
def test_phone_numbers(value, words):
    assert words in str(refused("reporter_phone", value))


def test_codes_are_nfkc_in_the_code_parsers():
    assert str(GridCode.parse("３２０５９９００１００１００１")) == "320599001001001"
    assert str(ComponentId.parse("３２０５９９０１００２０００００１")) == "32059901002000001"
    with pytest.raises(CodeError, match="U\\+001B"):
        GridCode.parse("3205\x1b9900100100")
    with pytest.raises(CodeError, match="共 10,000 字"):
        GridCode.parse("3" * 10_000)
    assert normalize_code(" ０６０１０ ") == "06010"


def test_visible_and_excerpt():
    assert not visible("\u200b \u3000") and visible("\u200ba")
    assert excerpt("abc\x1b[2J") == "abc\\u001b[2J"
    long = excerpt("人" * 5000 + "\x1b")
    assert "共 5,001 字" in str(long) and len(str(long)) < 80 and "\x1b" not in str(long)


def test_every_field_has_a_label_with_english():
    for spec in FIELDS.values():
        assert EN.text(spec.label) != str(spec.label), spec.name


#: policy field → (model, column): the limit is the column's declared length.
COLUMNS = {
    "address": ("Case", "address"), "reporter_name": ("Case", "reporter_name"),
    "reporter_phone": ("Case", "reporter_phone"), "username": ("User", "username"),
    "display_name": ("User", "display_name"), "phone": ("User", "phone"), "filename": ("Attachment", "filename"),
    "workstation": ("CaseClaim", "workstation"), "case": ("Case", "number"), "department": ("Department", "code"),
}


@pytest.mark.parametrize("field", sorted(COLUMNS))
def test_limits_are_the_columns_lengths(field):
    from app.store import models

    model, column = COLUMNS[field]
    assert FIELDS[field].limit == getattr(models, model).__table__.c[column].type.length


def test_every_single_line_text_field_is_capped_by_a_column_or_a_parser():
    assert {s.name for s in FIELDS.values() if s.shape is Shape.PROSE} == {"description", "reason", "note", "result"}


def test_migration_0009_lengths_are_the_models():
    """The SQLite length triggers cover every VARCHAR column of their tables, at the models' lengths."""
    from app.store import models

    lengths = importlib.import_module("app.store.migrations.versions.0009_lengths").LENGTHS
    tables = {m.__tablename__: m for m in (models.Case, models.User, models.Attachment, models.CaseClaim)}
    for table, columns in lengths.items():
        declared = {c.name: c.type.length for c in tables[table].__table__.columns if isinstance(c.type, String)
                    and c.type.length}
        assert dict(columns) == declared, table
