"""The PDF covers' dates: the 印发日期 from the period by documents.yaml's issue_date rule (the date the
Word drafts carry), never the machine's clock; months and days without zero padding."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from analysis.batch.jobs import OVERVIEW_KEY, Job
from analysis.batch.plan import cover, cover_issue_date
from analysis.core.periods import chinese_date, month_label
from analysis.core.policy import load_policy

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"


def _job(key: str, title: str) -> Job:
    return Job(key, title, "institution_report.ipynb", {}, "reports/x", "")


def test_the_cover_date_is_the_20th_of_the_next_month_moved_off_a_weekend():
    # worked by hand on a calendar: 2024-01-20 is a Saturday → Monday 2024-01-22;
    # 2025-07-20 is a Sunday → Monday 2025-07-21; 2024-07-20 is a Saturday → Monday 2024-07-22
    assert cover_issue_date(PARAMS, pd.Timestamp("2023-12-31")) == date(2024, 1, 22)
    assert cover_issue_date(PARAMS, pd.Timestamp("2025-06-30")) == date(2025, 7, 21)
    assert cover_issue_date(PARAMS, date(2024, 6, 30)) == date(2024, 7, 22)
    # a year-end rolls into January of the next year; 2025-01-20 is a Monday, kept
    assert cover_issue_date(PARAMS, date(2024, 12, 31)) == date(2025, 1, 20)


def test_the_cover_date_follows_the_office_rule_not_a_fixed_day(tmp_path):
    (tmp_path / "templates").mkdir()
    rule = {"issue_date": {"months_after": 2, "day": 10}}
    (tmp_path / "templates" / "documents.yaml").write_text(yaml.safe_dump(rule), encoding="utf-8")
    # 2023-09 + 2 months: 2023-11-10, a Friday
    assert cover_issue_date(tmp_path, date(2023, 9, 30)) == date(2023, 11, 10)
    # no documents.yaml at all: the default rule (the 20th of the next month), still not the clock
    assert cover_issue_date(tmp_path / "none", date(2023, 12, 31)) == date(2024, 1, 22)


def test_cover_labels_carry_no_zero_padding():
    assert month_label(pd.Timestamp("2025-06-30")) == "2025年6月"
    assert month_label(pd.Timestamp("2023-12-31")) == "2023年12月"
    assert chinese_date(date(2024, 1, 22)) == "2024年1月22日"


def test_a_bank_and_the_overview_cover_of_a_past_period():
    policy = load_policy(PARAMS / "policy-2025.yaml")
    end = pd.Timestamp("2025-06-30")
    issued = cover_issue_date(PARAMS, end)
    bank = cover(_job("B020", "某某银行"), policy, end, issued)
    assert bank["issued"] == "2025年7月21日" and bank["period_label"] == "2025年6月"
    assert bank["name"] == "某某银行" and bank["title"] == "小微企业金融服务监管评价报告"
    city = cover(_job(OVERVIEW_KEY, "总览"), policy, end, issued)
    assert city["issued"] == "2025年7月21日" and city["name"] == f"{policy.jurisdiction}银行保险机构"
