"""A bad-input test for every validation rule: the rule, file, row and column are reported."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.errors import RULES, DataValidationError, format_warnings
from analysis.demo.jurisdiction import write_demo_data
from analysis.inputs.validation import load_dataset

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
MONTHLY = "月度监测.csv"
INSTITUTIONS = "机构名录.csv"
PLANS = "信贷计划.csv"
ONLENDING = "转贷款.csv"


def read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=object, keep_default_na=False, encoding="utf-8-sig")


def write(folder: Path, name: str, frame: pd.DataFrame) -> None:
    frame.to_csv(folder / name, index=False, encoding="utf-8-sig")


def issues_of(folder: Path):
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder, PARAMS)
    return info.value.issues


def find(issues, rule, file=None, row=None, column=None):
    hits = [
        i
        for i in issues
        if i.rule == rule
        and (file is None or i.file == file)
        and (row is None or i.row == row)
        and (column is None or i.column == column)
    ]
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
    assert ds.monthly["period"].max() == pd.Timestamp("2025-06-30")  # the demo's latest period


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
    from analysis.core.contract import MONTHLY as SPEC

    frame = read(data, MONTHLY).rename(columns={c.label_zh: c.name for c in SPEC.columns})
    write(data, MONTHLY, frame)
    assert len(load_dataset(data, PARAMS).monthly) == 60 * 66  # 60 institutions, 2020-01 … 2025-06


@pytest.mark.parametrize(
    "table,column,header,value,rule",
    [
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
    ],
)
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
        frame.loc[rows, "普惠型小微企业当年累放贷款年化利息收益"].astype(float) * 100
    ).astype(str)
    write(data, MONTHLY, frame)
    find(issues_of(data), "implied_rate_out_of_range", file=MONTHLY, row=int(rows[0]) + 2)


def test_missing_prior_december_is_a_warning_not_an_error(data):
    # item 3: one bank without its prior December no longer stops the city's data set
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="B010", 数据期="2022-12-31")
    frame = frame.drop(index=target).reset_index(drop=True)
    write(data, MONTHLY, frame)
    january = first_row(frame, 机构编码="B010", 数据期="2023-01-31")
    ds = load_dataset(data, PARAMS)
    assert [w.rule for w in ds.warnings] == ["missing_base_december"]
    hit = find(ds.warnings, "missing_base_december", file=MONTHLY, row=january + 2, column="period")[0]
    assert "B010" in hit.detail and "2022-12" in hit.detail
    text = format_warnings(ds.warnings)
    assert f"{MONTHLY} 第{january + 2}行/row {january + 2} 列/column period" in text
    assert RULES["missing_base_december"][0] in text and RULES["missing_base_december"][1] in text


def test_bank_reporting_from_mid_year_is_accepted_with_a_warning(data):
    frame = read(data, MONTHLY)
    late = (frame["机构编码"] == "B020") & (frame["数据期"] < "2023-04-30")
    frame = frame[~late].reset_index(drop=True)
    write(data, MONTHLY, frame)
    april = first_row(frame, 机构编码="B020", 数据期="2023-04-30")
    ds = load_dataset(data, PARAMS)
    b020 = ds.monthly.loc[ds.monthly["institution_id"] == "B020", "period"]
    assert set(b020[b020.dt.year == 2023].dt.month) == set(range(4, 13)) and b020.min() == pd.Timestamp("2023-04-30")
    (hit,) = ds.warnings
    assert (hit.rule, hit.row, hit.column) == ("missing_base_december", april + 2, "period")


def test_warnings_are_listed_beside_errors(data):
    frame = read(data, MONTHLY)
    frame = frame.drop(index=first_row(frame, 机构编码="B010", 数据期="2022-12-31")).reset_index(drop=True)
    frame.loc[first_row(frame, 机构编码="B011", 数据期="2023-06-30"), "普惠型小微企业贷款余额"] = "abc"
    write(data, MONTHLY, frame)
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, PARAMS)
    assert [i.rule for i in info.value.issues] == ["not_a_number"]
    assert [w.rule for w in info.value.warnings] == ["missing_base_december"]
    assert "missing_base_december" in str(info.value)


# --- units (item 5) -------------------------------------------------------------------


def test_one_month_in_yi_yuan_is_refused_at_its_row(data):
    frame = read(data, MONTHLY)
    target = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    wan = float(frame.loc[target, "普惠型小微企业贷款余额"])
    frame.loc[target, "普惠型小微企业贷款余额"] = f"{wan / 10_000:.4f}"  # 亿元
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    (hit,) = [i for i in issues if i.rule == "implausible_unit"]
    assert (hit.file, hit.row, hit.column) == (MONTHLY, target + 2, "inclusive_balance")
    assert "亿元" in hit.detail and "1/" in hit.detail
    # the root cause once: its NPL now exceeds it, but that is not reported as well
    assert [i.rule for i in issues] == ["implausible_unit"]


def test_whole_bank_in_yuan_is_refused(data):
    from analysis.core.contract import MONTHLY as SPEC

    frame = read(data, MONTHLY)
    rows = frame["机构编码"] == "B010"
    for col in SPEC.columns:
        if col.kind == "amount":
            values = pd.to_numeric(frame.loc[rows, col.label_zh], errors="coerce")
            frame.loc[rows, col.label_zh] = (values * 10_000).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    hits = [i for i in issues if i.rule == "implausible_unit"]
    assert {(h.column, h.row) for h in hits} == {
        ("inclusive_balance", int(frame.index[rows][0]) + 2),
        ("total_loans", int(frame.index[rows][0]) + 2),
    }
    assert all("B010" in h.detail and "元" in h.detail and "亿元" not in h.detail for h in hits)
    assert [i.rule for i in issues] == ["implausible_unit"] * 2


def test_plan_in_yuan_is_refused(data):
    plans = read(data, PLANS)
    target = first_row(plans, 机构编码="B010", 年度="2023")
    plans.loc[target, "计划新增额"] = str(float(plans.loc[target, "计划新增额"]) * 10_000)
    write(data, PLANS, plans)
    (hit,) = issues_of(data)
    assert (hit.rule, hit.file, hit.row, hit.column) == ("implausible_unit", PLANS, target + 2, "planned_increase")
    assert "计划疑似以元填报" in hit.detail


def test_a_genuine_threefold_jump_is_accepted(data):
    frame = read(data, MONTHLY)
    rows = (frame["机构编码"] == "B010") & (frame["数据期"] >= "2023-06-30")
    december = first_row(frame, 机构编码="B010", 数据期="2023-12-31")
    expected = round(float(frame.loc[december, "普惠型小微企业贷款余额"]) * 3, 2)
    for header in ("普惠型小微企业贷款余额", "各项贷款余额"):
        frame.loc[rows, header] = (frame.loc[rows, header].astype(float) * 3).map("{:.2f}".format)
    write(data, MONTHLY, frame)
    m = load_dataset(data, PARAMS).monthly
    got = m.loc[(m["institution_id"] == "B010") & (m["period"] == "2023-12-31"), "inclusive_balance"]
    assert got.tolist() == [expected]


# --- ids, control characters, empty tables (items 9, 11, 12) ------------------------------


@pytest.mark.parametrize("bad_id", ["../../escaped", "a/b", "B 10", "-B10", "B" * 33])
def test_institution_id_must_match_the_pattern(data, bad_id):
    inst = read(data, INSTITUTIONS)
    old = inst.loc[5, "机构编码"]
    inst.loc[5, "机构编码"] = bad_id
    write(data, INSTITUTIONS, inst)
    for name in (MONTHLY, PLANS):
        frame = read(data, name)
        frame.loc[frame["机构编码"] == old, "机构编码"] = bad_id
        write(data, name, frame)
    (hit,) = issues_of(data)
    assert (hit.rule, hit.file, hit.row, hit.column) == ("invalid_id", INSTITUTIONS, 7, "institution_id")
    assert repr(bad_id) in hit.detail


@pytest.mark.parametrize("good_id", ["B010", "411302-01", "abc_DEF-9", "B" * 32])
def test_ids_matching_the_pattern_pass(good_id):
    import re

    from analysis.core.contract import ID_PATTERN

    assert re.fullmatch(ID_PATTERN, good_id)


def test_control_character_in_a_name_is_refused(data):
    inst = read(data, INSTITUTIONS)
    inst.loc[5, "机构名称"] = "南阳\x07农商银行"
    inst.loc[6, "机构名称"] = "南阳农商银行\n"  # a trailing line break is stripped, not refused
    write(data, INSTITUTIONS, inst)
    (hit,) = issues_of(data)
    assert (hit.rule, hit.file, hit.row, hit.column) == ("control_character", INSTITUTIONS, 7, "name")
    assert "第3个字符/character 3" in hit.detail and "\\x07" in hit.detail


def test_control_character_in_an_id_is_reported_once(data):
    monthly = read(data, MONTHLY)
    target = first_row(monthly, 机构编码="B010", 数据期="2023-06-30")
    monthly.loc[target, "机构编码"] = "B0\x0010"
    write(data, MONTHLY, monthly)
    rules = [(i.rule, i.row) for i in issues_of(data)]
    assert ("control_character", target + 2) in rules
    assert not [r for r in rules if r[0] in ("empty_id", "unknown_institution")]


@pytest.mark.parametrize("name", [INSTITUTIONS, MONTHLY, PLANS])
def test_a_required_table_with_headers_only_is_refused(data, name):
    frame = read(data, name)
    write(data, name, frame.iloc[:0])
    issues = issues_of(data)
    hit = find(issues, "empty_table", file=name)[0]
    assert hit.row is None


def test_headers_only_workbook_sheet_is_refused(tmp_path, data):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "月度监测"
    book.active.append(list(read(data, MONTHLY).columns))
    book.save(data / "月度监测.xlsx")
    (data / MONTHLY).unlink()
    issues = issues_of(data)
    assert [(i.rule, i.file) for i in issues if i.rule == "empty_table"] == [("empty_table", "月度监测.xlsx")]


# --- the report tells the root cause (item 13) ----------------------------------------


def test_missing_table_does_not_hide_other_problems(data):
    (data / PLANS).unlink()
    monthly = read(data, MONTHLY)
    target = first_row(monthly, 机构编码="B010", 数据期="2023-06-30")
    monthly.loc[target, "普惠型小微企业贷款余额"] = "12a"
    write(data, MONTHLY, monthly)
    inst = read(data, INSTITUTIONS)
    inst.loc[5, "县区代码"] = "410101"
    write(data, INSTITUTIONS, inst)
    issues = issues_of(data)
    find(issues, "missing_table")
    find(issues, "not_a_number", file=MONTHLY, row=target + 2, column="inclusive_balance")
    find(issues, "invalid_choice", file=INSTITUTIONS, row=7, column="county_code")


def test_missing_institutions_table_does_not_flag_every_row_unknown(data):
    (data / INSTITUTIONS).unlink()
    issues = issues_of(data)
    assert [i.rule for i in issues] == ["missing_table"]


def test_bad_category_is_reported_once(data):
    inst = read(data, INSTITUTIONS)
    row = first_row(inst, 机构编码="B010")
    inst.loc[row, "机构类型"] = "外资银行"
    write(data, INSTITUTIONS, inst)
    issues = issues_of(data)
    assert [(i.rule, i.file, i.row, i.column) for i in issues] == [
        ("invalid_choice", INSTITUTIONS, row + 2, "category")
    ]


def test_unknown_institution_reported_once_per_id(data):
    monthly = read(data, MONTHLY)
    rows = monthly.index[monthly["机构编码"] == "B010"]
    monthly.loc[rows, "机构编码"] = "X999"
    write(data, MONTHLY, monthly)
    hits = [i for i in issues_of(data) if i.rule == "unknown_institution"]
    assert [(h.row, h.column) for h in hits] == [(int(rows[0]) + 2, "institution_id")]
    assert "X999" in hits[0].detail and f"{len(rows)}" in hits[0].detail


def _excel_serial(day: str) -> int:
    return (pd.Timestamp(day) - pd.Timestamp("1899-12-30")).days


def test_excel_serial_month_ends_are_accepted(tmp_path, data):
    from openpyxl import Workbook

    assert _excel_serial("2021-01-31") == 44227  # the example of the audit, worked by hand
    monthly = read(data, MONTHLY)
    book = Workbook()
    sheet = book.active
    sheet.title = "月度监测"
    sheet.append(list(monthly.columns))
    period_col = list(monthly.columns).index("数据期")
    for record in monthly.itertuples(index=False):
        cells = [None if v == "" else v for v in record]
        cells[period_col] = _excel_serial(cells[period_col])  # a number, not a date cell
        sheet.append(cells)
    book.save(data / "月度监测.xlsx")
    (data / MONTHLY).unlink()
    ds = load_dataset(data, PARAMS)
    expected = pd.to_datetime(monthly["数据期"])
    assert sorted(ds.monthly["period"]) == sorted(expected)


def test_excel_serial_in_csv_and_a_serial_mid_month(data):
    frame = read(data, MONTHLY)
    a = first_row(frame, 机构编码="B010", 数据期="2023-06-30")
    b = first_row(frame, 机构编码="B011", 数据期="2023-06-30")
    frame.loc[a, "数据期"] = str(_excel_serial("2023-06-30"))
    frame.loc[b, "数据期"] = str(_excel_serial("2023-06-15"))
    write(data, MONTHLY, frame)
    issues = issues_of(data)
    assert [(i.rule, i.row) for i in issues] == [("period_not_month_end", b + 2)]


def _merged_header_sheet(sheet, columns: list[str], title_rows: int) -> None:
    """Title rows, then a two-level header: 普惠型小微企业 merged over its six columns, the rest
    merged down two rows, as the S71 export looks."""
    from openpyxl.utils import get_column_letter

    for r in range(1, title_rows + 1):
        sheet.cell(r, 1, f"标题行 {r}：2023年南阳市小微企业金融服务监测表（单位：万元、户）")
        sheet.merge_cells(start_row=r, start_column=1, end_row=r, end_column=len(columns))
    upper, lower = title_rows + 1, title_rows + 2
    group = "普惠型小微企业"
    grouped = [i for i, c in enumerate(columns, start=1) if c.startswith(group) and 3 <= i <= 8]
    for i, name in enumerate(columns, start=1):
        if i in grouped:
            sheet.cell(lower, i, name.removeprefix(group))
        else:
            sheet.cell(upper, i, name)
            sheet.merge_cells(f"{get_column_letter(i)}{upper}:{get_column_letter(i)}{lower}")
    sheet.cell(upper, grouped[0], group)
    sheet.merge_cells(start_row=upper, start_column=grouped[0], end_row=upper, end_column=grouped[-1])


def test_title_rows_above_a_merged_two_level_header(tmp_path, data):
    from openpyxl import Workbook

    monthly = read(data, MONTHLY)
    columns = list(monthly.columns)
    assert all(c.startswith("普惠型小微企业") for c in columns[2:8])
    book = Workbook()
    sheet = book.active
    sheet.title = "月度监测"
    _merged_header_sheet(sheet, columns, title_rows=2)
    target = first_row(monthly, 机构编码="B010", 数据期="2023-06-30")
    monthly.loc[target, "普惠型小微企业不良贷款余额"] = "abc"
    for record in monthly.itertuples(index=False):
        sheet.append([None if v == "" else v for v in record])
    book.save(data / "月度监测.xlsx")
    (data / MONTHLY).unlink()
    issues = issues_of(data)
    # data start on Excel row 5 (two title rows, two header rows): record k is row k + 5
    assert [(i.rule, i.file, i.row, i.column) for i in issues] == [
        ("not_a_number", "月度监测.xlsx", target + 5, "inclusive_npl")
    ]


def test_header_not_found_is_said_once(tmp_path, data):
    from openpyxl import Workbook

    monthly = read(data, MONTHLY)
    book = Workbook()
    sheet = book.active
    sheet.title = "月度监测"
    for r in range(12):  # the header is below the rows searched
        sheet.append([f"说明 {r}"])
    sheet.append(list(monthly.columns))
    for record in monthly.head(50).itertuples(index=False):
        sheet.append(list(record))
    book.save(data / "月度监测.xlsx")
    (data / MONTHLY).unlink()
    issues = issues_of(data)
    (hit,) = [i for i in issues if i.file == "月度监测.xlsx"]
    assert hit.rule == "header_not_found" and "前10行" in hit.detail and "first 10 rows" in hit.detail
    assert len(issues) == 1


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
