"""Policy parameter files are validated on load; a broken file is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis.core.errors import ParamsError
from analysis.core.policy import load_policies, load_policy, policy_for_year

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "params" / "policy-2023.yaml"


def _write(tmp_path: Path, data: dict, name: str = "policy-2023.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def test_shipped_policy_loads():
    policy = load_policy(SHIPPED)
    assert policy.year == 2023
    assert policy.quality.npl_tolerance_pp == 3.0
    assert load_policies(ROOT / "params")[2023] == policy


@pytest.mark.parametrize(
    "mutate,expected",
    [
        (lambda d: d["quality"].update(npl_tolerance_pp=-1), "quality.npl_tolerance_pp"),
        (lambda d: d["plan"].update(categories=["外资银行"]), "plan.categories"),
        (lambda d: d.update(unexpected=1), "unexpected"),
        (lambda d: d["cost"].pop("clause"), "cost.clause"),
        (lambda d: d["two_increases"].update(entity_types=["总行"]), "two_increases.entity_types"),
        (
            lambda d: d["watch_checks"].append(
                {"indicator": "no_such", "label": "x", "min": 0, "clause": "x", "sectors": ["bank"]}
            ),
            "no_such",
        ),
        (lambda d: d.update(year=2024), "year"),
        # a rule left out of the year takes its recommendation with it, said by key
        (lambda d: d["cost"].pop("max_rate_change_bp"), "recommendations.rate_change"),
        # 差异化考核 judges on the plan: a year without a plan cannot say it
        (lambda d: (d.pop("plan"), d["recommendations"].pop("plan")), "two_increases.differentiated_on_plan"),
        (lambda d: d.update(labels={"growth": "x"}), "labels"),
        (lambda d: d["two_increases"].update(group={"name": "地方法人银行", "categories": ["外资银行"]}), "group"),
    ],
)
def test_broken_policy_is_refused(tmp_path, mutate, expected):
    data = _shipped()
    mutate(data)
    with pytest.raises(ParamsError) as info:
        load_policy(_write(tmp_path, data))
    assert expected in str(info.value)
    assert "policy-2023.yaml" in str(info.value)


def test_unparseable_yaml(tmp_path):
    path = tmp_path / "policy-2023.yaml"
    path.write_text("year: [2023\n", encoding="utf-8")
    with pytest.raises(ParamsError):
        load_policy(path)


def test_missing_year_file(tmp_path):
    with pytest.raises(ParamsError, match="2031"):
        policy_for_year(tmp_path, 2031)


def test_a_changed_threshold_changes_the_verdict(tmp_path, demo_csv_dir):
    """The tolerance lives in YAML: widening it clears the planted NPL breach of B030."""
    from analysis.inputs.validation import load_dataset
    from analysis.rules.indicators import compute_indicators

    ds = load_dataset(demo_csv_dir, ROOT / "params")
    strict = load_policy(SHIPPED)
    data = _shipped()
    data["quality"]["npl_tolerance_pp"] = 10.0
    lenient = load_policy(_write(tmp_path, data))

    def pick(ind):
        return ind[(ind.institution_id == "B030") & (ind.period == "2023-12-31")]["status_npl"].item()

    assert pick(compute_indicators(ds, strict)) == "not_met"
    assert pick(compute_indicators(ds, lenient)) == "met"


def test_policy_file_must_name_its_jurisdiction(tmp_path):
    assert load_policy(SHIPPED).jurisdiction == "南阳市"
    data = _shipped()
    data.pop("jurisdiction")
    with pytest.raises(ParamsError, match="jurisdiction"):
        load_policy(_write(tmp_path, data))


def test_information_clauses_come_from_the_policy_file(tmp_path):
    policy = load_policy(SHIPPED)
    assert policy.info_clause("guaranteed_balance_change") == "第（十四）条"
    data = _shipped()
    data["information"].append({"indicator": "no_such_column", "clause": "x", "sectors": ["bank"]})
    with pytest.raises(ParamsError, match="no_such_column"):
        load_policy(_write(tmp_path, data))


# --- a second policy year from a fixture: verdicts and texts change with no code change ----------

FIXTURE_2024 = ROOT / "tests" / "fixtures" / "params-2024"


def _two_year_state():
    """One legal rural commercial bank over 2023-2024, judged by the shipped 2023 file and the
    2024 fixture (which includes bills, asks 1 pp above all loans and tolerates 2 pp of NPLs)."""
    from tests.conftest import make_dataset, make_state

    ds = make_dataset(
        [{"institution_id": "L", "name": "测试农商行", "category": "农村商业银行"}],
        [
            {
                "institution_id": "L",
                "period": "2022-12",
                "inclusive_balance": 1000,
                "bill_discount_balance": 0,
                "inclusive_borrowers": 100,
                "total_loans": 5000,
                "inclusive_npl": 20,
                "total_npl": 50,
            },
            {
                "institution_id": "L",
                "period": "2023-12",
                "inclusive_balance": 1100,
                "bill_discount_balance": 100,
                "inclusive_borrowers": 105,
                "total_loans": 5400,
                "inclusive_npl": 22,
                "total_npl": 54,
            },
            {
                "institution_id": "L",
                "period": "2024-12",
                "inclusive_balance": 1210,
                "bill_discount_balance": 0,
                "inclusive_borrowers": 110,
                "total_loans": 5886,
                "inclusive_npl": 36.30,
                "total_npl": 29.43,
            },
        ],
    )
    policies = {2023: load_policy(SHIPPED), 2024: load_policy(FIXTURE_2024 / "policy-2024.yaml")}
    return ds, policies, make_state(ds, policies)


def test_second_policy_year_changes_verdicts_without_code_change():
    from analysis.rules.indicators import compute_indicators

    ds, policies, state = _two_year_state()
    assert load_policies(FIXTURE_2024) == {2024: policies[2024]}
    ind = state.indicators.set_index(state.indicators["period"].dt.year)
    # 2023 by the 2023 file (bills out): 1000 -> 1100 = +10% vs +8%: met
    assert ind.loc[2023, "status_growth_leg"] == "met"
    # 2024 by the 2024 file (bills in): 1100+100 -> 1210+0 = +0.83% vs +9% (5400 -> 5886): not met;
    # NPL 3% vs 0.5%: 2.5 pp over the fixture's 2 pp tolerance
    assert ind.loc[2024, "inclusive_ytd_growth_pct"] == pytest.approx(10 / 1200 * 100)
    assert ind.loc[2024, "status_growth_leg"] == "not_met" and ind.loc[2024, "status_npl"] == "not_met"
    # the same 2024 figures under the 2023 rules (bills out, margin ≥ 0, 3 pp): +10% vs +9%, met
    as_2023 = compute_indicators(ds, {2023: policies[2023], 2024: policies[2023].model_copy(update={"year": 2024})})
    old = as_2023[as_2023["period"].dt.year == 2024].iloc[0]
    assert old["growth_margin_pp"] == pytest.approx(1.0)
    assert old["status_growth_leg"] == "met" and old["status_npl"] == "met"


def test_second_policy_year_changes_report_texts_without_code_change():
    from analysis.content import institution

    _, _, state = _two_year_state()
    c24 = institution.institution_context("L", "2024-12", state=state)
    growth = {v.key: v for v in institution.verdicts(c24)}["growth_leg"]
    assert growth.clause == "第（二）条第1款（2024测试）"
    assert "普惠增速高于各项贷款增速不少于 1 个百分点" in growth.text
    f = institution.findings(c24)
    assert any("宛金监办发〔2024〕99号（测试）第（二）条第1款（2024测试）" in i for i in f.issues)
    assert (
        "【2024测试建议】普惠型小微企业贷款增速须高于各项贷款增速1个百分点以上，请制定专项投放方案。"
        in f.recommendations
    )
    rows = institution.indicator_rows(c24).set_index("指标")
    assert rows.loc["普惠型小微企业贷款余额", "本期值"] == "1,210.00万元"  # bills counted in 2024
    assert "国家金融监督管理总局南阳监管分局" in str(institution.header(c24))
    # the 2023 report of the same bank keeps the 2023 file's texts
    c23 = institution.institution_context("L", "2023-12", state=state)
    growth23 = {v.key: v for v in institution.verdicts(c23)}["growth_leg"]
    assert growth23.clause == "第（一）条及脚注1" and "普惠增速不低于各项贷款增速" in growth23.text
    assert "普惠型小微企业贷款余额（剔除票据）" in set(institution.indicator_rows(c23)["指标"])
