"""Counts (户, 件, 家, 名) are whole numbers wherever a person reads them; figures, dates and codes are
kept whole in a table, text wraps."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from analysis.content.display import cell_class, fmt_number, frame_table, is_count_label, table


@pytest.mark.parametrize(
    ("value", "kwargs", "expected"),
    [
        (1512.0, dict(digits=2, unit="户"), "1,512户"),
        (-1512.0, dict(digits=2, signed=True, unit="户"), "-1,512户"),
        (1512.0, dict(digits=2, signed=True, unit="件"), "+1,512件"),
        (12.0, dict(unit="家"), "12家"),
        (3.0, dict(unit="名"), "3名"),
        (1234.567, dict(digits=2, unit="万元"), "1,234.57万元"),  # amounts keep their decimals
        (-0.001, dict(digits=2), "0.00"),  # no "-0.00"
        (-0.2, dict(digits=0, signed=True), "0"),  # no "-0" and no "+0"
        (float("nan"), dict(unit="户"), "—"),
    ],
)
def test_fmt_number(value, kwargs, expected):
    assert fmt_number(value, **kwargs) == expected


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("户数较年初（户）", True),
        ("保单件数（件）", True),
        ("同类机构家数（家）", True),
        ("排名(名)", True),
        ("普惠贷款余额（万元）", False),
        ("较年初增速（%）", False),
        ("户数", False),
    ],
)
def test_is_count_label(label, expected):
    assert is_count_label(label) is expected


def cells(html) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in re.findall(r"<tr>(.*?)</tr>", str(html)) if "<td" in row]


def test_frame_table_count_columns_are_whole():
    frame = pd.DataFrame(
        {
            "县区": ["宛城区", "卧龙区"],
            "机构数": np.array([5, 12], dtype="int64"),
            "普惠贷款余额（万元）": [1234.5, 98765.432],
            "户数较年初（户）": [1512.0, -37.0],
            "保单": [3.0, 4.0],
        }
    )
    assert cells(frame_table(frame, count_columns=["保单"])) == [
        ["宛城区", "5", "1,234.50", "1,512", "3"],
        ["卧龙区", "12", "98,765.43", "-37", "4"],
    ]


def test_transposed_appendix_count_rows_are_whole():
    """A data appendix: months as columns, one row per reported figure."""
    frame = pd.DataFrame(
        {
            "项目": ["普惠型小微企业贷款余额（万元）", "普惠型小微企业贷款余额户数（户）"],
            "2023-01": [1000.25, 2400.0],
            "2023-02": [1010.5, 2412.0],
        }
    )
    assert cells(frame_table(frame)) == [
        ["普惠型小微企业贷款余额（万元）", "1,000.25", "1,010.50"],
        ["普惠型小微企业贷款余额户数（户）", "2,400", "2,412"],
    ]


# ---------------------------------------------------------------- figures, dates and codes kept whole


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1,929,291.42", "fig"),
        ("2023-01", "fig"),
        ("B017", "fig"),
        ("1/0", "fig"),
        ("+842户", "fig"),  # a figure with its unit
        ("-3.17个百分点", "fig"),
        ("—", "fig"),
        ("8.90% / 6.20%", "figs"),  # two figures: a line may end at the space, not inside a figure
        ("股份制商业银行", "label"),  # seven characters: a label kept on one line
        ("一级", "label"),
        ("农村银行机构监管科", "text"),  # nine: may wrap
        ("在同类 12 家机构中排第 3 位", "text"),
        ("NANYANGVILLAGEBANK" * 3, "text"),  # 54 characters: longer than any figure, text that may wrap
        ("", "text"),
    ],
)
def test_cell_class_tells_figures_from_text(text, expected):
    assert cell_class(text, numeric=False) == expected


def test_a_numeric_column_is_num_whatever_its_text():
    assert cell_class("未评分", numeric=True) == "num"


def test_table_marks_every_cell_and_scrolls_in_a_wrapper():
    html = str(
        table(
            [("宛城区", "2023-12", 1234.5, '<span class="status">✓</span>')],
            ["县区", "数据期", "余额", "状态"],
            numeric_columns=[2],
            raw_columns=[3],
        )
    )
    assert html.startswith('<div class="table-wrap"><table class="data">') and html.endswith("</table></div>")
    assert re.findall(r'<td class="(\w+)">', html) == ["label", "fig", "num", "badge"]
