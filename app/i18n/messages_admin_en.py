"""English for the administrator's workspace (app/ui/admin, app/views/config_diff.py; issue 12).

Kept in its own table so the workspace's texts have one home; the catalogue merges it in (entries
of the UI's own table and ``messages_en`` take precedence).
"""

from __future__ import annotations

ADMIN_EN: dict[str, str] = {
    # -- the workspace and its pages ---------------------------------------------------------
    "系统管理": "Administration",
    "工作日历": "Working calendar",
    "用户": "Users",
    "配置变更记录": "Configuration history",
    "部门": "Departments",
    "类别": "Categories",
    "路由规则": "Routing rules",
    "时限": "Time limits",
    "考核权重": "Evaluation weights",
    # -- the change dialog (dry run, reason) ---------------------------------------------------
    "将要做的修改（预览，尚未保存）：": "What will change (preview, nothing saved yet):",
    "修改原因（必填，记入配置变更记录）：": "Reason (required, recorded in the configuration history):",
    "例如：依据国务院办公厅通知录入": "e.g. entered from the State Council's notice",
    "应用": "Apply",
    "确定": "OK",
    "未修改（已取消）": "Nothing changed (cancelled)",
    "正在检查…": "Checking…",
    "正在保存…": "Saving…",
    "没有变化，未保存": "Nothing changes; not saved",
    # -- differences ---------------------------------------------------------------------------
    "+ {field}：{value}": "+ {field}: {value}",
    "- {field}：{value}": "- {field}: {value}",
    "是": "yes",
    "否": "no",
    "节假日": "Holidays",
    "调休上班日": "Make-up working days",
    "年份": "Year",
    "代码": "Code",
    "上级": "Parent",
    "联系方式": "Contact",
    "优先级": "Priority",
    "时限（分钟）": "Limit (minutes)",
    "结案标准": "Closing standard",
    "结案证据": "Closing evidence",
    # -- 工作日历 ------------------------------------------------------------------------------
    "读取": "Read",
    "日期": "Date",
    "星期": "Weekday",
    "安排": "Arrangement",
    "放假": "Day off",
    "调休上班": "Make-up working day",
    "周一": "Mon", "周二": "Tue", "周三": "Wed", "周四": "Thu", "周五": "Fri", "周六": "Sat", "周日": "Sun",
    "每行一项：日期或日期..日期，可加 =名称，例如 2027-02-05..2027-02-11=春节":
        "One per line: a date or DATE..DATE, optionally =NAME, e.g. 2027-02-05..2027-02-11=Spring Festival",
    "每行一个调休上班的周六或周日，例如 2027-02-20": "One Saturday or Sunday worked per line, e.g. 2027-02-20",
    "正式安排（依据国务院办公厅通知）": "Official arrangement (from the State Council's notice)",
    "通知的标题和文号": "The notice's title and number",
    "预览并保存…": "Preview and save…",
    "按日历库推算…": "Estimate from the libraries…",
    "正在读取 {year} 年的工作日历…": "Reading the working calendar of {year}…",
    "未录入（按库推算显示）": "not stored (shown as the libraries estimate it)",
    "工作日 {count} 天": "{count} working days",
    "{at} 由 {who} 修改": "changed {at} by {who}",
    "{year} 年：节假日 {holidays} 天，调休工作日 {workdays} 天":
        "{year}: {holidays} holiday(s), {workdays} make-up working day(s)",
    "保存 {year} 年工作日历": "Save the working calendar of {year}",
    "按日历库推算 {year} 年": "Estimate {year} from the libraries",
    "已保存 {year} 年工作日历（配置变更第 {seq} 条）": "Working calendar of {year} saved (configuration change {seq})",
    # -- 用户 ---------------------------------------------------------------------------------
    "添加用户": "Add user",
    "添加用户…": "Add user…",
    "停用": "Disable",
    "启用": "Enable",
    "解锁": "Unlock",
    "重置密码…": "Reset password…",
    "再次输入密码": "Password again",
    "两次输入的密码不一致": "The two passwords differ",
    "例如 zhangsan": "e.g. zhangsan",
    "正在读取用户…": "Reading the accounts…",
    "共 {count} 个账户": "{count} account(s)",
    "正常": "Active",
    "已锁定": "Locked",
    "已停用": "Disabled",
    "未设密码": "No password",
    "已添加用户 {name}（{role}）": "User {name} added ({role})",
    "已停用 {name}": "{name} disabled",
    "已启用 {name}": "{name} enabled",
    "已解锁 {name}": "{name} unlocked",
    "重置 {name} 的密码": "Reset the password of {name}",
    "已重置 {name} 的密码": "Password of {name} reset",
    # -- 配置变更记录 ----------------------------------------------------------------------------
    "序号": "No.",
    "时间": "Time",
    "操作人": "By",
    "对象": "What",
    "键": "Key",
    "原因": "Reason",
    "原因：{reason}": "Reason: {reason}",
    "（未填写）": "(none given)",
    "（没有差异）": "(no differences)",
    "新建": "New",
    "新建的记录": "Record created",
    "删除的记录": "Record removed",
    "正在读取配置变更记录…": "Reading the configuration history…",
    "共 {count} 条配置变更": "{count} configuration change(s)",
    "第 {seq} 条 · {at} · {actor} · {entity} {key}": "No. {seq} · {at} · {actor} · {entity} {key}",
    # -- 部门, 类别, 路由规则, 时限 (over app/services/config.py) --------------------------------
    "筛选（代码、名称…）": "Filter (code, name…)",
    "正在读取…": "Reading…",
    "共 {count} 条": "{count} record(s)",
    "保存修改": "Save the change",
    "{entity} {key}": "{entity} {key}",
    "（新建）": " (new)",
    "注意：{warning}": "Note: {warning}",
    "已保存（配置变更第 {seqs} 条）": "Saved (configuration change {seqs})",
    "{said}；注意：{warnings}": "{said}; note: {warnings}",
    "统一社会信用代码": "Unified social credit code",
    "18 位，可不填": "18 characters, optional",
    "上级部门代码": "Parent department code",
    "辖区": "Jurisdiction",
    "行政区划代码，如街道 9 位": "Administrative area code, e.g. a street's 9 digits",
    "停用部门…": "Retire department…",
    "停用部门 {code}": "Retire department {code}",
    "大类": "Kind",
    "本市使用该类别": "The city uses this category",
    "默认处置部门": "Default department",
    "部门代码，可不填": "Department code, optional",
    "无证据不能结案": "No closing without evidence",
    "无证据须说明理由": "Closing without evidence needs a reason",
    "不要求证据": "No evidence required",
    "范围": "Scope",
    "区域": "Area",
    "all、kind:event、major:event:01 或 category:event:01001":
        "all, kind:event, major:event:01 or category:event:01001",
    "行政区划代码（街道、社区），不填为全区": "Administrative area code (street, community); empty: the whole district",
    "优先级（越小越优先）": "Priority (smaller first)",
    "停用规则…": "Retire rule…",
    "停用规则 {key}": "Retire rule {key}",
    "请先在列表中选择一条规则": "Choose a rule in the list first",
    "类别，如 event:01001": "Category, e.g. event:01001",
    "测试": "Test",
    "测试：这一类别在这一点派往哪个部门、为什么": "Test: where this category at this point goes, and why",
    "请在地图上点击要测试的位置": "Click the place to test on the map",
    "请填写坐标 x、y（或在地图上选点）": "Enter the coordinates x, y (or pick the point on the map)",
    "正在查询…": "Looking it up…",
    "类别代码": "Category code",
    "类别代码（5 位）或大类代码（2 位），可不填": "Category code (5 digits) or major class (2 digits), optional",
    "环节": "Stage",
    "计时方式": "Counted in",
    "条件": "Condition",
    "生效": "In force from",
    "生效时间": "Takes effect at",
    "YYYY-MM-DD HH:MM，不填为立即": "YYYY-MM-DD HH:MM; empty: now",
    "（全部）": "(all)",
    "结束该时限…": "End this limit…",
    "结束时限": "End the limit",
    # -- 考核与提醒 (evaluation weights, alert rules) -------------------------------------------
    "考核与提醒": "Evaluation and alerts",
    "考核权重、计数档与等级": "Evaluation weights, count bands and grades",
    "提醒规则": "Alert rules",
    "重新读取": "Read again",
    "已读取": "Read",
    "已保存的设置（覆盖随程序提供的文件）": "Stored setting (overrides the shipped file)",
    "随程序提供的文件（尚未修改）": "The shipped file (not changed yet)",
    "TOML 格式有误：{error}": "The TOML is malformed: {error}",
    "保存设置：{name}": "Save the setting: {name}",
    # -- users: role, department, retire (on the record) ---------------------------------------
    "请给出 --role 或 --department（或两者）": "Give --role or --department (or both)",
    "请写明修改原因（--reason）：账户的角色、部门和停用都记录在配置变更记录中":
        "Give the reason (--reason): an account's role, department and retirement are recorded in the "
        "configuration history",
    "不能修改自己正在使用的账户的角色；请让另一位管理员操作":
        "You cannot change the role of the account you are using; ask another administrator",
    "部门“{dept}”（{code}）已停用：请先为用户“{name}”换一个部门再启用":
        "Department \"{dept}\" ({code}) is retired: give user \"{name}\" another department before reactivating",
    "停用用户 {name}": "Retire user {name}",
    "启用用户 {name}": "Reactivate user {name}",
    "{name}：{before} → {after}": "{name}: {before} → {after}",
    "修改 {name} 的角色和部门": "Change the role and department of {name}",
    "已修改 {name}：{role}": "Changed {name}: {role}",
    "修改角色/部门…": "Change role/department…",
    "数据库未能把登录 {login} 移出原来的组角色：角色未修改；请由超级用户处理":
        "The database could not take login {login} out of its former group: the role is unchanged; a superuser "
        "must handle it",
    # -- jurisdictions and areas -----------------------------------------------------------------
    "{what} 过大（{count:,} 个字符，最多 {limit:,}）": "{what} is too large ({count:,} characters, at most {limit:,})",
    "{what} 不是有效的 WKT 多边形": "{what} is not a valid WKT polygon",
    "{what} 不是面积大于零的多边形": "{what} is not a polygon with an area above zero",
    "部门 {code} 还没有辖区：请先在地图上绘制或导入它的辖区":
        "Department {code} has no jurisdiction yet: draw it on the map or import it first",
    "区域名称「{label}」无效：{kind}: 后写 1–32 个字母、数字或 - _ .":
        "Area name \"{label}\" is not valid: after {kind}: write 1–32 letters, digits or - _ .",
    "网格组 {label} 须列出至少一个网格代码": "Grid set {label} must list at least one grid code",
    "网格 {codes} 不存在": "Grid {codes} does not exist",
    "网格 {codes} 已停用（已拆分或合并）：请改用现行网格": "Grid {codes} is retired (split or merged): use the grids in force",
    "区域 {code} 不是已有的行政区划代码，也不是 grids:名称、polygon:名称 或 jurisdiction":
        "Area {code} is neither an existing administrative area code nor grids:NAME, polygon:NAME or jurisdiction",
    "派遣规则重叠：{scope}（优先级 {priority}）的区域 {a} 与 {b} 有重叠，分别派往 {da}、{db}；请调整优先级或区域":
        "Overlapping routing rules: {scope} (priority {priority}) areas {a} and {b} overlap and go to {da} and {db}; "
        "change a priority or an area",
    "部门 {code} 的辖区仍被派遣规则使用：请先停用按辖区派往它的规则":
        "Department {code}'s jurisdiction is still used by a routing rule: retire the rules routing to it by "
        "jurisdiction first",
    "无法读取区域文件 {name}：{error}": "Cannot read the area file {name}: {error}",
    "无法读取区域文件 {name}": "Cannot read the area file {name}",
    "区域文件 {name} 中没有图层 {layer}": "The area file {name} has no layer {layer}",
    "筛选条件无效：{error}": "The filter is not valid: {error}",
    "区域文件 {name} 的要素超过 {limit:,} 个": "The area file {name} has more than {limit:,} features",
    "区域文件 {name} 中没有多边形": "The area file {name} holds no polygon",
    "划定区域「{label}」": "drawn area \"{label}\"",
    "网格组「{label}」": "grid set \"{label}\"",
    "部门辖区": "the department's jurisdiction",
    "{rule}，{where}": "{rule}, {where}",
    "请先在列表中选择一个部门": "Choose a department in the list first",
    "请在地图上逐点点击辖区边界，右键或回车结束，Esc 取消":
        "Click the jurisdiction's boundary on the map point by point; right click or Enter ends, Esc cancels",
    "请在地图上逐点点击区域边界，右键或回车结束，Esc 取消":
        "Click the area's boundary on the map point by point; right click or Enter ends, Esc cancels",
    "部门 {code} 的辖区": "Jurisdiction of department {code}",
    "在地图上绘制辖区…": "Draw the jurisdiction on the map…",
    "导入辖区…": "Import jurisdiction…",
    "显示辖区": "Show jurisdiction",
    "辖区范围": "Jurisdiction area",
    "已划定": "drawn",
    "未划定": "not drawn",
    "导入辖区": "Import jurisdiction",
    "矢量数据 (*.shp *.gpkg *.geojson *.json *.kml *.gml *.tab);;全部 (*)":
        "Vector data (*.shp *.gpkg *.geojson *.json *.kml *.gml *.tab);;All (*)",
    "街道/社区代码、grids:名称、polygon:名称 或 jurisdiction；不填为全区":
        "street/community code, grids:NAME, polygon:NAME or jurisdiction; empty: the whole district",
    "网格代码，逗号分隔（区域为 grids:名称 时）": "grid codes, comma separated (for an area grids:NAME)",
    "绘制区域…": "Draw area…",
    "网格": "Grids",
    "划定区域": "Drawn area",
    "已绘制": "drawn",
    "未绘制": "not drawn",
    # -- component rules and alert rules -----------------------------------------------------------
    "部件派遣规则（{scope}）：由部件 {code} 的{party}处置":
        "component rule ({scope}): component {code}'s {party} handles it",
    "部件派遣规则（权属/养护）": "Component routing (owner/maintainer)",
    "部件派遣规则只有 default 和 rules 两项，没有 {key}": "Component routing has only default and rules, not {key}",
    "部件派遣规则的 default 应为 {parties} 之一": "Component routing's default must be one of {parties}",
    "部件派遣规则的 rules 应是表数组": "Component routing's rules must be an array of tables",
    "部件派遣规则的每一条应为 {{scope = …, by = {parties}}}": "Each component rule must be {{scope = …, by = {parties}}}",
    "部件派遣规则的范围「{scope}」无效": "The component rule's scope \"{scope}\" is not valid",
    "部件派遣规则的范围 {scope} 出现了两次": "The component rule's scope {scope} appears twice",
    "提醒规则 {where}：没有这个角色": "Alert rules {where}: no such role",
    "提醒规则 {where} 的 interval_s 应是 1–600 秒": "Alert rules {where}: interval_s must be 1–600 seconds",
    "提醒规则 {where} 的 {key} 不认识：{values}": "Alert rules {where}: {key} does not know {values}",
    # -- the migration's refusal -------------------------------------------------------------------
    "升级到第 0025 版需要 PostgreSQL 超级用户运行一次（它在 gridhall_accounts 中建立让登录的组角色跟随用户角色的函数）："
    "请由 DBA 以超级用户执行 gridhall db upgrade，见 docs/deploy.md":
        "Upgrading to revision 0025 needs a PostgreSQL superuser once (it makes the function in gridhall_accounts "
        "that moves a login's group with the user's role): the DBA runs gridhall db upgrade as a superuser, "
        "see docs/deploy.md",
    "不认识的字段 {keys}（拼写错误？可用的字段见 gridhall admin export 写出的文件）":
        "unknown field {keys} (a typo? the fields are those of a file gridhall admin export writes)",
    "配置文件 {name} 有不认识的项 {keys}（拼写错误？）": "The configuration file {name} has unknown entries {keys} (a typo?)",
    "升级到第 0026 版需要 PostgreSQL 超级用户运行一次（它收回 gridhall_open311 的 gridhall_acceptor 成员身份，"
    "并修改 gridhall_accounts 中的函数）：请由 DBA 以超级用户执行 gridhall db upgrade，见 docs/deploy.md":
        "Upgrading to revision 0026 needs a PostgreSQL superuser once (it revokes gridhall_open311's membership "
        "of gridhall_acceptor and changes functions in gridhall_accounts): the DBA runs gridhall db upgrade as a "
        "superuser, see docs/deploy.md",
    # HOSTILE-ADMIN: config import and account changes refused with a clear line
    "配置文件 {name} 不是 UTF-8 文本；请以 UTF-8 编码保存后重试":
        "the configuration file {name} is not UTF-8 text; save it as UTF-8 and try again",
    "配置文件 {name} 嵌套过深，不是 gridhall admin export 写出的配置":
        "the configuration file {name} is nested too deeply: it is not a configuration written by "
        "gridhall admin export",
    "用户“{name}”已经停用，未做修改": "the account “{name}” is already retired; nothing changed",
    "用户“{name}”没有停用，无需重新启用；未做修改":
        "the account “{name}” is not retired, so there is nothing to reactivate; nothing changed",
}

__all__ = ["ADMIN_EN"]
