"""The S71 form from the real form (params/s71/form.yaml) and returns in the shapes marts write.

The fixtures in ``tests/fixtures/s71-real/`` are hand-written in the shapes of ``S71-FORM.md`` (the
public mart procedure ``proc_cbrc_idx2_s7101``); every expected figure below is worked by hand from
them (amounts in the files are 元, expectations in 万元).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.errors import DataValidationError
from analysis.inputs.s71 import form_for, import_s71, load_form_versions, load_import_settings
from analysis.inputs.s71.form import mart_spelling, parse_cells, parse_item
from tests.inputs.test_s71 import _tidy

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "s71-real"


def _import(tmp_path, *sources: Path, **kw):
    return import_s71(list(sources), _tidy(tmp_path / "tidy"), tmp_path / "out", validate=False, fmt="csv", **kw)


def _copy(tmp_path, name: str, replace: dict[str, str] | None = None, extra: list[str] | None = None) -> Path:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text + "".join(line + "\n" for line in extra or []), encoding="utf-8")
    return path


# --- the form definitions ---------------------------------------------------------------------


def test_the_2025_form_has_the_marts_325_cells_by_year():
    """S71-FORM.md: the mart's code list has 325 cells — 203 of 2018, 27 of 2021, 21 of 2022, 74 of 2025."""
    form = form_for(load_form_versions(), pd.Timestamp("2025-06-30")).form
    written = [c for c in form.cells.values() if not c.derived]
    assert len(written) == 325
    assert Counter(c.year for c in written) == {2018: 203, 2021: 27, 2022: 21, 2025: 74}
    # the mart computes no row-6 cell, no row-3 A–C: they are totals
    assert not any(c.row == "6" for c in written)
    assert not any(c.row == "3" and c.column in "ABC" for c in written)
    assert form.cells["6.A5"].derived and form.cells["3.B1"].derived


def test_rows_and_cells_of_each_version():
    versions = {f.version: f.form.cells for f in load_form_versions()}
    # rows 2 and 4, 1.3, 1.5, 3.3, 3.3.1 and band-less sub-row cells are 2018 cells of every version
    for cells in versions.values():
        for code in ("2.A4", "4.F1", "1.3.C2", "1.5.B4", "3.3.A1", "3.3.1.C4", "1.1.D", "3.2.F"):
            assert cells[code].year == 2018 and not cells[code].derived, code
    assert "1.5.A4" not in versions[2022]  # the mart maps 1000–3000万 of 1.5 to A3
    # 6.1–6.3 only from the 2022 cells on
    assert "6.1.A5" not in versions[2021] and versions[2022]["6.1.A5"].year == 2022
    assert "6.1.C5" not in versions[2022]
    # 1.4: 农村集体经济组织 in 2018 cells, 中长期 (A5, B5) in 2025 cells, side by side in 2025
    assert versions[2025]["1.4.A1"].year == 2018 and versions[2025]["1.4.A5"].year == 2025
    assert "1.4.A5" not in versions[2022]
    for code in ("6.4.1.A5", "6.4.7.C5", "7.A", "7.1.F", "1.a.D0", "1.b.F5"):
        assert code in versions[2025] and code not in versions[2022], code
    # 1.2: 科创 (2018, inferred) until 2024, 科技型 (2025) from 2025
    assert versions[2022]["1.2.A1"].year == 2018 and versions[2025]["1.2.A1"].year == 2025


def test_cell_grammar():
    assert parse_item("S71_I_2..A4.2018").code == "2.A4"
    item = parse_item("S71_I_1.1.D.2018")
    assert (item.row, item.column, item.band, item.year) == ("1.1", "D", "", 2018)
    assert parse_item("S71_I_6.4.7.C5.2025").row == "6.4.7"
    assert parse_item("6.A5").year is None
    assert mart_spelling("2.A4", 2018) == "S71_I_2..A4.2018"
    assert mart_spelling("3.3.1.B2", 2018) == "S71_I_3.3.1.B2.2018"
    assert mart_spelling("1.1.D", 2018) == "S71_I_1.1.D.2018"
    assert mart_spelling("7.A", 2025) == "S71_I_7.A.2025"
    assert parse_cells("A 1-3; B-C 1-4; D-F none", list("ABCDEF"), ["1", "2", "3", "4", "0", "5", ""])[:4] == (
        ("A", "1"),
        ("A", "2"),
        ("A", "3"),
        ("B", "1"),
    )


# --- hand-written returns ---------------------------------------------------------------------


def test_mart_return_without_row_6_is_derived(tmp_path):
    """Rows 2 and 4, a 2018 1.4, a band-less 1.1.D, no row 6 and no row-3 A–C: 6.* follow from rows 1 + 3."""
    result = _import(tmp_path, FIXTURES / "mart-no-row6.csv")
    row = result.monthly.iloc[0]
    assert row["inclusive_balance"] == 7200.00  # 1.A5 5800 + 3.1.A5 1000 + 3.2.A5 400
    assert row["inclusive_borrowers"] == 150  # 40 + 90 + 20
    assert row["inclusive_npl"] == 80.00  # 60 + 15 + 5
    assert row["inclusive_ytd_disbursed"] == 3900.00  # 1.D5 3000 + 3.D5 900
    assert row["inclusive_ytd_borrowers_disbursed"] == 100  # 30 + 70
    assert row["inclusive_ytd_interest"] == 165.00  # 120 + 45
    # 6.A0 = (3000 + 2000 + 1000) + (800 + 150 + 50) + (300 + 100 + 3.2.A3 not written: 0) = 7400
    assert row["bill_discount_balance"] == 200.00
    assert row["above10m_balance"] == 520.00  # 1.A4 500 + 3.1.A4 (not written: 0) + 3.2.A4 20
    assert row["credit_loan_balance"] == 2000.00 and row["renewal_ytd_amount"] == 300.00
    assert row["indiv_business_balance"] == 1000.00 and row["indiv_business_borrowers"] == 90
    cells = result.cells.set_index("cell")
    assert cells.at["2.A1", "value_wan"] == 50.00 and cells.at["4.A5", "value_wan"] == 80.00
    assert cells.at["1.4.A1", "year"] == 2018 and cells.at["1.1.D", "value_wan"] == 700.00
    assert cells.at["6.A5", "derived"] and not cells.at["1.A5", "derived"]
    prov = result.provenance.set_index("column")
    where = prov.at["inclusive_balance", "location"]
    assert where.startswith("推算/derived = 1.A5〔第6行/row 6〕 + 3.A5〔推算/derived = 3.1.A5〔第22行/row 22〕")
    assert prov.at["inclusive_balance", "item_as_written"] == "推算/derived"
    assert "3.1.A4〔未报送，按0计/not written: 0〕" in prov.at["above10m_balance", "location"]
    assert result.checks.empty
    written = pd.read_csv(tmp_path / "out" / "s71-checks.csv")
    assert written.empty and "cell" in written.columns


def test_a_2018_1_4_beside_a_2025_one(tmp_path):
    src = _copy(
        tmp_path,
        "mart-no-row6.csv",
        {"20230630": "20250630"},
        ["20250630,B101,CBRC,S7101,S71_I_1.4.A5.2025,2500000.00,"],
    )
    result = _import(tmp_path, src)
    cells = result.cells.set_index("cell")
    assert (cells.at["1.4.A1", "year"], cells.at["1.4.A1", "value_wan"]) == (2018, 100.00)  # 集体
    assert (cells.at["1.4.A5", "year"], cells.at["1.4.A5", "value_wan"]) == (2025, 250.00)  # 中长期
    june = result.monthly.set_index("period").loc[pd.Timestamp("2025-06-30")]
    assert june["inclusive_balance"] == 7200.00


def test_a_wrong_year_suffix_and_an_unknown_code_are_refused_naming_the_version(tmp_path):
    extra = [
        "20250630,B101,CBRC,S7101,S71_I_1.4.A5.2018,2500000.00,",  # 1.4.A5 is a 2025 cell
        "20250630,B101,CBRC,S7101,S71_I_5..A1.2018,100.00,",  # there is no row 5
    ]
    src = _copy(tmp_path, "mart-no-row6.csv", {"20230630": "20250630"}, extra)
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, src)
    issues = err.value.issues
    assert [(i.rule, i.file, i.row, i.column) for i in issues] == [
        ("s71_unknown_item", "mart-no-row6.csv", 34, "S71_I_1.4.A5.2018"),
        ("s71_unknown_item", "mart-no-row6.csv", 35, "S71_I_5..A1.2018"),
    ]
    assert "form-2025" in issues[0].detail and "2025 cell, not .2018" in issues[0].detail
    assert "form-2025" in issues[1].detail
    assert "项目编码不属于该版本S71报表" in issues[0].format() and "not a cell of this S71 form" in issues[0].format()
    # the 2025 中长期 cell in a 2023 return: not in form-2022
    src23 = _copy(tmp_path, "mart-no-row6.csv", extra=["20230630,B101,CBRC,S7101,S71_I_1.4.A5.2025,1.00,"])
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, src23)
    assert "form-2022" in err.value.issues[0].detail and "only in form-2025" in err.value.issues[0].detail


def test_written_row_6_that_disagrees_is_a_located_finding(tmp_path):
    result = _import(tmp_path, FIXTURES / "platform-row6-wrong.csv")
    # the return's own figure is what it reports: the check is a finding, not a correction
    assert result.monthly.iloc[0]["inclusive_balance"] == 7300.00
    checks = result.checks.set_index("cell")
    assert sorted(checks.index) == ["3.3.1.A1", "6.A5"]
    total = checks.loc["6.A5"]
    assert total["rule"] == "s71_check_total" and total["check"] == "行6 = 行1 + 行3"
    assert (total["value"], total["expected"], total["difference"]) == (7300.00, 7200.00, 100.00)
    assert (total["file"], total["location"]) == ("platform-row6-wrong.csv", "第7行/row 7")
    assert "1.A5〔第2行/row 2〕" in total["detail"] and "3.2.A5〔第4行/row 4〕" in total["detail"]
    limit = checks.loc["3.3.1.A1"]
    assert limit["rule"] == "s71_check_limit" and limit["location"] == "第6行/row 6"
    assert (limit["value"], limit["expected"]) == (12.00, 10.00)
    on_disk = pd.read_csv(tmp_path / "out" / "s71-checks.csv", dtype={"cell": str})
    assert sorted(on_disk["cell"]) == ["3.3.1.A1", "6.A5"]
    from analysis.inputs.s71.form import check_issues

    issue = next(i for i in check_issues(result.checks) if i.column == "6.A5")
    assert (issue.file, issue.row, issue.rule) == ("platform-row6-wrong.csv", 7, "s71_check_total")


def test_detail_export_is_summed_per_cell_and_kept(tmp_path):
    result = _import(tmp_path, FIXTURES / "mart-detail.csv")
    row = result.monthly.iloc[0]
    assert row["inclusive_balance"] == 450.00  # 1.A5 (100 + 50 + 250) + 3.1.A5 30 + 3.2.A5 20
    assert row["inclusive_borrowers"] == 4  # 1.B5 two customers + 3.1.B5 one + 3.2.B5 one
    assert row["inclusive_npl"] == 50.00
    assert row["inclusive_ytd_disbursed"] == 280.00 and row["inclusive_ytd_borrowers_disbursed"] == 2
    assert row["inclusive_ytd_interest"] == 12.75  # 11.25 + 1.50
    assert row["bill_discount_balance"] == 0.00 and row["above10m_balance"] == 150.00
    assert row["credit_loan_balance"] == 100.00 and row["renewal_ytd_amount"] == 250.00
    cells = result.cells.set_index("cell")
    assert cells.at["1.A5", "location"] == "第2行/row 2 等3行明细/and 2 more detail rows"
    detail = pd.read_csv(tmp_path / "out" / "s71-detail.csv", dtype=str)
    assert len(detail) == 24
    a5 = detail[detail["cell"] == "1.A5"]
    assert list(a5["COL_4 借据号"]) == ["L1", "L2", "L3"] and a5["value_wan"].astype(float).sum() == 400.00
    assert set(detail["institution_id"]) == {"B101"}


def test_detail_export_listing_a_loan_twice_is_refused(tmp_path):
    src = _copy(
        tmp_path,
        "mart-detail.csv",
        extra=["20230630,B101,普惠金融部,CBRC,S7101,S71_I_1..A5.2021,500000.00,C2,乙公司,L2,1000000"],
    )
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, src)
    issue = err.value.issues[0]
    assert (issue.rule, issue.file, issue.row) == ("s71_detail_duplicate", "mart-detail.csv", 26)
    assert issue.column == "S71_I_1..A5.2021 (COL_4)" and "L2" in issue.detail and "第3行" in issue.detail
    assert not (tmp_path / "out").exists()


def test_detail_export_declared_by_file_name():
    settings = load_import_settings()
    assert settings.is_detail(Path("x.csv"), ["DATA_DATE", "COL_2"])
    assert not settings.is_detail(Path("S71_明细.csv"), ["DATA_DATE", "ITEM_NUM"])
    settings.detail["files"] = ["*明细*"]
    assert settings.is_detail(Path("S71_明细.csv"), ["DATA_DATE", "ITEM_NUM"])


def test_a_needed_total_that_cannot_be_derived_names_its_parts(tmp_path):
    lines = (FIXTURES / "mart-no-row6.csv").read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if "S71_I_1..C5" not in ln and "S71_I_3.1.C5" not in ln and "S71_I_3.2.C5" not in ln]
    kept = [ln for ln in kept if not ln.split(",")[4].startswith("S71_I_1.")]  # no row 1 at all
    src = tmp_path / "r.csv"
    src.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, src)
    missing = [i for i in err.value.issues if i.rule == "s71_missing_cell"]
    assert {i.column for i in missing} >= {"6.A5", "6.C5"}
    a5 = next(i for i in missing if i.column == "6.A5")
    assert a5.file == "r.csv" and "6.A5 = 1.A5 + 3.A5：缺/missing 1.A5" in a5.detail


def test_a_banks_report_shows_its_own_table_checks_only(tmp_path):
    from types import SimpleNamespace

    from analysis.content.institution import s71_table_checks

    _import(tmp_path, FIXTURES / "platform-row6-wrong.csv")
    path = tmp_path / "out" / "s71-checks.csv"
    other = pd.read_csv(path, dtype=str).iloc[[0]].assign(institution_id="B999", file="S71_B999.csv")
    pd.concat([pd.read_csv(path, dtype=str), other]).to_csv(path, index=False, encoding="utf-8-sig")

    def shown(inst: str) -> str:
        ctx = SimpleNamespace(
            state=SimpleNamespace(data_dir=tmp_path / "out", params_dir=Path(__file__).resolve().parents[2] / "params"),
            institution_id=inst,
            year=2023,
            period=pd.Timestamp("2023-12-31"),
        )
        return str(s71_table_checks(ctx))

    b101 = shown("B101")
    assert "共 2 条表内校验提示" in b101 and "行6 = 行1 + 行3" in b101
    assert "platform-row6-wrong.csv" in b101 and "第7行/row 7" in b101 and "6.A5" in b101
    assert "B999" not in b101 and "S71_B999.csv" not in b101
    assert "未发现问题" in shown("B102")
