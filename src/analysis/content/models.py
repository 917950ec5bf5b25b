"""Model results in the reports: Chinese readings, forecast and early-warning tables, diagnostics,
charts with trend lines and prediction intervals, and the backtest's figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from analysis.content.display import HTML, bullet_list, esc, fmt_number, frame_table
from analysis.core.periods import month_label
from analysis.models import STATUS_TEXT, ModelResults, ModelSpec, Validation, load_models

if TYPE_CHECKING:  # annotations only; report and overview never import this module
    from analysis.content.institution import InstitutionContext
    from analysis.content.overview import CityContext

SERIES_LABELS = {
    "inclusive_balance_assessed": ("普惠型小微企业贷款余额", "万元"),
    "total_loans": ("各项贷款余额", "万元"),
    "inclusive_borrowers": ("有贷款余额户数", "户"),
}
TARGET_LABELS = {
    "p_growth_leg": "“两增”·增速",
    "p_borrowers_leg": "“两增”·户数",
    "p_two_increases": "“两增”",
    "p_plan": "信贷计划",
}


#: the year-end targets named without any year's rule (a calibration record of another year)
NEUTRAL_TARGETS = {
    "p_two_increases": "数量目标",
    "p_growth_leg": "增速",
    "p_borrowers_leg": "户数",
    "p_plan": "信贷计划",
}


def target_labels(policy) -> dict[str, str]:
    """The year-end probabilities the year's rules give, named as the year's notice names its rules:
    without a borrower leg the target is the growth leg alone (one probability, not three)."""
    if policy.two_increases is None:
        return {"p_plan": TARGET_LABELS["p_plan"]} if policy.plan is not None else {}
    if policy.in_force("borrowers_leg"):
        labels = {
            "p_two_increases": policy.label("two_increases"),
            "p_growth_leg": policy.label("growth_leg"),
            "p_borrowers_leg": policy.label("borrowers_leg"),
        }
    else:
        labels = {"p_two_increases": policy.label("two_increases")}
    return {**labels, **({"p_plan": TARGET_LABELS["p_plan"]} if policy.plan is not None else {})}


def models_for(ctx: InstitutionContext) -> ModelResults:
    """This bank's models: read from the all-bank cache when the batch wrote it, else fitted for
    this bank alone (plus the shared peer model), so one notebook opened in JupyterLab does not
    fit every bank (:func:`analysis.models.load_models`)."""
    return load_models(ctx.state, ctx.period, institution_id=ctx.institution_id)


def _pct(p) -> str:
    return "—" if p is None or p != p else f"{p * 100:.0f}%"


def readings(ctx: InstitutionContext) -> list[str]:
    """Short Chinese readings of the models for one bank."""
    m = models_for(ctx)
    out = []
    trend = (
        m.rate_trends.set_index("institution_id").loc[ctx.institution_id]
        if ctx.institution_id in set(m.rate_trends["institution_id"])
        else None
    )
    level = int(m.spec.rate_trend.confidence * 100)
    if trend is None or trend["status"] == "insufficient":
        out.append("新发放贷款利率：历史数据不足，未拟合趋势模型。")
    else:
        direction = "下降" if trend["slope_bp"] < 0 else "上升"
        significant = _significance(trend["slope_p"], m.spec, "趋势")
        simple = "（样本较短，未含月度季节效应）" if trend["status"] == "fallback" else ""
        out.append(
            f"新发放利率每月{direction}约 {abs(trend['slope_bp']):.1f} 个基点，{level}% 置信区间 "
            f"{trend['slope_lo']:.1f} ~ {trend['slope_hi']:.1f} 个基点/月，{significant}{simple}。"
        )
        if trend["level_bp"] == trend["level_bp"]:
            word = "低" if trend["level_bp"] < 0 else "高"
            test = _significance(trend["level_p"], m.spec, "差异")
            out.append(
                f"扣除月度季节因素后，{ctx.year}年利率水平较上年同期{word} {abs(trend['level_bp']):.0f} 个基点"
                f"（{level}% 置信区间 {trend['level_lo']:.0f} ~ {trend['level_hi']:.0f}，p = {trend['level_p']:.3f}，{test}）。"
            )
    peer = m.peer_effects.set_index("institution_id")
    if ctx.institution_id in peer.index:
        p = peer.loc[ctx.institution_id]
        word = "高于" if p["deviation_bp"] >= 0 else "低于"
        flag = "，属利率明显高于同类的机构" if p["flagged"] else ""
        out.append(
            f"混合效应模型：本机构本期利率{word}同类机构平均水平约 {abs(p['deviation_bp']):.0f} 个基点"
            f"（{int(m.spec.peer_model.confidence * 100)}% 区间 {p['deviation_lo']:.0f} ~ {p['deviation_hi']:.0f}）{flag}。"
        )
    w = m.warnings.set_index("institution_id")
    if ctx.institution_id in w.index and ctx.period.month < 12:
        r = w.loc[ctx.institution_id]
        parts = [f"{label} {_pct(r[k])}" for k, label in target_labels(ctx.policy).items() if r[k] == r[k]]
        if parts:
            out.append("按当前趋势预测，年末达标概率：" + "，".join(parts) + f"（{calibration_text(m.spec)}）。")
    return out


def _significance(p: float, spec: ModelSpec, what: str) -> str:
    """ "显著" only from the size-corrected test; with the Newey–West option the reading says it
    is not size-corrected and never calls the result significant."""
    alpha = 1 - spec.rate_trend.confidence
    if spec.rate_trend.test.method == "newey_west":
        return f"{what}的 p = {p:.3f}（Newey–West 检验，短样本下检验水平偏高，不作显著性判断）"
    return f"{what}统计上显著" if p < alpha else f"{what}统计上不显著"


def calibration_text(spec: ModelSpec) -> str:
    """Where the probabilities' error scale comes from, from params/models.yaml (never hard-coded)."""
    cal = spec.forecast.calibration
    if cal is None:
        return f"误差放大系数 {spec.forecast.error_scale:g} 未经样本外校准"
    return f"校准于 {cal.years_text} 年，{cal.evaluated_year} 年回测可靠性见附录"


def model_section(ctx: InstitutionContext) -> HTML:
    m = models_for(ctx)
    html = bullet_list(readings(ctx), "readings")
    fc = m.forecasts[m.forecasts["institution_id"] == ctx.institution_id]
    if ctx.period.month < 12 and not fc.empty:
        rows = []
        for r in fc.itertuples():
            label, unit = SERIES_LABELS.get(r.series, (r.series, ""))
            digits = 0 if unit == "户" else 2
            if (
                r.status == "insufficient"
                or not isinstance(getattr(r, "forecast", None), float)
                or r.forecast != r.forecast
            ):
                rows.append((label, fmt_number(r.last, digits), "—", "—", STATUS_TEXT.get(r.status, r.status)))
            else:
                rows.append(
                    (
                        label,
                        fmt_number(r.last, digits),
                        fmt_number(r.forecast, digits),
                        f"{fmt_number(r.lo, digits)} ~ {fmt_number(r.hi, digits)}",
                        f"{r.model}（{STATUS_TEXT.get(r.status, r.status)}）",
                    )
                )
        interval = f"{int(m.spec.forecast.interval * 100)}% 预测区间"
        columns = ["指标", f"{month_label(ctx.period)}末", f"{ctx.year}年末预测（中位数）", interval, "模型"]
        html += frame_table(pd.DataFrame(rows, columns=columns))
    return html


def diagnostics(ctx: InstitutionContext) -> HTML:
    """Model diagnostics (模型诊断) for the appendix."""
    m = models_for(ctx)
    rows = []
    t = m.rate_trends.set_index("institution_id")
    if ctx.institution_id in t.index:
        r = t.loc[ctx.institution_id]
        test = m.spec.rate_trend.test
        simulated = "，AR(1) 模拟临界值" if test.method == "bootstrap" else ""
        how = (
            f"Newey–West 滞后阶数 {m.spec.rate_trend.hac_maxlags}"
            if test.method == "newey_west"
            else f"固定 b 检验（Bartlett 核，b = {test.bandwidth:g}）{simulated}"
        )
        rows.append(
            (
                "利率趋势（OLS，HAC 标准误）",
                r["formula"] or "—",
                f"n = {int(r['n'])}",
                f"R² = {fmt_number(r['r2'], 3)}；{how}",
                STATUS_TEXT.get(r["status"], r["status"]),
            )
        )
    info = m.peer_info
    rows.append(
        (
            "同业混合效应模型（MixedLM）",
            f"{m.spec.peer_model.formula}，随机效应 {info.get('re_formula') or '—'}",
            f"{info.get('n_groups', 0)} 家，{info.get('n_obs', 0)} 个观测",
            f"机构间方差 {fmt_number(info.get('group_variance', np.nan), 4)}；残差方差 "
            f"{fmt_number(info.get('residual_variance', np.nan), 4)}",
            STATUS_TEXT.get(str(info.get("status", "")), ""),
        )
    )
    for r in m.forecasts[m.forecasts["institution_id"] == ctx.institution_id].itertuples():
        label = SERIES_LABELS.get(r.series, (r.series,))[0]
        rows.append(
            (
                f"预测：{label}（ETS，对数）",
                r.model or "—",
                f"n = {r.n}",
                f"AICc = {fmt_number(r.aicc, 1)}；Ljung-Box p = {fmt_number(r.ljung_box_p, 3)}",
                STATUS_TEXT.get(r.status, r.status),
            )
        )
    cal = m.spec.forecast.calibration
    if cal is not None:
        months = "、".join(f"{k}月" for k in cal.origin_months)
        # the record describes a past backtest (on that year's targets): named by the year's rules when
        # the report's year has them, else neutrally (数量目标), never by a rule the year lacks
        year_labels = target_labels(ctx.policy)
        if not ctx.policy.in_force("borrowers_leg"):
            year_labels = {k: v for k, v in year_labels.items() if k == "p_plan"}
        skill = "，".join(f"{year_labels.get(k) or NEUTRAL_TARGETS.get(k, k)} {v:.2f}" for k, v in cal.skill.items())
        cover = "，".join(f"提前 {h} 个月 {c:.0%}" for h, c in sorted(cal.coverage_by_horizon.items(), reverse=True))
        scored = "；".join(
            x
            for x in (
                f"Brier 技巧分数 {skill}" if skill else "",
                f"{m.spec.forecast.interval:.0%} 区间覆盖率 {cover}" if cover else "",
            )
            if x
        )
        rows.append(
            (
                "年末达标概率（ETS 联合模拟）",
                f"误差放大系数 {m.spec.forecast.error_scale:g}",
                f"校准于 {cal.years_text} 年各{months}末" + (f"，{cal.banks} 家银行" if cal.banks else ""),
                f"{cal.evaluated_year} 年样本外回测：{scored or '见 notebooks/model_validation.ipynb'}",
                "样本外校准",
            )
        )
    frame = pd.DataFrame(rows, columns=["模型", "设定", "样本", "拟合与诊断", "状态"])
    return frame_table(frame, css_class="data diagnostics")


def year_end_known(ctx: InstitutionContext) -> bool:
    """True at a year-end period (December): the year's actual figure is known, nothing to forecast."""
    return ctx.period.month == 12


def forecast_heading(ctx: InstitutionContext) -> HTML:
    """The heading of the balance chart: the year-end forecast mid-year, the year's actual figure
    at the year end (年末实际), never a forecast of a figure already reported."""
    what = "全年走势与年末实际" if year_end_known(ctx) else "年末预测"
    return HTML(f"<h3>（一）普惠型小微企业贷款{esc(what)}</h3>")


def forecast_chart(ctx: InstitutionContext) -> Figure:
    """Inclusive balance this year and the plan; mid-year its forecast to December with the
    prediction interval, at the year end (December) the year's actual figure instead."""
    m = models_for(ctx)
    fig = Figure(figsize=(8, 3.4), layout="constrained")
    ax = fig.subplots()
    h = ctx.history[(ctx.history["year"] == ctx.year) & (ctx.history["period"] <= ctx.period)]
    ax.plot(h["month"], h["inclusive_balance_assessed"], marker="o", color="#1f4e9a", lw=2, label="实际余额")
    forecast_drawn = False
    paths = m.forecast_paths
    if not year_end_known(ctx) and not paths.empty:
        p = paths[(paths["institution_id"] == ctx.institution_id) & (paths["series"] == "inclusive_balance_assessed")]
        if not p.empty:
            months = [ctx.period.month, *p["period"].dt.month]
            last = h["inclusive_balance_assessed"].iloc[-1]
            ax.plot(months, [last, *p["mean"]], ls="--", color="#1f4e9a", lw=1.5, label="预测（中位数）")
            ax.fill_between(
                months,
                [last, *p["lo"]],
                [last, *p["hi"]],
                color="#c9d3e3",
                alpha=0.8,
                label=f"{int(m.spec.forecast.interval * 100)}% 预测区间",
            )
            forecast_drawn = True
    if year_end_known(ctx) and not h.empty:
        actual = h["inclusive_balance_assessed"].iloc[-1]
        if actual == actual:
            ax.annotate(
                f"年末实际 {actual:,.2f}",
                (h["month"].iloc[-1], actual),
                textcoords="offset points",
                xytext=(-8, 10),
                ha="right",
                fontsize=8,
                color="#1f4e9a",
            )
    base, plan = ctx.row["inclusive_balance_base"], ctx.row["planned_increase"]
    if base == base and plan == plan:
        ax.axhline(base + plan, color="#c0392b", ls=":", lw=1.3, label=f"全年计划目标 {base + plan:,.0f}")
    ax.set_xticks(range(1, 13), [f"{i}月" for i in range(1, 13)], fontsize=8)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("万元")
    if year_end_known(ctx):
        title = f"{ctx.year}年末实际（全年走势）"
    elif forecast_drawn:
        title = f"{ctx.year}年末预测"
    else:
        title = f"{ctx.year}年走势"
    ax.set_title(f"普惠型小微企业贷款余额：{title}")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def rate_trend_chart(ctx: InstitutionContext) -> Figure:
    """Monthly rate with the fitted trend (month effects included) and its confidence band."""
    m = models_for(ctx)
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.subplots()
    h = ctx.history[ctx.history["period"] <= ctx.period]
    ax.plot(
        h["period"], h["month_new_loan_rate_pct"], color="#1f4e9a", marker="o", ms=3, lw=1.5, label="当月新发放利率"
    )
    fits = m.rate_fits
    if not fits.empty:
        f = fits[fits["institution_id"] == ctx.institution_id]
        if not f.empty:
            ax.plot(f["period"], f["trend"], color="#c0392b", lw=1.4, label="趋势模型拟合值（含月度效应）")
            ax.fill_between(
                f["period"],
                f["trend_lo"],
                f["trend_hi"],
                color="#c0392b",
                alpha=0.15,
                label=f"{int(m.spec.rate_trend.confidence * 100)}% 置信带",
            )
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.1f}%"))
    ax.set_title("新发放普惠型小微企业贷款利率趋势")
    ax.legend(fontsize=8)
    return fig


# --- overview ---------------------------------------------------------------------------------


def early_warning_table(city: CityContext) -> HTML:
    """Banks whose year-end probability of 两增 or the plan is below the threshold (需重点关注)."""
    m = load_models(city.state, city.period)
    w = m.warnings
    threshold = m.spec.early_warning.probability_threshold
    if city.period.month == 12:
        return HTML('<p class="note">12月末为年度结果，预警以年中各期为准。</p>')
    if w.empty:
        return HTML('<p class="note">无可预测的机构。</p>')
    labels = target_labels(city.policy)
    flagged = w[w["attention"]].copy()
    flagged["min_p"] = flagged[[k for k in ("p_two_increases", "p_plan") if k in labels]].min(axis=1)
    flagged = flagged.sort_values("min_p")
    targets = "或".join(labels[k] for k in ("p_two_increases", "p_plan") if k in labels)
    note = HTML(
        f'<p class="note">按当前各机构趋势模拟年末结果，{esc(targets)}达标概率低于 {threshold:.0%} 的机构'
        f"（共 {len(flagged)} 家）建议近期走访督导。概率由 ETS 模型联合模拟（普惠贷款、各项贷款、户数误差相关）得出，"
        f"{esc(calibration_text(m.spec))}。</p>"
    )
    if flagged.empty:
        return note
    legs = {"p_growth_leg": "其中增速", "p_borrowers_leg": "其中户数"}
    frame = pd.DataFrame(
        {
            "机构编码": flagged["institution_id"],
            "机构名称": flagged["name"],
            "机构类型": flagged["category"],
            "监管科室": flagged["division"],
            **{legs.get(k, label): flagged[k].map(_pct) for k, label in labels.items()},
        }
    )
    return note + frame_table(frame)


def peer_flags(city: CityContext) -> HTML:
    m = load_models(city.state, city.period)
    peers = m.peer_effects
    if peers.empty:
        return HTML(
            f'<p class="note">同业混合效应模型：{esc(STATUS_TEXT.get(str(m.peer_info.get("status", "")), ""))}。</p>'
        )
    names = city.state.dataset.institutions.set_index("institution_id")
    flagged = peers[peers["flagged"]].sort_values("deviation_bp", ascending=False)
    lines = [
        f"{names.loc[r.institution_id, 'name']}（{names.loc[r.institution_id, 'category']}）：高于同类平均 "
        f"{r.deviation_bp:.0f} 个基点（区间 {r.deviation_lo:.0f} ~ {r.deviation_hi:.0f}）"
        for r in flagged.itertuples()
    ]
    head = HTML(
        f"<p>混合效应模型（{esc(m.spec.peer_model.formula)}，机构随机截距与斜率）识别出利率明显高于同类机构的银行 "
        f"{len(flagged)} 家（偏离 ≥ {m.spec.peer_model.flag_min_bp:g} 个基点且区间下限大于 0）：</p>"
    )
    return head + bullet_list(lines or ["无"])


# --- backtest (notebooks/model_validation.ipynb) -----------------------------------------------

TARGET_NAMES = {
    "p_growth_leg": "“两增”·增速",
    "p_borrowers_leg": "“两增”·户数",
    "p_two_increases": "“两增”",
    "p_plan": "信贷计划",
    "interval:inclusive_balance_assessed": "普惠贷款余额预测区间",
    "interval:total_loans": "各项贷款余额预测区间",
    "interval:inclusive_borrowers": "户数预测区间",
}


def backtest_table(summary: pd.DataFrame) -> HTML:
    frame = pd.DataFrame(
        {
            "目标": summary["target"].map(lambda t: TARGET_NAMES.get(t, t)),
            "样本数": summary["n"].astype(str),
            "命中率": summary["hit_rate"].map(_pct),
            "Brier 分数": summary["brier"].map(lambda v: fmt_number(v, 3)),
            "基准（基础比率）Brier": summary["brier_base_rate"].map(lambda v: fmt_number(v, 3)),
            "技巧分数（1 − Brier/基准）": summary["skill"].map(lambda v: fmt_number(v, 2)),
            "区间覆盖率": summary["coverage"].map(_pct),
        }
    )
    return frame_table(frame)


def reliability_chart(bt: pd.DataFrame, target: str) -> Figure:
    """Reliability diagram (可靠性图): predicted-probability bins against the observed frequency."""
    from analysis.models import reliability

    g = reliability(bt, target)
    fig = Figure(figsize=(5.5, 4.2), layout="constrained")
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="#8a8f98", ls="--", lw=1, label="完全校准")
    ax.scatter(
        g["predicted"], g["observed"], s=20 + g["n"], color="#1f4e9a", zorder=3, label="预测概率分组（点大小 = 样本数）"
    )
    ax.plot(g["predicted"], g["observed"], color="#1f4e9a", lw=1)
    for r in g.itertuples():
        ax.annotate(f"n={r.n}", (r.predicted, r.observed), textcoords="offset points", xytext=(5, -10), fontsize=7)
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("预测的年末达标概率")
    ax.set_ylabel("实际达标比例")
    ax.set_title(f"{TARGET_LABELS.get(target, target)}年末概率的可靠性（样本外）")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def calibration_chart(bt: pd.DataFrame) -> Figure:
    """All year-end probabilities pooled (the legs and the plan) in one reliability diagram."""
    probs = bt[~bt["target"].str.startswith("interval:") & (bt["target"] != "p_two_increases")]
    return reliability_chart(probs.assign(target="pooled"), "pooled")


def calibration_note(v: Validation) -> HTML:
    """The scale chosen out of sample and in sample, and what params/models.yaml holds."""
    cal, ins = v.calibration, v.in_sample
    years = (
        f"{min(v.calibration_years)}–{max(v.calibration_years)}"
        if len(v.calibration_years) > 1
        else str(v.calibration_years[0])
    )
    chosen = (
        f"样本外：在 {years} 年的回测起点上选定误差放大系数 {cal['error_scale']:g}"
        f"（{v.interval:.0%} 区间覆盖率 {cal['coverage']:.0%}），用于检验 {v.evaluation_year} 年。"
    )
    lines = [
        f"回测样本：{len(v.banks)} 家银行，各年 "
        + "、".join(f"{m}月" for m in sorted(v.backtest["month"].unique()))
        + "末为预测起点。",
        chosen,
        f"样本内（对照）：若直接在 {v.evaluation_year} 年上选定，系数为 {ins['error_scale']:g}（覆盖率 {ins['coverage']:.0%}）。",
    ]
    rec = v.configured_calibration
    if rec is None:
        lines.append(f"参数文件中的系数 {v.configured_scale:g} 无校准记录。")
    else:
        same = (
            "一致"
            if abs(v.configured_scale - cal["error_scale"]) < 1e-9
            else "不一致，请按本回测更新 params/models.yaml"
        )
        lines.append(
            f"参数文件 params/models.yaml 中的系数 {v.configured_scale:g}（校准于 {rec.years_text} 年，{rec.data}）与本次样本外选择{same}。"
        )
    by_scale = pd.DataFrame(
        {
            "误差放大系数": [f"{s:g}" for s in cal["by_scale"].index],
            "校准年份覆盖率": cal["by_scale"].map(_pct).to_numpy(),
        }
    )
    return bullet_list(lines) + frame_table(by_scale)


def coverage_table(v: Validation) -> HTML:
    cov = v.coverage
    frame = pd.DataFrame({"预测时距": [f"提前 {h} 个月" for h in cov.index]})
    for col in cov.columns:
        frame[TARGET_NAMES.get(col, "三项合计" if col == "all" else col)] = cov[col].map(_pct).to_numpy()
    return frame_table(frame)


TEST_NAMES = {
    "bootstrap": "固定 b + AR(1) 模拟临界值（采用）",
    "fixed_b": "固定 b（白噪声临界值）",
    "newey_west": "Newey–West（原方法）",
}


def trend_test_table(v: Validation) -> HTML:
    size = v.trend_size
    frame = pd.DataFrame(
        {
            "检验方法": size["method"].map(TEST_NAMES),
            "月数": size["months"].astype(str),
            "误差": size["phi"].map(lambda p: "白噪声" if p == 0 else f"AR(1) {p:g}"),
            "模拟次数": size["replications"].astype(str),
            "名义 5% 的实际拒绝率": size["rejection"].map(lambda r: f"{r * 100:.1f}%"),
        }
    )
    power = v.trend_power
    pframe = pd.DataFrame(
        {
            "趋势幅度（本辖区各行）": power["trend"],
            "每月趋势 / 残差标准差": power["slope_in_sd"].map(lambda x: f"{x:.2f}"),
            "月数": power["months"].astype(str),
            "误差": power["phi"].map(lambda p: "白噪声" if p == 0 else f"AR(1) {p:g}"),
            "功效": power["power"].map(lambda r: f"{r * 100:.0f}%"),
        }
    )
    return frame_table(frame) + frame_table(pframe)


def validation_summary(v: Validation) -> str:
    """The figures the README quotes, printed last in the validation notebook: out-of-sample (and,
    for comparison, in-sample) Brier skill for 两增 and the plan, 90 % coverage by horizon, and
    the size of the trend test on white noise and AR(1) errors."""
    from analysis.models import brier_skill

    oos, ins = v.out_of_sample, v.in_sample_rows

    def skill(rows: pd.DataFrame, target: str) -> str:
        value = brier_skill(rows, target)
        return f"{value:.2f}" if value == value else "—（评估年无未达标机构，无法计算）"

    cov = v.coverage
    size = v.trend_size[v.trend_size["method"] == "bootstrap"]
    years = f"{min(v.calibration_years)}–{max(v.calibration_years)}"
    level = int(round(v.interval * 100))
    head = (
        f"样本外（{len(v.banks)} 家银行，误差放大系数 {v.calibration['error_scale']:g}，校准于 {years} 年，"
        f"检验 {v.evaluation_year} 年）:"
    )
    lines = [
        head,
        f"  Brier 技巧分数 “两增” {skill(oos, 'p_two_increases')}，信贷计划 {skill(oos, 'p_plan')}"
        f"（样本内对照，系数 {v.in_sample['error_scale']:g}：“两增” {skill(ins, 'p_two_increases')}，"
        f"信贷计划 {skill(ins, 'p_plan')}）",
        f"  {level}% 预测区间覆盖率: " + "，".join(f"提前 {h} 个月 {c:.0%}" for h, c in cov["all"].items()),
        "趋势检验（名义 5%）的实际拒绝率: "
        + "，".join(
            f"T={r.months} {'白噪声' if r.phi == 0 else f'AR(1) {r.phi:g}'} {r.rejection * 100:.1f}%"
            for r in size.itertuples()
        ),
    ]
    return "\n".join(lines)


def backtest_by_month(bt: pd.DataFrame) -> HTML:
    probs = bt[bt["target"] == "p_two_increases"]
    if probs.empty:
        return HTML("")
    g = probs.groupby("month").apply(
        lambda d: pd.Series(
            {
                "n": len(d),
                "brier": float(np.mean((d["probability"] - d["outcome"].astype(float)) ** 2)),
                "hit": float(np.mean((d["probability"] >= 0.5) == d["outcome"])),
            }
        ),
        include_groups=False,
    )
    frame = pd.DataFrame(
        {
            "预测月份": [f"{m}月" for m in g.index],
            "样本数": g["n"].astype(int).astype(str),
            "命中率": g["hit"].map(_pct),
            "Brier 分数": g["brier"].map(lambda v: fmt_number(v, 3)),
        }
    )
    return frame_table(frame)


def calibration_record_yaml(v: Validation, data: str) -> HTML:
    """The ``forecast.calibration`` block for params/models.yaml from this validation, as YAML."""
    import yaml

    block = {"error_scale": v.calibration["error_scale"], "calibration": v.record(str(data)).model_dump()}
    text = yaml.safe_dump(block, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    return HTML(f"<pre>{esc(text)}</pre>")
