"""Shared fixtures: a policy stated here (independent of params/), small hand-written datasets,
and the demo jurisdiction written once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.core.contract import INSTITUTIONS, MONTHLY, ONLENDING, PLANS
from analysis.core.dataset import Dataset
from analysis.core.policy import Policy

ROOT = Path(__file__).resolve().parents[1]

POLICY_DICT = {
    "year": 2023,
    "notice": "测试通知",
    "title": "测试",
    "issuing_office": "测试分局",
    "two_increases": {
        "entity_types": ["法人机构"],
        "categories": ["城市商业银行", "农村商业银行", "农村信用社", "村镇银行"],
        "include_bills": False,
        "growth_margin_min_pp": 0.0,
        "borrowers_change_min": 0,
        "differentiated_on_plan": True,
        "clause": "（一）",
    },
    "plan": {
        "categories": ["大型商业银行", "股份制商业银行", "城市商业银行", "农村商业银行", "农村信用社", "村镇银行"],
        "completion_min_pct": 100.0,
        "time_progress_watch": True,
        "clause": "（一）",
    },
    "cost": {
        "categories": ["大型商业银行", "股份制商业银行", "城市商业银行", "农村商业银行", "农村信用社", "村镇银行"],
        "max_rate_change_bp": 0.0,
        "high_rate_percentile": 75,
        "high_rate_min_excess_bp": 50.0,
        "high_rate_min_peers": 3,
        "clause": "（三）",
    },
    "onlending": {"benchmark_categories": ["农村商业银行"], "clause": "（三）"},
    "quality": {"npl_tolerance_pp": 3.0, "clause": "（十一）"},
    "watch_checks": [
        {
            "indicator": "indiv_business_borrowers_change",
            "label": "个体户户数",
            "min": 0,
            "clause": "（九）",
            "sectors": ["bank"],
        },
        {"indicator": "sum_insured_yoy_pct", "label": "保额", "min": 0, "clause": "（十三）", "sectors": ["insurer"]},
    ],
}


@pytest.fixture
def policy() -> Policy:
    return Policy.model_validate(POLICY_DICT)


def month_end(text: str) -> pd.Timestamp:
    return pd.Timestamp(text + "-01") + pd.offsets.MonthEnd(0)


def make_dataset(
    institutions: list[dict], monthly: list[dict], plans: list[dict] | None = None, onlending: list[dict] | None = None
) -> Dataset:
    """A typed dataset from hand-written rows; unspecified columns are empty (NaN)."""
    inst = pd.DataFrame(institutions)
    defaults = {
        "entity_type": "法人机构",
        "county_code": "411302",
        "division": "农村银行机构监管科",
        "differentiated_years": (),
    }
    for col in INSTITUTIONS.columns:
        if col.name not in inst:
            inst[col.name] = [defaults.get(col.name)] * len(inst)
    inst["name"] = inst["name"].fillna(inst["institution_id"])
    mon = pd.DataFrame(monthly)
    mon["period"] = mon["period"].map(month_end)
    for col in MONTHLY.columns:
        if col.name not in mon:
            mon[col.name] = np.nan
    mon = mon[[c.name for c in MONTHLY.columns]].astype(
        {c.name: float for c in MONTHLY.columns if c.kind in ("amount", "count")}
    )
    pl = pd.DataFrame(plans or [], columns=[c.name for c in PLANS.columns])
    ol = pd.DataFrame(onlending or [], columns=[c.name for c in ONLENDING.columns])
    return Dataset(institutions=inst[[c.name for c in INSTITUTIONS.columns]], monthly=mon, plans=pl, onlending=ol)


@pytest.fixture
def data(tmp_path, demo_csv_dir) -> Path:
    """A writable copy of the demo data folder (CSV), for tests that break one file."""
    target = tmp_path / "data"
    shutil.copytree(demo_csv_dir, target)
    return target


@pytest.fixture(scope="session")
def demo_csv_dir(tmp_path_factory) -> Path:
    """The demo jurisdiction as CSV files (fast to copy and break in validation tests)."""
    from analysis.demo.jurisdiction import write_demo_data

    return write_demo_data(tmp_path_factory.mktemp("demo") / "csv", fmt="csv")


@pytest.fixture(scope="session")
def demo_xlsx_dir(tmp_path_factory) -> Path:
    from analysis.demo.jurisdiction import write_demo_data

    return write_demo_data(tmp_path_factory.mktemp("demo") / "xlsx", fmt="xlsx")


#: institutions whose reports the end-to-end tests render: a legal bank missing 两增, a credit
#: cooperative over the NPL tolerance, the policy bank, an insurer
E2E_INSTITUTIONS = ["B017", "B030", "B001", "I003"]


@pytest.fixture(scope="session")
def demo_reports(tmp_path_factory, demo_csv_dir):
    """A real batch (HTML + PDF + site) for a few institutions of the demo data."""
    import os

    from analysis.batch import run_batch
    from analysis.outputs.site import build_site

    root = tmp_path_factory.mktemp("site")
    os.environ.setdefault("ANALYSIS_CACHE_DIR", str(root / "cache"))
    reports = root / "reports"
    summary = run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=ROOT / "params",
        reports_dir=reports,
        institutions=E2E_INSTITUTIONS,
        workers=2,
        progress=False,
    )
    assert not summary.failed, summary.failed
    build_site(reports, "2023-12", "南阳银保监分局")
    return reports


def make_state(ds: Dataset, policies, params_dir: Path | None = None):
    """A report :class:`State` computed from a hand-written dataset and policies, no files read."""
    from analysis.state import state_from_dataset

    return state_from_dataset(ds, dict(policies), ROOT / "data", params_dir or ROOT / "params")
