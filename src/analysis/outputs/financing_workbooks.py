"""The county workbooks of the financing coordination mechanism (融资协调工作机制县区工作簿): one ``.xlsx``
per county for its 工作专班, the list of its firms they chase.

``reports/<period>/融资协调/<县区代码>-<县区>.xlsx``, four sheets:

* 企业状态 — every firm and bank pair the county pushed by the period end, with its status then
  (未反馈, 未对接, 已对接, 未授信, 已授信, 已放款), its decision deadline and days overdue; overdue pairs first;
* 超期未办结 — the pairs pushed more than the decision window before the period end, no decision;
* 分机构汇总 — the county's pairs by bank: pushed, contacted, decided, granted, lent, overdue, rates;
* 未计入统计 — the county's rows left out of the figures (bad code, dates out of order …), to chase:
  those listed (推荐日期) by the period end, and those without a usable 推荐日期 (a feedback row whose
  code is on no list) in every period once the mechanism has begun (:attr:`FinancingFigures.excluded`).

A county gets a workbook once it has pushed a firm by the period end; a period before the first
list has no ``融资协调`` folder at all (a stale one is removed).

The folder is written whole into a staging folder and moved into place in one rename
(:func:`analysis.core.files.replace_folder`): a reader sees the old set or the new one, never half.
Every workbook goes through the project's one Excel writer (:mod:`analysis.core.workbook`): text
from the lists (a firm named ``=HYPERLINK(…)``) stays text.
"""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pandas as pd

from analysis.core.contract import COUNTIES
from analysis.core.files import replace_folder
from analysis.core.financing import STATUSES
from analysis.core.workbook import COUNT_FORMAT, DATE_FORMAT, DECIMAL_FORMAT, YES_NO, add_sheet, new_book
from analysis.rules.financing import FinancingFigures

#: the folder under ``reports/<period>/``
FOLDER = "融资协调"

FIRM_LABELS = {
    "status": "当前状态",
    "overdue": "是否超期未办结",
    "days_overdue": "超期天数",
    "firm_name": "企业名称",
    "credit_code": "统一社会信用代码",
    "batch": "推荐批次",
    "list_date": "推荐日期",
    "deadline": "办结时限",
    "institution_id": "机构编码",
    "bank": "推送银行",
    "from_visit": "是否走访",
    "need_amount": "融资需求金额（万元）",
    "need_purpose": "融资用途",
    "contact_date": "对接日期",
    "decision_date": "授信决定日期",
    "credit_amount": "授信金额（万元）",
    "loan_date": "放款日期",
    "loan_amount": "放款金额（万元）",
    "credit_loan": "是否信用贷款",
    "first_loan": "是否首贷户",
    "no_repay_renewal": "是否无还本续贷",
    "refusal_reason": "未授信原因",
    "refusal_note": "未授信原因说明",
}
EXCLUDED_LABELS = {
    "table": "表",
    "source": "文件",
    "row": "行",
    "institution_id": "机构编码",
    "bank": "机构名称",
    "firm_name": "企业名称",
    "credit_code": "统一社会信用代码",
    "batch": "推荐批次",
    "list_date": "推荐日期",
    "rule": "规则",
    "problem": "问题",
    "detail": "说明",
}
BANK_LABELS = {
    "institution_id": "机构编码",
    "bank": "机构名称",
    "pushed": "推送（户次）",
    "contacted": "已对接（户次）",
    "decided": "已作出授信决定（户次）",
    "granted": "已授信（户次）",
    "lent": "已放款（户次）",
    "overdue": "超期未办结（户次）",
    "contact_rate_pct": "已对接占推送比重（%）",
    "decided_rate_pct": "已作出授信决定占推送比重（%）",
}


def workbook_name(county_code: str) -> str:
    """``411302-宛城区.xlsx``."""
    return f"{county_code}-{COUNTIES.get(county_code, county_code)}.xlsx"


def _bank_summary(firms: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The county's pairs by bank, as they stand at the period end (all pushed so far)."""
    status = firms["status"]
    frame = pd.DataFrame(
        {
            "institution_id": firms["institution_id"],
            "pushed": 1,
            "contacted": ~status.isin(["未反馈", "未对接"]),
            "decided": status.isin(["未授信", "已授信", "已放款"]),
            "granted": status.isin(["已授信", "已放款"]),
            "lent": status.eq("已放款"),
            "overdue": firms["overdue"],
        }
    )
    out = frame.groupby("institution_id", sort=True).sum().astype(int).reset_index()
    out["contact_rate_pct"] = out["contacted"] / out["pushed"] * 100
    out["decided_rate_pct"] = out["decided"] / out["pushed"] * 100
    out.insert(1, "bank", out["institution_id"].map(names))
    return out


def _write_county(
    path: Path, code: str, firms: pd.DataFrame, excluded: pd.DataFrame, names: dict[str, str], figures: FinancingFigures
) -> None:
    from analysis.content.financing import EXCLUDED_REASONS

    order = {s: i for i, s in enumerate(STATUSES)}
    firms = firms.assign(bank=firms["institution_id"].map(names), _order=firms["status"].map(order))
    firms = firms.sort_values(
        ["overdue", "days_overdue", "_order", "list_date", "credit_code"], ascending=[False, False, True, True, True]
    )
    shown = firms[list(FIRM_LABELS)].reset_index(drop=True)
    formats = {
        "days_overdue": COUNT_FORMAT,
        "need_amount": DECIMAL_FORMAT,
        "credit_amount": DECIMAL_FORMAT,
        "loan_amount": DECIMAL_FORMAT,
        **{c: DATE_FORMAT for c in ("list_date", "deadline", "contact_date", "decision_date", "loan_date")},
    }
    for col in ("overdue", "from_visit", "credit_loan", "first_loan", "no_repay_renewal"):
        shown[col] = shown[col].map(lambda v: None if v is None or pd.isna(v) else YES_NO[bool(v)])
    excluded = excluded.assign(
        bank=excluded["institution_id"].map(names), problem=excluded["rule"].map(EXCLUDED_REASONS)
    )[list(EXCLUDED_LABELS)]
    with new_book(path) as book:
        add_sheet(book, "企业状态", shown, labels=FIRM_LABELS, number_formats=formats, freeze="F2")
        add_sheet(
            book,
            "超期未办结",
            shown[firms["overdue"].to_numpy(dtype=bool)].reset_index(drop=True),
            labels=FIRM_LABELS,
            number_formats=formats,
            freeze="F2",
        )
        add_sheet(
            book,
            "分机构汇总",
            _bank_summary(firms, names),
            labels=BANK_LABELS,
            number_formats={"contact_rate_pct": DECIMAL_FORMAT, "decided_rate_pct": DECIMAL_FORMAT},
        )
        add_sheet(
            book,
            "未计入统计",
            excluded.reset_index(drop=True),
            labels=EXCLUDED_LABELS,
            number_formats={"list_date": DATE_FORMAT},
        )
        note = pd.DataFrame(
            {
                "说明": [
                    f"县区：{code} {COUNTIES.get(code, code)}",
                    f"数据截至：{figures.period:%Y-%m-%d}",
                    f"办结时限：推荐之日起{figures.decision_days}天内作出授信决定（授信或未授信）",
                    "状态：" + "、".join(STATUSES) + "（截至数据期末）",
                    "未计入统计：推荐日期在数据期末以前（或无可用推荐日期）的有误清单或反馈行，"
                    "已退回机构更正，未计入任何指标",
                    "单位：户次（一户企业推送至两家机构计两户次）",
                    "分机构汇总：截至数据期末已推送企业（含上年推送）的当前状态，按推送企业计；"
                    "报告中的对接、授信、放款为按发生日期计入的流量，考核用的对接率、按时办结率按办结时限届满的企业计",
                ]
            }
        )
        add_sheet(book, "说明", note, widths={"说明": 80})


def write_county_workbooks(figures: FinancingFigures, period_dir: Path | str, institutions: pd.DataFrame) -> list[Path]:
    """One workbook per county that has pushed a firm by ``figures.period``, in
    ``period_dir/融资协调/`` (replaced as a whole, atomically); no folder when no county has (a stale
    one is removed). Returns the workbooks' paths."""
    target = Path(period_dir) / FOLDER
    firms, excluded = figures.firms, figures.excluded
    codes = sorted(set(firms["county_code"].dropna()))
    if not codes:
        if target.is_dir():
            shutil.rmtree(target)
        return []
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{FOLDER}-new-{secrets.token_hex(6)}"
    staging.mkdir()
    names = dict(zip(institutions["institution_id"], institutions["name"]))
    written = []
    try:
        for code in codes:
            name = workbook_name(str(code))
            _write_county(
                staging / name,
                str(code),
                firms[firms["county_code"] == code],
                excluded[excluded["county_code"] == code],
                names,
                figures,
            )
            written.append(name)
        replace_folder(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return [target / n for n in written]


__all__ = ["FOLDER", "write_county_workbooks", "workbook_name"]
