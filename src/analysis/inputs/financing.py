"""The checks of the financing coordination mechanism's tables (融资协调工作机制: 推荐清单 and 银行反馈)
that span columns, rows and both tables; the cell checks (types, dates, yes/no, ceilings) are the
contract's, in :mod:`analysis.inputs.validation`.

Two kinds of problem, as an analyst at the office treats them:

* **refusals** (errors: the whole data set is refused, nothing is computed or written) — what makes
  the file itself untrustworthy: a date after the day of the check (``future_date``), a reason for
  no credit outside the closed list of ``params/financing.yaml`` (``invalid_reason``), and the
  contract's cell rules (text in an amount, a formula, an unknown bank, a duplicate firm and bank);
* **rows left out** (warnings, located, each row once at its root) — what one bank got wrong about one
  firm: an invalid 统一社会信用代码 (``invalid_credit_code``), dates out of order
  (``dates_out_of_order``), feedback on a firm never pushed to that bank (``feedback_not_pushed``), a
  row that contradicts itself (``feedback_inconsistent``), credit far above the stated need
  (``credit_above_need``). The firm and bank pair is left out of every figure and listed in
  :attr:`~analysis.core.dataset.FinancingTables.excluded`, which the bank's report and the county
  workbooks show, so that the bank corrects and resends it; the rest of the city's data are used.

A firm pushed and never fed back is no error: its status is 未反馈 (and one warning per bank counts
those older than the decision window, ``no_feedback``).

Everything is vectorised over the rows (a province's 10⁶ feedback rows); only the problems found are
looped over to word them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis.core.dataset import FinancingTables
from analysis.core.errors import Issue
from analysis.core.financing import FinancingParams, credit_code_problems

#: the dates of one pair in the order they must come (推荐 ≤ 对接 ≤ 授信 ≤ 放款), with their labels
DATE_ORDER: tuple[tuple[str, str], ...] = (
    ("list_date", "推荐日期"),
    ("contact_date", "对接日期"),
    ("credit_date", "授信日期"),
    ("loan_date", "放款日期"),
)
LIST_DATES = ("list_date",)
FEEDBACK_DATES = ("contact_date", "credit_date", "loan_date", "refusal_date")

#: columns of :attr:`FinancingTables.excluded`
EXCLUDED_COLUMNS = (
    "table",
    "source",
    "row",
    "institution_id",
    "credit_code",
    "firm_name",
    "county_code",
    "batch",
    "list_date",
    "rule",
    "detail",
)


def _pair_key(frame: pd.DataFrame) -> pd.Series:
    """One text per firm and bank (统一社会信用代码|机构编码): hashed, never sorted."""
    return frame["credit_code"].fillna("").astype(str) + "|" + frame["institution_id"].fillna("").astype(str)


def _positions(frame: pd.DataFrame) -> np.ndarray:
    return np.arange(len(frame))


def _future_dates(raw, frame: pd.DataFrame, columns: tuple[str, ...], today: pd.Timestamp, issues: list[Issue]) -> None:
    for col in columns:
        future = (frame[col] > today).to_numpy()
        for pos in np.flatnonzero(future):
            issues.append(
                Issue(
                    raw.source,
                    raw.row_number(pos),
                    col,
                    "future_date",
                    f"{frame[col].iloc[pos]:%Y-%m-%d} > {today:%Y-%m-%d}（校验当日 / the day of the check）",
                )
            )


def _date_order(pairs: pd.DataFrame) -> pd.Series:
    """The first pair of dates out of order on each row ('' when in order): a later step dated before
    an earlier one (推荐 ≤ 对接 ≤ 授信 ≤ 放款; 推荐, 对接 ≤ 未授信日期). Missing dates are skipped: a
    loan without a contact date is compared with the list date."""
    n = len(pairs)
    found = np.zeros(n, dtype=bool)
    text = np.full(n, "", dtype=object)
    chains = [DATE_ORDER, (("list_date", "推荐日期"), ("contact_date", "对接日期"), ("refusal_date", "未授信日期"))]
    for chain in chains:
        labels = [label for _, label in chain]
        latest = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)  # no date yet
        latest_label = np.full(n, -1, dtype=np.int64)
        for k, (col, _label) in enumerate(chain):
            day = pairs[col].to_numpy(dtype="datetime64[ns]").astype(np.int64)
            present = ~np.isnat(pairs[col].to_numpy(dtype="datetime64[ns]"))
            bad = ~found & present & (latest_label >= 0) & (day < latest)
            for pos in np.flatnonzero(bad):  # only the rows out of order are worded
                text[pos] = (
                    f"{labels[k]} {pd.Timestamp(day[pos]):%Y-%m-%d} 早于 / before "
                    f"{labels[latest_label[pos]]} {pd.Timestamp(latest[pos]):%Y-%m-%d}"
                )
            found |= bad
            newer = present & ((latest_label < 0) | (day > latest))
            latest = np.where(newer, day, latest)
            latest_label = np.where(newer, k, latest_label)
    return pd.Series(text, index=pairs.index, dtype=object)


def _inconsistent(fb: pd.DataFrame, params: FinancingParams) -> pd.Series:
    """Why a feedback row contradicts itself ('' when it does not)."""
    rules = [
        (
            fb["credit_amount"].notna() & fb["credit_date"].isna(),
            "有授信金额无授信日期 / credit amount without its date",
        ),
        (
            fb["credit_date"].notna() & fb["credit_amount"].isna(),
            "有授信日期无授信金额 / credit date without its amount",
        ),
        (fb["loan_amount"].notna() & fb["loan_date"].isna(), "有放款金额无放款日期 / loan amount without its date"),
        (fb["loan_date"].notna() & fb["loan_amount"].isna(), "有放款日期无放款金额 / loan date without its amount"),
        (fb["loan_date"].notna() & fb["credit_date"].isna(), "有放款无授信 / a loan without credit"),
        (
            fb["credit_date"].notna() & (fb["refusal_reason"].notna() | fb["refusal_date"].notna()),
            "既授信又填未授信 / credit granted and a refusal",
        ),
        (
            fb["refusal_date"].notna() & fb["refusal_reason"].isna(),
            "有未授信日期无未授信原因 / a refusal without its reason",
        ),
        (
            fb["refusal_reason"].notna() & fb["refusal_date"].isna(),
            "有未授信原因无未授信日期 / a reason for no credit without the day it was decided",
        ),
        (
            (fb["refusal_reason"] == params.other_reason) & fb["refusal_note"].isna(),
            f"原因为{params.other_reason}但无说明 / reason {params.other_reason} without a note",
        ),
    ]
    out = pd.Series("", index=fb.index, dtype=object)
    for mask, text in rules:
        out[(out == "") & mask] = text
    return out


def _excluded_rows(
    raw, frame: pd.DataFrame, mask: pd.Series, table: str, rule: str, detail, names=None
) -> pd.DataFrame:
    pos = np.flatnonzero(mask.to_numpy())
    sub = frame.iloc[pos]
    detail_values = detail.iloc[pos].to_numpy() if isinstance(detail, pd.Series) else [detail] * len(pos)
    out = pd.DataFrame(
        {
            "table": table,
            "source": raw.source,
            "row": [raw.row_number(p) for p in pos],
            "institution_id": sub["institution_id"].to_numpy(),
            "credit_code": sub["credit_code"].to_numpy(),
            "firm_name": sub["firm_name"].to_numpy() if "firm_name" in sub else pd.NA,
            "county_code": sub["county_code"].to_numpy() if "county_code" in sub else pd.NA,
            "batch": sub["batch"].to_numpy() if "batch" in sub else pd.NA,
            "list_date": sub["list_date"].to_numpy() if "list_date" in sub else pd.NaT,
            "rule": rule,
            "detail": detail_values,
        }
    )
    return out


def _issues_of(excluded: pd.DataFrame, column: str) -> list[Issue]:
    return [
        Issue(r.source, int(r.row), column, r.rule, f"{r.institution_id} {r.credit_code}: {r.detail}")
        for r in excluded.itertuples(index=False)
    ]


def check_financing(
    raw_list,
    lst: pd.DataFrame,
    raw_feedback,
    fb: pd.DataFrame | None,
    params: FinancingParams,
    issues: list[Issue],
    *,
    today: date | None = None,
) -> FinancingTables:
    """Check 推荐清单 (``lst``, typed by the contract) and 银行反馈 (``fb``, None when the folder has only
    the list) against each other and the params; refusals and warnings go to ``issues``. Returns the
    usable pairs and the rows left out (:class:`~analysis.core.dataset.FinancingTables`).
    ``today``: the day of the check (default: today), after which no date may lie."""
    stamp = pd.Timestamp(today or date.today())
    if fb is None:
        from analysis.core.contract import FINANCING_FEEDBACK

        fb = pd.DataFrame({c.name: pd.Series(dtype=object) for c in FINANCING_FEEDBACK.columns})
        for col in FEEDBACK_DATES:
            fb[col] = pd.Series(dtype="datetime64[ns]")
        for col in ("credit_amount", "loan_amount"):
            fb[col] = pd.Series(dtype=float)
    _future_dates(raw_list, lst, LIST_DATES, stamp, issues)
    if raw_feedback is not None:
        _future_dates(raw_feedback, fb, FEEDBACK_DATES, stamp, issues)
        reason = fb["refusal_reason"]
        bad_reason = reason.notna() & ~reason.isin(params.refusal_reasons)
        for pos in np.flatnonzero(bad_reason.to_numpy()):
            issues.append(
                Issue(
                    raw_feedback.source,
                    raw_feedback.row_number(pos),
                    "refusal_reason",
                    "invalid_reason",
                    f"{reason.iloc[pos]!r} — 可选 / one of: {'、'.join(params.refusal_reasons)}",
                )
            )
    excluded: list[pd.DataFrame] = []

    # 1. invalid codes, in either table: reported at their row, the row left out
    list_code = credit_code_problems(lst["credit_code"]).where(lst["credit_code"].notna(), "")
    bad_list = list_code != ""
    excluded.append(_excluded_rows(raw_list, lst, bad_list, "推荐清单", "invalid_credit_code", list_code))
    fb_code = credit_code_problems(fb["credit_code"]).where(fb["credit_code"].notna(), "")
    bad_fb = fb_code != ""
    if raw_feedback is not None:
        excluded.append(_excluded_rows(raw_feedback, fb, bad_fb, "银行反馈", "invalid_credit_code", fb_code))

    # 2. feedback on a pair the list does not hold (among the valid codes)
    listed = lst.assign(list_row=raw_list.row_offset + _positions(lst))
    listed = listed[~bad_list & listed["credit_code"].notna() & listed["institution_id"].notna()]
    listed = listed.drop_duplicates(["credit_code", "institution_id"])  # a duplicate is refused (duplicate_key)
    in_list = pd.Series(pd.Index(_pair_key(listed)).get_indexer(_pair_key(fb)) >= 0, index=fb.index)
    not_pushed = ~bad_fb & ~in_list & fb["institution_id"].notna() & fb["credit_code"].notna()
    if raw_feedback is not None and not_pushed.any():
        stray_codes = set(fb.loc[not_pushed, "credit_code"])
        pushed_to = (
            listed[listed["credit_code"].isin(stray_codes)]
            .groupby("credit_code")["institution_id"]
            .agg(lambda s: "、".join(sorted(s)))
        )
        where = fb["credit_code"].where(not_pushed).map(pushed_to)
        detail = where.map(
            lambda w: (
                f"该企业推送至 / pushed to {w}" if isinstance(w, str) else "推荐清单中无此企业 / firm not on the list"
            ),
            na_action=None,
        ).where(not_pushed, "")
        excluded.append(_excluded_rows(raw_feedback, fb, not_pushed, "银行反馈", "feedback_not_pushed", detail))

    # 3. the feedback beside its list row
    offset = raw_feedback.row_offset if raw_feedback is not None else 0
    fb_rows = fb.assign(feedback_row=offset + _positions(fb))
    fb_usable = fb_rows[~bad_fb & in_list].drop_duplicates(["credit_code", "institution_id"])
    pairs = listed.merge(fb_usable, on=["credit_code", "institution_id"], how="left", indicator="_merge")
    pairs["has_feedback"] = pairs.pop("_merge").eq("both")

    # 4. per-pair checks on the feedback: contradictions, date order, credit far above the need
    why_inconsistent = _inconsistent(pairs, params).where(pairs["has_feedback"], "")
    order = _date_order(pairs).where(why_inconsistent == "", "")
    over = (
        (why_inconsistent == "")
        & (order == "")
        & (pairs["need_amount"] > 0)
        & (pairs["credit_amount"] > params.over_need_factor * pairs["need_amount"])
    )
    over_detail = pd.Series("", index=pairs.index, dtype=object)
    over_detail[over] = [
        f"授信 / credit {c:,.2f} 万元 > {params.over_need_factor:g} × 需求 / need {n:,.2f} 万元"
        for c, n in zip(pairs.loc[over, "credit_amount"], pairs.loc[over, "need_amount"], strict=True)
    ]
    if raw_feedback is not None:
        for mask, rule, detail, column in (
            (why_inconsistent != "", "feedback_inconsistent", why_inconsistent, "credit_date"),
            (order != "", "dates_out_of_order", order, "contact_date"),
            (over, "credit_above_need", over_detail, "credit_amount"),
        ):
            rows = pairs[mask]
            if rows.empty:
                continue
            excluded.append(
                pd.DataFrame(
                    {
                        "table": "银行反馈",
                        "source": raw_feedback.source,
                        "row": rows["feedback_row"].astype(int).to_numpy(),
                        "institution_id": rows["institution_id"].to_numpy(),
                        "credit_code": rows["credit_code"].to_numpy(),
                        "firm_name": rows["firm_name"].to_numpy(),
                        "county_code": rows["county_code"].to_numpy(),
                        "batch": rows["batch"].to_numpy(),
                        "list_date": rows["list_date"].to_numpy(),
                        "rule": rule,
                        "detail": detail[mask].to_numpy(),
                        "_column": column,
                    }
                )
            )
    drop = (why_inconsistent != "") | (order != "") | over
    pairs = pairs[~drop].reset_index(drop=True)

    out = (
        pd.concat([e for e in excluded if not e.empty], ignore_index=True)
        if any(not e.empty for e in excluded)
        else pd.DataFrame(columns=[*EXCLUDED_COLUMNS, "_column"])
    )
    # the firm's name, county, batch and 推荐日期 (its first listing), where the list knows the code:
    # a bank's report identifies a row by them, and a period shows the rows listed by its end
    names = lst.sort_values("list_date", kind="stable").drop_duplicates("credit_code").set_index("credit_code")
    for col in ("firm_name", "county_code", "batch", "list_date"):
        out[col] = out[col].where(out[col].notna(), out["credit_code"].map(names[col]))
    out["list_date"] = pd.to_datetime(out["list_date"])
    column_of = {"invalid_credit_code": "credit_code", "feedback_not_pushed": "institution_id"}
    for rule_name, frame in out.groupby("rule", sort=False):
        col = column_of.get(str(rule_name)) or str(frame["_column"].iloc[0])
        issues.extend(_issues_of(frame, col))
    out = out.drop(columns="_column", errors="ignore").loc[:, list(EXCLUDED_COLUMNS)]

    # 5. firms pushed before the latest date of the data less the decision window, with no feedback
    latest = pd.concat([pairs[c] for c in ("list_date", *FEEDBACK_DATES)]).max()
    if pd.notna(latest):
        stale = pairs[~pairs["has_feedback"] & (pairs["list_date"] + pd.Timedelta(days=params.decision_days) < latest)]
        for bank, rows in stale.groupby("institution_id", sort=True):
            issues.append(
                Issue(
                    raw_list.source,
                    int(rows["list_row"].min()),
                    "institution_id",
                    "no_feedback",
                    f"{bank}: {len(rows)} 户推送超过 {params.decision_days} 天无反馈（至 {latest:%Y-%m-%d}）/ "
                    f"{len(rows)} firms pushed over {params.decision_days} days before {latest:%Y-%m-%d} without feedback",
                )
            )
    pairs["feedback_row"] = pairs["feedback_row"].astype("Int64")
    return FinancingTables(
        pairs=pairs,
        excluded=out.sort_values(["table", "row"], kind="stable").reset_index(drop=True),
        list_source=raw_list.source,
        feedback_source=raw_feedback.source if raw_feedback is not None else "",
    )


__all__ = ["DATE_ORDER", "EXCLUDED_COLUMNS", "check_financing"]
