"""Benchmark: the project's one Excel writer (analysis.core.workbook) on loan-findings-shaped sheets.

Writes a dict of sheet name → DataFrame with :func:`analysis.core.workbook.write_workbook` and prints
rows, cells, seconds and cells/s. The sheets are a pickle given as the argument (a findings run's
``findings_sheets``, e.g. the lead's 10⁶-receipt run), or by default generated here in the shape of
such a run: 7 sheets, 49,843 detail rows, the findings' dtypes (string ids and texts, datetime64
data dates, float amounts, int counts, bools, NaN and NaT holes). ``--scale`` multiplies the
generated rows (``--scale 10`` is about a province's 475,000 rows).

Options:
  --baseline-commit REV  also the writer of commit REV (its src/analysis/core/workbook.py), same sheets
  --indicators DATA      also indicators.xlsx of the data folder DATA (e.g. data/demo), period --period
  --repeat N             best of N runs (default 1)

    python benchmarks/bench_workbook.py [SHEETS.pkl] [--scale 1] [--baseline-commit main]
        [--indicators data/demo --period 2023-12]
"""

from __future__ import annotations

import argparse
import importlib.util
import pickle
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's package, whatever the venv was installed from

CLAUSE = "第（十六）条：强化对成立时间或受让企业股权时间较短的借款主体资质审核"
#: rows of each sheet in the 10⁶-receipt findings run (sheet name → rows)
SHAPE = {
    "借据核查汇总": 500,
    "S71与借据核对": 1200,
    "逾期未入不良": 1980,
    "多头过度授信": 34_700,
    "新设主体贷款": 10_663,
    "无还本续贷占比": 100,
    "核查覆盖面": 700,
}


def generated_sheets(scale: float = 1.0, seed: int = 7) -> dict[str, pd.DataFrame]:
    """Findings-shaped sheets: the run's sheet names, columns and dtypes, random values."""
    rng = np.random.default_rng(seed)

    def ids(n: int, prefix: str) -> pd.Series:
        return pd.Series([f"{prefix}{i:012d}" for i in rng.integers(0, 10**9, n)], dtype="string")

    def banks(n: int) -> pd.Series:
        return pd.Series([f"B{i:03d}" for i in rng.integers(1, 101, n)], dtype="string")

    def text(n: int, value: str) -> pd.Series:
        return pd.Series([value] * n, dtype="string")

    def money(n: int, holes: float = 0.0) -> np.ndarray:
        out = np.round(rng.lognormal(12, 1.5, n), 2)
        out[rng.random(n) < holes] = np.nan
        return out

    def dates(n: int, holes: float = 0.0) -> pd.Series:
        out = pd.Series(pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1460, n), unit="D"))
        return out.mask(rng.random(n) < holes).astype("datetime64[us]")

    period = lambda n: pd.Series([pd.Timestamp("2023-12-31")] * n, dtype="datetime64[us]")  # noqa: E731
    flags = lambda n: rng.random(n) < 0.3  # noqa: E731
    counts = lambda n: rng.integers(0, 10_000, n)  # noqa: E731
    build: dict[str, Callable[[int], dict]] = {
        "借据核查汇总": lambda n: {
            "机构编码": banks(n), "数据期": period(n), "规则": text(n, "new_borrower"),
            "核查内容": text(n, "成立或股权受让不久即获经营贷款"),
            "通知条款": text(n, CLAUSE), "发现数": counts(n), "涉及金额（万元）/占比（%）": money(n),
        },
        "S71与借据核对": lambda n: {
            "机构编码": banks(n), "数据期": period(n), "S71项目": text(n, "3.1.A5"), "报送值": money(n, 0.5),
            "借据重算值": money(n), "差额": money(n, 0.5), "容差": np.full(n, 0.01), "在容差内": flags(n),
            "单位": text(n, "万元"), "通知条款": text(n, "第（十六）条：统计数据质量、数据造假"),
        },
        "逾期未入不良": lambda n: {
            "机构编码": banks(n), "借据号": ids(n, "JJ"), "客户统一编号": ids(n, ""), "贷款余额（元）": money(n),
            "五级分类": text(n, "正常"), "逾期天数": counts(n), "通知条款": text(n, "第（十六）条：做实风险分类"), "数据期": period(n),
        },
        "多头过度授信": lambda n: {
            "机构编码": banks(n), "客户统一编号": ids(n, ""), "证件号码": ids(n, "9141"), "本行授信（元）": money(n),
            "授信银行数（全市）": counts(n), "全市授信合计（元）": money(n), "授信上限（元）": money(n),
            "多头授信": flags(n), "超过上限": flags(n), "通知条款": text(n, "第（十六）条：防范“过度授信”风险"), "数据期": period(n),
        },
        "新设主体贷款": lambda n: {
            "机构编码": banks(n), "借据号": ids(n, "JJ"), "客户统一编号": ids(n, ""), "借据金额（元）": money(n),
            "发放日期": dates(n), "成立日期": dates(n, 0.2), "股权受让日期": dates(n, 0.8), "原因": text(n, "成立不久"),
            "通知条款": text(n, CLAUSE), "数据期": period(n),
        },
        "无还本续贷占比": lambda n: {
            "机构编码": banks(n), "无还本续贷累放（元）": money(n), "普惠累放（元）": money(n), "无还本续贷占比（%）": money(n),
            "续贷后不良余额（元）": money(n), "关注": flags(n),
            "通知条款": text(n, "第（五）条：不得用续贷掩盖信用风险"), "数据期": period(n),
        },
        "核查覆盖面": lambda n: {
            "机构编码": banks(n), "数据期": period(n), "可判断笔数": counts(n), "无法判断笔数": counts(n),
            "原因": text(n, "信贷合同不在信贷合同表中，担保类型未知（不计入6.1信用贷款）"),
        },
    }  # fmt: skip
    return {name: pd.DataFrame(build[name](max(1, round(rows * scale)))) for name, rows in SHAPE.items()}


def writer_of_commit(rev: str) -> Callable:
    """``write_workbook`` of ``src/analysis/core/workbook.py`` at git revision ``rev``."""
    source = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:src/analysis/core/workbook.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_workbook.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("baseline_workbook", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_workbook


def timed(write: Callable[[Path], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            write(Path(tmp) / "out.xlsx")
            best = min(best, time.perf_counter() - start)
    return best


def report(label: str, rows: int, cells: int, seconds: float) -> None:
    print(f"{label:<28} {rows:>10,} rows {cells:>12,} cells {seconds:>8.2f} s {cells / seconds:>12,.0f} cells/s")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sheets", nargs="?", type=Path, help="pickled dict of sheet name → DataFrame")
    parser.add_argument("--scale", type=float, default=1.0, help="rows of the generated sheets × this")
    parser.add_argument("--baseline-commit", help="also time the writer of this git revision")
    parser.add_argument("--indicators", type=Path, help="also time indicators.xlsx of this data folder")
    parser.add_argument("--period", default="2023-12")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)

    from analysis.core.workbook import write_workbook

    if args.sheets:
        with open(args.sheets, "rb") as f:
            sheets = pickle.load(f)  # the caller's own file (trusted input)
        source = str(args.sheets)
    else:
        sheets = generated_sheets(args.scale)
        source = f"generated, scale {args.scale:g}"
    rows = sum(len(frame) for frame in sheets.values())
    cells = sum(frame.size for frame in sheets.values())
    print(f"sheets: {source}: {len(sheets)} sheets")
    report("write_workbook (this tree)", rows, cells, timed(lambda p: write_workbook(p, sheets), args.repeat))
    if args.baseline_commit:
        old = writer_of_commit(args.baseline_commit)
        report(f"write_workbook ({args.baseline_commit})", rows, cells, timed(lambda p: old(p, sheets), args.repeat))
    if args.indicators:
        from analysis.core.periods import parse_period
        from analysis.outputs.excel import write_indicator_workbook
        from analysis.state import compute_state

        state = compute_state(args.indicators, ROOT / "params")
        period = parse_period(args.period)
        seconds = timed(lambda p: write_indicator_workbook(state, period, p), args.repeat)
        print(f"indicators.xlsx ({args.indicators}, {args.period}): {seconds:.2f} s")


if __name__ == "__main__":
    main()
