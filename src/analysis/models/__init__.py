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

The modules: ``spec`` (params/models.yaml as typed records), ``trend`` (the rate trend and its
size-corrected test), ``peer`` (the mixed model across banks), ``forecast`` (ETS forecasts, the
early warning, fitting all banks and the cache), ``backtest`` (forecasts from past origins scored
against what happened), ``validation`` (the model-validation notebook's checks).
"""

from analysis.models.backtest import (
    backtest,
    backtest_summary,
    brier_skill,
    calibrate_error_scale,
    coverage_by_horizon,
    reliability,
)
from analysis.models.forecast import (
    FIT_COLUMNS,
    FORECAST_COLUMNS,
    PATH_COLUMNS,
    TREND_COLUMNS,
    ModelResults,
    bank_rng,
    compute_models,
    fit_bank,
    forecast_bank,
    load_models,
    models_cache_key,
    peer_models,
    simulate_bank,
)
from analysis.models.peer import (
    fit_peer_model,
)
from analysis.models.spec import (
    FAILED,
    FALLBACK,
    INSUFFICIENT,
    OK,
    STATUS_TEXT,
    CalibrationRecord,
    Candidate,
    ForecastSpec,
    ModelSpec,
    PeerSpec,
    RateTrendSpec,
    TrendTestSpec,
    WarningSpec,
    load_model_spec,
)
from analysis.models.trend import (
    NullTable,
    bartlett_kernel,
    fit_rate_trend,
    hac_t,
    null_table,
    rate_frame,
    residual_ar1,
    trend_test,
    trend_test_rejection_rate,
)
from analysis.models.validation import (
    Validation,
    data_trend_sizes,
    sample_banks,
    validate_models,
)

__all__ = [
    "CalibrationRecord",
    "Candidate",
    "FAILED",
    "FALLBACK",
    "FIT_COLUMNS",
    "FORECAST_COLUMNS",
    "ForecastSpec",
    "INSUFFICIENT",
    "ModelResults",
    "ModelSpec",
    "NullTable",
    "OK",
    "PATH_COLUMNS",
    "PeerSpec",
    "RateTrendSpec",
    "STATUS_TEXT",
    "TREND_COLUMNS",
    "TrendTestSpec",
    "Validation",
    "WarningSpec",
    "backtest",
    "backtest_summary",
    "bank_rng",
    "bartlett_kernel",
    "brier_skill",
    "calibrate_error_scale",
    "compute_models",
    "coverage_by_horizon",
    "data_trend_sizes",
    "fit_bank",
    "fit_peer_model",
    "fit_rate_trend",
    "forecast_bank",
    "hac_t",
    "load_model_spec",
    "load_models",
    "models_cache_key",
    "null_table",
    "peer_models",
    "rate_frame",
    "reliability",
    "residual_ar1",
    "sample_banks",
    "simulate_bank",
    "trend_test",
    "trend_test_rejection_rate",
    "validate_models",
]
