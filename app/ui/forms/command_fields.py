"""Widgets for a command's declared fields (``app.commands.Field``) and reading their values back."""

from __future__ import annotations

from typing import Any

from qtpy.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPlainTextEdit, QSpinBox, QWidget

from app.commands import Field, FieldKind
from app.domain.definitions import Level
from app.i18n import Catalogue
from app.ui import plain
from app.ui.forms.photo_picker import PhotoPicker
from app.ui.plain import PlainLabel

#: Item data of a department picker meaning "each case's first suggestion" (bulk dispatch).
FIRST_SUGGESTION = None


def field_label(f: Field, cat: Catalogue) -> str:
    """The form row's label (a check box carries its own text)."""
    if f.kind is FieldKind.BOOL:
        return ""
    return cat.tr(f.label) + (" *" if f.required else "")


def field_widget(f: Field, cat: Catalogue, case=None, departments=None, *, first_suggestion: bool = False) -> QWidget:
    """A widget for ``f`` starting at its default (a level starts at ``case``'s level)."""
    tr = cat.tr
    name = f"field_{f.name}"
    if f.kind in (FieldKind.LINE, FieldKind.CASE_REF, FieldKind.POINT):
        edit = QLineEdit(objectName=name)
        if f.help:
            edit.setPlaceholderText(tr(f.help))
        if f.default is not None:
            edit.setText(str(f.default))
        return edit
    if f.kind is FieldKind.TEXT:
        text = QPlainTextEdit(objectName=name)
        text.setFixedHeight(90)
        if f.help:
            text.setPlaceholderText(tr(f.help))
        if f.default:
            text.setPlainText(str(f.default))
        return text
    if f.kind is FieldKind.INT:
        spin = QSpinBox(objectName=name)
        spin.setRange(f.minimum if f.minimum is not None else 0,
                      f.maximum if f.maximum is not None else 2_000_000_000)
        if f.step:
            spin.setSingleStep(f.step)
        if f.default is not None:
            spin.setValue(int(f.default))
        if f.suffix:
            spin.setSuffix(tr(f.suffix))
        return spin
    if f.kind is FieldKind.BOOL:
        box = QCheckBox(tr(f.label), objectName=name)
        box.setChecked(bool(f.default))
        return box
    if f.kind in (FieldKind.CHOICE, FieldKind.LEVEL, FieldKind.DEPARTMENT):
        combo = QComboBox(objectName=name)
        if f.kind is FieldKind.CHOICE:
            for value, label in f.choices:
                combo.addItem(tr(label), value)
            default = f.default
        elif f.kind is FieldKind.LEVEL:
            for lvl in Level:
                combo.addItem(cat.label(lvl), lvl.value)
            default = case.level.value if case is not None and getattr(case, "level", None) else f.default
        else:
            if first_suggestion:
                combo.addItem(tr("按各案卷的首选建议"), FIRST_SUGGESTION)
            # sized to a usual name, not the longest one (a department's name is data)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(24)
            set_departments(combo, departments or [])
            default = f.default
        if default is not None and combo.findData(default) >= 0:
            combo.setCurrentIndex(combo.findData(default))
        return combo
    if f.kind is FieldKind.INFO:
        return PlainLabel(tr("正在加载…"), max_chars=2000, max_lines=30, objectName=name)
    picker = PhotoPicker(cat)
    picker.setObjectName(name)
    return picker


def set_choices(combo: QComboBox, rows, cat: Catalogue) -> None:
    """Replace a CHOICE picker's items with loaded (value, label) rows (labels are data: one plain line)."""
    combo.clear()
    for value, label in rows:
        combo.addItem(plain.line(cat.text(label), 120), value)


def set_departments(combo: QComboBox, departments) -> None:
    """Add (id, code, name) departments to a department picker (after its first-suggestion item)."""
    for dept_id, code, name in departments:
        combo.addItem(plain.line(f"{name}（{code}）", 80), dept_id)  # a department's name is data


def field_value(f: Field, widget: QWidget) -> Any:
    """What ``widget`` holds, as the command's value for ``f``."""
    if f.kind in (FieldKind.LINE, FieldKind.CASE_REF):
        return widget.text().strip() or None
    if f.kind is FieldKind.POINT:
        text = widget.text().replace("，", ",").strip()
        try:
            x, y = (float(v) for v in text.split(","))
        except ValueError:
            return text or None
        return x, y
    if f.kind is FieldKind.TEXT:
        return widget.toPlainText().strip()
    if f.kind is FieldKind.INT:
        return int(widget.value())
    if f.kind is FieldKind.BOOL:
        return widget.isChecked()
    if f.kind in (FieldKind.CHOICE, FieldKind.LEVEL, FieldKind.DEPARTMENT):
        return widget.currentData()
    if f.kind is FieldKind.PHOTOS:
        return widget.photos(f.photo_kind)
    return None
