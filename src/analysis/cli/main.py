"""Command line: ``analysis validate | demo-data | demo-exports | import-s71 | loans | indicators | run |
docs | financing | publish | serve | contract-doc``.

A thin layer over the package's functions. Exit codes: 0 success, 1 bad input, a failed report
or a reports folder that cannot be written (the message in Chinese and English, no traceback),
2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.core.errors import AnalysisError, ReportInputError

# (one BLAS thread per process is set by ``import analysis`` itself: see analysis/__init__.py)

#: the errors an analyst can act on, printed in Chinese and English without a traceback (exit 1):
#: every subclass of AnalysisError — bad data or params, a period that does not exist, a locked or
#: unwritable reports folder, a missing CJK font.
USER_ERRORS: tuple[type[BaseException], ...] = (AnalysisError,)


def _cmd_validate(args: argparse.Namespace) -> int:
    from analysis.core.policy import load_policies
    from analysis.inputs.validation import load_dataset
    from analysis.state import load_scoring_inputs

    load_policies(args.params)  # a broken params file is reported before the data
    ds = load_dataset(args.path, args.params)
    load_scoring_inputs(args.path, args.params, ds)  # the qualitative scoring workbook, if present
    n_inst = len(ds.institutions)
    periods = ds.monthly["period"]
    print(
        f"数据校验通过 / validation passed: {args.path} — {n_inst} 家机构 institutions, "
        f"{len(ds.monthly)} 行月度数据 monthly rows, {periods.min():%Y-%m} … {periods.max():%Y-%m}"
    )
    if ds.financing is not None:
        pairs = ds.financing.pairs
        print(
            f"融资协调 / financing coordination: {len(pairs)} 户次推送 pairs pushed "
            f"({pairs['list_date'].min():%Y-%m-%d} … {pairs['list_date'].max():%Y-%m-%d}), "
            f"{int(pairs['has_feedback'].sum())} 有反馈 with feedback, {len(ds.financing.excluded)} 行未计入 rows left out"
        )
    if ds.warnings:
        from analysis.core.errors import format_warnings

        print(format_warnings(ds.warnings))
    return 0


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from analysis.demo.jurisdiction import write_demo_data

    out = write_demo_data(args.out, seed=args.seed, fmt=args.format)
    print(f"示例数据已生成 / demo data written: {out}")
    return 0


def _cmd_indicators(args: argparse.Namespace) -> int:
    from analysis.outputs.excel import export_indicators

    out = export_indicators(args.data, args.period, args.out, params_dir=args.params)
    print(f"指标已导出 / indicators written: {out}")
    return 0


def _formats(args: argparse.Namespace) -> tuple[str, ...]:
    from analysis.outputs.registry import DEFAULT_FORMATS, parse_formats

    formats = parse_formats(args.formats) if args.formats else DEFAULT_FORMATS
    dropped = {name for name, off in (("html", args.no_html), ("pdf", args.no_pdf)) if off}
    formats = tuple(f for f in formats if f not in dropped)
    if not formats:
        raise ReportInputError("未选择任何输出格式 / no output format left to write")
    return formats


def _cmd_run(args: argparse.Namespace) -> int:
    from analysis.batch import (
        BatchRequest,
        format_summary,
        run,
        write_indicator_workbook,
    )

    def after(state, summary):
        write_indicator_workbook(state, args.period, summary.out_dir)
        _financing_workbooks(state, args.period, summary.out_dir)  # when the data have a 推荐清单
        if not args.no_publish:
            from analysis.outputs.site import build_site

            build_site(summary.out_dir.parent, summary.period, state.policy(int(summary.period[:4])).issuing_office)

    request = BatchRequest(
        args.period,
        data_dir=args.data,
        params_dir=args.params,
        reports_dir=args.reports,
        institutions=args.institution or None,
        division=args.division,
        workers=args.workers,
        force=args.force,
        progress=not args.quiet,
        formats=_formats(args),
        timeout=args.timeout or None,
        warm_kernels=not args.fresh_kernels,
        lock_wait=args.wait,
        cluster=args.cluster,
        allow_slow_pdf=args.allow_slow_pdf,
        after_jobs=after,
    )
    summary = run(request)
    print(format_summary(summary))
    if not args.no_publish:
        print(f"站点 / site: {summary.out_dir / 'index.html'}")
    return 1 if summary.failed else 0


def _financing_workbooks(state, period: str, out_dir: Path) -> list[Path]:
    """The county workbooks of the financing coordination mechanism (融资协调), when the data have a
    推荐清单; [] otherwise."""
    figures = state.financing(period)
    if figures is None:
        return []
    from analysis.outputs.financing_workbooks import write_county_workbooks

    return write_county_workbooks(figures, out_dir, state.dataset.institutions)


def _cmd_financing(args: argparse.Namespace) -> int:
    from analysis.core.periods import parse_period
    from analysis.outputs.financing_workbooks import FOLDER
    from analysis.state import load_state

    period = f"{parse_period(args.period):%Y-%m}"
    state = load_state(args.data, args.params, loans=False)  # refused data or params raise: nothing written
    if not state.has_financing():
        print(f"数据中无推荐清单，未生成融资协调工作簿 / no 推荐清单 in {args.data}: no workbook written")
        return 0
    written = _financing_workbooks(state, period, Path(args.reports) / period)
    figures = state.financing(period)
    city = figures.row("city", "全市", "ytd")
    overdue = int(city["overdue"]) if city is not None else 0
    print(
        f"融资协调县区工作簿 / county workbooks: {len(written)} 个 → {Path(args.reports) / period / FOLDER}"
        f"（超期未办结 / overdue {overdue} 户次，未计入统计 / rows left out {len(figures.excluded)}）"
    )
    return 0


def _cmd_docs(args: argparse.Namespace) -> int:
    from datetime import date

    from analysis.batch import run_documents

    def day(text: str | None) -> date | None:
        try:
            return date.fromisoformat(text) if text else None
        except ValueError:
            raise ReportInputError(f"日期格式应为 YYYY-MM-DD / a date is YYYY-MM-DD: {text!r}") from None

    written, out_dir, recorded = run_documents(
        args.period, args.data, args.params, args.reports, issued=day(args.issued), reply_by=day(args.reply_by)
    )
    letters = written.letters
    print(
        f"通报 / bulletin: {out_dir / written.files['overview']}\n"
        f"提示函 / letters: {len(letters)} 份 → {out_dir / '提示函'}" + (f" ({', '.join(letters)})" if letters else "")
    )
    for note in written.notes:
        print(f"  · {note}")
    for key, error in written.failed.items():
        print(f"  ✗ {key}: {error}", file=sys.stderr)
    if recorded and not args.no_publish:
        from analysis.core.policy import load_policies
        from analysis.outputs.site import build_site

        policies = load_policies(args.params)
        year = int(out_dir.name[:4])
        build_site(out_dir.parent, out_dir.name, policies[year].issuing_office if year in policies else "")
        print(f"站点 / site: {out_dir / 'index.html'}")
    elif not recorded:
        print(
            "本期报告尚未按当前数据生成，站点暂不链接这些文书 / the site links them once `analysis run` has run on this data"
        )
    return 1 if written.failed else 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from analysis.core.periods import parse_period
    from analysis.core.policy import load_policies
    from analysis.outputs.site import build_site

    period = f"{parse_period(args.period):%Y-%m}"
    policies = load_policies(args.params) if args.params.exists() else {}
    office = policies[int(period[:4])].issuing_office if int(period[:4]) in policies else ""
    try:
        written = build_site(args.reports, period, office)
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"站点已发布 / site built: {args.reports / period / 'index.html'} ({len(written)} files)")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from analysis.outputs.site import serve

    serve(args.reports, args.port)
    return 0


def _cmd_contract_doc(args: argparse.Namespace) -> int:
    from analysis.core.contract import render_markdown
    from analysis.core.indicator_defs import load_indicator_params

    text = render_markdown(load_indicator_params(args.params).contract_columns())
    target = Path(args.out)
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{target} is out of date: run `analysis contract-doc`", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"written {target}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="analysis",
        description="南阳小微企业金融服务监测评价 / Nanyang small-micro "
        "enterprise financial services evaluation workbook",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    from analysis.cli.realdata import add_parsers

    add_parsers(sub)  # import-s71, loans, demo-exports

    p = sub.add_parser("validate", help="check a data folder or workbook against the data contract")
    p.add_argument("path", type=Path, help="data folder, or one .xlsx workbook with a sheet per table")
    p.add_argument("--params", type=Path, default=Path("params"), help="folder of policy-YYYY.yaml files")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("demo-data", help="write the fictional demo jurisdiction")
    p.add_argument("--out", type=Path, default=Path("data/demo"))
    p.add_argument("--format", choices=["xlsx", "csv", "parquet"], default="xlsx")
    p.add_argument("--seed", type=int, default=None)
    p.set_defaults(func=_cmd_demo_data)

    p = sub.add_parser("indicators", help="compute every indicator for a period and write an Excel workbook")
    p.add_argument("--data", type=Path, default=Path("data/demo"))
    p.add_argument("--period", required=True, help="month-end, e.g. 2023-12")
    p.add_argument("--params", type=Path, default=Path("params"))
    p.add_argument("--out", type=Path, default=None, help="default reports/<period>/indicators.xlsx")
    p.set_defaults(func=_cmd_indicators)

    p = sub.add_parser("run", help="run every report of a period (institutions + city overview) and export HTML")
    p.add_argument("--period", required=True, help="month-end, e.g. 2023-12 or 2023-06")
    p.add_argument("--institution", action="append", metavar="ID", help="only these institutions (repeatable)")
    p.add_argument("--division", help="only institutions of this supervising division (监管科室)")
    p.add_argument("--workers", type=int, default=None, help="parallel notebooks (default: number of cores)")
    p.add_argument("--force", action="store_true", help="re-run reports that are up to date")
    p.add_argument("--data", type=Path, default=Path("data/demo"))
    p.add_argument("--params", type=Path, default=Path("params"))
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--formats",
        help="output formats, comma-separated (html,pdf,json,docx; default html,pdf; docx: 通报 and 提示函)",
    )
    p.add_argument("--no-pdf", action="store_true", help="leave out PDF (same as --formats html)")
    p.add_argument("--no-html", action="store_true", help="leave out HTML (same as --formats pdf)")
    p.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="seconds one report may take before its kernel is stopped (0: no limit; default 900)",
    )
    p.add_argument(
        "--wait",
        type=float,
        default=0.0,
        help="seconds to wait if another run of the same period is going (default: refuse at once)",
    )
    p.add_argument(
        "--cluster", metavar="ADDRESS", help="run on Dask distributed: a scheduler address (tcp://host:8786) or 'local'"
    )
    p.add_argument(
        "--fresh-kernels",
        action="store_true",
        help="start a new kernel for every report instead of reusing one per worker (slower)",
    )
    p.add_argument("--no-publish", action="store_true", help="do not rebuild the site index")
    p.add_argument(
        "--allow-slow-pdf",
        action="store_true",
        help="make PDFs even without HarfBuzz-subset (libharfbuzz-subset0): about ten times slower, one warning",
    )
    p.set_defaults(func=_cmd_run)

    p = sub.add_parser("docs", help="write the period's 通报 and 监管提示函 (Word drafts from params/templates/)")
    p.add_argument("--period", required=True, help="month-end, e.g. 2023-06")
    p.add_argument("--data", type=Path, default=Path("data/demo"))
    p.add_argument("--params", type=Path, default=Path("params"))
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument(
        "--issued",
        metavar="YYYY-MM-DD",
        help="date of issue (成文日期; default: from the period by issue_date of params/templates/documents.yaml)",
    )
    p.add_argument(
        "--reply-by", metavar="YYYY-MM-DD", help="reply deadline (default: issue date + reply_days of documents.yaml)"
    )
    p.add_argument("--no-publish", action="store_true", help="do not rebuild the site index")
    p.set_defaults(func=_cmd_docs)

    p = sub.add_parser(
        "financing",
        help="write the county workbooks of the financing coordination mechanism (融资协调: reports/<period>/融资协调/)",
    )
    p.add_argument("--period", required=True, help="month-end, e.g. 2025-06")
    p.add_argument("--data", type=Path, default=Path("data/demo"))
    p.add_argument("--params", type=Path, default=Path("params"))
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.set_defaults(func=_cmd_financing)

    p = sub.add_parser("publish", help="build the report site index of a period (reports/<period>/index.html)")
    p.add_argument("--period", required=True)
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--params", type=Path, default=Path("params"))
    p.set_defaults(func=_cmd_publish)

    p = sub.add_parser("serve", help="preview the report site on localhost")
    p.add_argument("--reports", type=Path, default=Path("reports"))
    p.add_argument("--port", type=int, default=8000)
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("contract-doc", help="write docs/data-contract.md from the contract definitions")
    p.add_argument("--out", default="docs/data-contract.md")
    p.add_argument("--check", action="store_true", help="exit 1 if the document is out of date")
    p.add_argument("--params", type=Path, default=Path("params"), help="the columns declared in indicators.yaml")
    p.set_defaults(func=_cmd_contract_doc)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "seed", "absent") is None:
        from analysis.demo.jurisdiction import SEED

        args.seed = SEED
    try:
        return args.func(args)
    except USER_ERRORS as exc:  # bad data, params or request; a locked or unwritable period; a missing font
        print(exc, file=sys.stderr)
        return getattr(exc, "exit_code", 1)
    except OSError as exc:  # a full disk, a read-only folder: say which file, no traceback
        where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"文件读写失败 / cannot read or write a file:{where} — {exc.strerror or exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
