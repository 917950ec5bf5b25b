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

SETUP = ("from analysis import charts, report\n\nctx = report.institution_context(institution_id, period, data_dir, "
         "params_dir, sector={sector!r})\ncharts.setup();")
PROVENANCE = ('report.provenance(ctx, {"institution_id": institution_id, "period": period, '
              '"data_dir": data_dir, "params_dir": params_dir})')


def bank_report():
    cells = [
        md("# 机构评价报告（银行业机构）\n\n" + PARAMS_NOTE, hidden=True),
        code('institution_id = "B017"\nperiod = "2023-12"\ndata_dir = "data/demo"\nparams_dir = "params"',
             tags=["parameters"]),
        code(SETUP.format(sector="bank"), tags=["remove_cell"]),
        code("report.header(ctx)"),
        md("## 一、考核结论"),
        code("report.verdict_panel(ctx)"),
        md("## 二、指标明细"),
        code("report.indicator_table(ctx)"),
        md("## 三、同业比较\n\n同业情况仅以排名、百分位和同类汇总值反映，不列示其他机构名称及数据。"),
        code("report.peer_table(ctx)"),
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
        md("## 五、监管评价评分"),
        code("report.score_card(ctx)"),
        md("## 六、主要问题与监管建议"),
        code("report.findings_section(ctx)"),
        md("## 附录一 报送数据明细（本机构当年各月）"),
        code("report.data_appendix(ctx)"),
        md("## 附录二 报告来源信息"),
        code(PROVENANCE),
    ]
    return new_notebook(cells=cells, metadata=KERNEL)


def insurer_report():
    cells = [
        md("# 机构评价报告（保险机构）\n\n" + PARAMS_NOTE, hidden=True),
        code('institution_id = "I003"\nperiod = "2023-12"\ndata_dir = "data/demo"\nparams_dir = "params"',
             tags=["parameters"]),
        code(SETUP.format(sector="insurer"), tags=["remove_cell"]),
        code("report.header(ctx)"),
        md("## 一、考核结论"),
        code("report.verdict_panel(ctx)"),
        md("## 二、指标明细"),
        code("report.indicator_table(ctx)"),
        md("## 三、同业比较\n\n同业情况仅以排名、百分位和同类汇总值反映，不列示其他机构名称及数据。"),
        code("report.peer_table(ctx)"),
        md("## 四、图表分析\n\n### （一）小微企业保险保费收入与保额"),
        code("charts.insurance_premium(ctx)"),
        md("### （二）同比变化"),
        code("charts.insurance_yoy(ctx)"),
        md("## 五、主要问题与监管建议"),
        code("report.findings_section(ctx)"),
        md("## 附录一 报送数据明细（本机构当年各月）"),
        code("report.data_appendix(ctx)"),
        md("## 附录二 报告来源信息"),
        code(PROVENANCE),
    ]
    return new_notebook(cells=cells, metadata=KERNEL)


def city_overview():
    cells = [
        md("# 全市小微企业金融服务情况总览\n\n" + PARAMS_NOTE, hidden=True),
        code('period = "2023-12"\ndata_dir = "data/demo"\nparams_dir = "params"', tags=["parameters"]),
        code("from analysis import charts, overview\n\nctx = overview.city_context(period, data_dir, params_dir)\n"
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
        md("## 七、保险机构小微企业保险"),
        code("overview.insurance_table(ctx)"),
        md("## 八、政策性银行转贷款"),
        code("overview.onlending_table(ctx)"),
        md("## 九、监管评价评分排名"),
        code("overview.score_ranking(ctx)"),
        md("### 评价等级分布（分机构类型）"),
        code("overview.grade_distribution(ctx, 'category')"),
        md("### 评价等级分布（分监管科室）"),
        code("overview.grade_distribution(ctx, 'division')"),
        md("## 附录 报告来源信息"),
        code('overview.provenance(ctx, {"period": period, "data_dir": data_dir, "params_dir": params_dir})'),
    ]
    return new_notebook(cells=cells, metadata=KERNEL)


if __name__ == "__main__":
    for name, nb in (("institution_report", bank_report()), ("insurer_report", insurer_report()),
                     ("city_overview", city_overview())):
        nbformat.write(nb, ROOT / "notebooks" / f"{name}.ipynb")
        print("wrote", name)
