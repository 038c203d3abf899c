"""English for basic-data maintenance and the QGIS project (issue 15 items 4-5); the catalogue merges it in."""

from __future__ import annotations

BASE_MAINT_EN: dict[str, str] = {
    # history and numbering (app/domain/base_history.py)
    "基础数据变更记录第 {expected} 条缺失（下一条是第 {seq} 条）":
        "base-data history entry {expected} is missing (the next one is {seq})",
    "基础数据变更记录第 {seq} 条的前一哈希不符：前一条被改动或删除":
        "base-data history entry {seq}: the previous hash does not match (the entry before was changed or deleted)",
    "基础数据变更记录第 {seq} 条的内容与哈希不符：该条被改动":
        "base-data history entry {seq}: its content does not match its hash (the entry was changed)",
    "社区 {community} 的网格顺序号已用到 {top}，不足 {n} 个新编码（最大 999，已注销的编码不再使用）":
        "community {community} has used grid sequence numbers up to {top}: not enough for {n} new codes "
        "(999 at most; retired codes are never reused)",
    "修改属性": "Edit attributes",
    "移动位置": "Move",
    "变更状态": "Change status",
    "新增": "Add",
    "注销": "Retire",
    "拆分": "Split",
    "合并": "Merge",
    "改属网格": "Reassign grid",
    # the service (app/services/base_maintenance.py)
    "只有管理员可以维护基础数据（{user} 是{role}）": "Only the administrator maintains base data ({user} is {role})",
    "{label}最多 {limit} 个字符，实际 {n} 个": "{label}: at most {limit} characters, got {n}",
    "基础数据的每项变更都要写明理由": "Every change of base data needs a reason",
    "坐标 {x}, {y} 不是数字": "The coordinates {x}, {y} are not numbers",
    "已修改部件 {code}：{fields}": "Component {code} changed: {fields}",
    "已移动部件 {code}（所在网格 {grid}）": "Component {code} moved (grid {grid})",
    "部件 {code} 的状态已改为{status}（{day}）": "Component {code} is now {status} ({day})",
    "部件类别": "Component category",
    "已新增部件 {code}（所在网格 {grid}）": "Component {code} added (grid {grid})",
    "单元网格 {code} 已拆分为 {codes}": "Unit grid {code} split into {codes}",
    "单元网格 {codes} 已合并为 {code}": "Unit grids {codes} merged into {code}",
    "{label} {value} 不是有效日期（应为 YYYY-MM-DD）": "{label} {value} is not a valid date (YYYY-MM-DD)",
    "部件状态 {value} 无效：应为 完好、破损、丢失、废弃 或 移除":
        "Component status {value} is not valid: intact, damaged, lost, abandoned or removed",
    "部件 {code} 不存在": "Component {code} does not exist",
    "单元网格 {code} 不存在": "Unit grid {code} does not exist",
    "部件 {code} 已注销（移除），不能再修改": "Component {code} is retired (removed) and can no longer be changed",
    "变更日期 {day} 在今天之后": "The change date {day} is after today",
    "单元网格 {code} 已于 {day} 注销": "Unit grid {code} was retired on {day}",
    "合并至少需要两个不同的单元网格": "A merge needs at least two different unit grids",
    "分割线无法识别：应为至少两个点的折线": "The split line cannot be read: a line of at least two points",
    "部件没有可修改的属性 {field}": "A component has no editable attribute {field}",
    "部件名称": "Component name",
    "部件 {code} 的属性没有变化": "Nothing changes for component {code}",
    "位置 ({x:.1f}, {y:.1f}) 不在任何在用的单元网格内": "The position ({x:.1f}, {y:.1f}) is in no unit grid in use",
    "部件 {code} 已是{status}": "Component {code} is already {status}",
    "变更日期 {day} 早于该部件已有的日期 {before}": "The change date {day} is before the component's date {before}",
    "部件类别 {code} 不在分类表中": "Component category {code} is not in the taxonomy",
    "分割线没有把单元网格 {code} 分成两部分：线应从网格边界的一侧画到另一侧":
        "The line does not cut unit grid {code} in two: draw it from one side of the outline to the other",
    "分割后有一部分只有 {area:.0f} 平方米（至少 {min:.0f}）":
        "One part of the split would be only {area:.0f} m² (at least {min:.0f})",
    "单元网格 {codes} 不在同一个社区，不能合并（网格不跨社区）":
        "Unit grids {codes} are not in one community and cannot be merged (a grid never crosses a community)",
    "单元网格 {codes} 不相邻，合并后不是一个整体": "Unit grids {codes} are not neighbours: merged they are not one piece",
    "部件名称不能为空": "The component name cannot be empty",
    # command line
    "没有变更记录": "No changes recorded",
    "基础数据的变更要用 --as 指明管理员": "A change of base data needs --as naming the administrator",
    "已写入 QGIS 项目 {path}": "QGIS project written: {path}",
    "项目文件应以 .qgz 或 .qgs 结尾：{path}": "A project file ends in .qgz or .qgs: {path}",
    "无法写入项目文件 {path}：{error}": "Cannot write the project file {path}: {error}",
    "无法打开图层“{name}”（{provider} 表 {table}）：{value}": "Cannot open layer “{name}” ({provider} table {table}): {value}",
    # the page (app/ui/base_maint)
    "基础数据": "Base data",
    "标识码": "Identifier",
    "所在网格": "Grid",
    "面积（平方米）": "Area (m²)",
    "注销日期": "Retired on",
    "操作": "Action",
    "变更内容": "Changes",
    "在地图上点击部件的新位置": "Click the component's new position on the map",
    "在地图上点击新部件的位置": "Click the new component's position on the map",
    "编码或名称": "Code or name",
    "查找": "Find",
    "状态与变更日期": "Status and change date",
    "新增部件的类别（5位，如 01002）": "Category of a new component (5 digits, e.g. 01002)",
    "分割线：X Y;X Y（或在地图上画）": "Split line: X Y;X Y (or draw it on the map)",
    "分割线": "Split line",
    "修改原因（必填，记入基础数据变更记录）": "Reason (required, kept in the base-data history)",
    "选中的要素": "Selected feature",
    "保存属性": "Save attributes",
    "注销部件": "Retire component",
    "在地图上移动": "Move on the map",
    "在地图上新增部件": "Add a component on the map",
    "拆分网格": "Split grid",
    "合并选中的网格": "Merge selected grids",
    "请先填写修改原因": "Enter the reason first",
    "请先在列表中选中一个要拆分的网格": "Select the grid to split in the list first",
    "请先在列表中选中至少两个相邻的网格": "Select at least two neighbouring grids in the list first",
    "分割线应为至少两个点：X Y;X Y": "A split line is at least two points: X Y;X Y",
    "在地图上画分割线：单击加点，右键或回车结束，Esc 取消":
        "Draw the split line on the map: click to add points, right click or Enter to end, Esc to cancel",
    "边界": "outline",
    "新网格": "new grids",
    "原网格": "former grids",
    "旧版标识码": "legacy identifier",
    "坐标 {x}, {y} 超出 EPSG:4549 的范围（单位为米）": "Coordinates {x}, {y} lie outside EPSG:4549 (metres)",
}
