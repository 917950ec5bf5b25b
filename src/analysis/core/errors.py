"""Problems found in input data or parameters, reported in Chinese and English.

Every problem names the file, the row (as the analyst sees it in Excel: the header is row 1),
the column and the rule. Problems are collected, never raised one at a time, so an analyst
fixes a workbook in one pass. A few rules are warnings (:data:`WARNING_RULES`): the data are
accepted, the affected indicators are 不适用, and ``analysis validate`` prints them.

Every error a user can cause (bad data, bad parameters, a report asked for something that does
not exist) is an :class:`AnalysisError`; the command line catches that one class and prints it in
Chinese and English, without a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass

#: rule code -> (Chinese, English). The data contract document lists this table.
RULES: dict[str, tuple[str, str]] = {
    "file_unreadable": ("文件无法读取", "file cannot be read"),
    "write_failed": (
        "文件无法写入（其他机构的文件已写出）",
        "file could not be written (the other institutions' files were)",
    ),
    "file_too_large": (
        "文件解压后过大或单元格过多，未读取（疑似压缩炸弹或导出错误）",
        "file unpacks too large or holds too many cells: not read (a zip bomb or a bad export)",
    ),
    "encoding_error": (
        "文件编码无法识别（应为UTF-8或GBK，且全文一致）",
        "text encoding not recognised (UTF-8 or GBK, the same throughout)",
    ),
    "outside_link": (
        "该数据表是指向数据文件夹之外的链接：已读取并校验，请确认来源",
        "this table is a link to a file outside the data folder: read and checked; confirm where it comes from",
    ),
    "missing_table": ("缺少必需的数据表", "required table not found"),
    "ambiguous_table": ("同一数据表出现在多个文件中", "the same table is found in more than one file"),
    "missing_column": ("缺少必需列", "required column is missing"),
    "duplicate_column": (
        "同一列出现多次（中英文表头重复）",
        "column appears more than once (English and Chinese header)",
    ),
    "empty_id": ("机构编码为空", "institution id is empty"),
    "required_empty": ("必填项为空", "required value is empty"),
    "not_applicable_filled": (
        "该列不适用于此类机构，应留空（不得填0）",
        "column does not apply to this category: leave it empty (not zero)",
    ),
    "not_a_number": ("不是有效数值", "not a number"),
    "not_finite": ("数值为无穷大（inf），不是有效数值", "value is infinite (inf), not a figure"),
    "not_whole_number": ("户数、件数必须为非负整数", "counts must be whole numbers"),
    "negative": ("不得为负数", "must not be negative"),
    "out_of_range": ("数值超出合理范围", "value outside the plausible range"),
    "invalid_choice": ("取值不在允许范围内", "value is not one of the allowed values"),
    "invalid_period": ("数据期不是有效的年月", "period is not a valid year-month"),
    "period_not_month_end": ("数据期应为月末日期", "period must be a month-end date"),
    "invalid_quarter": ("季度格式应为 2023Q1", "quarter must look like 2023Q1"),
    "invalid_year": ("年度无效", "year is not valid"),
    "duplicate_key": ("记录重复", "duplicate record"),
    "unknown_institution": ("机构编码不在机构名录中", "institution id is not in the institutions table"),
    "npl_exceeds_balance": ("不良贷款大于贷款余额", "non-performing loans exceed the balance"),
    "inclusive_exceeds_total": ("普惠型小微企业贷款余额大于各项贷款余额", "inclusive loans exceed all loans"),
    "ytd_decreased": ("当年累计数较上月下降", "year-to-date figure fell within the year"),
    "implied_rate_out_of_range": (
        "累放利息收益÷累放金额得出的利率不在0–36%之间，请检查单位",
        "interest ÷ amount disbursed gives a rate outside 0–36%: check units",
    ),
    "missing_base_december": (
        "缺少上年12月基期数据（新设机构或年中开始报送）：较年初指标不适用，其余指标照常评价",
        (
            "prior December (start-of-year base) is missing (new institution or "
            "reporting from mid-year): start-of-year indicators are n/a, the rest are evaluated"
        ),
    ),
    "negative_plan": (
        "信贷计划新增额为负（计划压降）：少见，请确认；计划完成率不适用",
        "the planned increase is negative (a planned reduction): rare, please confirm; completion is n/a",
    ),
    "missing_plan": ("缺少该年度信贷计划", "no credit plan for this year"),
    "onlending_not_policy_bank": ("转贷款数据只能由政策性银行报送", "on-lending rows must belong to a policy bank"),
    "invalid_params": ("参数文件不符合要求", "parameter file is not valid"),
    "empty_table": ("数据表只有表头，没有数据行", "table has a header but no data rows"),
    "header_not_found": (
        "在表格前若干行中未找到表头（请检查标题行或合并表头）",
        "header row not found in the first rows (check title rows or merged headers)",
    ),
    "invalid_id": (
        "机构编码格式无效：只能由字母、数字、下划线和连字符组成，以字母或数字开头，最长32位",
        (
            "invalid institution id: letters, digits, '_' and '-' only, starting with a letter or "
            "digit, at most 32 characters"
        ),
    ),
    "control_character": (
        "含有不可见的控制字符（如换行、制表符或其他控制符），请删除",
        "contains an invisible control character: remove it",
    ),
    "text_too_long": ("文本过长，超过数据规范规定的长度上限", "text longer than the data contract allows"),
    "implausible_unit": (
        "数值与声明单位（万元）不符，疑似以亿元或元填报，请按万元填报",
        ("figure implausible in the declared unit (万元): probably given in 亿元 or 元; report it in 万元"),
    ),
    # nothing ignored in silence (issue 28): what the workbook does not read, it says
    "unknown_column": (
        "数据规范中没有此列：已忽略（未读取、未校验）",
        "the data contract does not know this column: ignored (not read, not checked)",
    ),
    "misnamed_table_file": (
        "文件名近似某数据表，但不是约定的表名：未读取",
        "the file is named like a table but not with a name the contract accepts: not read",
    ),
    "no_policy_year": (
        "数据含无考核规则参数（params/policy-YYYY.yaml）的年度：该年度指标不作考核判断",
        "data for a year without a policy file (params/policy-YYYY.yaml): its rows get no verdicts",
    ),
    "qualitative_without_scoring": (
        "定性评分表所属年度没有评分表参数（params/scoring-YYYY.yaml）：未读取",
        "qualitative scores for a year without a scoring table (params/scoring-YYYY.yaml): not read",
    ),
    # the financing coordination mechanism: 推荐清单 and 银行反馈 (analysis.inputs.financing)
    "formula_cell": (
        "单元格含公式：清单须填写数值而非公式，请粘贴为数值后重新报送",
        "a cell holds a formula: the list must hold values, not formulas; paste as values and resend",
    ),
    "invalid_date": ("不是有效日期", "not a valid date"),
    "future_date": ("日期晚于校验当日（未来日期）", "date after the day of the check (a future date)"),
    "invalid_flag": ("应填“是”或“否”", "must be 是 (yes) or 否 (no)"),
    "invalid_reason": (
        "未授信原因不在参数规定的原因清单中（params/financing.yaml）",
        "the reason for no credit is not in the closed list of params/financing.yaml",
    ),
    "financing_tables_unpaired": (
        "有银行反馈但没有推荐清单：反馈无从核对，未读取融资协调数据",
        "银行反馈 without its 推荐清单: the feedback cannot be checked, the mechanism's data were not read",
    ),
    "invalid_credit_code": (
        "统一社会信用代码无效（长度、字符或校验码不符合GB 32100-2015）：该行未计入指标，请核实后重报",
        "invalid unified social credit code (length, characters or check character, GB 32100-2015): the row is "
        "left out of the figures; check and resend",
    ),
    "dates_out_of_order": (
        "日期顺序错误（应为推荐≤对接≤授信≤放款，对接≤未授信）：该行未计入指标，请核实后重报",
        "dates out of order (推荐 ≤ 对接 ≤ 授信 ≤ 放款, 对接 ≤ 未授信): the row is left out of the figures; check and resend",
    ),
    "feedback_not_pushed": (
        "银行反馈了未向其推送的企业（推荐清单中无此企业与银行的组合）：该行未计入指标",
        "feedback on a firm never pushed to this bank (no such firm and bank on the 推荐清单): left out of the figures",
    ),
    "feedback_inconsistent": (
        "反馈内容自相矛盾（如有授信金额无授信日期、未授信却有放款、既授信又填未授信原因、未授信无原因）：该行未计入指标",
        "the feedback contradicts itself (an amount without its date, a loan without credit, credit and a reason "
        "for none, a refusal without a reason): the row is left out of the figures",
    ),
    "credit_above_need": (
        "授信金额超过企业融资需求的参数倍数（疑似单位为元或企业错配）：该行未计入指标",
        "credit granted above the firm's stated need by more than the factor in params (元 for 万元, or the wrong "
        "firm?): the row is left out of the figures",
    ),
    "no_feedback": (
        "已推送超过办结时限的企业尚无银行反馈（状态：未反馈）",
        "firms pushed longer ago than the decision window have no feedback from the bank (status: 未反馈)",
    ),
    # EAST 5.0 loan-level tables (analysis.inputs.east)
    "east_bad_date": (
        "日期不是YYYYMMDD格式的有效日期（年月为YYYYMM；99991231表示未到期/未设定）",
        "date is not a valid YYYYMMDD date (year-months YYYYMM; 99991231 means open)",
    ),
    "east_missing_date": ("该日期不可为空或99991231", "this date must not be empty or 99991231"),
    "east_bad_number": ("不是有效数值", "not a number"),
    "east_unknown_value": (
        "取值不在EAST映射参数中（params/east），未按“其他”处理",
        "value is not in the EAST value mapping (params/east); not read as 'other'",
    ),
    "east_unknown_licence": (
        "金融许可证号不在报送机构编码对照表中",
        "financial licence number is not in the org map (报送机构编码对照)",
    ),
    "east_no_org_map": (
        "未找到报送机构编码对照表（金融许可证号→机构编码），应放在借据文件旁或数据目录中",
        "no org map (licence -> institution id) beside the loan files or in the data folder",
    ),
    "east_unknown_currency": (
        "币种不是CNY且参数中没有该数据日期的汇率（params/east/fx-rates.yaml）",
        "currency is not CNY and has no rate for the data date (params/east/fx-rates.yaml)",
    ),
    "east_no_version": ("采集日期早于EAST版本的适用日期", "data date precedes the EAST version in params"),
    "east_duplicate_customer": (
        "同一机构同一客户统一编号在对公与个人客户表中重复",
        "the same customer number appears in the corporate and the personal table of one bank",
    ),
    "missing_id_number": (
        "客户统一编号是各行自编号，跨行识别需要证件号码列",
        "客户统一编号 is each bank's own number: a 证件号码 column is needed to match across banks",
    ),
    "east_not_finite": (
        "金额或利率为无穷大（inf）或非数（NaN），不是有效数值",
        "amount or rate is infinite (inf) or not a number (NaN): not a figure",
    ),
    "east_duplicate_key": (
        "同一机构同一采集日期中主键重复（如同一信贷借据号出现两次）：重复记录会被重复计算",
        "the same key (e.g. one 信贷借据号) twice in one bank's snapshot (采集日期): it would be counted twice",
    ),
    "east_file_cut": (
        "文件在一个字符中间结束，疑似传输不完整被截断",
        "the file ends inside a character: it was cut short (an incomplete transfer)",
    ),
    "east_cache_foreign": (
        "缓存目录属于其他用户或不是目录，拒绝使用：请删除它，或将 ANALYSIS_CACHE_DIR 设为本人的目录",
        "the cache folder belongs to another user or is not a folder: not used; remove it or set "
        "ANALYSIS_CACHE_DIR to a folder of your own",
    ),
    # S71 returns (analysis.inputs.s71)
    "s71_unknown_item": ("项目编码不属于该版本S71报表", "item code is not a cell of this S71 form version"),
    "s71_duplicate_cell": ("同一机构同一期同一单元格重复报送", "the same cell is reported more than once"),
    "s71_missing_cell": ("缺少映射所需的S71单元格", "a cell the mapping needs is missing"),
    "s71_no_form_version": ("数据日期没有适用的S71报表版本", "no S71 form version applies to this data date"),
    "s71_wrong_report": ("文件中没有S71报表数据（报表编号不符）", "no S71 rows in the file (report number)"),
    "s71_layout": (
        "无法识别S71表样（表头、机构编码或数据日期）",
        "S71 form layout not recognised (headers, institution code or data date)",
    ),
    "s71_unknown_unit": ("无法识别的金额单位（应为元、万元或亿元）", "unknown unit (use 元, 万元 or 亿元)"),
    "s71_unit_conflict": ("表内单位与声明单位不一致", "the unit stated in the form contradicts the declared unit"),
    "s71_unit_implausible": (
        "按声明单位换算后数值不合理，可能单位有误",
        "figures are implausible in the declared unit: likely a unit error",
    ),
    "s71_conflicting_value": (
        "同一指标在S71与月度监测表中取值不同",
        "the same figure is given by S71 and the monitoring table with different values",
    ),
    "s71_detail_duplicate": (
        "明细报表中同一单元格的同一借据（计数单元格为同一客户）出现多次",
        "a detail export lists the same loan (for a count cell, the same customer) twice for one cell",
    ),
    # S71 table checks (表内校验, analysis.inputs.s71.form): findings, not refusals
    "s71_check_total": (
        "表内校验：报送的合计数不等于其各组成项之和",
        "table check: a written total differs from the sum of its parts",
    ),
    "s71_check_limit": (
        "表内校验：其中项大于其所属项",
        "table check: a part (其中项) exceeds its whole",
    ),
    "s71_negative_cell": (
        "S71单元格为余额、户数或当年累计数，不得为负数",
        "an S71 cell is a balance, a count or a year-to-date sum: it cannot be negative",
    ),
    # the output folder of analysis import-s71 (imports never delete or overwrite what they did not write)
    "s71_out_foreign": (
        "输出文件夹中有不是S71导入写出的文件：未写入任何文件（导入不删除、不覆盖这些文件）",
        "the output folder holds files no S71 import wrote: nothing written (an import never deletes or "
        "overwrites them)",
    ),
    "s71_out_edited": (
        "上次导入写出的文件此后被修改过：未覆盖，未写入任何文件",
        "a file the last import wrote has been changed since: not overwritten, nothing written",
    ),
}

#: Rules that do not stop the data being used: reported by ``analysis validate`` as warnings.
WARNING_RULES: frozenset[str] = frozenset(
    {
        "missing_base_december",
        "s71_check_total",
        "s71_check_limit",
        "negative_plan",
        "outside_link",
        "unknown_column",
        "misnamed_table_file",
        "no_policy_year",
        "qualitative_without_scoring",
        # the financing coordination mechanism: a bad row is reported to its bank and left out of the
        # figures, the rest of the city's data are used
        "invalid_credit_code",
        "dates_out_of_order",
        "feedback_not_pushed",
        "feedback_inconsistent",
        "credit_above_need",
        "no_feedback",
        "financing_tables_unpaired",
    }
)


@dataclass(frozen=True)
class Issue:
    """One problem in one cell (or one record, or one file)."""

    file: str
    row: int | None
    column: str | None
    rule: str
    detail: str = ""

    @property
    def message_zh(self) -> str:
        return RULES[self.rule][0]

    @property
    def message_en(self) -> str:
        return RULES[self.rule][1]

    def format(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" 第{self.row}行/row {self.row}"
        if self.column:
            where += f" 列/column {self.column}"
        detail = f" — {self.detail}" if self.detail else ""
        return f"{where}: [{self.rule}] {self.message_zh} / {self.message_en}{detail}"


class AnalysisError(Exception):
    """Base of every error a user can cause and act on (错误基类): bad data, bad parameters, a
    report asked for something that does not exist, a missing font.

    Built from a Chinese and an English message (or one text that already holds both);
    ``str()`` prints both. ``exit_code`` is what the command line returns.
    """

    exit_code: int = 1

    def __init__(self, message_zh: str, message_en: str | None = None):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(message_zh if message_en is None else f"{message_zh} / {message_en}")

    def __str__(self) -> str:
        return self.message_zh if self.message_en is None else f"{self.message_zh} / {self.message_en}"


class DataValidationError(AnalysisError):
    """Raised with every problem found; nothing has been written when it is raised.

    ``warnings`` (rules of :data:`WARNING_RULES`) are listed after the problems.
    """

    def __init__(self, issues: list[Issue], warnings: list[Issue] | None = None):
        self.issues = issues
        self.warnings = list(warnings or [])
        text = format_report(issues)
        if self.warnings:
            text += "\n\n" + format_warnings(self.warnings)
        super().__init__(text)


class ParamsError(AnalysisError):
    """A parameter file (params/*.yaml) failed its validation."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        lines = [f"参数文件无效 / invalid parameter file: {path}"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class ReportInputError(AnalysisError, ValueError):
    """A report cannot be made for these parameters (unknown id, no data for the period).

    A usage error: the command line exits with 2."""


def _summary(issues: list[Issue]) -> list[str]:
    counts: dict[str, int] = {}
    for issue in issues:
        counts[issue.rule] = counts.get(issue.rule, 0) + 1
    lines = []
    for rule, n in counts.items():
        zh, en = RULES[rule]
        lines.append(f"  {n:>5} × [{rule}] {zh} / {en}")
    return lines


def format_report(issues: list[Issue]) -> str:
    """The report printed by ``analysis validate``: a summary by rule, then every problem."""
    if not issues:
        return "数据校验通过 / validation passed"
    lines = [f"数据校验未通过：共 {len(issues)} 个问题 / validation failed: {len(issues)} problem(s)"]
    lines += _summary(issues)
    lines.append("")
    lines += [issue.format() for issue in issues]
    return "\n".join(lines)


def format_warnings(warnings: list[Issue]) -> str:
    """The warnings of an accepted dataset (数据校验提示), as ``analysis validate`` prints them:
    a summary by rule, then every warning with file, row, column and rule. Empty when none."""
    if not warnings:
        return ""
    lines = [
        (
            f"提示：共 {len(warnings)} 条，数据可用，相关指标不适用 / "
            f"warnings: {len(warnings)}; the data are usable, the affected indicators are n/a"
        )
    ]
    lines += _summary(warnings)
    lines.append("")
    lines += ["提示/warning " + w.format() for w in warnings]
    return "\n".join(lines)
