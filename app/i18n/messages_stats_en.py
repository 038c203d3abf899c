"""English for the statistics dock (统计分析: app/ui/stats, app/services/statistics.py; issue 13, item 2).

Kept in its own table; the catalogue merges it in (entries of the UI's own table and ``messages_en``
take precedence).
"""

from __future__ import annotations

STATS_EN: dict[str, str] = {
    "统计分析": "Statistics",
    "统计": "Compute",
    "日": "Day", "周": "Week", "月": "Month", "季度": "Quarter", "自定义": "Custom",
    "上一个时间段": "Previous period", "下一个时间段": "Next period",
    "地图不着色": "Map not coloured", "网格按案件密度着色": "Grids by case density",
    "网格按综合评分着色": "Grids by score",
    "单击图中的柱或点：列出背后的案卷": "Click a bar or point in a chart: the cases behind it are listed here",
    "单击柱或点：列出背后的案卷": "Click a bar or point: list the cases behind it",
    "只看超时案卷": "Late cases only",
    "在地图上显示": "Show on the map", "在地图上显示 {n} 件": "Show {n} on the map",
    "已在地图上标出 {n} 件": "{n} cases marked on the map",
    "统计 {start} 至 {end}": "Statistics {start} to {end}",
    "正在统计 {start} 至 {end}…": "Computing the statistics of {start} to {end}…",
    "统计失败：{error}": "The statistics could not be computed: {error}",
    "{start} 至 {end}：上报 {reports} 件，结案 {closures} 件": "{start} to {end}: reports {reports}, closures {closures}",
    "；该时间段没有案卷": "; no cases in this period",
    "；时间段尚未结束，数字之后还会变化": "; the period has not ended, the figures will still change",
    "正在读取上报与结案…": "Reading reports and closures…", "正在考核部门…": "Evaluating the departments…",
    "正在考核网格…": "Evaluating the grids…", "正在汇总…": "Summing up…",
    # charts
    "每日上报与结案": "Daily reports and closures", "类别帕累托": "Category Pareto",
    "部门排名（综合得分）": "Departments by score", "上报渠道": "Intake channels",
    "处置用时分布": "Handling time", "热点网格": "Hotspot grids", "月度趋势": "Month on month",
    "上报数": "Reports", "结案数": "Closures", "处置反馈": "Feedbacks", "得分": "Score", "件": "cases", "分": "points",
    "1小时内": "< 1 h", "1–2小时": "1–2 h", "2–4小时": "2–4 h", "4–8小时": "4–8 h", "8–24小时": "8–24 h",
    "1–3天": "1–3 d", "3天以上": "> 3 d",
    "网格 {code}": "grid {code}", "累计 {share}": "cumulative {share}", "占 {share}": "{share} of all",
    "案卷太少，不参与排名；按期处置 {share}": "too few cases to rank; handled on time {share}",
    "无得分；按期处置 {share}": "no score; handled on time {share}",
    "第 {rank} 名，{grade} 级，得分 {score}；按期处置 {share}":
        "rank {rank}, grade {grade}, score {score}; handled on time {share}",
    "生成月报…": "Monthly bulletin…",
    "生成所选时间段所在月份的数字城管简报（PDF），可随时取消":
        "Build the digital city management bulletin (PDF) of the month of the chosen period; it can be cancelled at any time",
    "导出统计表…": "Export tables…",
    "把各图表的数字导出为 Excel（.xlsx）或 CSV": "Export every chart's figures to Excel (.xlsx) or CSV",
    "导出案卷…": "Export cases…",
    "把列出的案卷（恰好是所点图形背后的案卷）导出为 Excel（.xlsx）或 CSV":
        "Export the listed cases (exactly those behind the figure clicked) to Excel (.xlsx) or CSV",
    "保存为": "Save as",
    "PDF 文件 (*.pdf)": "PDF files (*.pdf)",
    "Excel 工作簿 (*.xlsx);;CSV 文件 (*.csv)": "Excel workbooks (*.xlsx);;CSV files (*.csv)",
    "生成 {month} 简报": "Bulletin {month}",
    "正在生成 {month} 简报…": "Building the bulletin of {month}…",
    "简报已生成：{path}（{pages} 页）": "Bulletin written: {path} ({pages} pages)",
    "生成简报失败：{error}": "The bulletin failed: {error}",
    "已取消：{title}（没有留下文件）": "Cancelled: {title} (no file left behind)",
    "已导出 {n} 行到 {path}": "{n} rows exported to {path}",
    "导出失败：{error}": "Export failed: {error}",
    "案卷": "Cases", "图形": "Figure",
    "案卷清单.xlsx": "cases.xlsx", "简报-{month}.pdf": "bulletin-{month}.pdf",
    "统计表-{start}-{end}.xlsx": "statistics-{start}-{end}.xlsx",
}
