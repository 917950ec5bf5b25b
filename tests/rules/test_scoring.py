"""The scoring table: each rule on hand-worked cases (edges included), YAML changes, broken YAML,
qualitative entries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from analysis.core.errors import ParamsError
from analysis.rules.indicators import compute_indicators
from analysis.rules.scoring import ScoringTable, load_scoring, read_qualitative, score_cards
from tests.conftest import make_dataset

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "params" / "scoring-2023.yaml"
DEC = pd.Timestamp("2023-12-31")


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def table_from(data: dict) -> ScoringTable:
    return ScoringTable.model_validate(data)


def bank(iid, category="农村商业银行", **kw):
    return {"institution_id": iid, "name": iid, "category": category, **kw}


def years(
    iid,
    *,
    inc=(1000, 1100, 1210),
    tot=(5000, 5400, 5832),
    bor=(100, 105, 110),
    plan=None,
    rate=(6.0, 6.0, 5.95),
    npl=(2.0, 2.0),
    first=(50, 50),
    extra23=None,
):
    """December rows for 2021, 2022, 2023 (and June 2022/2023 are not needed: scoring uses December)."""
    rows = []
    for i, year in enumerate((2021, 2022, 2023)):
        r = {
            "institution_id": iid,
            "period": f"{year}-12",
            "inclusive_balance": inc[i],
            "total_loans": tot[i],
            "inclusive_borrowers": bor[i],
            "inclusive_ytd_disbursed": 1000.0,
            "inclusive_ytd_interest": rate[i] * 10,
        }
        if year >= 2022:
            r["first_loan_ytd_borrowers"] = first[i - 1]
        if year == 2023:
            r["inclusive_npl"] = inc[2] * npl[0] / 100
            r["total_npl"] = tot[2] * npl[1] / 100
            r.update(extra23 or {})
        rows.append(r)
    plans = [] if plan is None else [{"institution_id": iid, "year": 2023, "planned_increase": plan}]
    return rows, plans


def score(policy, *banks_, table=None, qualitative=None):
    inst, months, plans = [], [], []
    for b, (rows, pl) in banks_:
        inst.append(b)
        months += rows
        plans += pl
    ds = make_dataset(inst, months, plans)
    items, totals = score_cards(compute_indicators(ds, policy), table or load_scoring(SHIPPED), DEC, qualitative)
    return items.set_index(["institution_id", "item_id"]), totals.set_index("institution_id")


def pts(items, iid, item):
    return items.loc[(iid, item), "points"]


# --- loan growth (item 1) ---------------------------------------------------------------------


def test_growth_exactly_equal_gets_full_marks(policy):
    # 2023: inclusive 1100 -> 1188 (+8%), all loans 5400 -> 5832 (+8%)
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 1100, 1188))))
    assert pts(items, "A", "loan_growth") == 8
    assert "等于各项贷款增速" in items.loc[("A", "loan_growth"), "reason"]


def test_growth_below_but_plan_met_scores_pro_rata(policy):
    # inclusive 1100 -> 1166 (+6%), all loans +8%; increase 66 vs plan 66 (exactly met): 8 x 6/8 = 6
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 1100, 1166), plan=66)))
    assert pts(items, "A", "loan_growth") == pytest.approx(6.0)


def test_growth_below_and_plan_missed_scores_zero(policy):
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 1100, 1166), plan=100)))
    assert pts(items, "A", "loan_growth") == 0


def test_growth_missed_two_years_running(policy):
    # 2022: +5% vs +8%; 2023: +6% vs +8%
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 1050, 1113), plan=100)))
    assert pts(items, "A", "loan_growth") == -3


def test_balance_fell_two_years_running(policy):
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 950, 900), plan=100)))
    assert pts(items, "A", "loan_growth") == -4


def test_negative_growth_one_year_only(policy):
    items, _ = score(policy, (bank("A"), years("A", inc=(1000, 1100, 1050), plan=100)))
    assert pts(items, "A", "loan_growth") == 0


def test_differentiated_bank(policy):
    d = {"differentiated_years": (2023,)}
    items, _ = score(
        policy,
        (bank("D1", "村镇银行", **d), years("D1", inc=(1000, 1100, 1150), plan=50)),  # plan met
        (bank("D2", "村镇银行", **d), years("D2", inc=(1000, 1100, 1130), plan=50)),  # 30 / 50
        (bank("D3", "村镇银行", **d), years("D3", inc=(1000, 1100, 1090), plan=50)),
    )  # fell
    assert pts(items, "D1", "loan_growth") == 8
    assert pts(items, "D2", "loan_growth") == pytest.approx(4.8)
    assert pts(items, "D3", "loan_growth") == 0


# --- the other quantitative rules -------------------------------------------------------------


def test_borrowers(policy):
    items, _ = score(
        policy,
        (bank("A"), years("A", bor=(100, 105, 105))),
        (bank("B"), years("B", bor=(100, 105, 104))),
        (bank("C"), years("C", bor=(100, 99, 98))),
    )
    assert pts(items, "A", "borrowers") == 10  # equal to the start of the year
    assert pts(items, "B", "borrowers") == 0
    assert pts(items, "C", "borrowers") == -2  # fewer two years running


def test_rate_change_bands(policy):
    items, _ = score(
        policy,
        (bank("A"), years("A", rate=(6, 6.0, 5.95))),
        (bank("B"), years("B", rate=(6, 6.0, 6.10))),
        (bank("C"), years("C", rate=(6, 6.0, 6.30))),
    )
    assert pts(items, "A", "cost") == 10  # -5 bp
    assert pts(items, "B", "cost") == 5  # +10 bp, within the 20 bp band
    assert pts(items, "C", "cost") == 0  # +30 bp


def test_high_rate_bank_not_cutting_loses_points(policy):
    peers = [(bank(f"P{i}"), years(f"P{i}", rate=(6, r, r - 0.1))) for i, r in enumerate((5.0, 5.5, 6.0))]
    items, _ = score(policy, (bank("H"), years("H", rate=(9, 9.0, 9.05))), *peers)
    assert pts(items, "H", "cost") == -3


def test_npl_tolerance(policy):
    items, _ = score(
        policy,
        (bank("A"), years("A", npl=(4.0, 2.0))),
        (bank("B"), years("B", npl=(6.0, 2.0))),
        (bank("C"), years("C", npl=(9.0, 2.0))),
    )
    assert pts(items, "A", "asset_quality") == 8  # gap 2 <= 3
    assert pts(items, "B", "asset_quality") == 0  # gap 4
    assert pts(items, "C", "asset_quality") == -3  # gap 7 > 3 + 3


def test_first_loan_pro_rata(policy):
    items, _ = score(policy, (bank("A"), years("A", first=(50, 40))), (bank("B"), years("B", first=(50, 50))))
    assert pts(items, "A", "first_loan") == pytest.approx(6.4)  # 8 x 40/50
    assert pts(items, "B", "first_loan") == 8


def test_bonus_conditions(policy):
    extra = {"mfg_midlong_balance": 110, "indiv_business_borrowers": 90}
    rows, plans = years("A", extra23=extra)
    rows[1].update({"mfg_midlong_balance": 100, "indiv_business_borrowers": 100})
    items, _ = score(policy, (bank("A"), (rows, plans)))
    # manufacturing up (+3), individual borrowers down (0), renewal share missing (0)
    assert pts(items, "A", "bonus") == 3
    assert "制造业" in items.loc[("A", "bonus"), "reason"]


# --- totals, grades, qualitative --------------------------------------------------------------


def test_totals_grades_and_missing_qualitative(policy):
    q = pd.DataFrame(
        [
            {"institution_id": "A", "year": 2023, "item_id": i.id, "score": i.max, "evidence": "好"}
            for i in load_scoring(SHIPPED).items
            if i.kind == "qualitative"
        ]
    )
    items, totals = score(policy, (bank("A"), years("A")), (bank("B"), years("B")), qualitative=q)
    a, b = totals.loc["A"], totals.loc["B"]
    assert a["complete"] and a["qualitative"] == 50
    assert a["total"] == a["quantitative"] + 50
    assert a["grade"] == "一级" if a["total"] >= 90 else True
    assert not b["complete"] and b["grade"] == "待定" and len(b["missing"]) == 11
    assert items.loc[("B", "products"), "reason"].startswith("尚未评分")


def test_changed_yaml_changes_the_score(policy):
    data = shipped()
    data["areas"][0]["items"][0]["max"] = 10
    data["total"]["max"] = 117
    data["grades"][0]["min"] = 119  # only a perfect score reaches 一级 (above the maximum is refused)
    data["grades"][1]["min"] = 110
    data["grades"][2]["min"] = 100
    data["areas"][0]["items"].append(
        {
            "id": "guaranteed",
            "name": "政府性融资担保贷款",
            "kind": "quantitative",
            "rule": "threshold",
            "min": 0,
            "max": 2,
            "params": {
                "indicator": "guaranteed_balance_change",
                "min": 0,
                "reasons": {"met": "{label} {value}{unit}，得 {points} 分", "not_met": "未增加", "missing": "缺少数据"},
            },
        }
    )
    data["total"]["max"] = 119
    table = table_from(data)
    rows, plans = years("A", inc=(1000, 1100, 1188), extra23={"guaranteed_balance": 20})
    rows[1]["guaranteed_balance"] = 10
    items, totals = score(policy, (bank("A"), (rows, plans)), table=table)
    assert pts(items, "A", "loan_growth") == 10
    assert pts(items, "A", "guaranteed") == 2
    assert items.loc[("A", "guaranteed"), "reason"] == "政府性融资担保贷款较年初变化 10.00万元，得 2 分"
    assert totals.loc["A", "grade"] == "待定"


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d["areas"][0]["items"][0].update(rule="no_such_rule"), "unknown rule"),
        (lambda d: d["total"].update(max=120), "add up"),
        (lambda d: d["areas"][1]["items"][0].update(max=40), "add up"),
        (lambda d: d["grades"].reverse(), "grades"),
        (lambda d: d["areas"][0]["items"][4]["params"].update(indicator="nonsense"), "unknown indicator"),
        (lambda d: d["areas"][0]["items"].append(dict(d["areas"][0]["items"][1])), "duplicate"),
        (lambda d: d.update(categories=["外资银行"]), "categories"),
    ],
)
def test_broken_yaml_is_refused(tmp_path, mutate, message):
    data = shipped()
    mutate(data)
    path = tmp_path / "scoring-2023.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_scoring(path)
    assert message in str(info.value) and "scoring-2023.yaml" in str(info.value)


def test_quantitative_must_outweigh_qualitative(tmp_path):
    data = shipped()
    data["areas"][0]["items"][1]["max"] = 0  # borrowers 10 -> 0 ...
    data["areas"][1]["items"][0]["max"] = 16  # ... mechanisms +10: quantitative 55 vs qualitative 60
    path = tmp_path / "scoring-2023.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError, match="outweigh"):
        load_scoring(path)


def test_qualitative_workbook_checks(tmp_path):
    table = load_scoring(SHIPPED)
    frame = pd.DataFrame(
        [
            {"机构编码": "B010", "年度": 2023, "评分项目编码": "products", "得分": 5, "评分依据": "新产品"},
            {"机构编码": "B010", "年度": 2023, "评分项目编码": "products", "得分": 4, "评分依据": "重复"},
            {"机构编码": "B010", "年度": 2023, "评分项目编码": "digital", "得分": 9, "评分依据": "超出"},
            {"机构编码": "X999", "年度": 2023, "评分项目编码": "digital", "得分": 1, "评分依据": "无此机构"},
            {"机构编码": "B010", "年度": 2023, "评分项目编码": "loan_growth", "得分": 1, "评分依据": "定量项"},
            {"机构编码": "B010", "年度": 2023, "评分项目编码": "ftp", "得分": 2, "评分依据": ""},
        ]
    )
    path = tmp_path / "定性评分-2023.xlsx"
    frame.to_excel(path, index=False)
    good, issues = read_qualitative(path, table, {"B010"})
    found = {(i.row, i.column, i.rule) for i in issues}
    assert (3, "item_id", "duplicate_key") in found
    assert (4, "score", "out_of_range") in found
    assert (5, "institution_id", "unknown_institution") in found
    assert (6, "item_id", "invalid_choice") in found
    assert (7, "evidence", "required_empty") in found
    assert good["item_id"].tolist() == ["products"] and good["score"].tolist() == [5.0]


def test_demo_banks_all_have_complete_score_cards(demo_csv_dir):
    from analysis.state import compute_state

    state = compute_state(demo_csv_dir, ROOT / "params")
    items, totals = score_cards(state.indicators, state.scoring[2023], DEC, state.qualitative)
    assert len(totals) == 44 and totals["complete"].all()
    assert totals.set_index("institution_id").loc["B017", "total"] < totals["total"].median()
    assert items.set_index(["institution_id", "item_id"]).loc[("B034", "loan_growth"), "points"] == -4


# --- exact ties (issue 13 item 1) and zero base (item 2) -----------------------------------------


@pytest.mark.parametrize(
    "inclusive_2023,points,word",
    [
        (100.60, 8, "等于"),  # +0.6% vs all loans 1000 -> 1006 (+0.6%): float margin -5.7e-15, a tie
        (100.59, 0, "低于"),  # one reporting unit (0.01 万元) below, no plan: 0 (2022 was a tie, not a miss)
        (100.61, 8, "高于"),
    ],
)
def test_loan_growth_tie_and_one_unit_either_side(policy, inclusive_2023, points, word):
    # 2022: 90 -> 100 and 900 -> 1000, both +11.11%: a tie, so never "missed two years running"
    items, _ = score(policy, (bank("A"), years("A", inc=(90, 100, inclusive_2023), tot=(900, 1000, 1006))))
    assert pts(items, "A", "loan_growth") == points
    assert word in items.loc[("A", "loan_growth"), "reason"]


@pytest.mark.parametrize(
    "interest_2023,points,shown",
    [
        (32.20, 10, "较上年 0 个基点"),  # 32.20 / 700 = 4.6% = 46.00 / 1000 in 2022 (float: +8.9e-14 bp)
        (32.21, 5, "较上年 +0.1 个基点"),  # +0.01 万元 = +0.14 bp: within the 20 bp band, half marks
        (32.19, 10, "较上年 -0.1 个基点"),
    ],
)
def test_rate_tie_scores_full_marks_and_reads_zero(policy, interest_2023, points, shown):
    rows, plans = years(
        "A", rate=(4.6, 4.6, 4.6), extra23={"inclusive_ytd_disbursed": 700.00, "inclusive_ytd_interest": interest_2023}
    )
    items, _ = score(policy, (bank("A"), (rows, plans)))
    reason = items.loc[("A", "cost"), "reason"]
    assert pts(items, "A", "cost") == points
    assert shown in reason and "+0 个基点" not in reason


@pytest.mark.parametrize(
    "credit_2023,points,shown",
    [
        (9.10, 6, "信用贷款占比较年初变化 0.00个百分点"),  # 9.10 / 130 = 7% = 7.00 / 100 (float -1.8e-15)
        (9.09, 0, "-0.01个百分点"),  # one unit below: -0.0077 pp
        (9.11, 6, "+0.01个百分点"),
    ],
)
def test_share_change_tie_is_zero_in_points_and_text(policy, credit_2023, points, shown):
    rows, plans = years("A", inc=(90, 100, 130), extra23={"credit_loan_balance": credit_2023})
    rows[1]["credit_loan_balance"] = 7.00
    items, _ = score(policy, (bank("A"), (rows, plans)))
    reason = items.loc[("A", "credit_loan"), "reason"]
    assert pts(items, "A", "credit_loan") == points
    assert shown in reason and "-0.00" not in reason


def test_zero_base_growth_gets_full_marks_with_a_reason_that_agrees(policy):
    # began inclusive lending in 2023: 0 -> 120 against a plan of 20 (600% done)
    items, _ = score(policy, (bank("Z"), years("Z", inc=(0, 0, 120), tot=(900, 1000, 1100), plan=20)))
    reason = items.loc[("Z", "loan_growth"), "reason"]
    assert pts(items, "Z", "loan_growth") == 8
    assert "年初余额为零，当年新增视为增速不低于各项贷款增速" in reason
    assert "未完成" not in reason


def test_missing_base_is_named_in_the_reason(policy):
    # no December 2022 row at all: a new bank (validation accepts it; the engine marks it n/a)
    rows, plans = years("N", plan=50)
    items, _ = score(policy, (bank("N"), ([rows[2]], plans)))
    assert pts(items, "N", "loan_growth") == 0
    assert "缺少上年末基数" in items.loc[("N", "loan_growth"), "reason"]
    assert "未完成信贷计划" not in items.loc[("N", "loan_growth"), "reason"]
    assert "缺少上年末基数" in items.loc[("N", "borrowers"), "reason"]
