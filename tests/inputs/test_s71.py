"""S71 intake: both shapes, unit handling, merging with the tidy table, located refusals.

Expected values are worked by hand from the tiny returns written in each test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from analysis.core.errors import DataValidationError
from analysis.inputs.s71 import form_for, import_s71, load_form_versions, normalise_item

INSTITUTIONS = (
    "机构编码,机构名称,机构类型,法人或分支,县区代码,监管科室\n"
    "B101,甲农村商业银行（测试）,农村商业银行,法人机构,411321,农村银行机构监管科\n"
)
PLANS = "机构编码,年度,计划新增额\nB101,2023,1000\n"
# the figures S71 does not carry, 万元
TIDY_MONTHLY = "机构编码,数据期,各项贷款余额,各项贷款不良余额,当年首贷户数\nB101,2023-06,50000,900,12\n"

# one bank, June 2023, long format in 元 with Chinese headers
LONG_ROWS = [
    ("6.A5", "123456700.00"),  # 12345.67 万元
    ("6.B5", "250"),
    ("6.C5", "2500000.00"),  # 250.00
    ("6.D5", "80000000.00"),  # 8000.00
    ("6.E5", "140"),
    ("6.F5", "4400000.00"),  # 440.00 (rate 5.5%)
    ("6.A0", "133456700.00"),  # 13345.67 → bills = 13345.67 − 12345.67 = 1000.00
    ("6.A4", "30000000.00"),  # 3000.00
    ("6.1.A5", "20000000.00"),  # 2000.00
    ("6.3.D5", "9000000.00"),  # 900.00
    ("3.1.A5", "40000000.00"),  # 4000.00
    ("3.1.B5", "120"),
]


def _tidy(folder: Path, monthly: str = TIDY_MONTHLY) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "机构名录.csv").write_text(INSTITUTIONS, encoding="utf-8")
    (folder / "信贷计划.csv").write_text(PLANS, encoding="utf-8")
    (folder / "月度监测.csv").write_text(monthly, encoding="utf-8")
    return folder


def _long_csv(path: Path, rows=LONG_ROWS, date="20230630", org="B101", header=None) -> Path:
    header = header or "数据日期,机构编码,报表编号,项目编码,数值"
    lines = [header] + [f"{date},{org},S71_I,{item},{value}" for item, value in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(tmp_path, sources, unit=None, tidy=None):
    return import_s71(sources, tidy or _tidy(tmp_path / "tidy"), tmp_path / "out", unit=unit, validate=False, fmt="csv")


def _rules(exc: DataValidationError) -> list[str]:
    return [i.rule for i in exc.issues]


def test_item_codes_in_every_spelling():
    assert normalise_item("6.A5") == "6.A5"
    assert normalise_item("S71_I_6..A5.2018") == "6.A5"
    assert normalise_item("S71_I_1.1.A4.2018") == "1.1.A4"
    assert normalise_item("S71_I_1.b.D0.2025") == "1.b.D0"
    # a cell without a band is the ≤3000万 total (S71-FORM.md: S71_I_1.1.D.2018, S71_I_7.A.2025)
    assert normalise_item("S71_I_1.1.D.2018") == "1.1.D"
    assert normalise_item("S71_I_7.A.2025") == "7.A"
    assert normalise_item("S71_I_3.3.1.B2.2018") == "3.3.1.B2"
    assert normalise_item("6.A55") is None
    assert normalise_item("合计") is None


def test_form_version_chosen_by_data_date():
    versions = load_form_versions()
    assert form_for(versions, pd.Timestamp("2021-12-31")).version == 2021
    assert form_for(versions, pd.Timestamp("2022-01-31")).version == 2022
    assert form_for(versions, pd.Timestamp("2024-12-31")).version == 2022
    assert form_for(versions, pd.Timestamp("2025-03-31")).version == 2025
    assert form_for(versions, pd.Timestamp("2020-12-31")) is None


def test_long_format_in_yuan_maps_and_merges(tmp_path):
    src = _long_csv(tmp_path / "s71.csv")
    result = _run(tmp_path, [src])
    row = result.monthly.set_index("institution_id").loc["B101"]
    assert row["period"] == pd.Timestamp("2023-06-30")
    assert row["inclusive_balance"] == 12345.67
    assert row["inclusive_borrowers"] == 250
    assert row["inclusive_npl"] == 250.00
    assert row["inclusive_ytd_disbursed"] == 8000.00
    assert row["inclusive_ytd_borrowers_disbursed"] == 140
    assert row["inclusive_ytd_interest"] == 440.00
    assert row["bill_discount_balance"] == 1000.00
    assert row["above10m_balance"] == 3000.00
    assert row["credit_loan_balance"] == 2000.00
    assert row["renewal_ytd_amount"] == 900.00
    assert row["indiv_business_balance"] == 4000.00
    assert row["indiv_business_borrowers"] == 120
    # S71 does not carry these: they come from the tidy table
    assert row["total_loans"] == 50000 and row["total_npl"] == 900 and row["first_loan_ytd_borrowers"] == 12
    prov = result.provenance.set_index("column")
    assert prov.at["inclusive_balance", "file"] == "s71.csv"
    assert prov.at["inclusive_balance", "location"] == "第2行/row 2"
    assert prov.at["inclusive_balance", "unit"] == "元" and prov.at["inclusive_balance", "factor_to_wan"] == 1e-4
    assert prov.at["bill_discount_balance", "item"] == "6.A0 -6.A5"
    assert prov.at["bill_discount_balance", "location"] == "第8行/row 8; 第2行/row 2"
    assert prov.at["total_loans", "source"] == "月度监测/monitoring"
    assert prov.at["total_loans", "location"] == "第2行/row 2"
    out = pd.read_csv(tmp_path / "out" / "monthly.csv", dtype=str)
    assert out.loc[0, "普惠型小微企业贷款余额"] == "12345.67"
    assert (tmp_path / "out" / "机构名录.csv").exists() and not (tmp_path / "out" / "月度监测.csv").exists()


def test_mart_english_headers_and_item_spelling(tmp_path):
    # band 5 of the one-level row 6 is a 2021 cell (band 5 came with the 2021 revision), written
    # with a double dot; band 0 and 4 cells of row 6 are 2018 cells
    def mart(code: str) -> str:
        if code.count(".") != 1:
            return code
        year = "2021" if code.endswith("5") else "2018"
        return f"S71_I_{code.replace('.', '..')}.{year}"

    rows = [(mart(c), v) for c, v in LONG_ROWS]
    src = _long_csv(tmp_path / "mart.csv", rows, header="DATA_DATE,ORG_NUM,REP_NUM,ITEM_NUM,TOTAL_VALUE")
    result = _run(tmp_path, [src])
    assert result.monthly.loc[0, "inclusive_balance"] == 12345.67
    assert result.provenance.set_index("column").at["inclusive_balance", "item_as_written"] == "S71_I_6..A5.2021"


def _form_workbook(path: Path, unit_line: str = "单位：万元、户", date: str = "2023-06-30") -> Path:
    """A hand-made form sheet: title rows, two-level merged headers, items down the left."""
    wb = Workbook()
    ws = wb.active
    ws.title = "2023年6月"
    ws["A1"] = "普惠金融重点领域贷款情况表"
    ws.merge_cells("A1:N1")
    ws["A2"] = "填报机构：甲农村商业银行（测试）  机构编码：B101"
    ws["A3"] = f"数据日期：{date}"
    ws["H3"] = unit_line
    ws["A4"] = "项目编号"
    ws.merge_cells("A4:A5")
    ws["B4"] = "项目"
    ws.merge_cells("B4:B5")
    # A: bands 4, 0, 5 in C:E; B–F: bands 0 and 5, two columns each (F:G, H:I, J:K, L:M, N:O)
    ws["C4"] = "A 贷款余额"
    ws.merge_cells("C4:E4")
    for col, band in zip(
        "CDE",
        (
            "4 单户授信1000万元至3000万元（含）",
            "0 单户授信1000万元（含）以下合计",
            "5 其中：单户授信1000万元（含）以下不含票据融资合计",
        ),
    ):
        ws[f"{col}5"] = band
    for first, second, letter in (
        ("F", "G", "B 贷款余额户数"),
        ("H", "I", "C 不良贷款余额"),
        ("J", "K", "D 当年累放贷款额"),
        ("L", "M", "E 当年累放贷款户数"),
        ("N", "O", "F 当年累放贷款年化利息收益"),
    ):
        ws[f"{first}4"] = letter
        ws.merge_cells(f"{first}4:{second}4")
        ws[f"{first}5"] = "0 单户授信1000万元（含）以下合计"
        ws[f"{second}5"] = "其中：单户授信1000万元（含）以下不含票据融资合计"  # band by its label, no digit
    rows = {
        "6": (
            "普惠型小微企业贷款",
            {
                "C": 3000,
                "D": 13345.67,
                "E": 12345.67,
                "F": 260,
                "G": 250,
                "H": 250,
                "I": 250,
                "J": 8000,
                "K": 8000,
                "L": 140,
                "M": 140,
                "N": 440,
                "O": 440,
            },
        ),
        "6.1": ("其中：信用贷款", {"E": 2000}),
        "6.3": ("其中：无还本续贷", {"K": 900}),
        "3.1": ("其中：个体工商户贷款", {"E": 4000, "G": 120}),
    }
    for r, (item, (name, values)) in enumerate(rows.items(), start=6):
        ws[f"A{r}"] = item
        ws[f"B{r}"] = name
        for col, value in values.items():
            ws[f"{col}{r}"] = value
    ws["A11"] = "单位负责人：          填表人："
    wb.save(path)
    return path


def test_form_layout_with_merged_headers(tmp_path):
    src = _form_workbook(tmp_path / "B101_表样.xlsx")
    result = _run(tmp_path, [src])
    row = result.monthly.iloc[0]
    assert (row["institution_id"], row["period"]) == ("B101", pd.Timestamp("2023-06-30"))
    assert row["inclusive_balance"] == 12345.67  # E6: band 5 under the merged "A 贷款余额"
    assert row["bill_discount_balance"] == 1000.00  # D6 − E6
    assert row["inclusive_borrowers"] == 250  # G6: band 5 read from its label
    assert row["above10m_balance"] == 3000
    assert row["credit_loan_balance"] == 2000 and row["renewal_ytd_amount"] == 900
    assert row["indiv_business_balance"] == 4000 and row["indiv_business_borrowers"] == 120
    prov = result.provenance.set_index("column")
    assert prov.at["inclusive_balance", "sheet"] == "2023年6月"
    assert prov.at["inclusive_balance", "location"] == "单元格/cell E6"
    assert prov.at["renewal_ytd_amount", "location"] == "单元格/cell K8"
    assert prov.at["inclusive_balance", "unit_basis"].startswith("form title")


def test_form_in_yuan_is_converted_once(tmp_path):
    wb_path = _form_workbook(tmp_path / "f.xlsx", unit_line="单位：元")
    from openpyxl import load_workbook

    wb = load_workbook(wb_path)
    ws = wb.active
    for row in ws.iter_rows(min_row=6, max_row=9, min_col=3, max_col=15):
        for cell in row:
            if isinstance(cell.value, (int, float)) and cell.column_letter not in "FGLM":  # counts stay 户
                cell.value = cell.value * 10_000
    wb.save(wb_path)
    result = _run(tmp_path, [wb_path])
    assert result.monthly.loc[0, "inclusive_balance"] == 12345.67
    assert result.monthly.loc[0, "inclusive_borrowers"] == 250


def test_balance_in_yi_yuan_declared_as_wan_is_refused_with_cause(tmp_path):
    # 12345.67 万元 typed as 1.23 (亿元) in a return declared 万元: 1.23 万元 ÷ 250 户 = 49 元 a borrower
    rows = [(c, v) for c, v in LONG_ROWS if c not in ("6.A5", "6.A0")] + [("6.A5", "1.23"), ("6.A0", "1.33")]
    src = _long_csv(tmp_path / "s71.csv", rows)
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src], unit="万元")
    issue = next(i for i in err.value.issues if i.rule == "s71_unit_implausible")
    assert issue.file == "s71.csv" and issue.row == 12 and issue.column == "6.A5"  # 10 rows kept, then 6.A5
    assert "likely in 亿元" in issue.detail
    assert not (tmp_path / "out").exists()


def test_yuan_declared_as_wan_is_refused(tmp_path):
    src = _long_csv(tmp_path / "s71.csv")  # amounts in 元
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src], unit="万元")
    issue = next(i for i in err.value.issues if i.rule == "s71_unit_implausible")
    assert "likely in 元" in issue.detail


def test_form_unit_contradicting_declared_unit(tmp_path):
    src = _form_workbook(tmp_path / "f.xlsx")
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src], unit="元")
    assert _rules(err.value) == ["s71_unit_conflict"]
    assert err.value.issues[0].file == "f.xlsx[2023年6月]"


def test_missing_cell_refused(tmp_path):
    src = _long_csv(tmp_path / "s71.csv", [r for r in LONG_ROWS if r[0] != "6.C5"])
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src])
    assert _rules(err.value) == ["s71_missing_cell"]
    assert err.value.issues[0].file == "s71.csv" and err.value.issues[0].column == "6.C5"
    assert "B101 2023-06-30" in err.value.issues[0].detail


def test_duplicate_cell_refused_with_both_rows(tmp_path):
    src = _long_csv(tmp_path / "s71.csv", LONG_ROWS + [("6.B5", "251")])
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src])
    assert _rules(err.value) == ["s71_duplicate_cell"]
    issue = err.value.issues[0]
    assert issue.row == 14 and "第3行/row 3" in issue.detail


def test_unknown_item_refused_and_form_2025_items_only_from_2025(tmp_path):
    src = _long_csv(tmp_path / "s71.csv", LONG_ROWS + [("6.G5", "1"), ("1.a.A5", "100")])
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src])
    assert _rules(err.value) == ["s71_unknown_item", "s71_unknown_item"]
    assert [i.row for i in err.value.issues] == [14, 15]
    assert "form-2022" in err.value.issues[1].detail
    # the same 1.a row is a cell of the 2025 form
    src25 = _long_csv(tmp_path / "s71.csv", LONG_ROWS + [("1.a.A5", "100")], date="20250131")
    result = _run(tmp_path, [src25])
    jan = result.monthly.set_index("period").loc[pd.Timestamp("2025-01-31")]
    assert jan["inclusive_balance"] == 12345.67


def test_renamed_csv_columns_refused(tmp_path):
    src = _long_csv(tmp_path / "s71.csv", header="数据日期,机构编码,报表编号,项目编码,期末余额")
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src])
    assert _rules(err.value) == ["missing_column"]
    assert err.value.issues[0].file == "s71.csv" and "TOTAL_VALUE" in err.value.issues[0].column


def test_corrupt_workbook_refused(tmp_path):
    bad = tmp_path / "S71_B101.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [bad])
    assert _rules(err.value) == ["file_unreadable"]
    assert err.value.issues[0].file == "S71_B101.xlsx"


def test_figure_given_twice_with_different_values_refused(tmp_path):
    tidy = _tidy(
        tmp_path / "tidy",
        "机构编码,数据期,各项贷款余额,各项贷款不良余额,普惠型小微企业贷款余额\nB101,2023-06,50000,900,12345.00\n",
    )
    src = _long_csv(tmp_path / "s71.csv")
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src], tidy=tidy)
    issue = err.value.issues[0]
    assert issue.rule == "s71_conflicting_value" and issue.file == "月度监测.csv" and issue.row == 2
    assert issue.column == "inclusive_balance" and "s71.csv" in issue.detail and "6.A5" in issue.detail


def test_same_figure_given_twice_with_equal_values_is_accepted(tmp_path):
    tidy = _tidy(
        tmp_path / "tidy",
        "机构编码,数据期,各项贷款余额,各项贷款不良余额,普惠型小微企业贷款余额\nB101,2023-06,50000,900,12345.67\n",
    )
    result = _run(tmp_path, [_long_csv(tmp_path / "s71.csv")], tidy=tidy)
    assert result.provenance.set_index("column").at["inclusive_balance", "source"] == "S71"


def test_unknown_institution_and_bad_value_located(tmp_path):
    rows = [(c, "abc" if c == "6.E5" else v) for c, v in LONG_ROWS]
    src = _long_csv(tmp_path / "s71.csv", rows, org="X999")
    with pytest.raises(DataValidationError) as err:
        _run(tmp_path, [src])
    rules = _rules(err.value)
    assert "not_a_number" in rules and "unknown_institution" in rules
    nan_issue = next(i for i in err.value.issues if i.rule == "not_a_number")
    assert nan_issue.row == 6


def test_demo_exports_round_trip_exactly(tmp_path):
    from analysis.demo.jurisdiction import demo_tables
    from analysis.demo.s71 import write_demo_exports

    raw = write_demo_exports(tmp_path / "raw", loans=False)
    forms = list((raw / "s71").glob("*_表样.xlsx"))
    longs = [p for p in (raw / "s71").glob("*.csv") if not p.stem.endswith("_明细")]
    details = list((raw / "s71").glob("*_明细.csv"))
    assert len(forms) == 3 and len(longs) == 42  # the three credit cooperatives file the form
    assert [p.name for p in details] == ["S71_B045_明细.csv"]  # one bank's last month as a detail export
    # a mart export writes every cell of the version with its year, no row 6 and no row-3 A–C
    mart = pd.read_csv(raw / "s71" / "S71_B040.csv", dtype=str)
    items = set(mart["ITEM_NUM"])
    assert {"S71_I_2..A4.2018", "S71_I_4..F5.2021", "S71_I_1.1.D.2018", "S71_I_3.3.1.C4.2018"} <= items
    assert {"S71_I_1.4.A1.2018", "S71_I_6.1.A5.2022"} <= items
    assert not any(i.startswith(("S71_I_6..", "S71_I_3..A", "S71_I_3..B", "S71_I_3..C")) for i in items)
    platform = set(pd.read_csv(raw / "s71" / "S71_B002.csv", dtype=str)["ITEM_NUM"])  # a large bank's platform
    assert {"S71_I_6..A5.2021", "S71_I_3..A1.2018"} <= platform
    result = import_s71([raw / "s71"], raw / "tidy", tmp_path / "data", fmt="csv")  # validated too
    assert result.checks.empty  # the demo's returns add up
    assert (result.detail["institution_id"] == "B045").all() and len(result.detail) > 1000
    expected = demo_tables()["monthly"].sort_values(["institution_id", "period"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(result.monthly.reset_index(drop=True), expected, check_dtype=False)
    # every bank figure S71 carries came from a return from the first form version (2021) on,
    # B030's from its form sheet; 2020, before the form, from the tidy table
    prov = result.provenance
    b030 = prov[(prov["institution_id"] == "B030") & (prov["column"] == "inclusive_balance")]
    from_2021 = pd.to_datetime(b030["period"]) >= "2021-01-01"
    assert (
        set(b030.loc[from_2021, "source"]) == {"S71"} and b030.loc[from_2021, "sheet"].str.match(r"\d{4}-\d{2}").all()
    )
    assert set(b030.loc[~from_2021, "source"]) == {"月度监测/monitoring"} and (~from_2021).sum() == 12
    assert set(prov.loc[prov["column"] == "total_loans", "source"]) == {"月度监测/monitoring"}


def test_import_s71_subcommand(tmp_path, capsys):
    import argparse

    from analysis.cli.realdata import add_parsers

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    src = _long_csv(tmp_path / "s71.csv")
    args = parser.parse_args(
        [
            "import-s71",
            str(src),
            "--tidy",
            str(_tidy(tmp_path / "tidy")),
            "--out",
            str(tmp_path / "out"),
            "--format",
            "csv",
            "--no-validate",
            "--params",
            str(Path(__file__).resolve().parents[2] / "params"),
        ]
    )
    assert args.func(args) == 0
    assert "1 家机构/institutions" in capsys.readouterr().out
    assert (tmp_path / "out" / "s71-provenance.csv").exists()


def test_a_column_declared_in_params_is_carried_from_the_tidy_table(tmp_path):
    """涉农贷款余额 is declared in params/indicators.yaml: the import takes it from the tidy monitoring
    table (S71 does not carry it), writes it under its Chinese header and records where it came from."""
    tidy = _tidy(
        tmp_path / "tidy",
        "机构编码,数据期,各项贷款余额,各项贷款不良余额,当年首贷户数,涉农贷款余额\nB101,2023-06,50000,900,12,7654.32\n",
    )
    result = _run(tmp_path, [_long_csv(tmp_path / "s71.csv")], tidy=tidy)
    assert result.monthly.set_index("institution_id").at["B101", "agri_balance"] == 7654.32
    prov = result.provenance.set_index("column")
    assert prov.at["agri_balance", "source"] == "月度监测/monitoring" and prov.at["agri_balance", "unit"] == "万元"
    out = pd.read_csv(tmp_path / "out" / "monthly.csv", dtype=str)
    assert out.loc[0, "涉农贷款余额"] == "7654.32"
