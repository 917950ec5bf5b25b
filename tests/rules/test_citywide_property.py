"""Property: the three city-wide figures equal the sums of their parts, whatever the banks."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.rules.indicators import citywide_figures, compute_indicators
from tests.conftest import make_dataset

CATEGORIES = ["大型商业银行", "城市商业银行", "农村商业银行", "村镇银行"]

bank_strategy = st.fixed_dictionaries(
    {
        "category": st.sampled_from(CATEGORIES),
        "legal": st.booleans(),
        "base": st.floats(1, 1e6),
        "current": st.floats(0, 2e6),
        "total_base": st.floats(1, 1e7),
        "total_growth": st.floats(-0.5, 0.5),
        "borrowers_base": st.integers(0, 10_000),
        "borrowers": st.integers(0, 10_000),
        "plan": st.one_of(st.none(), st.floats(1, 1e5)),
    }
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(banks=st.lists(bank_strategy, min_size=1, max_size=12))
def test_citywide_equals_sum_of_parts(policy, banks):
    institutions, monthly, plans = [], [], []
    for i, b in enumerate(banks):
        iid = f"X{i}"
        # only legal-entity categories can be legal entities here, as in the contract
        legal = b["legal"] and b["category"] != "大型商业银行"
        institutions.append(
            {
                "institution_id": iid,
                "name": iid,
                "category": b["category"],
                "entity_type": "法人机构" if legal else "分支机构",
            }
        )
        total_base = max(b["total_base"], b["base"])
        monthly.append(
            {
                "institution_id": iid,
                "period": "2022-12",
                "inclusive_balance": b["base"],
                "total_loans": total_base,
                "inclusive_borrowers": b["borrowers_base"],
            }
        )
        monthly.append(
            {
                "institution_id": iid,
                "period": "2023-09",
                "inclusive_balance": b["current"],
                "total_loans": total_base * (1 + b["total_growth"]),
                "inclusive_borrowers": b["borrowers"],
            }
        )
        if b["plan"] is not None:
            plans.append({"institution_id": iid, "year": 2023, "planned_increase": b["plan"]})
    ds = make_dataset(institutions, monthly, plans)
    city = citywide_figures(compute_indicators(ds, policy), policy)
    row = city.loc[pd.Timestamp("2023-09-30")]

    legal = [(inst, b) for inst, b in zip(institutions, banks) if inst["entity_type"] == "法人机构"]
    base = sum(b["base"] for _, b in legal)
    cur = sum(b["current"] for _, b in legal)
    tbase = sum(max(b["total_base"], b["base"]) for _, b in legal)
    tcur = sum(max(b["total_base"], b["base"]) * (1 + b["total_growth"]) for _, b in legal)
    assert row["legal_count"] == len(legal)
    if legal:
        assert row["legal_inclusive_growth_pct"] == pytest.approx((cur - base) / base * 100, rel=1e-9, abs=1e-9)
        assert row["legal_total_loans_growth_pct"] == pytest.approx((tcur - tbase) / tbase * 100, rel=1e-9, abs=1e-9)
        change = sum(b["borrowers"] - b["borrowers_base"] for _, b in legal)
        assert row["legal_borrowers_change"] == change
    for group, is_legal in (("legal", True), ("branch", False)):
        members = [
            b
            for inst, b in zip(institutions, banks)
            if (inst["entity_type"] == "法人机构") == is_legal and b["plan"] is not None
        ]
        assert row[f"{group}_plan_count"] == len(members)
        if members:
            increase = sum(b["current"] - b["base"] for b in members)
            planned = sum(b["plan"] for b in members)
            assert row[f"{group}_plan_completion_pct"] == pytest.approx(increase / planned * 100, rel=1e-9, abs=1e-9)
