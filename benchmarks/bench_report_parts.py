"""Benchmark the parts of one bank's report: each chart (build, layout, draw, encode), the PDF
step, and the imports every process pays (run on demand; not a timed test).

    python benchmarks/bench_report_parts.py [--institution B017] [--period 2023-12] [--repeats 5]

Demo data are generated into a temporary folder. Times are medians over ``--repeats``, as CPU
seconds of this process (steady on a busy machine) and wall seconds. ``--reference`` times the
old path as well: matplotlib's ``savefig`` (two full draws) with unsettled labels and titles.
Imports are timed in fresh interpreters (``python -c``), with and without the rfc3987 guard.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BANK_CHARTS = (
    "inclusive_vs_plan",
    "ytd_growth",
    "borrowers",
    "rate_against_peers",
    "npl_against_tolerance",
    "structure",
)
#: the report cells besides the charts that go into the PDF (the model section is left out: it
#: fits every bank's models, which is not the PDF step's cost)
TEXT_CELLS = (
    "header",
    "verdict_panel",
    "indicator_table",
    "peer_table",
    "score_card",
    "findings_section",
    "data_appendix",
)


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float, object]:
    """Median CPU and wall seconds of ``fn()`` over ``repeats`` runs, and its last result."""
    cpu, wall, result = [], [], None
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        result = fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall), result


def chart_parts(ctx, name: str, repeats: int) -> dict[str, float]:
    """CPU seconds of build, layout, draw (layout already done) and PNG encode for one chart."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from analysis.content import charts

    build = getattr(charts, name)
    parts: dict[str, list[float]] = {"build": [], "layout": [], "draw": [], "encode": []}
    for _ in range(repeats):
        t0 = time.process_time()
        fig = build(ctx)
        t1 = time.process_time()
        fig.dpi = charts.DPI
        canvas = FigureCanvasAgg(fig)
        renderer = canvas.get_renderer()
        renderer._get_font_height_metrics = charts._height_metrics_function(renderer.dpi)
        fig.get_layout_engine().execute(fig)
        t2 = time.process_time()
        with fig._cm_set(layout_engine="none"):
            canvas.draw()
        t3 = time.process_time()
        charts.encode_png(canvas.buffer_rgba(), canvas.get_width_height())
        t4 = time.process_time()
        for key, value in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            parts[key].append(value)
    return {key: statistics.median(values) for key, values in parts.items()}


def report_html(ctx, method: str = "single-pass") -> str:
    """The bank report's HTML without a kernel: each cell's value formatted as IPython would."""
    import nbformat
    from IPython.core.formatters import DisplayFormatter
    from matplotlib.figure import Figure

    from analysis.content import charts, institution
    from analysis.outputs import html as render

    formatter = DisplayFormatter()
    formatter.formatters["image/png"].for_type(
        Figure, lambda fig: (charts.figure_png(fig, method=method), {"alt": charts.figure_title(fig)})
    )
    formatter.formatters["text/plain"].for_type(Figure, lambda fig, p, cycle: p.text(""))
    nb = nbformat.v4.new_notebook()
    values = [getattr(institution, name)(ctx) for name in TEXT_CELLS[:4]]
    values += [getattr(charts, name)(ctx) for name in BANK_CHARTS]
    values += [getattr(institution, name)(ctx) for name in TEXT_CELLS[4:]]
    for value in values:
        data, metadata = formatter.format(value)
        if "image/png" in data and isinstance(data["image/png"], bytes):
            import base64

            data["image/png"] = base64.b64encode(data["image/png"]).decode()
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
        nb.cells.append(cell)
    return render.notebook_to_html(nb, title=f"{ctx.institution_id} 评价报告")


def pdf_seconds(html: str, repeats: int) -> tuple[float, float, int]:
    from analysis.outputs.pdf import report_pdf

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "report.pdf"
        cpu, wall, _ = timed(
            lambda: report_pdf(
                html,
                target,
                title="小微企业金融服务监管评价报告",
                name="示例机构",
                period_label="2023年12月",
                office="示例监管分局",
                issued="—",
            ),
            repeats,
        )
        return cpu, wall, target.stat().st_size


IMPORTS = {
    "import nbformat": "import nbformat",
    "import papermill": "import papermill",
    "first notebook cell's imports": "from analysis.content import charts, institution, models",
}
#: blocks jsonschema's optional import of rfc3987_syntax (which builds a lark Earley parser at
#: import time); jsonschema then skips only the "iri"/"iri-reference" format checks
RFC3987_GUARD = "import sys; sys.modules.setdefault('rfc3987_syntax', None); "


def import_seconds(code: str, repeats: int) -> tuple[float, float]:
    """Median CPU (user + system, children) and wall seconds of ``python -c code``."""
    cpu, wall = [], []
    for _ in range(repeats):
        before = os.times()
        w0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=os.environ.copy())
        wall.append(time.perf_counter() - w0)
        after = os.times()
        cpu.append(after.children_user - before.children_user + after.children_system - before.children_system)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--institution", default="B017")
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--params", type=Path, default=Path("params"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reference", action="store_true", help="also time the old savefig path")
    parser.add_argument("--skip-imports", action="store_true")
    args = parser.parse_args()

    from analysis.content import charts, institution
    from analysis.demo.jurisdiction import write_demo_data

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ANALYSIS_CACHE_DIR"] = str(Path(tmp) / "cache")
        data = write_demo_data(Path(tmp) / "demo")
        ctx = institution.institution_context(args.institution, args.period, data, args.params, sector="bank")
        charts.setup()
        for name in BANK_CHARTS:  # warm: fonts loaded, caches filled, as after a report's first chart
            charts.figure_png(getattr(charts, name)(ctx))

        print(f"charts of {args.institution} {args.period}: median CPU seconds over {args.repeats} runs")
        header = f"{'chart':24} {'build':>6} {'layout':>6} {'draw':>6} {'encode':>6} {'total':>6} {'wall':>6}"
        if args.reference:
            header += f" {'old':>6} {'oldwall':>7}"
        print(header)
        totals = [0.0, 0.0, 0.0, 0.0]
        for name in BANK_CHARTS:
            build = getattr(charts, name)
            parts = chart_parts(ctx, name, args.repeats)
            cpu, wall, _ = timed(lambda build=build: charts.figure_png(build(ctx)), args.repeats)
            line = f"{name:24} " + " ".join(f"{v:6.3f}" for v in parts.values()) + f" {cpu:6.3f} {wall:6.3f}"
            totals[0] += cpu
            totals[1] += wall
            if args.reference:
                charts.SETTLE_LAYOUT = False
                try:
                    old_cpu, old_wall, _ = timed(
                        lambda build=build: charts.figure_png(build(ctx), method="savefig"), args.repeats
                    )
                finally:
                    charts.SETTLE_LAYOUT = True
                line += f" {old_cpu:6.3f} {old_wall:7.3f}"
                totals[2] += old_cpu
                totals[3] += old_wall
            print(line)
        line = f"{'all charts':24} {'':27} {totals[0]:6.3f} {totals[1]:6.3f}"
        if args.reference:
            line += f" {totals[2]:6.3f} {totals[3]:7.3f}"
        print(line)

        html = report_html(ctx)
        cpu, wall, size = pdf_seconds(html, args.repeats)
        print(
            f"PDF step (WeasyPrint, report without the model section): {cpu:.3f} s CPU, {wall:.3f} s wall, "
            f"{size / 1024:.0f} KiB, HTML {len(html) / 1024:.0f} KiB"
        )
        if args.reference:
            charts.SETTLE_LAYOUT = False
            try:
                old_html = report_html(ctx, method="savefig")
            finally:
                charts.SETTLE_LAYOUT = True
            cpu, wall, size = pdf_seconds(old_html, args.repeats)
            print(
                f"PDF step with the old charts (RGBA PNG):                 {cpu:.3f} s CPU, {wall:.3f} s wall, "
                f"{size / 1024:.0f} KiB, HTML {len(old_html) / 1024:.0f} KiB"
            )

    if not args.skip_imports:
        print("imports in a fresh interpreter (CPU s, wall s):")
        for label, code in IMPORTS.items():
            cpu, wall = import_seconds(code, args.repeats)
            guarded_cpu, guarded_wall = import_seconds(RFC3987_GUARD + code, args.repeats)
            print(
                f"  {label:32} {cpu:6.2f} {wall:6.2f}   with the rfc3987 guard: {guarded_cpu:6.2f} {guarded_wall:6.2f}"
            )


if __name__ == "__main__":
    main()
