"""analysis.demo.province: a synthetic province that passes the data contract at any size."""

from __future__ import annotations

from analysis.core.contract import CATEGORIES, POLICY_BANK
from analysis.demo.province import province_tables, write_province_data
from analysis.inputs.validation import load_dataset


def test_a_small_province_keeps_every_category():
    inst = province_tables(20)["institutions"]
    # one demo copy (60 institutions): round-robin over the 9 categories takes the first of each (9),
    # the second of each except the policy bank, which has one (8), then the third of the first 3
    # categories that have one: large banks, joint-stock banks, city commercial banks
    assert len(inst) == 20 and inst["institution_id"].is_unique
    counts = inst["category"].value_counts()
    assert set(counts.index) == set(CATEGORIES)
    assert counts[POLICY_BANK] == 1
    assert sorted(counts.tolist()) == [1] + [2] * 5 + [3] * 3
    assert "B001" in set(inst["institution_id"])  # copy 0 keeps the demo's ids


def test_a_province_beyond_one_demo_copy_is_valid_and_its_copies_differ(tmp_path):
    tables = province_tables(130)  # three demo copies of 60, cut to 130
    inst = tables["institutions"]
    assert len(inst) == 130 and inst["institution_id"].is_unique and inst["name"].is_unique
    # the policy bank (one per copy) is the first of its category in every copy: all three kept
    assert {"B001", "B001-01", "B001-02"} <= set(inst["institution_id"])
    m = tables["monthly"].set_index(["institution_id", "period"])["inclusive_balance"]
    assert not m.loc["B001"].equals(m.loc["B001-01"].rename(None))  # own seed, own figures
    ds = load_dataset(write_province_data(tmp_path / "province", 130))  # raises on any contract problem
    assert len(ds.institutions) == 130
    assert ds.monthly["institution_id"].nunique() == 130
