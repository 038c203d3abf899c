"""English for the video wall (gridhall wall: app/ui/wall, app/views/wall, docs/wall.md; issue 14).

Kept in its own table; the catalogue merges it in (entries of the other tables take precedence).
"""

from __future__ import annotations

WALL_EN: dict[str, str] = {
    "城市运行监测大屏": "City operations wall",
    "大屏屏幕 {missing} 未接入（当前有 {count} 块屏幕，编号从 0 起）：接入后其窗口自动出现":
        "Wall screen {missing} is not plugged in ({count} screens now, numbered from 0): its window appears when it is",
    "今日上报": "Reported today", "今日立案": "Filed today", "今日派遣": "Dispatched",
    "今日结案": "Closed today", "当前超期": "Overdue now", "紧急在办": "Urgent open",
    "部门处置排行": "Departments", "类别趋势（近7日上报）": "Categories, 7 days",
    "热点网格（近24小时）": "Hotspots, 24 h", "督办案卷": "Urged cases", "最新动态": "Latest",
    "较昨日同时 {arrow}{n}": "vs yesterday {arrow}{n}",
    "较昨日同时 {arrow}{n}点": "vs yesterday {arrow}{n} pts",
    "较昨日同时 —": "vs yesterday —", "较昨日同时 持平": "same as yesterday",
    "在办": "Open", "超期": "Overdue", "动作": "Step",
    "数据截至 {t}": "Data as of {t}", "更新于 {t}": "Updated {t}", "{n}级": "level {n}",
    "【紧急】": "[URGENT] ", "最新：{items}": "Latest: {items}", "最新：暂无": "Latest: none", "暂无": "None yet",
    "数据截至 {t}\u3000数据库连接中断，正在重连…": "Data as of {t}  the database cannot be reached, reconnecting…",
    "数据库连接中断，正在重连…": "The database cannot be reached, reconnecting…",
    "紧急案卷 {number} {category}": "Urgent case {number} {category}",
    "{n} 件紧急案卷：{numbers}": "{n} urgent cases: {numbers}",
    "案卷转红 {number} {category}": "Case turned red {number} {category}",
    "{n} 件案卷转红：{numbers}": "{n} cases turned red: {numbers}",
    "（{place}）": " ({place})",
    "顶层": "top level",
    "大屏布局 {where}.{key} 应为 {low}–{high} 的整数，而不是 {value!r}":
        "Wall layout {where}.{key} must be a whole number {low}–{high}, not {value!r}",
    "大屏布局 {where}.{key} 不能是 {value!r}（可用：{allowed}）":
        "Wall layout {where}.{key} cannot be {value!r} (choose: {allowed})",
    "大屏布局的格式版本 {value!r} 不受支持（应为 format = 1）":
        "Wall layout format {value!r} is not supported (write format = 1)",
    "大屏布局的 title 应为不超过 40 字的文字": "The wall layout's title must be text of at most 40 characters",
    "大屏布局的 screens 应为至少一个表的数组（[[screens]]）":
        "The wall layout's screens must be an array of at least one table ([[screens]])",
    "大屏布局最多 8 块屏幕，而文件写了 {n} 块": "A wall layout has at most 8 screens; the file has {n}",
    "大屏布局的 playlist 应为表（[playlist]）": "The wall layout's playlist must be a table ([playlist])",
    "大屏布局 playlist.panels 应为面板名的列表（可用：{allowed}）":
        "Wall layout playlist.panels must be a list of panel names (choose: {allowed})",
    "大屏布局 {where} 中有未知的键 {key}（可用：{allowed}）":
        "Wall layout {where} has an unknown key {key} (known: {allowed})",
    "无法读取大屏布局文件 {path}（{exc}），已使用默认布局":
        "Cannot read the wall layout file {path} ({exc}); the default layout is shown",
    "大屏布局文件 {path} 不是 UTF-8 文本，已使用默认布局":
        "The wall layout file {path} is not UTF-8 text; the default layout is shown",
    "大屏布局文件 {path} 不是有效的 TOML（{exc}），已使用默认布局":
        "The wall layout file {path} is not valid TOML ({exc}); the default layout is shown",
    "大屏布局文件 {path} 有误：{problem}；已使用默认布局":
        "The wall layout file {path} is wrong: {problem}; the default layout is shown",
    "SpatiaLite 库没有数据库登录：大屏以只读方式打开文件（mode=ro），无需账户；未做任何修改":
        "A SpatiaLite store has no database logins: the wall opens the file read-only (mode=ro) and needs no "
        "account; nothing was changed",
    "大屏登录 {name} 的新密码：": "New password for the wall login {name}: ",
    "已建立大屏只读登录 {login}（组 gridhall_wall）": "Created the wall's read-only login {login} (group gridhall_wall)",
    "已停用大屏登录 {login}": "Disabled the wall login {login}",
    "已启用大屏登录 {login}": "Enabled the wall login {login}",
    "run --mode wall 打开视频大屏；工作台布局文件 {path} 不适用于大屏，已使用大屏默认布局（大屏布局用 gridhall wall --layout，见 docs/wall.md）":
        "run --mode wall opens the video wall; the desk layout file {path} does not apply to the wall, its default "
        "layout is used (a wall layout goes to gridhall wall --layout, see docs/wall.md)",
}
