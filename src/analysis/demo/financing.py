"""The demo's financing coordination mechanism (示例融资协调数据): 推荐清单 and 银行反馈 for the demo's
counties and banks, October 2024 (the mechanism's start) to June 2025, as rough as real returns.

Drawn from a random stream of its own (``[SEED, 31]``: issue 31), so every other demo table is
unchanged. Each county's 工作专班 hand out one or two batches a month; each firm goes to one bank
(sometimes two): the county's own rural banks and village bank, or a city branch. Banks contact a
firm within days and decide within the window; events after :data:`DATA_END` are not yet known.

Planted cases, each checked by hand in ``tests/demo/test_financing_demo.py``; none stops the demo's
validation (each is a located warning and its row is left out of the figures, or a figure):

* :data:`BAD_CODE` — a list row whose 统一社会信用代码 has a wrong check character;
* :data:`DATES_REVERSED` — a feedback row granting credit before the contact date;
* :data:`NOT_PUSHED` — feedback by a bank on a firm the list pushed to another bank only;
* :data:`SLOW_BANK` — a bank given five firms on the 5th of every month that decides four of them
  within days and leaves the fifth undecided (contacted, no decision): a fifth of its firms
  undecided after 30 days, 80 % decided in time;
* :data:`NO_VISIT` — a county whose list of one month holds no firm from a visit (走访).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.contract import COUNTIES, FINANCING_FEEDBACK, FINANCING_LIST
from analysis.core.financing import DEFAULT_FINANCING_PARAMS, credit_code_check_character

#: the random stream's key besides the demo's seed (the issue that added the mechanism)
STREAM_KEY = 31
FIRST_MONTH = "2024-10"
LAST_MONTH = "2025-06"
#: the last day the demo's banks have fed back on (nothing after it is known)
DATA_END = pd.Timestamp("2025-06-30")

#: (county, bank, list date, firm name) of the list row with a wrong check character
BAD_CODE = ("411325", "B023", "2025-03-12", "内乡县示例错码商贸有限公司")
#: (county, bank, list date, contact date, credit date) of the feedback row dated backwards
DATES_REVERSED = ("411328", "B026", "2025-04-08", "2025-04-15", "2025-04-10")
#: (bank fed back, bank pushed to, county, list date) of the feedback on a firm never pushed to it
NOT_PUSHED = ("B019", "B029", "411381", "2025-02-10")
#: the bank leaving every fifth firm undecided, its county and the firms it gets a month
SLOW_BANK = ("B020", "411322", 5)
#: (county, month) with no firm from a visit
NO_VISIT = ("411327", "2025-03")

#: the county's own banks (rural commercial bank, credit cooperative, village bank) by county code
_LOCAL_BANKS = {
    "411302": ["B017", "B033"],
    "411303": ["B018", "B034", "B014"],
    "411321": ["B019", "B030", "B035"],
    "411322": ["B020", "B036"],
    "411323": ["B021", "B037"],
    "411324": ["B022", "B038"],
    "411325": ["B023", "B039"],
    "411326": ["B024", "B031", "B040"],
    "411327": ["B025", "B041"],
    "411328": ["B026", "B042"],
    "411329": ["B027", "B043"],
    "411330": ["B028", "B032", "B044"],
    "411381": ["B029", "B045"],
}
#: city branches of the large, joint-stock and city commercial banks, which take firms from every county
_CITY_BANKS = [
    "B002",
    "B003",
    "B004",
    "B005",
    "B006",
    "B007",
    "B008",
    "B009",
    "B010",
    "B011",
    "B012",
    "B013",
    "B015",
    "B016",
]
_TRADES = (
    "商贸",
    "食品",
    "建材",
    "五金",
    "物流",
    "农业",
    "电子",
    "纺织",
    "家具",
    "汽配",
    "印务",
    "餐饮",
    "中药材",
    "养殖",
)
_FORMS = ("有限公司", "有限责任公司", "专业合作社", "加工厂", "经营部")
#: first characters of the demo firms' 字号 (trade names), before the drawn word: 瑞兴, 恒顺, 嘉华 …
_MARKS = "嘉瑞恒泰宏达信安汇博远德永金和润福昌隆东晟宇中利天正新荣万通惠美康明晨佳"
_PURPOSES = ("流动资金", "购置设备", "原材料采购", "春耕备耕", "厂房改造", "订单生产")
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _code(rng: np.random.Generator, county: str, individual: bool = False) -> str:
    body = ("92" if individual else "91") + county + "MA" + "".join(rng.choice(list(_ALPHABET), 7))
    return body + credit_code_check_character(body)


def _months() -> list[pd.Timestamp]:
    return list(pd.period_range(FIRST_MONTH, LAST_MONTH, freq="M").to_timestamp())


def _decide(rng: np.random.Generator, row: dict, params=DEFAULT_FINANCING_PARAMS) -> dict:
    """The bank's feedback on one pair, as it would stand on :data:`DATA_END` (None: nothing yet)."""
    listed = row["推荐日期"]
    contact = listed + pd.Timedelta(days=int(rng.integers(1, 9)))
    decision = contact + pd.Timedelta(days=int(rng.integers(2, 20)))
    out = {"统一社会信用代码": row["统一社会信用代码"], "机构编码": row["机构编码"], "对接日期": contact}
    if contact > DATA_END:
        return {}
    if decision > DATA_END:
        return out
    need = row["融资需求金额"] if pd.notna(row["融资需求金额"]) else float(rng.uniform(30, 300))
    if rng.random() < 0.72:
        credit = round(float(need) * float(rng.uniform(0.5, 1.3)), 2)
        out.update({"授信日期": decision, "授信金额": credit})
        loan_day = decision + pd.Timedelta(days=int(rng.integers(1, 15)))
        if rng.random() < 0.88 and loan_day <= DATA_END:
            out.update(
                {
                    "放款日期": loan_day,
                    "放款金额": round(credit * float(rng.uniform(0.6, 1.0)), 2),
                    "是否信用贷款": "是" if rng.random() < 0.33 else "否",
                    "是否无还本续贷": "是" if rng.random() < 0.1 else "否",
                    # a few banks leave 首贷户 blank, as real feedback does
                    "是否首贷户": None if rng.random() < 0.05 else ("是" if rng.random() < 0.22 else "否"),
                }
            )
    else:
        reasons = params.refusal_reasons
        weights = np.array([5, 4, 3, 4, 2, 2, 3, 1, 1], dtype=float)[: len(reasons)]
        reason = str(rng.choice(reasons, p=weights / weights.sum()))
        out.update({"未授信日期": decision, "未授信原因": reason})
        if reason == params.other_reason:
            out["未授信原因说明"] = "企业实际控制人变更，待重新申报"
    return out


def demo_financing(seed: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(推荐清单, 银行反馈) of the demo, with Chinese headers (module docstring)."""
    from analysis.demo.jurisdiction import SEED

    rng = np.random.default_rng([SEED if seed is None else seed, STREAM_KEY])
    short = {code: name.removesuffix("区").removesuffix("县").removesuffix("市") for code, name in COUNTIES.items()}
    rows: list[dict] = []
    used: set[str] = set()

    names: set[str] = set()

    def firm(county: str) -> tuple[str, str]:
        while True:
            code = _code(rng, county, individual=rng.random() < 0.15)
            if code not in used:
                used.add(code)
                word = str(rng.choice(["兴", "顺", "华", "盛", "鑫", "源", "丰"]))
                trade, form = str(rng.choice(_TRADES)), str(rng.choice(_FORMS))
                name = _firm_name(short[county], word, trade, form, len(used), names)
                names.add(name)
                return code, name

    slow_bank, slow_county, slow_per_month = SLOW_BANK
    for month in _months():
        for county in COUNTIES:
            batches = 1 + int(rng.random() < 0.5)
            for k in range(1, batches + 1):
                day = int(rng.integers(3, 26))
                listed = month + pd.Timedelta(days=day - 1)
                for _ in range(int(rng.integers(4, 12))):
                    code, name = firm(county)
                    need = round(float(rng.lognormal(4.6, 0.7)), 2) if rng.random() > 0.04 else np.nan
                    visit = not (county == NO_VISIT[0] and f"{month:%Y-%m}" == NO_VISIT[1]) and rng.random() < 0.7
                    local = [b for b in _LOCAL_BANKS[county] if b != slow_bank]
                    banks = [str(rng.choice(local if rng.random() < 0.6 else _CITY_BANKS))]
                    if rng.random() < 0.08:
                        other = str(rng.choice(_CITY_BANKS))
                        if other not in banks:
                            banks.append(other)
                    for bank in banks:
                        rows.append(
                            {
                                "企业名称": name,
                                "统一社会信用代码": code,
                                "县区代码": county,
                                "推荐批次": f"{month:%Y-%m}第{k}批",
                                "推荐日期": listed,
                                "机构编码": bank,
                                "融资需求金额": need,
                                "融资用途": str(rng.choice(_PURPOSES)),
                                "是否走访": "是" if visit else "否",
                            }
                        )
        # the slow bank's five firms of the month, on the 5th
        for i in range(slow_per_month):
            code, name = firm(slow_county)
            rows.append(
                {
                    "企业名称": name,
                    "统一社会信用代码": code,
                    "县区代码": slow_county,
                    "推荐批次": f"{month:%Y-%m}第1批",
                    "推荐日期": month + pd.Timedelta(days=4),
                    "机构编码": slow_bank,
                    "融资需求金额": 100.0 + 20 * i,
                    "融资用途": "流动资金",
                    "是否走访": "是" if not (slow_county == NO_VISIT[0] and f"{month:%Y-%m}" == NO_VISIT[1]) else "否",
                    "_slow": i == slow_per_month - 1,
                }
            )
    # the planted list rows
    county, bank, listed_on, name = BAD_CODE
    good = _code(rng, county)
    wrong = good[:-1] + next(c for c in _ALPHABET if c != good[-1])
    rows.append(_row(name, wrong, county, listed_on, bank))
    county, bank, listed_on, _contact, _credit = DATES_REVERSED
    reversed_code = _code(rng, county)
    rows.append(_row(f"{short[county]}示例倒签商贸有限公司", reversed_code, county, listed_on, bank))
    fed_back, pushed_to, county, listed_on = NOT_PUSHED
    not_pushed_code = _code(rng, county)
    rows.append(_row(f"{short[county]}示例错报食品有限公司", not_pushed_code, county, listed_on, pushed_to))

    listing = pd.DataFrame(rows)
    listing["_slow"] = listing.get("_slow", pd.Series(False, index=listing.index)).fillna(False).astype(bool)
    feedback = []
    for row in listing.to_dict("records"):
        if row["统一社会信用代码"] == wrong:
            continue  # the bank could not find the firm: no feedback
        if row["_slow"]:  # contacted, never decided
            contact = row["推荐日期"] + pd.Timedelta(days=3)
            if contact <= DATA_END:
                feedback.append(
                    {"统一社会信用代码": row["统一社会信用代码"], "机构编码": row["机构编码"], "对接日期": contact}
                )
            continue
        if row["统一社会信用代码"] == reversed_code:
            feedback.append(
                {
                    "统一社会信用代码": reversed_code,
                    "机构编码": row["机构编码"],
                    "对接日期": pd.Timestamp(DATES_REVERSED[3]),
                    "授信日期": pd.Timestamp(DATES_REVERSED[4]),
                    "授信金额": 80.0,
                }
            )
            continue
        decided = _decide(rng, row)
        if decided:
            feedback.append(decided)
    contact = pd.Timestamp(NOT_PUSHED[3]) + pd.Timedelta(days=6)
    feedback.append({"统一社会信用代码": not_pushed_code, "机构编码": fed_back, "对接日期": contact})
    listing = listing.drop(columns="_slow")
    fb = pd.DataFrame(feedback)
    fb = fb.reindex(columns=[c.label_zh for c in FINANCING_FEEDBACK.columns])
    listing = listing[[c.label_zh for c in FINANCING_LIST.columns]]
    # banks send their rows in their own order: by bank, then by date
    fb = fb.sort_values(["机构编码", "对接日期"], kind="stable").reset_index(drop=True)
    return listing.reset_index(drop=True), fb


def _firm_name(place: str, word: str, trade: str, form: str, n: int, taken: set[str]) -> str:
    """A firm's name as a register writes it, 县区 + 字号 + 行业 + 组织形式 (方城瑞兴印务有限公司): the
    字号 is a mark of :data:`_MARKS` and the drawn word; the mark starts at one set by ``n`` (the firm's
    number, so the names spread over the marks) and moves on past a name already ``taken``, so every
    name differs without a counter in it. Draws nothing from the random stream (the lists' other
    values stay as they were)."""
    k = len(_MARKS)
    for step in range(k * k):
        first = _MARKS[(n * 7 + step) % k]
        mark = first if step < k else first + _MARKS[(n + step // k) % k]
        name = f"{place}{mark}{word}{trade}{form}"
        if name not in taken:
            return name
    raise ValueError(f"no free demo firm name for {place}{word}{trade}{form}")  # never with the demo's sizes


def _row(name: str, code: str, county: str, day: str, bank: str) -> dict:
    return {
        "企业名称": name,
        "统一社会信用代码": code,
        "县区代码": county,
        "推荐批次": f"{day[:7]}第1批",
        "推荐日期": pd.Timestamp(day),
        "机构编码": bank,
        "融资需求金额": 120.0,
        "融资用途": "流动资金",
        "是否走访": "是",
        "_slow": False,
    }


def write_demo_financing(folder: Path | str, seed: int | None = None) -> list[Path]:
    """Write ``推荐清单.xlsx`` and ``银行反馈.xlsx`` into ``folder`` (each atomically)."""
    from analysis.core.workbook import write_workbook

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    listing, feedback = demo_financing(seed)
    out = []
    for table, frame in ((FINANCING_LIST, listing), (FINANCING_FEEDBACK, feedback)):
        path = folder / f"{table.label_zh}.xlsx"
        write_workbook(path, {table.label_zh: frame})
        out.append(path)
    return out


__all__ = [
    "BAD_CODE",
    "DATA_END",
    "DATES_REVERSED",
    "NOT_PUSHED",
    "NO_VISIT",
    "SLOW_BANK",
    "demo_financing",
    "write_demo_financing",
]
