"""Charts of the evaluation reports (seaborn's whitegrid theme, Chinese labels).

Each function returns a matplotlib ``Figure`` built without pyplot, so a notebook shows it once,
as the cell's value. Peers appear only as category aggregates (the interquartile band), and
only when the category has enough institutions.

Rendering is at its floor (``benchmarks/bench_report_parts.py``): each chart is drawn once
(:func:`figure_png`), axis labels without text and titles nothing can push are placed once
(:func:`_settle`), and the PNG is RGB at zlib level 1. The charts are finished figures: an axis
label added to one afterwards stays hidden (its position was settled as empty).

Why this module is long: one function per chart of the reports, with the theme and the
single-pass PNG path they share; the charts are read and changed together (same colours, sizes,
labels), and each is short.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any

import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib import font_manager
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, get_font
from matplotlib.ticker import FuncFormatter, MaxNLocator, ScalarFormatter

from analysis.content.fonts import use_cjk_font
from analysis.content.institution import MIN_PEERS, InstitutionContext
from analysis.core.periods import month_label

MAIN = "#1f4e9a"
SECOND = "#c0392b"
GREY = "#8a8f98"
BAND = "#c9d3e3"


#: Pixels per inch of the embedded PNGs. Not beyond what the reports need: a chart 8 in wide is
#: 960 px; the HTML column is ~900 CSS px (main.report 980 px less its padding) and the PDF's A4
#: text block is 178 mm (210 mm less 2 x 16 mm margins), so 960 px print at ~137 ppi. Lower would
#: look soft on paper and on high-density screens; the cost saved is in the drawing, not here.
DPI = 120

#: zlib level of the PNG encoder. The charts are flat colours and text, so level 1 gives files
#: within ~2 % of level 6 (Pillow's default) in a fraction of the time (benchmarks/bench_report_parts.py).
PNG_COMPRESS_LEVEL = 1


def figure_png(fig: Figure, *, method: str = "single-pass") -> bytes:
    """The figure as PNG bytes at :data:`DPI` on a white background (图表 PNG).

    ``single-pass`` (the default) draws the figure once on an Agg canvas, the layout engine running
    inside that draw, and encodes the pixels with Pillow. ``savefig`` is matplotlib's own path,
    kept as the reference: it draws the whole figure twice (a dry run to place the constrained
    layout, then the real draw) and encodes at Pillow's default level. Both give the same pixels
    (``tests/test_charts.py``).
    """
    if method == "savefig":
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        return buffer.getvalue()
    if method != "single-pass":
        raise ValueError(f"unknown method {method!r}; use 'single-pass' or 'savefig'")
    canvas, pixels = render_rgba(fig)
    return encode_png(pixels, canvas.get_width_height())


def render_rgba(fig: Figure) -> tuple[FigureCanvasAgg, memoryview]:
    """Lay out and draw ``fig`` once at :data:`DPI` on a white background; the canvas and its RGBA buffer.

    A figure already shown through pyplot keeps its own canvas (an Agg canvas is used for the
    draw and the original put back), so this is safe on any figure.
    """
    original_canvas = fig.canvas
    saved = fig.dpi, fig.patch.get_facecolor()
    fig.dpi = DPI
    fig.patch.set_facecolor("white")
    try:
        canvas = FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()
        # Text layout asks the font for its ascent, descent and line gap on every measurement
        # (matplotlib re-reads the font's tables each time); the answer is fixed per font and size.
        renderer._get_font_height_metrics = _height_metrics_function(renderer.dpi)  # type: ignore[attr-defined]
        canvas.draw()
        pixels = canvas.buffer_rgba()
    finally:
        fig.dpi, _ = saved
        fig.patch.set_facecolor(saved[1])
        if type(original_canvas) is not FigureCanvasBase:
            fig.set_canvas(original_canvas)
    return canvas, pixels


def encode_png(pixels: memoryview, size: tuple[int, int], compress_level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """PNG bytes of an RGBA buffer (Pillow), with matplotlib's ``Software`` tag as ``savefig`` writes it.

    A fully opaque image (every chart: white background) is written as RGB. It looks the same, is
    smaller, and spares the PDF step work: WeasyPrint splits an RGBA PNG into a colour image and
    a separate alpha mask (one more decode and two encodes per chart), an RGB PNG it only re-encodes.
    """
    import matplotlib
    from PIL import Image, PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Software", f"Matplotlib version{matplotlib.__version__}, https://matplotlib.org/")
    image = Image.frombuffer("RGBA", size, pixels, "raw", "RGBA", 0, 1)  # type: ignore[arg-type]
    if np.frombuffer(pixels, dtype=np.uint8)[3::4].min() == 255:
        image = image.convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, format="png", compress_level=compress_level, pnginfo=info, dpi=(DPI, DPI))
    return buffer.getvalue()


#: the font tables text layout reads for a font's height: (table, line gap, ascent, descent)
_HEIGHT_TABLES = (("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"), ("hhea", "lineGap", "ascent", "descent"))


@lru_cache(maxsize=1024)
def _height_metrics(prop: FontProperties, dpi: float, manager_id: int) -> tuple[float | None, float | None, float]:
    """Ascent, descent and line gap in pixels of the font ``prop`` selects: the same numbers
    matplotlib's ``Text._get_layout`` computes from the OS/2 or hhea table, computed once."""
    font: Any = get_font(font_manager.fontManager._find_fonts_by_props(prop))  # type: ignore[attr-defined]
    for table_name, gap_key, ascent_key, descent_key in _HEIGHT_TABLES:
        table = font.get_sfnt_table(table_name)
        if table is None:
            continue
        scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
        return table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale
    return None, None, 0.0  # matplotlib then measures "lp" instead


def _height_metrics_function(dpi: float):
    def height_metrics(prop: FontProperties) -> tuple[float | None, float | None, float]:
        # FontProperties is mutable and hashes by its current state: key the cache on a copy
        return _height_metrics(prop.copy(), float(dpi), id(font_manager.fontManager))

    return height_metrics


def figure_title(fig: Figure) -> str:
    """The chart's title (for the image's alt text): the suptitle, else the first axes title."""
    title = fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""
    if not title:
        title = next((ax.get_title() for ax in fig.axes if ax.get_title()), "图表")
    return title


#: seaborn's ``set_theme(style="whitegrid", context="notebook")`` written out as matplotlib
#: settings (its "deep" colour cycle included). Importing seaborn to apply them would also import
#: scipy and statsmodels (seaborn.regression): about 2 s per kernel and half of a bank notebook's
#: run in JupyterLab, for settings that never change. ``tests/test_charts.py`` checks this table
#: against seaborn itself, so a seaborn upgrade that changes its theme fails there. Left out:
#: ``image.cmap`` ("rocket" exists only once seaborn is imported; no report chart has a colour map).
SEABORN_THEME: dict[str, Any] = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.labelsize": 12.0,
    "axes.linewidth": 1.25,
    "axes.prop_cycle": cycler(
        color=[
            "#4c72b0",
            "#dd8452",
            "#55a868",
            "#c44e52",
            "#8172b3",
            "#937860",
            "#da8bc3",
            "#8c8c8c",
            "#ccb974",
            "#64b5cd",
        ]
    ),
    "axes.titlesize": 12.0,
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "font.size": 12.0,
    "grid.color": ".8",
    "grid.linewidth": 1.0,
    "legend.fontsize": 11.0,
    "legend.title_fontsize": 12.0,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.labelsize": 11.0,
    "xtick.major.size": 6.0,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0,
    "ytick.color": ".15",
    "ytick.labelsize": 11.0,
    "ytick.left": False,
    "ytick.major.size": 6.0,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4.0,
    "ytick.minor.width": 1.0,
}
#: the report's own settings on top of the theme
REPORT_RC: dict[str, Any] = {
    "axes.unicode_minus": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "axes.titleweight": "bold",
    "axes.titlesize": 12,
    "legend.frameon": False,
}


def apply_theme(family: str) -> None:
    """The seaborn whitegrid theme, the report's settings and ``family`` for all text (what
    ``seaborn.set_theme(style="whitegrid", context="notebook", font=family, rc=REPORT_RC)`` does)."""
    import matplotlib

    rc: dict[str, Any] = matplotlib.rcParams  # type: ignore[assignment]  # its keys are typed as literals
    rc.update(SEABORN_THEME)
    rc["font.family"] = [family]
    rc.update(REPORT_RC)


def setup() -> str:
    """Seaborn's whitegrid theme with a CJK font, and notebook display of figures as PNG (the charts
    are built without pyplot, so each shows exactly once, as its cell's value). Returns the font family."""
    family = use_cjk_font()
    apply_theme(family)
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with the notebooks' dependencies
        return family
    shell = get_ipython()
    if shell is not None:
        formatters = shell.display_formatter.formatters
        formatters["image/png"].for_type(Figure, lambda fig: (figure_png(fig), {"alt": figure_title(fig)}))
        formatters["text/plain"].for_type(Figure, lambda fig, p, cycle: p.text(""))
    return family


def _figure(ncols: int = 1, nrows: int = 1, height: float = 3.4, width: float = 8.0):
    fig = Figure(figsize=(width, height * nrows), dpi=DPI, facecolor="white", layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


#: False gives matplotlib's own label and title placement on every draw (the reference
#: ``tests/test_charts.py`` compares the settled charts against).
SETTLE_LAYOUT = True


def _settle(fig: Figure) -> Figure:
    """Fix what matplotlib would otherwise re-measure on every layout pass, where the answer is known.

    - An axis label with no text is hidden and its position frozen: matplotlib would otherwise
      measure every tick label of the axis (and of its siblings) several times per draw to place
      a label that shows nothing.
    - An axes title sits at the top of the axes (``y=1``) when nothing can be above the axes: x
      ticks at the bottom, and a y formatter that writes no offset or multiplier text (which
      matplotlib places top left and would push the title up). Then matplotlib's per-draw search
      for the title's height is skipped; the title lands where it would have landed anyway.
    """
    if not SETTLE_LAYOUT:
        return fig
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.label.get_text():
                axis.label.set_visible(False)
                axis.set_label_coords(*axis.label.get_position())
        formatter = ax.yaxis.get_major_formatter()
        no_offset = isinstance(formatter, FuncFormatter) or (
            isinstance(formatter, ScalarFormatter) and not formatter.get_useOffset()
        )
        if (
            ax.get_title()
            and no_offset
            and ax.xaxis.get_ticks_position() == "bottom"
            and ax.xaxis.get_label_position() == "bottom"
        ):
            ax.set_title(ax.get_title(), y=1.0, fontproperties=ax.title.get_fontproperties().copy())
    return fig


def _settled(chart: Callable[..., Figure]) -> Callable[..., Figure]:
    """A chart function whose figure goes through :func:`_settle` before it is returned."""

    @wraps(chart)
    def build(*args, **kwargs) -> Figure:
        return _settle(chart(*args, **kwargs))

    return build


def _plain_numbers(ax) -> None:
    """Tick labels as the numbers themselves: no "+9.5e1" offset above the axis (percentages)."""
    formatter = ax.yaxis.get_major_formatter()
    if isinstance(formatter, ScalarFormatter):
        formatter.set_useOffset(False)


def _year_rows(ctx: InstitutionContext, year: int | None = None) -> pd.DataFrame:
    year = year or ctx.year
    h = ctx.history
    rows = h[(h["year"] == year) & (h["period"] <= ctx.period)]
    return rows.sort_values("period")


def _months_axis(ax, with_base: bool = True) -> None:
    ticks = list(range(0, 13)) if with_base else list(range(1, 13))
    labels = (["年初"] if with_base else []) + [f"{m}月" for m in range(1, 13)]
    ax.set_xticks(ticks, labels, fontsize=8)
    ax.set_xlim(ticks[0] - 0.3, 12.3)


def _no_data(ax, text: str = "无可用数据") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=GREY)
    ax.set_xticks([])
    ax.set_yticks([])


def _thousands(ax) -> None:
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


@_settled
def inclusive_vs_plan(ctx: InstitutionContext) -> Figure:
    """Inclusive balance month by month against the plan's straight path through the year."""
    fig, axes = _figure()
    ax = axes[0, 0]
    rows = _year_rows(ctx)
    base = ctx.row["inclusive_balance_base"]
    if rows.empty or np.isnan(base):
        _no_data(ax, "缺少年初余额，无法绘制")
        return fig
    months = [0, *rows["month"].tolist()]
    ax.plot(
        months,
        [base, *rows["inclusive_balance_assessed"].tolist()],
        marker="o",
        color=MAIN,
        lw=2,
        label="普惠型小微企业贷款余额",
    )
    plan = ctx.row["planned_increase"]
    if not np.isnan(plan):
        ax.plot([0, 12], [base, base + plan], ls="--", color=SECOND, lw=1.5, label="计划进度线（按时序均匀完成）")
        ax.scatter([12], [base + plan], color=SECOND, zorder=3)
        ax.annotate(
            f"全年目标 {base + plan:,.0f}",
            (12, base + plan),
            textcoords="offset points",
            xytext=(-10, 8),
            ha="right",
            fontsize=8,
            color=SECOND,
        )
    last_year = ctx.history[(ctx.history["year"] == ctx.year - 1)].sort_values("period")
    if not last_year.empty:
        ax.plot(
            last_year["month"], last_year["inclusive_balance_assessed"], color=GREY, lw=1, alpha=0.7, label="上年同期"
        )
    _months_axis(ax)
    _thousands(ax)
    ax.set_ylabel("万元")
    ax.set_title(f"{ctx.year}年普惠型小微企业贷款余额与信贷计划进度")
    ax.legend(loc="upper left", fontsize=8)
    return fig


@_settled
def ytd_growth(ctx: InstitutionContext) -> Figure:
    """Year-to-date growth of inclusive loans against all loans (两增 growth leg)."""
    fig, axes = _figure()
    ax = axes[0, 0]
    rows = _year_rows(ctx)
    if rows["inclusive_ytd_growth_pct"].notna().sum() == 0:
        _no_data(ax, "缺少年初余额，无法计算较年初增速")
        return fig
    months = [0, *rows["month"]]
    ax.plot(months, [0, *rows["inclusive_ytd_growth_pct"]], marker="o", color=MAIN, lw=2, label="普惠型小微企业贷款")
    ax.plot(months, [0, *rows["total_loans_ytd_growth_pct"]], marker="s", color=GREY, lw=1.5, label="各项贷款")
    ax.fill_between(
        months,
        [0, *rows["inclusive_ytd_growth_pct"]],
        [0, *rows["total_loans_ytd_growth_pct"]],
        where=[True, *(rows["growth_margin_pp"] >= 0)],
        color="#2e8b57",
        alpha=0.12,
        interpolate=True,
    )
    ax.fill_between(
        months,
        [0, *rows["inclusive_ytd_growth_pct"]],
        [0, *rows["total_loans_ytd_growth_pct"]],
        where=[False, *(rows["growth_margin_pp"] < 0)],
        color=SECOND,
        alpha=0.15,
        interpolate=True,
    )
    ax.axhline(0, color="black", lw=0.6)
    _months_axis(ax)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title("较年初增速：普惠型小微企业贷款与各项贷款")
    ax.legend(loc="upper left", fontsize=8)
    return fig


@_settled
def borrowers(ctx: InstitutionContext) -> Figure:
    """Borrowers with an outstanding balance against the start of the year (两增 borrowers leg)."""
    fig, axes = _figure()
    ax = axes[0, 0]
    rows = _year_rows(ctx)
    base = ctx.row["inclusive_borrowers_base"]
    if rows.empty or np.isnan(base):
        _no_data(ax, "缺少年初户数")
        return fig
    colors = [MAIN if v >= base else SECOND for v in rows["inclusive_borrowers"]]
    ax.bar(rows["month"], rows["inclusive_borrowers"], color=colors, width=0.6, label="有贷款余额户数")
    ax.axhline(base, color=GREY, ls="--", lw=1.2, label=f"年初水平 {base:,.0f} 户")
    low = min(rows["inclusive_borrowers"].min(), base)
    high = max(rows["inclusive_borrowers"].max(), base)
    pad = max((high - low) * 0.3, high * 0.01, 1)
    ax.set_ylim(max(low - pad, 0), high + pad)
    _months_axis(ax, with_base=False)
    _thousands(ax)
    ax.yaxis.set_major_locator(MaxNLocator(6, integer=True))
    ax.set_ylabel("户")
    ax.set_title("普惠型小微企业贷款有贷款余额户数")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def category_band(ctx: InstitutionContext, column: str) -> pd.DataFrame:
    """Per period: the category's 25th, 50th and 75th percentile of ``column`` and its count."""
    ind = ctx.state.indicators
    peers = ind[ind["category"] == ctx.row["category"]]
    grouped = peers.groupby("period")[column]
    band = grouped.quantile([0.25, 0.5, 0.75]).unstack()
    band["count"] = grouped.count()
    return band


@_settled
def rate_against_peers(ctx: InstitutionContext) -> Figure:
    """Monthly new-loan rate against the category's interquartile band."""
    fig, axes = _figure(height=3.6)
    ax = axes[0, 0]
    h = ctx.history[ctx.history["period"] <= ctx.period].sort_values("period")
    if h["month_new_loan_rate_pct"].notna().sum() == 0:
        _no_data(ax)
        return fig
    band = category_band(ctx, "month_new_loan_rate_pct")
    band = band[(band.index <= ctx.period) & (band["count"] >= MIN_PEERS)]
    if not band.empty:
        ax.fill_between(
            band.index,
            band[0.25],
            band[0.75],
            color=BAND,
            alpha=0.8,
            label=f"同类机构利率四分位区间（{ctx.row['category']}）",
        )
        ax.plot(band.index, band[0.5], color=GREY, lw=1, ls="--", label="同类机构中位数")
    ax.plot(h["period"], h["month_new_loan_rate_pct"], color=MAIN, lw=2, marker="o", ms=3, label="本机构当月新发放利率")
    for year in sorted(h["year"].unique()):
        rate = h.loc[h["year"] == year, "ytd_new_loan_rate_pct"].dropna()
        if not rate.empty:
            start, end = pd.Timestamp(f"{year}-01-01"), h.loc[h["year"] == year, "period"].max()
            ax.hlines(rate.iloc[-1], start, end, color=SECOND, lw=1.2, alpha=0.8)
    ax.plot([], [], color=SECOND, lw=1.2, label="当年累放加权平均利率")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
    ax.set_title("新发放普惠型小微企业贷款利率与同类机构比较")
    ax.legend(loc="upper right", fontsize=7, ncols=2)
    return fig


@_settled
def npl_against_tolerance(ctx: InstitutionContext) -> Figure:
    """Inclusive NPL ratio against the all-loan ratio plus the tolerance."""
    fig, axes = _figure()
    ax = axes[0, 0]
    h = ctx.history[ctx.history["period"] <= ctx.period].sort_values("period").tail(24)
    if h["inclusive_npl_ratio_pct"].notna().sum() == 0:
        _no_data(ax)
        return fig
    ax.plot(
        h["period"], h["inclusive_npl_ratio_pct"], color=MAIN, lw=2, marker="o", ms=3, label="普惠型小微企业贷款不良率"
    )
    ax.plot(h["period"], h["total_npl_ratio_pct"], color=GREY, lw=1.5, label="各项贷款不良率")
    tolerance = ctx.row["npl_tolerance_pp"]
    if not np.isnan(tolerance):
        ax.plot(
            h["period"],
            h["total_npl_ratio_pct"] + tolerance,
            color=SECOND,
            ls="--",
            lw=1.2,
            label=f"容忍度上限（各项贷款不良率 + {tolerance:g} 个百分点）",
        )
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
    ax.set_title("资产质量：普惠型小微企业贷款不良率与容忍度")
    ax.legend(loc="upper left", fontsize=8)
    return fig


def _this_and_last_year(ax, ctx: InstitutionContext, column: str) -> bool:
    """Draw ``column`` by month for the report year (to the period) over last year; False if no data."""
    drawn = False
    for year, color, label in ((ctx.year - 1, GREY, f"{ctx.year - 1}年"), (ctx.year, MAIN, f"{ctx.year}年")):
        rows = ctx.history[ctx.history["year"] == year]
        if year == ctx.year:
            rows = rows[rows["period"] <= ctx.period]
        if rows[column].notna().any():
            current = year == ctx.year
            ax.plot(
                rows["month"],
                rows[column],
                color=color,
                lw=2 if current else 1.2,
                marker="o" if current else None,
                ms=3,
                label=label,
            )
            drawn = True
    return drawn


@_settled
def structure(ctx: InstitutionContext) -> Figure:
    """Credit-loan share, first-loan borrowers, renewal share, individual-business lending."""
    fig, axes = _figure(ncols=2, nrows=2, height=2.6, width=8.5)
    panels = [
        ("credit_loan_share_pct", "信用贷款占普惠贷款比重（%）"),
        ("first_loan_ytd_borrowers", "当年首贷户数（户，累计）"),
        ("renewal_share_pct", "续贷占当年累放比重（%）"),
        ("indiv_business_balance", "个体工商户贷款余额（万元）"),
    ]
    for ax, (column, title) in zip(axes.flat, panels, strict=True):
        if not _this_and_last_year(ax, ctx, column):
            _no_data(ax)
        else:
            ax.set_xticks(range(1, 13), [f"{m}" for m in range(1, 13)], fontsize=7)
            ax.tick_params(axis="y", labelsize=7)
            if column in ("first_loan_ytd_borrowers", "indiv_business_balance"):
                _thousands(ax)
            else:
                _plain_numbers(ax)
            ax.legend(fontsize=7, loc="best")
        ax.set_title(title, fontsize=10)
    fig.suptitle("结构指标：信用贷款、首贷、续贷、个体工商户（横轴为月份）", fontsize=11, fontweight="bold")
    return fig


@_settled
def insurance_premium(ctx: InstitutionContext) -> Figure:
    """Small-micro premium income, year to date, against last year."""
    fig, axes = _figure(ncols=2, height=3.2, width=8.5)
    for ax, (column, title, unit) in zip(
        axes.flat,
        (
            ("premium_ytd", "小微企业保险保费收入（当年累计）", "万元"),
            ("sum_insured_ytd", "小微企业保险保额（当年累计）", "万元"),
        ),
        strict=True,
    ):
        _this_and_last_year(ax, ctx, column)
        ax.set_xticks(range(1, 13), [f"{m}月" for m in range(1, 13)], fontsize=7)
        _thousands(ax)
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=8)
    return fig


@_settled
def insurance_yoy(ctx: InstitutionContext) -> Figure:
    """Year-on-year change of premium, policies, sums insured and claims."""
    fig, axes = _figure(height=3.0)
    ax = axes[0, 0]
    items = [
        ("premium_yoy_pct", "保费收入"),
        ("policies_yoy_pct", "保单件数"),
        ("sum_insured_yoy_pct", "保险金额"),
        ("claims_paid_yoy_pct", "赔款支出"),
    ]
    values = [ctx.row[c] for c, _ in items]
    if all(np.isnan(v) for v in values):
        _no_data(ax, "缺少上年同期数据")
        return fig
    colors = [MAIN if (not np.isnan(v) and v >= 0) else SECOND for v in values]
    ax.bar([label for _, label in items], values, color=colors, width=0.55)
    for i, v in enumerate(values):
        if not np.isnan(v):
            ax.annotate(
                f"{v:+.1f}%",
                (i, v),
                textcoords="offset points",
                xytext=(0, 4 if v >= 0 else -12),
                ha="center",
                fontsize=9,
            )
    ax.axhline(0, color="black", lw=0.6)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}%"))
    ax.set_title(f"{month_label(ctx.period)}末小微企业保险业务同比变化")
    return fig
