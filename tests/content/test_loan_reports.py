"""Loan-level findings in the reports: from the demo S71 exports and loan tables, through the
importer, into the state, a bank's report (its own findings only), the overview and indicators.xlsx."""

from __future__ import annotations

import re
import shutil

import openpyxl
import pandas as pd
import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from analysis.demo.s71 import write_demo_exports
    from analysis.inputs.s71 import import_s71

    raw = write_demo_exports(tmp_path_factory.mktemp("raw"), params_dir=ROOT / "params")
    out = tmp_path_factory.mktemp("data")
    import_s71([raw / "s71"], raw / "tidy", out, unit=None, params_dir=ROOT / "params")
    shutil.copytree(raw / "loans", out / "loans")
    return out


@pytest.fixture(scope="module")
def state(data_dir):
    from analysis.state import load_state

    return load_state(data_dir, ROOT / "params", use_cache=False)


def _text(html) -> str:
    return re.sub(r"<[^>]+>", " ", str(html))


def test_state_carries_the_planted_discrepancies(state):
    rec = state.loans.reconciliation
    differing = rec[~rec["within_tolerance"]]
    # B010: a 50万 receipt missing from its return (balance ≤1000万 with and without bills); B025: a hidden NPL
    assert sorted(zip(differing["institution_id"], differing["item"])) == [
        ("B010", "6.A0"),
        ("B010", "6.A5"),
        ("B025", "6.C5"),
    ]


def test_bank_report_shows_its_own_findings_only(data_dir):
    from analysis.content.institution import institution_context, loan_checks

    b014 = _text(loan_checks(institution_context("B014", "2023-12", data_dir, ROOT / "params")))
    assert "多头授信" in b014 or "过度授信" in b014
    # the shared customer has lines at four banks: B014 sees the count, never the other banks
    assert not any(other in b014 for other in ("B015", "B016", "B022"))
    b010 = _text(loan_checks(institution_context("B010", "2023-12", data_dir, ROOT / "params")))
    assert "6.A5" in b010 and "6.C5" not in b010


def test_a_banks_notebook_without_cache_runs_only_its_own_loan_checks(data_dir, state, tmp_path, monkeypatch):
    """``load_state(loans=False)`` (a bank's notebook) leaves the city-wide loan checks out and runs
    one bank's when asked: the same rows the city-wide run has for that bank (planted cases:
    B010 a missing receipt, B025 a hidden NPL, B014/B022 a customer with lines at four banks,
    B040 new borrowers; B001 none). It is cached apart: a batch never takes it for the whole state."""
    from analysis.inputs.loans import bank_findings
    from analysis.state import load_state

    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    partial = load_state(data_dir, ROOT / "params", loans=False)
    assert partial.loans is None
    for bank in ("B010", "B025", "B014", "B022", "B040", "B001"):
        one = partial.loan_findings_for(bank)
        own = bank_findings(one, bank, "2023-12")
        expected = bank_findings(state.loans, bank, "2023-12")
        assert list(own) == list(expected)
        for name in expected:
            pd.testing.assert_frame_equal(own[name], expected[name], check_dtype=False, obj=f"{bank} {name}")
        assert set(one.reconciliation["institution_id"]) == {bank}
    assert not partial.loan_findings_for("B014").checks["over_crediting"].empty
    assert [p.name.endswith("-without-loans.pkl") for p in (tmp_path / "cache").glob("state-*")] == [True]
    whole = load_state(data_dir, ROOT / "params")
    assert whole.loans is not None
    assert load_state(data_dir, ROOT / "params", loans=False).loans is not None  # the whole state, once cached


def test_overview_names_every_bank_with_findings(data_dir):
    from analysis.content.overview import city_context, loan_checks

    text = _text(loan_checks(city_context("2023-12", data_dir, ROOT / "params")))
    for bank in ("B010", "B025", "B026", "B040", "B014", "B015", "B016", "B022"):
        assert bank in text


def test_indicator_workbook_has_the_findings_sheets(state, tmp_path):
    from analysis.outputs.excel import write_indicator_workbook

    book = openpyxl.load_workbook(write_indicator_workbook(state, pd.Timestamp("2023-12-31"), tmp_path / "i.xlsx"))
    assert {"S71与借据核对", "逾期未入不良", "多头过度授信", "新设主体贷款"} <= set(book.sheetnames)
    rows = list(book["S71与借据核对"].values)
    assert rows[0][0] == "机构编码" and any(r[0] == "B010" for r in rows[1:])


def test_no_loans_folder_means_a_note_not_an_error(state, tmp_path):
    import dataclasses

    from analysis.content.institution import InstitutionContext, loan_checks

    ctx = InstitutionContext.__new__(InstitutionContext)
    ctx.state = dataclasses.replace(state, loans=None, data_dir=tmp_path)  # a data folder without loans/
    ctx.institution_id = "B010"
    assert "未提供借据级数据" in _text(loan_checks(ctx))


def test_provenance_lists_the_loan_folder_as_one_digest_not_by_bank(state):
    from analysis.content.institution import input_file_digests

    digests = input_file_digests(state.hashes)
    assert not any(name.startswith("data/loans/B") for name in digests)
    loans = [name for name in digests if name.startswith("data/loans/")]
    assert len(loans) == 1 and "个借据级文件" in loans[0]
    # the digest changes when any loan file changes
    changed = dict(state.hashes)
    first = next(k for k in changed if k.startswith("data/loans/"))
    changed[first] = "0" * 64
    assert input_file_digests(changed)[loans[0]] != digests[loans[0]]


def test_loan_checks_name_every_rule_in_chinese(data_dir):
    """The coverage table of a bank's loan checks names the rule by its label in params/loans.yaml
    ("成立或股权受让不久即获经营贷款"), never by its key (new_borrower)."""
    from analysis.content.institution import institution_context, loan_checks

    text = _text(loan_checks(institution_context("B017", "2023-12", data_dir, ROOT / "params")))
    assert "核查覆盖面" in text and "成立或股权受让不久即获经营贷款" in text
    keys = re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", text)
    assert not keys, keys
