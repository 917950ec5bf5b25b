"""Sub-commands for real data in: ``analysis import-s71``, ``analysis loans``, ``analysis demo-exports``.

Kept apart from :mod:`analysis.cli` so that wiring them in is one call: ``add_parsers(sub)``.
Errors (DataValidationError, ParamsError) propagate to :func:`analysis.cli.main`, which prints them
and exits 1 as for every other command.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def _cmd_import_s71(args: argparse.Namespace) -> int:
    from analysis.inputs.s71 import import_s71

    result = import_s71(
        args.sources,
        args.tidy,
        args.out,
        unit=args.unit,
        params_dir=args.params,
        validate=not args.no_validate,
        fmt=args.format,
    )
    print(result.summary())
    print(f"来源记录 / provenance: {Path(str(result.out_dir)) / 's71-provenance.csv'}")
    if not result.checks.empty:  # 表内校验: findings, not refusals; the reports show each bank its own
        from analysis.inputs.s71 import CHECKS_FILE
        from analysis.inputs.s71.check import format_check_findings

        print(format_check_findings(result.checks, Path(str(result.out_dir)) / CHECKS_FILE))
    return 0


def _cmd_loans(args: argparse.Namespace) -> int:
    from analysis.inputs.loans import (
        CITY_TABLES,
        analyse_loans,
        bank_folder,
        load_loan_rules,
        load_reported_cells,
        print_progress,
        write_bank_workbooks,
        write_findings_xlsx,
    )

    rules = load_loan_rules(Path(args.params) / "loans.yaml")
    findings = analyse_loans(
        args.loans,
        load_reported_cells(args.data),
        rules,
        threads=args.threads,
        memory_limit=args.memory_limit,
        data_dir=args.data,
        params_dir=args.params,
        progress=print_progress,
    )
    # the city workbook: every bank's summary, reconciliation, renewal share and coverage; the
    # detail of each check is in the bank's own workbook beside it (<out>-机构/<id>.xlsx, the file
    # sent to that bank), written in parallel
    started = time.perf_counter()
    out = write_findings_xlsx(findings, args.out, period=args.period, tables=CITY_TABLES)
    banks = write_bank_workbooks(findings, bank_folder(args.out), period=args.period, workers=args.workers)
    seconds = time.perf_counter() - started
    print_progress("findings written", seconds, sum(findings.timings.values()) + seconds)
    rec = findings.reconciliation
    print(
        f"借据核查完成 / loan checks done: {rec['institution_id'].nunique()} 家机构, "
        f"{int((~rec['within_tolerance']).sum())} 项S71与借据不一致 / cells differing; "
        + "; ".join(f"{name} {len(frame)}" for name, frame in findings.checks.items())
        + f" → {out}; 分机构明细 / each bank's findings: {len(banks)} 个文件 / files in {bank_folder(args.out)}"
    )
    return 0


def _cmd_demo_exports(args: argparse.Namespace) -> int:
    from analysis.demo.s71 import write_demo_exports

    out = write_demo_exports(args.out, seed=args.seed, params_dir=args.params, loans=not args.no_loans)
    from analysis.demo.financing import write_demo_financing

    # the financing coordination mechanism's lists (推荐清单, 银行反馈): tidy tables the import copies
    write_demo_financing(Path(out) / "tidy", seed=args.seed)
    print(f"示例报表已生成 / demo exports written: {out}/s71, {out}/tidy" + ("" if args.no_loans else f", {out}/loans"))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add ``import-s71``, ``loans`` and ``demo-exports`` to the ``analysis`` command."""
    p = sub.add_parser("import-s71", help="read S71 returns (long format or form layout) into a data folder")
    p.add_argument("sources", type=Path, nargs="+", help="S71 files or folders")
    p.add_argument(
        "--tidy",
        type=Path,
        required=True,
        help="folder with 机构名录, 信贷计划, 转贷款 and 月度监测 (figures S71 does not carry)",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="data folder to write (monthly.xlsx, provenance …): new, empty, or an earlier import's; only the "
        "files an import wrote are replaced (kept in <out>/.s71-import-previous), nothing else is touched",
    )
    p.add_argument("--unit", choices=("元", "万元", "亿元"), help="unit of the returns' amounts (else params/s71)")
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("--no-validate", action="store_true", help="skip the data-contract validation of the result")
    p.add_argument("--params", type=Path, default=Path("params"))
    p.set_defaults(func=_cmd_import_s71)

    p = sub.add_parser("loans", help="recompute S71 from loan-level tables, reconcile, run the supervisory checks")
    p.add_argument(
        "loans", type=Path, help="folder of EAST 5.0 tables (IE_005_504 …, or receipts/customers/credit_lines)"
    )
    p.add_argument("--data", type=Path, default=Path("data/demo"), help="data folder written by import-s71")
    p.add_argument("--period", help="only this month in the workbook (e.g. 2023-12)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("reports/loans.xlsx"),
        help="the city workbook; each bank's own findings go to <out>-机构/<id>.xlsx beside it",
    )
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--workers", type=int, default=None, help="processes writing the banks' workbooks (default: cores)")
    p.add_argument("--memory-limit", default=None, help="DuckDB memory limit, e.g. 3GB")
    p.add_argument("--params", type=Path, default=Path("params"))
    p.set_defaults(func=_cmd_loans)

    p = sub.add_parser("demo-exports", help="write the demo jurisdiction as S71 exports, tidy rest and loan tables")
    p.add_argument("--out", type=Path, default=Path("data/demo-raw"))
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--no-loans", action="store_true")
    p.add_argument("--params", type=Path, default=Path("params"))
    p.set_defaults(func=_cmd_demo_exports)


__all__ = ["add_parsers"]
