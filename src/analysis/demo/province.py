"""A synthetic province (模拟全省数据) for scale tests and benchmarks: the demo jurisdiction
generated several times with different seeds, institutions renamed, and cut to the size asked for.

Each copy is :func:`analysis.demo.jurisdiction.demo_tables` with its own seed, so every institution has its
own figures and the data keeps every rule of the data contract (the demo generator's output is
valid by construction; the tests validate a province). Copy 0 keeps the demo's ids (``B017``);
copy ``k`` appends ``-kk`` (``B017-03``) and marks the name (``（示例·第3组）``). Planted demo
outcomes repeat in every copy, so a province has proportionally as many failing banks.

The cut keeps every category: institutions are taken round-robin over the categories (the
first of each category in every copy, then the second, …), so a 20-institution province still
has banks of every kind and both kinds of insurer.
"""

from __future__ import annotations

import math
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from analysis.core.contract import CATEGORIES
from analysis.demo.jurisdiction import SEED, demo_tables, qualitative_frame, scored_years

DEMO_MARK = "（示例）"


def _renamed(tables: dict[str, pd.DataFrame], copy: int) -> dict[str, pd.DataFrame]:
    if copy == 0:
        return tables
    suffix = f"-{copy:02d}"
    out = {}
    for name, frame in tables.items():
        frame = frame.copy()
        frame["institution_id"] = frame["institution_id"].astype(str) + suffix
        if name == "institutions":
            frame["name"] = frame["name"].str.replace(DEMO_MARK, f"（示例·第{copy + 1}组）", regex=False)
        out[name] = frame
    return out


def province_tables(n_institutions: int, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """``n_institutions`` institutions (English column names, in memory) with their monthly
    figures, plans and on-lending, from as many demo copies as needed."""
    if n_institutions < 1:
        raise ValueError(f"n_institutions must be at least 1, got {n_institutions}")
    first = demo_tables(seed)
    per_copy = len(first["institutions"])
    copies = [_renamed(first, 0)] + [
        _renamed(demo_tables(seed + k), k) for k in range(1, math.ceil(n_institutions / per_copy))
    ]
    tables = {name: pd.concat([c[name] for c in copies], ignore_index=True) for name in first}
    inst = tables["institutions"]
    order = pd.DataFrame(
        {
            "rank": inst.groupby("category", sort=False).cumcount(),
            "category": inst["category"].map({c: i for i, c in enumerate(CATEGORIES)}),
        }
    ).sort_values(["rank", "category"], kind="stable")
    keep = set(inst.loc[order.index[:n_institutions], "institution_id"])
    return {name: frame[frame["institution_id"].isin(keep)].reset_index(drop=True) for name, frame in tables.items()}


def write_province_data(out_dir: Path | str, n_institutions: int, seed: int = SEED) -> Path:
    """Write a province of ``n_institutions`` to ``out_dir`` as Parquet (plus the analysts'
    qualitative scores as CSV), atomically: a finished folder or nothing."""
    out_dir = Path(out_dir)
    tables = province_tables(n_institutions, seed)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        for name, frame in tables.items():
            frame.to_parquet(staging / f"{name}.parquet", index=False)
        for year in scored_years():  # the years with a scoring table
            qualitative_frame(tables["institutions"], year, seed).to_csv(
                staging / f"定性评分-{year}.csv", index=False, encoding="utf-8-sig"
            )
        (staging / "README.txt").write_text(
            f"模拟全省数据：{n_institutions} 家虚构机构，由示例数据生成器多次生成，仅供性能测试。\n"
            f"Synthetic province of {n_institutions} fictional institutions (analysis.demo.province); not real data.\n",
            encoding="utf-8",
        )
        if out_dir.exists():
            shutil.rmtree(out_dir)
        staging.rename(out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir


__all__ = ["province_tables", "write_province_data"]
