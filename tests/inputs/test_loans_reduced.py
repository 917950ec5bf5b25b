"""The reduced S71 recomputation (sql/recompute_s71.sql) gives every cell of the former, expanding
one (sql/recompute_s71_expanded.sql): on the demo's EAST loans and on tables hypothesis makes."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.inputs.loans import connect, load_loan_rules, recompute_s71

RULES = load_loan_rules()


def _both(folder: Path) -> pd.DataFrame:
    con = connect(folder, threads=2)
    try:
        new = recompute_s71(con, RULES)
        old = recompute_s71(con, RULES, query="recompute_s71_expanded")
    finally:
        con.close()
    return old.merge(new, on=["bank_id", "period", "item"], how="outer", suffixes=("_old", "_new"), indicator=True)


def _assert_same(both: pd.DataFrame) -> None:
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"]
    old, new = both["value_old"], both["value_new"]
    same = (old.isna() & new.isna()) | np.isclose(old, new, rtol=0, atol=1e-9)
    assert same.all(), both[~same]


def test_reduced_equals_expanded_on_the_demo(tmp_path):
    from analysis.demo.loans import write_demo_loans

    demo = write_demo_loans(tmp_path / "demo")
    both = _both(demo.folder)
    assert len(both) > 5_000 and both["bank_id"].nunique() == 45
    _assert_same(both)


CUSTOMER_TYPES = [
    ("企业", "小型"),
    ("企业", "微型"),
    ("企业", "中型"),
    ("个体工商户", None),
    ("小微企业主", None),
    ("其他个人", None),
]
receipt = st.fixed_dictionaries(
    {
        "customer": st.integers(0, 5),
        "bank": st.sampled_from(["K1", "K2"]),
        "subject": st.sampled_from(["130101", "130301", None]),
        "amount": st.sampled_from([0, 100_000, 2_500_000.5, 7_000_000]),
        "balance": st.sampled_from([-1_000, 0, 50_000, 1_234_567.89, None]),
        "five_class": st.sampled_from(["正常", "关注", "次级", "损失", None]),
        "disbursed": st.sampled_from(["2022-11-30", "2023-01-01", "2023-06-30", "2023-07-01", None]),
        "term_days": st.sampled_from([30, 366, 365, None]),
        "rate": st.sampled_from([0.0, 4.35, 12.5, None]),
        "type": st.sampled_from(["新增", "借新还旧", "重组", "无还本续贷", None]),
        "guarantee": st.sampled_from(["信用", "抵押", None]),
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    receipts=st.lists(receipt, min_size=1, max_size=30),
    kinds=st.lists(st.sampled_from(CUSTOMER_TYPES), min_size=6, max_size=6),
    lines=st.lists(
        st.sampled_from([500_000, 1_000_000, 3_000_000, 9_999_999, 20_000_000, 40_000_000]), min_size=12, max_size=12
    ),
)
def test_reduced_equals_expanded_on_made_tables(receipts, kinds, lines):
    rows = []
    for i, r in enumerate(receipts):
        maturity = (
            None
            if r["disbursed"] is None or r["term_days"] is None
            else (pd.Timestamp(r["disbursed"]) + pd.Timedelta(days=r["term_days"])).strftime("%Y-%m-%d")
        )
        rows.append(
            {
                "data_date": "2023-06-30",
                "bank_id": r["bank"],
                "receipt_id": f"R{i}",
                "customer_id": f"C{r['customer']}",
                "subject": r["subject"],
                "amount": r["amount"],
                "balance": r["balance"],
                "five_class": r["five_class"],
                "disbursement_date": r["disbursed"],
                "maturity_date": maturity,
                "rate": r["rate"],
                "disbursement_type": r["type"],
                "overdue_days": 0,
                "guarantee_type": r["guarantee"],
            }
        )
    customers = pd.DataFrame(
        [
            {
                "bank_id": b,
                "customer_id": f"C{c}",
                "customer_type": t,
                "enterprise_size": s,
                "founding_date": "2010-01-01",
            }
            for b in ("K1", "K2")
            for c, (t, s) in enumerate(kinds)
        ]
    )
    credit = pd.DataFrame(
        [
            {
                "bank_id": b,
                "customer_id": f"C{c}",
                "line_amount": lines[k * 6 + c],
                "line_start": "2020-01-01",
                "line_end": "2025-12-31",
            }
            for k, b in enumerate(("K1", "K2"))
            for c in range(6)
            if (k * 6 + c) % 5 != 4  # some customers have no line (band 1 by a line of 0)
        ]
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pd.DataFrame(rows).to_csv(folder / "receipts.csv", index=False)
        customers.to_csv(folder / "customers.csv", index=False)
        credit.to_csv(folder / "credit_lines.csv", index=False)
        _assert_same(_both(folder))


@pytest.mark.parametrize("query", ["recompute_s71", "recompute_s71_expanded"])
def test_both_queries_give_the_hand_worked_cells(tmp_path, query):
    from tests.inputs.test_loans import EXPECTED, _write

    con = connect(_write(tmp_path / "l"))
    try:
        cells = recompute_s71(con, RULES, query=query).set_index("item")["value"]
    finally:
        con.close()
    assert {item: cells.get(item, 0.0) for item in EXPECTED} == pytest.approx(EXPECTED)
