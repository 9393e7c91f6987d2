"""The static dashboard page: one self-contained HTML file, inline CSS and SVG, no scripts,
no network. Takes the plain values of the reports; knows nothing of the database (pure)."""

from __future__ import annotations

from datetime import date
from html import escape
from typing import TYPE_CHECKING

from workflow.domain.states import STATE_ZH

if TYPE_CHECKING:  # the report values' shapes; this module stays free of the database
    from workflow.reports.figures import DueDate, Funnel, Phase, Targets
    from workflow.reports.overdue import OverdueMatrix

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei","PingFang SC",sans-serif;
margin:0;background:#f4f6f9;color:#1f2933}
header{background:#1d4e89;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}
header p{margin:6px 0 0;opacity:.85}main{padding:16px 32px;max-width:1200px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:16px 0;padding:16px 20px}
h2{font-size:18px;margin:0 0 12px;border-left:4px solid #1d4e89;padding-left:8px}
.kpis{display:flex;gap:16px;flex-wrap:wrap}.kpi{flex:1;min-width:160px;background:#eef3fa;border-radius:6px;padding:12px}
.kpi b{display:block;font-size:28px;color:#1d4e89}.kpi span{font-size:13px;color:#52606d}
table{border-collapse:collapse;width:100%;font-size:13px;margin-top:8px}
th,td{border:1px solid #d9e2ec;padding:4px 8px;text-align:center}th{background:#d9e1f2}
td.l{text-align:left}.over{background:#f8d7da}.late{background:#fff3cd}.ok{color:#2f855a}
.legend{font-size:12px;color:#52606d}svg text{font-size:12px;fill:#1f2933}
"""
COLORS = {"achieved": "#2f855a", "pipeline": "#90cdf4", "target": "#e2e8f0", "phase": "#1d4e89"}


def render(targets: Targets, funnel: Funnel, overdue: OverdueMatrix,
           phases: list[Phase], dues: list[DueDate], today: date, *,
           simulation: bool = False) -> str:
    from workflow.context import SIMULATION_MARK as MARK

    mark = MARK if simulation else ""
    title = f"{mark}{escape(targets['name'])} — 进展看板"
    body = "".join((_kpis(targets), _targets(targets), _funnel(funnel), _overdue(overdue),
                    _timeline(phases, dues, today)))
    return (f"<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title>"
            f"<style>{CSS}</style></head><body><header><h1>{title}</h1>"
            f"<p>数据截至 {escape(targets['as_of'])}（静态页面，离线可看）</p></header>"
            f"<main>{body}</main></body></html>")


def pct(ratio: float | None) -> str:
    """113%, 75%, 0.5%: one decimal below 10% so that early progress shows."""
    if ratio is None:
        return "—"
    return f"{ratio:.1%}" if 0 < ratio < 0.1 else f"{ratio:.0%}"


def _kpis(t: Targets) -> str:
    p = t["province"]
    cards = [("全省新增", f"{p['achieved']} / {p['target']}", "achieved"),
             ("完成率", pct(p["progress"]), "progress"),
             ("在途企业", str(p["in_pipeline"]), "in_pipeline"),
             ("距目标差距", str(p["gap"]), "gap"), ("参与企业", str(p["participations"]), "participations")]
    items = "".join(f'<div class="kpi"><b data-field="{k}">{escape(v)}</b><span>{n}</span></div>'
                    for n, v, k in cards)
    return (f'<section id="province" data-target="{p["target"]}" data-achieved="{p["achieved"]}" '
            f'data-in-pipeline="{p["in_pipeline"]}"><h2>全省目标：新增A级、B级（含B-）和绩效引领性企业'
            f'{p["target"]}家以上</h2><div class="kpis">{items}</div></section>')


def _targets(t: Targets) -> str:
    cities = t["cities"]
    scale = max([c["target"] for c in cities] + [c["achieved"] + c["in_pipeline"] for c in cities] + [1])
    row_h, label_w, bar_w = 26, 200, 640
    bars = []
    for i, c in enumerate(cities):
        y = i * row_h + 4
        w = lambda n: round(bar_w * n / scale, 1)  # noqa: E731
        bars.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(c["city"])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{w(c["target"])}" height="18" fill="{COLORS["target"]}"/>'
            f'<rect x="{label_w + w(c["achieved"])}" y="{y + 4}" width="{w(c["in_pipeline"])}" height="10" '
            f'fill="{COLORS["pipeline"]}"/>'
            f'<rect x="{label_w}" y="{y}" width="{w(c["achieved"])}" height="18" fill="{COLORS["achieved"]}"/>'
            f'<line x1="{label_w + w(c["target"])}" y1="{y - 2}" x2="{label_w + w(c["target"])}" y2="{y + 20}" '
            f'stroke="#52606d" stroke-width="2"/>'
            f'<text x="{label_w + max(w(c["target"]), w(c["achieved"] + c["in_pipeline"])) + 6}" '
            f'y="{y + 15}">{c["achieved"]} / {c["target"]}</text>')
    svg = (f'<svg role="img" aria-label="各地目标完成情况" width="{label_w + bar_w + 80}" '
           f'height="{len(cities) * row_h + 8}">{"".join(bars)}</svg>')
    head = "<tr><th>城市</th><th>目标</th><th>已新增</th><th>完成率</th><th>在途</th><th>差距</th></tr>"
    rows = "".join(
        f'<tr data-city="{escape(c["city"])}"><td class="l">{escape(c["city"])}</td>'
        f'<td data-field="target">{c["target"]}</td><td data-field="achieved">{c["achieved"]}</td>'
        f'<td>{pct(c["progress"])}</td><td data-field="in_pipeline">{c["in_pipeline"]}</td>'
        f'<td data-field="gap">{c["gap"]}</td></tr>' for c in cities)
    legend = (f'<p class="legend"><span style="color:{COLORS["achieved"]}">■</span> 已新增　'
              f'<span style="color:{COLORS["pipeline"]}">■</span> 在途　'
              f'<span style="color:#a0aec0">■</span> 目标（竖线为目标位置）</p>')
    return f'<section id="targets"><h2>各地目标完成情况</h2>{legend}{svg}<table>{head}{rows}</table></section>'


def _funnel(f: Funnel) -> str:
    stages = f["stages"]
    top = max([s["reached"] for s in stages] + [1])
    parts = []
    for i, s in enumerate(stages):
        w = round(700 * s["reached"] / top, 1)
        parts.append(f'<text x="110" y="{i * 30 + 19}" text-anchor="end">{escape(s["zh"])}</text>'
                     f'<rect x="{120 + (700 - w) / 2}" y="{i * 30 + 4}" width="{w}" height="22" '
                     f'fill="{COLORS["phase"]}" opacity="{1 - i * 0.08:.2f}"/>'
                     f'<text x="830" y="{i * 30 + 19}">{s["reached"]}（当前 {s["count"]}）</text>')
    svg = f'<svg role="img" aria-label="推进漏斗" width="960" height="{len(stages) * 30 + 8}">{"".join(parts)}</svg>'
    exits = "　".join(f"{STATE_ZH[k]} {v}" for k, v in f["exits"].items())
    moves = "".join(f'<tr><td>{escape(m["from"])} → {escape(m["to"])}</td><td>{m["count"]}</td>'
                    f'<td>{"计入" if m["counted"] else "不计入"}</td></tr>' for m in f["transitions"])
    moves_table = (f"<table><tr><th>等级变化（纳入时 → 认定）</th><th>企业数</th><th>计入新增</th></tr>{moves}</table>"
                   if moves else "<p class=\"legend\">尚无认定企业。</p>")
    return (f'<section id="funnel"><h2>推进漏斗（累计到达各阶段的企业数，不含已离开）</h2>{svg}'
            f'<p class="legend">已离开：{exits}</p>{moves_table}</section>')


def _overdue(o: OverdueMatrix) -> str:
    cols = o["deliverables"]
    head = "<tr><th>城市</th>" + "".join(
        f'<th title="{escape(d["title"])}">{escape(d["label"])}</th>' for d in cols) + "</tr>"
    rows = []
    for line in o["matrix"]:
        cells = []
        for d in cols:
            c = line["cells"].get(d["kind"], {})
            cls = "over" if c.get("overdue") else "late" if c.get("late") else ""
            text = "；".join(f"{zh}{c[k]}" for k, zh in (("overdue", "逾期"), ("late", "迟报"), ("pending", "待报"))
                            if c.get(k)) or ('<span class="ok">✓</span>' if c.get("done") else "—")
            cells.append(f'<td class="{cls}">{text}</td>')
        rows.append(f'<tr><td class="l">{escape(line["city"])}</td>{"".join(cells)}</tr>')
    ents = "".join(f'<tr><td class="l">{escape(e["city"])}</td><td class="l">{escape(e["name"])}</td>'
                   f'<td class="l">{escape(e["issue_zh"])}</td><td class="l">{escape(e["detail"])}</td></tr>'
                   for e in o["enterprises"][:200])
    more = len(o["enterprises"]) - 200
    heading = f"企业：缺月度评估或诉求逾期未答复（{len(o['enterprises'])}）"
    ent_table = (f"<h2 style=\"margin-top:16px\">{heading}</h2><table><tr><th>城市</th>"
                 f"<th>企业</th><th>问题</th><th>详情</th></tr>{ents}</table>"
                 + (f'<p class="legend">另有 {more} 家未列出。</p>' if more > 0 else "")) if ents else ""
    return (f'<section id="overdue"><h2>报送情况矩阵（城市 × 报送材料）</h2>'
            f'<p class="legend"></p><table>{head}{"".join(rows)}</table>'  # empty: matrix() has no "note"
            f"{ent_table}</section>")


def _timeline(phases: list[Phase], dues: list[DueDate], today: date) -> str:
    if not phases:
        return ""
    start, end = min(p["opens"] for p in phases), max(p["closes"] for p in phases)
    span, left, width = max((end - start).days, 1), 150, 780

    def x(d: date) -> float:
        return round(left + width * (min(max(d, start), end) - start).days / span, 1)

    out = []
    for i, p in enumerate(phases):
        y = 30 + i * 28
        out.append(f'<text x="{left - 8}" y="{y + 14}" text-anchor="end">{escape(p["title"])}</text>'
                   f'<rect x="{x(p["opens"])}" y="{y}" width="{x(p["closes"]) - x(p["opens"])}" height="20" '
                   f'rx="4" fill="{COLORS["phase"]}" opacity="0.8"/>')
    bottom = 30 + len(phases) * 28
    for m in range(start.month, end.month + 1):
        d = date(start.year, m, 1)
        out.append(f'<line x1="{x(d)}" y1="22" x2="{x(d)}" y2="{bottom}" stroke="#cbd2d9"/>'
                   f'<text x="{x(d) + 2}" y="16">{m}月</text>')
    for item in dues:
        out.append(f'<circle cx="{x(item["due"])}" cy="{bottom + 10}" r="4" fill="#c05621">'
                   f'<title>{escape(item["label"])} {item["due"]}</title></circle>')
    if start <= today <= end:
        out.append(f'<line x1="{x(today)}" y1="10" x2="{x(today)}" y2="{bottom + 16}" stroke="#e53e3e" '
                   f'stroke-width="2"/><text x="{x(today) + 4}" y="{bottom + 30}" fill="#e53e3e">今天 {today}</text>')
    svg = f'<svg role="img" aria-label="年度时间轴" width="960" height="{bottom + 40}">{"".join(out)}</svg>'
    when: dict[str, list[str]] = {}
    for item in dues:
        when.setdefault(item["label"], []).append(f'{item["due"].month}月{item["due"].day}日')
    legend = "　".join(f"{escape(k)}：{'、'.join(v)}" for k, v in when.items())
    phases_text = "　".join(f'{escape(p["title"])} {p["opens"].month}.{p["opens"].day}–'
                           f'{p["closes"].month}.{p["closes"].day}' for p in phases)
    return (f'<section id="timeline"><h2>年度时间轴（六个阶段，● 为报送截止日）</h2>{svg}'
            f'<p class="legend">{phases_text}</p><p class="legend">报送截止：{legend}</p></section>')
