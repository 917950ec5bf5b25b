"""Shared names of the financing coordination mechanism (小微企业融资协调工作机制): a leaf module.

The mechanism's pipeline runs 走访 (visit) → 推荐清单 (the list a county 工作专班 hands to banks) →
对接 (the bank contacts the firm) → 授信 (credit decided: granted, or refused with a reason) → 放款
(loan) → 反馈 (the bank's feedback). This module holds what the loaders, the indicators, the
reports and the county workbooks all name: the statuses of one firm at one bank, the check of the
统一社会信用代码 (unified social credit code, GB 32100-2015), and the parameters of
``params/financing.yaml`` (:class:`FinancingParams`: the closed list of reasons for no credit, the
over-need factor, the default decision window).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from analysis.core.paramfile import read_params

#: the params file of the mechanism
FINANCING_FILE = "financing.yaml"

# --- statuses of one firm at one bank (对接状态) -----------------------------------------------

NO_FEEDBACK = "未反馈"  # pushed, the bank has sent no row for it
NOT_CONTACTED = "未对接"  # a feedback row without a contact date
CONTACTED = "已对接"  # contacted, no decision yet
REFUSED = "未授信"  # decided: no credit (with a reason of the closed list)
GRANTED = "已授信"  # decided: credit granted, not lent yet
LENT = "已放款"
#: statuses in pipeline order (the county workbook sorts by them)
STATUSES: tuple[str, ...] = (NO_FEEDBACK, NOT_CONTACTED, CONTACTED, REFUSED, GRANTED, LENT)
#: statuses of a firm with no decision (授信决定) yet: overdue once the decision window has passed
UNDECIDED: tuple[str, ...] = (NO_FEEDBACK, NOT_CONTACTED, CONTACTED)

# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------------------------

#: the code's 31 characters: digits and capitals without I, O, Z, S, V; a character's value is its position
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: weight of position i (0-based, the 17 characters before the check character): 3^i mod 31
CREDIT_CODE_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
CREDIT_CODE_LENGTH = 18

_VALUE = np.full(128, -1, dtype=np.int64)
for _i, _ch in enumerate(CREDIT_CODE_ALPHABET):
    _VALUE[ord(_ch)] = _i


def credit_code_check_character(first17: str) -> str:
    """The check character (校验码) of the code's first 17 characters: 31 − (Σ value × weight mod 31),
    31 written as 0."""
    total = sum(CREDIT_CODE_ALPHABET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def credit_code_problems(codes: pd.Series) -> pd.Series:
    """Why each code (upper-case, stripped) is not a valid 统一社会信用代码: "" when valid, else a
    short bilingual reason (length, a character outside the alphabet, the check character).
    Vectorised over the codes' bytes: 10⁶ codes in well under a second."""
    text = codes.fillna("").astype(str)
    out = pd.Series("", index=codes.index, dtype=object)
    length_ok = text.str.len() == CREDIT_CODE_LENGTH
    out[~length_ok] = text[~length_ok].map(lambda c: f"长度{len(c)}位，应为18位 / {len(c)} characters, 18 expected")
    good = text[length_ok]
    if good.empty:
        return out
    joined = "".join(good.tolist())
    if not joined.isascii():  # rare: a full-width or Chinese character; the others still go the fast way
        ascii_ok = good.map(str.isascii)
        out[ascii_ok[~ascii_ok].index] = "含非法字符 / holds a character outside the code's alphabet"
        good = good[ascii_ok]
        if good.empty:
            return out
        joined = "".join(good.tolist())
    raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, CREDIT_CODE_LENGTH)
    values = _VALUE[raw]
    bad_char = (values < 0).any(axis=1)
    out[good.index[bad_char]] = (
        "含非法字符（不含I、O、Z、S、V） / holds a character outside the code's alphabet (no I, O, Z, S, V)"
    )
    total = (values[:, :17] * np.asarray(CREDIT_CODE_WEIGHTS)).sum(axis=1)
    expected = (31 - total % 31) % 31
    wrong = ~bad_char & (expected != values[:, 17])
    alphabet = np.array(list(CREDIT_CODE_ALPHABET))
    shown = pd.Series(alphabet[expected[wrong]], index=good.index[wrong])
    out[shown.index] = [f"校验码应为{e} / the check character should be {e}" for e in shown]
    return out


# --- params/financing.yaml ------------------------------------------------------------------


class FinancingParams(BaseModel):
    """``params/financing.yaml``: what the coordination tables' checks and indicators need that no
    policy year sets. The targets themselves (contact rate, share decided in time) and the year's
    decision window live in the ``financing:`` section of ``policy-YYYY.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the closed list of reasons for no credit (未授信原因); a feedback row names one of them
    refusal_reasons: list[str] = Field(min_length=1)
    #: the reason that needs a free text (未授信原因说明), e.g. 其他
    other_reason: str = "其他"
    #: credit granted above the firm's stated need by more than this factor is reported (probably 元
    #: for 万元, or the wrong firm) and the row left out of the figures
    over_need_factor: float = Field(3.0, gt=1, le=1000, allow_inf_nan=False)
    #: the decision window (days from 推荐日期) of a year whose policy has no ``financing:`` section
    decision_days: int = Field(30, ge=1, le=366)

    @field_validator("refusal_reasons")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v) or any(not r.strip() for r in v):
            raise ValueError("refusal_reasons: distinct, non-empty texts / 未授信原因须互不重复且非空")
        return v

    @model_validator(mode="after")
    def _other_listed(self) -> FinancingParams:
        if self.other_reason not in self.refusal_reasons:
            raise ValueError(f"other_reason {self.other_reason!r} is not one of refusal_reasons / 不在未授信原因清单中")
        return self


#: the parameters when the params folder holds no :data:`FINANCING_FILE`
DEFAULT_FINANCING_PARAMS = FinancingParams(
    refusal_reasons=[
        "企业无融资需求",
        "经营状况不佳",
        "信用记录不良",
        "缺乏有效担保",
        "财务信息不完整",
        "不符合授信政策",
        "已获他行融资",
        "联系不上企业",
        "其他",
    ],
    other_reason="其他",
    over_need_factor=3.0,
    decision_days=30,
)


def load_financing_params(params_dir: Path | str) -> FinancingParams:
    """``params/financing.yaml`` validated (a bad file raises ``ParamsError`` naming it and the key);
    :data:`DEFAULT_FINANCING_PARAMS` when the folder holds none."""
    path = Path(params_dir) / FINANCING_FILE
    return read_params(path, FinancingParams) if path.is_file() else DEFAULT_FINANCING_PARAMS


__all__ = [
    "CONTACTED",
    "CREDIT_CODE_ALPHABET",
    "CREDIT_CODE_WEIGHTS",
    "DEFAULT_FINANCING_PARAMS",
    "FINANCING_FILE",
    "FinancingParams",
    "GRANTED",
    "LENT",
    "NOT_CONTACTED",
    "NO_FEEDBACK",
    "REFUSED",
    "STATUSES",
    "UNDECIDED",
    "credit_code_check_character",
    "credit_code_problems",
    "load_financing_params",
]
