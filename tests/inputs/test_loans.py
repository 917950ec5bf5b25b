"""Loan-level recomputation, reconciliation and supervisory checks on tiny hand-made tables.

Every expected figure is worked out by hand from the receipts below (amounts in 元, results in
万元 with two decimals).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.errors import DataValidationError
from analysis.inputs.loans import (
    LoanRules,
    analyse_loans,
    bank_findings,
    load_loan_rules,
    overview_findings,
    print_progress,
)

D = "2023-06-30"
RECEIPTS = pd.DataFrame(
    [
        # id,  cust, subject,  amount,     balance,    class, disbursed,    maturity,     rate, type,     overdue, guarantee
        ("R1", "C1", "130301", 3_000_000, 2_000_000, "正常", "2022-06-01", "2024-06-01", 5.0, "新增", 0, "抵押"),
        (
            "R2",
            "C1",
            "130101",
            1_000_000,
            1_000_000,
            "正常",
            "2023-02-01",
            "2023-08-01",
            2.0,
            "新增",
            0,
            "质押",
        ),  # bill
        ("R3", "C2", "130301", 400_000, 300_000, "次级", "2023-05-01", "2024-04-01", 6.0, "新增", 100, "信用"),
        ("R4", "C2", "130301", 100_000, 0, "正常", "2023-01-15", "2023-12-15", 5.5, "无还本续贷", 0, "信用"),
        ("R5", "C4", "130301", 15_000_000, 12_000_000, "正常", "2023-03-01", "2024-03-01", 4.0, "新增", 0, "抵押"),
        ("R6", "C1", "130301", 500_000, 500_000, "关注", "2023-04-01", "2023-12-31", 5.0, "重组", 120, "保证"),
        ("R7", "C3", "130301", 1_000_000, 1_000_000, "正常", "2023-01-05", "2023-12-05", 4.5, "新增", 0, "保证"),
    ],
    columns=[
        "receipt_id",
        "customer_id",
        "subject",
        "amount",
        "balance",
        "five_class",
        "disbursement_date",
        "maturity_date",
        "rate",
        "disbursement_type",
        "overdue_days",
        "guarantee_type",
    ],
).assign(
    data_date=D, bank_id="K1", contract_id=lambda d: "HT" + d["receipt_id"], purpose_area="411302", purpose_industry="C"
)
CUSTOMERS = pd.DataFrame(
    [
        ("C1", "企业", "小型", "2010-01-01", None),
        ("C2", "个体工商户", None, "2022-12-01", None),
        ("C3", "企业", "中型", "2005-01-01", None),
        ("C4", "企业", "微型", "2015-01-01", "2023-01-10"),
    ],
    columns=["customer_id", "customer_type", "enterprise_size", "founding_date", "equity_transfer_date"],
).assign(bank_id="K1", region="411302", industry="C", first_credit_month="2015-01")
LINES = pd.DataFrame(
    [
        ("K1", "C1", 8_000_000),
        ("K1", "C2", 500_000),
        ("K1", "C3", 5_000_000),
        ("K1", "C4", 20_000_000),
        ("K2", "C2", 1_000_000),
        ("K3", "C2", 1_000_000),
        ("K4", "C2", 1_000_000),
    ],
    columns=["bank_id", "customer_id", "line_amount"],
).assign(line_start="2022-01-01", line_end="2025-12-31")

#: hand-worked S71 cells of K1 in June 2023 (万元 / 户)
EXPECTED = {
    "6.A5": 280.00,  # R1 200 + R3 30 + R6 50 (R2 is a bill, R5 band 4, R7 a medium firm)
    "6.A0": 380.00,  # + the bill R2 100
    "6.A4": 1200.00,  # R5, line 2000万
    "6.B5": 2,  # C1, C2
    "6.C5": 30.00,  # R3 次级
    "6.D5": 50.00,  # R3 40 + R4 10 (R6 restructured, R2 bill, R1 last year)
    "6.E5": 1,  # C2
    "6.F5": 2.95,  # 400000 × 6% + 100000 × 5.5% = 29500 元
    "6.1.A5": 30.00,  # R3 信用 (R4 has no balance)
    "6.3.D5": 10.00,  # R4 无还本续贷
    "3.1.A5": 30.00,  # R3
    "3.1.B5": 1,  # C2
}


def _write(folder: Path, fmt: str = "csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in (("receipts", RECEIPTS), ("customers", CUSTOMERS), ("credit_lines", LINES)):
        if fmt == "csv":
            frame.to_csv(folder / f"{name}.csv", index=False)
        else:
            frame.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _reported(changes: dict | None = None) -> pd.DataFrame:
    values = dict(EXPECTED, **(changes or {}))
    return pd.DataFrame(
        {"institution_id": "K1", "period": pd.Timestamp(D), "cell": list(values), "value_wan": list(values.values())}
    )


@pytest.fixture(scope="module")
def findings(tmp_path_factory):
    return analyse_loans(_write(tmp_path_factory.mktemp("loans")), _reported({"6.A5": 290.00}))


def test_recomputed_cells_match_hand_worked_values(findings):
    got = findings.recomputed.set_index("item")["value"]
    for item, value in EXPECTED.items():
        assert got[item] == pytest.approx(value, abs=1e-9), item
    assert got["1.A5"] == 250.00  # R1 + R6: the small enterprise's loans
    assert got["6.D0"] == 150.00  # band 0 counts the bill drawdown R2
    assert got["6.2.A5"] == 200.00  # R1 runs two years; R3 336 days
    assert "6.A3" in got and got["6.A3"] == 350.00  # C1's band (line 800万) with the bill
    assert got["6.A1"] == 30.00


def test_reconciliation_flags_exactly_the_misreported_cell(findings):
    rec = findings.reconciliation
    assert len(rec) == len(EXPECTED)
    bad = rec[~rec["within_tolerance"]]
    assert bad["item"].tolist() == ["6.A5"]
    assert bad.iloc[0]["reported"] == 290.00 and bad.iloc[0]["recomputed"] == 280.00
    assert bad.iloc[0]["difference"] == -10.00
    assert "统计数据质量" in bad.iloc[0]["clause"]


def test_reconciliation_reports_nothing_only_when_everything_agrees(tmp_path):
    clean = analyse_loans(_write(tmp_path / "l"), _reported())
    assert clean.reconciliation["within_tolerance"].all()
    # a missing reported cell and a one-borrower difference are both findings
    rep = _reported({"6.E5": 2})
    rep = rep[rep["cell"] != "6.C5"]
    flagged = analyse_loans(tmp_path / "l", rep).reconciliation
    assert set(flagged.loc[~flagged["within_tolerance"], "item"]) == {"6.E5", "6.C5"}


def test_tolerance_from_params(tmp_path):
    rules = load_loan_rules()
    raw = copy.deepcopy(rules.raw)
    raw["reconcile"]["tolerance_amount_wan"] = 15.0
    loose = analyse_loans(_write(tmp_path / "l"), _reported({"6.A5": 290.00}), LoanRules(raw))
    assert loose.reconciliation["within_tolerance"].all()


def test_overdue_not_npl(findings):
    rows = findings.checks["overdue_not_npl"]
    assert rows["receipt_id"].tolist() == ["R6"]  # R3 is overdue 100 days but already 次级
    assert rows.iloc[0]["overdue_days"] == 120 and rows.iloc[0]["balance"] == 500_000
    assert "做实风险分类" in rows.iloc[0]["clause"]


def test_over_crediting_across_banks(findings):
    rows = findings.checks["over_crediting"]
    c2 = rows[rows["customer_id"] == "C2"]
    assert sorted(c2["institution_id"]) == ["K1", "K2", "K3", "K4"]
    assert (c2["banks"] == 4).all() and (c2["total_line"] == 3_500_000).all()
    assert c2["many_banks"].all() and c2["above_cap"].all()  # 350万 > 个体工商户 cap 300万
    c4 = rows[rows["customer_id"] == "C4"]  # one bank, but 2000万 for a micro firm (cap 500万)
    assert c4["institution_id"].tolist() == ["K1"] and not c4["many_banks"].iloc[0] and c4["above_cap"].iloc[0]
    assert set(rows["customer_id"]) == {"C2", "C4"}


def test_new_borrower(findings):
    rows = findings.checks["new_borrower"].set_index("receipt_id")
    assert sorted(rows.index) == ["R3", "R4", "R5"]  # R2 is a bill, R6 restructured, R1 last year
    assert rows.at["R3", "reason"] == "成立不久" and rows.at["R5", "reason"] == "股权受让不久"


def test_renewal_share(findings, tmp_path):
    row = findings.checks["renewal_share"].iloc[0]
    assert row["renewal_amount"] == 100_000 and row["ytd_amount"] == 500_000
    assert row["renewal_share_pct"] == pytest.approx(20.0)
    assert not row["watch"]  # params: watch above 25%
    raw = copy.deepcopy(load_loan_rules().raw)
    raw["checks"]["renewal_share"]["watch_share_pct"] = 15.0
    strict = analyse_loans(_write(tmp_path / "l"), _reported(), LoanRules(raw))
    assert strict.checks["renewal_share"].iloc[0]["watch"]


def test_parquet_input_gives_the_same_cells(tmp_path, findings):
    again = analyse_loans(_write(tmp_path / "p", "parquet"), _reported({"6.A5": 290.00}))
    pd.testing.assert_frame_equal(again.recomputed, findings.recomputed)


def test_bank_sees_only_its_own_findings(findings):
    k2 = bank_findings(findings, "K2", "2023-06")
    assert k2["reconciliation"].empty and k2["overdue_not_npl"].empty
    assert k2["over_crediting"]["institution_id"].tolist() == ["K2"]
    assert "K1" not in k2["over_crediting"].to_string()
    k1 = bank_findings(findings, "K1", "2023-06")
    summary = k1["summary"].set_index("rule")
    assert summary.at["reconcile", "findings"] == 1
    assert summary.at["overdue_not_npl", "findings"] == 1 and summary.at["overdue_not_npl", "amount"] == 50.0
    overview = overview_findings(findings, "2023-06")
    assert set(overview["institution_id"]) == {"K1", "K2", "K3", "K4"}


def test_one_bank_run_still_counts_every_banks_lines(tmp_path, findings):
    """``bank=``: K2 files no receipts and no customers, yet holds a line of C2, whom four banks
    lend 350万 in all (cap 300万 for an individual business, read from K1's customer table): its
    one-bank run finds that row as the city-wide run does, and nothing of K1."""
    folder = _write(tmp_path / "l")
    k2 = analyse_loans(folder, _reported({"6.A5": 290.00}), bank="K2")
    row = k2.checks["over_crediting"]
    assert row["institution_id"].tolist() == ["K2"] and row["customer_id"].tolist() == ["C2"]
    assert row.iloc[0]["own_line"] == 1_000_000 and row.iloc[0]["banks"] == 4
    assert row.iloc[0]["total_line"] == 3_500_000 and row.iloc[0]["above_cap"]
    assert k2.reconciliation.empty and k2.recomputed.empty
    assert all(frame.empty for name, frame in k2.checks.items() if name != "over_crediting")
    k1 = analyse_loans(folder, _reported({"6.A5": 290.00}), bank="K1")
    pd.testing.assert_frame_equal(k1.recomputed, findings.recomputed)
    pd.testing.assert_frame_equal(k1.reconciliation, findings.reconciliation)
    for name, frame in findings.checks.items():
        own = frame[frame["institution_id"] == "K1"].reset_index(drop=True)
        pd.testing.assert_frame_equal(k1.checks[name], own, check_dtype=False)
    assert set(k1.checks["over_crediting"]["customer_id"]) == {"C2", "C4"}


def test_missing_column_and_corrupt_file_refused(tmp_path):
    folder = _write(tmp_path / "bad")
    RECEIPTS.drop(columns=["balance"]).to_csv(folder / "receipts.csv", index=False)
    with pytest.raises(DataValidationError) as err:
        analyse_loans(folder, _reported())
    issue = err.value.issues[0]
    assert (issue.file, issue.column, issue.rule) == ("receipts.csv", "balance", "missing_column")
    (folder / "receipts.csv").unlink()
    (folder / "receipts.parquet").write_bytes(b"PAR1 broken")
    with pytest.raises(DataValidationError) as err:
        analyse_loans(folder, _reported())
    assert [(i.file, i.rule) for i in err.value.issues] == [("receipts.parquet", "file_unreadable")]


@pytest.fixture(scope="module")
def demo_findings(tmp_path_factory):
    from analysis.demo.jurisdiction import demo_tables
    from analysis.demo.loans import write_demo_loans
    from analysis.demo.s71 import s71_cells
    from analysis.inputs.s71 import load_form_versions

    demo = write_demo_loans(tmp_path_factory.mktemp("demo"))
    monthly = demo_tables()["monthly"]
    reported = s71_cells(
        monthly[(monthly["period"] == demo.period) & monthly["institution_id"].str.startswith("B")],
        load_form_versions(),
    )
    return demo, analyse_loans(demo.folder, reported, threads=2)


def test_demo_loans_reconcile_except_the_planted_cases(demo_findings):
    demo, found = demo_findings
    rec = found.reconciliation
    assert rec["institution_id"].nunique() == 45
    bad = rec[~rec["within_tolerance"]]
    planted = bad[bad["item"] != "3.1.B5"]
    # B010: a 50万 receipt missing from its return; B025: an NPL receipt reclassified 关注
    assert sorted(zip(planted["institution_id"], planted["item"], planted["difference"])) == [
        ("B010", "6.A0", 50.0),
        ("B010", "6.A5", 50.0),
        ("B025", "6.C5", planted.set_index("item").at["6.C5", "difference"]),
    ]
    assert planted.set_index("item").at["6.C5", "difference"] < 0
    # the demo table's individual businesses outnumber all inclusive borrowers in these banks:
    # no loans can reproduce that, and the reconciliation says so
    odd = bad[bad["item"] == "3.1.B5"]
    assert set(odd["institution_id"]) == {b for b, _ in demo.infeasible}
    assert (odd["recomputed"] < odd["reported"]).all()


def test_demo_loans_checks_find_the_planted_breaches(demo_findings):
    from analysis.demo.loans import SHARED_CUSTOMER

    _, found = demo_findings
    checks = found.checks
    assert set(checks["overdue_not_npl"]["institution_id"]) == {"B025", "B026"}
    assert len(checks["overdue_not_npl"]) == 4  # one hidden NPL + three overdue 关注
    # EAST: the shared individual business is a different 客户统一编号 at each bank, one 证件号码
    assert set(checks["over_crediting"]["id_number"]) == {SHARED_CUSTOMER}
    assert sorted(checks["over_crediting"]["institution_id"]) == ["B014", "B015", "B016", "B022"]
    assert checks["over_crediting"]["customer_id"].nunique() > 1
    assert set(checks["new_borrower"]["institution_id"]) == {"B040"} and len(checks["new_borrower"]) == 2
    assert len(checks["renewal_share"]) == 45


#: the sheets of one bank's findings, in order
BANK_SHEETS = [
    "借据核查汇总",
    "S71与借据核对",
    "逾期未入不良",
    "多头过度授信",
    "新设主体贷款",
    "无还本续贷占比",
    "核查覆盖面",
]


def test_findings_sheets_for_one_bank_have_chinese_headers(findings):
    from analysis.inputs.loans import findings_sheets

    sheets = findings_sheets(findings, "2023-06", institution_id="K2")
    assert list(sheets) == BANK_SHEETS
    assert sheets["多头过度授信"]["机构编码"].tolist() == ["K2"]
    assert "授信银行数（全市）" in sheets["多头过度授信"].columns
    assert sheets["S71与借据核对"].empty


def test_loans_subcommand_reads_the_importers_cells(tmp_path, capsys):
    import argparse

    from analysis.cli.realdata import add_parsers

    data = tmp_path / "data"
    data.mkdir()
    _reported({"6.A5": 290.00}).assign(period="2023-06-30").to_csv(
        data / "s71-cells.csv", index=False, encoding="utf-8-sig"
    )
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    out = tmp_path / "loans.xlsx"
    args = parser.parse_args(
        [
            "loans",
            str(_write(tmp_path / "l")),
            "--data",
            str(data),
            "--out",
            str(out),
            "--params",
            str(Path(__file__).resolve().parents[2] / "params"),
        ]
    )
    assert args.func(args) == 0
    assert "1 项S71与借据不一致" in capsys.readouterr().out
    city = pd.read_excel(out, sheet_name=None, engine="openpyxl")
    # the city workbook compares the banks; each check's detail is in the bank's own workbook
    assert list(city) == ["借据核查汇总", "S71与借据核对", "无还本续贷占比", "核查覆盖面"]
    sheet = city["S71与借据核对"]
    assert sheet.loc[~sheet["在容差内"], "S71项目"].tolist() == ["6.A5"]
    assert sorted(p.name for p in (tmp_path / "loans-机构").iterdir()) == ["K1.xlsx", "K2.xlsx", "K3.xlsx", "K4.xlsx"]


def _cells(path: Path) -> dict[str, list[list]]:
    """Every sheet of a workbook as rows of values, read by openpyxl (not the writer's library)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return {ws.title: [list(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()


def test_each_bank_gets_a_workbook_of_its_own_findings_only(findings, tmp_path):
    """Hand-worked from the fixture: K1 files the receipts (R6 overdue 120 days and classed 关注 is
    its one overdue_not_npl row; its return says 290万 for 6.A5 against 280万); K2–K4 only hold a
    line of C2, which is at 4 banks (the min_banks of params/loans.yaml) with 50 + 3 × 100 = 350万;
    K1's micro firm C4 holds 2000万 against the 500万 cap: 4 + 1 over-crediting rows in the city."""
    from analysis.inputs.loans import write_bank_workbooks

    written = write_bank_workbooks(findings, tmp_path / "banks", period="2023-06", workers=2)
    assert list(written) == ["K1", "K2", "K3", "K4"]
    k2 = _cells(written["K2"])
    assert list(k2) == BANK_SHEETS
    header, *rows = k2["多头过度授信"]
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    assert (row["机构编码"], row["客户统一编号"], row["本行授信（元）"]) == ("K2", "C2", 1_000_000)
    assert (row["授信银行数（全市）"], row["全市授信合计（元）"]) == (4, 3_500_000)
    assert len(k2["S71与借据核对"]) == 1 and len(k2["逾期未入不良"]) == 1  # headers only
    # no other bank is named anywhere in K2's file
    texts = {str(v) for sheet in k2.values() for r in sheet for v in r if v is not None}
    assert not texts & {"K1", "K3", "K4"}
    k1 = _cells(written["K1"])
    header, *rows = k1["S71与借据核对"]
    differing = [r[header.index("S71项目")] for r in rows if not r[header.index("在容差内")]]
    assert differing == ["6.A5"]  # reported 290 against the receipts' 280
    header, *rows = k1["逾期未入不良"]
    assert [r[header.index("借据号")] for r in rows] == ["R6"]
    city_rows = sum(len(_cells(path)["多头过度授信"]) - 1 for path in written.values())
    assert city_rows == len(findings.checks["over_crediting"]) == 5
    header, *rows = k1["多头过度授信"]
    assert sorted(r[header.index("客户统一编号")] for r in rows) == ["C2", "C4"]


def test_a_bank_workbook_that_cannot_be_written_does_not_stop_the_others(findings, tmp_path):
    from analysis.inputs.loans import write_bank_workbooks

    folder = tmp_path / "banks"
    (folder / "K3.xlsx").mkdir(parents=True)  # a folder where K3's file goes: it cannot be replaced
    (folder / "K9.xlsx").write_bytes(b"")  # a bank of an earlier run, absent from this one
    with pytest.raises(DataValidationError) as raised:
        write_bank_workbooks(findings, folder, period="2023-06", workers=2)
    assert [issue.file for issue in raised.value.issues] == [str(folder / "K3.xlsx")]
    assert raised.value.issues[0].rule == "write_failed"
    assert "IsADirectoryError" in raised.value.issues[0].detail
    # the others written, nothing half-written or stale left beside them
    assert sorted(p.name for p in folder.iterdir()) == ["K1.xlsx", "K2.xlsx", "K3.xlsx", "K4.xlsx"]
    assert (folder / "K3.xlsx").is_dir() and all((folder / f"K{k}.xlsx").is_file() for k in (1, 2, 4))


#: the phases of analyse_loans, in order (its progress calls and timings)
PHASES = [
    "read",
    "recompute",
    "reconcile",
    "check overdue_not_npl",
    "check over_crediting",
    "check new_borrower",
    "check renewal_share",
    "coverage",
]


def test_a_progress_line_per_phase(tmp_path):
    seen = []
    found = analyse_loans(_write(tmp_path / "l"), _reported(), progress=lambda *a: seen.append(a))
    phases = [p for p, _, _ in seen]
    assert phases == PHASES
    elapsed = [e for _, _, e in seen]
    assert elapsed == sorted(elapsed) and all(s >= 0 for _, s, _ in seen)
    assert list(found.timings) == phases


def test_the_batch_log_carries_the_loan_phases(tmp_path, capsys, monkeypatch):
    """The batch computes the loan checks while it loads the state: each phase is a line of its
    log (standard error) in the CLI's format, and a cached state prints none."""
    import importlib

    from analysis.state import compute_loan_findings

    batch_plan = importlib.import_module("analysis.batch.plan")  # the module (the package exports its plan())

    data = tmp_path / "data"
    _write(data / "loans")
    _reported().to_csv(data / "s71-cells.csv", index=False, encoding="utf-8-sig")
    params = Path(__file__).resolve().parents[2] / "params"
    compute_loan_findings(data, params, progress=print_progress)
    import re

    lines = capsys.readouterr().err.splitlines()
    parsed = [
        re.fullmatch(r"借据核查 / loans: (.+) [0-9]+\.[0-9] s（累计 / elapsed [0-9]+\.[0-9] s）", x) for x in lines
    ]
    assert all(parsed), lines
    assert [m[1] for m in parsed] == PHASES
    # and the batch asks for them: plan() hands print_progress to load_state
    asked = {}

    def fake_load_state(data_dir, params_dir, **kwargs):
        asked.update(kwargs)
        raise RuntimeError("stop here")

    monkeypatch.setattr(batch_plan, "load_state", fake_load_state)
    with pytest.raises(RuntimeError, match="stop here"):
        batch_plan.plan(batch_plan.BatchRequest(period="2023-12", data_dir=data, params_dir=params, formats=("html",)))
    assert asked["progress"] is print_progress


def test_bank_workbooks_are_written_one_by_one_when_no_process_pool_starts(findings, tmp_path, monkeypatch):
    import concurrent.futures
    from concurrent.futures.process import BrokenProcessPool

    from analysis.inputs.loans import write_bank_workbooks

    class NoPool:  # what a spawned child that cannot import __main__ leaves the parent with
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            raise BrokenProcessPool("a child process terminated abruptly")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", NoPool)
    with pytest.warns(UserWarning, match="parallel writing unavailable"):
        written = write_bank_workbooks(findings, tmp_path / "banks", period="2023-06", workers=2)
    assert list(written) == ["K1", "K2", "K3", "K4"] and all(path.is_file() for path in written.values())


def test_a_bank_whose_workbook_fails_keeps_no_file_of_an_earlier_run(findings, tmp_path, monkeypatch):
    """Any error writing one bank's file (not only the file system's) is that bank's failure: the
    others are written, and its file of an earlier run is removed rather than left to read as current."""
    import analysis.inputs.loans as loans

    folder = tmp_path / "banks"
    folder.mkdir()
    (folder / "K3.xlsx").write_bytes(b"last month's workbook")
    real = loans._write_one

    def write(job):
        if job[0].name == "K3.xlsx":
            raise ValueError("a value the writer refuses")
        return real(job)

    monkeypatch.setattr(loans, "_write_one", write)
    with pytest.raises(DataValidationError) as raised:
        loans.write_bank_workbooks(findings, folder, period="2023-06", workers=1)
    (issue,) = raised.value.issues
    assert (issue.file, issue.rule) == (str(folder / "K3.xlsx"), "write_failed")
    assert issue.detail == "ValueError: a value the writer refuses"
    assert sorted(p.name for p in folder.iterdir()) == ["K1.xlsx", "K2.xlsx", "K4.xlsx"]
