"""What the office sends out (监管文书): the period's 通报 and each institution's 监管提示函, as Word drafts.

The notice says the office will 通报 three figures (clause 一（一）) and will 督导整改 institutions
that fall short (clauses 十五–十七). Both documents are rendered with docxtpl from the ``.docx``
templates in ``params/templates/`` (``通报.docx``, ``提示函.docx``), which the office edits in Word
or WPS — letterhead, wording, fonts, layout — without touching Python:

- ``reports/<period>/通报-<period>.docx``: the three published figures with their basis, banks by
  category, the institutions missing each target (the overview's lists,
  :func:`analysis.overview.target_lists`), the counties and the closing requirements;
- ``reports/<period>/提示函/<id>.docx`` for every institution with at least one 未达标 verdict: its
  own figures only (the verdict texts of its evaluation report, :func:`analysis.report.verdicts`),
  each shortfall with the notice's clause and the policy's recommendation text, and the reply
  deadline (``reply_days`` in ``params/templates/documents.yaml``).

Every figure comes from the same :class:`~analysis.state.State` the overview reads, formatted as in
the reports (万元 with two decimals, percentages, 个百分点, 个基点). The fields a template may use are
:data:`BULLETIN_FIELDS` and :data:`LETTER_FIELDS`; :func:`check_templates` refuses a template naming
any other field (or a misspelt filter) with the field and the template's path, before any document is
written, and rendering runs with Jinja's ``StrictUndefined`` so nothing is silently left blank.
Everything is rendered in memory first; the 通报 is written atomically and the letters folder is
swapped in whole, so a stale letter never survives a run (an institution that has caught up gets
none). ``analysis run --formats …,docx`` writes them through :data:`analysis.outputs.EXPORTERS`;
``analysis docs --period P`` on their own.
"""

from __future__ import annotations

import io
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.columns import INDICATOR_COLUMNS
from analysis.compare import fmt_signed, snap_zero
from analysis.display import fmt_number
from analysis.errors import AnalysisError, ParamsError
from analysis.files import atomic_path, replace_folder
from analysis.periods import CHINA_TZ, parse_period
from analysis.status import NOT_MET, WATCH

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


class DocumentSettings(BaseModel):
    """``params/templates/documents.yaml``: which templates, and the reply deadline."""

    model_config = ConfigDict(extra="forbid")

    bulletin: str = "通报.docx"
    letter: str = "提示函.docx"
    #: days from the date of issue to the reply deadline (整改情况报送期限)
    reply_days: int = Field(default=15, ge=1, le=365)


def templates_dir(params_dir: Path | str) -> Path:
    return Path(params_dir) / TEMPLATES_FOLDER


def load_settings(params_dir: Path | str) -> DocumentSettings:
    """The settings file, or the defaults when there is none; a bad file raises :class:`ParamsError`."""
    path = templates_dir(params_dir) / SETTINGS_FILE
    if not path.exists():
        return DocumentSettings()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return DocumentSettings.model_validate(raw)
    except yaml.YAMLError as exc:
        raise ParamsError(str(path), [f"YAML 格式错误 / not valid YAML: {exc}"]) from None
    except ValidationError as exc:
        raise ParamsError(
            str(path), [f"{'.'.join(str(x) for x in e['loc']) or '(file)'}: {e['msg']}" for e in exc.errors()]
        ) from None


# ---------------------------------------------------------------- the fields a template may use

#: a field is described by a string (a text), a dict (a record of fields) or a one-item list of
#: a dict (a list of records, for ``{%tr for r in … %}`` rows or ``{%p for … %}`` paragraphs)
Schema = str | dict | list

_COMMON: dict[str, Schema] = {
    "office": "发文机关（policy: issuing_office）",
    "notice": "通知文号，如 宛银保监办发〔2023〕15号",
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
}

BULLETIN_FIELDS: dict[str, Schema] = {
    **_COMMON,
    "n_banks": "参评银行业机构数",
    "n_insurers": "保险机构数",
    "clauses": {"two_increases": "“两增”条款", "plan": "信贷计划条款", "cost": "利率条款", "quality": "不良条款"},
    "figures": {
        "basis": "统计口径：剔除（或含）票据贴现和转贴现",
        "time_progress": "时序进度（12月为空）",
        "legal_two_increases": "法人银行总体“两增”：完成 / 未完成",
        "legal_count": "纳入“两增”的法人银行数",
        "legal_inclusive_growth": "法人银行普惠贷款较年初增速（%）",
        "legal_total_loans_growth": "法人银行各项贷款较年初增速（%）",
        "legal_growth_margin": "增速差（个百分点）",
        "legal_borrowers_change": "法人银行有贷款余额户数较年初（户）",
        "legal_plan_completion": "法人银行总体信贷计划完成率（%）",
        "legal_plan_increase": "法人银行较年初增加（万元）",
        "legal_planned_increase": "法人银行全年计划（万元）",
        "legal_plan_count": "纳入计划的法人银行数",
        "branch_plan_completion": "分支银行总体信贷计划完成率（%）",
        "branch_plan_increase": "分支银行较年初增加（万元）",
        "branch_planned_increase": "分支银行全年计划（万元）",
        "branch_plan_count": "纳入计划的分支银行数",
    },
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
            "text": "本机构数值与标准",
            "clause": "条款，如 第（一）条及脚注1",
            "citation": "通知文号与条款",
            "recommendation": "整改建议（policy: recommendations）",
        }
    ],
    "watch": [
        {
            "number": "序号",
            "key": "规则或指标",
            "label": "事项",
            "text": "本机构数值",
            "clause": "条款",
            "citation": "通知文号与条款",
            "recommendation": "建议",
        }
    ],
    "figures": [{"label": "指标", "value": "本期数值（带单位）"}],
}

#: the template file of each document and the fields it may use
DOCUMENTS = {"bulletin": BULLETIN_FIELDS, "letter": LETTER_FIELDS}


# ---------------------------------------------------------------- checking a template

_ANY = object()  # a value whose fields are not checked (a loop variable, a text)


def _template_sources(path: Path) -> list[str]:
    """The Jinja source of the body, headers and footers, as docxtpl renders them."""
    from docxtpl import DocxTemplate

    template = DocxTemplate(str(path))
    template.init_docx()
    sources = [template.patch_xml(template.get_xml())]
    for uri in (template.HEADER_URI, template.FOOTER_URI):
        for _, part in template.get_headers_footers(uri):
            sources.append(template.patch_xml(template.get_part_xml(part)))
    return sources


def _unknown_fields(source: str, fields: Mapping[str, Schema], env) -> list[str]:
    """Every name, attribute and filter in ``source`` that ``fields`` (or Jinja) does not know."""
    from jinja2 import nodes

    problems: list[str] = []

    def resolve(node, scope) -> tuple[Any, str]:
        if isinstance(node, nodes.Name):
            if node.name in scope:
                return scope[node.name], node.name
            if node.name not in env.globals:
                problems.append(node.name)
            return _ANY, node.name
        if isinstance(node, (nodes.Getattr, nodes.Getitem)):
            key = node.attr if isinstance(node, nodes.Getattr) else getattr(node.arg, "value", None)
            schema, name = resolve(node.node, scope)
            if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
                walk(node.arg, scope)
                return _ANY, name
            if isinstance(schema, dict):
                if key not in schema:
                    problems.append(f"{name}.{key}")
                    return _ANY, f"{name}.{key}"
                return schema[key], f"{name}.{key}"
            return _ANY, f"{name}.{key}"
        walk(node, scope)
        return _ANY, ""

    def bind(target, value, scope) -> None:
        for name in target.find_all(nodes.Name) if not isinstance(target, nodes.Name) else [target]:
            scope[name.name] = value

    def walk(node, scope) -> None:
        if isinstance(node, (nodes.Name, nodes.Getattr, nodes.Getitem)):
            resolve(node, scope)
            return
        if isinstance(node, nodes.For):
            schema, name = resolve(node.iter, scope)
            inner = dict(scope)
            item = schema[0] if isinstance(schema, list) and schema else _ANY
            bind(node.target, item, inner)
            inner["loop"] = _ANY
            for child in [*([node.test] if node.test else []), *node.body]:
                walk(child, inner)
            for child in node.else_:
                walk(child, scope)
            return
        if isinstance(node, nodes.Assign):
            walk(node.node, scope)
            bind(node.target, _ANY, scope)
            return
        if isinstance(node, (nodes.Filter, nodes.Test)):
            known = env.filters if isinstance(node, nodes.Filter) else env.tests
            if node.name not in known:
                problems.append(f"|{node.name}" if isinstance(node, nodes.Filter) else f"is {node.name}")
        for child in node.iter_child_nodes():
            walk(child, scope)

    walk(env.parse(source), dict(fields))
    return problems


def _environment():
    from jinja2 import Environment, StrictUndefined

    return Environment(undefined=StrictUndefined, autoescape=True)


def template_problems(path: Path, fields: Mapping[str, Schema]) -> list[str]:
    """What is wrong with one template: a missing file, a syntax error, unknown fields."""
    from jinja2 import TemplateSyntaxError

    if not path.is_file():
        return [f"模板文件不存在 / template not found: {path}"]
    env = _environment()
    found: list[str] = []
    try:
        for source in _template_sources(path):
            found += _unknown_fields(source, fields, env)
    except TemplateSyntaxError as exc:
        return [f"{path}: 模板语法错误 / template syntax error: {exc.message}"]
    except Exception as exc:  # noqa: BLE001 - not a .docx (a zip) at all: say which file
        return [f"{path}: 无法读取为 Word 文档 / cannot be read as a .docx: {type(exc).__name__}: {exc}"]
    return [
        f"{path}: 未知字段 / unknown field '{name}' — 可用字段见 README「文书模板」/ see README (document templates)"
        for name in dict.fromkeys(found)
    ]


def check_templates(params_dir: Path | str) -> DocumentSettings:
    """Refuse, before anything is written, templates that name unknown fields; returns the settings."""
    settings = load_settings(params_dir)
    folder = templates_dir(params_dir)
    problems = template_problems(folder / settings.bulletin, BULLETIN_FIELDS)
    problems += template_problems(folder / settings.letter, LETTER_FIELDS)
    if problems:
        raise TemplateFieldError(problems)
    return settings


# ---------------------------------------------------------------- numbers as the reports show them


def _fmt(value, digits: int = 2, signed: bool = False, unit: str = "") -> str:
    """As :func:`analysis.report` writes figures: a zero at the tolerance reads 0, NaN reads —."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not pd.isna(value):
        if signed:
            return fmt_signed(value, digits, unit)
        value = snap_zero(float(value))
    return fmt_number(value, digits, signed=signed, unit=unit)


def pct(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "%")


def pp(value) -> str:
    return _fmt(value, 2, True, "个百分点")


def bp(value) -> str:
    return _fmt(value, 0, True, "个基点")


def amount(value, signed: bool = False) -> str:
    return _fmt(value, 2, signed, "万元")


def count(value, signed: bool = False, unit: str = "户") -> str:
    return _fmt(value, 0, signed, unit)


def _cell(value, digits: int = 2) -> str:
    """A table cell: the unit is in the header; counts whole."""
    return _fmt(value, digits)


CHINESE_NUMBERS = "一二三四五六七八九十"


def chinese_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十 (list numbering in official documents)."""
    if n <= 10:
        return CHINESE_NUMBERS[n - 1]
    tens, ones = divmod(n, 10)
    return f"{'' if tens == 1 else CHINESE_NUMBERS[tens - 1]}十{CHINESE_NUMBERS[ones - 1] if ones else ''}"


def period_name(period: pd.Timestamp) -> str:
    """2023-06 → 2023年上半年, 2023-09 → 2023年前三季度, 2023-12 → 2023年, 2023-05 → 2023年1—5月."""
    spans = {3: "一季度", 6: "上半年", 9: "前三季度", 12: ""}
    span = spans.get(period.month, f"1—{period.month}月")
    return f"{period.year}年{span}"


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _common(policy, period: pd.Timestamp, issued: date, reply_by: date, settings: DocumentSettings) -> dict:
    return {
        "office": policy.issuing_office,
        "notice": policy.notice,
        "notice_title": policy.title,
        "jurisdiction": policy.jurisdiction or "",
        "period": f"{period:%Y-%m}",
        "period_end": f"{period.year}年{period.month}月末",
        "period_name": period_name(period),
        "year": period.year,
        "issued": chinese_date(issued),
        "issue_year": issued.year,
        "reply_deadline": chinese_date(reply_by),
        "reply_days": settings.reply_days,
    }


# ---------------------------------------------------------------- the 通报


def _detail(target_status: str, row: pd.Series, measure: str, label: str) -> str:
    if target_status == "status_two_increases":
        return (
            f"未达标项：{row['failed_leg']}；增速差 {pp(row['growth_margin_pp'])}；"
            f"户数较年初 {count(row['borrowers_change'], True)}"
        )
    return f"{label.split('（')[0]} {_measure(measure, row[measure])}"


def _measure(column: str, value) -> str:
    unit = INDICATOR_COLUMNS.get(column, ("", ""))[1]
    if unit == "BP":
        return bp(value)
    if unit == "个百分点":
        return pp(value)
    if unit == "%":
        return pct(value)
    if unit == "万元":
        return amount(value)
    return _fmt(value)


def bulletin_context(
    state, period: str, issued: date, settings: DocumentSettings, reply_by: date | None = None
) -> dict:
    """Every field of :data:`BULLETIN_FIELDS` for ``period``, from the state the overview reads."""
    from analysis import overview

    ctx = overview.city_context(period, state=state)
    policy, period_end = ctx.policy, ctx.period
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)
    city = state.citywide.loc[period_end] if period_end in state.citywide.index else pd.Series(dtype=object)
    met = city.get("legal_two_increases_met")
    figures = {
        "basis": "含票据贴现和转贴现" if policy.two_increases.include_bills else "剔除票据贴现和转贴现",
        "time_progress": pct(period_end.month / 12 * 100) if period_end.month < 12 else "",
        "legal_two_increases": "—" if met is None or pd.isna(met) else ("完成" if bool(met) else "未完成"),
        "legal_count": count(city.get("legal_count"), unit=""),
        "legal_inclusive_growth": pct(city.get("legal_inclusive_growth_pct")),
        "legal_total_loans_growth": pct(city.get("legal_total_loans_growth_pct")),
        "legal_growth_margin": pp(city.get("legal_growth_margin_pp")),
        "legal_borrowers_change": count(city.get("legal_borrowers_change"), True),
        "legal_plan_completion": pct(city.get("legal_plan_completion_pct")),
        "legal_plan_increase": amount(city.get("legal_plan_increase")),
        "legal_planned_increase": amount(city.get("legal_planned_increase")),
        "legal_plan_count": count(city.get("legal_plan_count"), unit=""),
        "branch_plan_completion": pct(city.get("branch_plan_completion_pct")),
        "branch_plan_increase": amount(city.get("branch_plan_increase")),
        "branch_planned_increase": amount(city.get("branch_planned_increase")),
        "branch_plan_count": count(city.get("branch_plan_count"), unit=""),
    }
    groups = overview.group_summary(ctx.rows, "category")
    categories = []
    for g in groups.itertuples(index=False):
        values = dict(zip(groups.columns, g, strict=True))
        missed, behind = str(values["计划未达标/落后"]).split(" / ")
        categories.append(
            {
                "category": str(values["机构类型"]),
                "count": str(int(values["机构数"])),
                "balance": _cell(values["普惠贷款余额（万元）"]),
                "growth": _cell(values["较年初增速（%）"]),
                "total_loans_growth": _cell(values["各项贷款增速（%）"]),
                "plan_completion": _cell(values["计划完成率（%）"]),
                "rate": _cell(values["累放加权利率（%）"]),
                "npl_ratio": _cell(values["普惠不良率（%）"]),
                "two_increases_missed": str(int(values["两增未达标"])),
                "plan_missed": missed,
                "plan_behind": behind,
                "rate_rise": str(int(values["利率上升"])),
                "npl_over": str(int(values["不良超容忍度"])),
            }
        )
    misses = []
    for i, target in enumerate(overview.target_lists(ctx), start=1):
        measure = next(c for c in target.columns if c not in ("institution_id", "name", "category", "division"))
        label = target.columns[measure] if target.status != "status_two_increases" else "未达标项"
        rows = [
            {
                "number": str(n),
                "id": str(r["institution_id"]),
                "name": str(r["name"]),
                "category": str(r["category"]),
                "division": str(r["division"]),
                "measure": str(r["failed_leg"])
                if target.status == "status_two_increases"
                else _measure(measure, r[measure]),
                "detail": _detail(target.status, r, measure, label),
            }
            for n, (_, r) in enumerate(target.rows.iterrows(), start=1)
        ]
        misses.append(
            {
                "number": chinese_number(i),
                "title": target.title,
                "count": str(len(rows)),
                "measure": label,
                "rows": rows,
                "behind": "、".join(target.behind),
                "behind_count": str(len(target.behind)),
            }
        )
    counties = [
        {
            "county": str(r["县区"]),
            "count": str(r["机构数"]),
            "balance": _cell(r["普惠贷款余额（万元）"]),
            "increase": _cell(r["较年初增量（万元）"]),
            "growth": _cell(r["较年初增速（%）"]),
            "borrowers_change": _fmt(r["户数较年初（户）"], 0, True),
        }
        for _, r in overview.county_growth(ctx).iterrows()
    ]
    return {
        **_common(policy, period_end, issued, reply_by, settings),
        "n_banks": len(ctx.banks),
        "n_insurers": len(ctx.rows) - len(ctx.banks),
        "clauses": {
            "two_increases": policy.two_increases.clause,
            "plan": policy.plan.clause,
            "cost": policy.cost.clause,
            "quality": policy.quality.clause,
        },
        "figures": figures,
        "categories": categories,
        "misses": misses,
        "counties": counties,
    }


# ---------------------------------------------------------------- a letter

#: the institution's own figures a letter lists, by sector (indicator column, how it is shown)
LETTER_FIGURES = {
    "bank": [
        ("inclusive_balance_assessed", amount),
        ("inclusive_ytd_growth_pct", pct),
        ("total_loans_ytd_growth_pct", pct),
        ("growth_margin_pp", pp),
        ("inclusive_borrowers", count),
        ("borrowers_change", lambda v: count(v, True)),
        ("inclusive_ytd_increase", lambda v: amount(v, True)),
        ("planned_increase", amount),
        ("plan_completion_pct", pct),
        ("ytd_new_loan_rate_pct", pct),
        ("prior_year_rate_pct", pct),
        ("rate_change_bp", bp),
        ("inclusive_npl_ratio_pct", pct),
        ("total_npl_ratio_pct", pct),
    ],
    "insurer": [
        ("premium_ytd", amount),
        ("premium_yoy_pct", lambda v: pct(v, True)),
        ("sum_insured_yoy_pct", lambda v: pct(v, True)),
        ("claims_to_premium_pct", pct),
    ],
}


#: labels of reported figures that are not indicators (columns.INDICATOR_COLUMNS names the rest)
FIGURE_LABELS = {
    "inclusive_borrowers": "普惠型小微企业有贷款余额户数",
    "premium_ytd": "小微企业保险保费收入（当年累计）",
}


def _you(category: str, sector: str) -> str:
    if sector == "insurer":
        return "你公司"
    return "你社" if "信用社" in category else "你行"


def letter_context(ictx, issued: date, settings: DocumentSettings, reply_by: date | None = None) -> dict | None:
    """Every field of :data:`LETTER_FIELDS` for one institution, or None without a 未达标 verdict.

    Built from the institution's own verdicts (:func:`analysis.report.verdicts`, the texts of its
    evaluation report: its own figures, peers only as ranks and category medians) and its own row.
    """
    from analysis.contract import COUNTIES
    from analysis.report import describe_value, verdicts

    policy = ictx.policy
    headline = verdicts(ictx)
    if not any(v.status == NOT_MET for v in headline):
        return None
    reply_by = reply_by or issued + timedelta(days=settings.reply_days)

    def item(number: int, key: str, label: str, text: str, clause: str) -> dict:
        return {
            "number": chinese_number(number),
            "key": key,
            "label": label,
            "text": text,
            "clause": clause,
            "citation": f"{policy.notice}{clause}",
            "recommendation": policy.recommendation(key),
        }

    shortfalls = [
        item(n, v.key, v.label, v.text, v.clause)
        for n, v in enumerate((v for v in headline if v.status == NOT_MET), start=1)
    ]
    watch = [
        item(n, v.key, v.label, v.text, v.clause)
        for n, v in enumerate((v for v in headline if v.status == WATCH), start=1)
    ]
    headline_keys = {v.key for v in headline}
    row = ictx.row
    for check in policy.watch_checks:
        if check.indicator in headline_keys or ictx.sector not in check.sectors:
            continue
        if row.get(f"status_{check.indicator}") == WATCH:
            watch.append(
                item(
                    len(watch) + 1,
                    check.indicator,
                    check.label,
                    describe_value(check.indicator, row[check.indicator]),
                    check.clause,
                )
            )
    figures = [
        {"label": FIGURE_LABELS.get(column) or INDICATOR_COLUMNS[column][0], "value": show(row[column])}
        for column, show in LETTER_FIGURES.get(ictx.sector, [])
        if column in row.index
    ]
    inst = ictx.institution
    return {
        **_common(policy, ictx.period, issued, reply_by, settings),
        "institution": {
            "id": ictx.institution_id,
            "name": ictx.name,
            "category": str(inst["category"]),
            "entity_type": str(inst["entity_type"]),
            "division": str(inst["division"]),
            "county": COUNTIES.get(str(inst["county_code"]), str(inst["county_code"])),
            "you": _you(str(inst["category"]), ictx.sector),
        },
        "shortfalls": shortfalls,
        "watch": watch,
        "figures": figures,
    }


# ---------------------------------------------------------------- rendering and writing


def render_document(template: Path, context: Mapping[str, Any]) -> bytes:
    """The rendered .docx as bytes (nothing is written). A field the context lacks raises."""
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    document = DocxTemplate(str(template))
    try:
        document.render(dict(context), jinja_env=_environment(), autoescape=True)
    except TemplateError as exc:
        raise TemplateFieldError([f"{template}: {type(exc).__name__}: {exc}"]) from None
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass
class PeriodDocuments:
    """What :func:`write_documents` wrote: paths relative to the period folder, by manifest key
    (``overview`` for the 通报, the institution id for its letter), and letters that failed."""

    files: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def letters(self) -> dict[str, str]:
        return {k: v for k, v in self.files.items() if k != BULLETIN_KEY}


def bulletin_name(period: str) -> str:
    return f"通报-{period}.docx"


def _as_date(value: date | datetime | None) -> date:
    if value is None:
        return datetime.now(CHINA_TZ).date()
    return value.date() if isinstance(value, datetime) else value


def write_documents(
    state,
    period: str,
    out_dir: Path | str,
    params_dir: Path | str | None = None,
    issued: date | datetime | None = None,
    reply_by: date | None = None,
) -> PeriodDocuments:
    """Render the 通报 and every letter of ``period`` from ``state`` and write them to ``out_dir``.

    The templates are checked first (:func:`check_templates`): a bad one stops everything before
    a file is written. A letter that fails to render is reported in ``failed`` and the others are
    written; the 通报 failing raises.
    """
    from analysis.report import institution_context

    params_dir = Path(params_dir if params_dir is not None else state.params_dir)
    settings = check_templates(params_dir)
    folder = templates_dir(params_dir)
    period_end = parse_period(period)
    period_text = f"{period_end:%Y-%m}"
    day = _as_date(issued)
    out_dir = Path(out_dir)

    bulletin = render_document(
        folder / settings.bulletin, bulletin_context(state, period_text, day, settings, reply_by)
    )
    letters: dict[str, bytes] = {}
    failed: dict[str, str] = {}
    rows = state.indicators[state.indicators["period"] == period_end]
    for iid in rows["institution_id"]:
        try:
            ictx = institution_context(str(iid), period_text, state=state)
            context = letter_context(ictx, day, settings, reply_by)
            if context is not None:
                letters[str(iid)] = render_document(folder / settings.letter, context)
        except Exception as exc:  # noqa: BLE001 - one institution's letter failing never loses the others
            failed[str(iid)] = f"{type(exc).__name__}: {exc}"

    out_dir.mkdir(parents=True, exist_ok=True)
    written = PeriodDocuments(failed=failed)
    staging = out_dir / f".{LETTERS_FOLDER}.{secrets.token_hex(4)}.part"
    for stale in out_dir.glob(f".{LETTERS_FOLDER}.*.part"):
        shutil.rmtree(stale, ignore_errors=True)
    staging.mkdir()
    target_folder = out_dir / LETTERS_FOLDER
    try:
        for iid, content in letters.items():
            target = staging / f"{iid}.docx"
            if target.resolve().parent != staging.resolve():  # ids are checked on load; never write elsewhere
                failed[iid] = f"机构编码不能用作文件名 / id cannot be a file name: {iid!r}"
                continue
            target.write_bytes(content)
            written.files[iid] = f"{LETTERS_FOLDER}/{iid}.docx"
        if written.files:
            replace_folder(staging, target_folder)
        elif target_folder.exists():
            shutil.rmtree(target_folder)  # no institution falls short: no letter, and no stale one
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with atomic_path(out_dir / bulletin_name(period_text)) as tmp:
        tmp.write_bytes(bulletin)
    written.files = {BULLETIN_KEY: bulletin_name(period_text), **written.files}
    return written


def write_period_docx(state, period: str, out_dir: Path, params_dir: Path, issued: datetime) -> PeriodDocuments:
    """The period exporter of :data:`analysis.outputs.EXPORTERS` (``docx``)."""
    return write_documents(state, period, out_dir, params_dir, issued)


__all__ = [
    "BULLETIN_FIELDS",
    "LETTER_FIELDS",
    "DocumentSettings",
    "PeriodDocuments",
    "TemplateFieldError",
    "bulletin_context",
    "check_templates",
    "letter_context",
    "load_settings",
    "render_document",
    "template_problems",
    "write_documents",
]
