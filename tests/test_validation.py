"""A bad-input test for every validation rule: the rule, file, row and column are reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.demo import write_demo_data
from analysis.errors import RULES, DataValidationError
from analysis.validation import load_dataset

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
MONTHLY = "月度监测.csv"
INSTITUTIONS = "机构名录.csv"
PLANS = "信贷计划.csv"
ONLENDING = "转贷款.csv"


@pytest.fixture
def data(tmp_path, demo_csv_dir) -> Path:
    target = tmp_path / "data"
    shutil.copytree(demo_csv_dir, target)
    return target


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=object, keep_default_na=False, encoding="utf-8-sig")


def write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / name, index=False, encoding="utf-8-sig")


def issues_of(folder: Path):
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder, PARAMS)
    return info.value.issues


def find(issues, rule, file=None, row=None, column=None):
    hits = [i for i in issues if i.rule == rule and (file is None or i.file == file)
            and (row is None or i.row == row) and (column is None or i.column == column)]
    assert hits, f"no {rule} at {file} row {row} column {column}; got {[i.format() for i in issues][:10]}"
    return hits


def first_row(frame: pd.DataFrame, **where) -> int:
    mask = pd.Series(True, index=frame.index)
    for col, value in where.items():
        mask &= frame[col] == value
    return int(frame.index[mask][0])


def test_demo_data_is_valid_in_every_format(tmp_path, demo_csv_dir, demo_xlsx_dir):
    parquet = write_demo_data(tmp_path / "pq", fmt="parquet")
    sets = [load_dataset(p, PARAMS) for p in (demo_csv_dir, demo_xlsx_dir, parquet)]
    for other in sets[1:]:
        pd.testing.assert_frame_equal(sets[0].monthly, other.monthly)
        pd.testing.assert_frame_equal(sets[0].institutions, other.institutions)
    assert len(sets[0].institutions) == 60


def test_single_workbook_with_sheets(tmp_path, demo_csv_dir):
    book = tmp_path / "all.xlsx"
    with pd.ExcelWriter(book) as writer:
        for name in (INSTITUTIONS, MONTHLY, PLANS, ONLENDING):
            read(demo_csv_dir, name).to_excel(writer, sheet_name=name.removesuffix(".csv"), index=False)
    ds = load_dataset(book, PARAMS)
    assert ds.monthly["period"].max() == pd.Timestamp("2023-12-31")


def test_missing_table(data):
    (data / PLANS).unlink()
    find(issues_of(data), "missing_table")


def test_ambiguous_table(data):
    shutil.copy(data / PLANS, data / "plans.csv")
    find(issues_of(data), "ambiguous_table")


def test_unreadable_file(data):
    (data / MONTHLY).unlink()
    (data / "月度监测.xlsx").write_bytes(b"not a workbook")
    find(issues_of(data), "file_unreadable", file="月度监测.xlsx")


def test_missing_column_reported_once(data):
    frame = read(data, MONTHLY).drop(columns=["各项贷款余额"])
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    find(issues, "missing_column", file=MONTHLY, column="total_loans")
    assert not [i for i in issues if i.rule == "required_empty" and i.column == "total_loans"]


def test_duplicate_column(data):
    frame = read(data, MONTHLY)
    frame["total_loans"] = frame["各项贷款余额"]
    write(data, MONTHLY, frame)
    find(issues_of(data), "duplicate_column", column="total_loans")


def test_english_headers_accepted(data):
    from analysis.contract import MONTHLY as SPEC

    frame = read(data, MONTHLY).rename(columns={c.label_zh: c.name for c in SPEC.columns})
    write(data, MONTHLY, frame)
    assert len(load_dataset(data, PARAMS).monthly) == 2160


@pytest.mark.parametrize("table,column,header,value,rule", [
    (MONTHLY, "inclusive_balance", "普惠型小微企业贷款余额", "12a", "not_a_number"),
    (MONTHLY, "inclusive_borrowers", "普惠型小微企业贷款余额户数", "10.5", "not_whole_number"),
    (MONTHLY, "total_npl", "各项贷款不良余额", "-5", "negative"),
    (MONTHLY, "inclusive_balance", "普惠型小微企业贷款余额", "", "required_empty"),
    (MONTHLY, "period", "数据期", "2023-13", "invalid_period"),
    (MONTHLY, "period", "数据期", "2023-06-15", "period_not_month_end"),
    (MONTHLY, "institution_id", "机构编码", "", "empty_id"),
    (MONTHLY, "institution_id", "机构编码", "X999", "unknown_institution"),
    (INSTITUTIONS, "category", "机构类型", "外资银行", "invalid_choice"),
    (INSTITUTIONS, "county_code", "县区代码", "410101", "invalid_choice"),
    (INSTITUTIONS, "differentiated_years", "差异化考核年度", "去年", "invalid_year"),
    (PLANS, "year", "年度", "二〇二三", "invalid_year"),
    (ONLENDING, "quarter", "季度", "2023Q5", "invalid_quarter"),
    (ONLENDING, "end_borrower_rate", "终端平均利率", "50", "out_of_range"),
])
def test_cell_rules(data, table, column, header, value, rule):
    frame = read(data, table)
    target = 5  # the sixth data row: spreadsheet row 7
    if table == MONTHLY:
        target = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    frame.loc[target, header] = value
    write(data, table, frame)
    hits = find(issues_of(data), rule, file=table, column=column)
    assert any(h.row == target + 2 for h in hits), [h.format() for h in hits]


def test_not_applicable_column_must_be_empty_not_zero(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="I001", 数据期="2023-06-30")
    frame.loc[target, "各项贷款余额"] = "0"
    bank = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    frame.loc[bank, "小微企业保险保费收入"] = "12"
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    find(issues, "not_applicable_filled", file=MONTHLY, row=target + 2, column="total_loans")
    find(issues, "not_applicable_filled", file=MONTHLY, row=bank + 2, column="premium_ytd")


def test_insurer_required_column(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="I002", 数据期="2022-03-31")
    frame.loc[target, "小微企业保险保费收入"] = ""
    write(data, MONTHLY, frame)
    find(issues_of(data), "required_empty", file=MONTHLY, row=target + 2, column="premium_ytd")


def test_duplicate_institution_month(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    frame = pd.concat([frame, frame.loc[[target]]], ignore_index=True)
    write(data, MONTHLY, frame)
    hit = find(issues_of(data), "duplicate_key", file=MONTHLY, row=len(frame) + 1)[0]
    assert f"{target + 2}" in hit.detail


def test_npl_and_inclusive_cross_field_rules(data):
    frame = read(data, MONTHLY)
    a = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    frame.loc[a, "普惠型小微企业不良贷款余额"] = str(float(frame.loc[a, "普惠型小微企业贷款余额"]) + 1)
    b = first_row(frame, 机构编码="B011", 数据期="2023-06-30")
    frame.loc[b, "各项贷款不良余额"] = str(float(frame.loc[b, "各项贷款余额"]) * 2)
    c = first_row(frame, 机构编码="B012", 数据期="2023-06-30")
    frame.loc[c, "普惠型小微企业贷款余额"] = str(float(frame.loc[c, "各项贷款余额"]) + 1)
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    find(issues, "npl_exceeds_balance", row=a + 2, column="inclusive_npl")
    find(issues, "npl_exceeds_balance", row=b + 2, column="total_npl")
    find(issues, "inclusive_exceeds_total", row=c + 2, column="inclusive_balance")


def test_year_to_date_never_falls(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    frame.loc[target, "普惠型小微企业贷款当年累放金额"] = "1"
    write(data, MONTHLY, frame)
    find(issues_of(data), "ytd_decreased", file=MONTHLY, row=target + 2, column="inclusive_ytd_disbursed")


def test_january_may_be_below_december(data):
    # year-to-date restarts each January: the demo data does exactly that and validates
    assert load_dataset(data, PARAMS) is not None


def test_implied_rate_catches_unit_errors(data):
    frame = read(data, MONTHLY)
    rows = frame.index[frame["机构编码"] == "B010"]
    frame.loc[rows, "普惠型小微企业当年累放贷款年化利息收益"] = (
        frame.loc[rows, "普惠型小微企业当年累放贷款年化利息收益"].astype(float) * 100).astype(str)
    write(data, MONTHLY, frame)
    find(issues_of(data), "implied_rate_out_of_range", file=MONTHLY, row=int(rows[0]) + 2)


def test_missing_prior_december(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="B010", 数据期="2022-12-31")
    frame = frame.drop(index=target).reset_index(drop=True)
    write(data, MONTHLY, frame)
    january = first_row(frame, 机构编码="B010", 数据期="2023-01-31")
    hit = find(issues_of(data), "missing_base_december", file=MONTHLY, row=january + 2, column="period")[0]
    assert "B010" in hit.detail and "2022-12" in hit.detail


def test_missing_plan(data):
    frame = read(data, PLANS)
    frame = frame[~((frame["机构编码"] == "B010") & (frame["年度"] == "2023"))]
    write(data, PLANS, frame)
    hit = find(issues_of(data), "missing_plan", file=PLANS)[0]
    assert "B010" in hit.detail and "2023" in hit.detail


def test_policy_bank_needs_no_plan(data):
    frame = read(data, PLANS)
    write(data, PLANS, frame[frame["机构编码"] != "B001"])
    assert load_dataset(data, PARAMS) is not None


def test_onlending_only_for_policy_bank(data):
    frame = read(data, ONLENDING)
    frame.loc[0, "机构编码"] = "B010"
    write(data, ONLENDING, frame)
    find(issues_of(data), "onlending_not_policy_bank", file=ONLENDING, row=2)


def test_every_problem_listed_at_once(data):
    monthly = read(data, MONTHLY)
    monthly.loc[3, "普惠型小微企业贷款余额"] = "abc"
    monthly.loc[4, "数据期"] = "2023-02-30"
    write(data, MONTHLY, monthly)
    inst = read(data, INSTITUTIONS)
    inst.loc[2, "监管科"] = "x"  # an extra, unknown column is ignored
    inst.loc[2, "监管科室"] = "稽查科"
    write(data, INSTITUTIONS, inst)
    issues = issues_of(data)
    rules = {i.rule for i in issues}
    assert {"not_a_number", "invalid_period", "invalid_choice"} <= rules
    report = DataValidationError(issues).args[0]
    assert "月度监测.csv 第5行/row 5 列/column inclusive_balance" in report
    assert RULES["not_a_number"][0] in report and RULES["not_a_number"][1] in report


def test_excel_year_month_and_gbk_csv(data):
    frame = read(data, MONTHLY)
    frame["数据期"] = frame["数据期"].str[:7]  # 2023-06 instead of 2023-06-30
    frame.to_csv(data / MONTHLY, index=False, encoding="gb18030")
    ds = load_dataset(data, PARAMS)
    assert ds.monthly["period"].dt.is_month_end.all()
