"""The monitoring-data contract (数据规范): every table the workbook reads, stated once.

The same definitions drive the loaders (Chinese headers are mapped to English names),
the validator (types, ranges, applicability by category) and the analyst-facing document
``docs/data-contract.md`` (rendered by :func:`render_markdown`; a test keeps it current).

Units: amounts in 万元 (10,000 CNY, two decimals), counts in 户 (borrowers) or 件 (policies),
rates in % a year.

Why this module is long: it is the data contract itself — every table, column, unit, limit and
ceiling stated once, in the order ``docs/data-contract.md`` presents them; split, the document an
analyst reads would no longer be one file either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# --- Categories (机构类型) -------------------------------------------------------------

POLICY_BANK = "政策性银行"
LARGE_BANK = "大型商业银行"
JOINT_STOCK_BANK = "股份制商业银行"
CITY_COMMERCIAL_BANK = "城市商业银行"
RURAL_COMMERCIAL_BANK = "农村商业银行"
RURAL_CREDIT_COOP = "农村信用社"
VILLAGE_BANK = "村镇银行"
PROPERTY_INSURER = "财产保险公司"
LIFE_INSURER = "人身保险公司"

BANK_CATEGORIES: tuple[str, ...] = (
    POLICY_BANK,
    LARGE_BANK,
    JOINT_STOCK_BANK,
    CITY_COMMERCIAL_BANK,
    RURAL_COMMERCIAL_BANK,
    RURAL_CREDIT_COOP,
    VILLAGE_BANK,
)
INSURER_CATEGORIES: tuple[str, ...] = (PROPERTY_INSURER, LIFE_INSURER)
CATEGORIES: tuple[str, ...] = BANK_CATEGORIES + INSURER_CATEGORIES

LEGAL_ENTITY = "法人机构"
BRANCH = "分支机构"
ENTITY_TYPES: tuple[str, ...] = (LEGAL_ENTITY, BRANCH)

DIVISIONS: tuple[str, ...] = (
    "大型银行监管科",
    "中小商业银行监管科",
    "城市商业银行监管科",
    "农村银行机构监管科",
    "财产险科",
    "人身险科",
)

#: Nanyang's 13 county-level areas, GB/T 2260 codes (县区代码).
COUNTIES: dict[str, str] = {
    "411302": "宛城区",
    "411303": "卧龙区",
    "411321": "南召县",
    "411322": "方城县",
    "411323": "西峡县",
    "411324": "镇平县",
    "411325": "内乡县",
    "411326": "淅川县",
    "411327": "社旗县",
    "411328": "唐河县",
    "411329": "新野县",
    "411330": "桐柏县",
    "411381": "邓州市",
}

# --- Identifiers, header search, plausibility (数据规范的其他约定) ---------------------------

#: Institution ids (机构编码) name report files and folders: letters, digits, '_' and '-',
#: starting with a letter or digit, at most 32 characters. Anything else is refused (invalid_id).
ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"

#: The header row is looked for in this many rows at the top of a sheet (title rows above it and
#: two-level merged headers are recognised); otherwise the table is refused (header_not_found).
HEADER_SEARCH_ROWS = 10

#: Years a period or plan year may fall in; Excel serial day numbers of those years are accepted
#: as dates in period columns (44227 = 2021-01-31).
PLAUSIBLE_YEARS: tuple[int, int] = (1990, 2100)

#: Unit checks (implausible_unit) on the columns marked ``unit_check``. 亿元 and 元 differ from
#: 万元 by a factor 10^4; a figure is refused when it is off by 10^3…10^5 (a factor within 10 of
#: 10^4) from the institution's own typical level (median of its months) of the same column.
UNIT_FACTOR = 1e4
UNIT_BAND: tuple[float, float] = (1e3, 1e5)
#: an institution's typical level this many times the median level of all institutions reporting
#: the column: the whole institution is probably in 元.
UNIT_PEER_RATIO = 1e3
#: planned increase ÷ the institution's typical inclusive balance of the plan year outside these
#: bounds: one of the two is in the wrong unit.
PLAN_TO_BALANCE_RANGE: tuple[float, float] = (1e-4, 1e3)

#: Limits on one input file, checked before it is parsed (file_too_large). An ``.xlsx`` workbook
#: is a zip archive, so a few MB on disk can unpack to gigabytes (a "zip bomb": 6 MB unpacking to
#: 2.2 GB took a reader to 12 GB of memory): the archive's declared unpacked size and every sheet's
#: declared cell range are read first, and a Parquet file's row and column counts from its footer.
#: The demo's monthly table (60 institutions, 48 months) unpacks to 2.6 MB and 72,000 cells; a
#: province of 600 institutions over ten years is about 2 million cells.
MAX_UNPACKED_MB = 256
MAX_CELLS = 3_000_000

#: Longest text accepted in a text cell (机构名称: the longest real licence name of a bank branch in
#: the city is under 30 characters) and in an analyst's evidence (评分依据) of the qualitative
#: scores; longer text is refused (text_too_long). A 5,000-character name once held every PDF of a
#: run hostage for minutes.
TEXT_MAX_LENGTH = 100
EVIDENCE_MAX_LENGTH = 1000

#: Plausible ceilings (out_of_range) of one institution's figure, far above any real one and far
#: below the absurd (1e300 once passed). They depend on the jurisdiction's scale, so they are the
#: office's parameters: ``params/limits.yaml`` (:data:`LIMITS_FILE`, :class:`Limits`), one key per
#: kind (:data:`CeilingKey`); every amount and count column names its key (``Column.ceiling``).
#: These are the defaults, a city's (a prefecture-level office such as Nanyang), used when the
#: params folder holds no limits file: amounts in 万元 — 10^8 万元 is 1万亿元, 25 times the demo's
#: largest bank (total loans 398亿元) —, sums insured ten times higher (the demo's largest is
#: 967亿元), counts in 户 or 件 (10^7: more than the city's population). A provincial office, whose
#: legal banks lend more than 1万亿元, raises ``ceilings.amount`` in its limits file. Non-finite
#: numbers (inf, -inf) are refused in every numeric column whatever the ceilings (not_finite).
AMOUNT_CEILING = 1e8
SUM_INSURED_CEILING = 1e9
COUNT_CEILING = 1e7

#: the params file of the jurisdiction's ceilings
LIMITS_FILE = "limits.yaml"

CeilingKey = Literal["amount", "sum_insured", "count"]
CEILING_KEYS: tuple[CeilingKey, ...] = ("amount", "sum_insured", "count")

#: what a ceiling in params may be at most: above it a ceiling guards nothing (every loan in China is
#: about 2.5 × 10^10 万元, its population 1.4 × 10^9)
CEILING_BOUNDS: dict[str, float] = {"amount": 1e11, "sum_insured": 1e12, "count": 2e9}


class Ceilings(BaseModel):
    """The ceilings of one jurisdiction (``ceilings:`` of params/limits.yaml), each positive,
    finite and within :data:`CEILING_BOUNDS`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: every amount in 万元 (balances, NPLs, disbursements, interest, premiums, claims, plans, on-lending)
    amount: float = Field(gt=0, le=CEILING_BOUNDS["amount"], allow_inf_nan=False)
    #: sums insured in 万元 (an insurer's sums insured run far above its premiums)
    sum_insured: float = Field(gt=0, le=CEILING_BOUNDS["sum_insured"], allow_inf_nan=False)
    #: counts of borrowers (户) and policies (件)
    count: float = Field(gt=0, le=CEILING_BOUNDS["count"], allow_inf_nan=False)


class Limits(BaseModel):
    """params/limits.yaml: the jurisdiction the ceilings are set for, and the ceilings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: whose scale the ceilings fit, e.g. 南阳市（地市级）or 河南省（省级）
    jurisdiction: str = Field(min_length=1)
    ceilings: Ceilings

    def ceiling(self, key: CeilingKey) -> float:
        return float(getattr(self.ceilings, key))


#: the ceilings when the params folder holds no :data:`LIMITS_FILE`: a city's
DEFAULT_LIMITS = Limits(
    jurisdiction="地市级（默认）/ a city (default)",
    ceilings=Ceilings(amount=AMOUNT_CEILING, sum_insured=SUM_INSURED_CEILING, count=COUNT_CEILING),
)

Kind = Literal[
    "id",
    "text",
    "category",
    "period",
    "quarter",
    "year",
    "years",
    "amount",
    "count",
    "rate",
    "date",
    "flag",
    "credit_code",
]

KIND_LABELS = {
    "id": "identifier / 编码",
    "text": "text / 文本",
    "category": "one of a list / 枚举",
    "period": "month-end date / 月末日期 (2023-06, 2023-06-30 or an Excel date serial)",
    "quarter": "quarter / 季度 (2023Q1)",
    "year": "year / 年度 (2023)",
    "years": "list of years / 年度列表 (2022;2023)",
    "amount": "amount / 金额",
    "count": "whole number / 整数",
    "rate": "rate / 利率",
    "date": "date / 日期 (2025-03-05, 2025/3/5, 20250305, 2025年3月5日 or an Excel date serial)",
    "flag": "yes or no / 是否 (是/否, Y/N, 1/0)",
    "credit_code": "unified social credit code / 统一社会信用代码 (18 characters, GB 32100-2015)",
}


@dataclass(frozen=True)
class Column:
    """One column of a table: English name, Chinese header, unit and rules."""

    name: str
    label_zh: str
    kind: Kind
    description: str
    unit: str = ""
    required: bool = True
    #: categories whose rows must fill it; every other category leaves it empty (never zero).
    applies_to: tuple[str, ...] | None = None
    choices: tuple[str, ...] | None = None
    #: cumulative from January (当年累计): must never fall within a year.
    year_to_date: bool = False
    #: a rate's limit (36 %); for an amount or a count, the default of its ceiling (:data:`DEFAULT_LIMITS`)
    max_value: float | None = None
    #: the key of params/limits.yaml whose value is this amount's or count's ceiling (out_of_range)
    ceiling: CeilingKey | None = None
    allow_negative: bool = False
    #: checked for figures given in 亿元 or 元 instead of 万元 (implausible_unit).
    unit_check: bool = False
    #: longest text accepted (text_too_long); text columns default to :data:`TEXT_MAX_LENGTH`
    max_length: int | None = None

    @property
    def length_limit(self) -> int | None:
        return self.max_length if self.max_length is not None else TEXT_MAX_LENGTH if self.kind == "text" else None

    @property
    def headers(self) -> tuple[str, ...]:
        """Accepted spellings of the header: the English name and the Chinese label."""
        return (self.name, self.label_zh)


@dataclass(frozen=True)
class Table:
    name: str
    label_zh: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    #: file stems accepted for this table inside a data folder or sheet names inside one workbook.
    aliases: tuple[str, ...] = field(default=())
    #: a sheet of this table may hold no formula (公式): every formula cell is refused, located
    #: (formula_cell). A list a bank or a 工作专班 fills by hand must hold values, not a lookup whose
    #: cached result nobody checked.
    no_formulas: bool = False

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, self.label_zh, *self.aliases)


BANKS = BANK_CATEGORIES
INSURERS = INSURER_CATEGORIES


def _amount(
    name: str,
    label: str,
    description: str,
    *,
    applies_to=BANKS,
    required=False,
    ytd=False,
    unit_check=False,
    ceiling: CeilingKey = "amount",
) -> Column:
    return Column(
        name,
        label,
        "amount",
        description,
        unit="万元",
        applies_to=applies_to,
        required=required,
        year_to_date=ytd,
        unit_check=unit_check,
        max_value=DEFAULT_LIMITS.ceiling(ceiling),
        ceiling=ceiling,
    )


def _count(
    name: str, label: str, description: str, *, applies_to=BANKS, required=False, ytd=False, unit="户"
) -> Column:
    return Column(
        name,
        label,
        "count",
        description,
        unit=unit,
        applies_to=applies_to,
        required=required,
        year_to_date=ytd,
        max_value=DEFAULT_LIMITS.ceiling("count"),
        ceiling="count",
    )


INSTITUTIONS = Table(
    name="institutions",
    label_zh="机构名录",
    description="One row per bank or insurer under evaluation.",
    key=("institution_id",),
    aliases=("机构",),
    columns=(
        Column(
            "institution_id",
            "机构编码",
            "id",
            "Identifier used in every other table and in report file "
            "names: letters, digits, '_' and '-', starting with a letter or digit, at most 32 characters.",
        ),
        Column("name", "机构名称", "text", "Full name as in the licence."),
        Column("category", "机构类型", "category", "Category the notice addresses.", choices=CATEGORIES),
        Column(
            "entity_type",
            "法人或分支",
            "category",
            "Local legal entity (targets: 两增 and own plan) or branch (target: head-office plan).",
            choices=ENTITY_TYPES,
        ),
        Column(
            "county_code", "县区代码", "category", "GB/T 2260 code of the county-level area.", choices=tuple(COUNTIES)
        ),
        Column("division", "监管科室", "category", "Supervising division.", choices=DIVISIONS),
        Column(
            "differentiated_years",
            "差异化考核年度",
            "years",
            "Years in which the bank is assessed on plan completion instead of the growth leg of "
            "两增 (差异化考核), separated by ';'. Empty when never.",
            required=False,
        ),
    ),
)

MONTHLY = Table(
    name="monthly",
    label_zh="月度监测",
    description=(
        "One row per institution per month-end. Bank columns follow the S71 return "
        "(普惠金融重点领域贷款情况表); insurer columns the small-micro insurance return. "
        "Year-to-date (当年累计) columns are cumulative from January."
    ),
    key=("institution_id", "period"),
    aliases=("月度数据", "监测数据"),
    columns=(
        Column("institution_id", "机构编码", "id", "Must exist in the institutions table."),
        Column("period", "数据期", "period", "Month-end the figures refer to."),
        _amount(
            "inclusive_balance",
            "普惠型小微企业贷款余额",
            "Inclusive small-micro loans (single credit ≤ 10M), excluding bill discounting "
            "(S71 column A, total ≤1000万 excluding bills).",
            required=True,
            unit_check=True,
        ),
        _count(
            "inclusive_borrowers",
            "普惠型小微企业贷款余额户数",
            "Borrowers with an outstanding inclusive loan (S71 column B).",
            required=True,
        ),
        _amount(
            "inclusive_npl",
            "普惠型小微企业不良贷款余额",
            "Non-performing inclusive loans (S71 column C).",
            required=True,
        ),
        _amount(
            "inclusive_ytd_disbursed",
            "普惠型小微企业贷款当年累放金额",
            "Amount disbursed since January (S71 column D).",
            required=True,
            ytd=True,
        ),
        _count(
            "inclusive_ytd_borrowers_disbursed",
            "普惠型小微企业贷款当年累放户数",
            "Borrowers disbursed to since January (S71 column E).",
            required=True,
            ytd=True,
        ),
        _amount(
            "inclusive_ytd_interest",
            "普惠型小微企业当年累放贷款年化利息收益",
            "Annualised interest income on loans disbursed since January (S71 column F); "
            "÷ column D gives the weighted new-loan rate.",
            required=True,
            ytd=True,
        ),
        _amount(
            "bill_discount_balance",
            "小微企业票据贴现及转贴现余额",
            "Bill discounting and rediscounting to small-micro firms (excluded from inclusive "
            "loans by the 2023 notice).",
        ),
        _amount("total_loans", "各项贷款余额", "All loans of the institution.", required=True, unit_check=True),
        _amount("total_npl", "各项贷款不良余额", "Non-performing loans, all loans.", required=True),
        _amount(
            "credit_loan_balance",
            "普惠型小微企业信用贷款余额",
            "Inclusive loans without collateral or guarantee (信用贷款).",
        ),
        _count(
            "first_loan_ytd_borrowers",
            "当年首贷户数",
            "Borrowers receiving their first ever bank loan since January (首贷户).",
            ytd=True,
        ),
        _amount(
            "first_loan_ytd_amount",
            "当年首贷户贷款金额",
            "Amount lent to first-loan borrowers since January.",
            ytd=True,
        ),
        _amount(
            "renewal_ytd_amount",
            "当年续贷金额",
            "Inclusive loans renewed without repayment of principal since January (续贷).",
            ytd=True,
        ),
        _amount(
            "mfg_midlong_balance",
            "制造业小微企业中长期贷款余额",
            "Medium/long-term (original maturity > 1 year) loans to manufacturing small-micro firms.",
        ),
        _amount(
            "indiv_business_balance",
            "个体工商户经营性贷款余额",
            "Business loans to individual businesses (个体工商户).",
        ),
        _count(
            "indiv_business_borrowers",
            "个体工商户经营性贷款余额户数",
            "Individual businesses with an outstanding business loan.",
        ),
        _amount(
            "above10m_balance",
            "单户授信1000万元以上小微企业贷款余额",
            "Small-micro loans with single credit above 10M (not inclusive).",
        ),
        _amount(
            "guaranteed_balance",
            "政府性融资担保机构担保小微企业贷款余额",
            "Small-micro loans guaranteed by government financing-guarantee institutions.",
        ),
        _amount(
            "scitech_balance", "科技型及专精特新小微企业贷款余额", "Loans to sci-tech and 专精特新 small-micro firms."
        ),
        _amount(
            "premium_ytd",
            "小微企业保险保费收入",
            "Small-micro premium income since January.",
            applies_to=INSURERS,
            required=True,
            ytd=True,
        ),
        _count(
            "policies_ytd",
            "小微企业保险保单件数",
            "Small-micro policies written since January.",
            applies_to=INSURERS,
            required=True,
            ytd=True,
            unit="件",
        ),
        _amount(
            "sum_insured_ytd",
            "小微企业保险保额",
            "Sums insured on those policies since January.",
            applies_to=INSURERS,
            required=True,
            ytd=True,
            ceiling="sum_insured",
        ),
        _amount(
            "claims_paid_ytd",
            "小微企业保险赔款支出",
            "Claims paid to small-micro customers since January.",
            applies_to=INSURERS,
            required=True,
            ytd=True,
        ),
    ),
)

PLANS = Table(
    name="plans",
    label_zh="信贷计划",
    description="Annual plan: the planned increase of the inclusive small-micro balance (普惠型小微企业信贷计划).",
    key=("institution_id", "year"),
    aliases=("年度计划", "计划"),
    columns=(
        Column("institution_id", "机构编码", "id", "Must exist in the institutions table."),
        Column("year", "年度", "year", "Plan year."),
        Column(
            "planned_increase",
            "计划新增额",
            "amount",
            "Planned increase of the inclusive balance over the year (may be negative for a "
            "bank shrinking by design, but then completion is not defined).",
            unit="万元",
            allow_negative=True,
            max_value=AMOUNT_CEILING,
            ceiling="amount",
        ),
    ),
)

ONLENDING = Table(
    name="onlending",
    label_zh="转贷款",
    description="Policy-bank on-lending (转贷款): rate paid by the end borrowers, by quarter.",
    key=("institution_id", "quarter"),
    aliases=("转贷款利率",),
    columns=(
        Column("institution_id", "机构编码", "id", "The policy bank; must exist in the institutions table."),
        Column("quarter", "季度", "quarter", "Quarter, e.g. 2023Q2."),
        Column(
            "onlending_amount",
            "转贷款发放金额",
            "amount",
            "On-lent amount disbursed in the quarter.",
            unit="万元",
            required=False,
            max_value=AMOUNT_CEILING,
            ceiling="amount",
        ),
        Column(
            "end_borrower_rate",
            "终端平均利率",
            "rate",
            "Amount-weighted average rate paid by the end borrowers.",
            unit="%",
            max_value=36.0,
        ),
    ),
)

# --- The financing coordination mechanism (小微企业融资协调工作机制) -----------------------------------

#: a feedback or list date may not lie after the day the data are checked (future_date); the
#: closed list of reasons for no credit, the over-need factor and the decision window are in
#: ``params/financing.yaml`` and the policy year's ``financing:`` section.
FINANCING_LIST = Table(
    name="financing_list",
    label_zh="推荐清单",
    description=(
        "The 推荐清单 the county 工作专班 of the financing coordination mechanism (小微企业融资协调工作机制) "
        "hand to banks: one row per firm and bank it was pushed to (a firm pushed to two banks has two rows). "
        "Optional: without it (and 银行反馈) the reports say nothing of the mechanism. Formulas are refused."
    ),
    key=("credit_code", "institution_id"),
    aliases=("recommendations", "融资推荐清单"),
    no_formulas=True,
    columns=(
        Column("firm_name", "企业名称", "text", "The firm's registered name."),
        Column(
            "credit_code",
            "统一社会信用代码",
            "credit_code",
            "The firm's unified social credit code (GB 32100-2015): 18 characters of 0-9 and A-Y without I, O, "
            "Z, S, V; the last is a check character. A wrong code is reported and the row left out of the figures.",
        ),
        Column(
            "county_code",
            "县区代码",
            "category",
            "GB/T 2260 code of the county whose 工作专班 listed the firm.",
            choices=tuple(COUNTIES),
        ),
        Column("batch", "推荐批次", "text", "The list's batch, as the 工作专班 name it (e.g. 2025-03第2批)."),
        Column(
            "list_date", "推荐日期", "date", "Day the list was handed to the bank: the decision window starts here."
        ),
        Column(
            "institution_id", "机构编码", "id", "The bank the firm was pushed to; must exist in the institutions table."
        ),
        Column(
            "need_amount",
            "融资需求金额",
            "amount",
            "The firm's stated need.",
            unit="万元",
            required=False,
            max_value=AMOUNT_CEILING,
            ceiling="amount",
        ),
        Column("need_purpose", "融资用途", "text", "The stated purpose of the loan.", required=False),
        Column("from_visit", "是否走访", "flag", "Whether the firm came from a visit (走访) of the 工作专班."),
    ),
)

FINANCING_FEEDBACK = Table(
    name="financing_feedback",
    label_zh="银行反馈",
    description=(
        "Each bank's feedback on the firms pushed to it (融资协调工作机制): one row per firm and bank. "
        "Dates in order 推荐 ≤ 对接 ≤ 授信 ≤ 放款 (and 对接 ≤ 未授信日期); a firm without credit names a reason of the "
        "closed list in `params/financing.yaml` (其他 with a note). Optional, with 推荐清单. Formulas are refused."
    ),
    key=("credit_code", "institution_id"),
    aliases=("bank_feedback", "融资对接反馈"),
    no_formulas=True,
    columns=(
        Column("credit_code", "统一社会信用代码", "credit_code", "The firm's code, as on the 推荐清单."),
        Column("institution_id", "机构编码", "id", "The bank giving feedback; must exist in the institutions table."),
        Column("contact_date", "对接日期", "date", "Day the bank first contacted the firm.", required=False),
        Column("credit_date", "授信日期", "date", "Day credit was granted (授信).", required=False),
        Column(
            "credit_amount",
            "授信金额",
            "amount",
            "Credit line granted.",
            unit="万元",
            required=False,
            max_value=AMOUNT_CEILING,
            ceiling="amount",
        ),
        Column("loan_date", "放款日期", "date", "Day of the first loan under it (放款).", required=False),
        Column(
            "loan_amount",
            "放款金额",
            "amount",
            "Amount lent.",
            unit="万元",
            required=False,
            max_value=AMOUNT_CEILING,
            ceiling="amount",
        ),
        Column("credit_loan", "是否信用贷款", "flag", "Whether the loan is a credit loan (信用贷款).", required=False),
        Column(
            "no_repay_renewal",
            "是否无还本续贷",
            "flag",
            "Whether the loan is a renewal without repayment (无还本续贷).",
            required=False,
        ),
        Column(
            "first_loan",
            "是否首贷户",
            "flag",
            "Whether the firm had never borrowed from a bank (首贷户).",
            required=False,
        ),
        Column(
            "refusal_date",
            "未授信日期",
            "date",
            "Day the bank decided not to grant credit (the decision date of a refusal).",
            required=False,
        ),
        Column(
            "refusal_reason",
            "未授信原因",
            "text",
            "Why no credit was granted: one of `refusal_reasons` in `params/financing.yaml`.",
            required=False,
        ),
        Column(
            "refusal_note",
            "未授信原因说明",
            "text",
            "Free text; required when the reason is 其他.",
            required=False,
            max_length=200,
        ),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (INSTITUTIONS, MONTHLY, PLANS, ONLENDING, FINANCING_LIST, FINANCING_FEEDBACK)
}
#: the tables of the financing coordination mechanism: both or neither
FINANCING_TABLES = ("financing_list", "financing_feedback")
REQUIRED_TABLES = ("institutions", "monthly", "plans")


def header_map(table: Table) -> dict[str, str]:
    """Map every accepted header spelling (stripped) to the English column name."""
    mapping: dict[str, str] = {}
    for col in table.columns:
        for header in col.headers:
            mapping[header.strip()] = col.name
    return mapping


def monthly_with(declared: tuple[Column, ...]) -> Table:
    """The monthly table with the columns a params file declares (``params/indicators.yaml``)."""
    if not declared:
        return MONTHLY
    from dataclasses import replace

    return replace(MONTHLY, columns=MONTHLY.columns + declared)


def render_markdown(declared: tuple[Column, ...] = ()) -> str:
    """Render the contract as the analyst-facing document docs/data-contract.md, with the monthly
    columns ``declared`` in ``params/indicators.yaml`` (the command passes the project's)."""
    lines = [
        "# Data contract / 数据规范",
        "",
        "<!-- Generated from src/analysis/core/contract.py by `analysis contract-doc`; do not edit by hand. -->",
        "",
        "The workbook reads four tables, and two more of the financing coordination mechanism when given. Each",
        "may be a `.xlsx`, `.csv` or `.parquet` file in the data",
        "folder, named by its English or Chinese table name (e.g. `monthly.xlsx` or `月度监测.xlsx`), or a",
        "sheet of that name in a single `.xlsx` workbook. Headers may be the English column name or the",
        "Chinese label below, as analysts export them. Amounts are in 万元 with two decimals, counts in",
        "户 (or 件 for policies), rates in % a year.",
        "",
        "A column that does not apply to a category is left **empty, never zero**. `analysis validate PATH`",
        "checks every rule below and lists every problem with file, row, column and rule.",
        "",
        "Nothing is ignored in silence. **One table, one file**: a second file named like a table",
        "(`monthly-2024.xlsx` or `月度监测（2）.csv` beside `monthly.xlsx`: a table's name followed by anything",
        "but a letter) is refused with both names (`ambiguous_table`); alone, it is not read and said so",
        "(`misnamed_table_file`, with the names to rename it to). A column the contract does not know (备注, a",
        "column a bank added, a header spelt otherwise), or one with values but no header, is ignored with a",
        "warning naming the file, the header row and the column (`unknown_column`).",
        "",
    ]
    for table in TABLES.values():
        if table.name == "monthly":
            table = monthly_with(declared)
        optional = "" if table.name in REQUIRED_TABLES else " (optional)"
        lines += [
            f"## `{table.name}` / {table.label_zh}{optional}",
            "",
            table.description,
            "",
            f"Key (one row per): {', '.join(f'`{k}`' for k in table.key)}. "
            f"Accepted file or sheet names: {', '.join(f'`{n}`' for n in table.names)}.",
            "",
            "| column | 中文表头 | type | unit | applies to | required | description |",
            "|---|---|---|---|---|---|---|",
        ]
        for col in table.columns:
            applies = (
                "all"
                if col.applies_to is None
                else (
                    "banks / 银行"
                    if col.applies_to == BANKS
                    else "insurers / 保险"
                    if col.applies_to == INSURERS
                    else "、".join(col.applies_to)
                )
            )
            desc = col.description
            if col.choices and col.name != "county_code":
                desc += " One of: " + "、".join(col.choices) + "."
            if col.name == "county_code":
                desc += " One of: " + "、".join(f"{k} {v}" for k, v in COUNTIES.items()) + "."
            if col.year_to_date:
                desc += " Year to date: never falls within a year."
            if col.ceiling is not None:
                bound = "Absolute value at most" if col.allow_negative else "At most"
                desc += (
                    f" {bound} `ceilings.{col.ceiling}` of `params/{LIMITS_FILE}`"
                    f" (上限; default {DEFAULT_LIMITS.ceiling(col.ceiling):,.0f} {col.unit})."
                )
            lines.append(
                f"| `{col.name}` | {col.label_zh} | {KIND_LABELS[col.kind]} | {col.unit or '—'} | "
                f"{applies} | {'yes' if col.required else 'no'} | {desc} |"
            )
        lines.append("")
    lines += [
        "## `定性评分-YYYY` / qualitative scores (optional)",
        "",
        "Analysts' scores of the qualitative items of `params/scoring-YYYY.yaml` (监管评价定性评分), one row per",
        "institution and item: `.xlsx` or `.csv` named `定性评分-2023.xlsx` (or `qualitative-2023.xlsx`) in the data",
        "folder. Columns: 机构编码 `institution_id`, 年度 `year`, 评分项目编码 `item_id` (a qualitative item id of the",
        "scoring table), 得分 `score` (within the item's min…max), 评分依据 `evidence` (required text). Unknown",
        "institutions or items, scores out of range, empty evidence and duplicates are refused like any bad input;",
        "items with no row are reported on the score card as 未评分 and leave the total and grade 待定.",
        "",
        "## Identifiers, headers, dates and units / 编码、表头、日期与单位",
        "",
        f"- **Institution ids / 机构编码** name the report files, so they must match `{ID_PATTERN}`: letters,",
        "  digits, `_` and `-`, starting with a letter or digit, at most 32 characters (`B017`, `411302-01`).",
        "  Anything else (`../x`, `a/b`, spaces) is refused with its row (`invalid_id`).",
        "- **Text / 文本**: no cell may hold a control character (line breaks, tabs and other invisible",
        "  characters inside a name; `control_character`, with its position). Blanks around a value are ignored.",
        f"  A text cell (机构名称) holds at most {TEXT_MAX_LENGTH} characters, an evidence text (评分依据) at most",
        f"  {EVIDENCE_MAX_LENGTH:,} (`text_too_long`, with the length found).",
        f"- **Header row / 表头**: looked for in the first {HEADER_SEARCH_ROWS} rows of a sheet or CSV file, so",
        "  title rows above it are skipped. A two-level merged header is read by combining the levels (a",
        "  group label such as 普惠型小微企业 merged over 贷款余额, 贷款余额户数 … reads as 普惠型小微企业贷款余额 …).",
        "  When no known header is found the table is refused once (`header_not_found`). A required table",
        "  with a header and no data rows is refused (`empty_table`).",
        f"- **Dates / 数据期**: also accepted as Excel serial day numbers ({PLAUSIBLE_YEARS[0]}–{PLAUSIBLE_YEARS[1]},",
        "  e.g. 44227 = 2021-01-31), as a date cell exported without its format shows them.",
        "- **Units / 单位**: amounts are in 万元. 亿元 and 元 differ from it by a factor of 10,000, so on the",
        "  columns "
        + "、".join(f"`{c.name}`" for c in MONTHLY.columns if c.unit_check)
        + f" a figure is refused (`implausible_unit`, naming the likely unit) when it is {UNIT_BAND[0]:,.0f}–{UNIT_BAND[1]:,.0f}",
        "  times larger or smaller than the institution's own typical level (the median of its months) of the same",
        f"  column, or when an institution's typical level is {UNIT_PEER_RATIO:,.0f} times the median of all",
        "  institutions reporting the column (a whole bank in 元). A planned increase below",
        f"  {PLAN_TO_BALANCE_RANGE[0]:g} or above {PLAN_TO_BALANCE_RANGE[1]:,.0f} times the institution's typical inclusive",
        "  balance of the plan year is refused the same way. Real movements (a bank doubling, a threefold",
        "  jump) are far from these factors and always pass.",
        "- **Plausible ceilings / 合理上限**: an amount, a sum insured or a count above its ceiling is refused",
        "  (`out_of_range`, naming the file and key to raise). The ceilings fit the jurisdiction's scale, so",
        f"  they are the office's parameters, `params/{LIMITS_FILE}`: `jurisdiction` (whose scale they fit) and",
        "  `ceilings.amount` (万元), `ceilings.sum_insured` (万元), `ceilings.count` (户 or 件), each positive and",
        "  at most " + " / ".join(f"{CEILING_BOUNDS[k]:,.0f}" for k in CEILING_KEYS) + " (above, it guards nothing).",
        "  Without the file a city's defaults apply: "
        + ", ".join(f"`{k}` {DEFAULT_LIMITS.ceiling(k):,.0f}" for k in CEILING_KEYS)
        + ".",
        "  A provincial office, whose legal banks lend more than 1万亿元 (10^8 万元), raises `ceilings.amount`",
        "  (e.g. to 1,000,000,000 万元, 10万亿元).",
        f"- **File size / 文件大小**: an `.xlsx` file whose zip archive declares more than {MAX_UNPACKED_MB:,} MB",
        f"  unpacked, or whose sheets declare more than {MAX_CELLS:,} cells, and a `.parquet` file of more than",
        f"  {MAX_CELLS:,} cells, are refused before they are read (`file_too_large`, with the size found and the",
        "  limit): a few MB on disk can unpack to gigabytes (a zip bomb).",
        "",
        "## The financing coordination mechanism / 融资协调工作机制",
        "",
        "`financing_list` (推荐清单) and `financing_feedback` (银行反馈) are optional: without them the reports say",
        "nothing of the mechanism; 银行反馈 without its 推荐清单 is not read (`financing_tables_unpaired`). The",
        "closed list of reasons for no credit, the over-need factor and the default decision window are in",
        "`params/financing.yaml`; the targets and the year's window in the `financing:` section of",
        "`params/policy-YYYY.yaml` (a year without it has no targets).",
        "",
        "- **Refused / 拒收** (the whole data set, nothing written): a formula in a sheet of either table",
        "  (`formula_cell`, with its cell), text in an amount (`not_a_number`), a date that is none",
        "  (`invalid_date`) or lies after the day of the check (`future_date`), a yes/no cell that is neither",
        "  (`invalid_flag`), a reason outside the closed list (`invalid_reason`), an unknown bank, a firm and bank",
        "  twice (`duplicate_key`).",
        "- **Left out of the figures / 不计入指标** (a warning with file, row and column; the row is listed in the",
        "  bank's report and the county workbook to correct and resend; the rest of the data are used): an invalid",
        "  统一社会信用代码 (`invalid_credit_code`: 18 characters of `0-9 A-H J-N P-R T-U W-Y`, weights 3^i mod 31,",
        "  check = 31 − Σ mod 31, 31 → 0), dates out of order (`dates_out_of_order`: 推荐 ≤ 对接 ≤ 授信 ≤ 放款,",
        "  对接 ≤ 未授信日期), feedback on a firm never pushed to the bank (`feedback_not_pushed`), a row that",
        "  contradicts itself (`feedback_inconsistent`), credit above the stated need by more than",
        "  `over_need_factor` (`credit_above_need`).",
        "- **Not fed back / 未反馈**: a pushed firm without a feedback row has the status 未反馈; one warning per",
        "  bank counts those pushed longer ago than the decision window (`no_feedback`).",
        "",
        "## Parameters and years / 参数与年度",
        "",
        "- **The params folder / 参数目录** must exist and hold at least one `policy-YYYY.yaml`: without it every",
        "  verdict would be 不适用, so `analysis validate`, `analysis indicators`, `analysis run` and the notebooks",
        "  refuse, naming the folder (`--params` points elsewhere).",
        "- **Data years without a policy / 无考核规则参数的数据年度**: a year is evaluated when",
        "  `params/policy-YYYY.yaml` exists. Years of data before the first evaluated year are the base",
        "  (上年12月) and the history (trends, models) of the evaluated years and need no policy. A later year",
        "  without one (data for 2026 and no `policy-2026.yaml`; a gap between two policy years), or any year",
        "  when no year of the data has a policy, is accepted with a warning on its first row (`no_policy_year`):",
        "  its rows are computed and get no verdicts (该年度无考核规则参数). The warning lists the evaluated years",
        "  and those that serve as base and history only.",
        "- **Qualitative scores without a scoring table / 无评分表的定性评分**: `定性评分-YYYY.xlsx` is read only",
        "  when `params/scoring-YYYY.yaml` exists; otherwise it is not read and a warning names the file and the",
        "  missing scoring table (`qualitative_without_scoring`).",
        "",
        "## Choices where the notice is silent / 通知未明确事项的处理",
        "",
        "Each year's notice (named in `params/policy-YYYY.yaml`) states the targets; where it leaves a choice,",
        "the workbook decides as follows (the clauses cited are those of the 2023 notice).",
        "",
        "- **Ties / 持平即达标** — clause 一（一） and its footnote: “两增”即普惠型小微企业贷款较年初增速**不低于**各项",
        "  贷款较年初增速，有贷款余额的户数**不低于**年初水平. Figures equal in the source data are equal in the",
        "  verdict: every 不低于 / 不高于 comparison (growth legs, rate change, shares, score thresholds) is made",
        "  at a tolerance far below reporting precision (0.01 万元, one borrower, 0.01 %), by one rule in",
        "  `analysis.core.compare`, so that 6 % against 6 % is 达标 and never lost to floating-point rounding.",
        "- **Zero start-of-year balance / 年初余额为零** — clause 一（一）: growth from a zero start-of-year",
        "  inclusive balance to a positive balance exceeds any all-loan growth, so it meets the growth leg of",
        "  两增 (较年初增速不低于各项贷款增速); the growth rate itself is not defined and the report says so in a",
        "  note (年初余额为零，增速不适用，视为不低于各项贷款增速). A zero balance that stays zero does not meet it.",
        "- **New institutions, or no prior December / 新设机构或缺少上年12月数据** — clauses 一（一） (两增 and the",
        "  plan are measured against the start of the year, 较年初) and 六（十六） (统计数据质量): the institution is",
        "  evaluated on what can be evaluated; indicators that need the start-of-year base (growth since the",
        "  start of the year, borrowers against the start of the year, plan completion) are 不适用 with the",
        "  reason, and `analysis validate` accepts the data with a warning (`missing_base_december`) naming",
        "  the institution, file and row, instead of refusing the whole city's data set.",
        "",
        "## Rules checked on every load / 校验规则",
        "",
    ]
    from analysis.core.errors import RULES, WARNING_RULES

    lines += ["| rule | 规则 | rule (English) |", "|---|---|---|"]
    for code, (zh, en) in RULES.items():
        if code in WARNING_RULES:
            zh, en = f"（提示）{zh}", f"(warning) {en}"
        lines.append(f"| `{code}` | {zh} | {en} |")
    lines.append("")
    return "\n".join(lines)
