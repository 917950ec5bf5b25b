"""Scoring from params (issue 28, item 5): the 2020 method's standards, penalties and wording come from
the YAML; generic items (threshold, banded, pro_rata) on any indicator; an item needing a rule the
year's notice lacks is refused; the 2024 method's six dimensions written as a (fictional) fixture; a
year without a scoring table gets no score card and says so. Expected points are worked out by hand."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
import yaml

from analysis.core.errors import ParamsError
from analysis.core.policy import load_policy
from analysis.rules.scoring import ThresholdParams, load_scoring, score_cards
from tests.rules.test_scoring import bank, pts, score, shipped, table_from, years

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
FIXTURE_2024 = ROOT / "tests" / "fixtures" / "scoring-2024" / "scoring-2024.yaml"
SIX_DIMENSIONS = ["总体投放", "成本及风险", "服务结构优化", "激励约束", "合规内控", "服务地方经济"]


def with_item(item: dict, area: int = 0) -> dict:
    """The shipped 2023 table plus ``item`` (the total's maximum raised by its points)."""
    data = shipped()
    data["areas"][area]["items"].append(item)
    data["total"]["max"] += item["max"]
    return data


def write(tmp_path: Path, data: dict, name: str = "scoring-2023.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# --- the 2020 method's fixed rules are parameters -----------------------------------------------


def rate_banks():
    return (
        (bank("A"), years("A", rate=(6, 6.0, 5.95))),  # -5 bp
        (bank("B"), years("B", rate=(6, 6.0, 6.10))),  # +10 bp
        (bank("C"), years("C", rate=(6, 6.0, 6.30))),  # +30 bp
    )


def test_yaml_rate_item_reproduces_the_2020_method(policy):
    # shipped: full marks at ≤ 0 bp, 5 of 10 up to +20 bp, 0 above; a high-rate bank not cutting −3
    peers = [(bank(f"P{i}"), years(f"P{i}", rate=(6, r, r - 0.1))) for i, r in enumerate((5.0, 5.5, 6.0))]
    items, _ = score(policy, *rate_banks(), (bank("H"), years("H", rate=(9, 9.0, 9.05))), *peers)
    assert [pts(items, b, "cost") for b in "ABCH"] == [10, 5, 0, -3]
    assert items.loc[("A", "cost"), "reason"] == "当年累放加权平均利率 5.95%，较上年 -5 个基点，总体平稳，得满分 10 分"
    assert items.loc[("B", "cost"), "reason"].endswith("较上年 +10 个基点，上升不超过 20 个基点，得 5 分")
    assert items.loc[("H", "cost"), "reason"].endswith("利率明显高于同类机构且未压降，扣 3 分")


def test_rate_item_standards_and_wording_come_from_the_yaml(policy):
    data = shipped()
    cost = data["areas"][0]["items"][2]["params"]
    cost.update(full_marks_max_bp=10, band_bp=30, band_points=4)
    cost["reasons"]["stable"] = "利率较上年 {change} 个基点，不超过 {full_marks_max_bp} 个基点，得 {points} 分"
    items, _ = score(policy, *rate_banks(), table=table_from(data))
    # -5 and +10 bp are now within the 10 bp of full marks; +30 bp is exactly the band's edge: 4
    assert [pts(items, b, "cost") for b in "ABC"] == [10, 10, 4]
    assert items.loc[("B", "cost"), "reason"] == "利率较上年 +10 个基点，不超过 10 个基点，得 10 分"


def test_loan_growth_penalties_come_from_the_yaml(policy):
    # inclusive 1000 → 950 → 900: fell two years running and below all-loan growth two years running
    fell = (bank("A"), years("A", inc=(1000, 950, 900), plan=100))
    data = shipped()
    penalties = data["areas"][0]["items"][0]["params"]["penalties"]
    penalties.reverse()  # missed_twice (−3) is now tried before fell_twice (−4)
    items, _ = score(policy, fell, table=table_from(data))
    assert pts(items, "A", "loan_growth") == -3
    assert "连续两年未达到增速目标，扣 3 分" in items.loc[("A", "loan_growth"), "reason"]
    penalties.clear()  # no penalties: growth −5.26% < +8%, plan of 100 not met (−50): 0
    items, _ = score(policy, fell, table=table_from(data))
    assert pts(items, "A", "loan_growth") == 0
    assert items.loc[("A", "loan_growth"), "reason"].endswith("且未完成信贷计划（-50.00%），得 0 分")


def test_quantitative_outweighs_qualitative_is_a_table_option(tmp_path):
    data = shipped()
    data["areas"][0]["items"][1]["max"] = 0  # quantitative 55, qualitative 60
    data["areas"][1]["items"][0]["max"] = 16
    with pytest.raises(ParamsError, match="outweigh"):
        load_scoring(write(tmp_path, data))
    data["quantitative_outweighs_qualitative"] = False
    assert load_scoring(write(tmp_path, data)).total.max == 115
    del data["quantitative_outweighs_qualitative"]
    with pytest.raises(ParamsError, match="quantitative_outweighs_qualitative"):
        load_scoring(write(tmp_path, data))


# --- generic items on any indicator ---------------------------------------------------------------

INDIV_BANDED = {
    "id": "indiv_business",
    "name": "个体工商户贷款较年初增速",
    "kind": "quantitative",
    "rule": "banded",
    "min": 0,
    "max": 8,
    "params": {
        "indicator": "indiv_business_balance_growth_pct",
        "value_format": {"digits": 2, "signed": True},
        "bands": [
            {"min": 5, "points": 8, "reason": "{label} {value}{unit}，不低于 {bound}%，得 {points} 分"},
            {"min": 0, "points": 4},
            {"points": 0},
        ],
        "reasons": {"band": "{label} {value}{unit}，得 {points} 分", "missing": "缺少{label}数据，得 0 分"},
    },
}


def indiv(iid: str, dec_2022: float | None, dec_2023: float | None):
    rows, plans = years(iid)
    rows[1]["indiv_business_balance"], rows[2]["indiv_business_balance"] = dec_2022, dec_2023
    return bank(iid), (rows, plans)


def test_banded_item_on_an_arbitrary_indicator(policy):
    table = table_from(with_item(INDIV_BANDED))
    items, totals = score(
        policy,
        indiv("A", 100, 110),  # +10%: the first band (≥ 5): 8
        indiv("B", 100, 103),  # +3%: the second band (≥ 0): 4
        indiv("C", 100, 105),  # +5.00% exactly: a tie reaches the first band: 8
        indiv("D", 100, 95),  # −5%: the last band: 0
        indiv("E", None, None),  # no figures: 0, and says so
        table=table,
    )
    assert [pts(items, b, "indiv_business") for b in "ABCDE"] == [8, 4, 8, 0, 0]
    assert items.loc[("A", "indiv_business"), "reason"] == "个体工商户贷款较年初增速 +10.00%，不低于 5%，得 8 分"
    assert items.loc[("B", "indiv_business"), "reason"] == "个体工商户贷款较年初增速 +3.00%，得 4 分"
    assert items.loc[("E", "indiv_business"), "reason"] == "缺少个体工商户贷款较年初增速数据，得 0 分"
    assert table.total.max == 123


def test_banded_lower_is_better_and_pro_rata(policy):
    rate = {
        "id": "rate_band",
        "name": "利率较上年变化（按档）",
        "kind": "quantitative",
        "rule": "banded",
        "min": 0,
        "max": 6,
        "params": {
            "indicator": "rate_change_bp",
            "value_format": {"digits": 0, "signed": True},
            "bands": [{"max": 0, "points": 6}, {"max": 25, "points": 3}, {"points": 0}],
            "reasons": {
                "band": "{label} {value}{unit}，档位 ≤ {bound}，得 {points} 分",
                "missing": "缺少数据，得 0 分",
            },
        },
    }
    plan = {
        "id": "plan_pro_rata",
        "name": "信贷计划完成率（按比例）",
        "kind": "quantitative",
        "rule": "pro_rata",
        "min": 0,
        "max": 8,
        "params": {
            "indicator": "plan_completion_pct",
            "zero_at": 0,
            "full_at": 100,
            "reasons": {
                "full": "完成 {value}{unit}，得满分 {points} 分",
                "partial": "完成 {value}{unit}（{ratio}），得 {points} 分",
                "zero": "未完成，得 0 分",
                "missing": "未报送信贷计划，得 0 分",
            },
        },
    }
    data = with_item(rate)
    data["areas"][0]["items"].append(plan)
    data["total"]["max"] += 8
    items, _ = score(
        policy,
        # inclusive 1100 → 1150: +50 against a plan of 100: 50% → 8 × 0.5 = 4; rate −5 bp: 6
        (bank("A"), years("A", inc=(1000, 1100, 1150), plan=100, rate=(6, 6.0, 5.95))),
        # +50 against 40: 125% → full marks 8; rate +10 bp: 3
        (bank("B"), years("B", inc=(1000, 1100, 1150), plan=40, rate=(6, 6.0, 6.10))),
        # +50 against 200: 25% → 2; rate +30 bp: 0
        (bank("C"), years("C", inc=(1000, 1100, 1150), plan=200, rate=(6, 6.0, 6.30))),
        table=table_from(data),
    )
    assert [pts(items, b, "rate_band") for b in "ABC"] == [6, 3, 0]
    assert [pts(items, b, "plan_pro_rata") for b in "ABC"] == [4, 8, 2]
    assert items.loc[("B", "rate_band"), "reason"] == "利率较上年变化 +10BP，档位 ≤ 25，得 3 分"
    assert items.loc[("A", "plan_pro_rata"), "reason"] == "完成 50.00%（0.500），得 4 分"


def test_an_item_may_score_an_indicator_written_in_params(tmp_path):
    # agri_ytd_growth_pct is not built in: params/indicators.yaml writes it (涉农贷款较年初增速)
    for name in ("indicators.yaml", "policy-2023.yaml"):
        shutil.copy(PARAMS / name, tmp_path / name)
    item = {
        "id": "agri",
        "name": "涉农贷款",
        "kind": "quantitative",
        "rule": "threshold",
        "min": 0,
        "max": 2,
        "params": {
            "indicator": "agri_ytd_growth_pct",
            "min": 0,
            "reasons": {"met": "{label}达标", "not_met": "{label}未达标", "missing": "缺少{label}数据"},
        },
    }
    table = load_scoring(write(tmp_path, with_item(item)))
    agri = next(i for i in table.items if i.id == "agri")
    assert isinstance(agri.spec, ThresholdParams) and agri.spec.indicator == "agri_ytd_growth_pct"
    assert agri.spec.needs() == []  # a figure, not a rule of the notice


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda d: d["areas"][0]["items"][2]["params"]["reasons"].update(stable="{rate:.1f}%"), "only plain names"),
        (lambda d: d["areas"][0]["items"][2]["params"]["reasons"].update(stable="利率 {ratee}"), "{ratee}"),
        (lambda d: d["areas"][0]["items"][2]["params"]["reasons"].pop("stable"), "reasons.stable"),
        (lambda d: d["areas"][0]["items"][0]["params"]["penalties"][0].update(when="fell_thrice"), "fell_thrice"),
        (lambda d: d["areas"][0]["items"][0]["params"]["penalties"][0].update(points=-5), "outside the item"),
        (lambda d: d["areas"][0]["items"][3]["params"]["penalties"][0].pop("excess_pp"), "excess_pp"),
        (lambda d: d["areas"][0]["items"][2]["params"].update(band_points=11), "band_points"),
        (lambda d: d["areas"][0]["items"][2]["params"].pop("full_marks_max_bp"), "full_marks_max_bp"),
    ],
)
def test_broken_rule_params_are_refused_naming_item_and_key(tmp_path, mutate, message):
    data = shipped()
    mutate(data)
    with pytest.raises(ParamsError) as info:
        load_scoring(write(tmp_path, data))
    text = str(info.value)
    assert message in text and "scoring-2023.yaml" in text


@pytest.mark.parametrize(
    "bands,message",
    [
        ([{"min": 0, "points": 4}, {"min": 5, "points": 8}, {"points": 0}], "fall"),  # not highest first
        ([{"min": 5, "points": 8}, {"min": 0, "points": 4}], "last band"),  # no catch-all
        ([{"min": 5, "points": 8}, {"max": 0, "points": 4}, {"points": 0}], "every band"),  # min and max mixed
        ([{"min": 5, "points": 9}, {"points": 0}], "outside the item"),  # above the item's 8
    ],
)
def test_broken_bands_are_refused(bands, message):
    item = copy.deepcopy(INDIV_BANDED)
    item["params"]["bands"] = bands
    with pytest.raises(ValueError, match=message):
        table_from(with_item(item))


# --- items against the year's policy --------------------------------------------------------------


def test_an_item_needing_a_rule_the_year_lacks_is_refused(tmp_path):
    data = shipped()
    data["year"] = 2024  # the 2023 table under the 2024 notice: no borrower leg, no rate rule, no flag
    with pytest.raises(ParamsError) as info:
        load_scoring(write(tmp_path, data, "scoring-2024.yaml"), load_policy(PARAMS / "policy-2024.yaml"))
    text = str(info.value)
    assert "borrowers 有贷款余额户数" in text and "'borrowers_leg'" in text
    assert "cost 新发放贷款利率" in text and "'rate_change'" in text and "'high_rate'" in text
    assert "loan_growth" not in text and "asset_quality" not in text  # the growth leg and NPL rule remain
    assert "2024年度考核通知（金办发〔2024〕26号）未设此项" in text


def test_the_policy_beside_the_table_is_the_one_checked(tmp_path):
    for name in ("indicators.yaml", "policy-2024.yaml"):
        shutil.copy(PARAMS / name, tmp_path / name)
    data = shipped()
    data["year"] = 2024
    with pytest.raises(ParamsError, match="borrowers_leg"):
        load_scoring(write(tmp_path, data, "scoring-2024.yaml"))
    del data["areas"][0]["items"][1:3]  # without the borrower and rate items (−5 … 20 points)
    data["total"] = {"min": -25, "max": 95}
    data["quantitative_outweighs_qualitative"] = False  # 45 quantitative points against 50
    data["grades"][-1]["min"] = -25
    assert load_scoring(write(tmp_path, data, "scoring-2024.yaml")).year == 2024


# --- the 2024 method's six dimensions (a fixture: the office's points are not public) --------------


def test_2024_dimensions_fixture_loads_and_scores_the_demo_rows(demo_csv_dir):
    from analysis.batch.run import _score_notes
    from analysis.state import compute_state

    assert not (PARAMS / "scoring-2024.yaml").exists()  # not shipped: the points are not public
    table = load_scoring(FIXTURE_2024, load_policy(PARAMS / "policy-2024.yaml"))
    assert [a.name for a in table.areas] == SIX_DIMENSIONS
    state = compute_state(demo_csv_dir, PARAMS)
    assert _score_notes(state, "2023-12") == []  # 2023 has its table: the run's summary says nothing
    # the demo's figures relabelled one year on: 2023 rows become 2024's, 2022's the prior year
    rows = state.indicators.copy()
    rows["period"] = rows["period"] + pd.DateOffset(years=1) + pd.offsets.MonthEnd(0)
    rows["year"] = rows["year"] + 1
    items, totals = score_cards(rows, table, pd.Timestamp("2024-12-31"))
    assert len(totals) == 44 and not totals["complete"].any() and set(totals["grade"]) == {"待定"}
    quantitative = items[items["kind"] == "定量"]
    assert quantitative["points"].between(quantitative["min"], quantitative["max"]).all()
    assert not quantitative["reason"].str.contains("[{}]").any()
    b017 = items.set_index(["institution_id", "item_id"]).loc["B017"]
    # B017: inclusive +3.00% against all loans +11.00%: −8 pp, below the −5 band: 0
    assert b017.loc["growth_margin", "points"] == 0
    assert b017.loc["growth_margin", "reason"] == "普惠增速与各项贷款增速之差 -8.00个百分点，低于 -5，得 0 分"


# --- a year without a scoring table --------------------------------------------------------------


def no_table_state():
    from analysis.state import State

    empty = pd.DataFrame()
    return State(
        dataset=None,  # type: ignore[arg-type]
        policies={},
        indicators=empty,
        citywide=empty,
        onlending=empty,
        data_dir=ROOT / "data",
        params_dir=PARAMS,
        scoring={2023: load_scoring(PARAMS / "scoring-2023.yaml")},
    )


def test_a_year_without_a_scoring_table_has_no_score_card_and_says_so():
    from analysis.batch.jobs import BatchSummary, JobResult
    from analysis.batch.run import _score_notes, format_summary
    from analysis.content import institution, overview

    state = no_table_state()
    june = pd.Timestamp("2024-06-30")
    assert state.scores(june) == (None, None, None)  # never the 2023 table
    zh = "该年度无监管评价评分表（params/scoring-2024.yaml），未计算评分"
    # a report sent to a bank (and the overview) names no file of the office's; the summary does
    said = "本年度未制定监管评价评分表，未计算评分。"
    bank_ctx = SimpleNamespace(state=state, period=june, institution_id="B017", row={"category": "农村商业银行"})
    card = str(institution.score_card(bank_ctx))
    assert said in card and "params" not in card and ".yaml" not in card
    city = SimpleNamespace(state=state, period=june)
    assert said in str(overview.score_ranking(city))
    for by in ("category", "division"):  # the headings of the distribution have the same note under them
        assert str(overview.grade_distribution(city, by)) == str(overview.score_ranking(city))
    notes = _score_notes(state, "2024-06")
    summary = BatchSummary("2024-06", ROOT / "reports" / "2024-06", [JobResult("B017", "done"), *notes], 1.0)
    text = format_summary(summary)
    assert f"{zh} / no scoring table for 2024: no score card computed" in text
    assert "完成 1 份" in text and "⚠" not in text  # a note, not a report and not a warning
