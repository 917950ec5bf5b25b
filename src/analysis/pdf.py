"""PDF reports (WeasyPrint on the exported HTML with a print stylesheet): no LaTeX, no browser.

A4, a cover (institution, period, issuing office, date), a running header with the institution
and period, the footer "第 N 页 / 共 M 页", table rows never split across pages, charts sized
to the page, and the Simplified Chinese font embedded (``lang="zh-CN"`` selects SC forms).
"""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path

from analysis.files import atomic_path

PRINT_CSS = """
@page {
  size: A4;
  margin: 22mm 16mm 20mm 16mm;
  @top-left { content: string(running); font-size: 8.5pt; color: #5c6370; vertical-align: bottom;
              padding-bottom: 3mm; }
  @top-right { content: string(office); font-size: 8.5pt; color: #5c6370; vertical-align: bottom;
               padding-bottom: 3mm; }
  @bottom-center { content: "第 " counter(page) " 页 / 共 " counter(pages) " 页"; font-size: 9pt; color: #5c6370; }
}
@page :first { @top-left { content: none; } @top-right { content: none; } @bottom-center { content: none; } }
html { font-size: 10pt; }
body { background: #fff; }
main.report { max-width: none; padding: 0; box-shadow: none; }
.cover { page: cover; height: 247mm; display: flex; flex-direction: column; justify-content: space-between;
         break-after: page; text-align: center; }
.cover .cover-office { font-size: 16pt; letter-spacing: 0.3em; color: #b42318; margin-top: 20mm;
                       border-bottom: 2px solid #b42318; padding-bottom: 4mm; }
.cover .cover-title { font-size: 24pt; font-weight: 700; color: #1d2330; margin: 0; }
.cover .cover-name { font-size: 20pt; font-weight: 700; color: #1f4e9a; margin: 8mm 0 2mm; }
.cover .cover-period { font-size: 13pt; color: #1d2330; }
.cover .cover-meta { font-size: 11pt; color: #5c6370; margin-bottom: 20mm; line-height: 2; }
.cover .running { string-set: running content(); font-size: 11pt; color: #5c6370; }
.cover .office { string-set: office content(); display: block; font-size: 9pt; color: #5c6370; }
h2 { break-after: avoid; }
h3 { break-after: avoid; }
tr, .verdict, .kpi, .output_png { break-inside: avoid; }
thead { display: table-header-group; }
.output_png img { max-width: 100%; max-height: 200mm; }
table { font-size: 8.5pt; }
table.appendix { font-size: 6pt; table-layout: fixed; }
table.appendix td.num { white-space: normal; word-break: break-all; }
table.appendix th:first-child, table.appendix td:first-child { width: 22%; white-space: normal; }
/* the two largest tables laid out from fixed widths: WeasyPrint's automatic layout measures every
   cell's text twice (about 0.6 s of a 3 s bank PDF); widths leave room for the cells' padding */
table.indicators, table.provenance-table { table-layout: fixed; }
table.indicators th:nth-child(1) { width: 13mm; }
table.indicators th:nth-child(2) { width: 42mm; }
table.indicators th:nth-child(3) { width: 24mm; }
table.indicators th:nth-child(4) { width: 29mm; }
table.indicators th:nth-child(5) { width: 16mm; }
table.indicators th:nth-child(6) { width: 31mm; }
table.provenance-table th:nth-child(1) { width: 27%; }
.verdicts { display: grid; grid-template-columns: 1fr 1fr; gap: 3mm; }
.kpis { display: block; }
.kpi { margin-bottom: 3mm; }
.report-footer { display: none; }
a { color: inherit; text-decoration: none; }
"""


def cover_html(title: str, name: str, period_label: str, office: str, issued: str, notice: str = "") -> str:
    """The cover page; every value escaped. It also sets the running header's strings."""
    notice_line = f"<div>评价依据：{escape(notice)}</div>" if notice else ""
    return (
        '<section class="cover">'
        f'<div class="cover-office">{escape(office)}</div>'
        f'<div><p class="cover-title">{escape(title)}</p>'
        f'<p class="cover-name">{escape(name)}</p>'
        f'<p class="cover-period">{escape(period_label)}</p></div>'
        f'<div class="cover-meta">{notice_line}<div>印发日期：{escape(issued)}</div>'
        f'<div class="running">{escape(name)} · {escape(period_label)}</div>'
        f'<span class="office">{escape(office)}</span></div>'
        "</section>"
    )


def html_for_print(html: str, cover: str) -> str:
    """Insert the cover after ``<main class="report">`` and the print stylesheet into ``<head>``."""
    html = html.replace("</head>", f"<style>{PRINT_CSS}</style></head>", 1)
    html, count = re.subn(r'(<main class="report">)', lambda m: m.group(1) + cover, html, count=1)
    if count != 1:
        raise ValueError('not an HTML report of this project: <main class="report"> not found')
    return html


def write_pdf(html: str, target: Path | str, *, base_url: str | None = None) -> Path:
    """Render ``html`` (already carrying its cover and print CSS) to ``target`` atomically."""
    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    with atomic_path(target) as tmp:
        HTML(string=html, base_url=base_url).write_pdf(str(tmp))
    return Path(target)


def report_pdf(
    html: str,
    target: Path | str,
    *,
    title: str,
    name: str,
    period_label: str,
    office: str,
    issued: str,
    notice: str = "",
) -> Path:
    cover = cover_html(title, name, period_label, office, issued, notice)
    return write_pdf(html_for_print(html, cover), target)
