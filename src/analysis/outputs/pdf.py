"""PDF reports (WeasyPrint on the exported HTML with a print stylesheet): no LaTeX, no browser.

A4, a cover (institution, period, issuing office, date), a running header with the institution
and period, the footer "第 N 页 / 共 M 页", table rows never split across pages, charts sized
to the page, and the Simplified Chinese font embedded (``lang="zh-CN"`` selects SC forms).

WeasyPrint subsets the embedded fonts with HarfBuzz-subset (Debian's ``libharfbuzz-subset0``);
without it, it falls back to fontTools and every PDF costs ten times as much (16 s instead of
1.6 s for a bank report, nearly all in subsetting Noto Sans CJK's CFF outlines in Python).
:func:`require_harfbuzz_subset` stops a batch before any work when the library is missing. What
WeasyPrint logs while a PDF is written is collected and returned (the batch prints it with the
report's name), not silenced: only the messages in :data:`HARMLESS_FOR_PRINT` and (after the run
has said it once) :data:`ALREADY_REPORTED` are dropped, each for the reason written beside it.
"""

from __future__ import annotations

import logging
import re
from html import escape
from pathlib import Path

from analysis.core.errors import AnalysisError
from analysis.core.files import atomic_path

#: the one message of WeasyPrint that is dropped, and only when the run was started with
#: ``--allow-slow-pdf``: the batch has already said, once, that HarfBuzz-subset is missing and PDFs
#: will be slow; WeasyPrint repeats it for every font of every PDF (five faces per report).
FONTTOOLS_FALLBACK = "Using fontTools instead of HarfBuzz-Subset"
ALREADY_REPORTED = (FONTTOOLS_FALLBACK,)
#: messages of WeasyPrint about the report's screen stylesheet (``outputs/templates/report/static/
#: report.css``), read and judged harmless for print, each with why; every other message is returned
HARMLESS_FOR_PRINT = (
    # ``@media (max-width: 700px)`` narrows the page on a phone; WeasyPrint lays out A4 and does not
    # evaluate width features, so dropping that rule from the PDF is what print needs
    "Expected a media type, got '(max-width: 700px)'",
    "Invalid media type ' (max-width: 700px) '",
    # a hint to browsers' font rasterisers; WeasyPrint has no such property and shapes text with
    # HarfBuzz whatever it says
    "Ignored `text-rendering: optimizeLegibility`",
)

HARFBUZZ_SUBSET_HINT = (
    "WeasyPrint 未能加载 HarfBuzz-subset（libharfbuzz-subset0），PDF 将改用 fontTools 子集化字体，"
    "每份 PDF 慢约十倍。请安装：`make system-deps`（或 sudo apt-get install libharfbuzz-subset0）；"
    "确需继续可加 --allow-slow-pdf。/ WeasyPrint could not load HarfBuzz-subset (libharfbuzz-subset0): "
    "it would subset the PDF fonts with fontTools, about ten times slower per PDF. Install it with "
    "`make system-deps` (or sudo apt-get install libharfbuzz-subset0), or pass --allow-slow-pdf to go on."
)
SLOW_PDF_WARNING = (
    "警告 / warning: 未安装 HarfBuzz-subset（libharfbuzz-subset0），PDF 生成将慢约十倍（--allow-slow-pdf）/ "
    "HarfBuzz-subset is missing, PDFs will take about ten times longer (--allow-slow-pdf); "
    "install it with `make system-deps`"
)


class SlowPdfError(AnalysisError, RuntimeError):
    """WeasyPrint would subset fonts with fontTools (HarfBuzz-subset not loadable); the message says how to fix it."""


def harfbuzz_subset_loaded() -> bool:
    """True when WeasyPrint loaded HarfBuzz-subset, at a version it subsets with (>= 4.1.0, as
    ``weasyprint.pdf.fonts`` requires)."""
    from weasyprint.text import ffi

    return ffi.harfbuzz_subset is not None and bool(ffi.harfbuzz.hb_version_atleast(4, 1, 0))


def require_harfbuzz_subset(allow_slow: bool = False) -> str | None:
    """Stop before any work when PDFs would be made the slow way (检查 HarfBuzz-subset).

    Raises :class:`SlowPdfError` (install hint in Chinese and English) when WeasyPrint could not
    load HarfBuzz-subset; with ``allow_slow`` returns the one warning line to print instead.
    Returns None when all is well.
    """
    if harfbuzz_subset_loaded():
        return None
    if allow_slow:
        return SLOW_PDF_WARNING
    raise SlowPdfError(HARFBUZZ_SUBSET_HINT)


class _Collect(logging.Handler):
    """Keeps WeasyPrint's warnings and errors of one PDF, less the messages already reported."""

    def __init__(self, drop: tuple[str, ...]):
        super().__init__(logging.WARNING)
        self.drop = drop
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if not message.startswith(self.drop) and message not in self.messages:
            self.messages.append(message)


PRINT_CSS = """
@page {
  size: A4;
  margin: 22mm 16mm 20mm 16mm;
  @top-left { content: string(running); font-size: 8.5pt; color: #5c6370; vertical-align: bottom;
              padding-bottom: 3mm; overflow-wrap: anywhere; }
  @top-right { content: string(office); font-size: 8.5pt; color: #5c6370; vertical-align: bottom;
               padding-bottom: 3mm; overflow-wrap: anywhere; }
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
.cover div, .cover p, .cover span { overflow-wrap: anywhere; }
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
/* the appendix: six months a table, every figure whole (td.num stays on one line) */
.table-wrap { overflow: visible; }
table.appendix { font-size: 7.5pt; table-layout: fixed; }
table.appendix th:first-child, table.appendix td:first-child { width: 28%; white-space: normal; }
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


def write_pdf(
    html: str, target: Path | str, *, base_url: str | None = None, slow_pdf_reported: bool = False
) -> list[str]:
    """Render ``html`` (already carrying its cover and print CSS) to ``target`` atomically.

    Returns what WeasyPrint logged at warning level or above while doing it (each message once);
    with ``slow_pdf_reported`` its per-font fontTools fallback notice is left out, the run having
    warned once already.
    """
    from weasyprint import HTML

    weasyprint_logger = logging.getLogger("weasyprint")
    collect = _Collect(HARMLESS_FOR_PRINT + (ALREADY_REPORTED if slow_pdf_reported else ()))
    weasyprint_logger.addHandler(collect)
    try:
        with atomic_path(target) as tmp:
            HTML(string=html, base_url=base_url).write_pdf(str(tmp))
    finally:
        weasyprint_logger.removeHandler(collect)
    return collect.messages


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
    slow_pdf_reported: bool = False,
) -> list[str]:
    """The report's PDF with its cover; returns WeasyPrint's warnings (see :func:`write_pdf`)."""
    cover = cover_html(title, name, period_label, office, issued, notice)
    return write_pdf(html_for_print(html, cover), target, slow_pdf_reported=slow_pdf_reported)
