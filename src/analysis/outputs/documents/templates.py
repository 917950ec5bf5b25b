"""The document templates (文书模板): the settings (``params/templates/documents.yaml``: one set of
templates per policy year, and the words of that year's notice the reports cite beyond its rules), the
fields a template may use, the check that refuses a template naming any other field or reaching past the
fields (Jinja's functions, ``_`` attributes, calls, huge operators, a zip bomb), before any work, and
the Jinja sandbox templates are rendered in, with limits on loops and on the length of what they render.

Why this module is long: everything a template must meet is read in one place — which templates a
year uses, the fields they may name, the static check and the sandbox backing it up share the same
fields, limits and Jinja names. (The settings, about 130 lines, could move to a module of their own.)
"""

from __future__ import annotations

import functools
import zipfile
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from analysis.core.errors import AnalysisError, ParamsError

if TYPE_CHECKING:
    from analysis.content.display import HTML

TEMPLATES_FOLDER = "templates"  # inside the params folder
SETTINGS_FILE = "documents.yaml"
LETTERS_FOLDER = "提示函"
BULLETIN_KEY = "overview"  # the manifest entry the 通报 belongs to (the city overview)


# ---------------------------------------------------------------- errors and settings


class TemplateFieldError(AnalysisError):
    """A template names a field the documents do not have (or cannot be parsed or rendered)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        lines = [f"文书模板无效，未生成任何文书 / invalid document template, no document written ({len(problems)}):"]
        super().__init__("\n".join(lines + [f"  - {p}" for p in problems]))


class YearDocuments(BaseModel):
    """One policy year's entry of ``documents.yaml`` (``years.<year>``): its templates, whose fixed
    prose speaks that year's notice (its frame, targets, 发文字号 prefix and the clauses its closing
    requirements cite), and the words of that notice the reports cite beyond the rules of
    ``params/policy-<year>.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: the period's 通报 (file in ``params/templates/``)
    bulletin: str = Field(min_length=1)
    #: each institution's 监管提示函
    letter: str = Field(min_length=1)
    #: the clause asking to improve the balance of credit across the region (区域信贷资源投放的均衡性),
    #: cited by the city overview's county section; "" when the year's notice gives none
    regional_balance_clause: str = ""
    #: 发文机关署名 and 印发机关 of both documents, e.g. 南阳银保监分局办公室
    issuer: str = ""
    #: 发文机关标志 of the 通报's 版头 (文件格式), e.g. 南阳银保监分局办公室文件
    bulletin_mark: str = ""
    #: 发文机关标志 of the 提示函 (信函格式): the issuer's full name
    letter_mark: str = ""
    #: 发文字号 prefixes: the number is the office's to assign, the draft leaves it blank
    bulletin_number_prefix: str = ""
    letter_number_prefix: str = ""
    #: 抄送机关 of the 通报's 版记 (the 提示函 goes to its institution only)
    copy_to: tuple[str, ...] = ()


class IssueDateRule(BaseModel):
    """When a draft is dated (成文日期) unless ``--issued`` says: from the period, never the machine's
    clock, so a run for a past period dates its drafts as the office would have then. The
    ``day`` of the ``months_after``-th month after the period's end; a Saturday or Sunday moves to
    the Monday after (public holidays are not known: ``--issued`` fixes a date that falls on one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    months_after: int = Field(default=1, ge=0, le=12)
    day: int = Field(default=20, ge=1, le=28)

    def date_for(self, period_end: date) -> date:
        month = period_end.month + self.months_after
        year = period_end.year + (month - 1) // 12
        day = date(year, (month - 1) % 12 + 1, self.day)
        if self.months_after == 0 and day <= period_end:  # the month itself: never before its end
            day = period_end + timedelta(days=1)
        return day + timedelta(days=(7 - day.weekday()) % 7 if day.weekday() >= 5 else 0)

    def describe(self) -> str:
        after = "数据期当月" if self.months_after == 0 else f"数据期后第{self.months_after}个月"
        return f"{after}{self.day}日，遇周六、周日顺延至周一"


class Contact(BaseModel):
    """联系人 and 联系电话 printed at the foot of the documents; empty: a blank line to fill in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    phone: str = ""


#: what :func:`notice_requirement` may cite: the clause fields of :class:`YearDocuments`
REQUIREMENT_CLAUSES = ("regional_balance_clause",)


class DocumentSettings(BaseModel):
    """``params/templates/documents.yaml``: the reply deadline, and each policy year's templates and
    words (:class:`YearDocuments`). A year without an entry has no documents: asking for them is
    refused, naming the key to add (:meth:`for_year`)."""

    model_config = ConfigDict(extra="forbid")

    #: days from the date of issue to the reply deadline (整改情况报送期限)
    reply_days: int = Field(default=15, ge=1, le=365)
    #: the date of issue (成文日期) from the period, when ``--issued`` is not given
    issue_date: IssueDateRule = IssueDateRule()
    #: 联系人 and 联系电话 of the documents
    contact: Contact = Contact()
    #: policy year → its templates and words
    years: dict[Annotated[int, Field(ge=2000, le=2100)], YearDocuments] = {}
    #: the settings file, for messages
    _source: str = PrivateAttr(default=f"params/{TEMPLATES_FOLDER}/{SETTINGS_FILE}")

    @model_validator(mode="before")
    @classmethod
    def _templates_are_named_by_year(cls, data: Any) -> Any:
        if isinstance(data, dict) and ({"bulletin", "letter"} & set(data)):
            raise ValueError(
                "bulletin / letter 须按政策年度写在 years.<年度> 下 / are named per policy year now: "
                "years: {2023: {bulletin: 通报.docx, letter: 提示函.docx}, …}"
            )
        return data

    def for_year(self, year: int) -> YearDocuments:
        """The templates and words of policy year ``year``; a year without an entry raises
        :class:`ParamsError` naming the key to add."""
        entry = self.years.get(int(year))
        if entry is None:
            listed = "、".join(str(y) for y in sorted(self.years)) or "无 / none"
            raise ParamsError(
                self._source,
                [
                    f"years.{year}: 缺少{year}年度的文书模板设置，请添加 years.{year}（bulletin、letter 及该年度通知的条款）"
                    f" / no entry for policy year {year}: add years.{year} (bulletin, letter and the year's clauses); "
                    f"已有年度 / years with one: {listed}"
                ],
            )
        return entry


def templates_dir(params_dir: Path | str) -> Path:
    return Path(params_dir) / TEMPLATES_FOLDER


def load_settings(params_dir: Path | str) -> DocumentSettings:
    """The settings file, or the defaults (no year: every year's documents refused) when there is
    none; a bad file raises :class:`ParamsError`."""
    path = templates_dir(params_dir) / SETTINGS_FILE
    settings = DocumentSettings()
    if path.exists():
        settings = _read_settings(path)
    settings._source = str(path)
    return settings


def _read_settings(path: Path) -> DocumentSettings:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise ParamsError(str(path), ["顶层必须是键值映射 / top level must be a mapping"])
        return DocumentSettings.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ParamsError(str(path), [f"YAML 格式错误 / not valid YAML: {exc}"]) from None
    except ValidationError as exc:
        raise ParamsError(
            str(path), [f"{'.'.join(str(x) for x in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()]
        ) from None


def year_documents(params_dir: Path | str, year: int) -> YearDocuments:
    """Policy year ``year``'s entry of ``documents.yaml`` (refused, naming the key, when it has none)."""
    return load_settings(params_dir).for_year(year)


def notice_requirement(ctx: Any, clause: str, requirement: str) -> HTML:
    """A report's sentence citing the year's notice for a requirement its rules do not carry:
    "通知{clause}要求{requirement}。" with ``clause`` (a field of :data:`REQUIREMENT_CLAUSES`) read
    from the entry of the context's policy year in ``documents.yaml``; nothing when that year's notice
    gives no such clause. ``ctx``: a report's context (``state``, ``period``)."""
    from analysis.content.display import HTML, esc

    if clause not in REQUIREMENT_CLAUSES:
        raise KeyError(f"unknown clause 未知条款: {clause!r}; one of {REQUIREMENT_CLAUSES}")
    cited = getattr(year_documents(ctx.state.params_dir, ctx.period.year), clause)
    return HTML(f"<p>通知{esc(cited)}要求{esc(requirement)}。</p>" if cited else "")


# ---------------------------------------------------------------- the fields a template may use

#: a field is described by a string (a text), a dict (a record of fields) or a one-item list of
#: a dict (a list of records, for ``{%tr for r in … %}`` rows or ``{%p for … %}`` paragraphs)
Schema = str | dict | list

_COMMON: dict[str, Schema] = {
    "office": "发文机关（policy: issuing_office）",
    "notice": "通知文号（policy: notice）",
    "notice_title": "通知标题",
    "jurisdiction": "辖区，如 南阳市",
    "period": "数据期 2023-06",
    "period_end": "数据期末，如 2023年6月末",
    "period_name": "期间名称，如 2023年上半年、2023年前三季度、2023年",
    "year": "考核年度",
    "issued": "成文日期，如 2023年7月10日",
    "issue_year": "成文年份（发文字号用）",
    "reply_deadline": "整改情况报送期限（成文日期 + reply_days）",
    "reply_days": "报送期限天数",
    "issuer": "发文机关署名，也是版记的印发机关（documents.yaml: years.<年度>.issuer）",
    "issuer_mark": "发文机关标志（通报：…文件；提示函：发文机关全称）",
    "doc_number": "发文字号：前缀〔成文年份〕　号（documents.yaml: years.<年度>.*_number_prefix；序号留空由办公室编号）",
    "printed": "印发日期，如 2024年1月22日印发",
    "copy_to": "抄送机关（、分隔；无则为空）",
    "contact_name": "联系人（documents.yaml: contact.name；未设为下划线）",
    "contact_phone": "联系电话（documents.yaml: contact.phone；未设为下划线）",
    "year_end": "是否年末（12月）：年末措辞与年中不同（true / 空）",
}

#: the financing pipeline's figures of the city and of a county (户次, 万元, %)
_FINANCING_FIGURES: dict[str, Schema] = {
    "pushed": "推送户次",
    "pushed_visited": "其中来自走访",
    "visited": "走访户次",
    "contacted": "对接户次",
    "decided": "办结户次（按发生日期计入，含此前推送企业）",
    "decided_earlier": "其中此前（上年）推送企业户次",
    "granted": "授信户次",
    "credit_amount": "授信金额（万元）",
    "refused": "未授信户次",
    "lent": "放款户次",
    "loan_amount": "放款金额（万元）",
    "credit_loans": "信用贷款户次",
    "credit_loan_share": "信用贷款占比",
    "first_loans": "首贷户户次",
    "renewals": "无还本续贷户次",
    "renewal_amount": "无还本续贷金额（万元）",
    "due": "办结时限届满户次",
    "due_earlier": "其中上年推送企业户次",
    "contact_rate": "对接率",
    "decided_within": "按时办结率",
    "overdue": "超期未办结户次",
    "overdue_earlier": "其中办结时限在上年届满（未计入本年考核）户次",
}

BULLETIN_FIELDS: dict[str, Schema] = {
    **_COMMON,
    "n_banks": "参评银行业机构数",
    "n_insurers": "保险机构数",
    "clauses": {"two_increases": "“两增”条款", "plan": "信贷计划条款", "cost": "利率条款", "quality": "不良条款"},
    "figures": {
        "basis": "统计口径：剔除（或含）票据贴现和转贴现",
        "time_progress": "时序进度（12月为空）",
        "city_balance": "全市普惠型小微企业贷款余额，如 154.65亿元",
        "city_change": "其较年初变化，用文字：较年初增加12.30亿元 / 较年初减少…",
        "city_growth": "其较年初增速，用文字：增长8.66% / 下降1.20%",
        "legal_two_increases": "法人银行总体“两增”：完成 / 未完成",
        "legal_count": "纳入“两增”的法人银行数",
        "legal_inclusive_growth": "法人银行普惠贷款较年初增速，用文字：增长12.99% / 下降…",
        "legal_total_loans_growth": "法人银行各项贷款较年初增速，用文字：增长… / 下降…",
        "legal_growth_margin": "普惠贷款增速比各项贷款增速：高5.96个百分点 / 低…",
        "legal_borrowers_change": "法人银行有贷款余额户数较年初：增加23,676户 / 减少…",
        "legal_plan_completion": "法人银行总体信贷计划完成率（%）",
        "legal_plan_increase": "法人银行较年初增量，如 154.65亿元",
        "legal_planned_increase": "法人银行全年计划增量，如 160.00亿元",
        "legal_plan_count": "纳入计划的法人银行数",
        "branch_plan_completion": "分支银行总体信贷计划完成率（%）",
        "branch_plan_increase": "分支银行较年初增量，如 54.65亿元",
        "branch_planned_increase": "分支银行全年计划增量，如 60.00亿元",
        "branch_plan_count": "纳入计划的分支银行数",
    },
    "highlights": [{"text": "成效：点名表现突出的机构（一段一句）"}],
    "structure": [
        {
            "label": "全市结构指标，如 普惠型涉农贷款余额",
            "value": "本期数值（带单位）",
            "change": "较年初（带单位或文字）",
        }
    ],
    "insurers": {
        "count": "参评保险机构数",
        "premium": "小微企业保险保费收入（带单位）",
        "premium_growth": "保费同比，用文字：增长… / 下降…",
        "sum_insured_growth": "保额同比，用文字：增长… / 下降…",
        "claims_ratio": "赔付率（%）",
        "below_count": "需关注的保险机构数",
        "below": "需关注的保险机构名称（、分隔；无则为空）",
    },
    "insurer_rows": [
        {
            "number": "序号",
            "name": "机构名称",
            "category": "机构类型",
            "premium": "保费收入（万元，表内不带单位）",
            "premium_growth": "保费同比（%，表内不带单位）",
            "sum_insured_growth": "保额同比（%，表内不带单位）",
            "status": "情况，如 达标 / 需关注",
        }
    ],
    "watch": [
        {
            "number": "序号（接 misses 编号：misses 为一、二时从三起）",
            "title": "关注名单标题，如 个别利率较高的银行机构",
            "count": "家数",
            "rows": [{"number": "序号", "name": "机构名称", "category": "机构类型", "detail": "情况（用文字）"}],
        }
    ],
    "categories": [
        {
            "category": "机构类型",
            "count": "机构数",
            "balance": "普惠贷款余额（万元）",
            "growth": "较年初增速（%）",
            "total_loans_growth": "各项贷款增速（%）",
            "plan_completion": "计划完成率（%）",
            "rate": "累放加权利率（%）",
            "npl_ratio": "普惠不良率（%）",
            "two_increases_missed": "“两增”未达标家数",
            "plan_missed": "计划未达标家数",
            "plan_behind": "计划进度落后家数",
            "rate_rise": "利率上升家数",
            "npl_over": "不良超容忍度家数",
        }
    ],
    "misses": [
        {
            "number": "序号（一、二、三……）",
            "title": "名单标题，如 “两增”未达标",
            "count": "家数",
            "measure": "衡量指标名称",
            "rows": [
                {
                    "number": "序号",
                    "id": "机构编码",
                    "name": "机构名称",
                    "category": "机构类型",
                    "division": "监管科室",
                    "measure": "指标值（带单位）",
                    "detail": "情况说明（“两增”含未达标项及两项数值）",
                }
            ],
            "behind": "计划进度落后于时序进度的机构名称（、分隔）",
            "behind_count": "其家数",
        }
    ],
    "counties": [
        {
            "county": "县区",
            "count": "机构数",
            "balance": "普惠贷款余额（万元）",
            "increase": "较年初增量（万元）",
            "growth": "较年初增速（%）",
            "borrowers_change": "户数较年初（户）",
        }
    ],
    # the financing coordination mechanism (融资协调工作机制): empty (false) when the period has no
    # 推荐清单; analysis.content.financing.bulletin_fields
    "financing": {
        "summary": "全市推进情况一段（当年以来的推送、对接、授信、放款、对接率、按时办结率、超期）",
        "period_end": "数据期末",
        "decision_days": "办结时限（天）",
        "clause": "依据（policy: financing.clause）",
        "has_targets": "该年度是否设有目标：是 / 否",
        "reasons_text": "未授信原因居前三位（、分隔，含户次）",
        "city": _FINANCING_FIGURES,
        "counties": [{"code": "县区代码", "county": "县区", **_FINANCING_FIGURES}],
        "banks_below": [
            {
                "number": "序号",
                "id": "机构编码",
                "name": "机构名称",
                "target": "指标",
                "standard": "要求",
                "value": "本期",
            }
        ],
        "reasons": [{"rank": "位次", "reason": "未授信原因", "count": "户次"}],
    },
}

LETTER_FIELDS: dict[str, Schema] = {
    **_COMMON,
    "institution": {
        "id": "机构编码",
        "name": "机构名称",
        "category": "机构类型",
        "entity_type": "法人机构 / 分支机构",
        "division": "监管科室",
        "county": "所在县区",
        "you": "称谓：你行 / 你社 / 你公司",
    },
    "shortfalls": [
        {
            "number": "序号（一、二……）",
            "key": "规则",
            "label": "事项，如 “两增”·贷款增速",
            "heading": "标题，如 “两增”中的贷款增速未达标、信贷计划未完成",
            "text": "本机构数值与标准",
            "clause": "条款（policy: 该规则的 clause）",
            "citation": "通知文号与条款",
            "recommendation": "整改建议（policy: recommendations）",
        }
    ],
    "watch": [
        {
            "number": "序号",
            "key": "规则或指标",
            "label": "事项",
            "heading": "标题（关注事项不用）",
            "text": "本机构数值",
            "clause": "条款",
            "citation": "通知文号与条款",
            "recommendation": "建议",
        }
    ],
    "figures": [{"label": "指标", "value": "本期数值（带单位）"}],
    "differentiated": "差异化考核的说明（一句；不适用为空），列在未达标事项之前",
    "financing_overdue": [
        {"number": "序号", "name": "企业名称", "code": "统一社会信用代码", "list_date": "推荐日期", "days": "超期天数"}
    ],
    "financing_overdue_count": "超期未作出授信决定的推荐企业户次（列示至多 20 户）",
}

#: the template file of each document and the fields it may use
DOCUMENTS = {"bulletin": BULLETIN_FIELDS, "letter": LETTER_FIELDS}


# ---------------------------------------------------------------- limits of a template

#: A template is a zip archive like an input workbook: its declared unpacked size is checked against
#: the same limit (:data:`~analysis.core.contract.MAX_UNPACKED_MB`) before docxtpl opens it, and no
#: single part may unpack to more than this many MB (a 5 MB template whose document.xml unpacked to
#: 2.2 GB took a render to 7.85 GB of memory). The shipped templates' largest part (styles) is 0.4 MB,
#: their document.xml at most 17 KB. Python's zip reader stops at a member's declared size (and then fails its
#: CRC), so the declared sizes bound what is read: no ratio check is needed.
TEMPLATE_PART_MAX_MB = 16
#: Longest text one rendered part (the body, a header, a footer) may grow to, in characters: the
#: demo city's 通报 is 45,000; a province of 600 institutions listed four times stays under 10 M.
RENDERED_PART_MAX_MB = 32
#: Loop iterations in one document, all loops together (the 通报 of a province: a few thousand).
MAX_LOOP_ITERATIONS = 100_000
#: Largest integer ``**`` may make at render time, in bits (the static check refuses ``**`` anyway).
MAX_POWER_BITS = 4096

#: The filters a template may use: each gives text at most a fixed length longer than its input,
#: so no chain of them can grow a text without bound, and none reaches attributes or calls.
ALLOWED_FILTERS = frozenset(
    {
        "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int", "last",
        "length", "lower", "round", "string", "striptags", "title", "trim", "truncate", "upper", "wordcount",
    }
)  # fmt: skip
#: operators that can build a huge text or number from a short template (``'A' * 10**10``,
#: ``'%0999999999d' % 1``): the documents' fields are formatted texts, nothing to multiply
_REFUSED_OPERATORS = frozenset({"*", "**", "%"})
#: Jinja's own names: its global functions (``range``, ``cycler``, ``lipsum``, ``namespace`` …, the
#: way out of the template in the audit's payloads) and the names it gives a template itself
_JINJA_NAMES = frozenset({"range", "dict", "lipsum", "cycler", "joiner", "namespace"}) | frozenset(
    {"self", "super", "caller", "varargs", "kwargs"}
)


def archive_problem(path: Path) -> str | None:
    """Why the template at ``path`` is refused unopened (too large once unpacked), or None.

    The zip directory only is read: the declared unpacked size of all parts against
    :data:`~analysis.core.contract.MAX_UNPACKED_MB` (the input workbooks' limit) and of each part
    against :data:`TEMPLATE_PART_MAX_MB`. A file that is not a zip archive is left to docxtpl,
    which says so.
    """
    from analysis.core.contract import MAX_UNPACKED_MB

    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        return None
    on_disk = path.stat().st_size / 2**20
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED_MB * 2**20:
        return (
            f"解压后 {unpacked / 2**20:,.0f} MB（文件 {on_disk:,.1f} MB），上限 {MAX_UNPACKED_MB:,} MB，疑似压缩炸弹 / "
            f"unpacks to {unpacked / 2**20:,.0f} MB (file {on_disk:,.1f} MB), limit {MAX_UNPACKED_MB:,} MB: a zip bomb?"
        )
    for member in members:
        if member.file_size > TEMPLATE_PART_MAX_MB * 2**20:
            return (
                f"{member.filename} 解压后 {member.file_size / 2**20:,.0f} MB（文件 {on_disk:,.1f} MB），"
                f"每部分上限 {TEMPLATE_PART_MAX_MB:,} MB，疑似压缩炸弹 / {member.filename} unpacks to "
                f"{member.file_size / 2**20:,.0f} MB (file {on_disk:,.1f} MB), limit {TEMPLATE_PART_MAX_MB:,} MB "
                "per part: a zip bomb?"
            )
    return None


# ---------------------------------------------------------------- the sandbox templates render in


@functools.cache
def _sandbox_class():
    """``DocumentSandbox``, built on first use (Jinja is imported only when documents are made)."""
    from jinja2 import StrictUndefined
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class DocumentSandbox(ImmutableSandboxedEnvironment):
        """Jinja's immutable sandbox (no attribute starting with ``_``, no Python internals, no
        changing a list or dict), with no global names, only :data:`ALLOWED_FILTERS`, no calls at all,
        ``*``/``**``/``%``/``+`` checked before they build a huge text or number, and a cap on loop
        iterations (:data:`MAX_LOOP_ITERATIONS`) and on each rendered part's length
        (:data:`RENDERED_PART_MAX_MB`): what slips past :func:`template_problems` still cannot run
        code, nor fill memory, nor run for long."""

        intercepted_binops = frozenset({"+", "*", "**", "%"})

        def __init__(self) -> None:
            super().__init__(undefined=StrictUndefined, autoescape=True)
            self.globals.clear()  # range, lipsum, cycler, joiner, namespace, dict
            self.filters = {name: f for name, f in self.filters.items() if name in ALLOWED_FILTERS}
            self.iterations_left = MAX_LOOP_ITERATIONS
            self.max_chars = RENDERED_PART_MAX_MB * 2**20

        def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
            raise SecurityError("文书模板中不可调用函数或方法 / a document template cannot call functions or methods")

        def call_binop(self, context, operator: str, left, right):
            if operator == "%" and isinstance(left, str):
                raise SecurityError("文书模板中不可用 % 格式化文本 / a document template cannot format text with %")
            powers = operator == "**" and isinstance(left, int) and isinstance(right, int) and right > 0
            if powers and abs(left).bit_length() * right > MAX_POWER_BITS:
                raise SecurityError(
                    f"{left} ** {right} 过大（上限 {MAX_POWER_BITS} 位）/ too large (limit {MAX_POWER_BITS} bits)"
                )
            if operator in ("*", "+"):
                sized = [len(v) for v in (left, right) if isinstance(v, (str, list, tuple))]
                times = [v for v in (left, right) if isinstance(v, int)]
                length = sized[0] * max(times[0], 0) if operator == "*" and sized and times else sum(sized)
                if length > self.max_chars:
                    raise SecurityError(
                        f"运算结果过长（{length:,} 个字符，上限 {self.max_chars:,}）/ "
                        f"the result would be too long ({length:,} characters, limit {self.max_chars:,})"
                    )
            return super().call_binop(context, operator, left, right)

        def concat(self, pieces) -> str:  # Template.render joins the rendered pieces with this
            out, length = [], 0
            for piece in pieces:
                length += len(piece)
                if length > self.max_chars:
                    raise SecurityError(
                        f"渲染结果超过 {RENDERED_PART_MAX_MB} MB 字符上限 / the rendered part passes the limit of "
                        f"{RENDERED_PART_MAX_MB} M characters"
                    )
                out.append(piece)
            return "".join(out)

        def spend_iteration(self) -> None:
            self.iterations_left -= 1
            if self.iterations_left < 0:
                raise SecurityError(
                    f"循环次数超过上限 {MAX_LOOP_ITERATIONS:,} / loops ran past the limit of {MAX_LOOP_ITERATIONS:,} iterations"
                )

        def sandboxed_context(self, value):
            """``value`` with every list made a :class:`_CountedList` of this render (dicts copied)."""
            if isinstance(value, Mapping):
                return {k: self.sandboxed_context(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return _CountedList(self, [self.sandboxed_context(v) for v in value])
            return value

    return DocumentSandbox


class _CountedList(list):
    """A list of the context: every item a loop takes from it is counted against the render's
    :data:`MAX_LOOP_ITERATIONS` (the sandbox hides the attribute; a template cannot change the list)."""

    def __init__(self, sandbox, items):
        super().__init__(items)
        self._sandbox = sandbox

    def __iter__(self):
        for item in list.__iter__(self):
            self._sandbox.spend_iteration()
            yield item


def _environment():
    """A fresh sandbox for one document (its iteration budget is the document's)."""
    return _sandbox_class()()


# ---------------------------------------------------------------- checking a template

_ANY = object()  # a value whose fields are not known (``loop``, an item picked by a computed index)

#: the core properties docxtpl renders as templates too (``DocxTemplate.render_properties``)
_RENDERED_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def _template_sources(path: Path) -> list[str]:
    """The Jinja source of everything docxtpl renders: the body, headers, footers, footnotes and
    the document properties."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(path))
    template.init_docx()
    sources = [template.patch_xml(template.get_xml())]
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        for _, part in template.get_headers_footers(uri):
            sources.append(template.patch_xml(template.get_part_xml(part)))
    for part in template.docx.part.package.parts:
        if part.content_type == _FOOTNOTES:
            blob = part.blob
            sources.append(template.patch_xml(blob.decode("utf-8") if isinstance(blob, bytes) else blob))
    properties = template.docx.core_properties
    sources += [getattr(properties, name) or "" for name in _RENDERED_PROPERTIES]
    return sources


def _describe(node) -> str:
    """A Jinja expression written back as the template has it, for a message (``range(10 ** 9)``)."""
    from jinja2 import nodes

    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Const):
        text = repr(node.value)
        return text if len(text) <= 40 else text[:36] + "…" + text[0]
    if isinstance(node, nodes.Getattr):
        return f"{_describe(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem):
        return f"{_describe(node.node)}[{_describe(node.arg)}]"
    if isinstance(node, (nodes.Call, nodes.Filter)):
        args = [_describe(a) for a in node.args] + [f"{k.key}={_describe(k.value)}" for k in node.kwargs]
        args += [f"*{_describe(node.dyn_args)}"] if node.dyn_args else []
        args += [f"**{_describe(node.dyn_kwargs)}"] if node.dyn_kwargs else []
        if isinstance(node, nodes.Call):
            return f"{_describe(node.node)}({', '.join(args)})"
        head = f"{_describe(node.node)}|" if node.node is not None else "filter "
        return head + node.name + (f"({', '.join(args)})" if args else "")
    if isinstance(node, nodes.BinExpr):
        return f"{_describe(node.left)} {node.operator} {_describe(node.right)}"
    if isinstance(node, nodes.UnaryExpr):
        return f"{node.operator}{_describe(node.node)}"
    if isinstance(node, (nodes.List, nodes.Tuple)):
        return f"[{', '.join(_describe(i) for i in node.items)}]"
    if isinstance(node, nodes.Concat):
        return " ~ ".join(_describe(n) for n in node.nodes)
    return "…"


def _unknown_fields(source: str, fields: Mapping[str, Schema], env) -> list[str]:
    """What in ``source`` a document template may not have, each as a message: a name, attribute
    or filter that ``fields`` (or the allowed filters) do not know, and anything reaching past the
    fields — Jinja's own names (``range``, ``cycler``, ``lipsum``, ``namespace`` …), an attribute
    starting with ``_``, a call, a filter not in :data:`ALLOWED_FILTERS`, ``*``/``**``/``%``, a loop
    over anything but a list field (inside a loop: a list of the current item, so loops only walk
    down the data and never multiply), tags other than
    ``if`` and ``for`` (``set``, ``macro``, ``include`` …)."""
    from jinja2 import nodes
    from jinja2.defaults import DEFAULT_FILTERS

    problems: list[str] = []

    def unknown(name: str) -> None:
        problems.append(
            f"未知字段 / unknown field '{name}' — 可用字段见 README「文书模板」/ see README (document templates)"
        )

    def refuse(what: str, zh: str, en: str) -> None:
        shown = what if what.startswith("{%") else f"{{{{ {what} }}}}"
        problems.append(f"不允许 / not allowed {shown} — {zh} / {en}")

    def resolve(node, scope) -> tuple[Any, str]:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name], node.name
            if node.name in _JINJA_NAMES:
                refuse(node.name, "Jinja 自带的函数和对象不可用", "Jinja's own functions and objects are not available")
            else:
                unknown(node.name)
            return _ANY, node.name
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            if isinstance(key, str) and key.startswith("_"):
                refuse(_describe(node), "不可访问以下划线开头的属性", "attributes starting with '_' are not available")
                return _ANY, _describe(node)
            schema, name = resolve(node.node, scope)
            if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
                walk(node.arg, scope, frozenset())
                return _ANY, name
            if isinstance(schema, dict):
                if key not in schema:
                    unknown(f"{name}.{key}")
                    return _ANY, f"{name}.{key}"
                return schema[key], f"{name}.{key}"
            if isinstance(node, nodes.Getattr) and schema is not _ANY:
                unknown(f"{name}.{key}")  # a text or a list has no fields
            return _ANY, f"{name}.{key}"
        walk(node, scope, frozenset())
        return _ANY, ""

    def bind(target, value, scope) -> None:
        for name in target.find_all(nodes.Name) if not isinstance(target, nodes.Name) else [target]:
            scope[name.name] = value

    def walk(node, scope, loops: frozenset) -> None:
        """``loops``: the variables of the innermost loop ``node`` is in."""
        if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            resolve(node, scope)
            return
        if isinstance(node, nodes.Call):
            refuse(_describe(node), "模板中不可调用函数或方法", "a template cannot call functions or methods")
            return
        if isinstance(node, nodes.BinExpr) and node.operator in _REFUSED_OPERATORS:
            refuse(
                _describe(node),
                f"运算 '{node.operator}' 不可用（可生成超大文本或数字）",
                f"operator '{node.operator}' is not available (it can build a huge text or number)",
            )
            return
        if isinstance(node, nodes.For):
            before = len(problems)
            schema, name = resolve(node.iter, scope)
            loop = f"{{% for {_describe(node.target)} in {_describe(node.iter)} %}}"
            if len(problems) == before and not isinstance(schema, list):
                refuse(
                    loop,
                    "只能循环列表字段（如 categories、misses）",
                    "a loop can only go over a list field (such as categories, misses)",
                )
            elif len(problems) == before and loops and name.split(".")[0] not in loops:
                refuse(
                    loop,
                    "循环内只能循环本项的列表字段（如 {% for m in misses %} 内的 m.rows）",
                    "inside a loop, only a list of the current item can be looped (such as m.rows inside {% for m in misses %})",
                )
            inner = dict(scope)
            item = schema[0] if isinstance(schema, list) and schema else _ANY
            bind(node.target, item, inner)
            inner["loop"] = _ANY
            targets = {n.name for n in node.target.find_all(nodes.Name)} | (
                {node.target.name} if isinstance(node.target, nodes.Name) else set()
            )
            for child in [*([node.test] if node.test else []), *node.body]:
                walk(child, inner, frozenset(targets))
            for child in node.else_:
                walk(child, scope, loops)
            return
        if isinstance(node, (nodes.Assign, nodes.AssignBlock, nodes.With)):
            refuse(
                "{% set %}" if not isinstance(node, nodes.With) else "{% with %}",
                "模板中只可用 if 与 for 标签",
                "only the if and for tags are available in a document template",
            )
            for target in [node.target] if not isinstance(node, nodes.With) else node.targets:
                bind(target, _ANY, scope)
            return
        tag = {
            nodes.Macro: "macro", nodes.CallBlock: "call", nodes.Include: "include", nodes.Import: "import",
            nodes.FromImport: "from", nodes.Extends: "extends", nodes.Block: "block",
            nodes.ScopedEvalContextModifier: "autoescape", nodes.EvalContextModifier: "autoescape",
        }.get(type(node))  # fmt: skip
        if tag is not None:
            refuse(
                f"{{% {tag} %}}",
                "模板中只可用 if 与 for 标签",
                "only the if and for tags are available in a document template",
            )
            return
        if isinstance(node, nodes.Filter):
            if node.name not in env.filters:
                if node.name in DEFAULT_FILTERS:
                    refuse(
                        _describe(node),
                        f"该过滤器不可用（可用：{'、'.join(sorted(ALLOWED_FILTERS))}）",
                        f"filter not available (available: {', '.join(sorted(ALLOWED_FILTERS))})",
                    )
                else:
                    unknown(f"|{node.name}")
            if node.dyn_args or node.dyn_kwargs:
                refuse(_describe(node), "过滤器参数不可展开", "filter arguments cannot be unpacked")
                return
        if isinstance(node, nodes.Test) and node.name not in env.tests:
            unknown(f"is {node.name}")
        for child in node.iter_child_nodes():
            walk(child, scope, loops)

    walk(env.parse(source), dict(fields), frozenset())
    return problems


def template_problems(path: Path, fields: Mapping[str, Schema]) -> list[str]:
    """What is wrong with one template: a missing file, one too large once unpacked (checked before
    it is opened), a syntax error, unknown fields and anything a document template may not do."""
    from jinja2 import TemplateSyntaxError

    if not path.is_file():
        return [f"模板文件不存在 / template not found: {path}"]
    too_large = archive_problem(path)
    if too_large:
        return [f"{path}: 模板文件过大 / template too large: {too_large}"]
    env = _environment()
    found: list[str] = []
    try:
        for source in _template_sources(path):
            found += _unknown_fields(source, fields, env)
    except TemplateSyntaxError as exc:
        return [f"{path}: 模板语法错误 / template syntax error: {exc.message}"]
    except Exception as exc:  # noqa: BLE001 - not a .docx (a zip) at all: say which file
        return [f"{path}: 无法读取为 Word 文档 / cannot be read as a .docx: {type(exc).__name__}: {exc}"]
    return [f"{path}: {problem}" for problem in dict.fromkeys(found)]


def rendered_years(params_dir: Path | str, settings: DocumentSettings) -> list[int]:
    """The policy years whose documents a run may render: every year with a policy file
    (``params/policy-<year>.yaml``) and every year ``documents.yaml`` lists."""
    stems = (path.stem.removeprefix("policy-") for path in Path(params_dir).glob("policy-*.yaml"))
    return sorted({int(stem) for stem in stems if stem.isdigit()} | set(settings.years))


def check_templates(params_dir: Path | str, period: str | int | None = None) -> DocumentSettings:
    """Refuse, before anything is written, a policy year without templates (naming the key of
    ``documents.yaml`` to add) and templates that name unknown fields or reach past them (see
    :func:`template_problems`); returns the settings.

    ``period`` (``2024-06``, or a year): the templates of its policy year only — what
    :func:`~analysis.outputs.documents.write.write_documents` renders; without it, those of every year
    a run may render (:func:`rendered_years`), so the check before any work of ``analysis run`` covers
    the run's period whichever it is."""
    settings = load_settings(params_dir)
    if period is None:
        years = rendered_years(params_dir, settings)
    else:
        from analysis.core.periods import parse_period

        years = [period if isinstance(period, int) else int(parse_period(period).year)]
    entries = [settings.for_year(year) for year in years]  # a year without an entry: refused here
    folder = templates_dir(params_dir)
    wanted = dict.fromkeys(
        [(entry.bulletin, "bulletin") for entry in entries] + [(entry.letter, "letter") for entry in entries]
    )
    problems: list[str] = []
    for name, document in wanted:
        problems += template_problems(folder / name, DOCUMENTS[document])
    if problems:
        raise TemplateFieldError(problems)
    return settings
