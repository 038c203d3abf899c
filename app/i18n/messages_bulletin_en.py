"""English for the monthly bulletin (app/reports, app/services/bulletin.py, app/cli/report.py)."""

from __future__ import annotations

BULLETIN_EN: dict[str, str] = {
    "xlsx 格式需要 --out 文件": "The xlsx format needs --out FILE",
    "输出文件 {path} 应以 .pdf 结尾": "The output file {path} must end in .pdf",
    "还没有生成过简报": "No bulletin has been built yet",
    "今天（{today}）不是本月第一个工作日（{first}）：不生成简报":
        "Today ({today}) is not the first working day of the month ({first}): no bulletin built",
    "简报已生成：{path}（{pages} 页，{cases} 件案卷；月末审计链第 {chain_no} 环 {head_hash}）":
        "Bulletin written: {path} ({pages} pages, {cases} cases; audit chain at the end of the month: link "
        "{chain_no} {head_hash})",
    "注意：{month} 没有案卷，简报基本为空": "Note: {month} has no cases; the bulletin is mostly empty",
    "{month} 案卷与热点网格": "{month} cases and hotspot grids",
    "本月上报的案卷（{n} 件）": "Cases reported this month ({n})",
    "热点网格（前 {n} 个）": "Hotspot grids (top {n})",
    "正在校验审计链并计算指标…": "Verifying the audit chain and computing the indicators…",
    "正在用 QGIS 渲染地图页…": "Rendering the map page with QGIS…",
    "正在排版 PDF…": "Laying out the PDF…",
    "完成": "Done",
    "图例": "Legend",
    "地图页渲染失败（QGIS 打印布局，错误 {error}）": "The map page could not be rendered (QGIS print layout, error {error})",
    "{who} 数字城管简报": "{who} digital city management bulletin",
    "{who} 月度考核报告": "{who} monthly evaluation report",
    "{month}（{start} 至 {end}）": "{month} ({start} to {end})",
    "本月没有案卷：以下各项均为空。": "This month has no cases: everything below is empty.",
    "本月尚未结束：数字截至今日，月末前还会变化。":
        "This month has not ended: the figures are as of today and will change before the month ends.",
    "一、主要指标": "1. Headline figures",
    "有事件的案卷数": "Cases with an event",
    "派给本部门的案卷数": "Cases sent to the department",
    "立案数": "Filed",
    "派遣数": "Dispatched",
    "结案数": "Closed",
    "平均处置时长（小时）": "Average handling time (hours)",
    "综合得分": "Composite score",
    "等级（A–E）": "Grade (A–E)",
    "上月": "Last month",
    "指标": "Indicator",
    "本月": "This month",
    "环比": "Change",
    "比率的环比以百分点计；得分与等级按 {version} 版考核规则（SHA-256 {sha}…）。":
        "Changes of rates are in percentage points; scores and grades by the evaluation rules {version} "
        "(SHA-256 {sha}…).",
    "二、图表": "2. Charts",
    "每日上报与结案": "Daily reports and closures",
    "上报": "Reported",
    "结案": "Closed",
    "问题类别帕累托图（前 {n} 类，折线为累计占比）": "Category Pareto (top {n}; the line is the cumulative share)",
    "部门综合得分排名（前 15 名，按等级着色）": "Department scores (top 15, coloured by grade)",
    "上报渠道": "Intake channels",
    "样本不足": "too few cases",
    "名次": "Rank",
    "代码": "Code",
    "名称": "Name",
    "案卷数": "Cases",
    "结案率/处置率": "Close/handle rate",
    "得分": "Score",
    "按期率": "On-time rate",
    "三、部门排名": "3. Department ranking",
    "案卷太少的部门标为「样本不足」，不参与排名，其得分加括号、不评等级。":
        "Departments with too few cases are marked 'too few cases': not ranked, their score in brackets, no grade.",
    "评级": "Grade",
    "本月没有可排名的部门。": "No department to rank this month.",
    "四、街道排名": "4. Street ranking",
    "本月没有可排名的街道。": "No street to rank this month.",
    "三、各项比率": "3. Rates",
    "分子": "Numerator",
    "分母": "Denominator",
    "比率": "Rate",
    "五、高发问题与热点网格": "5. Top categories and hotspot grids",
    "序号": "No.",
    "类别代码": "Category code",
    "类别": "Category",
    "上报数": "Reports",
    "占比": "Share",
    "本月没有上报。": "No reports this month.",
    "热点网格": "Hotspot grid",
    "六、延期、回退、缓办、挂账占比": "6. Shares of extensions, returns, deferrals and shelvings",
    "部门": "Department",
    "部门名称": "Department name",
    "延期": "Extension",
    "回退": "Return",
    "缓办": "Deferral",
    "挂账": "Shelving",
    "每格：申请数 / 占本部门当月派遣数的比例（来自台账）。":
        "Each cell: requests / their share of the department's dispatches in the month (from the ledger).",
    "本月没有派遣，也没有延期、回退、缓办、挂账申请。": "No dispatches and no extension, return, deferral or shelving requests this month.",
    "七、未按期完成的案卷（{n} 件）": "7. Cases not finished on time ({n})",
    "处置数": "Handled",
    "按期处置数": "Handled on time",
    "本月没有案卷，没有可画的图表。": "No cases this month, so no charts.",
    "七、本月案卷与热点网格分布图": "7. Map of this month's cases and hotspot grids",
    "八、审计链": "8. Audit chain",
    "月末之前审计链中还没有任何事件。": "The audit chain had no event before the end of the month.",
    "月末审计链：第 {chain_no} 环，链头哈希：": "Audit chain at the end of the month: link {chain_no}, head hash:",
    "生成时整条审计链已校验通过（当时链头第 {chain_no} 环）。凭上述哈希可随时证明本简报所依据的历史没有被改写（gridhall db check-seal）。":
        "The whole audit chain verified when this bulletin was built (head then: link {chain_no}). With the hash "
        "above anyone can later prove that the history this bulletin was computed from was not rewritten "
        "(gridhall db check-seal).",
    "附录 A：每日上报与结案": "Appendix A: daily reports and closures",
    "日期": "Date",
    "附录 B：上报渠道": "Appendix B: intake channels",
    "渠道": "Channel",
    "附录 C：全部问题类别": "Appendix C: all categories",
    "{title} · 第 {page} 页": "{title} · page {page}",
    "找不到中文字体（{path}）：请安装 Debian 软件包 fonts-wqy-microhei":
        "No Chinese font found ({path}): install the Debian package fonts-wqy-microhei",
    "审计链校验未通过，拒绝生成简报（历史记录可能被改动，请先运行 gridhall db verify-audit 查明原因）：{problem}":
        "The audit chain does not verify, so no bulletin is built (the history may have been edited; run "
        "gridhall db verify-audit to find out why): {problem}",
    "导出格式「{format}」无效：应为 xlsx 或 csv": "Invalid export format '{format}': use xlsx or csv",
    "无法导出：写入 {path} 失败（{error}）": "Cannot export: writing {path} failed ({error})",
    "月份「{text}」无效：应为 YYYY-MM（例如 2026-11）或 last": "Invalid month '{text}': use YYYY-MM (e.g. 2026-11) or last",
    "{month} 尚未开始：无法为未来的月份生成简报": "{month} has not started: no bulletin for a future month",
    "图表": "Chart", "系列": "Series", "项目": "Item", "数值": "Value",
    "专业部门账户只能看到本部门的案卷事件，无法校验整条审计链，因此不能生成报告（报告必须先证明所依据的历史"
    "未被改动，审计链并未损坏）；请用值班长、领导、分析员或管理员账户生成，例如 gridhall report department "
    "{code} --month {month} --as <分析员账户>":
        "A department's login sees its own department's case events only, so it cannot verify the whole audit chain "
        "and cannot build the report (a report first proves the history it rests on was not rewritten; the chain is "
        "not broken). Build it with a shift leader's, leader's, analyst's or administrator's login, e.g. gridhall "
        "report department {code} --month {month} --as <analyst login>",
}
