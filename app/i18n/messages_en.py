"""English for the messages of the services, the store, the map layers and the domain.

Kept apart from the UI's table (``catalogue._EN``) so that error texts have one home; the
catalogue merges this table in (entries written in ``_EN`` take precedence).
"""

from __future__ import annotations

from app.domain.calendar import HOLIDAY_NAMES

MESSAGES_EN: dict[str, str] = {
    # -- shared pieces -----------------------------------------------------------------------
    "{value}（{label}）": "{value} ({label})",
    "{name}（{role}）": "{name} ({role})",
    "{month}月{day}日 {time}": "{month}/{day} {time}",
    "无": "none",
    "任意": "any",
    "默认": "default",
    "类型": "Type",
    # -- map legend (rule and category labels of resources/styles/*.qml) -------------------------
    # (红灯/黄灯/绿灯/无计时 are the Light labels: their English comes from the enum table)
    "01 市政公用设施": "01 Public utilities", "02 交通设施": "02 Traffic facilities",
    "03 市容环卫设施": "03 Sanitation facilities", "04 园林绿化设施": "04 Parks and greenery",
    "05 其他管理部件": "05 Other managed components",
    "区界": "District boundary", "街道界": "Street boundary", "社区界": "Community boundary",
    "单元网格": "Grid cell", "单元网格（缩小）": "Grid cell (zoomed out)",
    "快速路": "Expressway", "主干路": "Arterial road", "次干路": "Secondary road", "支路": "Branch road",
    "街巷": "Lane", "其他道路": "Other road",
    "专业部门账户只能看到本部门的案卷事件，无法校验整条审计链；请用值班长、领导、分析员或管理员账户校验":
        "A department account sees only its own department's case events, so it cannot check the whole "
        "audit chain; check it as a shift leader, leader, analyst or administrator",
    # -- database driver refusals (app/store/errors.py database_error) -----------------------------
    "数值过大，超出数据库能保存的范围；未写入任何内容":
        "The number is too large for the database to hold; nothing was written",
    "数据库正被另一个程序占用（已锁定），未写入任何内容；请稍后重试：{detail}":
        "The database is in use by another program (locked); nothing was written. Try again shortly: {detail}",
    "数据库拒绝了输入的值，未写入任何内容：{detail}": "The database refused a value; nothing was written: {detail}",
    "数据库连接出错，未写入任何内容；请检查数据库后重试：{detail}":
        "The database connection failed; nothing was written. Check the database and try again: {detail}",
    "数据库拒绝了这次操作，未写入任何内容：{detail}": "The database refused the operation; nothing was written: {detail}",
    # punctuation joining translated parts
    "；": "; ",
    "、": ", ",
    # how the forms frame a failed request (app.ui.forms.common.error_text)
    "{error}。你填写的内容已保留，刷新案卷后可再次提交。":
        "{error}. What you typed is kept; refresh the case and submit again.",
    "数据库连接出错（{name}）：请求没有完成，你填写的内容已保留；请检查网络或数据库后再提交。":
        "Database connection error ({name}): the request did not complete; what you typed is kept. "
        "Check the network or the database, then submit again.",
    "提交失败：{error}。你填写的内容已保留，可修改后再试。":
        "Submitting failed: {error}. What you typed is kept; correct it and try again.",
    # -- map layers ----------------------------------------------------------------------------
    "找不到图层样式文件 {path}；请重新安装 GridHall 或运行 python -m app.gis.export_styles 重新生成":
        "Layer style file {path} not found; reinstall GridHall or run python -m app.gis.export_styles to regenerate it",
    "图层样式 {path} 无法加载：{msg}": "Layer style {path} cannot be loaded: {msg}",
    "无法打开图层“{name}”（{provider} 表 {table}）：{value}。请检查数据库是否可用且已初始化":
        "Cannot open layer “{name}” ({provider} table {table}): {value}. Check that the database is reachable and initialised",
    "数据源无效": "invalid data source",
    "无法创建案卷内存图层：QGIS 的 memory 数据提供程序不可用":
        "Cannot create the in-memory case layer: QGIS's memory data provider is not available",
    "未知的灯色 {value!r}；应为 {choices} 之一": "Unknown light {value!r}; use one of {choices}",
    "图层“{name}”缺少案卷字段：{fields}": "Layer “{name}” lacks case fields: {fields}",
    "无法写入案卷图层：{error}": "Cannot write to the case layer: {error}",
    "无法读取案卷表（{provider}）：{value}": "Cannot read the case table ({provider}): {value}",
    # -- audit-chain seals (app/store/seal.py, gridhall db seal / verify-audit --seal) -------------
    "{url}（集群标识 {system_identifier}）": "{url} (cluster {system_identifier})",
    "审计链封印\n{lines}": "Audit chain seal\n{lines}",
    "封印时间：{sealed_at}": "Sealed at: {sealed_at}",
    "数据库：{where}": "Database: {where}",
    "审计链：第 {chain_no} 环（{events} 条事件，{cases} 件案卷）":
        "Audit chain: link {chain_no} ({events} events, {cases} cases)",
    "链头哈希：{head_hash}": "Head hash: {head_hash}",
    "首环哈希：{first_hash}": "First link's hash: {first_hash}",
    "封印摘要：{digest}": "Seal digest: {digest}",
    "GridHall {version}，表结构版本 {revision}": "GridHall {version}, schema revision {revision}",
    "{name} 不是完好的 GridHall 审计链封印：{reason}": "{name} is not an intact GridHall audit chain seal: {reason}",
    "缺少封印格式标记 {format}": "the format mark {format} is missing",
    "格式版本无效": "invalid format version",
    "封印 {name} 由更新版本的 GridHall 写成（格式 {version}，本程序只认到 {known}）；请升级 GridHall":
        "Seal {name} was written by a newer GridHall (format {version}; this one reads up to {known}); "
        "upgrade GridHall",
    "内容不完整或字段无效": "incomplete, or a field is invalid",
    "封印 {name} 已损坏或被改动：内容与其摘要不符，不能作为凭据":
        "Seal {name} is damaged or was edited: its content does not match its digest, so it proves nothing",
    "封印文件不存在：{name}": "Seal file not found: {name}",
    "无法读取封印文件 {name}：{error}": "Cannot read seal file {name}: {error}",
    "不是 JSON 文件（可能已损坏）": "not a JSON file (damaged?)",
    "{path} 已存在，封印不会覆盖已有文件；请用 --out 另选文件名":
        "{path} exists; a seal never overwrites a file. Choose another name with --out",
    "无法写入封印文件 {path}：{error}": "Cannot write seal file {path}: {error}",
    "审计链已被破坏，不能封印（先查明原因）：{problem}":
        "The audit chain is broken, so it is not sealed (find out why first): {problem}",
    "封印 {name} 属于另一个数据库（{url}），其第 1 环与本库不同：它证明不了本库的任何历史；"
    "若本库是那个数据库的副本，则其历史从头被改写":
        "Seal {name} belongs to another database ({url}) whose first link differs from this one's: it proves "
        "nothing about this history (if this database is a copy of that one, its history was rewritten from "
        "the start)",
    "封印 {name}（{sealed_at}）记到第 {chain_no} 环，但本库的审计链只到第 {length} 环："
    "链尾被删除（截断），或本库恢复自封印之前的备份":
        "Seal {name} ({sealed_at}) reaches link {chain_no} but this database's audit chain ends at link "
        "{length}: its tail was deleted (truncated), or the database was restored from a backup older than "
        "the seal",
    "封印 {name}（{sealed_at}）之前的历史被改写：封印所记的第 {chain_no} 环已不存在":
        "The history before seal {name} ({sealed_at}) was rewritten: the sealed link {chain_no} no longer exists",
    "封印 {name}（{sealed_at}）之前的历史被改写：第 {chain_no} 环的哈希现为 {now}，封印记为 {sealed}":
        "The history before seal {name} ({sealed_at}) was rewritten: link {chain_no}'s hash is now {now}, "
        "the seal says {sealed}",
    "封印 {name}（{sealed_at}，第 {chain_no} 环）相符：之前的历史未被改写"
    "（封印做于 {url}，历史相同：本库是其副本或恢复的备份）":
        "Seal {name} ({sealed_at}, link {chain_no}) holds: the history before it was not rewritten (sealed on "
        "{url} with the same history: this database is a copy or a restored backup of it)",
    "封印 {name}（{sealed_at}，第 {chain_no} 环）相符：之前的历史未被改写":
        "Seal {name} ({sealed_at}, link {chain_no}) holds: the history before it was not rewritten",
    "封印审计链": "Seal the audit chain",
    "正在取消…": "Cancelling…",
    "已取消封印审计链；未写入封印文件，数据库未被改动":
        "Sealing the audit chain was cancelled; no seal file was written and the database is unchanged",
    "审计链封印（第 {chain_no} 环，{sealed_at}）已写入 {path}；请把它保存在服务器以外："
    "打印出来、寄给监督机构、登入月报，日后用 gridhall db verify-audit --seal {path} 核对":
        "Audit chain seal (link {chain_no}, {sealed_at}) written to {path}. Keep it off the server: print it, "
        "send it to the supervising authority, put it in the monthly bulletin; check it later with "
        "gridhall db verify-audit --seal {path}",
    "未校验审计链：请先改正封印文件": "The audit chain was not checked: correct the seal files first",
    # -- the command line ----------------------------------------------------------------------
    "没有可用的密码：请设置环境变量 {variable}，或在交互终端中运行以便输入密码":
        "No password available: set the environment variable {variable}, or run in an interactive terminal to type it",
    "两次输入的密码不一致，未做任何修改": "The two passwords differ; nothing was changed",
    "已取消输入密码，未做任何修改": "Password entry cancelled; nothing was changed",
    "未知的 user 子命令：{cmd}": "Unknown user subcommand: {cmd}",
    # -- the command layer (app.commands) -------------------------------------------------------
    "没有派遣建议：请单独派遣并选择部门": "No dispatch suggestions: dispatch this case on its own and choose a department",
    "「{title}」需要一件案卷": "“{title}” needs a case",
    "未登录": "not signed in",
    "「{who}」无权执行「{title}」": "“{who}” may not “{title}”",
    "案卷当前状态为「{state}」，不能执行「{title}」": "The case is “{state}” and cannot “{title}”",
    # -- photos --------------------------------------------------------------------------------
    "附件类型「{kind}」无效：应为 {kinds} 之一": "Attachment type “{kind}” is invalid: use one of {kinds}",
    "文件「{name}」是空文件（0 字节），不是照片": "File “{name}” is empty (0 bytes), not a photo",
    "照片「{name}」大小 {size}，超过上限 {limit}；请压缩后再上传":
        "Photo “{name}” is {size}, more than the limit of {limit}; compress it and upload it again",
    "文件「{name}」不是图片（只接受 JPEG、PNG 或 WebP 照片，按文件内容判断，与扩展名无关）":
        "File “{name}” is not an image (only JPEG, PNG or WebP photos are accepted, judged by content, not by extension)",
    "文件「{filename}」看起来是 {format} 图片，但已损坏或不完整，无法打开；请重新拍摄或导出后再上传":
        "File “{filename}” looks like a {format} image but is damaged or incomplete and cannot be opened; "
        "take or export it again and upload it",
    "照片文件不存在：{p}": "Photo file does not exist: {p}",
    "{p} 是目录，不是照片文件": "{p} is a directory, not a photo file",
    "无法读取照片文件 {p}：{strerror}": "Cannot read photo file {p}: {strerror}",
    "（未命名）": "(unnamed)",
    # -- login and passwords -------------------------------------------------------------------
    "用户名或密码错误": "Wrong user name or password",
    "用户名或密码错误，还可尝试 {left} 次": "Wrong user name or password; {left} attempts left",
    "账户已锁定（连续5次密码错误），请联系管理员解锁":
        "The account is locked (5 wrong passwords in a row); ask an administrator to unlock it",
    "账户已停用，请联系管理员": "The account is disabled; contact an administrator",
    "账户已被管理员锁定，请联系管理员解锁": "An administrator locked the account; ask an administrator to unlock it",
    "{invalid}；{locked}": "{invalid}; {locked}",
    "这个数据库连接无权记录登录结果：PostGIS 上每位用户以自己的数据库登录连接，"
    "请用 app.services.hall_login 登录（或用管理员的登录管理账户）":
        "This database connection may not record login results: on PostGIS every user connects with their own "
        "database login; sign in with app.services.hall_login (or manage accounts with an administrator's login)",
    "请输入密码（本机的数据库密码文件 ~/.pgpass 中也没有这个账户的密码；可在登录时选择“记住密码”写入该文件）":
        "Enter the password (this computer's database password file ~/.pgpass has none for this account; "
        "choose “Remember password” when signing in to store it there)",
    "密码不能为空；请设置至少 8 个字符的密码": "The password must not be empty; choose one of at least 8 characters",
    "密码太短（{count} 个字符）：至少需要 {min_password_length} 个字符":
        "The password is too short ({count} characters): it needs at least {min_password_length}",
    "密码太长：最多 {max_password_length} 个字符": "The password is too long: at most {max_password_length} characters",
    "密码不能全是空白字符": "The password must not be only blanks",
    "密码不能与用户名相同；请换一个密码": "The password must differ from the user name; choose another one",
    "请输入密码": "Enter the password",
    "数据库登录 {login_role} 在本库的 users 表中没有对应账户；请管理员用 gridhall user add 建立账户":
        "Database login {login_role} has no account in this database's users table; "
        "an administrator can create one with gridhall user add",
    "数据库登录 {login_role} 不属于组角色 {group_role}，与 users 表中的角色（{role}）不一致；请管理员修正":
        "Database login {login_role} is not a member of group role {group_role}, which does not match its role "
        "in the users table ({role}); ask an administrator to fix it",
    # -- cases ---------------------------------------------------------------------------------
    "不能把案卷关联到它自己": "A case cannot be linked to itself",
    "（它是案卷 {number} 的重复）": " (it duplicates case {number})",
    "案卷 {number} 「{state}」{hint}，不能作为原案卷；请关联到仍有效的案卷":
        "Case {number} is “{state}”{hint} and cannot be the original; link to a case that is still valid",
    "案卷不存在（id {case_id}）": "The case does not exist (id {case_id})",
    "案卷不存在（id {case_id}）：可能输错了案卷号": "The case does not exist (id {case_id}): the case number may be mistyped",
    "案卷 {text} 不存在：请核对案卷号": "Case {text} does not exist: check the case number",
    "部件 {component_code} 属于「{comp_cat}」，与所选类别「{category}」不符；请改选类别或部件":
        "Component {component_code} is a “{comp_cat}”, which does not match the chosen category “{category}”; "
        "choose another category or component",
    "案卷 {number} 缺少{missing}，按规定不能结案；请返工并要求责任部门补充带拍摄时间的处置前后照片":
        "Case {number} lacks {missing} and may not be closed; send it back for rework and ask the department "
        "for time-stamped photos from before and after",
    "案卷缺少{missing}（结案证据不完整）": "The case lacks {missing} (incomplete evidence for closing)",
    "处置前照片": "photos before handling",
    "处置后照片": "photos after handling",
    "占用时长应为 5–3600 秒的整数，而不是 {ttl!r}": "The claim time must be a whole number of 5–3600 seconds, not {ttl!r}",
    "版本号应为整数，而不是 {expected_version!r}": "The version must be a whole number, not {expected_version!r}",
    "案卷 {number} 的版本号 {expected} 无效（当前为第 {version} 版），请刷新后重试":
        "Version {expected} of case {number} is not valid (it is at version {version}); refresh and retry",
    "案卷 {number} 已被 {name}（{role}）于 {when} {action}（当前为第 {version} 版，你看到的是第 {expected} 版），请刷新后重试":
        "Case {number} was changed by {name} ({role}) at {when}: {action} (now version {version}, you saw "
        "version {expected}); refresh and retry",
    "账号 {username} 没有绑定部门，不能「{action}」；请管理员为其绑定部门":
        "Account {username} belongs to no department and cannot “{action}”; ask an administrator to assign one",
    "派遣给「{name}」": "dispatched to “{name}”",
    "尚未派遣给任何部门": "not dispatched to any department yet",
    "案卷 {number} {owner}，{role}属于「{department}」，不能「{action}」":
        "Case {number} is {owner}; the {role} belongs to “{department}” and cannot “{action}”",
    # -- refusals by the database ----------------------------------------------------------------
    "本部门的数据库登录无权写入这一案卷（行级安全策略）":
        "Your department's database login may not write this case (row-level security)",
    "当前数据库登录不属于这一角色的组，不能以该角色办理":
        "The current database login is not in this role's group and cannot act in this role",
    "当前数据库登录只能以自己的名义记录操作": "The current database login can only record actions in its own name",
    "当前数据库登录在 users 表中没有启用的、角色一致的账户":
        "The current database login has no active account with the same role in the users table",
    "专业部门操作员只能以本部门的名义记录操作": "A department operator can only record actions for their own department",
    "只有数据库自己记录“系统”事件（自动回复）": "Only the database itself records “System” events (automatic replies)",
    "账户已停用或已锁定，不能再记录操作": "The account is disabled or locked and can no longer record actions",
    "本机时钟与数据库时钟相差超过 5 分钟：请校准本机时钟后重试":
        "This workstation's clock is more than 5 minutes off the database's clock: set it right and try again",
    "事件内容与数据库推算的结果（时限、部门、次数）不符":
        "The event contradicts what the database derives (deadline, department, counts)",
    "当前数据库登录没有这项权限": "The current database login lacks this privilege",
    "数据库的流程检查不允许这一步（角色或案卷状态不符）":
        "The database's workflow check refuses this step (role or case state do not match)",
    "案卷状态已被他人改变，请刷新后重试": "Someone else changed the case's state; refresh and retry",
    "审计链已被其他工作站推进，请重试": "Another workstation extended the audit chain; retry",
    "案卷的变更与其事件记录不一致": "The case's change does not match its event record",
    "数据已被其他工作站写入（唯一约束），请刷新后重试":
        "Another workstation already wrote this data (unique constraint); refresh and retry",
    "数据库拒绝：{detail}；本次操作未写入任何数据": "Refused by the database: {detail}; nothing was written",
    "数据库拒绝：文本超过字段长度上限；本次操作未写入任何数据":
        "Refused by the database: a text is longer than its field allows; nothing was written",
    "数据库中的数据被其他会话锁住，等待 {timeout} 后仍未释放（已请求数据库结束占用的会话）；本次操作未写入任何数据，请稍后重试":
        "The data is locked by another database session and was still locked after {timeout} (the database was "
        "asked to end the sessions holding it); nothing was written, please try again shortly",
    "数据库拒绝：与其他工作站的操作同时发生冲突，请重试（{detail}）；本次操作未写入任何数据":
        "Refused by the database: it clashed with another workstation's operation, retry ({detail}); nothing was written",
    "数据库拒绝：{meaning}（{detail}）；本次操作未写入任何数据":
        "Refused by the database: {meaning} ({detail}); nothing was written",
    "数据库连接中断：本操作未执行，连接恢复后请重试":
        "The database connection is lost: this operation was not carried out; retry when it is back",
    # -- dispatch ------------------------------------------------------------------------------
    "部门「{department}」不存在：请按部门代码或名称选择":
        "Department “{department}” does not exist: choose by department code or name",
    "部门「{dept}」已停用，不能派遣": "Department “{dept}” is disabled and cannot be dispatched to",
    "（没有：请先在路由规则中为该类别配置责任部门）":
        "(none: first configure a responsible department for this category in the routing rules)",
    "「{dept}」不负责「{category}」类问题，不能派遣；负责该类别的部门有：{listed}":
        "“{dept}” is not responsible for “{category}” problems and cannot be dispatched to; "
        "departments responsible for this category: {listed}",
    "「{dept}」不在派遣建议中（建议：{top}），请填写派遣理由":
        "“{dept}” is not among the suggestions (suggested: {top}); give a dispatch reason",
    "延期时长应为正整数分钟（1 个工作日 = 480 分钟），而不是 {minutes!r}":
        "The extension must be a positive whole number of minutes (1 working day = 480 minutes), not {minutes!r}",
    "延期时长 {minutes} 分钟过长：最多 {max_extension_minutes} 分钟":
        "An extension of {minutes} minutes is too long: at most {max_extension_minutes} minutes",
    "找不到延期申请的时长：请在批准时给出延期分钟数":
        "The extension request's length is missing: give the minutes when approving",
    "只有延期申请需要时长；「{request}」的批准不接受分钟数":
        "Only extension requests take a length; approving “{request}” takes no minutes",
    # -- intake --------------------------------------------------------------------------------
    "缺少问题类别：请给出类别代码（如 event:06010）或按名称搜索选择":
        "The category is missing: give a category code (e.g. event:06010) or search by name",
    "数据库的 categories 表中没有{kind}类别 {code}：请运行 gridhall db upgrade 补齐参考数据":
        "The database's categories table has no {kind} category {code}: run gridhall db upgrade to add the reference data",
    "问题描述太长（{count} 字）：最多 {max_description} 字":
        "The description is too long ({count} characters): at most {max_description}",
    "{what}「{value}」无效：应为 {choices}": "{what} “{value}” is invalid: use {choices}",
    "{code}（{kind}：{name}）": "{code} ({kind}: {name})",
    "类别代码 {raw} 在部件和事件清单中都有：请写明类型，{names}":
        "Category code {raw} is in both the component and the event list: say which, {names}",
    "。相近的有：{hits}": ". Similar: {hits}",
    "未知的类别代码「{raw}」：GB/T 47678.5-2026 清单中没有{hint}":
        "Unknown category code “{raw}”: it is not in the GB/T 47678.5-2026 lists{hint}",
    # -- time limits ---------------------------------------------------------------------------
    "time_limits 表第 {id} 行": "time_limits row {id}",
    "{where}：category_id 与 major_code 只能填一个；请清空其中之一":
        "{where}: fill in only one of category_id and major_code; clear the other",
    "{where}：minutes {minutes} 须为正整数（{basis}分钟）": "{where}: minutes {minutes} must be a positive whole number ({basis} minutes)",
    "{where}：{what} 无效（{exc}）；请在 time_limits 表中改正该行": "{where}: {what} is invalid ({exc}); correct the row in the time_limits table",
    "{where}：kind 为 {kind}，但类别 {code} 属于 {category_kind}；请改正 kind 或 category_id":
        "{where}: kind is {kind} but category {code} is a {category_kind}; correct kind or category_id",
    "{where}：category_id {category_id} 不存在于 categories 表；请改正":
        "{where}: category_id {category_id} is not in the categories table; correct it",
    "time_limits 表第 {id} 行与{source}的适用范围相同（{value} {value2} {level} {stage}）；请删除其中一行":
        "time_limits row {id} has the same scope as {source} ({value} {value2} {level} {stage}); delete one of them",
    "{where}：major_code '{code}' 须为两位数字，且须同时填写 kind":
        "{where}: major_code '{code}' must be two digits, and kind must be filled in too",
    # -- location ------------------------------------------------------------------------------
    "缺少位置：请在地图上选点，或给出坐标、经纬度、部件标识码或地址":
        "The location is missing: pick a point on the map, or give coordinates, longitude/latitude, a component id or an address",
    "经纬度无效：{lon}, {lat}": "Invalid longitude/latitude: {lon}, {lat}",
    "（经度和纬度是否写反了？应为 经度,纬度）": " (longitude and latitude swapped? The order is longitude,latitude)",
    "经纬度 {lon}, {lat} 不在中国范围内{hint}": "Longitude/latitude {lon}, {lat} is outside China{hint}",
    "经纬度 {lon}, {lat} 无法换算到 EPSG:{store_srid}": "Longitude/latitude {lon}, {lat} cannot be converted to EPSG:{store_srid}",
    "位置不在本区任何单元网格内（x={x:.1f}, y={y:.1f}，EPSG:{store_srid}）：请在地图上重新选点，或核对坐标":
        "The location is in none of the district's grid cells (x={x:.1f}, y={y:.1f}, EPSG:{store_srid}): "
        "pick again on the map or check the coordinates",
    "（由旧版16位代码转换为 {code}）": " (converted from the legacy 16-digit code to {code})",
    "部件 {raw}{converted} 不存在：部件库中没有这个标识码，请核对标识码或在地图上点选部件":
        "Component {raw}{converted} does not exist: no component has this id; check it or pick the component on the map",
    "无法定位地址「{text}」：其中没有本区的道路名称，也没有与已有案卷相同的地址；请在地图上选点或给出坐标":
        "Cannot locate the address “{text}”: it names no road of the district and matches no earlier case's address; "
        "pick on the map or give coordinates",
    "位置只能用一种方式给出，现在同时给了 {given}": "Give the location one way only; now given: {given}",
    "无法进行经纬度换算（{exc}）：请安装 Debian 软件包 proj-data 和 python3-pyproj":
        "Cannot convert longitude/latitude ({exc}): install the Debian packages proj-data and python3-pyproj",
    "坐标不完整或无效：x={x}, y={y}": "Incomplete or invalid coordinates: x={x}, y={y}",
    "经纬度需要同时给出经度和纬度": "Longitude/latitude needs both the longitude and the latitude",
    # -- user accounts -------------------------------------------------------------------------
    "角色“{role}”（系统）只供程序内部使用，不能分配给登录账户；请选择其他角色":
        "Role “{role}” (System) is for internal use and cannot be given to a login; choose another role",
    "用户名不能为空": "The user name must not be empty",
    "用户名“{username}”无效：只能使用小写英文字母、数字和 _ . -，以字母或数字开头，最长 63 个字符（例如 zhangsan 或 zhang.san）":
        "User name “{username}” is invalid: use lower-case letters, digits and _ . -, start with a letter or digit, "
        "at most 63 characters (e.g. zhangsan or zhang.san)",
    "用户名“{name}”是保留名称，请换一个": "User name “{name}” is reserved; choose another",
    "{actor}无权管理用户账户；只有管理员可以这样做": "{actor} may not manage user accounts; only administrators can",
    "部门代码“{code}”不存在；请检查代码（部门列表见部门管理）":
        "Department code “{code}” does not exist; check it (see the department list)",
    "部门“{dept}”（{code}）已停用，不能再绑定用户": "Department “{dept}” ({code}) is disabled; users can no longer be bound to it",
    "用户“{name}”不存在；用 gridhall user list 查看已有用户": "User “{name}” does not exist; gridhall user list shows the users",
    "姓名太长（{count} 个字符）：最多 {max_display_name} 个字符": "The name is too long ({count} characters): at most {max_display_name}",
    "专业部门操作员必须绑定一个部门：请用 --department 给出部门代码":
        "A department operator must belong to a department: give its code with --department",
    "请输入原密码": "Enter the current password",
    "新密码不能与原密码相同": "The new password must differ from the current one",
    "库中还没有任何部门，无法创建演示用的专业部门操作员；请先导入部门（或运行 gridhall demo）":
        "The database has no departments yet, so no demo department operator can be created; import departments "
        "first (or run gridhall demo)",
    "当前数据库账户无权管理数据库登录：请用管理员（{group} 组成员）的登录运行 gridhall user …，第一次设置时用超级用户":
        "The current database account may not manage database logins: run gridhall user … with an "
        "administrator's login (a member of {group}); a superuser's the first time",
    "数据库拒绝了这次登录管理操作：{error}": "The database refused this login management operation: {error}",
    "原密码不正确，密码未修改": "The current password is wrong; the password was not changed",
    "不能停用自己正在使用的账户；请让另一位管理员操作": "You cannot disable the account you are using; ask another administrator",
    "未知角色“{role}”；可选：{choices}": "Unknown role “{role}”; choose one of: {choices}",
    "用户名“{name}”已被使用；请换一个用户名": "User name “{name}” is taken; choose another",
    "“{username}”是最后一个启用的管理员账户，停用后将无人能管理用户；请先添加另一个管理员":
        "“{username}” is the last active administrator; without it nobody could manage users; add another "
        "administrator first",
    # -- the store -----------------------------------------------------------------------------
    "案卷 {number} 已被他人更新（版本 {db_version}，本地 {version}），请刷新后重试":
        "Someone else updated case {number} (version {db_version}, yours {version}); refresh and retry",
    "audit_head 表缺少第 1 行（审计链头），数据库可能被篡改；请运行 gridhall db verify":
        "The audit_head table lacks row 1 (the chain head); the database may have been tampered with; run gridhall db verify",
    "建立或升级表结构失败（数据库 {display_url}）：{error}。GridHall 需要一个空数据库或由它建立的数据库；"
    "在 PostgreSQL 上还需要安装 postgis 扩展的权限（可请管理员执行 CREATE EXTENSION postgis）":
        "Creating or upgrading the schema failed (database {display_url}): {error}. GridHall needs an empty database "
        "or one it created; on PostgreSQL it also needs the right to install the postgis extension "
        "(an administrator can run CREATE EXTENSION postgis)",
    "时限表 time_limits.csv 有误，无法写入数据库：{exc}": "time_limits.csv is wrong and cannot be written to the database: {exc}",
    "时限表中的类别 {kind} {code} 不在 categories 表中；请先导入分类":
        "Category {kind} {code} of the time-limit table is not in the categories table; import the categories first",
    "分类文件 {name} 的表头应为 {expected}，实际为 {actual}": "The header of category file {name} should be {expected}, not {actual}",
    "分类文件 {name} 第 {lineno} 行的 kind 无效：{kind!r}（应为 component 或 event）":
        "Category file {name} line {lineno}: kind {kind!r} is invalid (use component or event)",
    "不支持的数据库地址：{url}；请使用 SpatiaLite 文件路径（sqlite:///…）或 postgresql://用户:密码@主机:端口/库名":
        "Unsupported database address: {url}; use a SpatiaLite file path (sqlite:///…) or "
        "postgresql://user:password@host:port/database",
    "数据库文件不可读写：{path}。请修改文件权限（chmod u+rw）": "The database file cannot be read and written: {path}. Change its permissions (chmod u+rw)",
    "目录不可写：{parent}（SQLite 需要在数据库旁写日志文件）。请修改目录权限或把数据库放到可写的位置":
        "The directory is not writable: {parent} (SQLite writes a journal next to the database). Change its "
        "permissions or move the database somewhere writable",
    "数据库 {where} 还没有 GridHall 表结构。请运行 gridhall db init --db {where}（或 gridhall db upgrade --db {where}）":
        "Database {where} has no GridHall schema yet. Run gridhall db init --db {where} (or gridhall db upgrade --db {where})",
    "数据库 {where} 的表结构版本 {rev} 较旧（最新 {head}）。请运行 gridhall db upgrade --db {where}":
        "Database {where} has an older schema version {rev} (newest {head}). Run gridhall db upgrade --db {where}",
    "无法识别的数据库地址：{text_url}（{exc}）": "Unrecognised database address: {text_url} ({exc})",
    "SQLite 数据库地址必须给出文件路径：{text_url}": "A SQLite database address needs a file path: {text_url}",
    "PostgreSQL 地址缺少数据库名：{url}": "The PostgreSQL address lacks a database name: {url}",
    "无法加载 SpatiaLite 扩展（{module}）：{exc}。请安装 Debian 软件包 {spatialite_package}"
    "（apt-get install {spatialite_package}，或运行 make setup）":
        "Cannot load the SpatiaLite extension ({module}): {exc}. Install the Debian package {spatialite_package} "
        "(apt-get install {spatialite_package}, or run make setup)",
    "无权访问 {path}：上级目录不允许进入。请修改目录权限或换一个位置":
        "No access to {path}: a parent directory cannot be entered. Change its permissions or use another place",
    "数据库文件不存在：{path}。先运行 gridhall db init --db {path}":
        "The database file does not exist: {path}. Run gridhall db init --db {path} first",
    "{path} 是一个目录，不是数据库文件；请给出 .sqlite 文件的路径": "{path} is a directory, not a database file; give the path of a .sqlite file",
    "{path} 不是可用的 SQLite 数据库：{orig}": "{path} is not a usable SQLite database: {orig}",
    "无法连接 PostgreSQL 服务器 {where}（用户 {username}）：{msg}。请检查主机、端口、用户名和密码，以及服务器是否在运行":
        "Cannot connect to the PostgreSQL server {where} (user {username}): {msg}. Check host, port, user name and "
        "password, and whether the server is running",
    "无法在 PostgreSQL 服务器 {where} 上创建数据库 {database}：{pg_message}。请让管理员建库或授予 CREATEDB 权限":
        "Cannot create database {database} on the PostgreSQL server {where}: {pg_message}. Ask an administrator to "
        "create it or to grant CREATEDB",
    "数据库 {where} 的表结构版本 {rev} 不是本程序所知的版本（最新 {head}），可能由更新的 GridHall 创建；请升级 GridHall":
        "Database {where} has schema version {rev}, which this program does not know (newest {head}); a newer "
        "GridHall may have created it; upgrade GridHall",
    "无法创建数据库目录 {parent}：{strerror}。请换一个可写的位置或修改目录权限":
        "Cannot create the database directory {parent}: {strerror}. Use a writable place or change the permissions",
    "PostgreSQL 服务器 {where} 上没有数据库 {database}。先运行 gridhall db init --db {url}":
        "The PostgreSQL server {where} has no database {database}. Run gridhall db init --db {url} first",
    "角色“{role}”（{label}）没有对应的数据库组角色；可选：{choices}":
        "Role “{role}” ({label}) has no database group role; choose one of: {choices}",
    "用户名“{name}”太长：数据库登录名 {login_prefix}{name} 超过 63 字节":
        "User name “{name}” is too long: the database login {login_prefix}{name} exceeds 63 bytes",
    "数据库登录密码不能为空": "The database login password must not be empty",
    "数据库中没有用户“{username}”的登录账户（{login}）；先用 gridhall user add 建立账户":
        "The database has no login for user “{username}” ({login}); create the account with gridhall user add first",
    "专业部门操作员的数据库登录必须绑定部门：请给出部门（--department）":
        "A department operator's database login must belong to a department: give it (--department)",
    "密码为空或包含换行，不能写入 .pgpass": "The password is empty or contains a line break and cannot be written to .pgpass",
    "数据库登录名 {login} 已存在（登录名在整个 PostgreSQL 服务器内唯一，可能被另一个库使用）；请换一个用户名，或先删除旧登录":
        "Database login {login} already exists (logins are unique across the PostgreSQL server and another database "
        "may use it); choose another user name or drop the old login first",
    "组角色 {group} 不存在：数据库尚未初始化安全设置，请先运行 gridhall db upgrade":
        "Group role {group} does not exist: the database's security set-up is missing; run gridhall db upgrade first",
    "用户“{username}”在 users 表中属于部门 {current}，与给出的部门 {department_id} 不一致":
        "User “{username}” belongs to department {current} in the users table, not to the given department {department_id}",
    "SpatiaLite 库没有数据库登录账户：账户只在 users 表中，未做任何数据库操作":
        "A SpatiaLite database has no database logins: accounts live in the users table only; nothing was done",
    # -- the working calendar and timer explanations (app.domain.calendar, app.domain.deadlines) ---
    "周末": "weekend",
    "工作日": "working day",
    "调休工作日": "make-up working day",
    "本地调整：工作日": "local change: working day",
    "本地调整：休息日": "local change: day off",
    "本地调整：休息日（{name}）": "local change: day off ({name})",
    "{kind}（{year}年节假日数据缺失，按周一至周五推算）": "{kind} (no holiday data for {year}; Monday–Friday assumed)",
    "法定节假日（{name}）": "public holiday ({name})",
    "{n}个工作日": "{n} working days",
    "{n}天": "{n} d",
    "{n}小时": "{n} h",
    "{n}分": "{n} min",
    "{n}秒": "{n} s",
    "{parts}": "{parts}",
    "{windows}": "{windows}",
    "{parts}。": "{parts}.",
    "{n} 个工作日": "{n} working days",
    "{n} 工作小时": "{n} working hours",
    "{n} 工作分钟": "{n} working minutes",
    "{n} 小时": "{n} hours",
    "{n} 分钟": "{n} minutes",
    "时限为零": "zero time limit",
    "{year}年{date}": "{year}/{date}",
    "{year}年": "{year}",
    "{month}月{day}日": "{month}/{day}",
    "{month}月{day}日–{day2}日": "{month}/{day}–{month}/{day2}",
    "{month}月{day}日–{month2}月{day2}日": "{month}/{day}–{month2}/{day2}",
    "{year}年{month}月{day}日–{year2}年{month2}月{day2}日": "{year}/{month}/{day}–{year2}/{month2}/{day2}",
    "{days}为{kind}": "{days}: {kind}",
    "其间 {runs}，不计时": "meanwhile {runs}, not counted",
    "{runs}，照常计时": "{runs}, counted as usual",
    "{kind} {n} 天": "{kind} {n} d",
    "其间共有 {n} 个非工作日不计时（{detail}）": "meanwhile {n} days off are not counted ({detail})",
    "注意：{years}的法定节假日数据缺失，该年按周一至周五为工作日推算":
        "note: no public-holiday data for {years}; Monday–Friday are assumed to be working days",
    "当前环节没有计时。": "This stage has no timer.",
    "当前阶段不计时": "This stage has no timer",
    "，1 个工作日按 {hours} 工作小时计": "; 1 working day counts as {hours} working hours",
    "{stage}时限 {limit}（工作时间：{windows}，跳过周末和法定节假日，调休工作日照常计时{day}）":
        "{stage} time limit {limit} (working time: {windows}; weekends and public holidays are skipped, "
        "make-up working days count{day})",
    "{stage}时限 {limit}（按自然时间连续计时，夜间、周末和节假日均计入）":
        "{stage} time limit {limit} (natural time, counted continuously: nights, weekends and holidays included)",
    "自 {when} 开始计时": "timed from {when}",
    "自 {when} 开始计时（非工作时间，从 {start} 起算）": "timed from {when} (outside working time; counted from {start})",
    "尚未到开始时间": "not started yet",
    "缓办/挂账暂停 {duration}（不计入用时，截止时间相应顺延）":
        "paused (deferred/shelved) for {duration} (not counted; the deadline moves accordingly)",
    "自 {when} 起缓办/挂账暂停中（已暂停 {duration}），暂停期间不计时":
        "paused (deferred/shelved) since {when} (paused for {duration}); the pause is not counted",
    "延期 +{limit}": "extended +{limit}",
    "截止时间待恢复计时后重新计算": "the deadline is recomputed when timing resumes",
    "截止 {when}": "due {when}",
    "督办限时 {cap}（早于原{stage}时限 {original}）":
        "urged deadline {cap} (earlier than the {stage} time limit's {original})",
    "督办限时 {cap}（不早于{stage}时限，截止时间不变）":
        "urged deadline {cap} (not earlier than the {stage} time limit; the deadline stands)",
    "督办限时 {cap}（不因缓办/挂账顺延）": "urged deadline {cap} (a deferral or shelving does not move it)",
    "督办限时 {cap} 已过（不因缓办/挂账顺延）": "the urged deadline {cap} has passed (a deferral or shelving does not move it)",
    "按督办限时 {percent}": "{percent} of the time to the urged deadline",
    "督办限时早于计时开始": "the urged deadline precedes the start",
    "已用 {duration}（{percent}）": "used {duration} ({percent})",
    "超时 {duration}": "overdue by {duration}",
    "剩余 {duration}": "{duration} left",
    "{used}，{left}，{light}": "{used}, {left}, {light}",
    # -- which time-limit rule applied (app.domain.limits) -------------------------------------------
    "{kind} {category} {level}案件的{stage}时限": "the {stage} time limit of {level} {kind} cases in {category}",
    "（无类别）": "(no category)",
    "该小类 {code} 的专门规定": "the rule of subclass {code}",
    "大类 {code} 的规定（该小类没有专门规定）": "the rule of main class {code} (the subclass has none of its own)",
    "{kind}类的默认规定（该类别及其大类都没有专门规定）":
        "the default rule for {kind} categories (neither the category nor its main class has one)",
    "全局默认规定（该类别、大类和部件/事件类都没有专门规定）":
        "the global default (no rule for the category, its main class or its kind)",
    "系统内置默认值（时限表中没有适用的规定）": "the built-in default (the time-limit table has no matching rule)",
    "，条件：{condition}": ", condition: {condition}",
    "，来源：{source}": ", source: {source}",
    "{what}采用{scope}：{limit}（{basis}）{condition}{source}。": "For {what}, {scope} applies: {limit} ({basis}){condition}{source}.",
    "内置默认（standards.md §4）": "built-in default (standards.md §4)",
    "{file} 第 {line} 行": "{file} line {line}",
    # -- filing standard, conflicts and claims ----------------------------------------------------
    "「{name}」（{code}）没有单独录入的立案标准：按 GB/T 47678.5 类别定义立案，处置时限 {limit}{condition}":
        "“{name}” ({code}) has no filing standard of its own: file by the GB/T 47678.5 category definition; "
        "time limit {limit}{condition}",
    "；条件：{condition}": "; condition: {condition}",
    "案卷 {number} 在你看到的第 {since} 版之后有 {count} 项变更（当前第 {version} 版）：\n{steps}\n"
    "你填写的内容已保留；请核对以上变更后再保存":
        "Case {number} has {count} changes after version {since}, which you saw (now version {version}):\n{steps}\n"
        "What you typed is kept; check the changes above, then save again",
    "{name}（{role}）正在{doing}此案卷{where}": "{name} ({role}) is working on this case: {doing}{where}",
    "案卷 {number} 自第 {since} 版以来没有变化（当前第 {version} 版）":
        "Case {number} has not changed since version {since} (now version {version})",
    "处理": "handling",
    "（工作站 {workstation}）": " (workstation {workstation})",
    "案卷（id {case_id}）已不存在": "The case (id {case_id}) no longer exists",
    "  第 {seq} 版 {at} {who}{action} → {state}{why}": "  version {seq} {at} {who}: {action} → {state}{why}",
    # -- duplicates, routing and location notes ------------------------------------------------------
    "{n} 天前": "{n} d ago",
    "{n} 分钟前": "{n} min ago",
    "{n} 小时前": "{n} h ago",
    "相距 {dist:.0f} 米": "{dist:.0f} m away",
    "同一类别「{name}」": "same category “{name}”",
    "同属大类「{major}」（{name}）": "same main class “{major}” ({name})",
    "{age}结案": "closed {age}",
    "未结案（{state}，{age}上报）": "open ({state}, reported {age})",
    "旧版类别代码 {raw} 已转换为 {code} {name}": "Legacy category code {raw} converted to {code} {name}",
    "按道路「{road}」{number} 号估算位置（每对门牌约 {metres:g} 米），请在地图上核对":
        "Location estimated from “{road}” no. {number} (about {metres:g} m per pair of house numbers); check it on the map",
    "地址只匹配到道路「{road}」，位置取该道路中点（近似），请在地图上核对":
        "The address only matched the road “{road}”; its midpoint is used (approximate); check it on the map",
    "旧版部件标识码 {raw} 已转换为 {code}": "Legacy component id {raw} converted to {code}",
    "地址与已有案卷的地址相同，采用其位置": "The address equals an earlier case's; its location is used",
    "路由规则：全部类别": "routing rule: all categories",
    "路由规则：全部部件": "routing rule: all components",
    "路由规则：全部事件": "routing rule: all events",
    "路由规则：类别「{name}」": "routing rule: category “{name}”",
    "路由规则：大类「{name}」": "routing rule: main class “{name}”",
    "{rule}，{level}「{area}」属地管理": "{rule}, {level} “{area}” is the local authority",
    "类别「{name}」的默认处置部门": "default department for category “{name}”",
    "部件 {code} 的养护单位": "maintainer of component {code}",
    "部件 {code} 的权属单位": "owner of component {code}",
    "部件 {code} 的主管部门": "authority of component {code}",
    # -- identifiers (app.domain.codes) and categories (app.domain.taxonomy) -------------------------
    "旧版部件标识码": "legacy component id",
    "事件编码": "event code",
    "001–399（001–099 街道，100–199 镇，200–399 乡）": "001–399 (001–099 street, 100–199 town, 200–399 township)",
    "大类段": "main-class segment",
    "小类段": "subclass segment",
    "流水号段": "serial-number segment",
    "街道/乡镇段": "street/town segment",
    "社区/村段": "community/village segment",
    "网格顺序号段": "grid sequence segment",
    "{label} {code} 的": "{label} {code}: ",
    "{label}行政区划段 {admin} 不是有效的县级行政区划代码": "{label}administrative segment {admin} is not a valid county-level division code",
    "街道/乡镇代码 {street} 无效：应为 {rule}": "Street/town code {street} is invalid: it should be {rule}",
    "{label}应为数字文本，实际为 {type}": "{label} should be a text of digits, not {type}",
    "{n}位": "{n}",
    "{label}为空：应为{want}数字": "{label} is empty: it should have {want} digits",
    "{label} {code} 应为{want}数字，实际{n}位": "{label} {code} should have {want} digits, not {n}",
    "{label} {code} 第{i}位「{ch}」不是数字：应为{want}数字":
        "{label} {code}: character {i} “{ch}” is not a digit: it should have {want} digits",
    "{msg}：应为6位数字": "{msg}: it should have 6 digits",
    "{msg}：省级代码 {province} 不存在（GB/T 2260 省级代码为 11–82 中的34个）":
        "{msg}: province code {province} does not exist (GB/T 2260 has 34 province codes between 11 and 82)",
    "{msg}：第3–4位（地级段）不能为 00": "{msg}: digits 3–4 (prefecture segment) must not be 00",
    "{msg}：第5–6位（县级段）不能为 00，{admin} 是地级或省级代码":
        "{msg}: digits 5–6 (county segment) must not be 00; {admin} is a prefecture or province code",
    "{label} {whole} 的{what} {value} 无效：应为 {rule}": "{label} {whole}: {what} {value} is invalid: it should be {rule}",
    "{label} {whole} 的类别段 {code} 无效：{error}": "{label} {whole}: category segment {code} is invalid: {error}",
    "{label}流水号 {serial} 超出范围：应为 1–999999": "{label} serial number {serial} is out of range: it should be 1–999999",
    "{label} {old} 无法转换为17位：{error}": "{label} {old} cannot be converted to 17 digits: {error}",
    "旧版{kind}代码": "legacy {kind} code",
    "未知的{kind}分类代码 {code!r}：GB/T 47678.5-2026 {kind}清单中没有这一项":
        "Unknown {kind} category code {code!r}: it is not in the GB/T 47678.5-2026 {kind} list",
    "{head}。请按代码或名称搜索分类": "{head}. Search the categories by code or name",
    "{head}。这像是4位旧版代码，对应新代码 {target}": "{head}. This looks like a 4-digit legacy code; its new code is {target}",
    "{head}。相近的有：{hints}": "{head}. Similar: {hints}",
    "{label} {code!r} 应为4位数字（2位大类 + 2位小类）": "{label} {code!r} should have 4 digits (2 for the main class + 2 for the subclass)",
    "{label} {code} 的大类 {major} 不在已知的旧版大类中（{choices}）":
        "{label} {code}: main class {major} is not a known legacy main class ({choices})",
    "{label} {code}（旧大类「{major}」）在 legacy_map.csv 中没有对应的 GB/T 47678.5-2026 代码："
    "请在该文件补一行 {kind},{code},<旧名称>,<新代码>，或人工选择新代码":
        "{label} {code} (legacy main class “{major}”) has no GB/T 47678.5-2026 code in legacy_map.csv: add a line "
        "{kind},{code},<old name>,<new code> to that file, or choose the new code by hand",
    # -- the workflow (app.domain.workflow) -------------------------------------------------------------
    "「{item}」": "“{item}”",
    "案卷尚未上报，只能先执行「{report}」": "The case is not reported yet; only “{report}” is possible",
    "案卷已上报（当前状态「{state}」），不能重复上报": "The case is already reported (now “{state}”) and cannot be reported again",
    "案卷当前状态为「{state}」，不能执行「{action}」：「{state}」的案卷已办结":
        "The case is “{state}” and cannot “{action}”: “{state}” cases are finished",
    "案卷当前状态为「{state}」，不能执行「{action}」：当前流程没有启用此操作":
        "The case is “{state}” and cannot “{action}”: the workflow does not enable this action",
    "案卷当前状态为「{state}」，不能执行「{action}」：只有{froms}的案卷可以{action}":
        "The case is “{state}” and cannot “{action}”: only {froms} cases can",
    "案卷当前状态为「{state}」，不能执行「{action}」：「{state}」的案卷不能{action}":
        "The case is “{state}” and cannot “{action}”: “{state}” cases cannot",
    "「{role}」无权执行「{action}」，需要{needed}": "A “{role}” may not “{action}”; it needs {needed}",
    "「{action}」必须填写理由": "“{action}” needs a reason",
    "「{action}」需要给出结果：{options}": "“{action}” needs a result: {options}",
    "「{action}」没有结果选项，不应给出结果 {outcome!r}": "“{action}” has no result options; {outcome!r} must not be given",
    "「{action}」的结果 {outcome!r} 无效：应为{options}": "Result {outcome!r} of “{action}” is invalid: use {options}",
    "「{state}」之前的状态不可能是「{previous}」（应为{origins}）":
        "The state before “{state}” cannot be “{previous}” (it should be {origins})",
    "「{action}」需要知道申请之前的状态": "“{action}” needs the state before the request",
    "「{action}」需要知道「{state}」之前的状态（可能是{origins}）":
        "“{action}” needs the state before “{state}” (it may be {origins})",
    "空的案卷历史：第一步应为「上报」": "Empty case history: the first step must be “Report”",
    "第{n}步「{action}」不合法：{error}": "Step {n} “{action}” is not allowed: {error}",
    # -- the input policy (app.domain.text), reports (app.services.intake), photo files -----------------
    "问题描述": "Description", "上报人姓名": "Reporter's name", "上报人电话": "Reporter's phone",
    "结果说明": "Result note", "姓名": "Name", "电话": "Phone", "文件名": "File name", "席位": "Workstation",
    "问题类别": "Category", "部门代码": "Department code", "案卷编号": "Case number",
    "（{name}）": " ({name})",
    "{label}共 {count:,} 字，超过 {limit:,} 字上限": "{label} has {count:,} characters, over the limit of {limit:,}",
    "{head}…{tail}（共 {count:,} 字）": "{head}…{tail} ({count:,} characters)",
    "{label}应为文本，实际为 {type}": "{label} must be text, not {type}",
    "{label}含有控制字符 {code}{name}（第 {pos} 个字符），不能保存：请删除后重试":
        "{label} contains the control character {code}{name} (character {pos}) and cannot be saved: "
        "remove it and try again",
    "{label}含有改变文字显示方向的控制字符 {code}{name}（第 {pos} 个字符），会让显示的文字与实际内容不同，不能保存":
        "{label} contains the text-direction control {code}{name} (character {pos}), which makes the text "
        "show differently from what it is; it cannot be saved",
    "{label}含有无法按 UTF-8 解码的字节 0x{byte:02X}（第 {pos} 个字符）：请以 UTF-8 编码输入":
        "{label} contains the byte 0x{byte:02X} that is not UTF-8 (character {pos}): enter it as UTF-8",
    "{label}含有无效的 Unicode 代理字符 {code}（第 {pos} 个字符），不能保存":
        "{label} contains an invalid Unicode surrogate {code} (character {pos}) and cannot be saved",
    "{label}含有 Unicode 非字符 {code}（第 {pos} 个字符），不能保存":
        "{label} contains the Unicode noncharacter {code} (character {pos}) and cannot be saved",
    "{label}第 {pos} 个字符处叠加了超过 {limit} 个组合符号，不能保存":
        "{label} stacks more than {limit} combining marks at character {pos} and cannot be saved",
    "{label}「{value}」无效：第 {pos} 个字符「{ch}」不是数字；电话号码只能包含数字、空格和 + - ( ) # * 等符号":
        "{label} “{value}” is invalid: character {pos} “{ch}” is not a digit; a phone number holds only digits, "
        "spaces and signs such as + - ( ) # *",
    "{label}「{value}」无效：至少应有 3 位数字": "{label} “{value}” is invalid: it needs at least 3 digits",
    "坐标 {name} 应为数字，实际为 {type}": "Coordinate {name} must be a number, not {type}",
    "坐标 {name}={value:.6g} 超出范围：应为 EPSG:{store_srid} 平面坐标（米）":
        "Coordinate {name}={value:.6g} is out of range: use EPSG:{store_srid} plane coordinates (metres)",
    "「{p}」{what}，不能作为照片：只接受普通的图片文件": "“{p}” {what} and cannot be a photo: only regular image files are accepted",
    "是目录": "is a directory", "是命名管道（FIFO）": "is a named pipe (FIFO)", "是设备文件": "is a device file",
    "是套接字": "is a socket", "不是普通文件": "is not a regular file",
    "照片文件名为空：请给出照片文件的路径": "The photo file name is empty: give the path of a photo file",
    "照片文件的路径「{p}」含有空字符 U+0000，不是有效的文件路径":
        "The photo path “{p}” contains a NUL character (U+0000) and is not a valid file path",
    "照片「{name}」的内容应为字节，实际为 {type}": "The content of photo “{name}” must be bytes, not {type}",
    "图片「{filename}」的尺寸 {width}×{height} 像素过大（最多 {limit:,} 像素）":
        "Image “{filename}” is {width}×{height} pixels, too large (at most {limit:,} pixels)",
    "图片「{filename}」的像素过多（最多 {limit:,} 像素），无法打开":
        "Image “{filename}” has too many pixels (at most {limit:,}) and cannot be opened",
    # -- command line: hostile input, damaged stores (issue 9, helper J) ---------------------
    "内部错误（{kind}），未完成操作；请用 gridhall -v … 重新运行查看详情，并报告这个问题":
        "Internal error ({kind}); the operation was not completed. Run again with gridhall -v … for the details "
        "and report the problem",
    "已中断，但这一步在中断前已经提交；不要重复提交": "Interrupted, but the step had been committed before; do not submit it again",
    "文本编码出错（{kind}），未完成操作；请使用 UTF-8 终端和脚本（gridhall -v … 可查看详情）":
        "Text encoding error ({kind}); the operation was not completed. Use a UTF-8 terminal and scripts "
        "(gridhall -v … shows the details)",
    "数值过大，超出可处理的范围；未写入任何内容": "A number is too large to handle; nothing was written",
    "内存不足，未完成操作；请检查输入的文件或数据是否过大":
        "Out of memory; the operation was not completed. Check whether the input file or data is too large",
    "系统错误：{strerror}，未完成操作（gridhall -v … 可查看详情）":
        "System error: {strerror}; the operation was not completed (gridhall -v … shows the details)",
    "已中断：被中断的这一步没有提交，数据库未被改动":
        "Interrupted: the interrupted step was not committed; the database was not changed",
    "已中断：无法确定这一步是否已提交；重新提交之前，请先用 gridhall case list 查看是否已有这件案卷":
        "Interrupted: it cannot be told whether the step was committed; before submitting again, check with "
        "gridhall case list whether the case is already there",
    "已中断，但这一步在中断前已经提交：案卷 {numbers}；不要重复提交，可用 gridhall case show {first} 查看":
        "Interrupted, but the step had been committed before: case {numbers}; do not submit it again "
        "(gridhall case show {first} shows it)",
    "参数 {option} 不是有效的 UTF-8 文本（可能来自 GBK 编码的脚本）；请把脚本或终端改为 UTF-8 后重试":
        "Argument {option} is not valid UTF-8 text (perhaps from a GBK-encoded script); switch the script or "
        "terminal to UTF-8 and try again",
    "第 {position} 个": "number {position}",
    "截图路径 {path} 是目录或为空：请给出 .png 文件的路径":
        "The screenshot path {path} is a directory or empty: give the path of a .png file",
    "截图无法保存：目录 {parent} 不存在": "The screenshot cannot be saved: the directory {parent} does not exist",
    "截图无法保存：没有写入 {path} 的权限": "The screenshot cannot be saved: no permission to write {path}",
    "没有可用的输入：标准输入已关闭，无法询问密码；请设置环境变量 GRIDHALL_PASSWORD，或在交互终端中运行":
        "No input: standard input is closed, so the password cannot be asked for; set the environment "
        "variable GRIDHALL_PASSWORD or run in an interactive terminal",
    "{option} 过长（{count:,} 个字符，最多 {limit} 个）": "{option} is too long ({count:,} characters, at most {limit})",
    "{option} 的坐标超出范围：应为两个有限的数（投影坐标，米，例如 557150,3464450），不能是无穷大或 {limit:.0e} 以上的数":
        "The coordinates of {option} are out of range: give two finite numbers (projected coordinates in metres, "
        "e.g. 557150,3464450), not infinity or {limit:.0e} and above",
    "数据库检查通过：文件完整，SpatiaLite/PostGIS 元数据和全部数据表都在，表结构为最新版本":
        "Database check passed: the file is intact, the SpatiaLite/PostGIS metadata and every table are there, "
        "and the schema is at the newest revision",
    "环境变量 GRIDHALL_DB 不是有效的 UTF-8 文本": "The environment variable GRIDHALL_DB is not valid UTF-8 text",
    "数据库文件已损坏（{detail}），未写入任何内容；请运行 gridhall db check --db … 查看损坏情况，并从备份恢复":
        "The database file is damaged ({detail}); nothing was written. Run gridhall db check --db … to see the "
        "damage, and restore from a backup",
    "数据库缺少数据表（{detail}），可能已损坏或不完整，未写入任何内容；请运行 gridhall db check --db … 查看，并从备份恢复":
        "The database lacks a table ({detail}) and may be damaged or incomplete; nothing was written. Run "
        "gridhall db check --db … to see what is wrong, and restore from a backup",
    "数据库地址为空：请给出 SpatiaLite 文件路径或 postgresql://用户@主机:端口/库名":
        "The database address is empty: give a SpatiaLite file path or postgresql://user@host:port/database",
    "数据库地址含有空字符 U+0000，不是有效的文件路径或地址":
        "The database address contains a NUL character (U+0000) and is not a valid file path or address",
    "无法识别数据库地址 {url} 中的主机和端口：端口应为 1–65535 的数字，IPv6 地址写在方括号里（如 [::1]:5432）":
        "Cannot read the host and port of the database address {url}: the port must be a number from 1 to 65535, "
        "an IPv6 address goes in brackets (e.g. [::1]:5432)",
    "{path} 是空文件（0 字节），不是 GridHall 数据库；如要在这里新建数据库，请运行 gridhall db init --db {path}":
        "{path} is an empty file (0 bytes), not a GridHall database; to create a database there, run "
        "gridhall db init --db {path}",
    "{path} 不是可用的 SQLite 数据库（文件头不符）；请检查路径":
        "{path} is not a SQLite database file (wrong header); check the path",
    "{path} 不是普通文件（可能是设备、命名管道或套接字），不能作为数据库文件":
        "{path} is not a regular file (perhaps a device, a named pipe or a socket) and cannot be a database file",
    "无法读取 {path}：{strerror}": "Cannot read {path}: {strerror}",
    "{path} 缺少 SpatiaLite 元数据表 {tables}：几何字段和地图无法使用。请运行 gridhall db check --db {path} 查看，并从备份恢复":
        "{path} lacks the SpatiaLite metadata tables {tables}: geometry columns and the map cannot work. Run "
        "gridhall db check --db {path} to see what is wrong, and restore from a backup",
    "{path} 已损坏，无法读取（{detail}）；请运行 gridhall db check --db {path} 查看，并从备份恢复":
        "{path} is damaged and cannot be read ({detail}); run gridhall db check --db {path} to see the damage, "
        "and restore from a backup",
    "请从最近的备份恢复数据库（恢复后用 gridhall db verify-audit --seal … 核对审计链）":
        "restore the database from the latest backup (then check the audit chain with "
        "gridhall db verify-audit --seal …)",
    "表结构版本 {rev} 较旧（最新 {head}）": "The schema revision {rev} is old (newest {head})",
    "请运行 gridhall db upgrade --db {where}": "run gridhall db upgrade --db {where}",
    "缺少数据表：{tables}": "Missing tables: {tables}",
    "数据库 {where} 没有记录表结构版本（alembic_version 为空）":
        "The database {where} records no schema revision (alembic_version is empty)",
    "如果这是新数据库，请运行 gridhall db init --db {where}；否则请从备份恢复":
        "if this is a new database, run gridhall db init --db {where}; otherwise restore from a backup",
    "表结构版本 {rev} 不是本程序所知的版本（最新 {head}）":
        "The schema revision {rev} is not one this program knows (newest {head})",
    "可能由更新的 GridHall 创建；请升级 GridHall": "perhaps made by a newer GridHall; upgrade GridHall",
    "数据库文件不存在：{path}": "The database file does not exist: {path}",
    "请检查路径；如要新建，请运行 gridhall db init --db {path}":
        "check the path; to create a database, run gridhall db init --db {path}",
    "请检查路径，或从备份恢复数据库文件": "check the path, or restore the database file from a backup",
    "缺少 SpatiaLite 元数据表 {tables}：几何字段和地图无法使用":
        "The SpatiaLite metadata tables {tables} are missing: geometry columns and the map cannot work",
    "{where} 里没有 GridHall 表结构": "{where} holds no GridHall schema",
    "如要在这里新建数据库，请运行 gridhall db init --db {where}": "to create a database there, run gridhall db init --db {where}",
    "数据库文件已损坏，无法读取（{detail}）": "The database file is damaged and cannot be read ({detail})",
    "请检查地址、服务器和登录后重试": "check the address, the server and the login, then try again",
    "请检查数据库后重试": "check the database, then try again",
    "数据库文件已损坏（完整性检查：{lines}）": "The database file is damaged (integrity check: {lines})",
    "数据库 {where} 没有安装 PostGIS 扩展": "The database {where} has no PostGIS extension",
    "请让管理员运行 CREATE EXTENSION postgis，或从备份恢复":
        "ask the administrator to run CREATE EXTENSION postgis, or restore from a backup",
    "缺少 PostGIS 元数据 {tables}": "The PostGIS metadata {tables} is missing",
    "无法写入 {path}（目录不存在、没有写权限或磁盘已满？）":
        "{path} could not be written (no such directory, no permission, or the disk is full?)",
    "案卷队列 60 秒内未加载完": "the case queue did not load within 60 s",
    "地图 60 秒内未绘制完": "the map did not finish drawing within 60 s",
    "截图不完整：{why}": "Screenshot incomplete: {why}",
    "{problem}；未校验审计链：请先改正封印文件": "{problem}; the audit chain was not checked: correct the seal files first",
}

# Safe actions and the F1 help (issue 10: app/ui/work/bulk.py, case_actions.py, help.py, the work docks).
MESSAGES_EN.update({
    "全选": "Select all", "全不选": "Select none", "勾选要处理的案卷：": "Tick the cases to act on:",
    "尚未勾选案卷：在列表中勾选要处理的案卷": "No case ticked yet: tick the cases to act on in the list",
    "我已核对以上清单和汇总（{n} 件）": "I have checked the list and the summary above ({n})",
    "批量{action} {n} 件": "{action} ({n})",
    "先勾选要处理的案卷": "Tick the cases to act on first",
    "先核对清单并勾选「我已核对」": "Check the list and tick \"I have checked\" first",
    "{action}：{n} 件": "{action}: {n}", "  {department}：{n} 件": "  {department}: {n}",
    "（部门待定）": "(department being looked up)", "（无责任部门）": "(no department)",
    "（无派遣建议）": "(no dispatch suggestion)",
    "不可用：{why}": "Not available: {why}",
    "没有选中的案卷：请先在队列中选择一件案卷": "No case selected: select a case in the queue first",
    "所选案卷 {number} 不在当前列表中（被筛选隐藏）：清除筛选或重新选择":
        "The selected case {number} is not in the list (hidden by the filter): clear the filter or select again",
    "你的角色「{role}」不能{action}": "Your role ({role}) cannot {action}",
    "案卷当前为「{state}」；{action}只能用于：{states}": "The case is {state}; {action} is only for: {states}",
    "该案卷不属于你的部门": "The case does not belong to your department",
    "服务端规则不允许对该案卷{action}": "The rules do not allow {action} on this case",
    "已选中 {n} 件案卷：单件操作只用于一件案卷，请只选中一件；多件请用「办理」菜单中的批量操作":
        "{n} cases are selected: a single-case action takes one case; select just one, or use a bulk "
        "action in the Handle menu for several",
    "在队列中选中的 {picked} 件案卷中有 {n} 件不能{action}（状态不符），未勾选":
        "{n} of the {picked} cases selected in the queue cannot take {action} (their state does not "
        "allow it) and are not ticked",
    "所选案卷 {number} 不在列表的可见范围内（被筛选隐藏或已滚出视野）：请在列表中重新选择后再操作":
        "The selected case {number} is not visible in a list (hidden by the filter or scrolled away): "
        "select it in the list again, then act",
    "{title}（选中的案卷）": "{title} (selected case)",
    "当前案卷 {number} 被筛选隐藏": "The current case {number} is hidden by the filter",
    # -- the case archive (issue 10, item 2) -----------------------------------------------------
    "案卷库": "Case archive",
    "当前案卷 {number} 来自案卷库，不在队列中": "The current case {number} comes from the archive; it is not in the queue",
    "搜索全部案卷": "Search all cases",
    "在全部案卷（含已结案、已作废、不予立案）中查找搜索框里的内容（回车）":
        "Look for the search box's text in every case, closed, voided and not filed too (Enter)",
    "全部案卷中也没有找到「{query}」": "No case at all matches \u201c{query}\u201d",
    "本页无匹配，已在全部案卷中找到 {n} 件（见「案卷库」）":
        "Nothing here matches; found {n} among all cases (see Case archive)",
    "全部案卷中找到 {n} 件（见「案卷库」）": "Found {n} among all cases (see Case archive)",
    "正在全部案卷中查找…": "Searching all cases…",
    "案卷号/流水号/电话/地址/描述，或 状态:已结案 部门: 网格: 2026-12-01..2026-12-07":
        "Number/serial/phone/address/description, or 状态:已结案 部门: 网格: 2026-12-01..2026-12-07",
    "查询": "Search", "上一页": "Previous", "下一页": "Next",
    "全部案卷中没有找到「{query}」": "No case matches \u201c{query}\u201d",
    "超过 {n}": "more than {n}",
    "共 {total} 件 · 第 {first}–{last} 件": "{total} cases · {first}–{last}",
    "先在列表中选中一件申请": "Select a request in the list first", "没有待审批的申请": "No request to decide",
    "先在列表中选中一件案卷": "Select a case in the list first",
    "没有现在可办理的案卷（暂停、缓办、挂账的案卷不计）":
        "No case to act on now (paused, deferred and shelved cases do not count)",
    "GridHall 帮助": "GridHall help", "办理闭环": "The closed loop", "各角色的工作": "What each role does",
    "批量 {key}": "bulk {key}", "可办理：": "Commands: ", "快捷键": "Keyboard shortcuts", "本窗口": "This window",
    "菜单": "Menu", "命令": "Command", "所有办理命令（按角色）": "Every case command (by role)", "批量": "Bulk",
    "角色": "Roles", "列表和对话框中的按键": "Keys in lists and dialogs", "按键": "Key", "作用": "What it does",
    "在案卷列表中移动；选中的案卷即当前案卷，详情和地图随之变化":
        "Move in a case list; the selected case is the current case, the details and the map follow it",
    "关闭对话框，不提交": "Close a dialog without submitting",
    "在对话框的输入项之间移动": "Move between the inputs of a dialog",
    "勾选/取消勾选（如批量对话框的案卷和“我已核对”）；按下有焦点的按钮":
        "Tick or untick (the cases and \"I have checked\" in a bulk dialog); press the focused button",
    "在批量对话框中不执行任何操作：批量操作只能勾选“我已核对”后点击按钮执行":
        "Does nothing in a bulk dialog: a bulk action runs only after ticking \"I have checked\" and pressing its button",
    "办理闭环、各角色的工作和所有快捷键": "The closed loop, what each role does and every keyboard shortcut",
    "内容：{sections}": "Contents: {sections}",
    # closing evidence, checked before 结案 is sent (app/domain/evidence.py, app/commands/evidence.py)
    "结案证据不完整，缺少：{missing}": "The closing evidence is incomplete; missing: {missing}",
    "结案证据不完整，按规定不能结案，缺少：{missing}":
        "The closing evidence is incomplete and the rules do not allow closing; missing: {missing}",
    "处置前照片的拍摄时间": "the time the photo before handling was taken",
    "处置后照片的拍摄时间": "the time the photo after handling was taken",
    "晚于处置前照片拍摄的处置后照片": "a photo after handling taken later than the photo before",
    "证据不完整，仍然结案（记录在案）": "Close despite the incomplete evidence (recorded)",
    "正在检查结案证据…": "Checking the closing evidence…", "拍摄于 {time}": "taken {time}",
    "拍摄时间未知": "time not known", "没有拍摄时间": "no time taken", "结案证据：": "Closing evidence:",
    "处置前照片：{state}": "Photo before handling: {state}", "处置后照片：{state}": "Photo after handling: {state}",
    "缺少": "missing", "无法检查结案证据：{error}": "The closing evidence could not be checked: {error}",
    "结案证据尚未检查完（或检查失败）：请稍候或重新打开":
        "The closing evidence is not checked yet (or the check failed): wait, or open the dialog again",
    "{missing}；确认要结案请勾选“证据不完整，仍然结案”":
        "{missing}; to close anyway, tick \"Close despite the incomplete evidence\"",
    "也结案证据不完整的案卷（记录在案）": "Also close cases whose evidence is incomplete (recorded)",
    "结案前逐件检查结案证据（处置前、处置后照片及拍摄时间）；":
        "The closing evidence (photos before and after handling, with their times) is checked case by case; ",
    "证据不完整的案卷也会结案": "cases with incomplete evidence are closed too",
    "证据不完整的案卷不会结案，结果中列出缺少什么":
        "cases with incomplete evidence are not closed: the result says what is missing",
})

# Public holidays: the calendar names them in Chinese (its source, chinese_calendar, in English).
MESSAGES_EN.update({chinese: english for english, chinese in HOLIDAY_NAMES.items()})

# Case search (issue 10, item 2: app/services/search.py).
MESSAGES_EN.update({
    "检索内容共 {n} 个字，超过 {limit} 字上限": "The search has {n} characters, more than the {limit} allowed",
    "检索词共 {n} 个，超过 {limit} 个上限": "The search has {n} words, more than the {limit} allowed",
    "检索词 {word} 缺少要找的内容": "{word}: say what to look for after the colon",
    "没有名为 {text} 的案卷状态": "No case state is called {text}",
    "没有名为 {text} 的案件来源": "No case source is called {text}",
    "类型只能是部件或事件：{text}": "The type is either 部件 (component) or 事件 (event), not {text}",
    "{what}只能是数字：{text}": "{what} is digits only: {text}",
    "日期 {text} 不存在": "The date {text} does not exist",
    "日期范围 {text} 的结束早于开始": "The period {text} ends before it starts",
    "看不懂日期 {text}：请写成 2026-12-07、2026-12 或 2026-12-01..2026-12-07":
        "Cannot read the date {text}: write 2026-12-07, 2026-12 or 2026-12-01..2026-12-07",
    "每页条数须在 1 到 {limit} 之间": "A page holds 1 to {limit} cases",
    "起始位置不能为负数": "The start of a page cannot be negative",
    "没有名称或编码含 {text} 的类别": "No category has {text} in its code or name",
    "没有名称或编码含 {text} 的部门": "No department has {text} in its code or name",
})

# Map tools (issue 10, item 4: app/gis/tools/, app/ui/map_toolbar.py, the map and queue context menus).
MESSAGES_EN.update({
    "书签名称不能为空": "A bookmark needs a name",
    "书签名称过长（最多 {n} 个字）": "The bookmark name is too long (at most {n} characters)",
    "地图范围为空，无法保存书签": "The map shows no extent: nothing to bookmark",
    "书签已达上限（{n} 个），请先删除一些": "You have {n} bookmarks, the most allowed: delete some first",
    "坐标 {a}, {b} 既不是 EPSG:4549 的 x,y，也不是经纬度": "{a}, {b} is neither an EPSG:4549 x,y nor a longitude,latitude",
    "没有编码为 {code} 的网格或部件": "No unit grid or component has the code {code}",
    "坐标无效：{text}": "Not a valid coordinate: {text}",
    "经纬度 {a}, {b} 像是写反了：应为 经度,纬度": "{a}, {b} looks reversed: write longitude,latitude",
    "请输入网格编码、部件编码或坐标": "Enter a grid code, a component code or a coordinate",
    "无法识别：{text}（应为网格编码、部件编码、x,y 或 经度,纬度）":
        "Cannot read {text} (enter a grid code, a component code, x,y or longitude,latitude)",
    "正在打开图层…": "Opening the layers…",
    "不支持的导出格式：{suffix}（可导出 PNG 或 PDF）": "Cannot export to {suffix} (PNG or PDF)",
    "正在排版…": "Laying out the page…",
    "正在输出…": "Writing the file…",
    "导出地图时无法打开图层“{name}”": "The layer “{name}” could not be opened for the export",
    "地图导出失败：{error}": "The map export failed: {error}",
    "无法写入文件 {path}：请检查目录是否存在、是否有写权限":
        "Cannot write {path}: check that the folder exists and that you may write there",
    "浏览/识别": "Browse/identify", "点击识别网格、部件或案卷，拖动平移":
        "Click to identify a grid, component or case; drag to pan",
    "平移": "Pan", "拖动地图平移": "Drag the map to pan",
    "拉框放大": "Zoom box", "单击或拉框放大": "Click or drag a box to zoom in",
    "测量距离": "Measure distance", "测量面积": "Measure area",
    "单击添加节点，右键或双击结束，Esc 清除": "Click to add points; right click or double click ends; Esc clears",
    "放大": "Zoom in", "放大一级": "Zoom in one step", "缩小": "Zoom out", "缩小一级": "Zoom out one step",
    "上一视图": "Previous extent", "回到上一个地图范围": "Back to the previous map extent",
    "下一视图": "Next extent", "前进到下一个地图范围": "Forward to the next map extent",
    "定位到…": "Go to…", "输入网格编码、部件编码、x,y（EPSG:4549）或 经度,纬度":
        "Enter a grid code, a component code, x,y (EPSG:4549) or longitude,latitude",
    "添加书签…": "Add bookmark…", "把当前地图范围存为书签": "Save the current map extent as a bookmark",
    "书签管理…": "Bookmarks…", "前往或删除书签": "Go to or delete a bookmark",
    "导出地图…": "Export map…",
    "把当前地图导出为 PNG 或 PDF（含标题、图例、比例尺、指北针和时间）":
        "Export the current map to PNG or PDF (with title, legend, scale bar, north arrow and time)",
    "书签管理": "Bookmarks", "前往": "Go to", "删除": "Delete",
    "地图工具": "Map tools", "书签": "Bookmarks", "定位：网格/部件编码、x,y 或 经度,纬度":
        "Go to: grid/component code, x,y or lon,lat",
    "测量：{value}": "Measured: {value}", "没有上一视图": "No previous extent", "没有下一视图": "No next extent",
    "已定位到{kind} {what}": "Went to {kind} {what}",
    "添加书签": "Add bookmark", "书签名称：": "Bookmark name:", "已添加书签：{name}": "Bookmark added: {name}",
    "导出地图": "Export map", "地图导出正在进行": "A map export is already running",
    "识别此处": "Identify here", "复制坐标": "Copy coordinate", "在此新建上报": "New report here",
    "缩放至此": "Zoom here", "已复制坐标：{coordinate}": "Coordinate copied: {coordinate}",
    "复制案卷号": "Copy case number", "在地图上定位": "Locate on the map", "查看办理过程": "Show history",
    "地图已导出：{path}": "Map exported: {path}", "GridHall 数字城管 · 地图": "GridHall city management · map",
    "图例": "Legend",
    "处置部门": "Department", "主管部门": "Authority", "权属部门": "Owner", "养护部门": "Maintainer",
})

# 修改 edit (issue 8): a case's descriptive fields change through a recorded event.
MESSAGES_EN.update({
    "没有要修改的内容：请填写要改正的地址、描述、举报人或联系电话":
        "Nothing to edit: fill in the address, description, reporter or phone to correct",
    "没有要修改的内容：新的内容与案卷现有的相同": "Nothing to edit: the new text is what the case already says",
    "新的地址（不填则不改）": "The new address (empty: unchanged)",
    "新的问题描述（不填则不改）": "The new description (empty: unchanged)",
    "新的举报人（不填则不改）": "The new reporter (empty: unchanged)",
    "新的联系电话（不填则不改）": "The new phone (empty: unchanged)",
    "为什么修改（记入办理过程）": "Why the case is edited (recorded in its history)",
    "{field}：{before} → {after}": "{field}: {before} → {after}", "（空）": "(empty)",
    "只填写要改正的内容；修改前后的内容记入办理过程":
        "Fill in only what needs correcting; the text before and after is recorded in the case's history",
    "环境变量 GRIDHALL_UI_SCALE 应为 auto 或 0.5–4 之间的数，不能是 {value}":
        "GRIDHALL_UI_SCALE must be auto or a number between 0.5 and 4, not {value}",
    "允许面板浮动": "Allow floating panels",
    "打开后可把面板拖出主窗口；关闭时浮动的面板回到窗口中":
        "When on, panels can be dragged out of the main window; turning it off docks floating panels back",
})


# -- alerts (issue 10, item 6): rules, grouping, acknowledge, history ---------------------------
MESSAGES_EN.update({
    "提醒规则 {where} 的 {key} 应是文字列表": "Alert rules {where}: {key} should be a list of words",
    "提醒规则 {where} 的 {key} 不认识：{values}（可用：{allowed}）":
        "Alert rules {where}: {key} has unknown values {values} (known: {allowed})",
    "提醒规则 {where} 有未知的设置 {key}": "Alert rules {where}: unknown setting {key}",
    "提醒规则 {where} 的 interval_s 应是 {low:g}–{high:g} 秒，不能是 {value}":
        "Alert rules {where}: interval_s should be {low:g}–{high:g} seconds, not {value}",
    "提醒规则文件 {path} 不存在，使用内置规则": "The alert rules file {path} does not exist; using the built-in rules",
    "提醒规则文件 {path} 无法读取（{error}），使用内置规则":
        "The alert rules file {path} cannot be read ({error}); using the built-in rules",
    "提醒规则 {where} 应是一张表": "Alert rules {where} should be a table",
    "提醒规则 {where} 的 categories 最多 50 项": "Alert rules {where}: at most 50 categories",
    "{n} 件案卷转红": "{n} cases turned red", "{n} 件案卷转黄": "{n} cases turned yellow",
    "{n} 件新上报案卷": "{n} new reports", "，": ", ", " 等": " …", "{head}：{numbers}{more}": "{head}: {numbers}{more}",
    "确认提醒": "Acknowledge", "确认当前提醒（{key}）": "Acknowledge the alert shown ({key})", "查看": "Show",
    "在队列中选中提醒的案卷": "Select the alerted case in the queue", "规则…": "Rules…",
    "哪些提醒、哪些类别和级别、提示音、横幅最短间隔":
        "Which alerts, which categories and levels, sound, and how often the banner may change",
    "个人提醒规则已损坏，已忽略": "Your own alert rules were damaged and are ignored",
    "未确认 {n}": "{n} unacknowledged", "提醒规则": "Alert rules", "级别": "Level",
    "类别代码前缀，用逗号分隔；留空为全部类别": "Category code prefixes, separated by commas; empty: every category",
    " 秒": " s", "横幅最短间隔": "Banner interval", "恢复默认": "Restore defaults",
    "确认提醒栏当前显示的提醒": "Acknowledge the alert shown in the alert strip",
})


# -- the request ledger (台账, issue 11 item 3): service, CLI and dock ---------------------------
MESSAGES_EN.update({
    "延期": "Extension", "回退": "Return", "待处理": "Pending", "已批准": "Approved", "未批准": "Refused",
    "已裁定": "Ruled", "未审批即终止": "Lapsed (case ended first)", "直接作废": "Voided directly",
    "台账": "Ledger", "月度占比": "Monthly shares", "类型": "Type", "结果": "Outcome", "意见": "Note",
    "申请时间": "Requested at", "申请人": "Requested by", "申请人角色": "Requester role",
    "申请部门": "Requester dept.", "申请理由": "Reason", "申请延期（分钟）": "Minutes asked",
    "审批时间": "Decided at", "审批人": "Decided by", "审批人角色": "Decider role", "审批意见": "Decision note",
    "批准延期（分钟）": "Minutes granted", "暂停开始": "Paused from", "暂停结束": "Paused until",
    "暂停时长（分钟）": "Paused (minutes)", "裁定": "Ruling", "裁定责任部门": "Ruled department",
    "终止于": "Ended by", "月份": "Month", "部门名称": "Department name", "派遣数": "Dispatched",
    "延期申请数": "Extensions", "延期率": "Extension rate", "回退申请数": "Returns", "回退率": "Return rate",
    "缓办申请数": "Deferrals", "缓办占比": "Deferral share", "挂账申请数": "Shelvings",
    "挂账占比": "Shelving share", "作废数": "Voids", "作废占比": "Void share", "职责争议数": "Disputes",
    "职责争议占比": "Dispute share",
    "维持原责任部门": "Upheld", "改派责任部门": "Reassigned", "指定部门代整改": "Remedial work assigned",
    "台账 {start} 至 {end}：{count} 条": "Ledger {start} to {end}: {count} entries",
    "申请 {minutes} 分钟": "asked {minutes} min", "批准 {minutes} 分钟": "granted {minutes} min",
    "暂停 {minutes} 分钟": "paused {minutes} min", "暂停中": "still paused",
    "（因{action}终止）": "(ended by {action})", "月度占比（申请数 / 派遣数）": "Monthly shares (requests / dispatches)",
    "开始日期 {start} 晚于结束日期 {end}": "The start date {start} is after the end date {end}",
    "台账的时间段最长 {days} 天（{start} 至 {end} 太长）":
        "A ledger covers at most {days} days ({start} to {end} is too long)",
    "台账类型「{kind}」无效：应为 extension、return、defer、shelve、void 或 dispute":
        "Ledger type “{kind}” is not valid: use extension, return, defer, shelve, void or dispute",
    "部门「{department}」不存在：请按部门代码选择": "Department “{department}” does not exist: give a department code",
    "导出路径 {path} 是目录或为空：请给出文件路径": "The export path {path} is a folder or empty: give a file path",
    "无法导出：目录 {folder} 不存在": "Cannot export: the folder {folder} does not exist",
    "无法导出：没有写入 {path} 的权限": "Cannot export: no permission to write {path}",
    "无法写入 {path}：{error}": "Cannot write {path}: {error}",
    "日期「{text}」无效：应为 YYYY-MM-DD，例如 2026-12-01": "The date “{text}” is not valid: use YYYY-MM-DD, e.g. 2026-12-01",
    "xlsx 是二进制文件：请用 --out 给出文件路径": "xlsx is a binary file: give a file path with --out",
    "台账已导出到 {path}（{count} 条）": "Ledger exported to {path} ({count} entries)",
    "时间段": "Period", "至": "to", "全部类型": "All types", "查询": "Search", "导出 Excel…": "Export Excel…",
    "导出 CSV…": "Export CSV…", "正在查询台账…": "Reading the ledger…", "共 {n} 条": "{n} entries",
    "台账查询失败：{error}": "The ledger could not be read: {error}", "导出台账": "Export the ledger",
    "导出台账（{fmt}）": "Export the ledger ({fmt})", "Excel 工作簿 (*.xlsx)": "Excel workbook (*.xlsx)",
    "CSV 文件 (*.csv)": "CSV file (*.csv)", "正在导出…": "Exporting…",
    "双击一行：在案卷详情中查看该案卷": "Double-click a row: show the case in the case details",
    "{month} {department}：延期 {ext}/{n}，回退 {ret}/{n}，缓办 {defer}/{n}，挂账 {shelve}/{n}":
        "{month} {department}: extensions {ext}/{n}, returns {ret}/{n}, deferrals {defer}/{n}, shelvings {shelve}/{n}",
})

# -- 督办 levels and deadlines, 职责争议, 协调裁定, 回访 (issue 11, items 5–7: app/services/loop.py) --
MESSAGES_EN.update({
    "一般督办": "Routine urge", "重点督办": "Priority urge", "挂牌督办": "Listed urge",
    "1 一般督办": "1 Routine urge", "2 重点督办": "2 Priority urge", "3 挂牌督办": "3 Listed urge",
    "督办级别": "Urge level", "督办时限": "Urge deadline",
    "1 一般督办 / 2 重点督办 / 3 挂牌督办": "1 routine / 2 priority / 3 listed urge",
    "upheld 维持原责任部门 / reassigned 改由其他部门负责 / remedial 指定部门代整改":
        "upheld: same department / reassigned: another department / remedial: a designated department does the work",
    "satisfied 满意 / basically_satisfied 基本满意 / unsatisfied 不满意 / unreachable 未联系上":
        "satisfied / basically_satisfied / unsatisfied / unreachable (not reached)",
    "限期办结的时间，如 2026-12-08 17:30（早于现有处置时限时取代它）":
        "When it must be done, e.g. 2026-12-08 17:30 (replaces a later handling deadline)",
    "维持原责任部门": "Upheld: same department", "改由其他部门负责": "Reassigned to another department",
    "指定部门代整改": "Remedial work by a designated department",
    "满意": "Satisfied", "基本满意": "Basically satisfied", "不满意": "Unsatisfied", "未联系上": "Unreachable",
    "为什么不属于本部门职责（提交协调）": "Why this is not your department's duty (goes to the coordinator)",
    "裁定结果": "Ruling", "裁定的依据": "Grounds of the ruling",
    "裁定的依据（记入办理过程）": "Grounds of the ruling (recorded in the timeline)",
    "裁定负责（或代整改）的部门：代码、名称或 id":
        "The department ruled responsible (or doing the remedial work): code, name or id",
    "责任部门": "Responsible department",
    "代整改时：实际责任部门的代码或名称": "For remedial work: code or name of the responsible department",
    "回访结果": "Call-back result", "举报人对处置结果的评价": "The reporter's view of how the problem was handled",
    "督办级别应为 1（一般督办）、2（重点督办）或 3（挂牌督办），而不是 {level!r}":
        "The urge level is 1 (routine), 2 (priority) or 3 (listed), not {level!r}",
    "督办时限应写成「年-月-日 时:分」，如 2026-12-08 17:30，而不是 {deadline!r}":
        "Give the urge deadline as year-month-day hour:minute, e.g. 2026-12-08 17:30, not {deadline!r}",
    "督办时限 {deadline} 不晚于现在（{now}）：请给出将来的时间":
        "The urge deadline {deadline} is not after now ({now}): give a time in the future",
    "裁定结果应为 upheld（维持原责任部门）、reassigned（改由其他部门负责）或 remedial（指定部门代整改），而不是 {ruling!r}":
        "The ruling is upheld (same department), reassigned (another department) or remedial (a designated "
        "department does the remedial work), not {ruling!r}",
    "回访结果应为 satisfied（满意）、basically_satisfied（基本满意）、unsatisfied（不满意）或 unreachable（未联系上），而不是 {result!r}":
        "The call-back result is satisfied, basically_satisfied, unsatisfied or unreachable, not {result!r}",
    "部门「{dept}」已停用，不能裁定由其负责": "Department {dept} is retired and cannot be ruled responsible",
    "「维持原责任部门」的裁定仍由「{current}」负责，而不是「{dept}」；改由其他部门负责请选 reassigned":
        "An upheld ruling keeps {current} responsible, not {dept}; to hand the case to another department "
        "choose reassigned",
    "「改由其他部门负责」的裁定要指定另一个部门，而不是原部门「{dept}」":
        "A reassigning ruling names another department than {dept}, which has the case now",
    "只有「指定部门代整改」的裁定才写明责任部门":
        "Only a remedial ruling names the responsible department",
    "代整改的部门「{dept}」与责任部门相同：代整改由另一个部门承担":
        "{dept} is both the responsible department and the one doing the remedial work: remedial work is "
        "done by another department",
    "案卷 {number} 来源为「{source}」，没有要回访的举报人：只回访{sources}的举报人":
        "Case {number} came from {source}: there is no reporter to call back (only reporters of {sources} are)",
})


# Supervisors' tasks (issue 11, item 4): app/services/supervisors.py, app/cli/tasks.py, app/ui/tasks_dock.py,
# the send commands' fields and the overdue-task alert.
MESSAGES_EN.update({
    "建议（不填则派给第 1 位）：\n{lines}": "Suggested (left empty: the task goes to no. 1):\n{lines}",
    "没有可建议的监督员（本网格未指定责任监督员，也没有在岗监督员上报位置）": "No supervisor to suggest (the grid has no assigned supervisor and no supervisor on duty reported a position)",
    "{rank}. {name}（{username}）：{reasons}": "{rank}. {name} ({username}): {reasons}",
    "监督员 {name} 不存在：请核对用户名": "Supervisor {name} does not exist: check the user name",
    "{name} 的角色是「{role}」，不是监督员：核实/核查任务只能派给监督员": "{name} is a {role}, not a supervisor: verify and check tasks go to supervisors only",
    "监督员 {name} 的账户已停用，不能接收任务": "Supervisor {name}'s account is disabled: it cannot take tasks",
    "监督员 {name} 的账户已锁定（多次密码错误），不能接收任务；请先解锁": "Supervisor {name}'s account is locked (repeated wrong passwords): it cannot take tasks; unlock it first",
    "没有可建议的监督员：任务未指定监督员，任何监督员均可处理": "No supervisor to suggest: the task names no supervisor, any supervisor may take it",
    "本网格的责任监督员": "the grid's assigned supervisor",
    "尚未上报位置": "no position reported yet",
    "距案卷 {distance} 米": "{distance} m from the case",
    "在岗（{time} 上报）": "on duty (reported {time})",
    "不在岗（{time} 上报）": "off duty (reported {time})",
    "只有监督员可以上报位置和在岗状态（当前角色：{role}）": "Only a supervisor reports a position and duty status (your role: {role})",
    "位置需要 X 和 Y 两个坐标": "A position needs both X and Y",
    "位置 {x},{y} 不是本系统坐标系（EPSG:4549，米）中的有效坐标": "Position {x},{y} is not a valid coordinate of the store's CRS (EPSG:4549, metres)",
    "第一次上报需要位置（X,Y）": "The first report needs a position (X,Y)",
    "只有管理员可以指定网格的责任监督员（当前角色：{role}）": "Only the administrator assigns a grid's supervisor (your role: {role})",
    "网格 {code} 不存在：请核对 15 位网格编码": "Grid {code} does not exist: check the 15-digit grid code",
    "监督员只能查看自己的任务": "A supervisor sees only its own tasks",
    "「{role}」没有核实/核查任务可查看": "A {role} has no verify or check tasks to see",
    "监督员建议": "Suggested supervisors",
    "监督员用户名；不填则派给首选建议": "Supervisor's user name; left empty: the first suggestion",
    "派给一名监督员现场核实（不填则派给首选建议）": "Send to a supervisor to verify on site (left empty: the first suggestion)",
    "派给一名监督员现场核查（不填则派给首选建议）": "Send to a supervisor to check on site (left empty: the first suggestion)",
    "我的任务": "My tasks",
    "任务": "Task",
    "截止": "Due",
    "正在读取任务…": "Reading tasks…",
    "无法读取任务：{error}": "Cannot read the tasks: {error}",
    "派发人：{who}，{at}": "Sent by {who}, {at}",
    "{minutes} 分钟": "{minutes} min",
    "我的任务 {n} 件，超时 {late} 件": "My tasks: {n}, overdue: {late}",
    "没有待办的核实/核查任务": "No verify or check tasks to do",
    "核实/核查任务超时": "Verify/check task overdue",
    "核实/核查任务超时（红灯）": "Verify/check task overdue (red)",
    "核实任务超时（红灯）": "Verify task overdue (red)",
    "核查任务超时（红灯）": "Check task overdue (red)",
    "{n} 件核实/核查任务超时": "{n} verify/check tasks overdue",
    "（没有任务）": "(no tasks)",
    "共 {count} 件任务": "{count} task(s)",
    "{number}  {stage}  {light}  剩余 {left}  截止 {due}  监督员 {who}  {category}  网格 {grid}": "{number}  {stage}  {light}  left {left}  due {due}  supervisor {who}  {category}  grid {grid}",
    "（未指定）": "(not named)",
    "在岗": "on duty",
    "不在岗": "off duty",
    "{username}：{duty}，位置 {where}（{time}）": "{username}: {duty}, position {where} ({time})",
    "案卷 {number}：没有可建议的监督员": "Case {number}: no supervisor to suggest",
    "案卷 {number} 的监督员建议：": "Supervisors suggested for case {number}:",
    "网格 {grid} 的责任监督员：{who}": "Supervisor assigned to grid {grid}: {who}",
    "（无）": "(none)",
    "首选建议：{name}（{username}）": "First suggestion: {name} ({username})",
    "不指定监督员（没有可建议的监督员）": "No supervisor named (none to suggest)",
    "{name}（{username}）": "{name} ({username})",
})
# -- the working calendar's years and the configuration history (issue 12: app.domain.statutory,
#    app.domain.calendar_file, app.domain.config_audit, app.services.calendar, app.cli.admin) -----
MESSAGES_EN.update({
    "正式": "official", "推算": "estimated", "调休": "make-up day off", "法定节假日": "public holiday",
    "年份 {year} 超出支持的范围（1–9999）": "Year {year} is outside the supported range (1–9999)",
    "状态“{status}”无效：应为 official（正式）或 estimated（推算）":
        "Status “{status}” is not valid: use official or estimated",
    "日期不在 {year} 年内：{days}": "Dates outside {year}: {days}",
    "同一天不能既是节假日又是调休工作日：{days}": "A day cannot be both a holiday and a make-up working day: {days}",
    "调休工作日应为周六或周日（周一至周五本来就是工作日）：{days}":
        "Make-up working days must be Saturdays or Sundays (Monday–Friday are working days anyway): {days}",
    "节假日名称过长（最多 {limit} 个字符）：{days}": "Holiday name too long (at most {limit} characters): {days}",
    "来源说明过长（{count:,} 个字符，最多 1000 个）": "Source too long ({count:,} characters, at most 1000)",
    "{year} 年没有任何工作日；请检查节假日和调休工作日":
        "{year} has no working day at all; check the holidays and make-up working days",
    "{year} 年的日历有误，未做任何修改：{problems}": "The calendar of {year} is wrong; nothing was changed: {problems}",
    "{where}：日期“{text}”无效，应为 YYYY-MM-DD（例如 2027-02-06）":
        "{where}: date “{text}” is not valid; use YYYY-MM-DD (e.g. 2027-02-06)",
    "{where}：名称过长（最多 {limit} 个字符）": "{where}: name too long (at most {limit} characters)",
    "{where}：日期范围 {first}..{last} 无效（结束不能早于开始，且不超过一年）":
        "{where}: date range {first}..{last} is not valid (the end may not precede the start; at most one year)",
    "日历文件不是有效的 TOML：{detail}": "The calendar file is not valid TOML: {detail}",
    "日历文件有未知的项：{keys}（可用：year、status、source、holidays、workdays）":
        "The calendar file has unknown keys: {keys} (known: year, status, source, holidays, workdays)",
    "日历文件须写明年份，例如 year = 2027": "The calendar file must give its year, e.g. year = 2027",
    "source 应为文本（国务院办公厅通知的名称和文号）": "source must be text (the State Council notice's title and number)",
    "holidays 应为一张表：\"日期\" = \"名称\"": "holidays must be a table: \"date\" = \"name\"",
    "workdays 应为日期列表，例如 workdays = [\"2027-02-20\"]":
        "workdays must be a list of dates, e.g. workdays = [\"2027-02-20\"]",
    "日历 CSV 文件的表头应为 date,kind,name": "A calendar CSV file's header must be date,kind,name",
    "第 {lineno} 行": "line {lineno}",
    "{where}：类型“{kind}”无效：应为 holiday（节假日）或 workday（调休工作日）":
        "{where}: kind “{kind}” is not valid: use holiday or workday",
    "日历文件只能包含一年的日期，实际包含：{years}": "A calendar file holds one year's dates; this one has: {years}",
    "不支持的日历文件类型：{name}（应为 .toml 或 .csv）": "Unsupported calendar file type: {name} (use .toml or .csv)",
    "配置变更记录第 {expected} 条缺失（下一条是第 {seq} 条）":
        "Configuration change {expected} is missing (the next one is {seq})",
    "配置变更记录第 {seq} 条的前一哈希不符：前一条被改动或删除":
        "Configuration change {seq} does not link to the one before: that one was changed or deleted",
    "配置变更记录第 {seq} 条的内容与哈希不符：该条被改动":
        "Configuration change {seq} does not match its hash: it was changed",
    "注意：{years}的节假日安排为推算（尚未录入国务院办公厅通知），不含调休工作日，正式安排录入后截止时间可能变化":
        "Note: the holidays of {years} are estimated (the State Council's notice has not been entered), without "
        "make-up working days; deadlines may move once the official arrangement is entered",
    "{years}节假日安排为推算（尚未录入国务院办公厅通知），未来 {days} 天内的截止时间可能变化":
        "the holidays of {years} are estimated (the State Council's notice has not been entered); deadlines in the "
        "next {days} days may move",
    "{years}没有节假日数据（按周一至周五计算）": "{years} has no holiday data (Monday–Friday counted)",
    "工作日历提醒：{parts}；请管理员录入正式安排（gridhall admin calendar set）":
        "Working calendar: {parts}; an administrator should enter the official arrangement "
        "(gridhall admin calendar set)",
    "只有管理员可以修改工作日历（当前角色：{role}）": "Only an administrator may change the working calendar (your role: {role})",
    "原因过长（{count:,} 个字符，最多 1000 个）": "Reason too long ({count:,} characters, at most 1000)",
    "日历文件过大（{size:,} 字节，最多 {limit:,}）": "The calendar file is too large ({size:,} bytes, at most {limit:,})",
    "无法读取日历文件 {name}：{detail}": "Cannot read the calendar file {name}: {detail}",
    "日历文件 {name} 中没有任何日期，无法确定年份": "The calendar file {name} has no dates, so its year is unknown",
    "导入日历文件 {name}": "imported the calendar file {name}",
    "{year} 年已是正式安排（{source}），不能用推算覆盖；如需修改请用 gridhall admin calendar set":
        "{year} already has the official arrangement ({source}); an estimate cannot replace it. To change it use "
        "gridhall admin calendar set",
    "按日历库推算": "estimated from the holiday libraries",
    "数据库尚无日历年度表（calendar_years）：请先运行 gridhall db upgrade":
        "The database has no calendar years table (calendar_years) yet: run gridhall db upgrade first",
    "{year} 年的日历与已存的相同，未做修改": "The calendar of {year} is already exactly this; nothing was changed",
    "已保存 {year} 年的日历（配置变更第 {change} 条）": "Saved the calendar of {year} (configuration change {change})",
    "无数据（按周一至周五计算）": "no data (Monday–Friday counted)",
    "{year} 年：{status}": "{year}: {status}",
    "来源：{source}": "Source: {source}",
    "最后修改：{who}，{at}": "Last changed by {who} at {at}",
    "工作日 {n} 天": "{n} working days",
    "节假日：": "Holidays:", "调休工作日：": "Make-up working days:", "变更记录：": "Changes:",
    "工作日历：{years}为推算": "Calendar: {years} estimated",
})

# Issue 11, items 1–2 (helper GATES): verification before filing, closing evidence.
MESSAGES_EN.update({
    "（{result}）": " ({result})",
    "案卷 {number} 经现场核实问题不属实{result}，不能立案：请「不予立案」并写明理由（将回复举报人），或再次「派发核实」":
        "Case {number} was verified on site as not confirmed{result} and cannot be filed: reject it (not filed) "
        "with a reason (the reporter is told), or send it to verify again",
    "案卷 {number} 来自「{source}」，按规定须先由监督员现场核实才能立案：请先「派发核实」，核实属实后再立案":
        "Case {number} came from \"{source}\": such reports are verified on site by a supervisor before filing. "
        "Send it to verify first, and file it once the report is confirmed",
    "核实结果为不属实：案卷不能立案，请「不予立案」并写明理由，或再次「派发核实」":
        "Verified as not confirmed: the case cannot be filed; reject it (not filed) with a reason, "
        "or send it to verify again",
    "案卷 {number}：{message}；请返工并要求责任部门补充带拍摄时间的处置前后照片":
        "Case {number}: {message}. Send it back for rework and ask the department for before and after photos "
        "with their shooting times",
    "案卷 {number}：{message}；按类别「{category}」的规定，须由值班长确认仍然结案（--override）并在备注中写明理由，或返工补充照片":
        "Case {number}: {message}. Under the rule of category \"{category}\" the shift leader must confirm closing "
        "anyway (--override) with the reason in the note, or send it back for the photos",
    "证据不完整仍然结案，须在备注中写明理由（记录在案）":
        "Closing with incomplete evidence needs the reason in the note (it is recorded)",
    "结案证据不完整，已按值班长确认结案（记录在案）：{message}":
        "Closed with incomplete evidence on the shift leader's confirmation (recorded): {message}",
    "派遣之后拍摄的处置后照片": "a photo after handling taken after the dispatch",
    "环境变量 {name} 应为 1 或 0（true/false、yes/no、on/off），不能是「{value}」":
        "The environment variable {name} should be 1 or 0 (true/false, yes/no, on/off), not \"{value}\"",
    "给出了拍摄时间（--photo-time），但没有附照片": "A shooting time (--photo-time) was given but no photo",
    "拍摄时间「{text}」无效：应为「年-月-日 时:分」，如 2026-03-02 10:15":
        "The shooting time \"{text}\" is not valid: give it as year-month-day hour:minute, e.g. 2026-03-02 10:15",
    "拍摄时间": "Shooting time",
    "照片的拍摄时间，如 2026-03-02 10:15（手持终端给出的时间；优先于照片的 EXIF 拍摄时间）":
        "When the photos were taken, e.g. 2026-03-02 10:15 (as the handheld states it; it takes precedence over "
        "the photos' EXIF time)",
    "证据不完整，仍然结案": "Close despite incomplete evidence",
    "结案证据不完整时由值班长确认仍然结案（须在 --note 中写明理由，记录在案）":
        "The shift leader closes although the closing evidence is incomplete (give the reason with --note; "
        "it is recorded)",
    "写明现场是否属实及情况；不属实的案卷不能立案（不予立案或再次派发核实）":
        "What was found on site and whether the report is confirmed; a case not confirmed cannot be filed "
        "(reject it or send it to verify again)",
})


# Issue 11 (DESK-CLI): the facts of a timeline entry (app/domain/timeline.py), attachments in
# `case show`, `case report --duplicate-of`, the 督办 mark in the queue, the detail and on the map.
MESSAGES_EN.update({
    "{key}：{value}": "{key}: {value}",
    "裁定由 {department} 负责": "Ruled responsible: {department}",
    "派往：{department}": "Dispatched to: {department}",
    "{name}（{code}）": "{name} ({code})",
    "派遣建议第 {rank} 位": "Suggestion no. {rank}",
    "不在派遣建议中": "Not among the suggestions",
    "等级改为：{level}": "Level set to: {level}",
    "时限截止：{at}": "Due: {at}",
    "时限截止：无": "Due: none",
    "批准延期 {minutes} 分钟": "Extension granted: {minutes} min",
    "申请延期 {minutes} 分钟": "Extension asked: {minutes} min",
    "原申请延期 {minutes} 分钟": "Extension originally asked: {minutes} min",
    "所涉申请：{request}": "Request concerned: {request}",
    "退回部门（编号）：{department}": "Department returning it (id): {department}",
    "核实结果：{result}": "Verification result: {result}",
    "问题不属实": "Problem not confirmed",
    "回访结果：{result}": "Call-back result: {result}",
    "回访记录：{note}": "Call-back note: {note}",
    "自动回复（{after}，由 {user} 的操作引起）：{text}": "Automatic reply (after {after}, caused by {user}): {text}",
    "未注明": "not stated",
    "回复内容：{text}": "Reply: {text}",
    "处置情况：{text}": "Handling: {text}",
    "内容：{text}": "Text: {text}",
    "核查结论：{outcome}": "Check result: {outcome}",
    "派给监督员：{supervisor}": "Sent to supervisor: {supervisor}",
    "督办级别：{level} 级（{label}）": "Urge level: {level} ({label})",
    "督办时限：{at}": "Urge deadline: {at}",
    "督办时限：无": "Urge deadline: none",
    "第 {n} 次督办": "Urge no. {n}",
    "裁定结果：{ruling}": "Ruling: {ruling}",
    "实际责任部门：{department}": "Responsible department: {department}",
    "代整改部门：{department}": "Remedial work by: {department}",
    "处置前照片拍摄于：{at}": "Photo before handling taken at: {at}",
    "处置前照片：无拍摄时间": "Photo before handling: no shooting time",
    "处置后照片拍摄于：{at}": "Photo after handling taken at: {at}",
    "处置后照片：无拍摄时间": "Photo after handling: no shooting time",
    "结案证据缺少：{missing}": "Closing evidence missing: {missing}",
    "结案证据齐全": "Closing evidence complete",
    "证据不全，值班长确认结案": "Evidence incomplete: closed on the shift leader's confirmation",
    "未使用值班长确认": "No shift leader's override",
    "与案卷 {number} 重复": "Duplicate of case {number}",
    "定位方式：{method}，网格 {grid}（x={x}, y={y}）": "Located by {method}: grid {grid} (x={x}, y={y})",
    "定位方式：{method}，网格 {grid}": "Located by {method}: grid {grid}",
    "附照片 {n} 张": "{n} photo(s) attached",
    "上报照片": "photo with the report",
    "其他照片": "other photo",
    "「{filename}」（{kind}）{size}，拍摄于 {at}": "\"{filename}\" ({kind}) {size}, taken at {at}",
    "「{filename}」（{kind}）{size}，无拍摄时间": "\"{filename}\" ({kind}) {size}, no shooting time",
    "部门：{department}": "Department: {department}",
    "{actor}（{role}）{action} → {state}": "{actor} ({role}) {action} → {state}",
    "{line}：{reason}": "{line}: {reason}",
    "{label}（{level} 级），督办时限 {at}": "{label} (level {level}), urge deadline {at}",
    "{label}（{level} 级）": "{label} (level {level})",
    "附件：无": "Attachments: none",
    "附件（{n}）：": "Attachments ({n}):",
    "督办：{urge}": "Urged: {urge}",
    "{level} 级 · {n} 次": "L{level} · {n}×",
    "督办 {level} 级": "urged L{level}",
    "与已有案卷重复时：同时关联到该案卷（不予重复立案）":
        "When it duplicates an existing case: link it to that case in the same step (it is not filed twice)",
})

# -- evaluation (考核评价, app/services/evaluation.py, app/cli/evaluate.py) ---------------------------
MESSAGES_EN.update({
    "结案率": "Closing rate", "按期结案率": "On-time closing rate", "问题及时解决率": "Problems solved in time",
    "监督举报率": "Verified public reports rate", "处置率": "Handling rate", "按期处置率": "On-time handling rate",
    "返工率": "Rework rate", "有效上报率": "Valid report rate", "漏报率": "Missed report rate",
    "按时核实率": "On-time verification rate", "按时核查率": "On-time check rate",
    "核实按时派发率": "Verifications sent on time", "核查按时派发率": "Checks sent on time",
    "按时立案率": "On-time filing rate", "准确立案率": "Filing accuracy", "按时派遣率": "On-time dispatch rate",
    "准确派遣率": "Dispatch accuracy", "回访满意率": "Call-back satisfaction",
    "时间段 {start} 至 {end} 尚未开始：无法考核未来的时间段":
        "The period {start} to {end} has not begun: a future period cannot be evaluated",
    "考核的时间段最长 {days} 天（{start} 至 {end} 太长）":
        "An evaluation covers at most {days} days ({start} to {end} is too long)",
    "考核对象「{subject}」无效：应为 region、department 或 position":
        "Subject \"{subject}\" is not valid: use region, department or position",
    "区域层级「{level}」无效：应为 grid、community、street 或 district":
        "Region level \"{level}\" is not valid: use grid, community, street or district",
    "岗位「{level}」无效：应为 supervisor、acceptor、shift_leader 或 dispatcher":
        "Position \"{level}\" is not valid: use supervisor, acceptor, shift_leader or dispatcher",
    "部门考核不分层级：请去掉 --level": "Departments have no levels: leave out --level",
    "该时间段没有可考核的案卷": "The period has no cases to evaluate",
    "时间段尚未结束：数字截至目前，之后还会变化": "The period has not ended: the figures are as of now and will change",
    "考核 {subject} {level}：{start} 至 {end}，涉及案卷 {cases} 件，规则版本 {version}":
        "Evaluation {subject} {level}: {start} to {end}, {cases} cases, rules version {version}",
    "（案卷太少，不参与排名）": "(too few cases: not ranked)",
    "存疑记录": "Doubtful records",
    "考核结果已导出到 {path}（{count} 个对象）": "Evaluation exported to {path} ({count} subjects)",
})


# -- the administrator's configuration (issue 12): app/services/config.py, gridhall admin … ----------
MESSAGES_EN.update({
    "派遣规则": "routing rule", "设置": "setting", "全部": "all",
    "+ {entity} {key}": "+ {entity} {key}",
    "~ {entity} {key}：{diffs}": "~ {entity} {key}: {diffs}",
    "{count} 个启用的类别没有任何派遣规则或默认处置部门：{keys}":
        "{count} enabled categories have no routing rule and no default department: {keys}",
    "{what}「{value}」无效：应为 true 或 false": "{what} \"{value}\" is not valid: use true or false",
    "派遣规则重叠：{scope}（区域 {area}，优先级 {priority}）同时派往 {departments}；请调整优先级或停用其中之一":
        "Overlapping routing rules: {scope} (area {area}, priority {priority}) goes to {departments} at once; "
        "change a priority or retire one of them",
    "网格 {grid}（{community}，{street}）": "grid {grid} ({community}, {street})",
    "「{name}」（{key}）在{place}派往 {dept}（{code}），因为：{reasons}":
        "\"{name}\" ({key}) at {place} goes to {dept} ({code}), because: {reasons}",
    "「{name}」（{key}）在{place}没有任何派遣规则或默认处置部门：派遣员只能手工选择部门":
        "\"{name}\" ({key}) at {place} has no routing rule and no default department: the dispatcher must "
        "choose a department by hand",
    "{text}；其次：{others}": "{text}; next: {others}",
    "配置文件第 {n} 个 [[{section}]]：{error}": "Configuration file, [[{section}]] number {n}: {error}",
    "配置文件第 {n} 个 [[calendar]] 无效：{error}": "Configuration file, [[calendar]] number {n} is not valid: {error}",
    "只有管理员可以修改配置（当前角色：{role}）": "Only an administrator may change the configuration (your role: {role})",
    "请写明修改原因（--reason）：每项配置变更都记录原因":
        "Give the reason for the change (--reason): every configuration change records why",
    "{what} 过长或含控制字符（最多 {limit} 个字符）":
        "{what} is too long or holds control characters (at most {limit} characters)",
    "{what} 不能为空": "{what} may not be empty",
    "{what}「{value}」无效：应为 {allowed} 之一": "{what} \"{value}\" is not valid: use one of {allowed}",
    "{what}「{value}」不是时间：应为 YYYY-MM-DD 或 YYYY-MM-DD HH:MM":
        "{what} \"{value}\" is not a time: use YYYY-MM-DD or YYYY-MM-DD HH:MM",
    "统一社会信用代码「{code}」应为 18 位字母或数字": "Unified social credit code \"{code}\" must be 18 letters or digits",
    "辖区 {code} 不是已有的行政区划代码": "Jurisdiction {code} is not a known administrative area code",
    "区域 {code} 不是已有的行政区划代码": "Area {code} is not a known administrative area code",
    "类别 {key} 不在 GB/T 47678.5 类别表中（categories）；只能启用或修改已有类别":
        "Category {key} is not in the GB/T 47678.5 table (categories); only existing categories can be "
        "enabled or changed",
    "结案证据要求「{value}」无效：应为 refuse、override 或 none":
        "Closing evidence rule \"{value}\" is not valid: use refuse, override or none",
    "默认处置部门 {code} 不存在": "Default department {code} does not exist",
    "派遣规则的范围「{scope}」无效：应为 all、kind:KIND、major:KIND:NN 或 category:KIND:CODE（已有类别）":
        "Routing scope \"{scope}\" is not valid: use all, kind:KIND, major:KIND:NN or category:KIND:CODE "
        "(an existing category)",
    "部门 {code} 不存在": "Department {code} does not exist",
    "部门 {code} 已停用，不能接收新的派遣规则": "Department {code} is retired and cannot receive new routing rules",
    "优先级应为 0–1000 的整数（越小越优先），不能是 {value}":
        "The priority is a whole number 0–1000 (lower wins), not {value}",
    "时限须为正整数分钟，不能是 {value}：时限为零的环节会立即超时":
        "A time limit is a positive whole number of minutes, not {value}: a stage with a zero limit is overdue "
        "at once",
    "时限 {value} 分钟过长（最多 {limit} 分钟）": "A limit of {value} minutes is too long (at most {limit})",
    "未知的设置 {name}：可用 {names}": "Unknown setting {name}: use {names}",
    "设置 {name} 应是一张表（TOML 表）": "Setting {name} must be a table (a TOML table)",
    "部门不能删除（历史案卷引用它），只能停用（retire）":
        "Departments are never deleted (past cases name them): retire it instead",
    "部门 {code} 仍有 {count} 件未办结的案卷，不能删除，只能停用（retire）":
        "Department {code} still has {count} open cases: it cannot be deleted, only retired",
    "部门 {code} 仍有 {count} 件未办结的案卷：部门只能停用，不能删除；这些案卷仍由它办理或改派":
        "Department {code} still has {count} open cases: a department is retired, never deleted; those cases "
        "stay with it or are reassigned",
    "时限 {key} 已安排自 {at} 起的新规定；生效时间不能早于它（{eff}）":
        "Limit {key} already has a new rule from {at}; the effective time may not be earlier ({eff})",
    "生效时间 {at} 早于现在：配置变更只能从现在或将来生效（已发生的计时不变）":
        "Effective time {at} is in the past: a configuration change applies from now or later (timers that "
        "already started keep their rules)",
    "配置文件 {name} 的 format 应为 {version}（gridhall admin export 写出的文件）":
        "Configuration file {name} must say format = {version} (a file written by gridhall admin export)",
    "配置文件的 settings 应是一张表": "The configuration file's settings must be a table",
    "部门 {code} 不能是自己的上级部门": "Department {code} cannot be its own parent",
    "上级部门 {code} 不存在": "Parent department {code} does not exist",
    "时限的类别或大类代码 {code} 须同时给出 kind（component 或 event）":
        "A limit's category or major code {code} needs a kind (component or event)",
    "类别应写成 KIND:CODE，例如 event:01001": "Write the category as KIND:CODE, e.g. event:01001",
    "配置文件过大（{size:,} 字节，最多 {limit:,}）": "The configuration file is too large ({size:,} bytes, at most {limit:,})",
    "无法读取配置文件 {name}：{detail}": "Cannot read the configuration file {name}: {detail}",
    "配置文件 {name} 不是有效的 TOML：{error}": "Configuration file {name} is not valid TOML: {error}",
    "配置文件的 {section} 应是表数组（[[{section}]]）": "The configuration file's {section} must be an array of tables ([[{section}]])",
    "配置文件中部门 {code} 出现了两次": "Department {code} appears twice in the configuration file",
    "配置文件中类别 {key} 出现了两次": "Category {key} appears twice in the configuration file",
    "配置文件中时限 {key} 出现了两次": "Limit {key} appears twice in the configuration file",
    "大类代码「{code}」应为两位数字": "Major code \"{code}\" must be two digits",
    "类别 {key} 不存在": "Category {key} does not exist",
    "考核权重设置无效：{error}": "The evaluation weights are not valid: {error}",
    "提醒规则设置只有 [default] 和 [roles.<角色>] 两种表": "Alert rules have only [default] and [roles.<role>] tables",
    "没有派遣规则 {key}（gridhall admin route list 列出全部）": "No routing rule {key} (gridhall admin route list lists them)",
    "停用该规则后，启用的类别 {keys} 将没有任何派遣规则；请先为它们添加规则或默认处置部门":
        "Without this rule the enabled categories {keys} would have no route; add a rule or a default department "
        "for them first",
    "没有时限 {key}": "No limit {key}",
    "导入配置文件 {name}": "Imported configuration file {name}",
    "已导出配置到 {path}（部门 {d} 个，类别 {c} 个，派遣规则 {r} 条，时限 {l} 条，日历 {y} 年）":
        "Configuration exported to {path} ({d} departments, {c} categories, {r} routing rules, {l} limits, "
        "{y} calendar years)",
    "预览：以上 {n} 项变更未保存（去掉 --dry-run 即保存）":
        "Preview: the {n} changes above were not saved (leave out --dry-run to save them)",
    "已保存 {n} 项变更（配置变更第 {first}–{last} 条）": "Saved {n} changes (configuration changes {first}–{last})",
    "无法写入 {name}：{detail}": "Cannot write {name}: {detail}",
    "配置与已存的相同，未做修改": "The configuration is already so: nothing changed",
    "配置检查：没有发现问题": "Configuration check: no problems found",
    "注意：{warning}": "Note: {warning}",
    "没有配置变更记录": "No configuration changes recorded",
    "部门 {code} 以 {parent} 为上级将使上级关系成环": "Department {code} under {parent} would make the parents a cycle",
    "配置文件中部门的上级关系成环：{codes}": "The departments' parents in the configuration file form a cycle: {codes}",
    "类别「{name}」（{code}）本市未启用，不能上报新案卷：请改选其他类别（管理员可用 gridhall admin category set 启用）":
        "Category \"{name}\" ({code}) is not used in this city and takes no new reports: choose another category "
        "(an administrator enables it with gridhall admin category set)",
})

# -- the monthly bulletin (issue 13, item 3): its own table; entries above win ---------------------
from app.i18n.messages_bulletin_en import BULLETIN_EN  # noqa: E402

MESSAGES_EN.update({k: v for k, v in BULLETIN_EN.items() if k not in MESSAGES_EN})

# -- geocoding (issue 16, items 1–2): its own table; entries above win -----------------------------
from app.i18n.messages_geocode_en import GEOCODE_EN  # noqa: E402

MESSAGES_EN.update({k: v for k, v in GEOCODE_EN.items() if k not in MESSAGES_EN})

# -- timeline: the limit a timer started with, the report event's facts (app/domain/timeline.py) ----
MESSAGES_EN.update({
    "时限 {minutes} 分钟": "Limit {minutes} min", "时限 {minutes} 分钟（{basis}）": "Limit {minutes} min ({basis})",
    "类型：{value}": "Kind: {value}", "类别：{value}": "Category: {value}", "来源：{value}": "Source: {value}",
    "街道：{value}": "Street: {value}", "社区：{value}": "Community: {value}", "网格：{value}": "Grid: {value}",
    "部件：{value}": "Component: {value}",
})
