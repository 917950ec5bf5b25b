"""Backtest (回测): forecasts from past origins scored against what happened — Brier skill,
reliability, interval coverage by horizon, the calibrated error scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.core.policy import Policy

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    from analysis.state import State
from analysis.models.forecast import _policy_for, _probabilities, bank_rng, fit_bank, simulate_bank
from analysis.models.spec import ModelSpec, load_model_spec

# --- backtest ---------------------------------------------------------------------------------


def _outcomes(o: pd.Series, policy: Policy) -> dict[str, bool]:
    """What happened in December: each leg of 两增 and the plan (the targets of the probabilities)."""
    ti, plan = policy.two_increases, policy.plan
    actual: dict[str, bool] = {}
    if plan is not None:
        actual["p_plan"] = bool(o["plan_completion_pct"] >= plan.completion_min_pct)
    if ti is None:
        return actual
    if o["differentiated"] and ti.differentiated_on_plan and plan is not None:
        actual["p_growth_leg"] = bool(o["plan_completion_pct"] >= plan.completion_min_pct)
    else:
        actual["p_growth_leg"] = bool(o["growth_margin_pp"] >= ti.growth_margin_min_pp)
    if ti.borrowers_change_min is None:  # growth alone is the target
        actual["p_two_increases"] = actual["p_growth_leg"]
        return actual
    actual["p_borrowers_leg"] = bool(o["borrowers_change"] >= ti.borrowers_change_min)
    actual["p_two_increases"] = actual["p_growth_leg"] and actual["p_borrowers_leg"]
    return actual


def backtest(
    state: State,
    years: list[int],
    months: list[int],
    error_scales: list[float] | None = None,
    spec: ModelSpec | None = None,
    institutions: list[str] | None = None,
) -> pd.DataFrame:
    """Rolling-origin backtest (滚动起点回测): at each month-end of each year, forecast December from
    the data then available and compare with what happened.

    One row per origin, bank, target and error scale: ``probability`` and ``outcome`` for the
    year-end probabilities; for ``interval:<series>`` rows, ``outcome`` says whether December fell
    inside the 90 % interval. The ETS models are fitted once per origin and bank; each scale of
    ``error_scales`` (default: the configured one) re-simulates them with the same random numbers
    (:func:`bank_rng`, as the reports draw them), so scales are compared on equal terms.
    ``institutions``: only these banks (default: every bank).
    """
    spec = spec or load_model_spec(Path(state.params_dir) / "models.yaml")
    scales = list(error_scales or [spec.forecast.error_scale])
    rows: list[dict] = []
    ind = state.indicators
    banks = ind[ind["sector"] == "bank"]
    if institutions is not None:
        banks = banks[banks["institution_id"].isin(institutions)]
    grouped = dict(tuple(banks.groupby("institution_id")))
    for year in years:
        december = pd.Timestamp(year=year, month=12, day=31)
        outcome = banks[banks["period"] == december].set_index("institution_id")
        if outcome.empty:
            continue
        policy = _policy_for(state, year)
        for month in months:
            period = pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
            current = banks[banks["period"] == period].set_index("institution_id")
            for iid in current.index:
                if iid not in outcome.index:
                    continue
                history = grouped[iid].sort_values("period")
                fit_rows, fits = fit_bank(history, period, spec.forecast)
                o = outcome.loc[iid]
                actual = _outcomes(o, policy)
                base = {"year": year, "month": month, "horizon": 12 - month, "institution_id": iid}
                for scale in scales:
                    rng = bank_rng(spec.forecast.seed, period, iid)
                    sim_rows = [dict(r) for r in fit_rows]
                    _, draws = simulate_bank(sim_rows, fits, period, spec.forecast, rng, scale)
                    probs = _probabilities(current.loc[iid], draws, policy)
                    for target, happened in actual.items():
                        p = probs[target]
                        if not np.isnan(p):
                            rows.append(
                                {**base, "error_scale": scale, "target": target, "probability": p, "outcome": happened}
                            )
                    for r in sim_rows:
                        value = o.get(r["series"], np.nan)
                        if r.get("lo") is not None and not pd.isna(r.get("lo")) and not pd.isna(value):
                            rows.append(
                                {
                                    **base,
                                    "error_scale": scale,
                                    "target": f"interval:{r['series']}",
                                    "probability": np.nan,
                                    "outcome": bool(r["lo"] <= value <= r["hi"]),
                                }
                            )
    return pd.DataFrame(
        rows, columns=["year", "month", "horizon", "institution_id", "error_scale", "target", "probability", "outcome"]
    )


def calibrate_error_scale(bt: pd.DataFrame, origin_years: list[int], interval: float = 0.9) -> dict:
    """Choose the error scale on the origins of ``origin_years`` only (校准): the scale whose
    ``interval`` prediction intervals cover December most nearly ``interval`` of the time, pooled
    over the three series and every origin month (ties: the smaller scale). The scale is meant to
    widen one-step ETS errors to year-end uncertainty, so coverage is its natural target; the Brier
    scores of the probabilities are reported beside it, never used to choose.

    Returns the chosen scale, its coverage on the calibration origins and the coverage of every scale.
    """
    cal = bt[bt["year"].isin(origin_years) & bt["target"].str.startswith("interval:")]
    if cal.empty:
        raise ValueError(f"no backtest origins in {origin_years} / 校准年份无回测数据")
    coverage = cal.groupby("error_scale")["outcome"].mean()
    gap = (coverage - interval).abs().round(6)
    chosen = float(gap.index[gap.argmin()])
    return {
        "error_scale": chosen,
        "coverage": float(coverage[chosen]),
        "origin_years": sorted(origin_years),
        "by_scale": coverage,
    }


def brier_skill(bt: pd.DataFrame, target: str) -> float:
    """1 − Brier / Brier of the base-rate forecast (the share of banks that met the target that year)."""
    g = bt[bt["target"] == target]
    if g.empty:
        return float("nan")
    o = g["outcome"].astype(float)
    base = g.groupby("year")["outcome"].transform("mean").astype(float)
    brier, ref = float(np.mean((g["probability"] - o) ** 2)), float(np.mean((base - o) ** 2))
    return 1 - brier / ref if ref > 0 else float("nan")


def reliability(bt: pd.DataFrame, target: str, bins: int = 5) -> pd.DataFrame:
    """Reliability table (可靠性): predicted-probability bins, mean prediction, observed frequency, n."""
    g = bt[bt["target"] == target]
    edges = np.linspace(0, 1, bins + 1)
    g = g.assign(bin=pd.cut(g["probability"], edges, include_lowest=True))
    return (
        g.groupby("bin", observed=True)
        .agg(predicted=("probability", "mean"), observed=("outcome", "mean"), n=("outcome", "size"))
        .reset_index()
    )


def coverage_by_horizon(bt: pd.DataFrame) -> pd.DataFrame:
    """Share of Decembers inside the prediction interval, by months ahead and series."""
    g = bt[bt["target"].str.startswith("interval:")]
    table = g.groupby(["horizon", "target"])["outcome"].mean().unstack("target")
    table["all"] = g.groupby("horizon")["outcome"].mean()
    return table.sort_index(ascending=False)


def backtest_summary(bt: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """Per target: n, hit rate, Brier score, base-rate Brier score (skill), interval coverage.

    The base-rate forecast gives every bank the share of banks that met the target in the same
    year: the reference a model must beat to be worth reading.
    """
    out = []
    probs = bt[~bt["target"].str.startswith("interval:")]
    for target, g in probs.groupby("target"):
        o = g["outcome"].astype(float)
        base = g.groupby("year")["outcome"].transform("mean").astype(float)
        brier = float(np.mean((g["probability"] - o) ** 2))
        brier_base = float(np.mean((base - o) ** 2))
        out.append(
            {
                "target": target,
                "n": len(g),
                "hit_rate": float(np.mean((g["probability"] >= threshold) == g["outcome"])),
                "brier": brier,
                "brier_base_rate": brier_base,
                "skill": 1 - brier / brier_base if brier_base > 0 else np.nan,
                "coverage": np.nan,
            }
        )
    for target, g in bt[bt["target"].str.startswith("interval:")].groupby("target"):
        out.append(
            {
                "target": target,
                "n": len(g),
                "hit_rate": np.nan,
                "brier": np.nan,
                "brier_base_rate": np.nan,
                "skill": np.nan,
                "coverage": float(g["outcome"].mean()),
            }
        )
    return pd.DataFrame(out)
