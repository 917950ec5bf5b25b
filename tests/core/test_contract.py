"""The data contract document is generated from the code and states the choices the notice leaves."""

from __future__ import annotations

import re
from pathlib import Path

from analysis.core.contract import ID_PATTERN, render_markdown
from analysis.core.indicator_defs import load_indicator_params

ROOT = Path(__file__).resolve().parents[2]
NOTICE = Path("/work/shared/notice-2023-15.txt")


def test_document_is_current():
    text = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert text == render_markdown(load_indicator_params(ROOT / "params").contract_columns()), (
        "docs/data-contract.md is stale: run `analysis contract-doc`"
    )


def test_choices_where_the_notice_is_silent_are_stated_with_their_clauses():
    text = render_markdown()
    section = text.split("## Choices where the notice is silent / 通知未明确事项的处理", 1)[1].split("\n## ", 1)[0]
    bullets = [b for b in section.split("\n- ")[1:]]
    assert len(bullets) == 3
    ties, zero, new = bullets
    assert "一（一）" in ties and "不低于" in ties and "analysis.core.compare" in ties
    assert "一（一）" in zero and "年初余额为零" in zero
    assert "一（一）" in new and "六（十六）" in new and "missing_base_december" in new and "不适用" in new


def test_clauses_cited_exist_in_the_notice():
    if not NOTICE.exists():  # the notice is shared outside the repository
        return
    notice = NOTICE.read_text(encoding="utf-8")
    # 一（一） holds 两增 with its 不低于 footnote; （十六） sits in part 六 and names 统计数据质量
    part_one = notice.split("一、", 1)[1].split("二、", 1)[0]
    assert "（一）" in part_one and "两增" in part_one and "不低于" in notice
    part_six = notice.split("六、", 1)[1]
    assert "(十六)" in part_six and "统计数据质量" in part_six.split("(十六)", 1)[1].split("(十七)", 1)[0]


def test_id_pattern_and_unit_checks_are_documented():
    text = render_markdown()
    assert f"`{ID_PATTERN}`" in text
    assert "`inclusive_balance`" in text.split("**Units / 单位**", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"\| `implausible_unit` \|", text) and re.search(r"\| `missing_base_december` \| （提示）", text)
