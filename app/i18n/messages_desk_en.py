"""English for the desk messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

DESK_EN: dict[str, str] = {
    # the case archive's paging buttons, disabled: why
    "已是第一页": "This is the first page",
    "已是最后一页": "This is the last page",
    "正在查找…": "Searching…",
    "先输入条件并查找": "Enter what to look for and search first",
    # F1 help: the intake form's own key
    "在上报表单中：上报（与“上报”按钮相同）": "In the report form: send the report (as its button does)",
}
