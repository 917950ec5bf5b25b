"""Write the report notebooks (run once when their cell layout changes; the .ipynb files are
committed, without outputs). Analysts edit the notebooks in JupyterLab directly afterwards."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3 (analysis)", "language": "python"},
          "language_info": {"name": "python"}}


def md(text, hidden=False):
    cell = new_markdown_cell(text)
    if hidden:
        cell.metadata["tags"] = ["remove_cell"]
    return cell


def code(text, tags=()):
    cell = new_code_cell(text)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


PARAMS_NOTE = ("**使用说明 / How to use** (this cell is not shown in reports): edit the parameters cell below "
               "and run all cells, or run many institutions at once with `analysis run --period 2023-12`. "
               "Paths are relative to the project folder. All logic lives in `src/analysis/`; this notebook "
               "only calls it and shows the results.")

SETUP = ("from analysis import charts, modelreport, report\n\nctx = report.institution_context(institution_id, period, data_dir, "
         "params_dir, sector={sector!r})\ncharts.setup();")
PROVENANCE = ('report.provenance(ctx, {"institution_id": institution_id, "period": period, '
              '"data_dir": data_dir, "params_dir": params_dir})')


def _opening(title: str, example_id: str, sector: str) -> list:
    """Cells every institution report starts with: note, parameters, setup, header, verdicts, table, peers."""
    return [
        md(f"# {title}\n\n" + PARAMS_NOTE, hidden=True),
        code(f'institution_id = "{example_id}"\nperiod = "2023-12"\ndata_dir = "data/demo"\nparams_dir = "params"',
             tags=["parameters"]),
        code(SETUP.format(sector=sector), tags=["remove_cell"]),
        code("report.header(ctx)"),
        md("## 一、考核结论"),
        code("report.verdict_panel(ctx)"),
        md("## 二、指标明细"),
        code("report.indicator_table(ctx)"),
        md("## 三、同业比较\n\n同业情况仅以排名、百分位和同类汇总值反映，不列示其他机构名称及数据。"),
        code("report.peer_table(ctx)"),
    ]


def _closing(findings_heading: str, appendices: list[tuple[str, str]]) -> list:
    """Findings, the institution's own data and the numbered appendices, provenance last."""
    cells = [md(findings_heading), code("report.findings_section(ctx)"),
             md("## 附录一 报送数据明细（本机构当年各月）"), code("report.data_appendix(ctx)")]
    numbers = "二三四五"
    for i, (heading, source) in enumerate([*appendices, ("报告来源信息", PROVENANCE)]):
        cells += [md(f"## 附录{numbers[i]} {heading}"), code(source)]
    return cells


def bank_report():
    cells = _opening("机构评价报告（银行业机构）", "B017", "bank") + [
        md("## 四、图表分析\n\n### （一）普惠型小微企业贷款余额与信贷计划进度"),
        code("charts.inclusive_vs_plan(ctx)"),
        md("### （二）“两增”：贷款增速"),
        code("charts.ytd_growth(ctx)"),
        md("### （三）“两增”：贷款户数"),
        code("charts.borrowers(ctx)"),
        md("### （四）新发放贷款利率"),
        code("charts.rate_against_peers(ctx)"),
        md("### （五）资产质量"),
        code("charts.npl_against_tolerance(ctx)"),
        md("### （六）结构指标"),
        code("charts.structure(ctx)"),
        md("## 五、趋势模型与年末预警"),
        code("modelreport.model_section(ctx)"),
        md("### （一）普惠型小微企业贷款年末预测"),
        code("modelreport.forecast_chart(ctx)"),
        md("### （二）新发放贷款利率趋势"),
        code("modelreport.rate_trend_chart(ctx)"),
        md("## 六、监管评价评分"),
        code("report.score_card(ctx)"),
    ] + _closing("## 七、主要问题与监管建议", [("模型诊断", "modelreport.diagnostics(ctx)")])
    return new_notebook(cells=cells, metadata=KERNEL)


def insurer_report():
    cells = _opening("机构评价报告（保险机构）", "I003", "insurer") + [
        md("## 四、图表分析\n\n### （一）小微企业保险保费收入与保额"),
        code("charts.insurance_premium(ctx)"),
        md("### （二）同比变化"),
        code("charts.insurance_yoy(ctx)"),
    ] + _closing("## 五、主要问题与监管建议", [])
    return new_notebook(cells=cells, metadata=KERNEL)


def city_overview():
    cells = [
        md("# 全市小微企业金融服务情况总览\n\n" + PARAMS_NOTE, hidden=True),
        code('period = "2023-12"\ndata_dir = "data/demo"\nparams_dir = "params"', tags=["parameters"]),
        code("from analysis import charts, modelreport, overview\n\nctx = overview.city_context(period, data_dir, params_dir)\n"
             "charts.setup();", tags=["remove_cell"]),
        code("overview.header(ctx)"),
        md("## 一、全市重点通报指标"),
        code("overview.citywide_section(ctx)"),
        md("## 二、分机构类型情况"),
        code("overview.by_group(ctx, 'category')"),
        md("## 三、分监管科室情况"),
        code("overview.by_group(ctx, 'division')"),
        md("## 四、未达标机构名单"),
        code("overview.missing_targets(ctx)"),
        md("## 五、县域普惠型小微企业贷款增长\n\n通知第（六）条要求改善区域信贷资源投放的均衡性。"),
        code("overview.county_table(ctx)"),
        code("overview.county_chart(ctx)"),
        md("## 六、新发放贷款利率（分机构类型）"),
        code("overview.rate_chart(ctx)"),
        code("modelreport.peer_flags(ctx)"),
        md("## 七、保险机构小微企业保险"),
        code("overview.insurance_table(ctx)"),
        md("## 八、政策性银行转贷款"),
        code("overview.onlending_table(ctx)"),
        md("## 九、年末预警：需重点关注的机构"),
        code("modelreport.early_warning_table(ctx)"),
        md("## 十、监管评价评分排名"),
        code("overview.score_ranking(ctx)"),
        md("### 评价等级分布（分机构类型）"),
        code("overview.grade_distribution(ctx, 'category')"),
        md("### 评价等级分布（分监管科室）"),
        code("overview.grade_distribution(ctx, 'division')"),
        md("## 附录 报告来源信息"),
        code('overview.provenance(ctx, {"period": period, "data_dir": data_dir, "params_dir": params_dir})'),
    ]
    return new_notebook(cells=cells, metadata=KERNEL)


def model_validation():
    cells = [
        md("# 模型回测（Model validation）\n\nForecasts made at each month from March to September against the "
           "December outcome. Edit the parameters to backtest other years or months.", hidden=True),
        code('years = [2022, 2023]\nmonths = [3, 4, 5, 6, 7, 8, 9]\ndata_dir = "data/demo"\nparams_dir = "params"',
             tags=["parameters"]),
        code("from analysis import charts, modelreport, models\nfrom analysis.state import load_state\n\n"
             "state = load_state(data_dir, params_dir)\ncharts.setup()\n"
             "bt = models.backtest(state, years, months)\nsummary = models.backtest_summary(bt)", tags=["remove_cell"]),
        md("# 年末预警模型回测\n\n在 3—9 月各月末，仅用当时已有的数据预测当年 12 月末结果，与实际结果比较。"
           "Brier 分数越低越好；基准为“基础比率”预测（对每家机构都给出当年实际达标机构的比例），"
           "技巧分数大于 0 表示模型优于基准。区间覆盖率为 12 月末实际值落在 90% 预测区间内的比例。"),
        code("modelreport.backtest_table(summary)"),
        md("## 校准图"),
        code("modelreport.calibration_chart(bt)"),
        md("## 分预测月份（“两增”）"),
        code("modelreport.backtest_by_month(bt)"),
    ]
    return new_notebook(cells=cells, metadata=KERNEL)


if __name__ == "__main__":
    for name, nb in (("institution_report", bank_report()), ("insurer_report", insurer_report()),
                     ("city_overview", city_overview()), ("model_validation", model_validation())):
        nbformat.write(nb, ROOT / "notebooks" / f"{name}.ipynb")
        print("wrote", name)
