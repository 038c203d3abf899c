"""The bulletin as a PDF (reportlab): a CJK TrueType font embedded (WenQuanYi Micro Hei), headline
figures with their month-on-month change, charts (reportlab graphics), rankings with grades, the
ledger's shares, the QGIS map page, the audit chain's head and appendix tables.

``rl_config.invariant`` is set so the same bulletin gives the same bytes (no creation time or
random document id in the file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.domain.indicators import SubjectResult
from app.domain.ledger import LedgerKind
from app.domain.messages import Msg, MsgError
from app.services.bulletin import SHARE_KINDS, Bulletin, channel_label

Translate = Callable[[Any], str]
FONT = "GridHallCJK"
FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
SHARE_LABELS = {LedgerKind.EXTENSION: Msg("延期"), LedgerKind.RETURN: Msg("回退"), LedgerKind.DEFER: Msg("缓办"),
                LedgerKind.SHELVE: Msg("挂账")}
def _dark(colour: str | None) -> bool:
    """Whether white text reads better than black on ``colour`` (#rrggbb)."""
    if not colour or len(colour) != 7:
        return False
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b < 0.5


GRADE_COLOURS = {"A": "#1a9850", "B": "#91cf60", "C": "#fee08b", "D": "#fc8d59", "E": "#d73027"}
_registered = False


def register_font() -> str:
    """Register the CJK font once; MsgError when none is installed."""
    global _registered
    if _registered:
        return FONT
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for path in FONT_FILES:
        if Path(path).is_file():
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
            _registered = True
            return FONT
    raise MsgError(Msg("找不到中文字体（{path}）：请安装 Debian 软件包 fonts-wqy-microhei", path=FONT_FILES[0]))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _rate(r: SubjectResult | None, key: str) -> float | None:
    if r is None or key not in r.rates:
        return None
    return r.rates[key].value


def _change(now: float | None, before: float | None, *, percent: bool) -> str:
    if now is None or before is None:
        return "—"
    if percent:
        return f"{(now - before) * 100:+.1f}"
    if before == 0:
        return f"{now - before:+.0f}"
    return f"{now - before:+.0f} ({(now - before) / before * 100:+.1f}%)"


def build_pdf(b: Bulletin, path: str | Path, tr: Translate, *, map_png: str | Path | None = None) -> int:
    """Write the bulletin to ``path``; returns the number of pages."""
    from reportlab import rl_config

    rl_config.invariant = 1
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    font = register_font()
    base = ParagraphStyle("base", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK")
    title_style = ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER, spaceAfter=4)
    sub = ParagraphStyle("sub", parent=base, fontSize=10.5, alignment=TA_CENTER, textColor=colors.HexColor("#444444"))
    h1 = ParagraphStyle("h1", parent=base, fontSize=14, leading=20, spaceBefore=8, spaceAfter=4,
                        textColor=colors.HexColor("#17365d"))
    note = ParagraphStyle("note", parent=base, fontSize=11, leading=16, textColor=colors.HexColor("#b00000"))
    mono = ParagraphStyle("mono", parent=base, fontSize=8.5, leading=12)
    width = A4[0] - 36 * mm

    def t(msg: Msg | str) -> str:
        return tr(msg) if isinstance(msg, Msg) else msg

    def esc(text: Any) -> str:
        return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    # the grades' colours of the rules in force (resources/evaluation.toml, as the desk's charts and
    # map show them); the fixed palette only for a grade no result carries
    palette = dict(GRADE_COLOURS)
    for ev in (b.departments, b.streets):
        for x in (ev.results if ev is not None else ()):
            if x.grade and x.colour:
                palette[x.grade] = x.colour

    def table(headers: list[str], rows: list[list[Any]], widths: list[float] | None = None,
              grades: int | None = None) -> Table:
        data = [[Paragraph(f"<b>{esc(h)}</b>", base) for h in headers]]
        data += [[Paragraph(f'<font color="#ffffff">{esc(c)}</font>' if n == grades and _dark(palette.get(str(c)))
                            else esc(c), base) for n, c in enumerate(row)] for row in rows]
        tbl = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
                 ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dce6f1")),
                 ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                 ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]
        if grades is not None:
            for i, row in enumerate(rows, start=1):
                colour = palette.get(str(row[grades]))
                if colour:
                    style.append(("BACKGROUND", (grades, i), (grades, i), colors.HexColor(colour)))
        tbl.setStyle(TableStyle(style))
        return tbl

    story: list[Any] = []
    month = str(b.month)
    who = b.district_name if b.kind == "monthly" else f"{b.department_name}（{b.department}）"
    heading = Msg("{who} 数字城管简报", who=who) if b.kind == "monthly" else Msg("{who} 月度考核报告", who=who)
    story.append(Paragraph(esc(t(heading)), title_style))
    story.append(Paragraph(esc(t(Msg("{month}（{start} 至 {end}）", month=month, start=b.month.start.isoformat(),
                                     end=b.month.end.isoformat()))), sub))
    story.append(Spacer(1, 6 * mm))
    if b.empty:
        story.append(Paragraph(esc(t(Msg("本月没有案卷：以下各项均为空。"))), note))
    if b.partial:
        story.append(Paragraph(esc(t(Msg("本月尚未结束：数字截至今日，月末前还会变化。"))), note))

    # -- headline ------------------------------------------------------------------------------
    story.append(Paragraph(esc(t(Msg("一、主要指标"))), h1))
    r, p = b.headline, b.previous
    cases_label = Msg("有事件的案卷数") if b.kind == "monthly" else Msg("派给本部门的案卷数")
    rows: list[list[Any]] = [[t(cases_label), b.cases, b.previous_cases,
                              _change(b.cases, b.previous_cases, percent=False)]]
    count_rows = ((("filed", Msg("立案数")), ("dispatched", Msg("派遣数")), ("closed", Msg("结案数")))
                  if b.kind == "monthly" else
                  (("handled", Msg("处置数")), ("handled_on_time", Msg("按期处置数")), ("closed", Msg("结案数"))))
    for key, label in count_rows:
        now_v = r.counts.get(key, 0) if r else 0
        before_v = p.counts.get(key, 0) if p else 0
        rows.append([t(label), now_v, before_v, _change(now_v, before_v, percent=False)])
    for key, label in (("close_rate", Msg("结案率")), ("close_on_time_rate", Msg("按期结案率")),
                       ("timely_solved_rate", Msg("问题及时解决率")), ("handle_rate", Msg("处置率")),
                       ("handle_on_time_rate", Msg("按期处置率"))):
        if (r is None or key not in r.rates) and (p is None or key not in p.rates):
            continue
        a, c = _rate(r, key), _rate(p, key)
        rows.append([t(label), _pct(a), _pct(c), _change(a, c, percent=True)])
    avg_now = r.averages.get("handling").value if r and "handling" in r.averages else None
    avg_before = p.averages.get("handling").value if p and "handling" in p.averages else None
    rows.append([t(Msg("平均处置时长（小时）")), _num(None if avg_now is None else avg_now / 60),
                 _num(None if avg_before is None else avg_before / 60),
                 "—" if avg_now is None or avg_before is None else f"{(avg_now - avg_before) / 60:+.1f}"])
    rows.append([t(Msg("综合得分")), _num(r.score if r else None), _num(p.score if p else None),
                 "—" if not (r and p and r.score is not None and p.score is not None) else f"{r.score - p.score:+.1f}"])
    rows.append([t(Msg("等级（A–E）")), (r.grade if r else None) or "—", (p.grade if p else None) or "—", ""])
    story.append(table([t(Msg("指标")), t(Msg("本月")), t(Msg("上月")), t(Msg("环比"))], rows,
                       [width * 0.4, width * 0.18, width * 0.18, width * 0.24]))
    story.append(Paragraph(esc(t(Msg("比率的环比以百分点计；得分与等级按 {version} 版考核规则（SHA-256 {sha}…）。",
                                     version=b.rules[0], sha=b.rules[1][:12]))), base))

    # -- charts ----------------------------------------------------------------------------------
    from app.reports import charts

    story.append(Paragraph(esc(t(Msg("二、图表"))), h1))
    if b.empty:
        story.append(Paragraph(esc(t(Msg("本月没有案卷，没有可画的图表。"))), base))
    else:
        story.append(Paragraph(esc(t(Msg("每日上报与结案"))), base))
        story.append(charts.daily(b.daily, font, width, t(Msg("上报")), t(Msg("结案"))))
        story.append(Paragraph(esc(t(Msg("问题类别帕累托图（前 {n} 类，折线为累计占比）", n=min(12, len(b.categories))))), base))
        story.append(charts.pareto(b.categories[:12], sum(n for *_x, n in b.categories), font, width))
        if b.departments is not None and b.departments.results:
            story.append(KeepTogether([
                Paragraph(esc(t(Msg("部门综合得分排名（前 15 名，按等级着色）"))), base),
                charts.ranking([x for x in b.departments.results if x.score is not None][:15], font, width,
                               palette)]))
        story.append(KeepTogether([Paragraph(esc(t(Msg("上报渠道"))), base),
                                   charts.channels([(channel_label(c, tr), n) for c, n in b.channels], font, width)]))

    # -- rankings -------------------------------------------------------------------------------
    def ranking_rows(results: list[SubjectResult]) -> list[list[Any]]:
        out = []
        for x in results:
            out.append([x.rank if x.rank is not None else "—", x.code, x.name or "", x.base,
                        _pct(_rate(x, "close_rate")), _pct(_rate(x, "close_on_time_rate")
                                                           if "close_on_time_rate" in x.rates
                                                           else _rate(x, "handle_on_time_rate")),
                        # too few cases: the score is shown in brackets and no grade (a grade of one case
                        # or none would read like a real A)
                        f"({_num(x.score)})" if x.insufficient and x.score is not None else _num(x.score),
                        t(Msg("样本不足")) if x.insufficient else (x.grade or "—")])
        return out

    headers = [t(Msg("名次")), t(Msg("代码")), t(Msg("名称")), t(Msg("案卷数")), t(Msg("结案率/处置率")),
               t(Msg("按期率")), t(Msg("得分")), t(Msg("评级"))]
    widths = [width * w for w in (0.07, 0.13, 0.26, 0.09, 0.13, 0.10, 0.10, 0.12)]  # 样本不足 on one line
    if b.departments is not None:
        story.append(Paragraph(esc(t(Msg("三、部门排名"))), h1))
        if b.departments.results:
            story.append(table(headers, ranking_rows(b.departments.results), widths, grades=7))
            story.append(Paragraph(esc(t(Msg("案卷太少的部门标为「样本不足」，不参与排名，其得分加括号、不评等级。"))), base))
        else:
            story.append(Paragraph(esc(t(Msg("本月没有可排名的部门。"))), base))
    if b.streets is not None:
        story.append(Paragraph(esc(t(Msg("四、街道排名"))), h1))
        if b.streets.results:
            story.append(table(headers, ranking_rows(b.streets.results), widths, grades=7))
        else:
            story.append(Paragraph(esc(t(Msg("本月没有可排名的街道。"))), base))
    if b.kind == "department" and r is not None:
        story.append(Paragraph(esc(t(Msg("三、各项比率"))), h1))
        from app.services.evaluation import LABELS

        story.append(table([t(Msg("指标")), t(Msg("分子")), t(Msg("分母")), t(Msg("比率"))],
                           [[t(LABELS.get(k, Msg(k))) if k in LABELS else k, f.numerator, f.denominator, _pct(f.value)]
                            for k, f in sorted(r.rates.items())],
                           [width * 0.4, width * 0.2, width * 0.2, width * 0.2]))

    # -- categories and hotspots ------------------------------------------------------------------
    section5 = Paragraph(esc(t(Msg("五、高发问题与热点网格"))), h1)
    total = sum(n for *_x, n in b.categories)
    cat_rows = [[i, c, name, n, _pct(n / total if total else None)] for i, (c, name, n) in enumerate(b.categories[:10], 1)]
    if cat_rows:
        story.append(KeepTogether([section5, table([t(Msg("序号")), t(Msg("类别代码")), t(Msg("类别")), t(Msg("上报数")),
                                          t(Msg("占比"))], cat_rows,
                                         [width * w for w in (0.1, 0.18, 0.4, 0.16, 0.16)])]))  # ten rows: one page
    else:
        story.append(section5)
        story.append(Paragraph(esc(t(Msg("本月没有上报。"))), base))
    if b.hotspots:
        story.append(Spacer(1, 3 * mm))
        story.append(KeepTogether([table([t(Msg("序号")), t(Msg("热点网格")), t(Msg("上报数"))],
                                         [[i, g, n] for i, (g, n) in enumerate(b.hotspots, 1)],
                                         [width * 0.1, width * 0.5, width * 0.2])]))

    # -- ledger shares -----------------------------------------------------------------------------
    story.append(Paragraph(esc(t(Msg("六、延期、回退、缓办、挂账占比"))), h1))
    kinds = [(k, t(SHARE_LABELS[k])) for k in SHARE_KINDS]
    if b.shares:
        share_rows = []
        for s in b.shares:
            row: list[Any] = [s.department or "", s.department_name or "", s.dispatched]
            for k, _label in kinds:
                row.append(f"{s.counts.get(k, 0)} / {_pct(s.share(k))}")
            share_rows.append(row)
        story.append(table([t(Msg("部门")), t(Msg("部门名称")), t(Msg("派遣数"))] + [lbl for _k, lbl in kinds], share_rows,
                           [width * w for w in (0.11, 0.29, 0.09, 0.1275, 0.1275, 0.1275, 0.1275)]))  # one line each
        story.append(Paragraph(esc(t(Msg("每格：申请数 / 占本部门当月派遣数的比例（来自台账）。"))), base))
    else:
        story.append(Paragraph(esc(t(Msg("本月没有派遣，也没有延期、回退、缓办、挂账申请。"))), base))

    if b.kind == "department" and b.late_cases:
        story.append(Paragraph(esc(t(Msg("七、未按期完成的案卷（{n} 件）", n=len(b.late_cases)))), h1))
        story.append(Paragraph(esc("，".join(b.late_cases[:400])), base))

    # -- map ---------------------------------------------------------------------------------------
    if map_png is not None:
        story.append(PageBreak())
        story.append(Paragraph(esc(t(Msg("七、本月案卷与热点网格分布图"))), h1))
        img = Image(str(map_png))
        scale = min(width / img.drawWidth, (A4[1] - 60 * mm) / img.drawHeight)
        img.drawWidth, img.drawHeight = img.drawWidth * scale, img.drawHeight * scale
        story.append(img)

    # -- audit chain ----------------------------------------------------------------------------------
    story.append(Paragraph(esc(t(Msg("八、审计链"))), h1))
    if b.chain is None:
        story.append(Paragraph(esc(t(Msg("月末之前审计链中还没有任何事件。"))), base))
    else:
        story.append(Paragraph(esc(t(Msg("月末审计链：第 {chain_no} 环，链头哈希：", chain_no=b.chain[0]))), base))
        story.append(Paragraph(b.chain[1], mono))
    story.append(Paragraph(esc(t(Msg("生成时整条审计链已校验通过（当时链头第 {chain_no} 环）。凭上述哈希可随时证明本简报所依据的历史没有被改写"
                                     "（gridhall db check-seal）。", chain_no=b.sealed_head[0]))), base))

    # -- appendix ------------------------------------------------------------------------------------
    story.append(PageBreak())
    story.append(Paragraph(esc(t(Msg("附录 A：每日上报与结案"))), h1))
    story.append(table([t(Msg("日期")), t(Msg("上报")), t(Msg("结案"))], [[d.isoformat(), a, c] for d, a, c in b.daily],
                       [width * 0.3, width * 0.2, width * 0.2]))
    story.append(KeepTogether([  # a dozen rows at most: heading and table on one page
        Paragraph(esc(t(Msg("附录 B：上报渠道"))), h1),
        table([t(Msg("渠道")), t(Msg("上报数")), t(Msg("占比"))],
              [[channel_label(c, tr), n, _pct(n / total if total else None)] for c, n in b.channels],
              [width * 0.4, width * 0.2, width * 0.2])]))
    if len(b.categories) > 10:
        story.append(Paragraph(esc(t(Msg("附录 C：全部问题类别"))), h1))
        story.append(table([t(Msg("类别代码")), t(Msg("类别")), t(Msg("上报数"))], [[c, name, n] for c, name, n in b.categories],
                           [width * 0.2, width * 0.5, width * 0.2]))

    footer = t(Msg("{title} · 第 {page} 页", title=t(heading) + " " + month, page="\x00"))

    def on_page(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, footer.replace("\x00", str(doc.page)))
        canvas.restoreState()

    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"{t(heading)} {month}", author="GridHall", subject=month,
                            creator="GridHall")
    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return int(doc.page)


__all__ = ["FONT", "build_pdf", "register_font"]
