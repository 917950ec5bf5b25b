"""Growth forecasts and the year-end early warning (年末预警): ETS per series, jointly simulated
year-end values, the probabilities of meeting 两增 and the plan; fitting every bank and the cache.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from analysis.core.policy import Policy

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    from analysis.state import State
from analysis.models.peer import fit_peer_model
from analysis.models.spec import FALLBACK, INSUFFICIENT, OK, ForecastSpec, ModelSpec, load_model_spec
from analysis.models.trend import _month_index, fit_rate_trend, rate_frame

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
    """P(each leg of 两增 and the plan met in December) for one bank, for the rules the year has.

    A leg the year's notice does not have stays NaN (and the early warning leaves it out); a bank
    judged as one of a group (总体) has no probability of its own for the growth leg (the group's
    verdict depends on the other members), so its growth leg and 两增 stay NaN."""
    ti, plan = policy.two_increases, policy.plan
    out = {"p_growth_leg": np.nan, "p_borrowers_leg": np.nan, "p_two_increases": np.nan, "p_plan": np.nan}
    subject = (
        ti is not None
        and row["entity_type"] in ti.entity_types
        and row["category"] in ti.categories
        and not row.get("growth_group", "")  # a group member: no probability of its own
    )
    plan_subject = (
        plan is not None
        and row["category"] in plan.categories
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
    if plan is not None and plan_subject and inc is not None and base_inc == base_inc:
        plan_ok = (inc - base_inc) / row["planned_increase"] * 100 >= plan.completion_min_pct
        out["p_plan"] = float(np.mean(plan_ok))
    if subject and ti is not None:
        growth_ok = None
        if row["differentiated"] and ti.differentiated_on_plan:
            growth_ok = plan_ok
        elif inc is not None and tot is not None and base_inc > 0 and base_tot > 0:
            growth_ok = (inc / base_inc - tot / base_tot) * 100 >= ti.growth_margin_min_pp
        legs = ti.borrowers_change_min is not None
        bor_ok = (
            (bor - base_bor) >= ti.borrowers_change_min if legs and bor is not None and base_bor == base_bor else None
        )
        if growth_ok is not None:
            out["p_growth_leg"] = float(np.mean(growth_ok))
        if bor_ok is not None:
            out["p_borrowers_leg"] = float(np.mean(bor_ok))
        if growth_ok is not None and bor_ok is not None:
            out["p_two_increases"] = float(np.mean(growth_ok & bor_ok))
        elif growth_ok is not None and not legs:  # no borrower leg this year: the target is growth alone
            out["p_two_increases"] = out["p_growth_leg"]
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
    from analysis.core.contract import BANK_CATEGORIES

    categories = list(policy.cost.categories) if policy.cost is not None else list(BANK_CATEGORIES)
    return fit_peer_model(state.indicators, period, categories, spec.peer_model)


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
