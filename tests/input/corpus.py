"""The hostile-input corpus: inputs and their expected outcomes as data, for every entry point.

Each :class:`Entry` is one malformed or hostile input to one report field. The services runner
(tests/input/test_services.py) files it through ``CaseService.report`` of a core on both
backends and asserts: refused with a ``ValidationError`` naming ``error_field`` and a clear,
printable, short message (the input is never echoed whole), or accepted and stored as
``stored``; and the store changed only by an accepted report. A command-line runner can use
the same table: ``field`` maps to a ``gridhall case report`` option (:data:`CLI_OPTIONS`), the
photo files are made by :func:`make_file`, and the expected ``words`` are the Chinese message's.

``needs="check_draft"`` marks inputs that only ``intake.check_draft`` (the input policy over
the whole draft) catches; the runner expects a refusal once ``CaseService.report`` calls it.
``needs="reason"`` marks notes and reasons of case steps (``field="note"``: a 督办 note on a
reported case), caught once the services clean ``reason`` with ``intake.clean_text("reason", …)``
(app/services/core.py ``_clean``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Marker: an accepted input is stored exactly as given.
SAME = object()

#: field → the `gridhall case report` option that carries it (for a CLI runner).
CLI_OPTIONS = {
    "description": "--description", "address": "--address", "reporter_name": "--reporter", "reporter_phone": "--phone",
    "category": "--category", "level": "--level", "source": "--source", "component": "--component",
    "at": "--at", "lonlat": "--lonlat", "photo_file": "--photo", "note": "--note",
}


@dataclass(frozen=True)
class Entry:
    """One input and what must come of it."""

    id: str
    field: str  # description, address, reporter_name, reporter_phone, category, kind, level, source, component,
    #             at (x, y), lonlat (lon, lat), photo (filename, bytes), photo_file (a make_file kind),
    #             note (the note of a 督办 on a reported case)
    value: Any
    refused: bool = True
    error_field: str | None = None  # the ValidationError's field (default: ``field``; photos: "photo")
    words: tuple[str, ...] = ()  # fragments of the Chinese message
    stored: Any = SAME  # accepted: the value the store holds
    needs: str = ""  # "check_draft": caught by intake.check_draft only

    @property
    def expected_field(self) -> str:
        if self.error_field:
            return self.error_field
        return "photo" if self.field in ("photo", "photo_file") else self.field


def _refuse(id: str, field: str, value: Any, *words: str, error_field: str | None = None,  # noqa: A002
            needs: str = "") -> Entry:
    return Entry(id, field, value, True, error_field, tuple(words), SAME, needs)


def _accept(id: str, field: str, value: Any, stored: Any = SAME, needs: str = "") -> Entry:  # noqa: A002
    return Entry(id, field, value, False, None, (), stored, needs)


ESC_CLEAR = "\x1b[2J\x1b[1;31m督办！！\x1b[0m"
GBK = "井盖丢失".encode("gbk").decode("utf-8", "surrogateescape")  # a GBK argument on a UTF-8 system
ROAD = "人民路 12 号"

_CONTROLS = {"nul": "\x00", "soh": "\x01", "bel": "\x07", "bs": "\x08", "vt": "\x0b", "ff": "\x0c", "esc": "\x1b",
             "del": "\x7f", "pad": "\x80", "nel": "\x85", "csi": "\x9b"}
_BIDI = {"lre": "\u202a", "rle": "\u202b", "pdf": "\u202c", "lro": "\u202d", "rlo": "\u202e", "lri": "\u2066",
         "rli": "\u2067", "fsi": "\u2068", "pdi": "\u2069"}
_INVISIBLE = {"spaces": "   ", "ideographic": "\u3000\u3000", "zwsp": "\u200b\u200b\u200b", "bom": "\ufeff",
              "joiners": "\u200b \u200c\u200d\u2060", "whitespace": "\t\n\r\n", "fillers": "\u3164\u115f\u2800",
              "soft-hyphen": "\u00ad", "marks-only": "\u0301\u0301"}

DESCRIPTION = [
    *(_refuse(f"description-{k}", "description", f"人民路井盖缺失{c}后文", f"U+{ord(c):04X}", "控制字符")
      for k, c in _CONTROLS.items()),
    *(_refuse(f"description-bidi-{k}", "description", f"付款{c}gpj.exe", f"U+{ord(c):04X}", "方向")
      for k, c in _BIDI.items()),
    *(_refuse(f"description-invisible-{k}", "description", v, "问题描述不能为空") for k, v in _INVISIBLE.items()),
    _refuse("description-empty", "description", "", "问题描述不能为空"),
    _refuse("description-none", "description", None, "问题描述不能为空"),
    _refuse("description-terminal-clear", "description", ESC_CLEAR, "U+001B"),
    _refuse("description-gbk-bytes", "description", GBK, "UTF-8", "0x"),
    _refuse("description-lone-surrogate", "description", "井盖\ud800", "代理字符"),
    _refuse("description-nonchar", "description", "井盖\uffff", "非字符"),
    _refuse("description-zalgo", "description", "井" + "\u0336" * 80, "组合符号"),
    _refuse("description-2001", "description", "井" * 2001, "2,001 字", "2,000 字上限"),
    _refuse("description-120kb", "description", "督办" * 61_440, "122,880 字"),
    _refuse("description-10mb", "description", "x" * 10_000_000, "10,000,000 字"),
    _refuse("description-bytes", "description", b"\xbe\xae\xb8\xc7", "应为文本"),
    _refuse("description-number", "description", 12345, "应为文本"),
    _accept("description-markup", "description",
            '<font color="red" size="6">RED-BIG</font><img src="/some/local/file.png"><a href="http://x">CLICK</a>'),
    _accept("description-heading", "description", "<h1>标题</h1><script>alert(1)</script>"),
    _accept("description-sql", "description", "'; DROP TABLE cases; --"),
    _accept("description-format", "description", "{0} {description} %s %n %(x)s {{}}"),
    _accept("description-crlf", "description", "井盖缺失\r\n第二行\r第三行", "井盖缺失\n第二行\n第三行"),
    _accept("description-2000", "description", "井" * 2000),
    _accept("description-nfc", "description", "Cafe\u0301 门口", "Caf\u00e9 门口"),
    _accept("description-trimmed", "description", "\u200b  井盖缺失 \ufeff", "井盖缺失"),
    _accept("description-emoji-zwj", "description", "🧑\u200d🚒 消防栓漏水"),
    _accept("description-tabs", "description", "井盖\t缺失"),
]

ADDRESS = [
    _refuse("address-3000", "address", ROAD + "东" * (3000 - len(ROAD)), "地址共 3,000 字，超过 200 字上限",
            needs="check_draft"),
    _refuse("address-201", "address", ROAD + "东" * (201 - len(ROAD)), "201 字", needs="check_draft"),
    _refuse("address-esc", "address", ROAD + ESC_CLEAR, "U+001B", needs="check_draft"),
    _refuse("address-nul", "address", ROAD + "\x00", "U+0000", needs="check_draft"),
    _refuse("address-rlo", "address", ROAD + "\u202e门北", "U+202E", needs="check_draft"),
    _refuse("address-gbk", "address", ROAD + GBK, "UTF-8", needs="check_draft"),
    _refuse("address-del", "address", ROAD + "\x7f", "U+007F", needs="check_draft"),
    _refuse("address-invisible", "address", "\u200b\u3000", "缺少位置", error_field="location", needs="check_draft"),
    _refuse("address-unknown-road", "address", "火星大道 1 号", "无法定位地址"),
    _accept("address-heading", "address", "<h1>人民路 1 号</h1>"),
    _accept("address-newline", "address", "人民路\n12 号\t东侧", "人民路 12 号 东侧", needs="check_draft"),
    _accept("address-200", "address", ROAD + "东" * (200 - len(ROAD))),
    _accept("address-trimmed", "address", "\ufeff 人民路 3 号 \u200b", "人民路 3 号", needs="check_draft"),
]

REPORTER = [
    _refuse("reporter-name-65", "reporter_name", "张" * 65, "65 字", "64 字上限", needs="check_draft"),
    _refuse("reporter-name-10000", "reporter_name", "张" * 10_000, "10,000 字", needs="check_draft"),
    _refuse("reporter-name-esc", "reporter_name", "张三" + ESC_CLEAR, "U+001B", needs="check_draft"),
    _refuse("reporter-name-rlo", "reporter_name", "\u202e三张", "U+202E", needs="check_draft"),
    _refuse("reporter-name-bel", "reporter_name", "张\x07三", "U+0007", needs="check_draft"),
    _refuse("reporter-name-gbk", "reporter_name", GBK, "UTF-8", needs="check_draft"),
    _accept("reporter-name-invisible", "reporter_name", "\u200b\u3000", None, needs="check_draft"),
    _accept("reporter-name-newline", "reporter_name", "张\n三", "张 三", needs="check_draft"),
    _accept("reporter-name-markup", "reporter_name", "<b>张三</b>"),
    _refuse("reporter-phone-33", "reporter_phone", "1" * 33, "33 字", "32 字上限", needs="check_draft"),
    _refuse("reporter-phone-letters", "reporter_phone", "call me", "不是数字", needs="check_draft"),
    _refuse("reporter-phone-script", "reporter_phone", "138<script>", "不是数字", needs="check_draft"),
    _refuse("reporter-phone-esc", "reporter_phone", "138\x1b[2J", "U+001B", needs="check_draft"),
    _refuse("reporter-phone-short", "reporter_phone", "12", "至少应有 3 位数字", needs="check_draft"),
    _accept("reporter-phone-fullwidth", "reporter_phone", "１３８００１３８０００", "13800138000", needs="check_draft"),
    _accept("reporter-phone-extension", "reporter_phone", "0512-6511 0000 转 8"),
]

CODES = [
    _accept("category-fullwidth", "category", "ｅｖｅｎｔ：０６０１０", "06010"),
    _accept("category-fullwidth-digits", "category", "event:０６０１０", "06010"),
    _accept("category-arabic-indic", "category", "event:٠٦٠١٠", "06010"),
    _refuse("category-esc", "category", "event:06010\x1b[2J", "U+001B"),
    _refuse("category-rlo", "category", "event:\u202e01060", "U+202E"),
    _refuse("category-nul", "category", "event:06\x0010", "U+0000"),
    _refuse("category-10000", "category", "6" * 10_000, "10,000 字"),
    _refuse("category-invisible", "category", "\u200b\u200b", "缺少问题类别"),
    _refuse("category-markup", "category", "<script>alert(1)</script>", "未知的类别代码"),
    _refuse("category-gbk", "category", GBK, "UTF-8"),
    _refuse("category-unknown-kind", "category", "火星:06010", "类型「火星」无效", error_field="kind"),
    _refuse("kind-esc", "kind", "event\x1b", "U+001B"),
    _refuse("kind-long", "kind", "e" * 5000, "5,000 字"),
    _refuse("level-esc", "level", "urgent\x1b[31m", "U+001B"),
    _refuse("level-10000", "level", "u" * 10_000, "10,000 字"),
    _refuse("level-unknown", "level", "critical", "等级「critical」无效"),
    _refuse("level-rlo", "level", "\u202etnegru", "U+202E"),
    _accept("level-fullwidth", "level", "ｕｒｇｅｎｔ", "urgent"),
    _accept("level-label", "level", " 紧急 ", "urgent"),
    _refuse("source-esc", "source", "hotline\x07", "U+0007"),
    _refuse("source-long", "source", "h" * 3000, "3,000 字"),
    _refuse("source-unknown", "source", "telegram", "来源「telegram」无效"),
    _accept("source-fullwidth", "source", "ｈｏｔｌｉｎｅ", "hotline"),
    _accept("source-invisible-defaults", "source", "\u200b", "hotline"),
    _accept("component-fullwidth", "component", "３２０５９９０１００２０００００１", "32059901002000001"),
    _refuse("component-esc", "component", "32059901002\x1b000001", "U+001B"),
    _refuse("component-long", "component", "3" * 10_000, "10,000 字"),
    _refuse("component-rlo", "component", "\u202e32059901002000001", "U+202E"),
    _refuse("component-letters", "component", "3205990100200000X", "不是数字"),
    _refuse("component-18", "component", "320599010020000011", "实际18位"),
]

LOCATION = [
    _refuse("at-huge", "at", (1e308, 1e308), "超出范围", error_field="location", needs="check_draft"),
    _refuse("at-nan", "at", (float("nan"), 3464450.0), "坐标不完整或无效", error_field="location"),
    _refuse("at-inf", "at", (float("inf"), float("-inf")), "坐标不完整或无效", error_field="location"),
    _refuse("at-outside", "at", (0.0, 0.0), "不在本区", error_field="location"),
    _refuse("lonlat-huge", "lonlat", (1e308, 1e308), "不在中国范围内", error_field="location"),
    _refuse("lonlat-nan", "lonlat", (float("nan"), 31.3), "经纬度无效", error_field="location"),
    _refuse("lonlat-swapped", "lonlat", (31.3, 120.6), "写反", error_field="location"),
]


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def _bomb() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, format="PNG")
    return buf.getvalue()


PNG = _png()

PHOTOS = [
    _refuse("photo-empty", "photo", ("空.png", b""), "空文件"),
    _refuse("photo-text", "photo", ("a.jpg", "这不是照片".encode()), "不是图片"),
    _refuse("photo-pdf", "photo", ("a.jpg", b"%PDF-1.7 not a photo"), "不是图片"),
    _refuse("photo-html", "photo", ("a.png", b"<html><img src=/etc/passwd></html>"), "不是图片"),
    _refuse("photo-svg", "photo", ("a.png", b"<svg onload=alert(1)/>"), "不是图片"),
    _refuse("photo-gif", "photo", ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), "不是图片"),
    _refuse("photo-jpeg-garbage", "photo", ("坏.jpg", b"\xff\xd8\xff\xe0" + b"garbage" * 20), "已损坏"),
    _refuse("photo-png-truncated", "photo", ("半.png", PNG[:40]), "已损坏"),
    _refuse("photo-webp-header-only", "photo", ("a.webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "), "已损坏"),
    _refuse("photo-bomb", "photo", ("bomb.png", _bomb()), "像素过大"),
    _refuse("photo-too-big", "photo", ("大.png", PNG + b"\0" * (10 * 1024 * 1024)), "超过上限"),
    _refuse("photo-name-esc", "photo", ("a\x1b[2J.png", PNG), "U+001B"),
    _refuse("photo-name-rlo", "photo", ("gnp\u202e.exe", PNG), "U+202E"),
    _accept("photo-name-newline", "photo", ("a\n.png", PNG), "a .png"),
    _refuse("photo-name-long", "photo", ("长" * 5000 + ".png", PNG), "5,004 字"),
    _refuse("photo-name-gbk", "photo", (GBK + ".png", PNG), "UTF-8"),
    _refuse("photo-not-bytes", "photo", ("a.png", "not bytes"), "应为字节"),
    *(_refuse(f"photo-file-{k}", "photo_file", k, *w) for k, w in {
        "fifo": ("命名管道",), "dev-zero": ("设备文件",), "dev-null": ("设备文件",), "sparse-4g": ("超过上限",),
        "empty": ("空文件",), "directory": ("是目录",), "text-jpg": ("不是图片",), "missing": ("不存在",),
        "symlink-zero": ("设备文件",), "socket": ("套接字",), "nul-in-path": ("空字符",),
        "symlink-loop": ("无法读取照片文件",), "zeros-png": ("不是图片",),
    }.items()),
    _accept("photo-file-real", "photo_file", "real-png", "现场.png"),
    _accept("photo-markup-name", "photo", ("<img src=x onerror=alert(1)>.png", PNG)),
]

NOTES = [
    _refuse("note-terminal-clear", "note", ESC_CLEAR, "理由", "U+001B", error_field="reason", needs="reason"),
    _refuse("note-1001", "note", "督" * 1001, "1,001 字", "1,000 字上限", error_field="reason", needs="reason"),
    _refuse("note-120kb", "note", "督办" * 61_440, "122,880 字", error_field="reason", needs="reason"),
    _refuse("note-rlo", "note", "请\u202e办督", "U+202E", error_field="reason", needs="reason"),
    _refuse("note-nul", "note", "督办\x00", "U+0000", error_field="reason", needs="reason"),
    _refuse("note-gbk", "note", GBK, "UTF-8", error_field="reason", needs="reason"),
    _refuse("note-bel", "note", "督办\x07\x07\x07", "U+0007", error_field="reason", needs="reason"),
    _accept("note-markup", "note", "<b>尽快</b><img src=/etc/passwd>"),
    _accept("note-crlf", "note", "第一条\r\n第二条", "第一条\n第二条", needs="reason"),
    _accept("note-1000", "note", "督" * 1000),
]

CORPUS: list[Entry] = [*DESCRIPTION, *ADDRESS, *REPORTER, *CODES, *LOCATION, *PHOTOS, *NOTES]


def make_file(kind: str, where: Path) -> str:
    """The path of a photo file of ``kind`` made under ``where`` (the caller removes ``where``)."""
    path = where / f"{kind}.jpg"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        return "/dev/zero"
    elif kind == "dev-null":
        return "/dev/null"
    elif kind == "sparse-4g":
        with open(path, "wb") as fh:
            fh.truncate(4 * 1024 ** 3)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "text-jpg":
        path.write_text("这不是照片。" * 200, encoding="utf-8")
    elif kind == "missing":
        pass
    elif kind == "symlink-zero":
        path.symlink_to("/dev/zero")
    elif kind == "socket":
        path = where / "s.jpg"  # sun_path is short: keep the name short
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.close()  # the socket file stays
    elif kind == "nul-in-path":
        return f"{where}/a\0b.jpg"
    elif kind == "symlink-loop":
        path.symlink_to(path)
    elif kind == "zeros-png":
        path = where / "zeros.png"
        path.write_bytes(b"\0" * (1024 * 1024))
    elif kind == "real-png":
        path = where / "现场.png"
        path.write_bytes(PNG)
    else:
        raise ValueError(kind)
    return str(path)


assert len({e.id for e in CORPUS}) == len(CORPUS), "corpus ids must be unique"
