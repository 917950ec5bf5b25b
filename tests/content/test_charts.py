"""Charts: the fast rendering path against matplotlib's own (side by side), and no text cut off.

The "before" of each chart is the old code path, kept as an option: matplotlib's ``savefig`` with
labels and titles placed by matplotlib on every draw (``charts.SETTLE_LAYOUT = False``). The
"after" is the default path. Both images and a side-by-side are saved under
``test-artifacts/charts/`` for a person to look at.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from analysis.content import charts

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "charts"

BANK_CHARTS = (
    "inclusive_vs_plan",
    "ytd_growth",
    "borrowers",
    "rate_against_peers",
    "npl_against_tolerance",
    "structure",
)
INSURER_CHARTS = ("insurance_premium", "insurance_yoy")


@pytest.fixture(scope="module")
def contexts(demo_csv_dir, tmp_path_factory):
    from analysis.content import institution

    os.environ.setdefault("ANALYSIS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    charts.setup()
    bank = institution.institution_context("B017", "2023-12", demo_csv_dir, ROOT / "params", sector="bank")
    insurer_id = next(i for i in bank.state.dataset.institutions["institution_id"] if i.startswith("I"))
    insurer = institution.institution_context(insurer_id, "2023-12", demo_csv_dir, ROOT / "params", sector="insurer")
    return {"bank": bank, "insurer": insurer}


def reference_png(build, ctx) -> bytes:
    """The old path: matplotlib places labels and titles itself; savefig draws twice."""
    charts.SETTLE_LAYOUT = False
    try:
        return charts.figure_png(build(ctx), method="savefig")
    finally:
        charts.SETTLE_LAYOUT = True


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def save_side_by_side(name: str, before: bytes, after: bytes) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / f"{name}-before.png").write_bytes(before)
    (ARTIFACTS / f"{name}-after.png").write_bytes(after)
    a, b = Image.open(io.BytesIO(before)).convert("RGB"), Image.open(io.BytesIO(after)).convert("RGB")
    gap = 12
    both = Image.new("RGB", (a.width + gap + b.width, max(a.height, b.height)), "#d0d0d0")
    both.paste(a, (0, 0))
    both.paste(b, (a.width + gap, 0))
    both.save(ARTIFACTS / f"{name}-side-by-side.png")


def clipped_texts(fig: Figure) -> list[str]:
    """Text that reaches outside the figure once drawn: tick labels, axis labels, titles, legends,
    annotations (each axes' tight box) and the suptitle. Empty when nothing is cut off."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    width, height = canvas.get_width_height()
    problems = []
    boxes = [(f"axes {i} ({ax.get_title()!r})", ax.get_tightbbox(renderer)) for i, ax in enumerate(fig.axes)]
    if fig._suptitle is not None and fig._suptitle.get_text():
        boxes.append(("suptitle", fig._suptitle.get_window_extent(renderer)))
    for label, box in boxes:
        if box is None:
            continue
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            problems.append(f"{label}: {box.bounds} outside 0..{width} x 0..{height}")
    return problems


@pytest.mark.parametrize("sector,name", [("bank", n) for n in BANK_CHARTS] + [("insurer", n) for n in INSURER_CHARTS])
def test_chart_matches_the_old_rendering(contexts, sector, name):
    build = getattr(charts, name)
    ctx = contexts[sector]
    before = reference_png(build, ctx)
    after = charts.figure_png(build(ctx))
    save_side_by_side(name, before, after)
    a, b = pixels(before), pixels(after)
    assert abs(a.shape[0] - b.shape[0]) <= 2 and abs(a.shape[1] - b.shape[1]) <= 2, (a.shape, b.shape)
    assert a.shape == b.shape
    differing = (np.abs(a - b).max(axis=2) > 24).mean()
    assert differing < 0.001, f"{name}: {differing:.2%} of pixels differ from the old rendering"


@pytest.mark.parametrize("sector,name", [("bank", n) for n in BANK_CHARTS] + [("insurer", n) for n in INSURER_CHARTS])
def test_no_text_cut_off(contexts, sector, name):
    fig = getattr(charts, name)(contexts[sector])
    assert clipped_texts(fig) == []


def test_clipping_check_catches_a_cut_off_label():
    """The check itself: an axes filling the whole figure puts its tick labels outside it."""
    fig = Figure(figsize=(4, 3), dpi=charts.DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.plot([0, 1], [1000, 2000])
    ax.set_title("标题")
    problems = clipped_texts(fig)
    assert problems and "axes 0" in problems[0]


def test_png_is_opaque_rgb_at_the_chart_size(contexts):
    """An 8 x 3.4 inch chart at 120 dpi is 960 x 408 px, written as RGB (no alpha for WeasyPrint to split)."""
    png = charts.figure_png(charts.inclusive_vs_plan(contexts["bank"]))
    image = Image.open(io.BytesIO(png))
    assert image.mode == "RGB"
    assert image.size == (960, 408)


def test_png_keeps_alpha_when_the_figure_is_transparent():
    fig = Figure(figsize=(2, 1), dpi=charts.DPI)
    fig.add_subplot().plot([0, 1], [0, 1])
    canvas = FigureCanvasAgg(fig)
    fig.patch.set_alpha(0.0)
    canvas.draw()
    image = Image.open(io.BytesIO(charts.encode_png(canvas.buffer_rgba(), canvas.get_width_height())))
    assert image.mode == "RGBA"


def test_title_still_moves_above_top_tick_labels():
    """_settle leaves a title to matplotlib when something can sit above the axes (ticks on top)."""
    fig = Figure(figsize=(4, 3), dpi=charts.DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.plot([1, 2, 3], [1, 4, 9])
    ax.xaxis.tick_top()
    ax.set_title("标题")
    charts._settle(fig)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    tick_top = max(t.get_window_extent(renderer).y1 for t in ax.get_xticklabels() if t.get_text())
    assert ax.title.get_window_extent(renderer).y0 >= tick_top


def test_settled_title_sits_where_matplotlib_puts_it():
    """With ticks at the bottom the settled title is at the same height as matplotlib's own."""

    def title_y(settle: bool) -> float:
        fig = Figure(figsize=(4, 3), dpi=charts.DPI, layout="constrained")
        ax = fig.add_subplot()
        ax.plot([1, 2, 3], [1, 4, 9])
        ax.set_title("标题", fontsize=10)
        if settle:
            charts._settle(fig)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return ax.title.get_window_extent(canvas.get_renderer()).y0

    assert title_y(True) == pytest.approx(title_y(False), abs=0.01)


def test_render_keeps_a_pyplot_canvas():
    from matplotlib.backend_bases import FigureCanvasBase

    class OwnCanvas(FigureCanvasBase):
        pass

    fig = Figure(figsize=(2, 1), dpi=72)
    canvas = OwnCanvas(fig)
    fig.add_subplot().plot([0, 1], [0, 1])
    charts.figure_png(fig)
    assert fig.canvas is canvas
    assert fig.dpi == 72  # restored after drawing at charts.DPI


def test_theme_is_what_seaborn_sets():
    """The written-out theme gives every matplotlib setting seaborn's ``set_theme`` gives (seaborn
    itself is the independent source), ``image.cmap`` excepted (see ``charts.SEABORN_THEME``)."""
    import matplotlib
    import seaborn as sns

    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        sns.set_theme(style="whitegrid", context="notebook", font="Noto Sans CJK SC", rc=charts.REPORT_RC)
        theirs = dict(matplotlib.rcParams)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        charts.apply_theme("Noto Sans CJK SC")
        ours = dict(matplotlib.rcParams)
    from matplotlib.colors import to_rgb

    for rc in (ours, theirs):  # the same colours, written as hex here and as RGB by seaborn
        rc["axes.prop_cycle"] = [to_rgb(c) for c in rc["axes.prop_cycle"].by_key()["color"]]
    differ = {k: (ours[k], theirs[k]) for k in theirs if k != "image.cmap" and ours[k] != theirs[k]}
    assert not differ


def test_setup_does_not_import_seaborn_scipy_or_statsmodels():
    import subprocess
    import sys

    code = (
        "import sys\nfrom analysis.content import charts\ncharts.setup()\n"
        "print(sorted(m for m in ('seaborn', 'scipy', 'statsmodels') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
