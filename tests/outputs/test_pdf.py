"""PDF reports: embedded Simplified Chinese font, the institution's name, page footers, a sensible
page count (checked with poppler's pdffonts, pdftotext and pdfinfo)."""

from __future__ import annotations

import re
import subprocess

import pytest

from analysis.outputs.pdf import cover_html, html_for_print

pytestmark = pytest.mark.slow


def run(*cmd) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def pages(pdf) -> int:
    return int(re.search(r"Pages:\s+(\d+)", run("pdfinfo", str(pdf))).group(1))


def test_cjk_font_embedded(demo_reports):
    fonts = run("pdffonts", str(demo_reports / "2023-12" / "B017.pdf")).splitlines()[2:]
    cjk = [line for line in fonts if "CJK" in line and "SC" in line]
    assert cjk, fonts
    assert all(line.split()[-5] == "yes" for line in cjk)  # the "emb" column


@pytest.mark.parametrize(
    "iid,name,min_pages,max_pages",
    [
        ("B017", "宛城农村商业银行（示例）", 5, 14),  # the loan-level checks section adds a page
        ("I003", "伏牛财产保险股份有限公司南阳中心支公司（示例）", 3, 8),
        ("overview", "南阳市银行保险机构", 4, 14),
    ],
)
def test_text_footer_and_page_count(demo_reports, iid, name, min_pages, max_pages):
    pdf = demo_reports / "2023-12" / f"{iid}.pdf"
    n = pages(pdf)
    assert min_pages <= n <= max_pages
    cover = run("pdftotext", "-f", "1", "-l", "1", str(pdf), "-")
    assert name in cover and "2023年12月" in cover and "南阳银保监分局" in cover
    assert "第 1 页" not in cover  # the cover carries no footer
    second = re.sub(r"\s+", "", run("pdftotext", "-f", "2", "-l", "2", str(pdf), "-"))
    assert f"第2页/共{n}页" in second  # pdftotext drops the spaces of "第 2 页 / 共 N 页"
    if iid != "overview":
        assert f"{name}·2023年12月" in second  # running header
    for page in range(1, n + 1):  # no blank page: the count is what the content needs
        assert run("pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-").strip()


A4_WIDTH_PT = 595.2756
RIGHT_MARGIN_PT = 16 / 25.4 * 72  # PRINT_CSS: @page margin 16 mm left and right


@pytest.mark.parametrize("iid", ["B017", "I003", "overview"])
def test_no_text_runs_past_the_right_margin(demo_reports, iid):
    """Every word pdftotext finds ends inside the page's content box: a table laid out from fixed
    widths that are too wide (or a nowrap cell too narrow) pushes text into the margin."""
    pdf = demo_reports / "2023-12" / f"{iid}.pdf"
    words = re.findall(
        r'<word xMin="[\d.]+" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
        run("pdftotext", "-bbox", str(pdf), "-"),
    )
    assert words
    limit = A4_WIDTH_PT - RIGHT_MARGIN_PT + 0.5
    past = [(text, float(x)) for x, text in words if float(x) > limit]
    assert not past, past[:5]


def test_pdf_and_html_tell_the_same_verdict(demo_reports):
    text = run("pdftotext", str(demo_reports / "2023-12" / "B030.pdf"), "-")
    assert "资产质量（不良容忍度）" in text and "未达标" in text


def test_cover_escapes_values():
    cover = cover_html("报告", "<b>x</b>", "2023年12月", "分局", "2024年1月1日")
    assert "<b>x</b>" not in cover and "&lt;b&gt;x&lt;/b&gt;" in cover


def test_print_html_needs_a_report():
    with pytest.raises(ValueError):
        html_for_print("<html><head></head><body></body></html>", "<section></section>")


# ---------------------------------------------------------------- HarfBuzz-subset and WeasyPrint's messages

SMALL_REPORT = (
    '<html lang="zh-CN"><head><style>p { colour: red; }</style></head>'
    '<body><main class="report"><p>小微企业贷款余额</p></main></body></html>'
)


@pytest.fixture
def without_harfbuzz_subset(monkeypatch):
    """This process as on a machine without libharfbuzz-subset0: WeasyPrint's library handle is
    None, exactly what it holds when its dlopen failed."""
    import weasyprint.pdf.fonts
    import weasyprint.text.ffi

    monkeypatch.setattr(weasyprint.text.ffi, "harfbuzz_subset", None)
    monkeypatch.setattr(weasyprint.pdf.fonts, "harfbuzz_subset", None)


def test_harfbuzz_subset_is_loaded_here():
    """make system-deps installs libharfbuzz-subset0, so on any machine that ran it this holds."""
    from analysis.outputs.pdf import harfbuzz_subset_loaded, require_harfbuzz_subset

    assert harfbuzz_subset_loaded()
    assert require_harfbuzz_subset() is None


def test_missing_harfbuzz_subset_stops_with_the_package_and_the_command(without_harfbuzz_subset):
    from analysis.outputs.pdf import SlowPdfError, require_harfbuzz_subset

    with pytest.raises(SlowPdfError) as caught:
        require_harfbuzz_subset()
    message = str(caught.value)
    for part in ("libharfbuzz-subset0", "make system-deps", "--allow-slow-pdf", "慢约十倍", "ten times slower"):
        assert part in message, message
    warning = require_harfbuzz_subset(allow_slow=True)
    assert warning is not None and "\n" not in warning and "libharfbuzz-subset0" in warning


def test_weasyprint_warnings_are_returned_not_silenced(tmp_path, without_harfbuzz_subset):
    """A CSS typo and the fontTools fallback both reach the caller; the fallback notice is left
    out only once the run has said it (``slow_pdf_reported``)."""
    from analysis.outputs.pdf import write_pdf

    messages = write_pdf(SMALL_REPORT, tmp_path / "a.pdf")
    assert any("colour" in m for m in messages), messages  # WeasyPrint: "Ignored `colour: red` …"
    assert any(m.startswith("Using fontTools instead of HarfBuzz-Subset") for m in messages), messages
    reported = write_pdf(SMALL_REPORT, tmp_path / "b.pdf", slow_pdf_reported=True)
    assert any("colour" in m for m in reported), reported
    assert not any("fontTools" in m for m in reported), reported
    assert (tmp_path / "b.pdf").stat().st_size > 1000


def test_the_reports_own_stylesheet_draws_no_weasyprint_message(tmp_path):
    """Every message WeasyPrint gives on the report's screen CSS was read and judged harmless for
    print (``HARMLESS_FOR_PRINT``); a new one in the CSS must be looked at, so it fails here."""
    from analysis.outputs.html import report_css
    from analysis.outputs.pdf import write_pdf

    html = SMALL_REPORT.replace("p { colour: red; }", report_css())
    assert write_pdf(html, tmp_path / "c.pdf") == []


# ---------------------------------------------------------------- figures never broken


def _cells(html: str, classes: tuple[str, ...]) -> list[str]:
    kinds = "|".join(classes)
    return re.findall(rf'<td class="(?:{kinds})">([^<]+)</td>', html)


@pytest.mark.parametrize("iid", ["B017", "I003"])
def test_no_figure_of_the_appendix_is_split_across_lines(demo_reports, iid):
    """Every figure of the data appendix (附录一) in the HTML report is one word of the PDF's text,
    laid out as printed (pdftotext -layout): none is broken mid-digit ("2023-0/1", "577,55/8.71")."""
    html = (demo_reports / "2023-12" / f"{iid}.html").read_text(encoding="utf-8")
    appendix = html[html.index("附录一") :]
    appendix = appendix[: appendix.index("<h2", 10)] if "<h2" in appendix[10:] else appendix
    figures = _cells(appendix, ("num",)) + re.findall(r"<th>(\d{4}-\d{2})</th>", appendix)
    assert len(figures) >= 4 * 12 + 12  # a year of at least four series, and the twelve months
    words = set(run("pdftotext", "-layout", str(demo_reports / "2023-12" / f"{iid}.pdf"), "-").split())
    broken = sorted({f for f in figures if f not in words})
    assert not broken, broken[:10]


def test_figures_dates_and_codes_of_every_table_are_whole_in_the_pdf(demo_reports):
    """Beyond the appendix: every numeric cell and every figure, date or code cell of B017's tables."""
    html = (demo_reports / "2023-12" / "B017.html").read_text(encoding="utf-8")
    figures = [f for f in _cells(html, ("num", "fig")) if " " not in f]
    words = set(run("pdftotext", "-layout", str(demo_reports / "2023-12" / "B017.pdf"), "-").split())
    broken = sorted({f for f in figures if f not in words})
    assert not broken, broken[:10]


def test_the_overview_does_not_squeeze_a_category_name(demo_reports):
    """The category "股份制商业银行" (7 characters) is one word of the overview's PDF, not "股份/制商/业银/行"."""
    text = run("pdftotext", "-layout", str(demo_reports / "2023-12" / "overview.pdf"), "-")
    lines = text.splitlines()
    assert any("股份制商业银行" in line for line in lines)
    assert not any(line.strip() in ("股份", "制商", "业银", "行", "股份制商") for line in lines)
