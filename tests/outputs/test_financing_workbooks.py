"""The county workbooks (融资协调/<县区代码>-<县区>.xlsx) and the content functions of the mechanism, on
the hand-made pairs of tests/rules/test_financing.py (their figures worked out there)."""

from __future__ import annotations

import zipfile

import pandas as pd
from openpyxl import load_workbook

from analysis.content.financing import bank_section, bulletin_fields, city_section, letter_fields
from analysis.core.financing import DEFAULT_FINANCING_PARAMS
from analysis.outputs.financing_workbooks import FOLDER, write_county_workbooks
from analysis.rules.financing import financing_figures
from tests.rules.test_financing import TARGETS, policy, tables

INSTITUTIONS = pd.DataFrame({"institution_id": ["B017", "B018", "B030"], "name": ["甲农商行", "乙农商行", "丙信用社"]})


def figures():
    return financing_figures(tables(), "2025-06", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)


def test_one_workbook_per_county_with_its_firms_overdue_first(tmp_path):
    written = write_county_workbooks(figures(), tmp_path, INSTITUTIONS)
    assert sorted(p.name for p in written) == ["411302-宛城区.xlsx", "411303-卧龙区.xlsx", "411321-南召县.xlsx"]
    assert sorted(p.name for p in (tmp_path / FOLDER).iterdir()) == sorted(p.name for p in written)
    assert [p.name for p in tmp_path.iterdir()] == [FOLDER]  # no staging folder left
    book = load_workbook(tmp_path / FOLDER / "411321-南召县.xlsx")
    assert book.sheetnames == ["企业状态", "超期未办结", "分机构汇总", "未计入统计", "说明"]
    rows = list(book["超期未办结"].values)
    header, first = rows[0], dict(zip(rows[0], rows[1]))
    assert "企业名称" in header and first["企业名称"] == "企业E" and first["超期天数"] == 60
    assert first["当前状态"] == "未反馈" and first["推送银行"] == "丙信用社"
    wanchen = load_workbook(tmp_path / FOLDER / "411302-宛城区.xlsx")
    assert len(list(wanchen["企业状态"].values)) == 1 + 3  # pairs 1, 2, 3
    summary = {r[0]: r for r in list(wanchen["分机构汇总"].values)[1:]}
    assert summary["B017"][2] == 2 and summary["B018"][2] == 1  # pushed in the county
    for path in written:  # the workbooks hold no formula
        with zipfile.ZipFile(path) as z:
            assert not any(b"<f>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))


def test_a_rewrite_replaces_the_folder_whole(tmp_path):
    write_county_workbooks(figures(), tmp_path, INSTITUTIONS)
    stale = tmp_path / FOLDER / "411330-桐柏县.xlsx"
    stale.write_bytes(b"old")
    write_county_workbooks(figures(), tmp_path, INSTITUTIONS)
    assert not stale.exists()


def test_a_bank_section_names_no_other_bank():
    html = str(bank_section(figures(), "B030"))
    assert "企业E" in html and "超期未办结企业（1户次）" in html and "未达标" in html
    for other in ("B017", "B018", "甲农商行", "乙农商行"):
        assert other not in html
    assert str(bank_section(None, "B030")) == ""
    assert "未向本机构推送" in str(bank_section(figures(), "B999"))


def test_city_section_bulletin_and_letter_fields():
    html = str(city_section(figures(), INSTITUTIONS))
    assert "宛城区" in html and "丙信用社" in html and "已获他行融资" in html
    fields = bulletin_fields(figures(), INSTITUTIONS)
    assert fields["city"]["pushed"] == "6" and fields["city"]["contact_rate"] == "75.00%"
    assert fields["city"]["decided_within"] == "50.00%" and fields["has_targets"] == "是"
    below = {(b["id"], b["target"]) for b in fields["banks_below"]}
    assert below == {("B030", "推荐企业对接率"), ("B017", "推荐企业按时办结率"), ("B030", "推荐企业按时办结率")}
    assert all(isinstance(v, str) for v in fields["city"].values())
    assert letter_fields(figures(), "B018") is None  # both targets met
    letter = letter_fields(figures(), "B030", you="你社")
    assert "你社" in letter["text"] and letter["overdue_count"] == "1" and letter["overdue"][0]["days"] == "60"
    assert [s["label"] for s in letter["shortfalls"]] == ["推荐企业对接率", "推荐企业按时办结率"]
    assert "B017" not in str(letter)
    assert bulletin_fields(None, INSTITUTIONS) == {} and letter_fields(None, "B030") is None


def test_a_period_before_the_lists_has_no_workbooks_and_says_when_they_began(tmp_path):
    early = financing_figures(tables(), "2024-12", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)
    (tmp_path / FOLDER).mkdir()
    (tmp_path / FOLDER / "411302-宛城区.xlsx").write_bytes(b"stale")
    assert write_county_workbooks(early, tmp_path, INSTITUTIONS) == []
    assert not (tmp_path / FOLDER).exists()  # a stale folder of an earlier run goes
    # the first 推荐日期 of the hand-made pairs is E's, 2025-04-01
    said = "本期尚无推荐清单（融资协调工作机制推荐清单自2025年4月起报送）。"
    assert said in str(bank_section(early, "B017")) and said in str(city_section(early, INSTITUTIONS))


def test_a_bank_sees_its_rows_left_out_without_the_offices_file_names():
    from analysis.core.dataset import FinancingTables

    base = tables()
    excluded = pd.DataFrame(
        {
            "table": ["银行反馈"],
            "source": ["银行反馈-2025-06.xlsx"],
            "row": [17],
            "institution_id": ["B030"],
            "credit_code": ["E"],
            "firm_name": ["企业E"],
            "county_code": ["411321"],
            "batch": ["第1批"],
            "list_date": pd.to_datetime(["2025-04-01"]),
            "rule": ["date_order"],
            "detail": ["授信日期早于对接日期"],
        }
    )
    f = financing_figures(FinancingTables(base.pairs, excluded), "2025-06", policy(**TARGETS), DEFAULT_FINANCING_PARAMS)
    html = str(bank_section(f, "B030"))
    assert "未计入统计的清单及反馈行（1行）" in html and "本机构反馈" in html and "2025-04-01" in html
    assert "银行反馈-2025-06.xlsx" not in html and ">17<" not in html
