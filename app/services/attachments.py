"""Photos attached to cases: checked by content (JPEG/PNG/WebP magic bytes, decodable), size-capped.

A photo file is checked before it is read (:func:`load_photo`): only a regular file is opened
(FIFOs, devices, sockets and directories are refused from ``stat`` without opening them), its
size comes from ``stat`` (a sparse 4 GB file is refused without reading a byte), it is opened
non-blocking and checked again on the open descriptor (a file swapped for a FIFO in between
cannot block), its type is sniffed from the first bytes before the rest is read, and the rest
is read in bounded chunks up to a hard cap.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import text as policy
from app.domain.messages import Msg, msg_of
from app.services.errors import ValidationError
from app.store.models import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
#: Decoded images larger than this many pixels are refused (a small file can claim a huge canvas).
MAX_PIXELS = 64_000_000
#: Bytes read from a photo file at a time.
CHUNK = 256 * 1024
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
        with warnings.catch_warnings():  # the pixel count is checked here, with a clear message
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(photo.data)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise ValidationError("photo", Msg("图片「{filename}」的尺寸 {width}×{height} 像素过大（最多 {limit:,} 像素）",
                                                       filename=photo.filename, width=width, height=height,
                                                       limit=MAX_PIXELS))
                img.verify()
            with Image.open(io.BytesIO(photo.data)) as img:
                exif = img.getexif()
                # DateTimeOriginal lives in the Exif sub-IFD (0x8769); DateTime (306) in IFD0 is the fallback
                raw = exif.get_ifd(0x8769).get(36867) or exif.get(36867) or exif.get(306)
    except Image.DecompressionBombError:
        raise ValidationError("photo", Msg("图片「{filename}」的像素过多（最多 {limit:,} 像素），无法打开",
                                           filename=photo.filename, limit=MAX_PIXELS)) from None
    except ValidationError:
        raise
    except Exception:
        raise ValidationError("photo", Msg("文件「{filename}」看起来是 {format} 图片，但已损坏或不完整，无法打开；请重新拍摄或导出后再上传",
                                           filename=photo.filename, format=mime.split('/')[1].upper())) from None
    try:
        return datetime.strptime(str(raw).strip(), "%Y:%m:%d %H:%M:%S") if raw else None
    except ValueError:
        return None


def check_photo(photo: PhotoInput, max_bytes: int = DEFAULT_MAX_BYTES) -> CheckedPhoto:
    """Validate one photo (name, type by content, size, decodability); ValidationError('photo', ...) if bad."""
    try:
        name = policy.clean_text("filename", photo.filename) or "（未命名）"
    except policy.TextRefused as exc:
        raise ValidationError("photo", msg_of(exc)) from None
    if photo.kind not in KINDS:
        raise ValidationError("photo", Msg("附件类型「{kind}」无效：应为 {kinds} 之一",
                                           kind=policy.excerpt(photo.kind, 24), kinds=list(KINDS)))
    if not isinstance(photo.data, (bytes, bytearray, memoryview)) and photo.data is not None:
        raise ValidationError("photo", Msg("照片「{name}」的内容应为字节，实际为 {type}", name=name,
                                           type=type(photo.data).__name__))
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
    return CheckedPhoto(filename=name, data=bytes(photo.data), kind=photo.kind, mime=mime,
                        sha256=hashlib.sha256(photo.data).hexdigest(), taken_at=photo.taken_at or exif_time)


def check_photos(photos: Iterable[PhotoInput] | None, max_bytes: int = DEFAULT_MAX_BYTES) -> list[CheckedPhoto]:
    """Check every photo before anything is written (the first bad one raises)."""
    return [check_photo(p, max_bytes) for p in photos or ()]


def _refuse(p: str, what: Msg) -> ValidationError:
    return ValidationError("photo", Msg("「{p}」{what}，不能作为照片：只接受普通的图片文件", p=policy.excerpt(p, 80),
                                        what=what))


def _file_name(p: str) -> str:
    """The file's name as text: bytes that are not UTF-8 shown as U+FFFD (a name on disk, not typed)."""
    return os.fsencode(os.path.basename(p)).decode("utf-8", "replace")


def _not_regular(mode: int) -> Msg | None:
    """What a file is when it is not a regular file (from its ``st_mode``), else None."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return Msg("是目录")
    if stat.S_ISFIFO(mode):
        return Msg("是命名管道（FIFO）")
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return Msg("是设备文件")
    if stat.S_ISSOCK(mode):
        return Msg("是套接字")
    return Msg("不是普通文件")


def load_photo(path: str | os.PathLike[str], kind: str = "report", max_bytes: int = DEFAULT_MAX_BYTES) -> PhotoInput:
    """Read a photo file from disk (for the CLI and importers), checking it before reading.

    Only a regular file is opened (``stat`` first: FIFOs, devices, sockets and directories are
    refused without opening them); its size from ``stat`` is checked against ``max_bytes`` (a
    sparse giant is refused unread); it is opened with ``O_NONBLOCK`` and checked again on the
    descriptor; the first bytes must be a JPEG, PNG or WebP before the rest is read, in chunks,
    never more than ``max_bytes`` + 1 bytes (a file growing meanwhile is refused by size).
    """
    p = os.fspath(path)
    if not isinstance(p, str):
        p = os.fsdecode(p)
    if not p.strip():
        raise ValidationError("photo", Msg("照片文件名为空：请给出照片文件的路径"))
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise ValidationError("photo", Msg("照片文件不存在：{p}", p=policy.excerpt(p, 80))) from None
    except ValueError:  # an embedded NUL byte
        raise ValidationError("photo", Msg("照片文件的路径「{p}」含有空字符 U+0000，不是有效的文件路径",
                                           p=policy.excerpt(p, 80))) from None
    except OSError as exc:
        raise ValidationError("photo", Msg("无法读取照片文件 {p}：{strerror}", p=policy.excerpt(p, 80),
                                           strerror=exc.strerror or type(exc).__name__)) from None
    problem = _not_regular(st.st_mode)
    if problem is not None:
        raise _refuse(p, problem)
    name = _file_name(p)
    _check_size(name, st.st_size, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(p, flags)
    except OSError as exc:
        raise ValidationError("photo", Msg("无法读取照片文件 {p}：{strerror}", p=policy.excerpt(p, 80),
                                           strerror=exc.strerror or type(exc).__name__)) from None
    try:
        st = os.fstat(fd)  # what was opened, not what the path named a moment ago
        problem = _not_regular(st.st_mode)
        if problem is not None:
            raise _refuse(p, problem)
        _check_size(name, st.st_size, max_bytes)
        data = _read_bounded(fd, name, max_bytes)
    except OSError as exc:
        raise ValidationError("photo", Msg("无法读取照片文件 {p}：{strerror}", p=policy.excerpt(p, 80),
                                           strerror=exc.strerror or type(exc).__name__)) from None
    finally:
        os.close(fd)
    return PhotoInput(filename=name, data=data, kind=kind)


def _check_size(name: str, size: int, max_bytes: int) -> None:
    if size == 0:
        raise ValidationError("photo", Msg("文件「{name}」是空文件（0 字节），不是照片", name=policy.excerpt(name)))
    if size > max_bytes:
        raise ValidationError("photo", Msg("照片「{name}」大小 {size}，超过上限 {limit}；请压缩后再上传",
                                           name=policy.excerpt(name), size=_size_text(size),
                                           limit=_size_text(max_bytes)))


def _read_bounded(fd: int, name: str, max_bytes: int) -> bytes:
    """At most ``max_bytes`` + 1 bytes, in chunks; the type is sniffed from the first chunk."""
    parts: list[bytes] = []
    total = 0
    while total <= max_bytes:
        chunk = os.read(fd, min(CHUNK, max_bytes + 1 - total))
        if not chunk:
            break
        if not parts and len(chunk) >= 12 and sniff_mime(chunk) is None:
            raise ValidationError("photo", Msg("文件「{name}」不是图片（只接受 JPEG、PNG 或 WebP 照片，按文件内容判断，与扩展名无关）",
                                               name=policy.excerpt(name)))
        parts.append(chunk)
        total += len(chunk)
    if total > max_bytes:
        _check_size(name, total, max_bytes)
    return b"".join(parts)


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


__all__ = ["CHUNK", "DEFAULT_MAX_BYTES", "KINDS", "MAX_PIXELS", "CheckedPhoto", "PhotoInput", "check_photo", "check_photos",
           "kind_label", "load_photo", "photo_kinds", "sniff_mime", "store_photos"]
