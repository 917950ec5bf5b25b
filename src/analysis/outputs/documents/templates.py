"""The document templates (文书模板): the settings (``params/templates/documents.yaml``), the fields a
template may use, and the check that refuses a template naming any other field, before any work.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.core.errors import AnalysisError, ParamsError

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
