"""Photos attached to cases: checked by content (JPEG/PNG/WebP magic bytes, decodable), size-capped."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.messages import Msg
from app.services.errors import ValidationError
from app.store.models import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Attachment kinds: report photos, before/after handling, anything else.
KINDS = ("report", "before", "after", "other")
_KIND_LABELS = {"report": "上报照片", "before": "处置前照片", "after": "处置后照片", "other": "附件"}


@dataclass(frozen=True)
class PhotoInput:
    """A photo to attach: file name, bytes, kind and (optionally) when it was taken."""

    filename: str
    data: bytes
    kind: str = "report"
    taken_at: datetime | None = None


@dataclass(frozen=True)
class CheckedPhoto:
    """A photo that passed the checks, with its detected type and digest."""

    filename: str
    data: bytes
    kind: str
    mime: str
    sha256: str
    taken_at: datetime | None


def sniff_mime(data: bytes) -> str | None:
    """The image type from the first bytes (JPEG, PNG or WebP), None for anything else."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _size_text(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"


def _decode(photo: PhotoInput, mime: str) -> datetime | None:
    """Check that the image decodes; return its EXIF shooting time when it has one."""
    try:
        from PIL import Image
    except ImportError:  # Pillow missing: the magic bytes are all we can check
        return None
    try:
        with Image.open(io.BytesIO(photo.data)) as img:
            img.verify()
        with Image.open(io.BytesIO(photo.data)) as img:
            raw = img.getexif().get(36867) or img.getexif().get(306)  # DateTimeOriginal, DateTime
    except Exception:
        raise ValidationError("photo", Msg("文件「{filename}」看起来是 {format} 图片，但已损坏或不完整，无法打开；请重新拍摄或导出后再上传",
                                           filename=photo.filename, format=mime.split('/')[1].upper())) from None
    try:
        return datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S") if raw else None
    except ValueError:
        return None


def check_photo(photo: PhotoInput, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedPhoto:
    """Validate one photo (type by content, size, decodability); ValidationError('photo', ...) if bad."""
    name = photo.filename or "（未命名）"
    if photo.kind not in KINDS:
        raise ValidationError("photo", Msg("附件类型「{kind}」无效：应为 {kinds} 之一",
                                           kind=photo.kind, kinds=list(KINDS)))
    size = len(photo.data or b"")
    if size == 0:
        raise ValidationError("photo", Msg("文件「{name}」是空文件（0 字节），不是照片", name=name))
    if size > max_bytes:
        raise ValidationError("photo", Msg("照片「{name}」大小 {size}，超过上限 {limit}；请压缩后再上传",
                                           name=name, size=_size_text(size),
                                           limit=_size_text(max_bytes)))
    mime = sniff_mime(photo.data)
    if mime is None:
        raise ValidationError("photo", Msg("文件「{name}」不是图片（只接受 JPEG、PNG 或 WebP 照片，按文件内容判断，与扩展名无关）",
                                           name=name))
    exif_time = _decode(photo, mime)
    return CheckedPhoto(filename=name[:200], data=photo.data, kind=photo.kind, mime=mime,
                        sha256=hashlib.sha256(photo.data).hexdigest(), taken_at=photo.taken_at or exif_time)


def check_photos(photos: Iterable[PhotoInput] | None, max_bytes: int = DEFAULT_MAX_BYTES) -> list[CheckedPhoto]:
    """Check every photo before anything is written (the first bad one raises)."""
    return [check_photo(p, max_bytes) for p in photos or ()]


def load_photo(path: str | Path, kind: str = "report", max_bytes: int = DEFAULT_MAX_BYTES) -> PhotoInput:
    """Read a photo file from disk (for the CLI); ValidationError when it cannot be read.

    At most ``max_bytes`` + 1 bytes are read, so an endless or huge file (``/dev/zero``, a disk
    image) is refused by the size check instead of filling memory.
    """
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise ValidationError("photo", Msg("照片文件不存在：{p}", p=p)) from None
    except IsADirectoryError:
        raise ValidationError("photo", Msg("{p} 是目录，不是照片文件", p=p)) from None
    except OSError as exc:
        raise ValidationError("photo", Msg("无法读取照片文件 {p}：{strerror}", p=p, strerror=exc.strerror)) from None
    return PhotoInput(filename=p.name, data=data, kind=kind)


def store_photos(session: Session, case_id: int, event_id: int | None, photos: list[CheckedPhoto]) -> list[int]:
    """Insert checked photos for a case (linked to the event that brought them); returns their ids."""
    rows = [Attachment(case_id=case_id, event_id=event_id, kind=p.kind, filename=p.filename, mime=p.mime,
                       size=len(p.data), sha256=p.sha256, taken_at=p.taken_at, data=p.data) for p in photos]
    session.add_all(rows)
    session.flush()
    return [r.id for r in rows]


def photo_kinds(session: Session, case_id: int) -> set[str]:
    """The kinds of the photos a case has (report, before, after, other)."""
    return set(session.scalars(select(Attachment.kind).where(Attachment.case_id == case_id)).all())


def kind_label(kind: str) -> str:
    """Chinese name of an attachment kind."""
    return _KIND_LABELS.get(kind, kind)


__all__ = ["DEFAULT_MAX_BYTES", "KINDS", "CheckedPhoto", "PhotoInput", "check_photo", "check_photos",
           "kind_label", "load_photo", "photo_kinds", "sniff_mime", "store_photos"]
