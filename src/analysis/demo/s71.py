"""The demo jurisdiction as the office really receives it (示例S71报表): S71 returns and tidy rest.

:func:`write_demo_exports` writes, from the tidy demo tables of :mod:`analysis.demo.jurisdiction`:

* ``s71/`` — every bank's S71 return as its reporting mart writes it: every cell of the month's
  form version (:func:`analysis.demo.s71_form.full_returns`: rows 1–4 and their sub-rows, every
  band, band-less ≤3000万 cells) with the mart's year-suffixed codes (``S71_I_2..A4.2018``). The
  cell-code long format (one CSV per bank, amounts in 元) for most banks — without row 6 and row 3
  A–C, which the importer derives, except for the categories in :data:`TOTALS_WRITTEN_CATEGORIES`
  whose platform export writes them — one bank's month as a detail export (one row per loan or
  customer, ``COL_n`` columns: :data:`DETAIL_EXPORT_BANK`, :data:`DETAIL_EXPORT_PERIOD`), and the
  form layout (one workbook per bank, one sheet per month, 万元 with two decimals, merged two-level
  headers, totals filled in) for the categories in :data:`FORM_LAYOUT_CATEGORIES`;
* ``tidy/`` — the tables S71 does not replace: 机构名录, 信贷计划, 转贷款, 定性评分, and 月度监测 holding
  only the figures S71 does not carry (first loans, guarantees, all loans, insurers, the columns
  declared in params/indicators.yaml …).

Importing ``s71/`` with ``tidy/`` (:func:`analysis.inputs.s71.import_s71`) gives back the demo monitoring
table exactly; ``tests/test_s71.py`` checks that round trip.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.contract import JOINT_STOCK_BANK, LARGE_BANK, MONTHLY, RURAL_CREDIT_COOP
from analysis.demo.s71_form import full_returns, spelled, total_cells
from analysis.inputs.s71 import FormVersion, form_for, load_form_versions, s71_cells

#: Categories whose demo returns are written in the form layout (the others in the long format).
FORM_LAYOUT_CATEGORIES: tuple[str, ...] = (RURAL_CREDIT_COOP,)
#: Categories whose long-format export comes from the reporting platform and so writes row 6 and
#: row 3 A–C (the totals); the others export from their mart, which computes neither.
TOTALS_WRITTEN_CATEGORIES: tuple[str, ...] = (LARGE_BANK, JOINT_STOCK_BANK)
#: The bank and month exported as a detail table (one row per loan or customer): its mart failed
#: that month. 2023-12, the month it always was, so that the 2020–2023 exports stay as they were.
DETAIL_EXPORT_BANK = "B045"
DETAIL_EXPORT_PERIOD = "2023-12"
#: Band order of the form's columns under each letter ("" = no band, the ≤3000万 total).
BAND_ORDER = ("1", "2", "3", "4", "", "0", "5")


def _form(versions: list[FormVersion], period: pd.Timestamp) -> FormVersion:
    """The form version of a period the demo writes (every such period has one)."""
    form = form_for(versions, period)
    assert form is not None, period
    return form


def _long_frame(cells: pd.DataFrame, versions: list[FormVersion]) -> pd.DataFrame:
    amount = cells["cell"].str.extract(r"\.([A-Z])\d?$")[0].map({k: v[1] for k, v in versions[0].columns.items()})
    amount = (amount == "amount").to_numpy()
    text = np.where(
        amount, (cells["value"] * 10_000).map(lambda v: f"{v:.2f}"), cells["value"].map(lambda v: f"{v:.0f}")
    )
    report = versions[0].report
    return pd.DataFrame(
        {
            "DATA_DATE": cells["period"].dt.strftime("%Y%m%d"),
            "ORG_NUM": cells["institution_id"],
            "SYS_NAM": "CBRC",
            "REP_NUM": "S7101",
            "ITEM_NUM": spelled(cells, report).to_numpy(),
            "TOTAL_VALUE": text,
        }
    )


def _detail_frame(cells: pd.DataFrame, versions: list[FormVersion]) -> pd.DataFrame:
    """A detail export of ``cells``: amounts as up to three loans each, counts as one row per customer."""
    kinds = {k: v[1] for k, v in versions[0].columns.items()}
    rows = []
    for r in cells.itertuples(index=False):
        code = spelled(pd.DataFrame({"cell": [r.cell], "year": [r.year]})).iloc[0]
        date = f"{r.period:%Y%m%d}"
        column = r.cell.split(".")[-1][0]
        if kinds[column] == "count":
            for k in range(int(r.value)):
                rows.append((date, r.institution_id, "", "CBRC", "S7101", code, "1", f"K{k + 1:05d}", "", ""))
            continue
        cents = int(round(r.value * 100))
        if cents == 0:
            continue
        n = min(3, cents)
        parts = [cents // n] * (n - 1) + [cents - cents // n * (n - 1)]
        for k, part in enumerate(parts):
            yuan = f"{part * 100:.2f}"
            rows.append(
                (
                    date,
                    r.institution_id,
                    "普惠金融部",
                    "CBRC",
                    "S7101",
                    code,
                    yuan,
                    f"K{k + 1:05d}",
                    f"J{k + 1:05d}",
                    "",
                )
            )
    columns = [
        "DATA_DATE",
        "ORG_NUM",
        "DATA_DEPARTMENT",
        "SYS_NAM",
        "REP_NUM",
        "ITEM_NUM",
        "TOTAL_VALUE",
        "COL_2",
        "COL_4",
        "COL_6",
    ]
    return pd.DataFrame(rows, columns=columns)


def write_form_workbook(
    path: Path, institution_id: str, name: str, cells: pd.DataFrame, versions: list[FormVersion]
) -> None:
    """One workbook, one sheet per month, laid out like the printed S71 form (written atomically).

    Through the project's one Excel writer (:mod:`analysis.core.workbook`), text as text; not in its
    one-row-in-memory mode, since the merged two-level header is written out of row order. Rows and
    columns count from 1 here, as on the printed form."""
    from analysis.core.workbook import new_book

    with new_book(path, constant_memory=False) as book:
        for period, month in cells.groupby("period", sort=True):
            form = _form(versions, period)
            ws = book.add_worksheet(period.strftime("%Y-%m"))

            def text(row: int, column: int, value: str, ws=ws, **style) -> None:
                book.write_text(ws, row - 1, column - 1, str(value), **style)

            def merge(first_row: int, first_col: int, last_row: int, last_col: int, value: str, ws=ws, **style):
                ws.merge_range(first_row - 1, first_col - 1, last_row - 1, last_col - 1, "", book.format(**style))
                text(first_row, first_col, value, **style)

            letters = list(form.columns)
            width = 2 + len(letters) * len(BAND_ORDER)
            merge(1, 1, 1, width, form.title, bold=True, font_size=14)
            text(2, 1, f"表号：{form.report}    表样版本：{form.version}")
            text(3, 1, f"填报机构：{name}    机构编码：{institution_id}")
            text(4, 1, f"数据日期：{period:%Y-%m-%d}    单位：万元、户")
            merge(5, 1, 6, 1, "项目编号")
            merge(5, 2, 6, 2, "项目")
            col_of: dict[str, int] = {}
            for i, letter in enumerate(letters):
                first = 3 + i * len(BAND_ORDER)
                label = f"{letter} {form.columns[letter][0]}"
                merge(5, first, 5, first + len(BAND_ORDER) - 1, label, align="center")
                for j, band in enumerate(BAND_ORDER):
                    label = f"{band} {form.bands[band]}" if band else form.bands[band]
                    text(6, first + j, label, text_wrap=True)
                    col_of[f"{letter}{band}"] = first + j
            values = dict(zip(month["cell"], month["value"]))
            amount, count = book.format(num_format="#,##0.00"), book.format(num_format="0")
            for r, (item, label) in enumerate(form.rows.items(), start=7):  # every row of the version
                text(r, 1, item)  # text, so that 1.10 stays 1.10
                text(r, 2, label)
                for code, c in col_of.items():
                    key = f"{item}.{code}"
                    if key in values:
                        number_format = amount if form.columns[code[0]][1] == "amount" else count
                        ws.write_number(r - 1, c - 1, float(values[key]), number_format)
            text(8 + len(form.rows), 1, "注：本表为示例数据，非真实机构报表。")
            ws.set_column(1, 1, 34)
            ws.set_column(2, width - 1, 14)
            ws.freeze_panes("C7")


def tidy_remainder(monthly: pd.DataFrame, versions: list[FormVersion], banks: pd.Index) -> pd.DataFrame:
    """The monitoring table without the figures S71 carries (for banks, by each period's mapping)."""
    out = monthly.copy()
    for form in versions:
        in_version = out["period"].map(lambda p, f=form: form_for(versions, p) is f) & out["institution_id"].isin(banks)
        out.loc[in_version, list(form.mapping)] = np.nan
    return out


def write_demo_exports(
    out_dir: Path | str, seed: int | None = None, params_dir: Path | str | None = None, loans: bool = True
) -> Path:
    """Write ``tidy/``, ``s71/`` and (with ``loans``) ``loans/`` under ``out_dir`` (module docstring;
    the loan tables are :func:`analysis.demo.loans.write_demo_loans`)."""
    from analysis.core.contract import BANK_CATEGORIES
    from analysis.core.workbook import write_workbook
    from analysis.demo.jurisdiction import SEED, monthly_table, write_demo_data

    out_dir = Path(out_dir)
    seed = SEED if seed is None else seed
    versions = load_form_versions(params_dir)
    tidy_dir = write_demo_data(out_dir / "tidy", seed=seed, fmt="xlsx", params_dir=params_dir)
    from analysis.demo.jurisdiction import demo_tables

    tables = demo_tables(seed)
    inst = tables["institutions"].set_index("institution_id")
    monthly = tables["monthly"]
    banks = inst.index[inst["category"].isin(BANK_CATEGORIES)]
    # months before the earliest S71 form version stay whole in the tidy table (history keyed in
    # by hand before the form existed); every later bank month comes from the S71 exports
    covered = monthly["period"].map(lambda p: form_for(versions, p) is not None)
    bank_rows = monthly[monthly["institution_id"].isin(banks) & covered]
    cells = s71_cells(bank_rows, versions)

    remainder = tidy_remainder(monthly, versions, banks)
    # the columns declared in params/indicators.yaml under their Chinese headers too
    remainder = remainder.rename(columns={c.name: c.label_zh for c in monthly_table(params_dir).columns})
    monthly_file = tidy_dir / f"{MONTHLY.label_zh}.xlsx"
    write_workbook(monthly_file, {MONTHLY.label_zh: remainder})

    s71_dir = out_dir / "s71"
    s71_dir.mkdir(parents=True, exist_ok=True)
    for old in s71_dir.glob("S71_*"):
        old.unlink()
    full = full_returns(cells, versions)  # every cell of the version, as a mart computes them
    totals = total_cells(full, versions)  # row 6 and row 3 A–C, as the platform adds them
    for inst_id, inst_cells in full.groupby("institution_id", sort=True):
        category = inst.at[inst_id, "category"]
        inst_totals = totals[totals["institution_id"] == inst_id]
        if category in FORM_LAYOUT_CATEGORIES:
            write_form_workbook(
                s71_dir / f"S71_{inst_id}_表样.xlsx",
                inst_id,
                inst.at[inst_id, "name"],
                pd.concat([inst_cells, inst_totals], ignore_index=True),
                versions,
            )
            continue
        if category in TOTALS_WRITTEN_CATEGORIES:
            inst_cells = pd.concat([inst_cells, inst_totals], ignore_index=True)
        inst_cells = inst_cells.sort_values(["period"], kind="stable")
        if inst_id == DETAIL_EXPORT_BANK:
            month = inst_cells["period"].dt.strftime("%Y-%m") == DETAIL_EXPORT_PERIOD
            detail = _detail_frame(inst_cells[month], versions)
            detail.to_csv(s71_dir / f"S71_{inst_id}_明细.csv", index=False, encoding="utf-8-sig")
            inst_cells = inst_cells[~month]
        _long_frame(inst_cells, versions).to_csv(s71_dir / f"S71_{inst_id}.csv", index=False, encoding="utf-8-sig")
    if loans:
        from analysis.demo.loans import write_demo_loans

        write_demo_loans(out_dir, seed=seed, params_dir=params_dir)
    return out_dir


__all__ = [
    "DETAIL_EXPORT_BANK",
    "DETAIL_EXPORT_PERIOD",
    "FORM_LAYOUT_CATEGORIES",
    "TOTALS_WRITTEN_CATEGORIES",
    "s71_cells",
    "tidy_remainder",
    "write_demo_exports",
    "write_form_workbook",
]
