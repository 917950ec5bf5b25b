"""Report content on the demo data: verdicts, findings citing the notice, peers without names."""

from __future__ import annotations

from pathlib import Path

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
    assert "3.00%" in verdicts["growth_leg"].text and "11.00%" in verdicts["growth_leg"].text
    assert verdicts["borrowers_leg"].status == "met"


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
    assert "变化 0个基点" in verdicts["rate_change"].text
    html = str(institution.indicator_table(c))
    assert "0.00个百分点" in html  # the credit-share change, a tie
    assert "-0.00" not in html and "+0个基点" not in html and "+0.00" not in html
