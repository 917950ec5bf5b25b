"""The documents speak as a regulator writes (issue: documents the office can sign).

Signs are said in words, each shortfall is said once under the rule that judged it, every 未达标
of a report reaches its letter and the 通报, and the flags the notice names are 关注 items. The
phrases are checked on figures worked by hand; the demo's planted institutions (B036 under
差异化考核, B001's on-lending, B033's rate far above its peers', B034's fall) in its letters.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis.content import wording
from analysis.content.institution import institution_context
from analysis.outputs.documents import bulletin_context, letter_context, load_settings
from analysis.state import compute_state

ROOT = Path(__file__).resolve().parents[2]
ISSUED = date(2024, 1, 22)


# ---------------------------------------------------------------- the phrases, by hand


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        (wording.growth(-4.0), "下降4.00%"),
        (wording.growth(12.98617), "增长12.99%"),
        (wording.growth(0.001), "持平"),  # 0.00 at the shown precision: neither up nor down
        (wording.growth(float("nan")), "—"),
        (wording.change(-1590.92), "减少1,590.92万元"),
        (wording.change(23676, "户", 0), "增加23,676户"),
        (wording.gap(-10.64), "低10.64个百分点"),
        (wording.gap(5.959786), "高5.96个百分点"),
        (wording.gap(0.0), "相当"),
        (wording.rise(-21.69, "个基点", 0), "下降22个基点"),
        (wording.rise(1.29), "上升1.29个百分点"),
        # 1,546,464.40 万元 = 154.6464 亿元 → two decimals
        (wording.yi(1_546_464.40), "154.65亿元"),
        (wording.change_yi(-25_000.0), "减少2.50亿元"),
        (wording.percent(109.375797), "109.38%"),
        (wording.quarter_name("2023Q3"), "2023年第三季度"),
        (wording.names(["甲", "乙", "丙"], limit=2), "甲、乙等3家"),
        # a standard as the notice states it: "3个百分点", not "3.0个百分点"
        (wording.standard(3.0, "个百分点"), "3个百分点"),
        (wording.standard(2.5, "个百分点"), "2.5个百分点"),
        (wording.standard(None, "个百分点"), "—"),
        # a plan's completion: 3,758.47 of 6,000 万元 = 62.64%; a fall is no share
        (wording.completion(3758.47 / 6000 * 100), "完成62.64%"),
        (wording.completion(-61.19), "完成率为负"),
    ],
)
def test_signs_are_said_in_words(said, expected):
    assert said == expected


def test_a_negative_never_lands_in_a_positive_phrase():
    for value in (-0.5, -4.0, -1590.92, -10.64):
        for phrase in (wording.growth(value), wording.change(value), wording.gap(value), wording.rise(value)):
            assert "-" not in phrase and "+" not in phrase, phrase


# ---------------------------------------------------------------- the demo's planted cases

PERIOD = "2023-12"
END = pd.Timestamp("2023-12-31")


@pytest.fixture(scope="module")
def state(demo_csv_dir):
    return compute_state(demo_csv_dir, ROOT / "params")


@pytest.fixture(scope="module")
def settings():
    return load_settings(ROOT / "params")


def _letter(state, iid, settings, period=PERIOD):
    return letter_context(institution_context(iid, period, state=state), ISSUED, settings)


def _running_text(context: dict) -> list[str]:
    """The sentences a letter prints in running text (not its figure table)."""
    items = context["shortfalls"] + context["watch"]
    return [context["differentiated"]] + [i["text"] for i in items] + [i["recommendation"] for i in items]


def test_b036_under_differentiated_assessment_is_charged_once_under_its_plan(state, settings):
    """B036: 差异化考核, plan completion 62.64% (3,758.47 of 6,000 万元). Its growth leg is judged by
    that completion: one shortfall, under the plan, with the plan's recommendation, never asking for
    growth at least equal to all loans — what 差异化考核 waives."""
    row = state.indicators[(state.indicators["period"] == END) & (state.indicators["institution_id"] == "B036")]
    assert bool(row["differentiated"].iloc[0]) and row["status_growth_leg"].iloc[0] == "not_met"
    letter = _letter(state, "B036", settings)
    assert [s["key"] for s in letter["shortfalls"]] == ["plan"]
    plan = letter["shortfalls"][0]
    assert "差异化考核" in plan["label"] and "差异化考核" in letter["differentiated"]
    assert "完成62.64%" in plan["text"] and "6,000.00万元" in plan["text"]
    assert "不低于各项贷款增速" not in " ".join(_running_text(letter))
    # the year is over: the recommendation is the year-end one, not "确保全年完成"
    assert "确保全年完成" not in plan["recommendation"] and "下一年度" in plan["recommendation"]


def test_b036_is_listed_once_in_the_bulletin(state, settings):
    bulletin = bulletin_context(state, PERIOD, ISSUED, settings)
    where = [m["title"] for m in bulletin["misses"] for r in m["rows"] if r["id"] == "B036"]
    assert where == ["信贷计划未完成"]
    (row,) = [r for m in bulletin["misses"] for r in m["rows"] if r["id"] == "B036"]
    assert "差异化考核" in row["detail"]


def test_b001_on_lending_reaches_its_letter_and_the_bulletin(state, settings):
    """B001's on-lending 2023Q3: 8.90% against the 2023Q2 benchmark 6.20% (270 bp above): 未达标
    in its table, so in its letter and the 通报, though its 2023Q4 quarter met the rule."""
    ol = state.onlending
    q3 = ol[(ol["institution_id"] == "B001") & (ol["quarter"] == "2023Q3")].iloc[0]
    assert q3["status_onlending"] == "not_met"
    letter = _letter(state, "B001", settings)
    assert letter is not None
    (item,) = [s for s in letter["shortfalls"] if s["key"] == "onlending"]
    assert "2023年第三季度" in item["text"] and f"{q3['end_borrower_rate']:.2f}%" in item["text"]
    assert f"高{q3['rate_gap_bp']:.0f}个基点" in item["text"]
    bulletin = bulletin_context(state, PERIOD, ISSUED, settings)
    onlending = [m for m in bulletin["misses"] if "转贷款" in m["title"]]
    assert [r["id"] for m in onlending for r in m["rows"]] == ["B001"]


def test_b033_far_above_its_peers_gets_a_letter_with_a_watch_item(state, settings):
    """B033's rate is flagged markedly above its category's (the notice's 个别利率较高的银行机构) and
    it cut it: no 未达标, but a 关注 item in a letter and in the 通报's 关注 list."""
    letter = _letter(state, "B033", settings)
    assert letter is not None and letter["shortfalls"] == []
    (item,) = [w for w in letter["watch"] if w["key"] == "high_rate"]
    assert "利率明显偏高" in item["text"] and "较同类机构中位数" in item["text"]
    bulletin = bulletin_context(state, PERIOD, ISSUED, settings)
    assert [r["name"] for w in bulletin["watch"] for r in w["rows"]] == [letter["institution"]["name"]]


def test_b034_falls_are_said_as_falls(state, settings):
    """B034 fell on every count: its letter says 下降 and 减少, never "增长 -4.00%" or "完成 -61.19%"."""
    letter = _letter(state, "B034", settings)
    text = " ".join(_running_text(letter))
    assert "下降4.00%" in text and "减少1,590.92万元" in text and "低10.64个百分点" in text
    assert "完成率为负" in text
    assert not re.search(r"[增长加完成差高低]\s*[-+−]\d", text), text


def test_b030_npl_tolerance_as_the_notice_states_it(state, settings):
    """B030's NPL ratio is beyond the 2023 notice's tolerance of 3 percentage points: said "3个百分点"."""
    text = " ".join(_running_text(_letter(state, "B030", settings)))
    assert "超出3个百分点的容忍度" in text and "3.0个百分点" not in text


def test_no_sign_in_running_text_of_any_letter_or_the_bulletin(state, settings):
    """Over every letter of both demo periods and the 通报: no figure with a sign in a sentence."""
    signed = re.compile(r"(?<![\d（(])[-+−]\d")
    for period in ("2023-06", "2023-12"):
        ids = state.indicators.loc[
            state.indicators["period"] == pd.Timestamp(period) + pd.offsets.MonthEnd(0), "institution_id"
        ]
        assert len(ids) > 50  # every institution of the period
        for iid in ids:
            letter = _letter(state, iid, settings, period)
            if letter is None:
                continue
            for sentence in _running_text(letter):
                assert not signed.search(sentence), (iid, sentence)
        bulletin = bulletin_context(state, period, ISSUED, settings)
        texts = [h["text"] for h in bulletin["highlights"]] + [s["change"] for s in bulletin["structure"]]
        texts += [r["detail"] for m in bulletin["misses"] + bulletin["watch"] for r in m["rows"]]
        texts += [v for k, v in bulletin["figures"].items()]
        for sentence in texts:
            assert not signed.search(sentence), (period, sentence)


def test_the_bulletin_covers_insurers_structure_and_good_performers(state, settings):
    bulletin = bulletin_context(state, PERIOD, ISSUED, settings)
    rows = state.indicators[state.indicators["period"] == END]
    insurers = rows[rows["sector"] == "insurer"]
    assert bulletin["insurers"]["count"] == str(len(insurers)) == str(len(bulletin["insurer_rows"]))
    premium = insurers["premium_ytd"].sum()
    assert bulletin["insurers"]["premium"] == f"{premium:,.2f}万元"
    labels = [s["label"] for s in bulletin["structure"]]
    assert "普惠型小微企业信用贷款占比" in labels and "首贷户数（当年累计）" in labels
    # the fastest-growing bank meeting its growth leg is named first among the good performers
    banks = rows[(rows["sector"] == "bank") & (rows["status_growth_leg"] == "met")]
    banks = banks[~banks["growth_leg_zero_base"].fillna(False).astype(bool)]
    fastest = banks.loc[banks["inclusive_ytd_growth_pct"].idxmax(), "name"]
    assert f"居前的有{fastest}" in bulletin["highlights"][0]["text"]


def test_city_totals_in_yi_with_the_overview_rounding(state, settings):
    """154.65亿元 in the 通报 and 109.38% in both it and the overview (one rule)."""
    from analysis.content import overview

    bulletin = bulletin_context(state, PERIOD, ISSUED, settings)
    city = state.citywide.loc[END]
    completion = f"{city['legal_plan_completion_pct']:.2f}%"
    assert bulletin["figures"]["legal_plan_completion"] == completion
    assert bulletin["figures"]["legal_plan_increase"] == f"{city['legal_plan_increase'] / 10_000:,.2f}亿元"
    html = str(overview.citywide_section(overview.city_context(PERIOD, state=state)))
    assert completion in html and "万元" not in html


# ---------------------------------------------------------------- the financing coordination mechanism


@pytest.fixture(scope="module")
def financing_state(demo_csv_dir, tmp_path_factory):
    """The demo with its 推荐清单 and 银行反馈 (Oct 2024 … 2025-06)."""
    import shutil

    from analysis.demo.financing import write_demo_financing

    folder = tmp_path_factory.mktemp("financing") / "data"
    shutil.copytree(demo_csv_dir, folder)
    write_demo_financing(folder)
    return compute_state(folder, ROOT / "params")


def test_a_bank_below_a_mechanism_target_gets_it_in_its_letter(financing_state, settings):
    """B020 (planted): 30 firms pushed to it by 2025-06 whose 30-day window has ended, 24 decided in
    time (80%, against 100%), 8 still undecided: the letter says so once and lists the 8 firms."""
    figures = financing_state.financing(pd.Timestamp("2025-06-30"))
    mine = figures.firms[figures.firms["institution_id"] == "B020"]
    overdue = mine[mine["overdue"].astype(bool)]
    assert len(overdue) == 8
    letter = _letter(financing_state, "B020", settings, "2025-06")
    assert letter is not None
    (item,) = [s for s in letter["shortfalls"] if s["key"] == "financing"]
    assert "按时办结率80.00%" in item["text"] and not item["text"].endswith("。")
    assert sorted(f["code"] for f in letter["financing_overdue"]) == sorted(overdue["credit_code"])
    assert letter["financing_overdue_count"] == "8"
    # another bank's firms never: every firm listed is B020's
    others = figures.firms[figures.firms["institution_id"] != "B020"]["credit_code"]
    assert not set(f["code"] for f in letter["financing_overdue"]) & (set(others) - set(mine["credit_code"]))


def test_the_bulletin_has_the_mechanism_section_from_2024_only(financing_state, settings):
    from analysis.outputs.documents import BULLETIN_FIELDS

    late = bulletin_context(financing_state, "2025-06", ISSUED, settings)["financing"]
    schema = BULLETIN_FIELDS["financing"]
    assert set(late) == set(schema) and set(late["city"]) == set(schema["city"])
    assert set(late["counties"][0]) == set(schema["counties"][0])
    assert [b["id"] for b in late["banks_below"]] == ["B020"]
    assert late["reasons_text"].count("户次") == 3  # the three reasons given most
    assert len(late["counties"]) == 13
    assert bulletin_context(financing_state, "2023-12", ISSUED, settings)["financing"] == {}


@pytest.mark.parametrize(("name", "banks"), [("通报.docx", "辖内法人银行"), ("通报-2025.docx", "辖内地方法人银行")])
def test_the_plan_paragraph_names_the_banks_as_its_notice_does(name, banks):
    """2023 says 法人银行; the 2024 and 2025 notices say 地方法人银行 (as the 两增 paragraph above it)."""
    from docx import Document

    text = "\n".join(p.text for p in Document(str(ROOT / "params" / "templates" / name)).paragraphs)
    assert f"{banks}总体普惠型小微企业信贷计划完成率" in text
    if banks == "辖内地方法人银行":
        assert "家法人银行" not in text.replace("家地方法人银行", "")
