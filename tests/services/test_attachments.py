"""Photo checks by content: type from magic bytes, decodable, size-capped, EXIF shooting time kept."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from PIL import Image

from app.services.attachments import PhotoInput, check_photo, load_photo, sniff_mime
from app.services.errors import ValidationError


def _image(fmt: str, exif_time: str | None = None) -> bytes:
    buf = io.BytesIO()
    img = Image.new("RGB", (16, 16), (10, 120, 200))
    if exif_time:
        exif = Image.Exif()
        exif[306] = exif_time
        img.save(buf, format=fmt, exif=exif)
    else:
        img.save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt, mime", [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")])
def test_real_images_pass_with_their_type(fmt, mime):
    data = _image(fmt)
    assert sniff_mime(data) == mime
    checked = check_photo(PhotoInput("x.bin", data, "before"))  # the extension does not matter
    assert checked.mime == mime and len(checked.sha256) == 64


def test_exif_shooting_time_is_kept():
    checked = check_photo(PhotoInput("现场.jpg", _image("JPEG", "2026:03:02 08:15:00")))
    assert checked.taken_at == datetime(2026, 3, 2, 8, 15)


def test_bad_kind_and_missing_file(tmp_path):
    with pytest.raises(ValidationError, match="附件类型「selfie」无效"):
        check_photo(PhotoInput("a.png", _image("PNG"), "selfie"))
    with pytest.raises(ValidationError, match="照片文件不存在"):
        load_photo(tmp_path / "nope.jpg")


def test_an_endless_file_is_refused_before_it_is_read():
    """`--photo /dev/zero` (or a disk image) must not fill memory: a device is refused from stat
    (more cases in tests/services/test_attachments_files.py)."""
    from app.services.attachments import load_photo
    from app.services.errors import ValidationError

    with pytest.raises(ValidationError, match="是设备文件") as err:
        load_photo("/dev/zero", "report", max_bytes=1024)
    assert err.value.field == "photo"
