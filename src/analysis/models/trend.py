"""The rate trend per institution (利率趋势): OLS on time with month-of-year effects, Newey–West
standard errors, and the trend test whose size is corrected by a simulated null table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    pass
from analysis.models.spec import FALLBACK, INSUFFICIENT, OK, RateTrendSpec, TrendTestSpec

# --- rate trend -------------------------------------------------------------------------------


def _month_index(periods: pd.Series) -> np.ndarray:
    return (periods.dt.year * 12 + periods.dt.month).to_numpy()


def rate_frame(history: pd.DataFrame, period: pd.Timestamp) -> pd.DataFrame:
    """One institution's monthly rates up to ``period`` with the model columns."""
    h = history[(history["period"] <= period)].dropna(subset=["month_new_loan_rate_pct"])
    t = _month_index(h["period"]) - (period.year * 12 + period.month)
    return pd.DataFrame(
        {
            "period": h["period"].to_numpy(),
            "rate": h["month_new_loan_rate_pct"].to_numpy(),
            "t": t,
            "month": h["period"].dt.month.to_numpy(),
            "current": (h["period"].dt.year == period.year).astype(int).to_numpy(),
        }
    )


def bartlett_kernel(n: int, bandwidth: float) -> np.ndarray:
    """n×n Bartlett weights k(|i−j|/M) = max(0, 1 − |i−j|/M), M = ``bandwidth`` (in observations)."""
    lag = np.abs(np.subtract.outer(np.arange(n), np.arange(n)))
    return np.clip(1.0 - lag / max(bandwidth, 1.0), 0.0, None)


def hac_t(X: np.ndarray, Y: np.ndarray, column: int, bandwidth: float) -> tuple[np.ndarray, np.ndarray]:
    """OLS coefficient ``column`` and its Bartlett-HAC standard error for each row of ``Y`` (R×T).

    No small-sample degrees-of-freedom factor: the critical values are simulated for the design,
    so they carry the loss of degrees of freedom themselves (Kiefer & Vogelsang 2005, fixed-b).
    """
    Y = np.atleast_2d(Y)
    a = np.linalg.pinv(X)  # k×T: rows give each coefficient as a weighted sum of y
    beta = Y @ a.T
    resid = Y - beta @ X.T
    u = resid * a[column]
    variance = np.einsum("rt,ts,rs->r", u, bartlett_kernel(X.shape[0], bandwidth), u)
    return beta[:, column], np.sqrt(np.maximum(variance, 0.0))


def residual_ar1(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """First-order autocorrelation of the OLS residuals of each row of ``Y``."""
    Y = np.atleast_2d(Y)
    resid = Y - (Y @ np.linalg.pinv(X).T) @ X.T
    denom = (resid * resid).sum(axis=1)
    return np.divide((resid[:, 1:] * resid[:, :-1]).sum(axis=1), denom, out=np.zeros(len(Y)), where=denom > 0)


def _ar1_noise(rng: np.random.Generator, phi: float, reps: int, n: int) -> np.ndarray:
    """``reps`` stationary Gaussian AR(1) series of length ``n`` (unit innovations)."""
    e = rng.standard_normal((reps, n))
    y = np.empty_like(e)
    y[:, 0] = e[:, 0] / np.sqrt(1 - phi**2)
    for i in range(1, n):
        y[:, i] = phi * y[:, i - 1] + e[:, i]
    return y


@dataclass(frozen=True)
class NullTable:
    """Simulated null distribution of |t| for one design, by AR(1) coefficient of the errors."""

    grid: np.ndarray  # AR coefficients simulated
    abs_t: np.ndarray  # len(grid) × replications, each row sorted
    residual_ar_q: np.ndarray  # the ar_quantile-quantile of the residual AR(1) estimate at each grid value


@lru_cache(maxsize=64)
def _null_table_cached(design: bytes, shape: tuple[int, int], column: int, spec: TrendTestSpec) -> NullTable:
    X = np.frombuffer(design).reshape(shape)
    n = shape[0]
    grid = np.asarray(spec.ar_grid, dtype=float)
    rng = np.random.default_rng(spec.seed + n)
    abs_t, ar_q = [], []
    for phi in grid:
        y = _ar1_noise(rng, phi, spec.replications, n)
        beta, se = hac_t(X, y, column, spec.bandwidth * n)
        abs_t.append(np.sort(np.abs(beta) / np.where(se > 0, se, np.inf)))
        ar_q.append(np.quantile(residual_ar1(X, y), spec.ar_quantile))
    return NullTable(grid, np.array(abs_t), np.maximum.accumulate(np.array(ar_q)))


def null_table(X: np.ndarray, column: int, spec: TrendTestSpec) -> NullTable:
    """:class:`NullTable` for the design ``X`` (cached: every bank with the same months shares it).

    Under H0 the HAC t statistic does not depend on the other coefficients or on the error
    scale, so pure AR(1) noise gives its exact null distribution for the design.
    """
    X = np.ascontiguousarray(X, dtype=float)
    return _null_table_cached(X.tobytes(), X.shape, column, spec)


def trend_test(
    X: np.ndarray, Y: np.ndarray, column: int, spec: TrendTestSpec, confidence: float = 0.95
) -> dict[str, np.ndarray]:
    """Size-corrected HAC test (趋势检验) of coefficient ``column`` = 0, for each row of ``Y``.

    The statistic is the OLS coefficient over its Bartlett-HAC standard error with bandwidth
    b·T (fixed-b, Kiefer & Vogelsang 2005). Its null distribution depends on the design (13
    regressors in 24 months leave 11 degrees of freedom) and on the serial correlation of the
    errors, so both are simulated: for ``bootstrap`` the AR(1) coefficient is read off the
    residuals and inverted through the simulated distribution of that estimate at the
    ``ar_quantile`` (0.25: above median-unbiased, which offsets the uncertainty of the
    estimate in 24 months; measured in notebooks/model_validation.ipynb); ``fixed_b`` assumes
    white noise. Returns estimate, se, t, p, critical value, the AR coefficient used, each an array.
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    beta, se = hac_t(X, Y, column, spec.bandwidth * X.shape[0])
    t = np.divide(beta, se, out=np.zeros_like(beta), where=se > 0)
    table = null_table(X, column, spec)
    white_noise = spec.method == "fixed_b"
    phi = np.zeros(len(Y)) if white_noise else np.interp(residual_ar1(X, Y), table.residual_ar_q, table.grid)
    phi = np.clip(phi, max(0.0, table.grid[0]), table.grid[-1])  # negative correlation: white-noise values
    pos = np.interp(phi, table.grid, np.arange(len(table.grid)))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, len(table.grid) - 1)
    w = pos - lo
    reps = table.abs_t.shape[1]
    p = np.zeros(len(Y))
    cv = np.zeros(len(Y))
    for k in np.unique(np.r_[lo, hi]):  # interpolate tail probability and critical value in phi
        row = table.abs_t[k]
        weight = (lo == k) * (1 - w) + (hi == k) * w * (hi != lo)
        p += weight * (1.0 - np.searchsorted(row, np.abs(t), side="left") / reps)
        cv += weight * np.quantile(row, confidence)
    return {"estimate": beta, "se": se, "t": t, "p": np.clip(p, 0.0, 1.0), "cv": cv, "phi": phi}


def trend_test_rejection_rate(
    n: int,
    phi: float,
    spec: TrendTestSpec,
    reps: int = 1000,
    seed: int = 0,
    slope_in_sd: float = 0.0,
    seasonal: bool = True,
    alpha: float = 0.05,
) -> float:
    """Share of ``reps`` simulated series whose trend test rejects at ``alpha`` (size when
    ``slope_in_sd`` = 0, power otherwise): ``n`` months, AR(``phi``) errors of unit innovation
    variance, a trend of ``slope_in_sd`` innovation standard deviations a month, month effects
    in the model when ``seasonal``. ``newey_west`` runs the statsmodels HAC t-test it replaced."""
    rng = np.random.default_rng(seed)
    t_index = np.arange(n) - (n - 1)
    y = _ar1_noise(rng, phi, reps, n) + slope_in_sd * t_index
    X = _trend_design(n, seasonal)
    if spec.method == "newey_west":
        import statsmodels.api as sm

        lags = min(3, max(n // 4, 1))
        rejections = 0
        for row in y:
            res = sm.OLS(row, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True)
            rejections += res.pvalues[1] < alpha
        return rejections / reps
    return float(np.mean(trend_test(X, y, 1, spec, 1 - alpha)["p"] < alpha))


def _trend_design(n: int, seasonal: bool) -> np.ndarray:
    """Intercept, months from the last (t ≤ 0) and, when ``seasonal``, eleven month-of-year dummies."""
    t = np.arange(n) - (n - 1.0)
    cols = [np.ones(n), t]
    if seasonal:
        month = np.arange(n) % 12
        cols += [(month == k).astype(float) for k in range(1, 12)]
    return np.column_stack(cols)


def _ols_test(formula: str, frame: pd.DataFrame, term: str, spec: RateTrendSpec, lags: int):
    """Estimate, interval, p-value of ``term`` and the fitted trend band, by the configured test."""
    import patsy
    import statsmodels.formula.api as smf

    alpha = 1 - spec.confidence
    if spec.test.method == "newey_west":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = smf.ols(formula, frame).fit(
                cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": True}, use_t=True
            )
            ci = res.conf_int(alpha)
            pred = res.get_prediction(frame).summary_frame(alpha)
        return (
            res.params[term],
            ci.loc[term, 0],
            ci.loc[term, 1],
            res.pvalues[term],
            res.rsquared,
            pred["mean"].to_numpy(),
            pred["mean_ci_lower"].to_numpy(),
            pred["mean_ci_upper"].to_numpy(),
        )
    y, X = patsy.dmatrices(formula, frame, return_type="dataframe")
    column = list(X.columns).index(term)
    Xa, ya = X.to_numpy(dtype=float), y.to_numpy(dtype=float).ravel()
    out = trend_test(Xa, ya[None, :], column, spec.test, spec.confidence)
    est, se, cv, p = out["estimate"][0], out["se"][0], out["cv"][0], out["p"][0]
    # fitted values with a band from the full fixed-b HAC covariance and the same critical value
    a = np.linalg.pinv(Xa)
    beta = a @ ya
    fitted = Xa @ beta
    resid = ya - fitted
    u = a * resid  # k×T
    cov = u @ bartlett_kernel(len(ya), spec.test.bandwidth * len(ya)) @ u.T
    band = cv * np.sqrt(np.maximum(np.einsum("ti,ij,tj->t", Xa, cov, Xa), 0.0))
    r2 = 1 - float(resid @ resid) / float(((ya - ya.mean()) ** 2).sum()) if ya.var() > 0 else np.nan
    return est, est - cv * se, est + cv * se, p, r2, fitted, fitted - band, fitted + band


def fit_rate_trend(frame: pd.DataFrame, spec: RateTrendSpec) -> tuple[dict, pd.DataFrame]:
    """Trend slope (bp/month) and current-year level change (bp), with intervals and tests by
    ``spec.test`` (size-corrected fixed-b by default; Newey–West as an option)."""
    n = len(frame)
    out = {
        "n": n,
        "status": INSUFFICIENT,
        "formula": "",
        "test": spec.test.method,
        "slope_bp": np.nan,
        "slope_lo": np.nan,
        "slope_hi": np.nan,
        "slope_p": np.nan,
        "level_bp": np.nan,
        "level_lo": np.nan,
        "level_hi": np.nan,
        "level_p": np.nan,
        "r2": np.nan,
    }
    if n < spec.min_months:
        return out, pd.DataFrame(columns=["period", "trend", "trend_lo", "trend_hi"])
    seasonal = n >= spec.min_months_seasonal and frame["month"].nunique() == 12
    formula = spec.formula if seasonal else spec.fallback_formula
    lags = min(spec.hac_maxlags, max(n // 4, 1))
    est, lo, hi, p, r2, fit, fit_lo, fit_hi = _ols_test(formula, frame, "t", spec, lags)
    out.update(
        status=OK if seasonal else FALLBACK,
        formula=formula,
        slope_bp=est * 100,
        slope_lo=lo * 100,
        slope_hi=hi * 100,
        slope_p=p,
        r2=r2,
    )
    fitted = pd.DataFrame({"period": frame["period"].to_numpy(), "trend": fit, "trend_lo": fit_lo, "trend_hi": fit_hi})
    # level of the current year against the prior year, on the months both years share
    two = frame[frame["t"] > -24].copy()
    current_months = set(two.loc[two["current"] == 1, "month"])
    two = two[two["month"].isin(current_months)]
    if two["current"].sum() >= 2 and (two["current"] == 0).sum() >= 2:
        level_formula = spec.level_formula if len(current_months) > 1 else "rate ~ current"
        est, lo, hi, p, *_ = _ols_test(
            level_formula, two.reset_index(drop=True), "current", spec, min(lags, max(len(two) // 4, 1))
        )
        out.update(level_bp=est * 100, level_lo=lo * 100, level_hi=hi * 100, level_p=p)
    return out, fitted
