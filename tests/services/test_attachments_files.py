"""Photo files are checked before they are read (app/services/attachments.py load_photo).

Real files, pipes and devices: a FIFO with no writer, /dev/zero, a 4 GB sparse file, an empty
file, a directory, a socket, a text file named .jpg. Each is refused at once with a message
naming what it is; the calls that could block run in a worker thread with a deadline.
"""

from __future__ import annotations

import os
import socket
import threading

import pytest

from app.services.attachments import CHUNK, PhotoInput, check_photo, load_photo
from app.services.errors import ValidationError
from services.world import png_bytes

#: Seconds a refusal may take before the test calls it a hang (a refusal takes microseconds).
DEADLINE = 20


def within_deadline(call):
    """``call()``'s result or exception, failing the test if it does not return in time."""
    box: dict = {}

    def run():
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE)
    assert not worker.is_alive(), f"{call} did not return within {DEADLINE} s (it blocks)"
    if "error" in box:
        raise box["error"]
    return box["value"]


def refused(path, *words, max_bytes: int = 1024 * 1024) -> ValidationError:
    with pytest.raises(ValidationError) as err:
        within_deadline(lambda: load_photo(path, "report", max_bytes=max_bytes))
    assert err.value.field == "photo"
    for w in words:
        assert w in str(err.value), str(err.value)
    assert all(ch.isprintable() for ch in str(err.value)), repr(str(err.value))
    return err.value


def test_a_fifo_without_writer_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    refused(fifo, "命名管道", "photo.jpg")


def test_devices_are_refused_unread():
    refused("/dev/zero", "设备文件")
    refused("/dev/null", "设备文件")
    refused("/dev/urandom", "设备文件")


def test_a_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "现场.jpg"
    link.symlink_to("/dev/zero")
    refused(link, "设备文件")


def test_a_sparse_giant_is_refused_by_its_size(tmp_path):
    big = tmp_path / "disk.jpg"
    with open(big, "wb") as fh:
        fh.truncate(4 * 1024 ** 3)  # 4 GB, no block written
    err = refused(big, "4096.0 MB", "超过上限", max_bytes=10 * 1024 * 1024)
    assert "disk.jpg" in str(err)


def test_a_file_just_over_the_limit_is_refused_by_size(tmp_path):
    f = tmp_path / "a.png"
    f.write_bytes(png_bytes() + b"\0" * 2048)
    refused(f, "超过上限", max_bytes=1024)


def test_an_empty_file(tmp_path):
    f = tmp_path / "空.jpg"
    f.write_bytes(b"")
    refused(f, "空文件", "空.jpg")


def test_a_directory(tmp_path):
    d = tmp_path / "相册.jpg"
    d.mkdir()
    refused(d, "是目录")


def test_a_socket(tmp_path):
    path = tmp_path / "s.jpg"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        refused(path, "套接字")
    finally:
        server.close()


def test_a_text_file_named_jpg_is_refused_from_its_first_bytes(tmp_path):
    f = tmp_path / "photo.jpg"
    f.write_text("这不是照片，只是一段文字。" * 100, encoding="utf-8")
    refused(f, "不是图片")


def test_a_large_non_image_is_refused_after_its_first_chunk(tmp_path):
    f = tmp_path / "film.png"
    f.write_bytes(b"\0" * (CHUNK * 8))
    refused(f, "不是图片", max_bytes=CHUNK * 16)


def test_missing_file_nul_in_path_and_a_loop(tmp_path):
    refused(tmp_path / "nope.jpg", "不存在")
    refused(f"{tmp_path}/a\0b.jpg", "空字符")
    loop = tmp_path / "loop.jpg"
    loop.symlink_to(loop)
    refused(loop, "无法读取照片文件")
    refused("", "照片文件名为空")


def test_a_long_path_is_not_echoed_whole(tmp_path):
    err = refused(tmp_path / ("长" * 5000 + ".jpg"))
    assert len(str(err)) < 300 and "共" in str(err)


def test_a_real_photo_is_read_whole(tmp_path):
    data = png_bytes(64, 64)
    f = tmp_path / "现场.png"
    f.write_bytes(data)
    photo = within_deadline(lambda: load_photo(f, "before"))
    assert photo == PhotoInput("现场.png", data, "before")
    assert check_photo(photo).mime == "image/png"


def test_a_photo_larger_than_one_chunk(tmp_path):
    data = png_bytes(8, 8) + os.urandom(CHUNK * 3)  # trailing bytes after IEND: still a PNG to sniff
    f = tmp_path / "big.png"
    f.write_bytes(data)
    assert within_deadline(lambda: load_photo(f)).data == data


def test_a_file_name_that_is_not_utf8_is_shown_with_replacement_characters(tmp_path):
    name = os.fsdecode("现场".encode("gbk") + b".png")
    f = str(tmp_path / name)
    with open(f, "wb") as fh:
        fh.write(png_bytes())
    photo = load_photo(f)
    assert photo.filename.endswith(".png") and "\ufffd" in photo.filename
    assert check_photo(photo).filename == photo.filename


def test_a_file_name_with_a_terminal_escape_is_refused(tmp_path):
    f = tmp_path / "a\x1b[2J.png"
    f.write_bytes(png_bytes())
    with pytest.raises(ValidationError, match="U\\+001B") as err:
        check_photo(load_photo(f))
    assert err.value.field == "photo"


def test_a_decompression_bomb_is_refused_by_its_pixel_count():
    import io

    from PIL import Image

    for size, words in (((10_000, 10_000), "10000×10000 像素过大"), ((20_000, 10_000), "像素过多")):
        buf = io.BytesIO()
        Image.new("1", size).save(buf, format="PNG")  # 100 (200) M pixels in a few KB
        with pytest.raises(ValidationError, match=words):
            check_photo(PhotoInput("bomb.png", buf.getvalue()))
