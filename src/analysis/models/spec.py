"""The model specification (模型设定, ``params/models.yaml``) as typed records, and the status codes
every model result carries (正常 / 简化模型 / 历史数据不足 / 模型未收敛).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from analysis.core.policy import read_params

if TYPE_CHECKING:  # only for the annotations: state imports nothing of the models layer
    pass


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
