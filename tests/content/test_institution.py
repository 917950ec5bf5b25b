"""Report content on the demo data: verdicts, findings citing the notice, peers without names."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pandas as pd
import pytest

from analysis.content import institution, overview
from analysis.core.errors import ReportInputError
from analysis.state import compute_state

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def state(demo_csv_dir):
    return compute_state(demo_csv_dir, ROOT / "params")


def ctx(state, iid, period="2023-12"):
    return institution.institution_context(iid, period, state=state)


def all_html(c) -> str:
    from analysis.content import models as readings

    parts = [
        institution.header(c),
        institution.verdict_panel(c),
        institution.indicator_table(c),
        institution.peer_table(c),
        institution.findings_section(c),
        institution.data_appendix(c),
        institution.score_card(c),
        readings.model_section(c),
        readings.diagnostics(c),
    ]
    return "".join(str(p) for p in parts)


def test_verdicts_of_a_bank_missing_the_growth_leg(state):
    verdicts = {v.key: v for v in institution.verdicts(ctx(state, "B017"))}
    assert verdicts["growth_leg"].status == "not_met"
    # planted: 3.00% against 11.00%, so 3.00 − 11.00 = −8.00 points, said in words
    assert verdicts["growth_leg"].text == (
        "普惠型小微企业贷款较年初增长3.00%，各项贷款较年初增长11.00%，普惠增速较各项贷款增速低8.00个百分点"
        "（标准：普惠增速不低于各项贷款增速）"
    )
    assert verdicts["borrowers_leg"].status == "met"
    # 20,957 borrowers, 1,271 more than at the start of the year
    assert verdicts["borrowers_leg"].text.startswith("有贷款余额户数20,957户，较年初增加1,271户")
    # 5.73% this year against 5.86% last year: 13 basis points lower
    assert verdicts["rate_change"].text == "当年累放加权平均利率5.73%，上年5.86%，较上年下降13个基点"


def test_watch_findings_say_the_direction_in_words(state):
    """B017's two watch items, planted below zero: a fall said as 下降, never "变化 -2.19个百分点"."""
    issues = institution.findings(ctx(state, "B017")).issues
    assert any(i.startswith("【需关注】制造业小微企业中长期贷款较年初下降0.88%，低于要求") for i in issues), issues
    assert any(i.startswith("【需关注】普惠型小微企业贷款占比较年初下降2.19个百分点，低于要求") for i in issues), issues


#: a figure with its sign in running text: "-8.00", "+1,271", "−3"; a bracketed one (a table's
#: figure quoted) and a hyphen between digits (2023-12) are not
SIGNED_FIGURE = re.compile(r"(?<![\d（(])[-+−]\d")


def test_no_sentence_of_a_report_has_a_signed_figure(state):
    """Every demo report of 2023-12: its headline cards and its findings (主要问题, 主要成效) say a
    sign in words; the tables keep signed figures."""
    period = pd.Timestamp("2023-12-31")
    ids = sorted(state.indicators.loc[state.indicators["period"] == period, "institution_id"])
    signed, sentences = [], 0
    for iid in ids:
        c = ctx(state, iid)
        found = institution.findings(c)
        texts = [v.text for v in institution.verdicts(c)] + found.issues + found.strengths
        sentences += len(texts)
        signed += [(iid, t) for t in texts if SIGNED_FIGURE.search(t)]
    assert len(ids) > 40 and sentences > 300  # every bank and insurer, not a handful
    assert not signed, signed[:5]


def test_the_sign_pattern_catches_what_it_should():
    assert SIGNED_FIGURE.search("差 -8.00个百分点") and SIGNED_FIGURE.search("较年初 +1,271户")
    assert SIGNED_FIGURE.search("变化 −13个基点")
    assert not SIGNED_FIGURE.search("2023-12 较年初下降0.88%") and not SIGNED_FIGURE.search("（-0.88%）")


def test_basis_points_keep_their_unit_in_the_tables(state):
    """B020 2025-06: the change of rates listed under 结构与覆盖 is in basis points, whole, as in the
    row of rates above it (-18.90 bp → -19个基点), never a bare "-18.90"."""
    assert institution.describe_value("rate_change_bp", -18.9) == "-19个基点"
    rows = institution.indicator_rows(ctx(state, "B020", "2025-06"))
    structure = rows[(rows["类别"] == "结构与覆盖") & (rows["指标"] == "利率较上年变化")]
    assert len(structure) == 1
    value = structure["本期值"].iloc[0]
    assert re.fullmatch(r"[-+]?\d+个基点", value), value
    rates = rows[rows["指标"] == "当年累放加权平均利率 / 上年"]["本期值"].iloc[0]
    assert f"（变化 {value}）" in rates  # the same figure in both rows


def test_findings_cite_the_notice_and_recommend(state):
    f = institution.findings(ctx(state, "B030"))
    npl = [i for i in f.issues if "资产质量" in i]
    assert npl and "宛银保监办发〔2023〕15号第（十一）条" in npl[0] and npl[0].startswith("【未达标】")
    assert any("风险分类" in r for r in f.recommendations)


def test_mid_year_plan_behind_is_watch_not_failure(state):
    verdicts = {v.key: v for v in institution.verdicts(ctx(state, "B002", "2023-06"))}
    assert verdicts["plan"].status == "watch"
    f = institution.findings(ctx(state, "B002", "2023-06"))
    assert any(i.startswith("【进度落后】信贷计划完成") for i in f.issues)


def test_differentiated_bank_is_explained(state):
    c = ctx(state, "B035")
    assert "差异化考核" in str(institution.header(c))
    verdicts = {v.key: v for v in institution.verdicts(c)}
    assert verdicts["growth_leg"].text.startswith("差异化考核")


def test_policy_bank_has_onlending_and_no_two_increases(state):
    c = ctx(state, "B001", "2023-09")
    keys = {v.key: v.status for v in institution.verdicts(c)}
    assert keys["onlending"] == "not_met"  # planted: 2023Q3 above the benchmark
    assert "growth_leg" not in keys and "plan" not in keys


def test_insurer_report(state):
    c = ctx(state, "I003")
    statuses = {v.key: v.status for v in institution.verdicts(c)}
    assert statuses["premium_yoy_pct"] == "watch"


def test_wrong_notebook_for_sector(state):
    with pytest.raises(ReportInputError, match="insurer_report"):
        institution.institution_context("I003", "2023-12", state=state, sector="bank")


def test_unknown_institution_and_period(state):
    with pytest.raises(ReportInputError):
        institution.institution_context("X999", "2023-12", state=state)
    with pytest.raises(ReportInputError):
        institution.institution_context("B010", "2025-12", state=state)


@pytest.mark.parametrize("iid", ["B017", "B033", "B001", "I003", "B014"])
def test_report_never_names_another_institution(state, iid):
    html = all_html(ctx(state, iid))
    others = state.dataset.institutions.query("institution_id != @iid")
    for name, other_id in zip(others["name"], others["institution_id"]):
        assert name not in html
        assert f">{other_id}<" not in html


def test_peer_ranks_are_ranks_only(state):
    ranks = institution.peer_ranks(ctx(state, "B033"))
    rate = ranks[ranks["指标"] == "当年累放贷款加权平均利率"].iloc[0]
    assert rate.iloc[1] == "第 13 / 13 名"  # the planted high-rate village bank ranks last of 13


def test_small_categories_are_not_ranked(state):
    ranks = institution.peer_ranks(ctx(state, "B014"))  # 3 city commercial banks
    assert ranks.iloc[:, 1].str.contains("不足").all()


def test_values_are_escaped(state):
    state2 = compute_state(state.data_dir, state.params_dir)
    inst = state2.dataset.institutions
    inst.loc[inst["institution_id"] == "B010", "name"] = "<script>alert(1)</script>"
    c = institution.institution_context("B010", "2023-12", state=state2)
    c.institution["name"] = "<script>alert(1)</script>"
    html = str(institution.header(c))
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_overview_names_institutions_missing_targets(state):
    c = overview.city_context("2023-12", state=state)
    html = str(overview.missing_targets(c))
    assert "宛城农村商业银行（示例）" in html  # B017, growth leg
    assert "南召农村商业银行（示例）" in html  # B019, rate up
    groups = overview.group_summary(c.rows, "category")
    assert groups["机构类型"].tolist()[0] == "政策性银行"
    assert groups.loc[groups["机构类型"] == "农村商业银行", "机构数"].item() == 13


def test_overview_group_growth_from_sums(state):
    c = overview.city_context("2023-12", state=state)
    groups = overview.group_summary(c.rows, "division").set_index("监管科室")
    banks = c.banks[c.banks["division"] == "农村银行机构监管科"]
    expected = (banks["inclusive_balance"].sum() / banks["inclusive_balance_base"].sum() - 1) * 100
    assert groups.loc["农村银行机构监管科", "较年初增速（%）"] == pytest.approx(expected)


# --- hand-made states: n/a reasons and zero figures (issue 13 items 1 and 3) -----------------------


def _hand_state(policy_file=ROOT / "params" / "policy-2023.yaml"):
    from analysis.core.policy import load_policy
    from tests.conftest import make_dataset, make_state

    inst = [{"institution_id": i, "name": f"测试{i}", "category": "农村商业银行"} for i in ("NEW", "R")]
    months = [
        # NEW starts reporting in March 2023: no December 2022
        {
            "institution_id": "NEW",
            "period": "2023-03",
            "inclusive_balance": 50,
            "inclusive_borrowers": 5,
            "total_loans": 400,
            "inclusive_npl": 1,
            "total_npl": 4,
            "inclusive_ytd_disbursed": 60,
            "inclusive_ytd_interest": 3,
        },
        # R: 46.00 / 1000.00 = 4.6% in 2022 and 32.20 / 700.00 = 4.6% in 2023 (float +8.9e-14 bp);
        # credit share 7.00 / 100.00 = 9.10 / 130.00 = 7% (float -1.8e-15 pp)
        {
            "institution_id": "R",
            "period": "2022-12",
            "inclusive_balance": 100.00,
            "inclusive_borrowers": 10,
            "total_loans": 1000.00,
            "inclusive_npl": 1,
            "total_npl": 10,
            "inclusive_ytd_disbursed": 1000.00,
            "inclusive_ytd_interest": 46.00,
            "credit_loan_balance": 7.00,
        },
        {
            "institution_id": "R",
            "period": "2023-03",
            "inclusive_balance": 130.00,
            "inclusive_borrowers": 10,
            "total_loans": 1300.00,
            "inclusive_npl": 1,
            "total_npl": 10,
            "inclusive_ytd_disbursed": 700.00,
            "inclusive_ytd_interest": 32.20,
            "credit_loan_balance": 9.10,
        },
    ]
    return make_state(make_dataset(inst, months), {2023: load_policy(policy_file)})


def test_new_institution_report_names_the_missing_base():
    c = institution.institution_context("NEW", "2023-03", state=_hand_state())
    verdicts = {v.key: v for v in institution.verdicts(c)}
    reason = "缺少上年末基数（新设机构或未报送上年12月数据）"
    for key in ("growth_leg", "borrowers_leg", "plan", "rate_change"):
        assert verdicts[key].status == "n/a" and verdicts[key].reason == reason, key
    assert reason in str(institution.verdict_panel(c))
    rows = institution.indicator_rows(c)
    assert rows[rows["状态"] == "n/a"]["标准"].str.contains(reason).sum() >= 4
    f = institution.findings(c)
    assert any(i.startswith("【无法评价】") and reason in i for i in f.issues)
    assert "本期各项考核指标均达到要求" not in "".join(f.issues)


def test_zero_figures_read_zero_never_minus_zero_or_plus_zero():
    c = institution.institution_context("R", "2023-03", state=_hand_state())
    verdicts = {v.key: v for v in institution.verdicts(c)}
    assert verdicts["rate_change"].status == "met"
    assert verdicts["rate_change"].text.endswith("较上年持平")  # a tie: no "0个基点", no sign
    html = str(institution.indicator_table(c))
    assert "0.00个百分点" in html  # the credit-share change, a tie
    assert "-0.00" not in html and "+0个基点" not in html and "+0.00" not in html


# ---------------------------------------------------------------- on-lending over the year, one voice per report


def test_onlending_card_covers_every_quarter_of_the_year(state):
    """B001 (planted): 2023Q3 end-borrower rate 8.90% against 6.20%, the other quarters met. At the
    year end the card says 未达标 and names 2023Q3 with its figures, not only 2023Q4."""
    card = {v.key: v for v in institution.verdicts(ctx(state, "B001", "2023-12"))}["onlending"]
    assert card.status == "not_met"
    assert "2023Q3" in card.text and "8.90%" in card.text and "6.20%" in card.text
    assert "高270个基点" in card.text  # 8.90 − 6.20 = 2.70 points = 270 basis points above
    assert "2023Q1、2023Q2、2023Q4 达标" in card.text
    # at 2023-06 the third quarter has not ended: the two quarters so far are met
    early = {v.key: v for v in institution.verdicts(ctx(state, "B001", "2023-06"))}["onlending"]
    assert early.status == "met" and "2023Q3" not in early.text


def test_onlending_card_of_a_single_failed_quarter_from_hand_written_rows():
    from types import SimpleNamespace

    from analysis.content.institution import onlending_verdict
    from analysis.core.policy import load_policy

    rows = pd.DataFrame(
        {
            "quarter": ["2023Q2", "2023Q1"],
            "end_borrower_rate": [5.00, 7.00],
            "benchmark_quarter": ["2023Q1", "2022Q4"],
            "benchmark_rate_pct": [6.00, 6.50],
            "rate_gap_bp": [-100.0, 50.0],
            "status_onlending": ["met", "not_met"],
            "na_reason_onlending": ["", ""],
            "institution_id": ["X", "X"],
        }
    )
    fake = SimpleNamespace(
        state=SimpleNamespace(onlending=rows),
        institution_id="X",
        period=pd.Timestamp("2023-06-30"),
        policy=load_policy(ROOT / "params" / "policy-2023.yaml"),
    )
    card = onlending_verdict(fake)
    assert card.status == "not_met"
    # 7.00% against 6.50%: 50 bp above, in the first quarter; the second met
    assert card.text == "2023Q1 终端平均利率7.00%，2022Q4 当地同类机构6.50%，高50个基点，未达标；2023Q2 达标"


def _cards_and_tables(state, period: str):
    """(institution, rule, card status, table statuses) for every institution of the period."""
    ids = sorted(
        state.indicators.loc[
            state.indicators["period"] == pd.Timestamp(period) + pd.offsets.MonthEnd(0), "institution_id"
        ]
    )
    for iid in ids:
        c = ctx(state, iid, period)
        cards = {v.key: v.status for v in institution.verdicts(c)}
        rows = institution.indicator_rows(c)
        shown: dict[str, list[str]] = {}
        for rule, status in zip(rows.attrs["rules"], rows["状态"], strict=True):
            if rule:
                shown.setdefault(rule, []).append(status)
        yield iid, cards, shown


@pytest.mark.parametrize("period", ["2023-12", "2023-09"])
def test_no_headline_card_contradicts_its_own_tables(state, period):
    """Every demo report of the period: a rule 未达标 in the indicator table (on-lending quarters
    included) is 未达标 on its headline card, and a card 未达标 has a 未达标 row behind it."""
    contradictions = []
    checked = 0
    for iid, cards, shown in _cards_and_tables(state, period):
        for rule, statuses in shown.items():
            if rule not in cards:
                continue
            checked += 1
            if ("not_met" in statuses) != (cards[rule] == "not_met"):
                contradictions.append((iid, rule, cards[rule], statuses))
    assert checked > 100  # every bank's rules, not a handful
    assert not contradictions, contradictions


def test_b001_onlending_is_judged_alike_on_the_card_and_in_the_table(state):
    for iid, cards, shown in _cards_and_tables(state, "2023-12"):
        if iid == "B001":
            assert shown["onlending"] == ["met", "met", "not_met", "met"]  # 2023Q1 … 2023Q4
            assert cards["onlending"] == "not_met"


# ---------------------------------------------------------------- what a report sent out says about its making


def test_a_report_names_its_parameters_and_one_data_fingerprint(state):
    c = ctx(state, "B017")
    html = str(
        institution.provenance(c, {"institution_id": "B017", "period": "2023-12", "data_dir": "/srv/office/data"})
    )
    assert "宛城农村商业银行（示例）（B017）" in html and "2023-12" in html
    assert f"sha256:{institution.data_fingerprint(state.hashes)}" in html
    assert "/srv/office" not in html and str(ROOT) not in html and "data_dir" not in html
    assert not any(name.split("/")[-1] in html for name in state.hashes)  # no input file named
    assert "定性评分" not in html and ".xlsx" not in html and ".csv" not in html


def test_an_insurer_report_carries_no_bank_input(state):
    html = str(institution.provenance(ctx(state, "I003"), {"institution_id": "I003", "period": "2023-12"}))
    assert "loans" not in html and "s71" not in html.lower() and "借据" not in html


def test_the_office_overview_keeps_every_input_and_the_same_fingerprint(state):
    city = overview.city_context("2023-12", state=state)
    html = str(overview.provenance(city, {"period": "2023-12"}))
    assert f"sha256:{institution.data_fingerprint(state.hashes)}" in html
    names = list(institution.input_file_digests(state.hashes))
    assert names and all(f"输入文件 {name}" in html for name in names)


def test_the_office_overview_names_its_folders_without_the_machines_path(state, tmp_path):
    """The overview's parameters: a folder inside the project relative to it, one outside by its
    name only; the input files and their hashes stay."""
    city = overview.city_context("2023-12", state=state)
    outside = tmp_path / "office-data" / "2023"
    given = {"period": "2023-12", "data_dir": str(outside), "params_dir": str(ROOT / "params")}
    html = unescape(str(overview.provenance(city, given)))
    assert str(tmp_path) not in html and str(ROOT) not in html
    assert '"data_dir": "2023"' in html and '"params_dir": "params"' in html
    assert all(f"输入文件 {name}" in html for name in institution.input_file_digests(state.hashes))


def test_shown_folder_inside_and_outside_the_project(tmp_path):
    project = tmp_path / "workbook"
    assert institution.shown_folder(project / "data" / "demo", project) == "data/demo"
    assert institution.shown_folder(tmp_path / "elsewhere" / "params", project) == "params"
    assert institution.shown_folder("data/demo") == "data/demo"  # relative to the project folder


def test_data_fingerprint_is_one_hash_over_the_sorted_inputs():
    import hashlib

    # worked by hand: the lines "a.csv=11;b.csv=22;" in name order, whatever order they come in
    expected = hashlib.sha256(b"a.csv=11;b.csv=22;").hexdigest()[:16]
    assert institution.data_fingerprint({"b.csv": "22", "a.csv": "11"}) == expected
    assert len(expected) == 16
    assert institution.data_fingerprint({"b.csv": "22", "a.csv": "12"}) != expected


def test_rule_label_names_an_unknown_rule_in_both_languages():
    rules = {"checks": {"new_borrower": {"label": "新设主体贷款"}}, "reconcile": {"basis": "统计数据质量"}}
    assert institution.rule_label(rules, "new_borrower") == "新设主体贷款"
    assert institution.rule_label(rules, "reconcile") == "统计数据质量"
    assert institution.rule_label(rules, "mystery") == "未命名核查规则 / unnamed rule mystery"


def test_data_appendix_shows_the_year_in_two_tables_of_six_months(state):
    html = str(institution.data_appendix(ctx(state, "B017")))
    heads = re.findall(r"<thead><tr>(.*?)</tr></thead>", html)
    assert [re.findall(r"<th>([^<]*)</th>", h)[1:] for h in heads] == [
        ["2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06"],
        ["2023-07", "2023-08", "2023-09", "2023-10", "2023-11", "2023-12"],
    ]


def test_the_year_end_chart_shows_the_years_actual_figure_not_a_forecast(state):
    from analysis.content import models

    c = ctx(state, "B017", "2023-12")
    ax = models.forecast_chart(c).axes[0]
    assert ax.get_title() == "普惠型小微企业贷款余额：2023年末实际（全年走势）"
    labels = ax.get_legend_handles_labels()[1]
    assert not any("预测" in label for label in labels), labels
    # B017's December balance as reported (附录一): 597,587.90 万元
    assert [t.get_text() for t in ax.texts] == ["年末实际 597,587.90"]
    assert "年末实际" in str(models.forecast_heading(c)) and "预测" not in str(models.forecast_heading(c))


def test_a_mid_year_chart_still_forecasts_the_year_end(state):
    from analysis.content import models

    c = ctx(state, "B017", "2023-09")
    ax = models.forecast_chart(c).axes[0]
    assert ax.get_title() == "普惠型小微企业贷款余额：2023年末预测"
    assert "预测（中位数）" in ax.get_legend_handles_labels()[1]
    assert "年末预测" in str(models.forecast_heading(c))
