"""Reading tables: the header row is found below title rows and through a two-level merged
header; CSV title rows of any length; parquet headers as written."""

from __future__ import annotations

import pandas as pd

from analysis.core.contract import MONTHLY, PLANS
from analysis.inputs.loading import find_header, read_tables


def grid(rows: list[list]) -> pd.DataFrame:
    width = max(len(r) for r in rows)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)


def test_header_in_the_first_row():
    g = grid([["机构编码", "年度", "计划新增额"], ["B010", 2023, 100]])
    assert find_header(g, PLANS) == (0, 1, ["机构编码", "年度", "计划新增额"])


def test_header_below_title_rows():
    g = grid(
        [
            ["2023年信贷计划"],
            [None],
            ["填报单位：万元"],
            ["机构编码", "年度", "计划新增额", "备注"],
            ["B010", 2023, 100, None],
        ]
    )
    row, levels, labels = find_header(g, PLANS)
    assert (row, levels) == (3, 1)
    assert labels[:3] == ["机构编码", "年度", "计划新增额"]


def test_two_level_header_combines_a_merged_group_with_the_labels_below():
    # as openpyxl reads merged cells: the value in the first cell, None in the others
    g = grid(
        [
            ["月度监测表"],
            ["机构编码", "数据期", "普惠型小微企业", None, None, "各项贷款余额"],
            [None, None, "贷款余额", "贷款余额户数", "不良贷款余额", None],
            ["B010", "2023-06", 1, 2, 3, 4],
        ]
    )
    row, levels, labels = find_header(g, MONTHLY)
    assert (row, levels) == (1, 2)
    assert labels == [
        "机构编码",
        "数据期",
        "普惠型小微企业贷款余额",
        "普惠型小微企业贷款余额户数",
        "普惠型小微企业不良贷款余额",
        "各项贷款余额",
    ]


def test_two_level_header_whose_lower_labels_are_complete():
    g = grid(
        [
            ["机构编码", "数据期", "普惠金融重点领域", None],
            [None, None, "普惠型小微企业贷款余额", "普惠型小微企业贷款余额户数"],
            ["B010", "2023-06", 1, 2],
        ]
    )
    assert find_header(g, MONTHLY)[:2] == (0, 2)
    assert find_header(g, MONTHLY)[2][2:] == ["普惠型小微企业贷款余额", "普惠型小微企业贷款余额户数"]


def test_no_header_in_the_rows_searched():
    g = grid([[f"说明 {i}"] for i in range(10)] + [["机构编码", "年度", "计划新增额"]])
    assert find_header(g, PLANS) is None
    assert find_header(g, PLANS, max_rows=11) == (10, 1, ["机构编码", "年度", "计划新增额"])


def test_csv_with_a_short_title_row_and_row_numbers(tmp_path):
    (tmp_path / "信贷计划.csv").write_text(
        "2023年信贷计划\n机构编码,年度,计划新增额\nB010,2023,100\nB011,2023,x\n", encoding="utf-8"
    )
    tables, _, issues = read_tables(tmp_path)
    plans = tables["plans"]
    assert plans.frame["institution_id"].tolist() == ["B010", "B011"]
    assert plans.row_number(1) == 4  # title row 1, header row 2, data rows 3 and 4
    assert [i.rule for i in issues] == ["missing_table", "missing_table"]


def test_headers_only_and_trailing_blank_rows(tmp_path):
    (tmp_path / "信贷计划.csv").write_text("机构编码,年度,计划新增额\n,,\n", encoding="utf-8")
    (tmp_path / "转贷款.csv").write_text("机构编码,季度,转贷款发放金额,终端平均利率\n", encoding="utf-8")
    tables, _, issues = read_tables(tmp_path)
    assert "plans" not in tables and "onlending" not in tables
    assert [(i.rule, i.file) for i in issues if i.rule == "empty_table"] == [("empty_table", "信贷计划.csv")]


def test_parquet_keeps_its_headers(tmp_path):
    pd.DataFrame({"institution_id": ["B010"], "year": [2023], "planned_increase": [100.0]}).to_parquet(
        tmp_path / "plans.parquet"
    )
    tables, _, _ = read_tables(tmp_path)
    assert tables["plans"].frame.iloc[0].tolist() == ["B010", 2023, 100.0]
    assert tables["plans"].row_number(0) == 1


def test_workbook_cells_read_as_openpyxl_reads_them(tmp_path):
    """The fast reader (calamine) gives every cell openpyxl gives, with the same Python type: a
    title row, a merged two-level header, whole and fractional numbers, a date, text with spaces,
    empty cells and a number stored as text — then the whole table reads as before."""
    import datetime as dt

    import openpyxl

    from analysis.inputs.loading import EXCEL_ENGINE, _read_grid

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "月度数据"
    sheet.append(["2023年12月小微企业金融服务监测表"])
    sheet.append(["机构编码", "报告期", "普惠型小微企业贷款", None, "各项贷款余额"])
    sheet.append([None, None, "余额", "户数", None])
    sheet.merge_cells("C2:D2")
    sheet.append(["B010", "2023-12", 1234.5, 88, 10000])
    sheet.append([" B011 ", dt.datetime(2023, 12, 31), 0, "17", None])
    sheet.append([])
    sheet.append(["B012", "2023-12", 3.25e7, 1, -0.5])
    path = tmp_path / "book.xlsx"
    book.save(path)

    fast, _ = _read_grid(path)
    slow = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    assert EXCEL_ENGINE != "openpyxl" and fast.shape == slow.shape == (7, 5)
    for (r, c), expected in slow.stack(future_stack=True).items():
        got = fast.iat[r, c]
        if pd.isna(expected):
            assert pd.isna(got), (r, c, got)
        else:
            assert (got, type(got)) == (expected, type(expected)), (r, c)
    assert find_header(fast, MONTHLY)[:2] == (1, 2)
