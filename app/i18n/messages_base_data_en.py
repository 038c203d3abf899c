"""English for the base-data import and export (issue 15): field mapping, row checks, the validation
report and the command line (``gridhall import|export``)."""

from __future__ import annotations

BASE_DATA_EN: dict[str, str] = {
    # -- field mapping (app/domain/field_names.py) -----------------------------------------------
    "源文件缺少字段 {key}（可识别的列名：{names}）；请用 --map {key}=列名 指定（有：{columns}）":
        "The source has no {key} field (recognised column names: {names}); name it with --map {key}=COLUMN "
        "(columns: {columns})",
    "字段映射「{item}」应写成 字段=列名，例如 code=编号": "Field mapping '{item}' must read FIELD=COLUMN, e.g. code=ID",
    "字段映射「{item}」的字段 {key} 未知：可用 {choices}": "Field mapping '{item}': unknown field {key}; use one of {choices}",
    "字段映射 {key}={column}：源文件没有列「{column}」（有：{columns}）":
        "Field mapping {key}={column}: the source has no column '{column}' (columns: {columns})",
    # -- retired grids (0024) ---------------------------------------------------------------------
    "网格编码 {code} 已于 {day} 注销，不能再用": "Grid code {code} was retired on {day} and is never reused",
    "所在网格 {given} 已于 {day} 注销": "Grid {given} was retired on {day}",
    "--include-retired 只用于导出网格": "--include-retired applies to exporting grids only",
    "网格 {code} 已于 {day} 注销：请指定在用的网格": "Grid {code} was retired on {day}: name a grid in use",
    # -- row checks (app/domain/base_rows.py) ----------------------------------------------------
    "养护单位": "Maintainer", "权属单位": "Owner",
    "{label} {date} 不合理：应在 {first} 与今天 {today} 之间":
        "{label} {date} makes no sense: it must lie between {first} and today, {today}",
    "网格 {code} 的社区代码 {community} 与编码中的 {expected} 不一致":
        "Grid {code}: community code {community} differs from {expected} in the grid code",
    "旧版标识码 {old} 已转换为 {new}（原码保留）": "Legacy identifier {old} converted to {new} (the original kept)",
    "变更日期 {changed} 早于初始日期 {initial}": "Changed date {changed} is before the initial date {initial}",
    "数据来源「{source}」过长（最多 16 个字符）": "Data source '{source}' is too long (at most 16 characters)",
    "{label}「{value}」不是日期：应为 YYYYMMDD": "{label} '{value}' is not a date: use YYYYMMDD",
    "部件 {code} 没有名称": "Component {code} has no name",
    "部件 {code} 的名称过长（{n} 个字符，最多 64）": "Component {code}: the name is too long ({n} characters, at most 64)",
    "编码 {code} 重复（与第 {other} 条相同）": "Code {code} is duplicated (the same as row {other})",
    "部件状态「{status}」无效：应为 完好、破损、丢失、废弃或移除":
        "Component status '{status}' is invalid: use 完好 (intact), 破损 (damaged), 丢失 (lost), 废弃 (abandoned) "
        "or 移除 (removed)",
    # -- reading, checks against the store, the report (app/services/base_import.py) -------------
    "文件 {path} 不存在": "File {path} does not exist",
    "无法读取 {path}：不是可识别的矢量文件": "Cannot read {path}: not a vector file GDAL recognises",
    "{path} 没有坐标系：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）":
        "{path} has no coordinate system: give its EPSG code with --source-crs (e.g. 4549 or 4490)",
    "几何为空": "Empty geometry",
    "无法从扩展名判断格式：请用 --format 指定（{choices}）":
        "Cannot tell the format from the extension: give --format ({choices})",
    "{file}（{driver}，图层 {layer}，坐标系 {crs}）：{rows} 条，合格 {good} 条，有问题 {bad} 条":
        "{file} ({driver}, layer {layer}, CRS {crs}): {rows} rows, {good} good, {bad} with problems",
    "字段对应：{mapping}": "Field mapping: {mapping}",
    "Shapefile {path} 缺少属性表 .dbf 文件": "Shapefile {path} has no attribute table (.dbf file)",
    "无法读取 {path}：{error}": "Cannot read {path}: {error}",
    "{path} 没有图层 {layer}（有：{names}）": "{path} has no layer {layer} (layers: {names})",
    "{path} 第 {row} 条之后无法读取（文件可能已截断或损坏）：{error}":
        "{path} cannot be read after row {row} (the file may be truncated or damaged): {error}",
    "网格面积为零": "The grid's area is zero",
    "位于辖区之外（坐标系是否正确？）": "Outside the district (is the coordinate system right?)",
    "网格 {code} 已在库中": "Grid {code} is already in the store",
    "社区 {community} 不在库中": "Community {community} is not in the store",
    "网格之间有 {area:.1f} 平方米的空隙（约在 {x:.0f}, {y:.0f}）":
        "A gap of {area:.1f} m² between grids (near {x:.0f}, {y:.0f})",
    "部件 {code} 已在库中": "Component {code} is already in the store",
    "类别 {code} 不在部件分类中": "Category {code} is not in the component taxonomy",
    "所在网格编码 {given} 与其位置所在的网格 {actual} 不符":
        "Grid code {given} does not match grid {actual} the component lies in",
    "所在网格 {given} 不在库中": "Grid {given} is not in the store",
    "第 {row} 条 {code}：{reasons}": "Row {row} {code}: {reasons}",
    "……另有 {n} 条有问题（见 --report 的 JSON）": "… {n} more rows with problems (see the --report JSON)",
    "第 {row} 条 {code}：{notes}": "Row {row} {code}: {notes}",
    "编码 {encoding} 未知：例如 UTF-8 或 GBK": "Unknown encoding {encoding}: e.g. UTF-8 or GBK",
    "文字无法按 {encoding} 解码：请用 --encoding 指定编码（如 GBK）":
        "Text cannot be decoded as {encoding}: give the encoding with --encoding (e.g. GBK)",
    "坐标系 EPSG:{code} 未知": "Unknown coordinate system EPSG:{code}",
    "坐标无法转换到 EPSG:{srid}": "The coordinates cannot be transformed to EPSG:{srid}",
    "部件几何应为点，实际为 {type}": "A component's geometry must be a point, not {type}",
    "网格几何应为面，实际为 {type}": "A grid's geometry must be a polygon, not {type}",
    "几何无效（自相交）已修复为一个面，面积不变": "Invalid geometry (self-intersection) repaired into one polygon, area unchanged",
    "几何无效（自相交，如蝴蝶结形）：修复后为 {n} 个面，无法安全修复":
        "Invalid geometry (self-intersection, e.g. a bow-tie): repairing gives {n} polygons, not safely repairable",
    "网格跨越社区边界（{area:.1f} 平方米在社区 {community} 之外）":
        "The grid crosses its community's boundary ({area:.1f} m² outside community {community})",
    "与 {other} 重叠 {area:.1f} 平方米": "Overlaps {other} by {area:.1f} m²",
    "{label}代码 {code} 不在部门表中": "{label} code {code} is not in the departments table",
    # -- command line (app/cli/base_data.py) -----------------------------------------------------
    "只有管理员可以导入基础数据（{user} 是{role}）": "Only the administrator may import base data ({user} is {role})",
    "已导出 {n} 条到 {path}": "Exported {n} rows to {path}",
    "试运行：未写入任何数据": "Dry run: nothing written",
    "发现问题，未写入任何数据（可用 --on-error skip 只写入合格的 {n} 条）":
        "Problems found, nothing written (--on-error skip writes only the {n} good rows)",
    "已写入 {n} 条": "{n} rows written",
    "未写入的 {n} 条及原因见 {path}": "The {n} rows not written, with the reasons, are in {path}",
    "已取消：未写入任何数据": "Cancelled: nothing written",
    # -- departments, roads, historical cases (app/services/base_cases.py) ---------------------
    '--query 和 --state 只用于导出案卷': '--query and --state apply to the case export only',
    '部门代码为空': 'The department code is empty',
    '部门 {code} 没有名称': 'Department {code} has no name',
    '道路没有名称': 'The road has no name',
    '道路等级「{kind}」无效：应为 {choices}': "Road class '{kind}' is not valid: use one of {choices}",
    '道路宽度 {value} 米不合理：应在 0 与 200 之间': 'A road width of {value} m makes no sense: it must lie between 0 and 200',
    '部门代码「{code}」过长（最多 32 个字符）': "Department code '{code}' is too long (at most 32 characters)",
    '部门 {code} 的名称过长（{n} 个字符，最多 64）': 'Department {code}: the name is too long ({n} characters, at most 64)',
    '部门类型「{kind}」无效：应为 {choices}': "Department type '{kind}' is not valid: use one of {choices}",
    '是否启用「{value}」无效：应为 是 或 否': "Active '{value}' is not valid: use yes (是) or no (否)",
    '道路名称「{name}」过长（最多 64 个字符）': "Road name '{name}' is too long (at most 64 characters)",
    '道路宽度「{value}」不是数字': "Road width '{value}' is not a number",
    '案卷状态': 'Case state',
    '案卷来源': 'Case source',
    '案卷等级': 'Case level',
    '立案时间': 'Filing time',
    '派遣时间': 'Dispatch time',
    '处置反馈时间': 'Feedback time',
    '结案时间': 'Closing time',
    '上报时间': 'Report time',
    '只导入已结案或不予立案的历史案卷（此条为「{state}」）：未办结的案卷请在受理台登记': "Only closed or not-filed historical cases are imported (this one is '{state}'): register open cases at the desk",
    '类别代码为空': 'The category code is empty',
    '上报时间为空': 'The report time is empty',
    '{what} {at} 晚于今天': '{what} {at} is later than today',
    '问题描述为空': 'The description is empty',
    '已结案的案卷缺少处置部门代码': 'A closed case needs the handling department code',
    '导入历史案卷要记入案卷历史：请用 --as 指定管理员': 'Historical cases go into the case history: name the administrator with --as',
    '类别 {code} 不在分类中': 'Category {code} is not in the taxonomy',
    '{later}{t2} 早于{earlier}{t1}': '{later} {t2} is earlier than {earlier} {t1}',
    '已结案的案卷缺少{what}': 'The closed case lacks: {what}',
    '不予立案的案卷不应有立案、派遣或结案时间': 'A case that was not filed cannot have a filing, dispatch or closing time',
    '案卷 {number} 已在库中': 'Case {number} is already in the store',
    '类别 {code} 不在库中': 'Category {code} is not in the store',
    '部件 {code} 不在库中': 'Component {code} is not in the store',
    '处置部门代码 {code} 不在部门表中': 'Handling department code {code} is not in the departments table',
    '案卷状态「{state}」无效：应为 {choices}': "Case state '{state}' is not valid: use one of {choices}",
    '案卷类型「{value}」无效：应为 部件 或 事件': "Case type '{value}' is not valid: use component (部件) or event (事件)",
    '{what}「{value}」不是时间：应为 YYYY-MM-DD HH:MM:SS': "{what} '{value}' is not a time: use YYYY-MM-DD HH:MM:SS",
    '案卷编号 {number} 重复（与第 {other} 条相同）': 'Case number {number} appears twice (same as row {other})',
    '部门 {code} 已在库中：{what}': 'Department {code} is already stored: {what}',
    '导入部门要记入配置历史：请用 --as 指定管理员': 'Departments go into the configuration history: name the administrator with --as',
    '道路 {name} 已在库中（同一条线）': 'Road {name} is already stored (the same line)',
    '导入部门文件 {name}': 'Departments imported from {name}',
    '道路长度为零': 'The road has zero length',
    '道路 {name} 重复（与第 {other} 条相同）': 'Road {name} appears twice (same as row {other})',
    '道路几何应为线，实际为 {type}': "A road's geometry must be a line, not {type}",
    '部门辖区几何应为有效的面，实际为 {type}': "A department's jurisdiction must be a valid polygon, not {type}",
    '将更新 {fields}': 'will update {fields}',
    '无变化': 'unchanged',
    '案卷位置应为点，实际为 {type}': "A case's location must be a point, not {type}",
    '{table} 中有 {n} 个几何类型或坐标系不符': '{table} has {n} geometries of the wrong type or coordinate system',
    # -- the import and export dialogs (app/ui/base_data) ---------------------------------------
    'GIS 文件 (*.gpkg *.shp *.geojson *.json *.fgb *.csv *.xlsx)': 'GIS files (*.gpkg *.shp *.geojson *.json *.fgb *.csv *.xlsx)',
    'Shapefile 编码': 'Shapefile encoding',
    '从 GIS 文件导入网格、部件、部门、道路或历史案卷：先预览和校验，再写入': 'Import grids, components, departments, roads or historical cases from a GIS file: preview and validate first, then write',
    '全部案卷': 'All cases',
    '写入 {file}': 'Write {file}',
    '写入': 'Write',
    '前 {n} 行': 'First {n} rows',
    '历史案卷': 'Historical cases',
    '只写入合格的行，问题行写入拒收文件': 'Write the good rows only; the bad ones go to a reject file',
    '字段对应': 'Field mapping',
    '导入基础数据': 'Import base data',
    '导入基础数据…': 'Import base data…',
    '导出 {file}': 'Export {file}',
    '导出': 'Export',
    '导出到': 'Export to',
    '导出基础数据': 'Export data',
    '导出数据…': 'Export data…',
    '已写入 {done}/{total} 条': '{done}/{total} rows written',
    '已读取前 {n} 行；请核对字段对应后校验': 'Read the first {n} rows; check the field mapping, then validate',
    '把网格、部件、部门、道路或案卷（含全部时间字段）导出为 GeoPackage、Shapefile、GeoJSON、CSV 或 Excel': 'Export grids, components, departments, roads or cases (with every timing field) to GeoPackage, Shapefile, GeoJSON, CSV or Excel',
    '数据类型': 'Data',
    '文件自带（没有时必填，如 4549 或 4490）': "the file's own (required when it has none, e.g. 4549 or 4490)",
    '有问题时': 'When something is wrong',
    '有问题时不写入任何数据': 'Write nothing if anything is wrong',
    '校验 {file}': 'Validate {file}',
    '校验': 'Validate',
    '校验完成：合格 {good} 条，有问题 {bad} 条': 'Validated: {good} good, {bad} with problems',
    '校验报告': 'Validation report',
    '格式': 'Format',
    '案卷库当前查询的案卷': "The cases of the archive's current query",
    '案卷范围': 'Cases',
    '正在写入…': 'Writing…',
    '正在读取和校验…': 'Reading and validating…',
    '浏览…': 'Browse…',
    '源坐标系 EPSG': 'Source CRS (EPSG)',
    '源坐标系应为 EPSG 代码（数字），例如 4549': 'The source CRS must be an EPSG code (a number), e.g. 4549',
    '第一个图层': 'the first layer',
    '请选择要导出到的文件': 'Choose the file to export to',
    '读自列': 'Read from column',
    '选择要导入的文件': 'Choose the file to import',
    '队列当前显示的案卷': 'The cases the queue shows now',
    '预览': 'Preview',
    # -- hostile input (HOSTILE-BASE): reject files, export targets, .cpg, text policy ------------
    "拒收文件路径 {path} 是目录：请给出文件路径": "The reject file path {path} is a directory: give a file path",
    "拒收文件 {path} 已存在：不会覆盖已有文件，请换一个文件名或先移走它":
        "The reject file {path} already exists: an existing file is never overwritten; choose another name "
        "or move it away first",
    "无法写入拒收文件：目录 {folder} 不存在": "Cannot write the reject file: folder {folder} does not exist",
    "无法写入拒收文件：没有写入目录 {folder} 的权限":
        "Cannot write the reject file: no permission to write in folder {folder}",
    "无法写入拒收文件 {path}：{error}": "Cannot write the reject file {path}: {error}",
    "不能导出到数据库文件 {path}：请换一个文件名": "Cannot export onto the database file {path}: choose another name",
    "旧版标识码「{code}」过长（最多 16 个字符）": "Legacy identifier '{code}' is too long (at most 16 characters)",
    "道路名称": "Road name",
    "格式无法识别": "the format is not recognised", "文件已损坏": "the file is damaged",
    "GDAL 未给出原因": "GDAL gave no reason",
    "报告文件 {path} 是源文件、数据库或拒收文件：请换一个文件名":
        "The report file {path} is the source, the database or the reject file: choose another name",
    "已中断：导入在中断前已完成，已写入 {n} 条": "Interrupted: the import had finished before that; {n} rows written",
    "{what} {at} 不合理：应在 {first} 之后": "{what} {at} makes no sense: it must be after {first}",
    "{path} 的坐标系无法识别（{error}）：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）":
        "The coordinate system of {path} cannot be read ({error}): give its EPSG code with --source-crs (e.g. 4549 "
        "or 4490)",
    "{path} 的坐标系 {crs} 无法转换到 EPSG:{srid}：请用 --source-crs 给出 EPSG 代码（如 4549 或 4490）":
        "The coordinate system {crs} of {path} cannot be transformed to EPSG:{srid}: give its EPSG code with "
        "--source-crs (e.g. 4549 or 4490)",
    "{path} 的 .cpg 文件给出的编码「{encoding}」未知：请用 --encoding 指定编码（如 UTF-8 或 GBK）":
        "{path} names an unknown encoding '{encoding}': give the encoding with --encoding (e.g. UTF-8 or GBK)",
    "{fmt} 文件保存不了没有几何的要素：只写入了 {written} 条，共 {total} 条（{missing} 条没有几何）；"
    "请导出为 GeoPackage、GeoJSON、CSV 或 Excel（.xlsx）":
        "A {fmt} file cannot hold features without a geometry: {written} of {total} were written ({missing} have no "
        "geometry); export to GeoPackage, GeoJSON, CSV or Excel (.xlsx)",
}
