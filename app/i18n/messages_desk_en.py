"""English for the desk messages; the catalogue merges it in (entries of the other tables win)."""

from __future__ import annotations

DESK_EN: dict[str, str] = {
    # the case archive's paging buttons, disabled: why
    "已是第一页": "This is the first page",
    "已是最后一页": "This is the last page",
    "正在查找…": "Searching…",
    "先输入条件并查找": "Enter what to look for and search first",
    # the statistics dock's buttons: when they can be used (issue 10: a disabled action says why)
    "取消正在进行的统计或月报（没有正在进行时不可用）": "Cancel the statistics or bulletin being made (unavailable when none is running)",
    "只列出所点图形中超时的案卷（所点图形有超时案卷时可用）": "List only the overdue cases of the clicked bar (available when it has overdue cases)",
    "在地图上标出列出的案卷（先点图中的柱或扇形列出案卷）": "Mark the listed cases on the map (click a bar or slice first to list cases)",
    # the intake form's possible duplicates
    "把这份上报关联到列表中选中的案卷，不另行立案（先在列表中选中一件）":
        "Link this report to the case selected in the list instead of filing a new one (select one in the list first)",
    # F1 help: the intake form's own key
    "在上报表单中：上报（与“上报”按钮相同）": "In the report form: send the report (as its button does)",
}
