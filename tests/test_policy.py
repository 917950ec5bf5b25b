"""Policy parameter files are validated on load; a broken file is refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analysis.errors import ParamsError
from analysis.policy import load_policies, load_policy, policy_for_year

ROOT = Path(__file__).resolve().parents[1]
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


@pytest.mark.parametrize("mutate,expected", [
    (lambda d: d["quality"].update(npl_tolerance_pp=-1), "quality.npl_tolerance_pp"),
    (lambda d: d["plan"].update(categories=["外资银行"]), "plan.categories"),
    (lambda d: d.update(unexpected=1), "unexpected"),
    (lambda d: d["cost"].pop("clause"), "cost.clause"),
    (lambda d: d["two_increases"].update(entity_types=["总行"]), "two_increases.entity_types"),
    (lambda d: d["watch_checks"].append({"indicator": "no_such", "label": "x", "min": 0, "clause": "x",
                                         "sectors": ["bank"]}), "no_such"),
    (lambda d: d.update(year=2024), "year"),
])
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
    from analysis.indicators import compute_indicators
    from analysis.validation import load_dataset

    ds = load_dataset(demo_csv_dir, ROOT / "params")
    strict = load_policy(SHIPPED)
    data = _shipped()
    data["quality"]["npl_tolerance_pp"] = 10.0
    lenient = load_policy(_write(tmp_path, data))
    pick = lambda ind: ind[(ind.institution_id == "B030") & (ind.period == "2023-12-31")]["status_npl"].item()  # noqa: E731
    assert pick(compute_indicators(ds, strict)) == "not_met"
    assert pick(compute_indicators(ds, lenient)) == "met"
