"""Models recover known structure from synthetic series and fall back honestly on short ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.models import (
    FALLBACK,
    INSUFFICIENT,
    OK,
    fit_peer_model,
    fit_rate_trend,
    forecast_bank,
    hac_t,
    load_model_spec,
    rate_frame,
    trend_test_rejection_rate,
)
from analysis.models.forecast import _probabilities

ROOT = Path(__file__).resolve().parents[2]
SPEC = load_model_spec(ROOT / "params" / "models.yaml")
SEASONAL = np.array([0.15, -0.05, 0.10, 0.0, -0.05, 0.05, -0.10, -0.05, 0.0, -0.05, -0.05, 0.05])


def periods(start: str, n: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=n, freq="ME")


def history(rates, start="2021-01") -> pd.DataFrame:
    p = periods(start, len(rates))
    return pd.DataFrame({"period": p, "month_new_loan_rate_pct": rates})


def test_trend_and_seasonality_recovered():
    rng = np.random.default_rng(1)
    n = 36
    t = np.arange(n)
    rates = 6.0 - 0.03 * t + SEASONAL[t % 12] + rng.normal(0, 0.02, n)  # -3 bp a month
    h = history(rates)
    stats, fitted = fit_rate_trend(rate_frame(h, h["period"].iloc[-1]), SPEC.rate_trend)
    assert stats["status"] == OK and stats["formula"] == SPEC.rate_trend.formula
    assert stats["slope_bp"] == pytest.approx(-3.0, abs=0.3)
    assert stats["slope_lo"] < -3.0 < stats["slope_hi"]
    assert stats["slope_p"] < 0.01
    # the fitted values follow the seasonal pattern: January above February by ~0.2 + 0.03
    jan = fitted[fitted["period"].dt.month == 1]["trend"].iloc[-1]
    feb = fitted[fitted["period"].dt.month == 2]["trend"].iloc[-1]
    assert jan - feb == pytest.approx(0.2 + 0.03, abs=0.05)


def test_level_change_of_the_current_year():
    rng = np.random.default_rng(2)
    level = np.r_[np.full(12, 6.0), np.full(12, 6.0), np.full(6, 5.6)]  # current year 40 bp lower
    rates = level + SEASONAL[np.arange(30) % 12] + rng.normal(0, 0.03, 30)
    h = history(rates)
    stats, _ = fit_rate_trend(rate_frame(h, h["period"].iloc[-1]), SPEC.rate_trend)
    assert stats["level_bp"] == pytest.approx(-40, abs=8)
    assert stats["level_p"] < 0.01


def test_hac_standard_error_by_hand():
    """y = 0, 1, 1, 3 at t = -3..0: slope 0.9, residuals 0.1, 0.2, -0.7, 0.4; slope weights
    (t - mean)/Sxx = -0.3, -0.1, 0.1, 0.3, so u = -0.03, -0.02, -0.07, 0.12. Bandwidth 1 (no lags):
    var = sum u^2 = 0.0206; bandwidth 2 adds 2 * 0.5 * (0.0006 + 0.0014 - 0.0084) = -0.0064."""
    X = np.column_stack([np.ones(4), np.arange(-3.0, 1.0)])
    y = np.array([[0.0, 1.0, 1.0, 3.0]])
    beta, se = hac_t(X, y, 1, bandwidth=1)
    assert beta[0] == pytest.approx(0.9) and se[0] ** 2 == pytest.approx(0.0206)
    _, se2 = hac_t(X, y, 1, bandwidth=2)
    assert se2[0] ** 2 == pytest.approx(0.0142)


#: Monte Carlo standard error of a 5 % rejection rate from 2000 replications: sqrt(.05 * .95 / 2000)
MC_SE = 0.0049
#: the issue's tolerance (1.5 points around the nominal 5 %) widened by one Monte Carlo standard error
SIZE_TOLERANCE = 0.015 + MC_SE


@pytest.mark.parametrize("months", [24, 36])
@pytest.mark.parametrize("phi", [0.0, 0.5])
def test_trend_test_holds_its_size(months, phi):
    """Rejection rate of a true null (no trend) at nominal 5 %, 2000 seeded series with month
    effects in the model, white noise and AR(1) 0.5 errors. The former Newey-West test rejected
    8-13 % on white noise and ~20 % with AR(1) 0.5 errors (next test)."""
    spec = SPEC.rate_trend.test
    assert spec.method == "bootstrap"
    rate = trend_test_rejection_rate(months, phi, spec, reps=2000, seed=11)
    assert abs(rate - 0.05) <= SIZE_TOLERANCE, rate


def test_newey_west_option_fails_the_size_tolerance():
    """The tolerance above is tight enough to catch the former test (kept as an option)."""
    spec = SPEC.rate_trend.test.model_copy(update={"method": "newey_west"})
    rate = trend_test_rejection_rate(24, 0.5, spec, reps=300, seed=11)
    assert rate - 0.05 > SIZE_TOLERANCE, rate


def test_trend_test_has_power_against_a_real_trend():
    """A fall of 0.3 innovation standard deviations a month (e.g. 2.4 bp/month with 8 bp noise)
    over 36 months is found almost always, 0.1 sd a month more often than not."""
    spec = SPEC.rate_trend.test
    assert trend_test_rejection_rate(36, 0.0, spec, reps=400, seed=3, slope_in_sd=-0.3) > 0.95
    assert trend_test_rejection_rate(36, 0.0, spec, reps=400, seed=3, slope_in_sd=-0.1) > 0.5


def test_white_noise_rate_through_the_model_is_rarely_significant():
    """fit_rate_trend uses the configured test: 200 white-noise series of 30 months."""
    rejections = 0
    for seed in range(200):
        rng = np.random.default_rng(seed)
        h = history(6.0 + rng.normal(0, 0.05, 30))
        stats, _ = fit_rate_trend(rate_frame(h, h["period"].iloc[-1]), SPEC.rate_trend)
        assert stats["test"] == "bootstrap"
        rejections += stats["slope_p"] < 0.05
    assert rejections <= 18  # 5 % of 200 is 10; 18 is 10 + 2.6 binomial standard errors


def test_short_series_fall_back_or_refuse():
    h = history(np.linspace(6, 5.8, 12))
    stats, _ = fit_rate_trend(rate_frame(h, h["period"].iloc[-1]), SPEC.rate_trend)
    assert stats["status"] == FALLBACK and stats["formula"] == SPEC.rate_trend.fallback_formula
    h = history(np.linspace(6, 5.8, 5))
    stats, fitted = fit_rate_trend(rate_frame(h, h["period"].iloc[-1]), SPEC.rate_trend)
    assert stats["status"] == INSUFFICIENT and np.isnan(stats["slope_bp"]) and fitted.empty


def _peer_panel(planted: dict[str, float], n_per_category: int = 10, months: int = 24, seed: int = 4):
    rng = np.random.default_rng(seed)
    rows = []
    p = periods("2022-01", months)
    for category, base in (("农村商业银行", 6.5), ("村镇银行", 7.8)):
        for i in range(n_per_category):
            iid = f"{category[:2]}{i}"
            offset = planted.get(iid, rng.normal(0, 0.15))
            slope = rng.normal(-0.02, 0.005)
            for k, period in enumerate(p):
                rows.append(
                    {
                        "institution_id": iid,
                        "category": category,
                        "period": period,
                        "month_new_loan_rate_pct": base + offset + slope * (k - months + 1) + rng.normal(0, 0.08),
                    }
                )
    return pd.DataFrame(rows), p[-1]


def test_mixed_model_flags_a_bank_80bp_above_peers_and_not_one_at_the_mean():
    panel, period = _peer_panel({"农村0": 0.80, "农村1": 0.0})
    peers, info = fit_peer_model(panel, period, ["农村商业银行", "村镇银行"], SPEC.peer_model)
    assert info["converged"]
    effects = peers.set_index("institution_id")
    assert effects.loc["农村0", "flagged"]
    assert effects.loc["农村0", "deviation_bp"] == pytest.approx(80, abs=20)
    assert not effects.loc["农村1", "flagged"]
    assert effects.loc["农村1", "deviation_lo"] < 0 < effects.loc["农村1", "deviation_hi"] + 25


def test_mixed_model_needs_enough_banks():
    panel, period = _peer_panel({}, n_per_category=3)
    peers, info = fit_peer_model(panel, period, ["农村商业银行", "村镇银行"], SPEC.peer_model)
    assert info["status"] == INSUFFICIENT and peers.empty


def bank_history(n: int, start="2021-01", growth=0.01, gaps=()) -> pd.DataFrame:
    p = periods(start, n)
    k = np.arange(n)
    frame = pd.DataFrame(
        {
            "period": p,
            "inclusive_balance_assessed": 1000 * (1 + growth) ** k,
            "total_loans": 5000 * 1.005**k,
            "inclusive_borrowers": 100 + k,
        }
    )
    frame.loc[list(gaps), "inclusive_balance_assessed"] = np.nan
    return frame


def test_forecast_of_steady_growth_contains_the_truth():
    h = bank_history(30)  # to 2023-06
    period = h["period"].iloc[-1]
    rows, paths, draws = forecast_bank(h, period, SPEC.forecast, np.random.default_rng(0))
    inc = next(r for r in rows if r["series"] == "inclusive_balance_assessed")
    truth = 1000 * 1.01**35
    assert inc["status"] in (OK, FALLBACK)
    assert inc["lo"] <= truth <= inc["hi"]
    assert inc["forecast"] == pytest.approx(truth, rel=0.02)
    assert len(paths) == 3 * 6 and draws["h"] == 6


def test_gaps_cut_the_history_and_short_series_are_refused():
    h = bank_history(30, gaps=[25])  # a missing month leaves 4 consecutive months at the end
    period = h["period"].iloc[-1]
    rows, _, _ = forecast_bank(h, period, SPEC.forecast, np.random.default_rng(0))
    inc = next(r for r in rows if r["series"] == "inclusive_balance_assessed")
    assert inc["status"] == INSUFFICIENT and inc["n"] == 4
    new = bank_history(5, start="2023-02")  # a new institution
    rows, paths, draws = forecast_bank(new, new["period"].iloc[-1], SPEC.forecast, np.random.default_rng(0))
    assert all(r["status"] == INSUFFICIENT for r in rows) and draws is None and not paths


def test_probabilities(policy):
    row = pd.Series(
        {
            "entity_type": "法人机构",
            "category": "农村商业银行",
            "planned_increase": 100.0,
            "differentiated": False,
            "inclusive_balance_base": 1000.0,
            "total_loans_base": 5000.0,
            "inclusive_borrowers_base": 100.0,
            "inclusive_balance_assessed": 1120.0,
            "total_loans": 5400.0,
            "inclusive_borrowers": 99.0,
        }
    )
    known = _probabilities(row, {"h": 0}, policy)  # December: 12% vs 8%, borrowers -1, plan 120%
    assert known == {"p_growth_leg": 1.0, "p_borrowers_leg": 0.0, "p_two_increases": 0.0, "p_plan": 1.0}
    draws = {
        "h": 3,
        "inclusive_balance_assessed": np.array([1050.0, 1120.0, 1200.0, 1090.0]),
        "total_loans": np.array([5400.0, 5400.0, 5400.0, 5400.0]),
        "inclusive_borrowers": np.array([101.0, 99.0, 120.0, 100.0]),
    }
    p = _probabilities(row, draws, policy)
    # growth: 5%, 12%, 20%, 9% vs 8% -> 3 of 4; borrowers: 3 of 4; both: draws 3 and 4 -> 2 of 4
    assert p["p_growth_leg"] == 0.75 and p["p_borrowers_leg"] == 0.75 and p["p_two_increases"] == 0.5
    assert p["p_plan"] == 0.5  # increases 50, 120, 200, 90 against 100


MID_YEAR = pd.Timestamp("2023-06-30")


@pytest.fixture(scope="module")
def demo_mid_year(demo_csv_dir):
    """The demo state and every bank's models at the end of June (fitted once for this module)."""
    from analysis.models import compute_models
    from analysis.state import compute_state

    state = compute_state(demo_csv_dir, ROOT / "params")
    return state, compute_models(state, MID_YEAR)


def test_demo_mid_year_early_warning(demo_mid_year):
    _, res = demo_mid_year
    w = res.warnings.set_index("institution_id")
    assert w.loc["B017", "p_growth_leg"] < 0.2 and w.loc["B017", "attention"]  # planted: growth leg missed
    assert w.loc["B034", "p_two_increases"] < 0.2
    healthy = w.loc[["B022", "B023", "B024", "B029"], "p_two_increases"]
    assert (healthy > 0.8).all()
    assert res.peer_effects.set_index("institution_id").loc["B033", "flagged"]  # the planted high-rate bank


# --- one bank's models (a notebook opened in JupyterLab) ------------------------------------------


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """An empty private models cache, and nothing remembered in this process."""
    from analysis.models import forecast as models

    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(folder))
    monkeypatch.setattr(models, "_RECENT", type(models._RECENT)())
    return folder


def test_bank_random_stream_depends_on_the_bank_not_on_its_neighbours():
    from analysis.models import bank_rng

    a = bank_rng(7, MID_YEAR, "B017").standard_normal(5)
    assert np.array_equal(a, bank_rng(7, MID_YEAR, "B017").standard_normal(5))
    assert not np.array_equal(a, bank_rng(7, MID_YEAR, "B018").standard_normal(5))
    assert not np.array_equal(a, bank_rng(7, pd.Timestamp("2023-07-31"), "B017").standard_normal(5))
    assert not np.array_equal(a, bank_rng(8, MID_YEAR, "B017").standard_normal(5))


def test_one_bank_alone_gets_the_same_figures_as_in_the_all_bank_fit(demo_mid_year, private_cache, monkeypatch):
    """Without the all-bank cache, load_models(..., institution_id) fits that bank alone (and the
    peer model) and finds exactly what the all-bank fit found for it: same trend, same forecast,
    same year-end probabilities (the random stream does not depend on which banks are fitted)."""
    from analysis.models import forecast as models

    state, everyone = demo_mid_year
    fitted: list = []
    real = models.compute_models
    monkeypatch.setattr(models, "compute_models", lambda *a, **k: fitted.append(k.get("institutions")) or real(*a, **k))
    one = models.load_models(state, MID_YEAR, institution_id="B017")
    assert fitted == [["B017"]] and one.institutions == ("B017",)
    assert set(one.forecasts["institution_id"]) == {"B017"} and set(one.rate_trends["institution_id"]) == {"B017"}

    def row(frame, cols):
        return frame[frame["institution_id"] == "B017"].reset_index(drop=True)[cols]

    pd.testing.assert_frame_equal(
        row(one.rate_trends, ["slope_bp", "slope_lo", "slope_hi", "slope_p", "level_bp"]),
        row(everyone.rate_trends, ["slope_bp", "slope_lo", "slope_hi", "slope_p", "level_bp"]),
    )
    pd.testing.assert_frame_equal(
        row(one.forecasts, ["series", "model", "forecast", "lo", "hi"]),
        row(everyone.forecasts, ["series", "model", "forecast", "lo", "hi"]),
    )
    probs = ["p_growth_leg", "p_borrowers_leg", "p_two_increases", "p_plan", "attention"]
    pd.testing.assert_frame_equal(row(one.warnings, probs), row(everyone.warnings, probs))
    pd.testing.assert_frame_equal(one.peer_effects, everyone.peer_effects)
    assert (one.forecasts["hi"] > one.forecasts["lo"]).all()  # simulated intervals: the draws were compared

    # a second kernel: read from disk, nothing refitted
    monkeypatch.setattr(models, "_RECENT", type(models._RECENT)())
    again = models.load_models(state, MID_YEAR, institution_id="B017")
    assert fitted == [["B017"]]
    pd.testing.assert_frame_equal(again.warnings, one.warnings)


def test_one_bank_reads_the_all_bank_cache_when_the_batch_wrote_it(demo_mid_year, private_cache, monkeypatch):
    from analysis.models import forecast as models
    from analysis.state import write_cache

    state, everyone = demo_mid_year
    assert write_cache(private_cache / f"models-{models.models_cache_key(state, MID_YEAR)}.pkl", everyone)
    monkeypatch.setattr(models, "compute_models", lambda *a, **k: pytest.fail("refitted despite the cache"))
    got = models.load_models(state, MID_YEAR, institution_id="B017")
    assert got.institutions is None and len(got.warnings) == len(everyone.warnings)


def test_sample_banks_are_evenly_spaced_and_outcome_blind():
    """45 banks B001..B045, 12 asked: positions round(44·k/11) = 0, 4, 8, …, 44."""
    from types import SimpleNamespace

    from analysis.models import sample_banks

    ids = [f"B{i:03d}" for i in range(45, 0, -1)] + ["I001"]
    state = SimpleNamespace(indicators=pd.DataFrame({"institution_id": ids, "sector": ["bank"] * 45 + ["insurer"]}))
    assert sample_banks(state, 12) == [f"B{i:03d}" for i in range(1, 46, 4)]
    assert len(sample_banks(state, 0)) == 45 and sample_banks(state, 50) == sample_banks(state, 0)


def test_error_scale_is_chosen_on_the_calibration_years_only():
    """Coverage of the 90 % intervals: in 2021–2022 scale 1.0 covers 7 of 10, 1.5 covers 9 of 10,
    2.0 all 10; in 2023 scale 1.0 covers 9 of 10. Out of sample (2021–2022) the choice is 1.5
    (|0.9 − 0.9| = 0); chosen on 2023 itself it would be 1.0."""
    from analysis.models import calibrate_error_scale

    rows = []
    for year, covered in (
        (2021, {1.0: 3, 1.5: 4, 2.0: 5}),
        (2022, {1.0: 4, 1.5: 5, 2.0: 5}),
        (2023, {1.0: 9, 1.5: 10, 2.0: 10}),
    ):
        n = 10 if year == 2023 else 5
        for scale, k in covered.items():
            rows += [
                {"year": year, "error_scale": scale, "target": "interval:total_loans", "outcome": i < k}
                for i in range(n)
            ]
    bt = pd.DataFrame(rows)
    out = calibrate_error_scale(bt, [2021, 2022], 0.9)
    assert out["error_scale"] == 1.5 and out["coverage"] == pytest.approx(0.9)
    assert out["by_scale"].to_dict() == pytest.approx({1.0: 0.7, 1.5: 0.9, 2.0: 1.0})
    assert calibrate_error_scale(bt, [2023], 0.9)["error_scale"] == 1.0


def test_configured_scale_carries_its_calibration_record():
    """params/models.yaml states where the scale came from, and the reports say it."""
    from analysis.content.models import calibration_text

    cal = SPEC.forecast.calibration
    assert cal is not None and cal.origin_years == [2021, 2022] and cal.evaluated_year == 2023
    assert SPEC.forecast.error_scale in cal.grid
    assert calibration_text(SPEC) == "校准于 2021–2022 年，2023 年回测可靠性见附录"
