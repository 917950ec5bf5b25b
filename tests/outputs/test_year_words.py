"""Every year-dependent word from that year's files (issue 28, item 4): the clause numbers, the office's
发文字号 prefix and the wording of the 通报 and the 监管提示函 come from the policy year's params — its
``policy-<year>.yaml``, its entry of ``params/templates/documents.yaml`` (its own set of templates) and
``params/loans.yaml`` (the loan checks' clauses by year) — never from notebooks or code. The documents
are rendered from a hand-made state of three banks over 2023–2025 (the rows of
``tests/rules/test_policy_years.py``, with one year more); what each year's documents must and must
not say is read from the shipped notices' words, not from the code."""

from __future__ import annotations

import re
import shutil
from datetime import date
from pathlib import Path

import docx
import pytest
import yaml

from analysis.core.errors import ParamsError
from analysis.core.policy import load_policies
from analysis.outputs.documents import (
    TemplateFieldError,
    check_templates,
    load_settings,
    notice_requirement,
    write_documents,
)
from tests.conftest import make_dataset
from tests.rules.test_policy_years import bank, row

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
ISSUED = date(2025, 1, 20)

#: a clause number as the 2023 notice prints them (第（十六）条), anywhere in a text
CLAUSE_NUMBER = re.compile(r"第（[^）]{1,8}）条")
#: the 2023 office's name and 发文字号 prefix (宛银保监办发, 宛银保监提示)
OLD_OFFICE = "宛银保监"
#: words that exist only in params (and prose about the 2023 notice written as a record of it): a
#: file here may hold them until it is reworded; nothing else in src/analysis or notebooks may
KNOWN_ELSEWHERE: dict[str, str] = {}


# ---------------------------------------------------------------- no year word in notebooks or code


def _sources() -> list[Path]:
    files = sorted((ROOT / "notebooks").glob("*.ipynb"))
    for suffix in ("py", "sql", "yaml", "md", "txt"):
        files += sorted((ROOT / "src" / "analysis").rglob(f"*.{suffix}"))
    return files


def test_notebooks_and_code_hold_no_clause_number_and_no_office_prefix():
    found = []
    for path in _sources():
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT).as_posix()
        allowed = KNOWN_ELSEWHERE.get(where)
        if allowed is not None:
            text = text.replace(allowed, "")
        found += [f"{where}: {m}" for m in CLAUSE_NUMBER.findall(text)]
        found += [f"{where}: {OLD_OFFICE}…" for _ in range(text.count(OLD_OFFICE))]
    assert found == [], "year words belong in params/ / 年度用语应写在 params 中:\n" + "\n".join(found)


def test_the_check_finds_a_planted_clause_number():
    """The pattern above matches what the notebooks held before (so the test is not vacuous)."""
    assert CLAUSE_NUMBER.findall("通知第（六）条要求；以及通知第（十六）条所列") == ["第（六）条", "第（十六）条"]
    assert not CLAUSE_NUMBER.findall("关于“保量”的要求（一）辖内")


# ---------------------------------------------------------------- documents.yaml: one entry per year


def test_each_policy_year_has_its_own_templates_and_words():
    settings = load_settings(PARAMS)
    policy_years = sorted(load_policies(PARAMS))
    assert sorted(settings.years) == policy_years == [2023, 2024, 2025]
    y23, y24, y25 = (settings.for_year(y) for y in policy_years)
    assert (y23.bulletin, y23.letter) == ("通报.docx", "提示函.docx")
    assert (y24.bulletin, y24.letter) == ("通报-2024.docx", "提示函-2024.docx")
    assert (y25.bulletin, y25.letter) == ("通报-2025.docx", "提示函-2025.docx")
    assert y23.regional_balance_clause == "第（六）条"
    assert y24.regional_balance_clause == "" and y25.regional_balance_clause == ""
    for entry in (y23, y24, y25):
        assert (PARAMS / "templates" / entry.bulletin).is_file() and (PARAMS / "templates" / entry.letter).is_file()


def test_a_year_without_an_entry_is_refused_naming_the_key_to_add():
    settings = load_settings(PARAMS)
    with pytest.raises(ParamsError) as caught:
        settings.for_year(2031)
    message = str(caught.value)
    assert "years.2031" in message and "documents.yaml" in message and "2023、2024、2025" in message
    with pytest.raises(ParamsError, match="years.2031"):
        check_templates(PARAMS, "2031-06")


def test_templates_named_once_for_every_year_are_refused_with_the_new_shape(tmp_path):
    params = tmp_path / "params"
    (params / "templates").mkdir(parents=True)
    (params / "templates" / "documents.yaml").write_text(
        "bulletin: 通报.docx\nletter: 提示函.docx\nreply_days: 15\n", encoding="utf-8"
    )
    with pytest.raises(ParamsError, match=r"years\.<年度>"):
        load_settings(params)


def _params_copy(tmp_path: Path) -> Path:
    params = tmp_path / "params"
    shutil.copytree(PARAMS, params)
    return params


def test_the_check_covers_every_year_a_run_may_render(tmp_path):
    """Without a period (the check before any work of ``analysis run``), a bad 2024 template is
    refused; with a 2023 period only 2023's templates are checked; with a 2024 period 2024's."""
    params = _params_copy(tmp_path)
    document = docx.Document(str(params / "templates" / "通报-2024.docx"))
    document.add_paragraph("{{ figures.legal_borrowers_chnage }}")
    document.save(str(params / "templates" / "通报-2024.docx"))
    for period in (None, "2024-06"):
        with pytest.raises(TemplateFieldError) as caught:
            check_templates(params, period)
        assert "通报-2024.docx" in str(caught.value) and "figures.legal_borrowers_chnage" in str(caught.value)
    assert check_templates(params, "2023-06").for_year(2023).bulletin == "通报.docx"


def test_a_policy_year_missing_from_documents_yaml_stops_the_check_before_any_work(tmp_path):
    params = _params_copy(tmp_path)
    settings = yaml.safe_load((params / "templates" / "documents.yaml").read_text(encoding="utf-8"))
    del settings["years"][2025]
    (params / "templates" / "documents.yaml").write_text(yaml.safe_dump(settings, allow_unicode=True), "utf-8")
    with pytest.raises(ParamsError, match="years.2025"):
        check_templates(params)  # policy-2025.yaml is there: a run of 2025 may render its documents
    check_templates(params, "2024-12")  # a 2024 run renders 2024's only


# ---------------------------------------------------------------- the documents of each year


def _rows(balances: dict[str, list[tuple[float, float, float, float]]]) -> list[dict]:
    """Year-end rows 2022–2025 of each bank: (balance, all loans, borrowers, YTD interest)."""
    years = ["2022-12", "2023-12", "2024-12", "2025-12"]
    return [row(iid, period, *values) for iid, series in balances.items() for period, values in zip(years, series)]


def _state(tmp_path_factory, a_2024_balance: float):
    """L1 (农商, legal) and L2 (村镇, legal) as in test_policy_years; A (大型, branch) grows
    480 → 500 → ``a_2024_balance`` → +10 % in 2025 against all loans' +5 % each year. Plans: A's 40
    in 2024 and 100 in 2025 are missed (an increase of 20 or 30, and 50 or so), the others met."""
    a_2025 = a_2024_balance * 1.10
    monthly = _rows(
        {
            "L1": [(1000, 5000, 100, 60), (1100, 5400, 95, 62), (1210, 5832, 90, 65), (1331, 6298.56, 85, 65)],
            "L2": [(200, 1000, 50, 60), (204, 1050, 50, 60), (208.08, 1102.5, 50, 60), (212.2416, 1157.625, 50, 60)],
            "A": [(480, 1900, 40, 50), (500, 2000, 40, 50), (a_2024_balance, 2100, 40, 50), (a_2025, 2205, 40, 50)],
        }
    )
    plans = [
        {"institution_id": iid, "year": year, "planned_increase": planned}
        for iid, year, planned in [
            ("L1", 2023, 100), ("L1", 2024, 100), ("L1", 2025, 100),
            ("L2", 2023, 4), ("L2", 2024, 4), ("L2", 2025, 4),
            ("A", 2023, 20), ("A", 2024, 40), ("A", 2025, 100),
        ]
    ]  # fmt: skip
    institutions = [bank("L1", "农村商业银行"), bank("L2", "村镇银行"), bank("A", "大型商业银行", "分支机构")]
    from analysis.state import state_from_dataset

    folder = tmp_path_factory.mktemp("year-words")
    return state_from_dataset(make_dataset(institutions, monthly, plans), load_policies(PARAMS), folder, PARAMS)


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    """A meets 2024's growth target (530: +6 % against +5 %), so every 2024 list it is on is the plan's."""
    return _state(tmp_path_factory, 530.0)


def text_of(path: Path) -> str:
    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for r in table.rows for cell in r.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


@pytest.fixture(scope="module")
def rendered(state, tmp_path_factory):
    """period → (text of the 通报, {id: text of its letter})."""
    out = {}
    for period in ("2023-12", "2024-12", "2025-12"):
        folder = tmp_path_factory.mktemp(period)
        written = write_documents(state, period, folder, PARAMS, issued=ISSUED)
        assert written.failed == {}
        letters = {iid: text_of(folder / name) for iid, name in written.letters.items()}
        out[period] = (text_of(folder / f"通报-{period}.docx"), letters)
    return out


def test_a_2023_period_uses_the_2023_templates_and_words(rendered):
    bulletin, letters = rendered["2023-12"]
    assert "宛银保监办发〔2025〕" in bulletin and "第（十五）条至第（十七）条" in bulletin
    assert "宛银保监办发〔2023〕15号" in bulletin and "“两增”" in bulletin
    # 2023 judges legal banks each: L1 lost borrowers and its rate rose, L2 grew 2 % against 5 %
    assert set(letters) == {"L1", "L2"}
    assert "宛银保监提示〔2025〕" in letters["L1"] and "第（十五）条至第（十七）条" in letters["L1"]
    assert "宛银保监办发〔2023〕15号第（一）条及脚注1" in letters["L1"]


@pytest.mark.parametrize(
    ("period", "notice", "frame"),
    [
        ("2024-12", "金办发〔2024〕26号", "保量、稳价、优结构"),
        ("2025-12", "金办发〔2025〕46号", "保量、提质、稳价、优结构"),
    ],
)
def test_a_later_period_speaks_its_own_notice(rendered, period, notice, frame):
    bulletin, letters = rendered[period]
    assert set(letters) == {"A"}  # A misses its plan; L1 and L2 meet through their group
    for text in (bulletin, *letters.values()):
        assert notice in text
        for word in (OLD_OFFICE, "第（十五）条", "两增", "户数不低于", "宛银保监办发〔2023〕15号"):
            assert word not in text, (period, word)
        assert not CLAUSE_NUMBER.search(text), (period, CLAUSE_NUMBER.findall(text))
    assert f"关于“{frame}”的要求" in bulletin and f"对照通知“{frame}”的要求" in bulletin
    assert "宛金监办发〔2025〕" in bulletin and "宛金监提示〔2025〕" in letters["A"]
    assert "辖内地方法人银行总体普惠型小微企业贷款增速完成“不低于各项贷款增速”的目标" in bulletin
    assert "有贷款余额户数较年初" not in bulletin  # no borrower leg in the figures
    # the plan, as the year's policy cites it, and nothing of 2023's
    assert "信贷计划未完成（1家）" in bulletin
    assert f"依据：{notice}（南阳监管分局年度信贷计划）。" in letters["A"]


def test_2025_names_what_only_its_notice_asks(rendered):
    bulletin, _ = rendered["2025-12"]
    assert "融资协调工作机制" in bulletin and "根据LPR、资金成本、客群风险科学合理确定贷款利率" in bulletin
    assert "融资协调工作机制" not in rendered["2024-12"][0]


def test_a_2024_bulletin_lists_a_growth_miss_without_a_borrower_figure(tmp_path_factory, tmp_path):
    missing = _state(tmp_path_factory, 520.0)  # A: +4 % against +5 %
    write_documents(missing, "2024-12", tmp_path, PARAMS, issued=ISSUED)
    text = text_of(tmp_path / "通报-2024-12.docx")
    assert "普惠型小微企业贷款增速未达标（1家）" in text and "户数较年初" not in text.split("四、分县区情况")[0]


# ---------------------------------------------------------------- the reports' words of the year


def test_the_overview_cites_the_regional_clause_of_its_year_only(state):
    from analysis.content import overview

    cited = str(notice_requirement(overview.city_context("2023-12", state=state), "regional_balance_clause", "X"))
    assert cited == "<p>通知第（六）条要求X。</p>"
    assert str(notice_requirement(overview.city_context("2024-12", state=state), "regional_balance_clause", "X")) == ""
    with pytest.raises(KeyError, match="unknown clause"):
        notice_requirement(overview.city_context("2023-12", state=state), "data_quality", "X")


def test_the_loan_checks_cite_the_clause_of_each_year():
    from analysis.inputs.loans import load_loan_rules, rule_clause

    rules = load_loan_rules(PARAMS / "loans.yaml").raw
    assert rule_clause(rules["reconcile"], 2023) == "第（十六）条：统计数据质量、数据造假"
    assert rule_clause(rules["reconcile"], 2024) == "统计数据质量、数据造假"
    assert rule_clause(rules["checks"]["renewal_share"], 2023) == "第（五）条：不得用续贷掩盖信用风险"
    for name, rule in rules["checks"].items():
        assert not CLAUSE_NUMBER.search(rule_clause(rule, 2025)), name


def test_a_loan_rule_with_one_clause_for_every_year_is_refused(tmp_path):
    from analysis.inputs.loans import load_loan_rules

    text = (PARAMS / "loans.yaml").read_text(encoding="utf-8")
    old = text.replace("  basis: 统计数据质量、数据造假", '  clause: "第（十六）条：统计数据质量、数据造假"', 1)
    (tmp_path / "loans.yaml").write_text(old, encoding="utf-8")
    with pytest.raises(ParamsError, match=r"reconcile: basis \(the requirement\) and clauses by policy year"):
        load_loan_rules(tmp_path / "loans.yaml")


def test_the_s71_table_checks_cite_the_data_quality_clause_of_the_reports_year(state):
    from analysis.content.institution import institution_context, s71_table_checks
    from analysis.inputs.s71 import CHECKS_FILE

    header = "institution_id,period,check,cell,value,expected,difference,file,sheet,location\n"
    lines = [f"L1,{p},合计＝各项之和,6.A5,10,11,-1,S71.xlsx,Sheet1,C9\n" for p in ("2023-12-31", "2024-12-31")]
    (Path(state.data_dir) / CHECKS_FILE).write_text(header + "".join(lines), encoding="utf-8")
    try:
        note_2023 = str(s71_table_checks(institution_context("L1", "2023-12", state=state)))
        note_2024 = str(s71_table_checks(institution_context("L1", "2024-12", state=state)))
    finally:
        (Path(state.data_dir) / CHECKS_FILE).unlink()
    assert "（依据：第（十六）条：统计数据质量、数据造假）" in note_2023
    assert "（依据：统计数据质量、数据造假）" in note_2024 and not CLAUSE_NUMBER.search(note_2024)
