"""Fictional loan-level data (示例借据数据) that aggregate to the demo S71 returns.

For one month-end, :data:`LOAN_PERIOD` (2023-12), every bank gets EAST-shaped tables — receipts
(借据), customers (客户), credit lines (授信) — under ``loans/<bank>/`` whose S71 recomputation
(:func:`analysis.inputs.loans.recompute_s71`) equals its demo S71 return for every item reconciled in
``params/loans.yaml``, to the 分, except for the planted cases of :data:`LOAN_SEEDS`:

* ``extra_balance`` — a receipt booked in the loan system but not in the return (6.A5, 6.A0 differ);
* ``npl_hidden`` — a non-performing receipt reclassified 关注 (6.C5 differs; overdue_not_npl finds it);
* ``overdue_not_npl`` — receipts overdue over 90 days left 关注 (no S71 figure changes);
* ``new_borrower`` — loans drawn two months after the borrower was founded;
* ``over_crediting`` — one individual business holding lines at four banks (``shared_customer``).

Amounts are generated in 分 (integer cents), so sums are exact. One known limit of the demo
monitoring table: in many demo banks the individual-business borrowers (3.1.B5) exceed all
inclusive borrowers (6.B5), which no set of loans can reproduce; :attr:`DemoLoans.infeasible`
lists those bank-items, and the reconciliation shows them as what they are — an inconsistent return.

One snapshot only, though the monthly figures run to 2025-06: the loan checks read every snapshot
under ``loans/`` (a second one would double the receipts every run reads, about 680,000 more), and
a coherent later snapshot needs the same customers carried across dates (their founding dates and
lines: the checks join the latest snapshot of the customers to every receipt), which this generator
does not model. A report of a later month says that no loan-level data exist for its month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

LOAN_SEEDS: dict[str, str] = {
    "B010": "extra_balance",
    "B025": "npl_hidden",
    "B026": "overdue_not_npl",
    "B040": "new_borrower",
    "B014": "over_crediting",
    "B015": "over_crediting",
    "B016": "over_crediting",
    "B022": "over_crediting",
}
SHARED_CUSTOMER = "92411300MA9DEMO001"
#: the month-end of the demo's loan tables (the year-end of the planted 2023 outcomes)
LOAN_PERIOD = "2023-12"
_EXTRA_BALANCE_CENTS = 50_000_000  # 50万元
_WAN = 1_000_000  # 分 per 万元


@dataclass
class DemoLoans:
    folder: Path
    period: pd.Timestamp
    infeasible: list[tuple[str, str]] = field(default_factory=list)
    receipts: int = 0


def _alloc(total: int, n: int, rng: np.random.Generator, cap: int | None = None, spread: float = 0.7) -> np.ndarray:
    """``n`` positive integers summing exactly to ``total``, none above ``cap`` when possible.

    Water-filling: shares proportional to random weights, capped, the cap's excess spread over the
    others (``min(cap, λ·w)`` with λ found by bisection), then the rounding remainder one unit each.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    w = rng.lognormal(0.0, spread, n)
    if cap is None or total >= cap * n:
        share = total * w / w.sum()
    else:
        lo, hi = 0.0, total / w.min()
        for _ in range(200):
            mid = (lo + hi) / 2
            if np.minimum(cap, mid * w).sum() < total:
                lo = mid
            else:
                hi = mid
        share = np.minimum(cap, hi * w)
    out = np.maximum(np.floor(share).astype(np.int64), 1)
    diff = total - int(out.sum())
    if diff > 0:
        out[np.argsort(out)[:diff]] += 1
    elif diff < 0:
        out[np.argsort(-out)[:-diff]] -= 1
    assert int(out.sum()) == total and abs(diff) <= n
    return out


def _mark_exact(
    df: pd.DataFrame, col: str, target: int, eligible: np.ndarray, flag: str, rng: np.random.Generator
) -> pd.DataFrame:
    """Set ``flag`` on receipts whose ``col`` sums to exactly ``target`` (splitting one receipt)."""
    df[flag] = False
    idx = rng.permutation(np.flatnonzero(eligible))
    if target <= 0 or len(idx) == 0:
        return df
    values = df[col].to_numpy()[idx]
    cum = np.cumsum(values)
    k = int(np.searchsorted(cum, target, side="right"))
    flags = df[flag].to_numpy().copy()
    flags[idx[:k]] = True
    df[flag] = flags
    rest = target - (int(cum[k - 1]) if k else 0)
    if rest > 0 and k < len(idx):
        j = idx[k]
        row = df.loc[[j]].copy()
        whole = int(df.at[j, col])
        other = "balance" if col == "amount" else "amount"
        part_other = int(df.at[j, other]) * rest // whole
        if col == "balance":
            part_other = max(rest, part_other)  # amount ≥ balance in both halves
        row[col] = rest
        row[other] = part_other
        row[flag] = True
        row["receipt_id"] = row["receipt_id"] + "-2"
        df.at[j, col] = whole - rest
        df.at[j, other] = int(df.at[j, other]) - part_other
        df = pd.concat([df, row], ignore_index=True)
    return df


def _dates(rng, start: pd.Timestamp, end: pd.Timestamp, n: int) -> np.ndarray:
    days = max((end - start).days, 1)
    return (start + pd.to_timedelta(rng.integers(0, days + 1, n), unit="D")).to_numpy()


def bank_loans(
    bank_id: str, cells: dict[str, float], period: pd.Timestamp, rng: np.random.Generator, seed_kind: str = ""
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """Receipts, customers, lines of one bank whose S71 recomputation equals ``cells`` (万元 / 户)."""
    c = {k: round(v * _WAN) if k[-2] in "ACDF" else round(v) for k, v in cells.items()}
    year_start = pd.Timestamp(year=period.year, month=1, day=1)
    infeasible: list[str] = []
    n = c["6.B5"]
    ind_a, ind_b = c["3.1.A5"], c["3.1.B5"]
    ent_a = c["6.A5"] - ind_a
    cap_ent, cap_ind = 800 * _WAN, 250 * _WAN
    n_ent_min = max(1, -(-ent_a // cap_ent)) if ent_a > 0 else 0
    n_ind = min(ind_b, n - n_ent_min) if ind_a > 0 else 0
    if n_ind != ind_b:
        infeasible.append("3.1.B5")
    n_ent = n - n_ind
    # customers with a balance: individual businesses first, then enterprises
    cid = np.array([f"9141{bank_id}{i:08d}" for i in range(n)])
    ctype = np.array(["个体工商户"] * n_ind + ["企业"] * n_ent)
    bal = np.concatenate([_alloc(ind_a, n_ind, rng, cap_ind), _alloc(ent_a, n_ent, rng, cap_ent)])
    # year-to-date drawdowns: E5 customers share D5
    e, d = c["6.E5"], c["6.D5"]
    n_extra = max(0, e - n)
    ytd_cust = np.concatenate([rng.choice(n, size=min(e, n), replace=False), np.arange(n, n + n_extra)])
    cid = np.concatenate([cid, [f"9141{bank_id}X{i:07d}" for i in range(n_extra)]])
    ctype = np.concatenate([ctype, ["企业"] * n_extra])
    bal_all = np.concatenate([bal, np.zeros(n_extra, dtype=np.int64)])
    amt = _alloc(d, e, rng, 900 * _WAN)
    ytd_bal = np.minimum(bal_all[ytd_cust], (amt * 8) // 10)
    old_bal = bal_all.copy()
    old_bal[ytd_cust] -= ytd_bal
    old_idx = np.flatnonzero(old_bal > 0)
    rate_target = c["6.F5"] / d * 100 if d else 5.0
    z = rng.normal(0, 0.4, e)
    rates = rate_target + z - (amt * z).sum() / amt.sum() if e else z
    ytd = pd.DataFrame(
        {
            "customer_id": cid[ytd_cust],
            "amount": amt,
            "balance": ytd_bal,
            "rate": rates,
            "disbursement_date": _dates(rng, year_start, period, e),
            "disbursement_type": "新增",
        }
    )
    old = pd.DataFrame(
        {
            "customer_id": cid[old_idx],
            "balance": old_bal[old_idx],
            "amount": (old_bal[old_idx] * rng.uniform(1.0, 1.6, len(old_idx))).astype(np.int64),
            "rate": rate_target + 0.3 + rng.normal(0, 0.5, len(old_idx)),
            "disbursement_date": _dates(
                rng, year_start - pd.DateOffset(years=3), year_start - pd.Timedelta(days=1), len(old_idx)
            ),
            "disbursement_type": rng.choice(["新增", "借新还旧"], len(old_idx), p=[0.9, 0.1]),
        }
    )
    # a few old loans restructured this year: balance counts, drawdown does not
    restructured = rng.random(len(old)) < 0.01
    old.loc[restructured, "disbursement_type"] = "重组"
    old.loc[restructured, "disbursement_date"] = _dates(rng, year_start, period, int(restructured.sum()))
    rec = pd.concat([ytd, old], ignore_index=True)
    rec["receipt_id"] = [f"JJ{bank_id}{i:08d}" for i in range(len(rec))]
    rec["subject"] = "130301"
    rec = _mark_exact(
        rec,
        "amount",
        c["6.3.D5"],
        (rec["disbursement_date"] >= year_start).to_numpy() & (rec["disbursement_type"] != "重组").to_numpy(),
        "renewal",
        rng,
    )
    rec.loc[rec["renewal"], "disbursement_type"] = "无还本续贷"
    rec = _mark_exact(rec, "balance", c["6.C5"], (rec["balance"] > 0).to_numpy(), "npl", rng)
    rec = _mark_exact(rec, "balance", c["6.1.A5"], (rec["balance"] > 0).to_numpy(), "credit", rng)
    m = len(rec)
    rec["five_class"] = np.where(
        rec["npl"],
        rng.choice(["次级", "可疑", "损失"], m, p=[0.6, 0.3, 0.1]),
        rng.choice(["正常", "关注"], m, p=[0.95, 0.05]),
    )
    rec["overdue_days"] = np.where(rec["npl"], rng.integers(91, 720, m), 0)
    rec["guarantee_type"] = np.where(rec["credit"], "信用", rng.choice(["抵押", "保证", "质押"], m))
    # bills: band 0 only, to enterprises with room under their line
    bills = c["6.A0"] - c["6.A5"]
    exposure = pd.Series(bal_all, index=cid).astype(np.int64)
    bill_rows = pd.DataFrame()
    if bills > 0:
        ent = np.flatnonzero(ctype == "企业")
        room = np.clip(950 * _WAN - bal_all[ent], 0, None)
        top = ent[np.argsort(-room)][: max(1, int(np.searchsorted(np.cumsum(np.sort(room)[::-1]), bills * 2)) + 1)]
        share = room[np.searchsorted(ent, top)] if len(top) else room
        share = np.maximum(share, 1).astype(float)
        portion = np.floor(bills * (share / share.sum())).astype(np.int64)
        portion[np.argmax(portion)] += bills - int(portion.sum())
        keep = portion > 0
        bill_rows = pd.DataFrame(
            {
                "customer_id": cid[top[keep]],
                "amount": portion[keep],
                "balance": portion[keep],
                "rate": 2.1,
                "disbursement_date": _dates(rng, year_start, period, int(keep.sum())),
                "disbursement_type": "新增",
                "subject": "130101",
                "five_class": "正常",
                "overdue_days": 0,
                "guarantee_type": "质押",
            }
        )
        bill_rows["receipt_id"] = [f"PJ{bank_id}{i:07d}" for i in range(len(bill_rows))]
        exposure = exposure.add(bill_rows.groupby("customer_id")["balance"].sum(), fill_value=0).astype(np.int64)
    # above 10M (band 4): small enterprises with lines of 3000万
    a4 = c["6.A4"]
    n4 = -(-a4 // (2000 * _WAN)) if a4 > 0 else 0
    big = pd.DataFrame()
    if n4:
        big_bal = _alloc(a4, n4, rng, 2900 * _WAN)
        big = pd.DataFrame(
            {
                "customer_id": [f"9141{bank_id}B{i:06d}" for i in range(n4)],
                "balance": big_bal,
                "amount": big_bal + big_bal // 10,
                "rate": rate_target - 0.5,
                "disbursement_date": _dates(
                    rng, year_start - pd.DateOffset(years=2), year_start - pd.Timedelta(days=1), n4
                ),
                "disbursement_type": "新增",
                "subject": "130301",
                "five_class": "正常",
                "overdue_days": 0,
                "guarantee_type": "抵押",
            }
        )
        big["receipt_id"] = [f"JB{bank_id}{i:06d}" for i in range(n4)]
    receipts = pd.concat([rec.drop(columns=["renewal", "npl", "credit"]), bill_rows, big], ignore_index=True)
    # lines: every inclusive customer ≤ 1000万 and within its size cap; band-4 customers 3000万
    need = exposure.reindex(cid).to_numpy()
    is_ind = ctype == "个体工商户"
    ceiling = np.where(is_ind, 300 * _WAN, 1000 * _WAN)  # an individual business's cap is 300万
    line = np.minimum(np.maximum(need * rng.uniform(1.05, 1.3, len(cid)), 10 * _WAN), ceiling)
    line = np.maximum(line, need).astype(np.int64)
    size = np.where(
        is_ind,
        np.array(None, dtype=object),
        np.where(line > 450 * _WAN, "小型", rng.choice(["小型", "微型"], len(cid))),
    )
    customers = pd.DataFrame({"customer_id": cid, "customer_type": ctype, "enterprise_size": size})
    lines = pd.DataFrame({"customer_id": cid, "line_amount": line})
    if n4:
        customers = pd.concat(
            [
                customers,
                pd.DataFrame({"customer_id": big["customer_id"], "customer_type": "企业", "enterprise_size": "小型"}),
            ],
            ignore_index=True,
        )
        lines = pd.concat(
            [lines, pd.DataFrame({"customer_id": big["customer_id"], "line_amount": 3000 * _WAN})], ignore_index=True
        )
    k = len(customers)
    customers["founding_date"] = (period - pd.to_timedelta(rng.integers(2 * 365, 20 * 365, k), unit="D")).normalize()
    customers["equity_transfer_date"] = pd.NaT
    customers["region"] = "4113" + pd.Series(
        rng.choice(["02", "03", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "81"], k)
    )
    customers["industry"] = rng.choice(["A", "C", "E", "F", "G", "H", "I"], k)
    customers["first_credit_month"] = (customers["founding_date"] + pd.DateOffset(months=6)).dt.strftime("%Y-%m")
    lines["line_start"] = period - pd.DateOffset(years=4)
    lines["line_end"] = period + pd.DateOffset(years=2)

    # planted cases
    if seed_kind == "extra_balance":
        target = receipts.index[
            receipts["subject"].eq("130301")
            & receipts["balance"].gt(0)
            & receipts["customer_id"].isin(cid[ctype == "企业"])
        ][0]
        row = receipts.loc[[target]].copy()
        row["receipt_id"] += "-X"
        row["balance"] = _EXTRA_BALANCE_CENTS
        row["amount"] = _EXTRA_BALANCE_CENTS
        row["disbursement_date"] = year_start - pd.Timedelta(days=40)
        row["disbursement_type"] = "新增"
        row["five_class"], row["overdue_days"], row["guarantee_type"] = "正常", 0, "抵押"
        receipts = pd.concat([receipts, row], ignore_index=True)
    elif seed_kind == "npl_hidden":
        j = receipts.index[receipts["five_class"].isin(["次级", "可疑"])][0]
        receipts.loc[j, ["five_class", "overdue_days"]] = ["关注", 200]
    elif seed_kind == "overdue_not_npl":
        js = receipts.index[receipts["five_class"].eq("正常") & receipts["balance"].gt(0)][:3]
        receipts.loc[js, "five_class"] = "关注"
        receipts.loc[js, "overdue_days"] = [95, 120, 150]
    elif seed_kind == "new_borrower":
        # two customers with a single receipt, a new business loan drawn this year: their founding
        # date is set two months before it (so exactly two receipts are planted)
        per_customer = receipts.groupby("customer_id")["receipt_id"].transform("size")
        ytd_ids = receipts.loc[
            (receipts["disbursement_date"] >= year_start + pd.Timedelta(days=70))
            & receipts["disbursement_type"].eq("新增")
            & receipts["subject"].eq("130301")
            & receipts["customer_id"].isin(customers.loc[customers["customer_type"].eq("企业"), "customer_id"])
            & per_customer.eq(1),
            "customer_id",
        ].drop_duplicates()[:2]
        for cust in ytd_ids:
            first = receipts.loc[receipts["customer_id"].eq(cust), "disbursement_date"].min()
            customers.loc[customers["customer_id"].eq(cust), "founding_date"] = first - pd.DateOffset(months=2)
    elif seed_kind == "over_crediting":
        ind = np.flatnonzero(is_ind)
        if len(ind):
            old_id = cid[ind[0]]
            for frame in (receipts, customers, lines):
                frame.loc[frame["customer_id"].eq(old_id), "customer_id"] = SHARED_CUSTOMER
            lines.loc[lines["customer_id"].eq(SHARED_CUSTOMER), "line_amount"] = 200 * _WAN
            customers.loc[customers["customer_id"].eq(SHARED_CUSTOMER), "founding_date"] = period - pd.DateOffset(
                years=8
            )

    receipts["amount"] = receipts["amount"] / 100.0  # 分 → 元
    receipts["balance"] = receipts["balance"] / 100.0
    lines["line_amount"] = lines["line_amount"] / 100.0
    receipts["maturity_date"] = pd.to_datetime(receipts["disbursement_date"]) + pd.to_timedelta(
        rng.integers(180, 1100, len(receipts)), unit="D"
    )
    receipts["contract_id"] = "HT" + receipts["receipt_id"]
    receipts["purpose_area"] = "411300"
    receipts["purpose_industry"] = "C"
    for frame in (receipts, customers, lines):
        frame.insert(0, "bank_id", bank_id)
    receipts.insert(0, "data_date", period)
    return receipts, customers, lines, infeasible


def demo_licence(bank_id: str) -> str:
    """The demo bank's 金融许可证号 (the shape of ``B1191H250000001``; fictional)."""
    digits = "".join(ch for ch in bank_id if ch.isdigit()).zfill(3)[-3:]
    return f"B0{digits}H241130{digits}"


#: how each demo bank delivers its EAST tables, by its position among the banks (i % 4):
#: (table and column names, file format) — codes and Chinese names, GBK CSV and Parquet
EAST_STYLES = (("code", "csv"), ("name", "parquet"), ("name", "csv"), ("code", "parquet"))


def _yyyymmdd(values) -> np.ndarray:
    """YYYYMMDD text of each date, 99991231 for none (vectorised: the benchmark writes 10^7 rows)."""
    dates = pd.to_datetime(pd.Series(np.asarray(values, dtype=object)))
    number = (dates.dt.year * 10_000 + dates.dt.month * 100 + dates.dt.day).fillna(0).astype(np.int64)
    return np.where(dates.isna(), "99991231", number.astype(str)).astype(object)


def east_tables(
    bank_id: str, receipts: pd.DataFrame, customers: pd.DataFrame, lines: pd.DataFrame, rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """One bank's loans as EAST 5.0 tables (column codes): IE_002_203, IE_002_201, IE_005_504/503,
    IE_005_501, IE_007_701. Customers are numbered 1…n by the bank (客户统一编号); the demo's
    customer id becomes the 证件号码, the same at every bank."""
    licence, cjrq = demo_licence(bank_id), _yyyymmdd(receipts["data_date"].iloc[:1])[0]
    order = rng.permutation(len(customers))  # the bank's own numbering, 1…n in its own order
    number = {c: str(k + 1) for c, k in zip(customers["customer_id"], order)}
    personal = customers["customer_type"].eq("个体工商户").to_numpy()
    corp, pers = customers[~personal], customers[personal]
    qyfl = np.where(corp["enterprise_size"].eq("小型"), "小型企业", "微型企业")
    ie203 = pd.DataFrame(
        {
            "JRXKZH": licence,
            "KHTYBH": corp["customer_id"].map(number),
            "ZJLB": "统一社会信用代码",
            "ZJHM": corp["customer_id"],
            "KHLX": "单一法人客户",
            "QYFL": qyfl,
            "CLRQ": _yyyymmdd(corp["founding_date"]),
            "SCJLXDGXNY": corp["first_credit_month"].str.replace("-", "", regex=False),
            "XZQHDM": corp["region"],
            "SSHY": corp["industry"],
            "CJRQ": cjrq,
        }
    )
    ie201 = pd.DataFrame(
        {
            "JRXKZH": licence,
            "KHTYBH": pers["customer_id"].map(number),
            "ZJLB": "居民身份证",
            "ZJHM": pers["customer_id"],
            "BXYGBZ": rng.choice(["个体工商户", "个体工商户;小微企业主"], len(pers), p=[0.8, 0.2]),
            "SCJLXDGXNY": pers["first_credit_month"].str.replace("-", "", regex=False),
            "CJRQ": cjrq,
        }
    )
    overdue = receipts["overdue_days"].to_numpy()
    due = pd.Timestamp(receipts["data_date"].iloc[0]) - pd.to_timedelta(overdue, unit="D")
    on_interest = rng.random(len(receipts)) < 0.3  # some owe interest first, some principal
    principal_due = np.where((overdue > 0) & ~on_interest, _yyyymmdd(due), "99991231")
    interest_due = np.where((overdue > 0) & on_interest, _yyyymmdd(due), "99991231")
    band4 = receipts["customer_id"].isin(lines.loc[lines["line_amount"] > 10_000_000, "customer_id"])
    inclusive = ~receipts["subject"].str.startswith("130101") & ~band4  # bills (贴现) and lines > 1000万 are not
    rec = pd.DataFrame(
        {
            "JRXKZH": licence,
            "MXKMBH": receipts["subject"],
            "KHTYBH": receipts["customer_id"].map(number),
            "XDHTH": receipts["contract_id"],
            "XDJJH": receipts["receipt_id"],
            "DKFFLX": receipts["disbursement_type"].replace({"重组": "重组贷款"}),
            "BZ": "CNY",
            "DKJE": receipts["amount"].map("{:.2f}".format),
            "DKYE": receipts["balance"].map("{:.2f}".format),
            "DKWJFL": receipts["five_class"],
            "DKFFRQ": _yyyymmdd(receipts["disbursement_date"]),
            "DKDQRQ": _yyyymmdd(receipts["maturity_date"]),
            "QBRQ": principal_due,
            "QXRQ": interest_due,
            "SJLL": receipts["rate"].map("{:.6f}".format),
            "DKTXDQ": receipts["purpose_area"],
            "DKTXHY": receipts["purpose_industry"],
            "SFPHXXWQYDK": np.where(inclusive, "是", "否"),
            "CJRQ": cjrq,
        }
    )
    in_person = receipts["customer_id"].isin(pers["customer_id"]).to_numpy()
    contracts = pd.DataFrame(
        {
            "JRXKZH": licence,
            "XDHTH": receipts["contract_id"],
            "KHTYBH": receipts["customer_id"].map(number),
            "DBLX": receipts["guarantee_type"],
            "CJRQ": cjrq,
        }
    ).drop_duplicates("XDHTH")
    open_ended = rng.random(len(lines)) < 0.3  # 99991231: a line without an end date
    ie701 = pd.DataFrame(
        {
            "JRXKZH": licence,
            "SXXYH": [f"SX{bank_id}{i:07d}" for i in range(len(lines))],
            "KHTYBH": lines["customer_id"].map(number),
            "KHZJHM": lines["customer_id"],
            "SXED": lines["line_amount"].map("{:.2f}".format),
            "BZ": "CNY",
            "SXKSRQ": _yyyymmdd(lines["line_start"]),
            "SXDQRQ": np.where(open_ended, "99991231", _yyyymmdd(lines["line_end"])),
            "SXZT": "有效",
            "YHJGDM": "9141130000000" + bank_id,
            "CJRQ": cjrq,
        }
    )
    return {
        "IE_002_203": ie203,
        "IE_002_201": ie201,
        "IE_005_504": rec[~in_person],
        "IE_005_503": rec[in_person],
        "IE_005_501": contracts,
        "IE_007_701": ie701,
    }


def write_east(folder: Path, tables: dict[str, pd.DataFrame], style: tuple[str, str]) -> None:
    """Write one bank's EAST tables named by code or Chinese name, as GBK CSV or Parquet."""
    from analysis.inputs.east import load_east_specs

    spec = load_east_specs()[-1]
    by_code = {t.code: t for t in spec.tables.values()}
    names, fmt = style
    folder.mkdir(parents=True, exist_ok=True)
    for code, frame in tables.items():
        table = by_code[code]
        if names == "name":
            frame = frame.rename(columns=table.columns)
        stem = code if names == "code" else table.name
        if fmt == "csv":
            frame.to_csv(folder / f"{stem}.csv", index=False, encoding="gbk")
        else:
            frame.to_parquet(folder / f"{stem}.parquet", index=False)


def write_demo_loans(out_dir: Path | str, seed: int | None = None, params_dir: Path | str | None = None) -> DemoLoans:
    """Write the demo's :data:`LOAN_PERIOD` as EAST 5.0 tables, ``loans/<bank>/IE_005_504.csv`` …
    (styles :data:`EAST_STYLES`), and the org map ``loans/报送机构编码对照.csv`` (金融许可证号 -> 机构编码)."""
    from analysis.core.contract import BANK_CATEGORIES
    from analysis.demo.jurisdiction import SEED, demo_tables
    from analysis.inputs.loans import load_loan_rules
    from analysis.inputs.s71 import load_form_versions, s71_cells

    seed = SEED if seed is None else seed
    out = Path(out_dir) / "loans"
    year, month = (int(part) for part in LOAN_PERIOD.split("-"))
    period = pd.Timestamp(year=year, month=month, day=1) + pd.offsets.MonthEnd(0)
    tables = demo_tables(seed)
    inst = tables["institutions"]
    banks = inst.loc[inst["category"].isin(BANK_CATEGORIES), "institution_id"]
    monthly = tables["monthly"]
    rows = monthly[monthly["institution_id"].isin(banks) & (monthly["period"] == period)]
    cells = s71_cells(rows, load_form_versions(params_dir))
    items = set(load_loan_rules().raw["reconcile"]["items"])
    rng = np.random.default_rng(seed + 7)
    result = DemoLoans(out, period)
    licences: list[tuple[str, str]] = []
    for bank_id, group in cells.groupby("institution_id", sort=True):
        values = dict(zip(group["cell"], group["value"]))
        missing = items - set(values)
        if missing:
            raise ValueError(f"demo S71 of {bank_id} lacks {sorted(missing)}")
        receipts, customers, lines, infeasible = bank_loans(bank_id, values, period, rng, LOAN_SEEDS.get(bank_id, ""))
        tables = east_tables(bank_id, receipts, customers, lines, rng)
        write_east(out / bank_id, tables, EAST_STYLES[len(licences) % len(EAST_STYLES)])
        licences.append((demo_licence(bank_id), bank_id))
        result.infeasible += [(bank_id, item) for item in infeasible]
        result.receipts += len(receipts)
    org_map = pd.DataFrame(licences, columns=["ORG_NUM", "机构编码"])
    org_map.to_csv(out / "报送机构编码对照.csv", index=False, encoding="utf-8-sig")
    return result


__all__ = [
    "EAST_STYLES",
    "LOAN_PERIOD",
    "LOAN_SEEDS",
    "SHARED_CUSTOMER",
    "DemoLoans",
    "bank_loans",
    "demo_licence",
    "east_tables",
    "write_demo_loans",
    "write_east",
]
