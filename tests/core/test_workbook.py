"""The one Excel writer read back with openpyxl and python-calamine: hand-made frames, the expected
cells worked out by hand (Excel's serial of 2023-12-31 is 45291: 2024-01-01 is 45292)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.utils.escape import unescape
from python_calamine import CalamineWorkbook

from analysis.core import workbook
from analysis.core.workbook import COUNT_FORMAT, TRUNCATED, YES_NO, add_sheet, fit_text, new_book, write_workbook

#: XlsxWriter writes a text of this shape into the sheet XML as it is, unless the writer escapes it
PLANTED = '<r><t>a</t></r></is></c><c r="B9"><f>HYPERLINK("http://evil.example")</f></c><c r="C9" t="inlineStr"><is><r><t>b</t></r>'


def sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as archive:
        return {
            m: archive.read(m).decode("utf-8")
            for m in archive.namelist()
            if m.startswith("xl/worksheets/") and m.endswith(".xml")
        }


def formulas(path: Path) -> list[str]:
    return [m for xml in sheet_xml(path).values() for m in re.findall(r"<(?:\w+:)?f[\s>/]", xml)]


def column(sheet, header: str) -> list:
    """The cells under ``header`` (openpyxl cells, row 2 on)."""
    names = [c.value for c in sheet[1]]
    j = names.index(header)
    return [row[j] for row in sheet.iter_rows(min_row=2)]


@pytest.fixture
def typed(tmp_path):
    frame = pd.DataFrame(
        {
            "id": pd.array(["B001", '=HYPERLINK("http://x")', "-2+3", None], dtype="string"),
            "amount": [1.5, -2.25, np.nan, np.inf],
            "count": np.array([1, 2, 3, 4], dtype="int64"),
            "whole": [3.0, 4.5, -np.inf, 0.0],
            "date": pd.to_datetime(["2023-12-31", None, "2024-02-29", "1900-03-01"]),
            "flag": [True, False, True, False],
            "maybe": pd.array([True, None, False, True], dtype="boolean"),
            "n": pd.array([5, None, 7, 8], dtype="Int64"),
            "mixed": [1, "@SUM(A1)", dt.date(2023, 1, 2), None],
        }
    )
    path = tmp_path / "typed.xlsx"
    with new_book(path) as book:
        add_sheet(
            book,
            "明细",
            frame,
            labels={"id": "机构编码", "amount": "-金额"},
            number_formats={"count": COUNT_FORMAT, "whole": COUNT_FORMAT},
            header_notes={"amount": "单位：万元"},
        )
        add_sheet(book, "是否", frame[["flag", "maybe"]], booleans=YES_NO)
    return path


def test_text_numbers_dates_booleans_and_empties_read_back(typed):
    sheet = openpyxl.load_workbook(typed)["明细"]
    assert [c.value for c in sheet[1]] == ["机构编码", "-金额", "count", "whole", "date", "flag", "maybe", "n", "mixed"]
    assert all(c.font.bold for c in sheet[1]) and sheet[1][1].quotePrefix  # a header is text too
    assert sheet.freeze_panes == "C2"
    assert sheet["B1"].comment.text == "单位：万元"

    ids = column(sheet, "机构编码")
    assert [c.value for c in ids] == ["B001", '=HYPERLINK("http://x")', "-2+3", None]
    assert [c.data_type for c in ids[:3]] == ["s", "s", "s"]
    assert [c.quotePrefix for c in ids[:3]] == [False, True, True]

    amounts = column(sheet, "-金额")
    assert [c.value for c in amounts] == [1.5, -2.25, None, None]  # NaN and inf: empty
    assert amounts[1].data_type == "n"

    counts = column(sheet, "count")
    assert [c.value for c in counts] == [1, 2, 3, 4] and {c.number_format for c in counts} == {"#,##0"}
    whole = column(sheet, "whole")
    assert [c.value for c in whole] == [3, 4.5, None, 0]
    assert isinstance(whole[0].value, int) and whole[0].number_format == "#,##0"

    dates = column(sheet, "date")
    assert [c.value for c in dates] == [
        dt.datetime(2023, 12, 31),
        None,
        dt.datetime(2024, 2, 29),
        dt.datetime(1900, 3, 1),
    ]
    assert dates[0].is_date and dates[0].number_format == "yyyy-mm-dd"
    xml = sheet_xml(typed)["xl/worksheets/sheet1.xml"]
    assert re.search(r'<c r="E2"[^>]*><v>45291</v></c>', xml)  # a date cell holds Excel's serial
    assert re.search(r'<c r="E5"[^>]*><v>61</v></c>', xml)  # 1900-03-01: day 61 (Excel counts 1900-02-29)

    assert [c.value for c in column(sheet, "flag")] == [True, False, True, False]
    assert column(sheet, "flag")[0].data_type == "b"
    assert [c.value for c in column(sheet, "maybe")] == [True, None, False, True]
    assert [c.value for c in column(sheet, "n")] == [5, None, 7, 8]

    mixed = column(sheet, "mixed")
    assert [c.value for c in mixed] == [1, "@SUM(A1)", dt.datetime(2023, 1, 2), None]
    assert mixed[1].quotePrefix and mixed[2].number_format == "yyyy-mm-dd"

    yes_no = openpyxl.load_workbook(typed)["是否"]
    assert [[c.value for c in row] for row in yes_no.iter_rows()] == [
        ["flag", "maybe"],
        ["是", "是"],
        ["否", None],
        ["是", "否"],
        ["否", "是"],
    ]
    assert yes_no.freeze_panes == "A2"
    assert not formulas(typed)


def test_planted_rich_text_xml_stays_text(tmp_path):
    path = write_workbook(tmp_path / "planted.xlsx", {"s": pd.DataFrame({"借据号": [PLANTED, "<r>x</r>", "ok"]})})
    assert not formulas(path)
    assert [c.value for c in column(openpyxl.load_workbook(path)["s"], "借据号")] == [PLANTED, "<r>x</r>", "ok"]
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_name("s").to_python() == [
        ["借据号"],
        [PLANTED],
        ["<r>x</r>"],
        ["ok"],
    ]


def test_control_characters_are_stored_with_excels_escape(tmp_path):
    texts = ["a\x01b\x0bc", "\r=1+1", "tab\tand\nnewline", "literal _x0041_ stays", "\x00"]
    path = write_workbook(tmp_path / "ctrl.xlsx", {"s": pd.DataFrame({"t": texts}, dtype=object)})
    assert [row[0] for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("s").to_python()[1:]] == texts
    cells = column(openpyxl.load_workbook(path)["s"], "t")
    assert [unescape(c.value) for c in cells] == texts  # openpyxl leaves the escape undecoded
    assert cells[1].quotePrefix


def test_text_longer_than_a_cell_is_cut_visibly(tmp_path):
    assert len(TRUNCATED) == 6
    exact = "y" * 32_767
    assert fit_text(exact) == exact
    cut = fit_text("x" * 40_000)
    assert cut == "x" * 32_761 + TRUNCATED and len(cut) == 32_767
    emoji = fit_text("😀" * 20_000)  # 40,000 UTF-16 units: 16,380 whole pairs fit before the mark
    assert emoji == "😀" * 16_380 + TRUNCATED
    path = write_workbook(tmp_path / "long.xlsx", {"s": pd.DataFrame({"t": ["x" * 40_000, exact]})})
    assert [c.value for c in column(openpyxl.load_workbook(path)["s"], "t")] == ["x" * 32_761 + TRUNCATED, exact]


def test_a_frame_longer_than_a_sheet_continues_on_further_sheets(tmp_path, monkeypatch):
    monkeypatch.setattr(workbook, "MAX_ROWS", 4)  # a header and three rows per sheet
    frame = pd.DataFrame({"借据号": [f"R{i}" for i in range(1, 8)], "金额": [float(i) for i in range(1, 8)]})
    title = "新设主体贷款"
    long_title = "一" * 30
    path = write_workbook(
        tmp_path / "split.xlsx", {title: frame, long_title: frame.head(4), "三行": frame.head(3), "空": frame.head(0)}
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "新设主体贷款",
        "新设主体贷款（续1）",
        "新设主体贷款（续2）",
        "一" * 30,
        "一" * 27 + "（续1）",
        "三行",
        "空",
    ]
    rows = {name: [[c.value for c in row] for row in book[name].iter_rows()] for name in book.sheetnames}
    assert rows["新设主体贷款"] == [["借据号", "金额"], ["R1", 1], ["R2", 2], ["R3", 3]]
    assert rows["新设主体贷款（续1）"] == [["借据号", "金额"], ["R4", 4], ["R5", 5], ["R6", 6]]
    assert rows["新设主体贷款（续2）"] == [["借据号", "金额"], ["R7", 7]]
    assert rows["一" * 27 + "（续1）"] == [["借据号", "金额"], ["R4", 4]]
    assert rows["三行"] == [["借据号", "金额"], ["R1", 1], ["R2", 2], ["R3", 3]]
    assert rows["空"] == [["借据号", "金额"]]
    assert book["新设主体贷款（续2）"].freeze_panes == "A2"


def test_a_sheet_name_longer_than_excel_allows_is_refused(tmp_path):
    with pytest.raises(ValueError, match="31"):
        write_workbook(tmp_path / "long-name.xlsx", {"一" * 32: pd.DataFrame({"a": [1]})})
    assert not (tmp_path / "long-name.xlsx").exists()


def test_dates_excel_cannot_show_are_text_and_time_zones_are_refused(tmp_path):
    frame = pd.DataFrame({"d": pd.to_datetime(["1899-12-31", "2023-06-30"])})
    path = write_workbook(tmp_path / "old.xlsx", {"s": frame})
    cells = column(openpyxl.load_workbook(path)["s"], "d")
    assert [c.value for c in cells] == ["1899-12-31", dt.datetime(2023, 6, 30)]
    assert cells[0].data_type == "s"
    aware = pd.DataFrame({"d": pd.to_datetime(["2023-06-30 08:00"]).tz_localize("Asia/Shanghai")})
    with pytest.raises(ValueError, match="time zones"):
        write_workbook(tmp_path / "aware.xlsx", {"s": aware})


def test_a_failed_write_leaves_the_old_workbook_and_no_temporary_files(tmp_path):
    target = tmp_path / "findings.xlsx"
    target.write_bytes(b"the old workbook")
    good = pd.DataFrame({"a": range(10)})
    bad = pd.DataFrame({"d": pd.to_datetime(["2023-06-30"]).tz_localize("UTC")})
    with pytest.raises(ValueError):
        write_workbook(target, {"first": good, "second": bad})
    assert target.read_bytes() == b"the old workbook"
    assert [p.name for p in tmp_path.iterdir()] == ["findings.xlsx"]


def test_column_widths(tmp_path):
    frame = pd.DataFrame({"a": [1], "b": [2], "c": [3], "d": [4]})
    path = tmp_path / "w.xlsx"
    with new_book(path) as book:
        add_sheet(book, "s", frame, widths={"d": 40})
    xml = sheet_xml(path)["xl/worksheets/sheet1.xml"]
    cols = re.findall(r'<col min="(\d+)" max="(\d+)" width="([\d.]+)"', xml)
    widths = {c: round(float(w)) for first, last, w in cols for c in range(int(first), int(last) + 1)}
    assert widths == {1: 19, 2: 19, 3: 15, 4: 41}  # the width asked for and Excel's cell padding
