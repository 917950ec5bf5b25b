"""Rate and growth trend models (statsmodels) and the year-end early warning (年末预警).

- Rate trend per institution: OLS of the monthly weighted new-loan rate on time with
  month-of-year effects, Newey–West (HAC) standard errors; slope in bp a month with its interval;
  the current year's level against the prior year with a test.
- Rate against peers: MixedLM across all banks (category fixed effects, institution random
  intercepts and slopes); each bank's deviation from its category at the report period, with an
  interval; banks clearly above their peers are flagged.
- Growth forecast: ETS on log values for inclusive balance, all loans and borrowers, chosen by
  AICc among the candidates of params/models.yaml; prediction intervals by simulation.
- Early warning: from jointly simulated year-end values (errors correlated across the three
  series), the probability that each leg of 两增 and the credit plan will be met in December.

Short series, gaps and new institutions get a simpler model or an explicit "not enough history"
(历史数据不足) status, never a crash or a silent number.

One bank's report needs only that bank's models and the peer model: :func:`load_models` with
``institution_id`` reads the all-bank cache when the batch has written it, and otherwise fits
that bank alone (the peer model is cached on its own). Each bank's simulations draw from a random
stream derived from (seed, period, institution id) only (:func:`bank_rng`), so a bank's
probabilities are the same whether it is fitted alone, with every bank, or in the backtest.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from analysis.policy import Policy, read_params

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    from analysis.state import State

OK, FALLBACK, INSUFFICIENT, FAILED = "ok", "fallback", "insufficient", "failed"
STATUS_TEXT = {OK: "正常", FALLBACK: "简化模型", INSUFFICIENT: "历史数据不足", FAILED: "模型未收敛"}


# --- specification (params/models.yaml) -------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TrendTestSpec(_Strict):
    """How the slope and level tests get their critical values (趋势检验方法).

    ``bootstrap`` (default): fixed-b HAC t statistic (Bartlett kernel, bandwidth ``b``·T) with
    critical values simulated for the fitted design under AR(1) errors, the AR coefficient plugged
    in conservatively (see :func:`trend_test`). ``fixed_b``: the same statistic with critical
    values simulated under white noise only (exact fixed-b values for the design). ``newey_west``:
    the conventional HAC t-test with ``hac_maxlags`` lags and t critical values, kept for comparison.
    """

    method: Literal["bootstrap", "fixed_b", "newey_west"] = "bootstrap"
    bandwidth: float = Field(0.5, gt=0, le=1)
    replications: int = Field(2000, ge=200)
    ar_grid: tuple[float, ...] = Field(
        default_factory=lambda: tuple(round(-0.3 + 0.05 * i, 2) for i in range(26)), min_length=2
    )
    ar_quantile: float = Field(0.25, gt=0, lt=1)
    seed: int = 0


class RateTrendSpec(_Strict):
    formula: str
    fallback_formula: str
    level_formula: str
    hac_maxlags: int = Field(3, ge=0)
    min_months: int = Field(8, ge=3)
    min_months_seasonal: int = Field(18, ge=13)
    confidence: float = Field(0.95, gt=0, lt=1)
    test: TrendTestSpec = Field(default_factory=lambda: TrendTestSpec.model_validate({}))


class PeerSpec(_Strict):
    formula: str
    re_formula: str
    fallback_re_formula: str
    window_months: int = Field(24, ge=6)
    min_institutions: int = Field(8, ge=3)
    confidence: float = Field(0.95, gt=0, lt=1)
    flag_min_bp: float = Field(50, ge=0)


class Candidate(_Strict):
    name: str
    error: str = "add"
    trend: str | None = None
    damped_trend: bool = False
    seasonal: str | None = None
    seasonal_periods: int | None = None
    min_months: int = 0


class CalibrationRecord(_Strict):
    """Where ``error_scale`` came from (校准来源): chosen on rolling origins of earlier years only
    (:func:`calibrate_error_scale`), scored on a later year in notebooks/model_validation.ipynb."""

    origin_years: list[int] = Field(min_length=1)
    origin_months: list[int] = Field(min_length=1)
    evaluated_year: int
    grid: list[float] = Field(min_length=2)
    criterion: str
    coverage_at_choice: float = Field(ge=0, le=1)
    data: str
    banks: int | None = Field(None, ge=1)
    #: scored on ``evaluated_year`` at this scale (out of sample): Brier skill by target
    #: (p_two_increases, p_plan) and the interval's coverage by months ahead
    skill: dict[str, float] = Field(default_factory=dict)
    coverage_by_horizon: dict[int, float] = Field(default_factory=dict)

    @property
    def years_text(self) -> str:
        """ "2021–2022" or "2022": the years the scale was fitted on."""
        lo, hi = min(self.origin_years), max(self.origin_years)
        return f"{lo}–{hi}" if hi > lo else f"{lo}"


class ForecastSpec(_Strict):
    series: list[str]
    candidates: list[Candidate] = Field(min_length=1)
    min_months: int = Field(8, ge=4)
    simulations: int = Field(1000, ge=100)
    interval: float = Field(0.9, gt=0, lt=1)
    error_scale: float = Field(1.0, gt=0)
    calibration: CalibrationRecord | None = None
    seed: int = 0


class WarningSpec(_Strict):
    probability_threshold: float = Field(0.5, gt=0, lt=1)


class ModelSpec(_Strict):
    rate_trend: RateTrendSpec
    peer_model: PeerSpec
    forecast: ForecastSpec
    early_warning: WarningSpec


def load_model_spec(path: Path | str) -> ModelSpec:
    """Load and validate params/models.yaml; a bad file raises :class:`ParamsError`."""
    return read_params(path, ModelSpec)


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


# --- forecasts and early warning --------------------------------------------------------------


def _trailing_run(series: pd.Series) -> pd.Series:
    """The longest run of consecutive months ending at the last observation (gaps cut the history)."""
    s = series.dropna()
    s = s[s > 0]
    if s.empty:
        return s
    idx = _month_index(pd.Series(s.index))
    breaks = np.flatnonzero(np.diff(idx) != 1)
    return s.iloc[breaks[-1] + 1 :] if len(breaks) else s


def _fit_ets(y: pd.Series, spec: ForecastSpec):
    """Best ETS candidate by AICc on log values, or (None, reason)."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    n = len(y)
    logged = pd.Series(np.log(y.to_numpy()), index=pd.period_range(y.index[0], periods=n, freq="M"))
    best, best_name = None, ""
    for cand in spec.candidates:
        if n < max(cand.min_months, spec.min_months):
            continue
        kwargs = cand.model_dump(exclude={"name", "min_months"})
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = ETSModel(logged, **{k: v for k, v in kwargs.items() if v is not None}).fit(disp=False)
        except (ValueError, np.linalg.LinAlgError):
            continue
        if np.isfinite(res.aicc) and (best is None or res.aicc < best.aicc):
            best, best_name = res, cand.name
    return best, best_name


@dataclass
class ModelResults:
    """Every model at ``period``: one row per bank (or the banks of ``institutions``) in the
    per-bank frames; the peer model always covers every bank (it is fitted across them)."""

    period: pd.Timestamp
    rate_trends: pd.DataFrame
    rate_fits: pd.DataFrame
    peer_effects: pd.DataFrame
    peer_info: dict
    forecasts: pd.DataFrame
    forecast_paths: pd.DataFrame
    warnings: pd.DataFrame
    spec: ModelSpec
    notes: dict = field(default_factory=dict)
    #: the banks fitted (None: every bank with a return for the period)
    institutions: tuple[str, ...] | None = None


def bank_rng(seed: int, period: pd.Timestamp, institution_id: str) -> np.random.Generator:
    """The random stream (随机数流) of one bank's simulation at ``period``.

    Derived from the seed, the period and the institution id only — never from the position of
    the bank among those fitted — so one bank fitted alone (its notebook), with every bank (the
    batch) or at a backtest origin draws the same numbers.
    """
    tag = int.from_bytes(hashlib.sha256(str(institution_id).encode("utf-8")).digest()[:8], "little")
    return np.random.default_rng([seed, period.year, period.month, tag])


def _policy_for(state: State, year: int) -> Policy:
    """The policy of ``year``, or the nearest year's when the data year has none (backtests of earlier years)."""
    if year in state.policies:
        return state.policies[year]
    nearest = min(state.policies, key=lambda y: abs(y - year))
    return state.policies[nearest]


def forecast_bank(
    history: pd.DataFrame, period: pd.Timestamp, spec: ForecastSpec, rng: np.random.Generator
) -> tuple[list[dict], list[dict], dict | None]:
    """Forecast each series of one bank to December; returns rows, path rows and the joint draws."""
    rows, fits = fit_bank(history, period, spec)
    paths, draws = simulate_bank(rows, fits, period, spec, rng, spec.error_scale)
    return rows, paths, draws


def fit_bank(history: pd.DataFrame, period: pd.Timestamp, spec: ForecastSpec) -> tuple[list[dict], dict]:
    """The ETS model of each series of one bank at ``period`` (rows of fit information, fits)."""
    hist = history[history["period"] <= period].set_index("period")
    rows, fits = [], {}
    for column in spec.series:
        y = _trailing_run(hist[column]) if column in hist else pd.Series(dtype=float)
        row = {
            "series": column,
            "n": len(y),
            "status": INSUFFICIENT,
            "model": "",
            "aicc": np.nan,
            "ljung_box_p": np.nan,
            "last": hist[column].iloc[-1] if column in hist and len(hist) else np.nan,
        }
        if len(y) and y.index[-1] != period:
            row["status"] = INSUFFICIENT  # no figure for the report period itself
        elif len(y) >= spec.min_months:
            res, name = _fit_ets(y, spec)
            if res is not None:
                row.update(status=OK if "季节" in name or len(y) >= 26 else FALLBACK, model=name, aicc=res.aicc)
                try:
                    from statsmodels.stats.diagnostic import acorr_ljungbox

                    lb = acorr_ljungbox(res.resid, lags=[max(1, min(6, len(y) // 4))], return_df=True)
                    row["ljung_box_p"] = float(lb["lb_pvalue"].iloc[0])
                except Exception:  # diagnostics never stop a forecast
                    pass
                fits[column] = res
        rows.append(row)
    return rows, fits


def simulate_bank(
    rows: list[dict], fits: dict, period: pd.Timestamp, spec: ForecastSpec, rng: np.random.Generator, error_scale: float
) -> tuple[list[dict], dict | None]:
    """Joint simulation to December with errors scaled by ``error_scale``; fills the forecast and
    interval into ``rows`` and returns the path rows and the year-end draws."""
    h_steps = 12 - period.month
    paths: list[dict] = []
    if h_steps == 0 or not fits:
        return paths, ({"h": 0} if h_steps == 0 else None)
    # correlated errors across the series (residual correlation), scaled by each model's sigma
    names = list(fits)
    resid = (
        pd.DataFrame({c: np.asarray(fits[c].resid)[-24:] for c in names if len(fits[c].resid) >= 24})
        if all(len(fits[c].resid) >= 24 for c in names)
        else None
    )
    corr = np.eye(len(names))
    if resid is not None and len(resid) >= 8:
        corr = np.nan_to_num(resid.corr().to_numpy(), nan=0.0)
        np.fill_diagonal(corr, 1.0)
    corr = corr + np.eye(len(names)) * 1e-6
    try:
        chol = np.linalg.cholesky(corr)
    except np.linalg.LinAlgError:
        chol = np.eye(len(names))
    z = rng.standard_normal((h_steps, spec.simulations, len(names))) @ chol.T
    draws = {}
    q_lo, q_hi = (1 - spec.interval) / 2, 1 - (1 - spec.interval) / 2
    for k, column in enumerate(names):
        res = fits[column]
        errors = z[:, :, k] * np.sqrt(res.scale) * error_scale
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sim = np.asarray(res.simulate(h_steps, repetitions=spec.simulations, anchor="end", random_errors=errors))
        values = np.exp(sim.reshape(h_steps, spec.simulations))
        draws[column] = values[-1]
        for step in range(h_steps):
            month_end = period + pd.offsets.MonthEnd(step + 1)
            paths.append(
                {
                    "series": column,
                    "period": month_end,
                    "mean": float(np.median(values[step])),
                    "lo": float(np.quantile(values[step], q_lo)),
                    "hi": float(np.quantile(values[step], q_hi)),
                }
            )
        row = next(r for r in rows if r["series"] == column)
        row.update(
            forecast=float(np.median(values[-1])),
            lo=float(np.quantile(values[-1], q_lo)),
            hi=float(np.quantile(values[-1], q_hi)),
        )
    draws["h"] = h_steps
    return paths, draws


def _probabilities(row: pd.Series, draws: dict | None, policy: Policy) -> dict:
    """P(each leg of 两增 and the plan met in December) for one bank."""
    ti, plan = policy.two_increases, policy.plan
    out = {"p_growth_leg": np.nan, "p_borrowers_leg": np.nan, "p_two_increases": np.nan, "p_plan": np.nan}
    subject = row["entity_type"] in ti.entity_types and row["category"] in ti.categories
    plan_subject = (
        row["category"] in plan.categories
        and row["planned_increase"] == row["planned_increase"]
        and row["planned_increase"] > 0
    )
    if draws is None:
        return out
    base_inc, base_tot, base_bor = (
        row["inclusive_balance_base"],
        row["total_loans_base"],
        row["inclusive_borrowers_base"],
    )
    inc: np.ndarray | None
    tot: np.ndarray | None
    bor: np.ndarray | None
    if draws.get("h") == 0:  # December: the outcome is known
        inc = np.array([row["inclusive_balance_assessed"]])
        tot = np.array([row["total_loans"]])
        bor = np.array([row["inclusive_borrowers"]])
    else:
        inc = draws.get("inclusive_balance_assessed")
        tot = draws.get("total_loans")
        bor = draws.get("inclusive_borrowers")
    plan_ok = None
    if plan_subject and inc is not None and base_inc == base_inc:
        plan_ok = (inc - base_inc) / row["planned_increase"] * 100 >= plan.completion_min_pct
        out["p_plan"] = float(np.mean(plan_ok))
    if subject:
        growth_ok = None
        if row["differentiated"] and ti.differentiated_on_plan:
            growth_ok = plan_ok
        elif inc is not None and tot is not None and base_inc > 0 and base_tot > 0:
            growth_ok = (inc / base_inc - tot / base_tot) * 100 >= ti.growth_margin_min_pp
        bor_ok = (bor - base_bor) >= ti.borrowers_change_min if bor is not None and base_bor == base_bor else None
        if growth_ok is not None:
            out["p_growth_leg"] = float(np.mean(growth_ok))
        if bor_ok is not None:
            out["p_borrowers_leg"] = float(np.mean(bor_ok))
        if growth_ok is not None and bor_ok is not None:
            out["p_two_increases"] = float(np.mean(growth_ok & bor_ok))
    return out


TREND_COLUMNS = [
    "institution_id",
    "n",
    "status",
    "formula",
    "test",
    "slope_bp",
    "slope_lo",
    "slope_hi",
    "slope_p",
    "level_bp",
    "level_lo",
    "level_hi",
    "level_p",
    "r2",
]
FORECAST_COLUMNS = [
    "institution_id",
    "series",
    "n",
    "status",
    "model",
    "aicc",
    "ljung_box_p",
    "last",
    "forecast",
    "lo",
    "hi",
]
PATH_COLUMNS = ["institution_id", "series", "period", "mean", "lo", "hi"]
FIT_COLUMNS = ["period", "trend", "trend_lo", "trend_hi", "institution_id"]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    """Rows as a frame that keeps its columns when empty (a bank with nothing to fit)."""
    return pd.DataFrame(rows) if rows else pd.DataFrame(columns=columns)


def peer_models(state: State, period: pd.Timestamp, spec: ModelSpec) -> tuple[pd.DataFrame, dict]:
    """The peer MixedLM (同业混合效应模型) at ``period``, across every bank of the cost categories."""
    policy = _policy_for(state, period.year)
    return fit_peer_model(state.indicators, period, list(policy.cost.categories), spec.peer_model)


def compute_models(
    state: State,
    period: pd.Timestamp,
    spec: ModelSpec | None = None,
    institutions: list[str] | None = None,
    rates: bool = True,
    peers: tuple[pd.DataFrame, dict] | None = None,
) -> ModelResults:
    """Every model for every bank (or the listed ones) at ``period``; ``rates=False`` skips the
    rate models (the backtest needs only the forecasts). ``peers``: the peer model already
    fitted (:func:`peer_models`), else it is fitted here when ``rates``."""
    spec = spec or load_model_spec(Path(state.params_dir) / "models.yaml")
    policy = _policy_for(state, period.year)
    ind = state.indicators
    banks = ind[(ind["sector"] == "bank") & (ind["period"] <= period)]
    if institutions is not None:
        banks = banks[banks["institution_id"].isin(institutions)]
    current = banks[banks["period"] == period].set_index("institution_id")
    ids = list(current.index)

    trend_rows, fit_frames, fc_rows, path_rows, warn_rows = [], [], [], [], []
    grouped = dict(tuple(banks.groupby("institution_id")))
    for iid in ids:
        history = grouped[iid].sort_values("period")
        if rates:
            stats, fitted = fit_rate_trend(rate_frame(history, period), spec.rate_trend)
            trend_rows.append({"institution_id": iid, **stats})
            if not fitted.empty:
                fit_frames.append(fitted.assign(institution_id=iid))
        rng = bank_rng(spec.forecast.seed, period, iid)
        rows, paths, draws = forecast_bank(history, period, spec.forecast, rng)
        fc_rows += [{"institution_id": iid, **r} for r in rows]
        path_rows += [{"institution_id": iid, **p} for p in paths]
        warn_rows.append({"institution_id": iid, **_probabilities(current.loc[iid], draws, policy)})
    if peers is None:
        peers = peer_models(state, period, spec) if rates else (pd.DataFrame(), {"status": "skipped"})
    peer_effects, peer_info = peers
    warnings_frame = pd.DataFrame(warn_rows)
    if not warnings_frame.empty:
        meta = current.loc[warnings_frame["institution_id"], ["name", "category", "division", "entity_type"]]
        warnings_frame = pd.concat([warnings_frame.reset_index(drop=True), meta.reset_index(drop=True)], axis=1)
        probs = warnings_frame[["p_two_increases", "p_plan"]]
        warnings_frame["attention"] = (probs < spec.early_warning.probability_threshold).any(axis=1)
    else:
        warnings_frame = pd.DataFrame(
            columns=[
                "institution_id",
                "p_growth_leg",
                "p_borrowers_leg",
                "p_two_increases",
                "p_plan",
                "name",
                "category",
                "division",
                "entity_type",
                "attention",
            ]
        )
    return ModelResults(
        period=period,
        rate_trends=_frame(trend_rows, TREND_COLUMNS),
        rate_fits=pd.concat(fit_frames, ignore_index=True) if fit_frames else pd.DataFrame(columns=FIT_COLUMNS),
        peer_effects=peer_effects,
        peer_info=peer_info,
        forecasts=_frame(fc_rows, FORECAST_COLUMNS),
        forecast_paths=_frame(path_rows, PATH_COLUMNS),
        warnings=warnings_frame,
        spec=spec,
        institutions=None if institutions is None else tuple(ids),
    )


#: results read or computed in this process, by cache file name (content-keyed, so never stale);
#: a report's five model cells then read the pickle once, not five times
_RECENT: OrderedDict[str, object] = OrderedDict()
_RECENT_SIZE = 4


def _remember(name: str, value: object) -> None:
    _RECENT[name] = value
    _RECENT.move_to_end(name)
    while len(_RECENT) > _RECENT_SIZE:
        _RECENT.popitem(last=False)


def _cached(name: str, kind: type, compute):
    """The object cached as ``name`` (in this process, else on disk), else ``compute()`` written to both."""
    from analysis.state import cache_dir, read_cache, write_cache

    if isinstance(_RECENT.get(name), kind):
        _RECENT.move_to_end(name)
        return _RECENT[name]
    path = cache_dir() / name
    value = read_cache(path)  # loaded only when written by this user in a private folder
    if not isinstance(value, kind):
        if compute is None:
            return None
        value = compute()
        write_cache(path, value)
    _remember(name, value)
    return value


def models_cache_key(state: State, period: pd.Timestamp) -> str:
    """Key of the models cache: the inputs' and params' hashes, the package's code, the period."""
    from analysis.state import code_fingerprint

    return hashlib.sha256(
        json.dumps([state.hashes, code_fingerprint(), str(period)], sort_keys=True).encode()
    ).hexdigest()[:24]


def load_models(state: State, period: pd.Timestamp, institution_id: str | None = None) -> ModelResults:
    """:func:`compute_models`, cached on disk by inputs, params, code and period.

    Without ``institution_id``: every bank (the batch and the city overview). With it (one bank's
    report): the all-bank results when the batch has cached them, else that bank's own models and
    the peer model (each cached on its own), never every bank's forecasts. A bank's figures are
    the same either way (:func:`bank_rng`).
    """
    key = models_cache_key(state, period)
    full_name = f"models-{key}.pkl"
    if institution_id is None:
        return _cached(full_name, ModelResults, lambda: compute_models(state, period))
    full = _cached(full_name, ModelResults, None)
    if full is not None:
        return full
    spec = load_model_spec(Path(state.params_dir) / "models.yaml")
    tag = hashlib.sha256(str(institution_id).encode("utf-8")).hexdigest()[:16]

    def one_bank() -> ModelResults:
        peers = _cached(f"peers-{key}.pkl", tuple, lambda: peer_models(state, period, spec))
        return compute_models(state, period, spec, institutions=[institution_id], peers=peers)

    return _cached(f"models-{key}-{tag}.pkl", ModelResults, one_bank)


# --- backtest ---------------------------------------------------------------------------------


def _outcomes(o: pd.Series, policy: Policy) -> dict[str, bool]:
    """What happened in December: each leg of 两增 and the plan (the targets of the probabilities)."""
    ti = policy.two_increases
    growth = (
        (o["growth_margin_pp"] >= ti.growth_margin_min_pp)
        if not (o["differentiated"] and ti.differentiated_on_plan)
        else (o["plan_completion_pct"] >= policy.plan.completion_min_pct)
    )
    actual = {
        "p_growth_leg": bool(growth),
        "p_borrowers_leg": bool(o["borrowers_change"] >= ti.borrowers_change_min),
        "p_plan": bool(o["plan_completion_pct"] >= policy.plan.completion_min_pct),
    }
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
