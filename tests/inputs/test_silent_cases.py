"""Nothing ignored in silence (issue 28, item 6): what the workbook does not read or cannot judge, it
says — a located warning or a refusal, in Chinese and English.

Each test breaks one thing in a copy of the demo CSV folder (the ``data`` fixture) or of ``params/``;
the expected files, rows and columns are worked out from what the test wrote (the CSV header is row
1, so the frame's row i is row i + 2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.core.errors import DataValidationError, ParamsError, format_warnings
from analysis.inputs.loading import read_tables
from analysis.inputs.validation import load_dataset

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
MONTHLY = "月度监测.csv"
PLANS = "信贷计划.csv"
ONLENDING = "转贷款.csv"


# the validation tests' own CSV helpers (as tests/test_hostile.py uses them)
from tests.inputs.test_validation import read, write  # noqa: E402


def only(issues, rule):
    return [i for i in issues if i.rule == rule]


def params_copy(tmp_path: Path, drop: tuple[str, ...] = ()) -> Path:
    """The shipped params folder, copied, without the files named in ``drop``."""
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    for name in drop:
        (params / name).unlink()
    return params


# ------------------------------------------------------------------------ a column the contract does not know


def test_a_new_column_in_the_monitoring_table_is_warned_with_its_header(data):
    frame = read(data, MONTHLY)
    # institution, period, 23 figures and the 5 columns params/indicators.yaml declares: the new one is
    # the 31st, column AE
    assert len(frame.columns) == 30
    frame["绿色贷款余额"] = "100.00"
    write(data, MONTHLY, frame)
    ds = load_dataset(data, PARAMS)  # accepted: the column is not read
    (warned,) = only(ds.warnings, "unknown_column")
    assert (warned.file, warned.row, warned.column) == (MONTHLY, 1, "绿色贷款余额")
    assert "第AE列" in warned.detail and "column AE" in warned.detail
    text = format_warnings(ds.warnings)
    assert "数据规范中没有此列：已忽略" in text and "the data contract does not know this column" in text
    assert "绿色贷款余额" not in ds.monthly.columns


def test_values_under_no_header_and_an_extra_column_under_a_title_row_are_located(tmp_path):
    """An analyst's plan workbook: a title row (row 1), the header in row 2, a 备注 column D and
    values in column E under no header."""
    (tmp_path / PLANS).write_text(
        "2023年信贷计划\n机构编码,年度,计划新增额,备注,\nB010,2023,100,新设,\nB011,2023,200,,x\n", encoding="utf-8"
    )
    tables, _, issues = read_tables(tmp_path)
    assert tables["plans"].frame["institution_id"].tolist() == ["B010", "B011"]
    assert [(i.file, i.row, i.column, i.detail.split("；")[0]) for i in only(issues, "unknown_column")] == [
        (PLANS, 2, "备注", "第D列 / column D"),
        (PLANS, 2, "（无表头 / no header）", "第E列无表头但有数据 / column E has values but no header"),
    ]


def test_the_demo_tables_have_no_column_the_contract_does_not_know(demo_csv_dir, demo_xlsx_dir):
    for folder in (demo_csv_dir, demo_xlsx_dir):
        assert not only(load_dataset(folder, PARAMS).warnings, "unknown_column")


# ------------------------------------------------------------------------ one table, one file


def test_a_second_monthly_file_is_refused_naming_both(data):
    shutil.copy(data / MONTHLY, data / "monthly-2024.csv")
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, PARAMS)
    (refused,) = only(info.value.issues, "ambiguous_table")
    assert "月度监测.csv" in refused.detail and "monthly-2024.csv" in refused.detail
    assert "一张表只读一个文件" in refused.detail and "one table, one file" in refused.detail


def test_a_table_only_under_a_name_like_its_own_is_not_read_and_said(data):
    (data / ONLENDING).rename(data / "转贷款（2023）.csv")  # an optional table: its absence stops nothing
    (data / "机构编码对照.csv").write_text("金融许可证号,机构编码\nX,B001\n", encoding="utf-8")  # not 机构-like
    ds = load_dataset(data, PARAMS)
    (warned,) = only(ds.warnings, "misnamed_table_file")
    assert warned.file == "转贷款（2023）.csv"
    assert "onlending.csv / 转贷款.csv" in warned.detail and "not read" in warned.detail
    assert ds.onlending.empty


def test_a_required_table_only_under_a_name_like_its_own_is_missing_and_the_file_named(data):
    (data / MONTHLY).rename(data / "月度监测2024.csv")
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, PARAMS)
    assert [i.rule for i in info.value.issues] == ["missing_table"]
    (warned,) = only(info.value.warnings, "misnamed_table_file")
    assert warned.file == "月度监测2024.csv" and "monthly.csv / 月度监测.csv" in warned.detail


# ------------------------------------------------------------------------ qualitative scores without a scoring table


def test_a_qualitative_workbook_for_a_year_without_a_scoring_table_is_warned(data):
    from analysis.state import load_scoring_inputs

    assert not (PARAMS / "scoring-2024.yaml").exists()
    shutil.copy(data / "定性评分-2023.csv", data / "定性评分-2024.csv")
    ds = load_dataset(data, PARAMS)
    tables, qualitative = load_scoring_inputs(data, PARAMS, ds)
    assert set(tables) == {2023} and set(qualitative["year"]) == {2023}  # the 2023 scores still read
    (warned,) = only(ds.warnings, "qualitative_without_scoring")
    assert warned.file == "定性评分-2024.csv"
    assert str(PARAMS / "scoring-2024.yaml") in warned.detail and "not read" in warned.detail
    load_scoring_inputs(data, PARAMS, ds)
    assert len(only(ds.warnings, "qualitative_without_scoring")) == 1  # said once, however often it is read


# ------------------------------------------------------------------------ no params folder


def test_a_params_folder_that_does_not_exist_is_refused(data, tmp_path, monkeypatch):
    from analysis.state import load_state

    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    missing = tmp_path / "nowhere" / "params"
    for load in (load_dataset, load_state):
        with pytest.raises(ParamsError) as info:
            load(data, missing)
        assert str(missing) in str(info.value)
        assert "参数目录不存在" in str(info.value) and "the params folder does not exist" in str(info.value)


def test_a_params_folder_without_a_policy_file_is_refused(data, tmp_path):
    from analysis.state import load_state

    params = tmp_path / "params"
    params.mkdir()
    shutil.copy(PARAMS / "limits.yaml", params / "limits.yaml")
    for load in (load_dataset, load_state):
        with pytest.raises(ParamsError) as info:
            load(data, params)
        assert "policy-YYYY.yaml" in str(info.value) and "every verdict would be n/a" in str(info.value)


def test_validate_run_from_a_folder_without_params_refuses_in_both_languages(data, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "validate", str(data)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 1 and "validation passed" not in result.stdout
    assert str(elsewhere / "params") in result.stderr and "参数目录不存在" in result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------ data years without a policy


def _with_january(data: Path, year: int) -> int:
    """The January of ``year`` added for every institution (a copy of the last January's rows);
    returns the row, as the analyst sees it, of the first added row."""
    frame = read(data, MONTHLY)
    january = frame[frame["数据期"] == f"{year - 1}-01-31"].assign(数据期=f"{year}-01-31")
    write(data, MONTHLY, pd.concat([frame, january], ignore_index=True))
    return len(frame) + 2


def test_a_data_year_after_the_policy_years_without_a_policy_is_warned_on_its_first_row(data, tmp_path):
    params = params_copy(tmp_path)
    row = _with_january(data, 2026)  # the demo runs to 2025-06; policies 2023–2025
    ds = load_dataset(data, params)
    (warned,) = only(ds.warnings, "no_policy_year")  # 2020–2022 serve as base and history: not warned
    assert (warned.file, warned.row, warned.column) == (MONTHLY, row, "period")
    assert f"数据含2026年（60行），但无 {params / 'policy-2026.yaml'}" in warned.detail
    assert "考核年度 2023、2024、2025" in warned.detail and "仅作基期与历史 2020、2021、2022" in warned.detail
    assert "its rows get no verdicts" in warned.detail


def test_data_without_any_policy_year_are_warned_year_by_year(data, tmp_path):
    params = params_copy(tmp_path, drop=("policy-2023.yaml", "policy-2024.yaml"))  # policy 2025 only
    frame = read(data, MONTHLY)
    write(data, MONTHLY, frame[frame["数据期"] < "2024"])  # data 2020–2023: no year has a policy
    ds = load_dataset(data, params)
    warned = only(ds.warnings, "no_policy_year")
    # nothing evaluated, so no year is a base: each warned on its first row, B001's January (the demo
    # runs institution by institution, 48 months from 2020-01: rows 2, 14, 26, 38)
    assert [(w.row, w.detail[:8]) for w in warned] == [
        (2, "数据含2020年"),
        (14, "数据含2021年"),
        (26, "数据含2022年"),
        (38, "数据含2023年"),
    ]
    assert "考核年度 无 / none" in warned[0].detail and "有考核规则参数的年度 2025" in warned[0].detail


def test_the_demo_years_before_its_first_policy_are_its_base_and_raise_no_warning(demo_csv_dir):
    assert not only(load_dataset(demo_csv_dir, PARAMS).warnings, "no_policy_year")  # data 2020–2023, policies 2023–2025


# ------------------------------------------------------------------------ plausible ceilings, per jurisdiction

PROVINCE_TOTAL_LOANS = "150000000.00"  # 万元 = 1.5万亿元: a provincial office's legal bank


def _province_bank(data: Path) -> list[int]:
    """B014, a legal city commercial bank, at a province's scale in every month: total loans of
    1.5万亿元, about 75 times its demo figures (about 200亿元); returns its rows as the analyst sees them."""
    frame = read(data, MONTHLY)
    rows = frame.index[frame["机构编码"] == "B014"]
    frame.loc[rows, "各项贷款余额"] = PROVINCE_TOTAL_LOANS
    write(data, MONTHLY, frame)
    return [int(i) + 2 for i in rows]


def test_a_province_size_figure_is_refused_by_a_citys_ceiling_naming_the_key_to_raise(data):
    rows = _province_bank(data)
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, PARAMS)
    refused = info.value.issues
    assert {(i.rule, i.file, i.column) for i in refused} == {("out_of_range", MONTHLY, "total_loans")}
    assert [i.row for i in refused] == rows  # all 48 months of B014, nothing else
    detail = refused[0].detail
    assert "100,000,000 万元" in detail and "ceilings.amount" in detail and str(PARAMS / "limits.yaml") in detail
    assert "请提高此值" in detail and "raise it" in detail


def test_a_province_size_figure_passes_once_the_key_is_raised_and_the_absurd_is_still_refused(data, tmp_path):
    params = params_copy(tmp_path)
    limits = yaml.safe_load((params / "limits.yaml").read_text(encoding="utf-8"))
    limits["jurisdiction"] = "河南省（省级）"
    limits["ceilings"]["amount"] = 1_000_000_000  # 10万亿元
    (params / "limits.yaml").write_text(yaml.safe_dump(limits, allow_unicode=True), encoding="utf-8")
    _province_bank(data)
    ds = load_dataset(data, params)
    assert set(ds.monthly.loc[ds.monthly["institution_id"] == "B014", "total_loans"]) == {1.5e8}

    frame = read(data, MONTHLY)
    frame.loc[3, "各项贷款余额"] = "1e300"  # B001 2020-04: row 5
    write(data, MONTHLY, frame)
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, params)
    assert [(i.rule, i.row, i.column) for i in info.value.issues] == [("out_of_range", 5, "total_loans")]
    assert "1,000,000,000 万元" in info.value.issues[0].detail and "河南省（省级）" in info.value.issues[0].detail


def test_without_a_limits_file_a_citys_ceilings_apply_and_the_refusal_names_the_file_to_write(data, tmp_path):
    params = params_copy(tmp_path, drop=("limits.yaml",))
    rows = _province_bank(data)
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, params)
    assert [i.row for i in info.value.issues] == rows
    assert "100,000,000 万元" in info.value.issues[0].detail
    assert f"{params / 'limits.yaml'} 的 ceilings.amount" in info.value.issues[0].detail


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"amount": -1}, "ceilings.amount"),
        ({"amount": float("inf")}, "ceilings.amount"),
        ({"count": 1e300}, "ceilings.count"),  # above its bound a ceiling guards nothing
        ({"loans": 1}, "ceilings.loans"),  # an unknown key
    ],
)
def test_a_limits_file_is_validated_on_load_naming_the_key(data, tmp_path, change, named):
    params = params_copy(tmp_path)
    limits = yaml.safe_load((params / "limits.yaml").read_text(encoding="utf-8"))
    limits["ceilings"].update(change)
    (params / "limits.yaml").write_text(yaml.safe_dump(limits, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_dataset(data, params)
    assert str(params / "limits.yaml") in str(info.value) and named in str(info.value)
