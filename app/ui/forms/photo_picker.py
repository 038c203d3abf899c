"""Photos: a picker with preview thumbnails for forms, and a read-only strip for case details."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QSize, Qt, Signal
from qtpy.QtGui import QIcon, QImage, QPixmap
from qtpy.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.i18n import Catalogue
from app.services.attachments import DEFAULT_MAX_BYTES, PhotoInput, kind_label, sniff_mime
from app.ui import plain
from app.ui.forms.common import FieldError

THUMB = QSize(96, 72)


def thumbnail(data: bytes, size: QSize = THUMB) -> QPixmap | None:
    """A scaled pixmap of image bytes (None when Qt cannot decode them)."""
    image = QImage()
    if not image.loadFromData(data):
        return None
    return QPixmap.fromImage(image.scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                          Qt.TransformationMode.SmoothTransformation))


def _thumb_list(name: str) -> QListWidget:
    view = QListWidget(objectName=name)
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setIconSize(THUMB)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(False)
    view.setMovement(QListView.Movement.Static)
    view.setFixedHeight(THUMB.height() + 44)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    return view


class PhotoPicker(QWidget):
    """Add photo files (checked here: image content, size) and see them as thumbnails."""

    changed = Signal()

    def __init__(self, catalogue: Catalogue | None = None, parent=None, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        super().__init__(parent)
        self.setObjectName("photoPicker")
        self.cat = catalogue or Catalogue()
        self.max_bytes = max_bytes
        self._photos: list[PhotoInput] = []
        self.view = _thumb_list("photoThumbs")
        self.add_button = QPushButton(self.cat.tr("添加照片…"), objectName="addPhoto")
        self.remove_button = QPushButton(self.cat.tr("移除"), objectName="removePhoto")
        self.error = FieldError("photo", self)
        self.add_button.clicked.connect(self.browse)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.view, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.error)

    def browse(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.cat.tr("选择照片"), "",
                                                self.cat.tr("照片 (*.jpg *.jpeg *.png *.webp);;所有文件 (*)"))
        self.add_files(paths)

    def add_files(self, paths) -> list[str]:
        """Add image files; returns the messages of the ones refused (also shown under the list)."""
        problems = []
        for path in paths:
            p = Path(path)
            try:
                data = p.read_bytes()
            except OSError as exc:
                problems.append(self.cat.tr("无法读取「{name}」：{error}", name=p.name, error=exc.strerror))
                continue
            problem = self.add_bytes(p.name, data)
            if problem:
                problems.append(problem)
        if problems:
            self.error.show_error(self.cat.tr("；").join(problems))
        return problems

    def add_bytes(self, filename: str, data: bytes, kind: str = "report") -> str | None:
        """Add one photo from bytes; returns why it was refused, or None."""
        if len(data) > self.max_bytes:
            return self.cat.tr("「{name}」超过 {mb} MB，请压缩后再添加", name=filename, mb=self.max_bytes // 1024 // 1024)
        pixmap = thumbnail(data) if sniff_mime(data) else None
        if pixmap is None:
            return self.cat.tr("「{name}」不是 JPEG/PNG/WebP 照片", name=filename)
        self._photos.append(PhotoInput(filename, data, kind))
        item = QListWidgetItem(QIcon(pixmap), plain.line(filename)[:14])
        item.setToolTip(plain.tooltip(filename))  # a file name is whatever its sender chose
        self.view.addItem(item)
        self.error.clear_error()
        self.changed.emit()
        return None

    def remove_selected(self) -> None:
        row = self.view.currentRow()
        if 0 <= row < len(self._photos):
            del self._photos[row]
            self.view.takeItem(row)
            self.changed.emit()

    def photos(self, kind: str = "report") -> tuple[PhotoInput, ...]:
        """The added photos as service inputs of ``kind``."""
        return tuple(PhotoInput(p.filename, p.data, kind) for p in self._photos)

    def clear(self) -> None:
        self._photos.clear()
        self.view.clear()
        self.error.clear_error()


class PhotoStrip(QWidget):
    """Read-only thumbnails of a case's stored photos (kind shown under each)."""

    def __init__(self, catalogue: Catalogue | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("photoStrip")
        self.cat = catalogue or Catalogue()
        self.title = QLabel(self.cat.tr("照片"), objectName="photoStripTitle")
        self.view = _thumb_list("photoStripThumbs")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view)

    def show_photos(self, photos) -> None:
        """Show records with ``kind``, ``filename`` and ``data`` (PhotoRecord)."""
        self.view.clear()
        for p in photos:
            pixmap = thumbnail(p.data)
            label = f"{kind_label(p.kind)}"
            item = QListWidgetItem(QIcon(pixmap) if pixmap else QIcon(), label)
            item.setToolTip(plain.tooltip(f"{kind_label(p.kind)} · {p.filename}"))
            self.view.addItem(item)
        self.title.setText(self.cat.tr("照片 ({n})", n=len(list(photos))) if photos else self.cat.tr("照片：无"))
