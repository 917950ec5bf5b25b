"""Every error a user can cause is an AnalysisError and prints in Chinese and English."""

from __future__ import annotations

import pytest

from analysis.core.errors import (
    AnalysisError,
    DataValidationError,
    Issue,
    ParamsError,
    ReportInputError,
    format_report,
    format_warnings,
)


@pytest.mark.parametrize(
    "error",
    [
        DataValidationError([Issue("a.csv", 3, "period", "invalid_period", "值/value: '2023-13'")]),
        ParamsError("params/policy-2023.yaml", ["year: 必须为整数 / must be an integer"]),
        ReportInputError("机构编码不在机构名录中 / unknown institution id: 'X1'"),
        AnalysisError("缺少中文字体", "no CJK font"),
    ],
)
def test_user_errors_share_one_base_and_print_both_languages(error):
    assert isinstance(error, AnalysisError)
    text = str(error)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)
    assert any(ch.isascii() and ch.isalpha() for ch in text)


def test_zh_and_en_messages_are_joined():
    error = AnalysisError("数据期无效", "invalid period")
    assert str(error) == "数据期无效 / invalid period"
    assert (error.message_zh, error.message_en) == ("数据期无效", "invalid period")


def test_report_input_error_keeps_value_error_and_every_user_error_exits_1():
    error = ReportInputError("无 2023-06 数据 / no data for period 2023-06")
    assert isinstance(error, ValueError)
    assert (error.exit_code, AnalysisError("x").exit_code, ParamsError("p", []).exit_code) == (1, 1, 1)


def test_format_warnings():
    warning = Issue("月度监测.csv", 26, "period", "missing_base_december", "B010: 2022-12")
    text = format_warnings([warning])
    assert text.startswith("提示：共 1 条")
    assert "提示/warning 月度监测.csv 第26行/row 26 列/column period: [missing_base_december]" in text
    assert format_warnings([]) == ""
    assert format_report([]) == "数据校验通过 / validation passed"
