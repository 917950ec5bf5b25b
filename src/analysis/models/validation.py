"""Model validation (模型验证, ``notebooks/model_validation.ipynb``): the trend test's size on
the data's own shapes, the backtest summary and the calibration record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    from analysis.state import State
from analysis.models.backtest import backtest, backtest_summary, brier_skill, calibrate_error_scale, coverage_by_horizon
from analysis.models.spec import CalibrationRecord, ModelSpec
from analysis.models.trend import _trend_design, trend_test_rejection_rate

# --- validation (notebooks/model_validation.ipynb) -------------------------------------------


@dataclass
class Validation:
    """Everything the validation notebook shows: backtest, calibration, trend-test size and power."""

    backtest: pd.DataFrame
    calibration: dict  # chosen on the calibration years (out of sample for the evaluation year)
    in_sample: dict  # chosen on the evaluation year itself (the former practice)
    calibration_years: list[int]
    evaluation_year: int
    out_of_sample: pd.DataFrame  # evaluation-year rows at the out-of-sample scale
    in_sample_rows: pd.DataFrame
    trend_size: pd.DataFrame
    trend_power: pd.DataFrame
    configured_scale: float
    configured_calibration: CalibrationRecord | None
    banks: list[str] = field(default_factory=list)  # the banks backtested
    interval: float = 0.9  # the prediction interval whose coverage is scored

    @property
    def out_of_sample_summary(self) -> pd.DataFrame:
        return backtest_summary(self.out_of_sample)

    @property
    def in_sample_summary(self) -> pd.DataFrame:
        return backtest_summary(self.in_sample_rows)

    @property
    def coverage(self) -> pd.DataFrame:
        return coverage_by_horizon(self.out_of_sample)

    def record(self, data: str) -> CalibrationRecord:
        """The calibration record (校准记录) for ``forecast.calibration`` in params/models.yaml:
        the scale chosen out of sample, where it was chosen and how it scored on the evaluation year."""
        return CalibrationRecord(
            origin_years=self.calibration_years,
            origin_months=sorted(int(m) for m in self.backtest["month"].unique()),
            evaluated_year=self.evaluation_year,
            grid=sorted(float(s) for s in self.calibration["by_scale"].index),
            criterion=f"{self.interval:.0%} 预测区间覆盖率最接近 {self.interval:.0%}（三项序列、各起点合并）",
            coverage_at_choice=round(self.calibration["coverage"], 3),
            data=data,
            banks=len(self.banks),
            skill={t: round(brier_skill(self.out_of_sample, t), 3) for t in ("p_two_increases", "p_plan")},
            coverage_by_horizon={int(h): round(float(c), 3) for h, c in self.coverage["all"].items()},
        )


def data_trend_sizes(state: State, period: pd.Timestamp, months: int = 36) -> pd.Series:
    """Each bank's rate trend over the last ``months`` months in innovation standard deviations a
    month (|slope| ÷ residual sd, month effects removed): the trend sizes the test must detect."""
    ind = state.indicators
    ind = ind[
        (ind["sector"] == "bank") & (ind["period"] <= period) & (ind["period"] > period - pd.DateOffset(months=months))
    ].dropna(subset=["month_new_loan_rate_pct"])
    out = {}
    for iid, g in ind.groupby("institution_id"):
        g = g.sort_values("period")
        if len(g) < months:
            continue
        X = _trend_design(len(g), seasonal=True)
        y = g["month_new_loan_rate_pct"].to_numpy()
        beta = np.linalg.pinv(X) @ y
        resid = y - X @ beta
        sd = np.sqrt(resid @ resid / (len(y) - X.shape[1]))
        if sd > 0:
            out[iid] = abs(beta[1]) / sd
    return pd.Series(out, name="slope_in_sd")


def sample_banks(state: State, max_banks: int = 0) -> list[str]:
    """Every bank's id in order, or ``max_banks`` of them evenly spaced through that order
    (a fixed, outcome-blind sample for the quick run of the validation notebook); 0: every bank."""
    ind = state.indicators
    ids = sorted(ind.loc[ind["sector"] == "bank", "institution_id"].unique())
    if max_banks <= 0 or max_banks >= len(ids):
        return ids
    picks = np.unique(np.round(np.linspace(0, len(ids) - 1, max_banks)).astype(int))
    return [ids[i] for i in picks]


def validate_models(
    state: State,
    spec: ModelSpec,
    calibration_years: list[int],
    evaluation_year: int,
    months: list[int],
    error_scales: list[float],
    size_replications: int = 2000,
    size_seed: int = 0,
    max_banks: int = 0,
) -> Validation:
    """Rolling-origin backtest over the calibration and evaluation years at every scale, the scale
    chosen out of sample (calibration years) and in sample (evaluation year), and the trend test's
    size and power by seeded simulation. ``max_banks`` > 0 backtests that many banks
    (:func:`sample_banks`) instead of all of them."""
    years = sorted(set(calibration_years) | {evaluation_year})
    banks = sample_banks(state, max_banks)
    bt = backtest(state, years, months, error_scales, spec, institutions=banks)
    cal = calibrate_error_scale(bt, calibration_years, spec.forecast.interval)
    ins = calibrate_error_scale(bt, [evaluation_year], spec.forecast.interval)
    ev = bt[bt["year"] == evaluation_year]
    size_rows = []
    for method in ("bootstrap", "fixed_b", "newey_west"):
        test = spec.rate_trend.test.model_copy(update={"method": method})
        reps = size_replications if method != "newey_west" else max(200, size_replications // 5)
        for n in (24, 36):
            for phi in (0.0, 0.5):
                size_rows.append(
                    {
                        "method": method,
                        "months": n,
                        "phi": phi,
                        "replications": reps,
                        "rejection": trend_test_rejection_rate(n, phi, test, reps, size_seed),
                    }
                )
    sizes = data_trend_sizes(state, pd.Timestamp(year=evaluation_year, month=12, day=31))
    power_rows = []
    for label, q in (("25% 分位", 0.25), ("中位数", 0.5)):
        slope = float(sizes.quantile(q)) if len(sizes) else 0.0
        for n in (24, 36):
            for phi in (0.0, 0.5):
                power_rows.append(
                    {
                        "trend": label,
                        "slope_in_sd": slope,
                        "months": n,
                        "phi": phi,
                        "power": trend_test_rejection_rate(
                            n,
                            phi,
                            spec.rate_trend.test,
                            max(200, size_replications // 4),
                            size_seed + 1,
                            slope_in_sd=-slope,
                        ),
                    }
                )
    return Validation(
        backtest=bt,
        calibration=cal,
        in_sample=ins,
        calibration_years=sorted(calibration_years),
        evaluation_year=evaluation_year,
        out_of_sample=ev[ev["error_scale"] == cal["error_scale"]],
        in_sample_rows=ev[ev["error_scale"] == ins["error_scale"]],
        trend_size=pd.DataFrame(size_rows),
        trend_power=pd.DataFrame(power_rows),
        configured_scale=spec.forecast.error_scale,
        configured_calibration=spec.forecast.calibration,
        banks=banks,
        interval=spec.forecast.interval,
    )
