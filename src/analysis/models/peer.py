"""Rate against peers (同业比较): a MixedLM across all banks, category fixed effects, institution
random intercepts and slopes; each bank's deviation from its category with an interval.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    pass
from analysis.models.spec import FAILED, FALLBACK, INSUFFICIENT, OK, PeerSpec
from analysis.models.trend import _month_index

# --- peers: mixed model -----------------------------------------------------------------------


def fit_peer_model(
    indicators: pd.DataFrame, period: pd.Timestamp, categories: list[str], spec: PeerSpec
) -> tuple[pd.DataFrame, dict]:
    """Each bank's deviation from its category (bp) at the report period, from MixedLM."""
    import statsmodels.formula.api as smf
    from scipy.stats import norm

    ind = indicators[indicators["category"].isin(categories) & (indicators["period"] <= period)]
    ind = ind.dropna(subset=["month_new_loan_rate_pct"])
    start = period - pd.DateOffset(months=spec.window_months - 1) - pd.offsets.MonthEnd(1)
    ind = ind[ind["period"] > start]
    data = pd.DataFrame(
        {
            "institution_id": ind["institution_id"].to_numpy(),
            "category": ind["category"].to_numpy(),
            "rate": ind["month_new_loan_rate_pct"].to_numpy(),
            "t": _month_index(ind["period"]) - (period.year * 12 + period.month),
        }
    )
    info: dict[str, Any] = {
        "status": INSUFFICIENT,
        "re_formula": "",
        "n_groups": int(data["institution_id"].nunique()),
        "n_obs": len(data),
        "converged": False,
    }
    empty = pd.DataFrame(columns=["institution_id", "deviation_bp", "deviation_lo", "deviation_hi", "flagged"])
    if info["n_groups"] < spec.min_institutions:
        return empty, info
    z = norm.ppf(0.5 + spec.confidence / 2)
    for re_formula, status in ((spec.re_formula, OK), (spec.fallback_re_formula, FALLBACK)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = smf.mixedlm(spec.formula, data, groups=data["institution_id"], re_formula=re_formula)
                res = model.fit(reml=True, method=["lbfgs", "powell"])
        except (np.linalg.LinAlgError, ValueError):
            continue
        if not res.converged:
            continue
        rows = []
        for iid, effects in res.random_effects.items():
            cov = res.random_effects_cov[iid]
            dev = float(effects.iloc[0]) * 100
            se = float(np.sqrt(max(cov.iloc[0, 0], 0))) * 100
            rows.append((iid, dev, dev - z * se, dev + z * se))
        out = pd.DataFrame(rows, columns=["institution_id", "deviation_bp", "deviation_lo", "deviation_hi"])
        out["flagged"] = (out["deviation_bp"] >= spec.flag_min_bp) & (out["deviation_lo"] > 0)
        info.update(
            status=status,
            re_formula=re_formula,
            converged=True,
            group_variance=float(res.cov_re.iloc[0, 0]),
            residual_variance=float(res.scale),
            slope_bp=float(res.fe_params.get("t", np.nan)) * 100,
        )
        return out, info
    info["status"] = FAILED
    return empty, info
