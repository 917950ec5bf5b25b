"""The 通报 and the 监管提示函 (issue 22): rendered from the committed templates for the demo period
and read back with python-docx. Expected figures and lists are worked out here from the state's
indicator rows (sums of balances and plans, statuses), not taken from analysis.outputs.documents."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import docx
import pandas as pd
import pytest
import yaml

from analysis.content import overview
from analysis.content.institution import institution_context
from analysis.outputs.documents import (
    BULLETIN_FIELDS,
    LETTER_FIELDS,
    TemplateFieldError,
    bulletin_context,
    chinese_number,
    letter_context,
    load_settings,
    period_name,
    write_documents,
)
from analysis.state import compute_state
from tests.cli.test_cli import run as cli  # the command line as a subprocess, from the project folder

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2023-06"
ISSUED = date(2023, 7, 10)
POLICY = yaml.safe_load((ROOT / "params" / "policy-2023.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def state(demo_csv_dir):
    return compute_state(demo_csv_dir, ROOT / "params")


@pytest.fixture(scope="module")
def rendered(state, tmp_path_factory):
    out = tmp_path_factory.mktemp("documents") / PERIOD
    written = write_documents(state, PERIOD, out, ROOT / "params", issued=ISSUED)
    return out, written


def rows_of(state, period=PERIOD) -> pd.DataFrame:
    end = pd.Timestamp(period + "-01") + pd.offsets.MonthEnd(0)
    ind = state.indicators
    return ind[ind["period"] == end]


def all_text(document: docx.document.Document) -> str:
    """Every paragraph and table cell, headers and footers included."""
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts += [cell.text for row in table.rows for cell in row.cells]
    for section in document.sections:
        parts += [p.text for p in section.header.paragraphs] + [p.text for p in section.footer.paragraphs]
    return "\n".join(parts)


def paragraph(document, start: str) -> str:
    found = [p.text for p in document.paragraphs if p.text.startswith(start)]
    assert len(found) == 1, (start, found)
    return found[0]


def number(pattern: str, text: str) -> float:
    match = re.search(pattern, text)
    assert match, (pattern, text)
    return float(match.group(1).replace(",", ""))


# ---------------------------------------------------------------- the 通报


def test_bulletin_three_figures_equal_the_overview(rendered, state):
    out, _ = rendered
    document = docx.Document(str(out / f"通报-{PERIOD}.docx"))
    rows = rows_of(state)
    banks = rows[rows["sector"] == "bank"]
    ti, plan = POLICY["two_increases"], POLICY["plan"]
    # 1. legal-entity banks' overall 两增: summed balances of the banks judged on it
    needed = [
        "inclusive_balance_assessed",
        "inclusive_balance_base",
        "total_loans",
        "total_loans_base",
        "inclusive_borrowers",
        "inclusive_borrowers_base",
    ]
    legal = banks[
        banks["entity_type"].isin(ti["entity_types"])
        & banks["category"].isin(ti["categories"])
        & banks[needed].notna().all(axis=1)
    ]
    growth = (legal["inclusive_balance_assessed"].sum() / legal["inclusive_balance_base"].sum() - 1) * 100
    total_growth = (legal["total_loans"].sum() / legal["total_loans_base"].sum() - 1) * 100
    borrowers = legal["inclusive_borrowers"].sum() - legal["inclusive_borrowers_base"].sum()
    met = growth - total_growth >= ti["growth_margin_min_pp"] and borrowers >= ti["borrowers_change_min"]
    # 2./3. plan completion: summed increases over summed plans, legal entities and branches apart
    with_plan = banks[
        banks["category"].isin(plan["categories"])
        & banks["planned_increase"].notna()
        & banks["inclusive_ytd_increase"].notna()
    ]
    is_legal = with_plan["entity_type"].isin(ti["entity_types"])
    legal_plan = with_plan[is_legal]["inclusive_ytd_increase"].sum() / with_plan[is_legal]["planned_increase"].sum()
    branch_plan = with_plan[~is_legal]["inclusive_ytd_increase"].sum() / with_plan[~is_legal]["planned_increase"].sum()

    first = paragraph(document, "（一）辖内法人银行总体“两增”")
    assert first.startswith("（一）辖内法人银行总体“两增”" + ("完成" if met else "未完成") + "。")
    assert f"{len(legal)}家法人银行" in first
    assert number(r"较年初增长([\d,.]+)%", first) == pytest.approx(growth, abs=0.005)
    assert number(r"各项贷款较年初增长([\d,.]+)%", first) == pytest.approx(total_growth, abs=0.005)
    said = re.search(r"户数较年初(增加|减少)([\d,]+)户", first)  # the sign said in words
    assert said and (1 if said.group(1) == "增加" else -1) * float(said.group(2).replace(",", "")) == borrowers
    second = paragraph(document, "（二）辖内法人银行总体")
    third = paragraph(document, "（三）辖内分支银行总体")
    assert number(r"完成率([\d,.]+)%", second) == pytest.approx(legal_plan * 100, abs=0.005)
    assert number(r"完成率([\d,.]+)%", third) == pytest.approx(branch_plan * 100, abs=0.005)
    # city totals in 亿元 (万元 / 10,000) with two decimals
    increase = number(r"较年初增量([\d,.]+)亿元", second)
    assert increase == pytest.approx(with_plan[is_legal]["inclusive_ytd_increase"].sum() / 10_000, abs=0.005)

    # and the overview shows the same figures, rounded as the 通报 rounds them (two decimals)
    html = str(overview.citywide_section(overview.city_context(PERIOD, state=state)))
    shown = re.findall(r'<div class="value">([\d.]+%)</div>', html)
    assert shown == [f"{legal_plan * 100:.2f}%", f"{branch_plan * 100:.2f}%"]
    assert shown[0] in second and shown[1] in third
    assert ('<div class="value">完成</div>' in html) == met


def _names_in_overview_lists(html: str) -> dict[str, list[str]]:
    """Title → names (second column) of each list in the overview's missing_targets HTML."""
    lists = {}
    for block in html.split("<h3>")[1:]:
        title = re.match(r"(.+?)（\d+ 家）</h3>", block)
        if not title:
            continue  # 结构指标需关注: counts only, not a list of institutions
        table = block.split("</table>")[0] if "<table" in block else ""
        lists[title.group(1)] = re.findall(r"<tr><td[^>]*>[^<]*</td><td[^>]*>([^<]*)</td>", table)
    return lists


def _names_in_bulletin_lists(document) -> dict[str, list[str]]:
    """Title → names of each list under 三、未达标机构名单 in the rendered 通报, in document order."""
    lists: dict[str, list[str]] = {}
    current = None
    for block in document.iter_inner_content():
        if isinstance(block, docx.text.paragraph.Paragraph):
            heading = re.match(r"（[一二三四五六七八九十]+）(.+?)（(\d+)家）$", block.text)
            if block.style.name == "二级标题" and heading:
                current = heading.group(1)
                lists[current] = []
            elif block.style.name == "一级标题":
                current = None
        elif current is not None:
            header = [c.text for c in block.rows[0].cells]
            column = header.index("机构名称")
            lists[current] += [row.cells[column].text for row in block.rows[1:]]
    return lists


def test_bulletin_lists_equal_the_overview(rendered, state):
    out, _ = rendered
    document = docx.Document(str(out / f"通报-{PERIOD}.docx"))
    in_bulletin = _names_in_bulletin_lists(document)
    ctx = overview.city_context(PERIOD, state=state)
    in_overview = _names_in_overview_lists(str(overview.missing_targets(ctx)))
    # the 通报 lists what went wrong: a list nobody is on is left out (the overview says 无)
    behind = rows_of(state).sort_values("plan_completion_pct")
    behind = list(behind.loc[behind["status_plan"] == "watch", "name"])
    # mid-year, nobody has missed the plan yet: the 通报 lists those behind time progress instead
    # of an empty 信贷计划未完成 (the overview keeps that heading, 无, and names them in a note)
    assert in_bulletin.pop("信贷计划完成进度落后于时序进度") == behind and behind
    assert in_bulletin == {t: n for t, n in in_overview.items() if n}
    # and both are the institutions whose status is 未达标, worked out from the rows; a bank under
    # 差异化考核 whose growth leg alone failed (judged on its plan) is listed under the plan only
    rows = rows_of(state)
    on_plan_only = (
        rows["differentiated"].astype(bool)
        & (rows["status_growth_leg"] == "not_met")
        & (rows["status_borrowers_leg"] != "not_met")
        & (rows["status_plan"] == "not_met")
    )
    for status, title in [
        ("status_two_increases", "“两增”未达标"),
        ("status_plan", "信贷计划未完成"),
        ("status_rate_change", "新发放贷款利率较上年上升"),
        ("status_npl", "不良率超出容忍度"),
    ]:
        missed = (rows[status] == "not_met") & ~(on_plan_only if status == "status_two_increases" else False)
        assert sorted(in_bulletin.get(title, [])) == sorted(rows.loc[missed, "name"])
    high = rows.loc[rows["status_high_rate"] == "watch", "name"]
    assert [names for title, names in in_bulletin.items() if "利率明显高于同类机构" in title] == [sorted(high)]
    assert sorted(in_bulletin["“两增”未达标"]) == sorted(
        ["宛城农村商业银行（示例）", "卧龙农村商业银行（示例）", "卧龙丰源村镇银行（示例）"]
    )
    assert not [p.text for p in document.paragraphs if p.text.startswith("另有")]  # listed, not noted


def test_bulletin_reply_deadline_and_period_name(rendered):
    out, _ = rendered
    text = all_text(docx.Document(str(out / f"通报-{PERIOD}.docx")))
    reply_days = yaml.safe_load((ROOT / "params" / "templates" / "documents.yaml").read_text(encoding="utf-8"))[
        "reply_days"
    ]
    deadline = ISSUED + pd.Timedelta(days=reply_days)
    assert f"于{deadline.year}年{deadline.month}月{deadline.day}日前" in text
    # the title breaks at a planned place (GB/T 9704: never inside a word)
    assert "关于2023年上半年辖内银行业金融机构\n小微企业金融服务情况的通报" in text
    assert "{{" not in text and "{%" not in text


# ---------------------------------------------------------------- the letters


def _shortfall_ids(state, period=PERIOD) -> set[str]:
    """Institutions with at least one 未达标 headline verdict, or whose rate is flagged markedly above
    their peers' (the notice's 个别利率较高的银行机构: 关注, to keep cutting), from the status columns."""
    rows = rows_of(state, period)
    statuses = [
        "status_growth_leg",
        "status_borrowers_leg",
        "status_plan",
        "status_rate_change",
        "status_high_rate",
        "status_npl",
    ]
    failing = set(rows.loc[(rows[statuses] == "not_met").any(axis=1), "institution_id"])
    failing |= set(rows.loc[rows["status_high_rate"] == "watch", "institution_id"])
    ol = state.onlending
    end = pd.Timestamp(period + "-01") + pd.offsets.MonthEnd(0)
    quarter = f"{end.year}Q{(end.month - 1) // 3 + 1}"
    return failing | set(ol.loc[(ol["quarter"] == quarter) & (ol["status_onlending"] == "not_met"), "institution_id"])


def test_letters_only_for_institutions_with_a_shortfall(rendered, state):
    out, written = rendered
    expected = _shortfall_ids(state)
    # the demo period's misses (see above), and B033: its rate markedly above its peers' and cut (关注)
    assert expected == {"B017", "B018", "B019", "B030", "B033", "B034"}
    assert {p.stem for p in (out / "提示函").glob("*.docx")} == expected
    assert set(written.letters) == expected and not written.failed
    assert not (out / "提示函" / "B021.docx").exists()  # meets every target
    assert not (out / "提示函" / "I001.docx").exists()  # an insurer: watch checks only


def test_letter_for_b017_has_its_shortfall_clause_and_no_other_name(rendered, state):
    out, _ = rendered
    document = docx.Document(str(out / "提示函" / "B017.docx"))
    text = all_text(document)
    row = rows_of(state).set_index("institution_id").loc["B017"]
    assert row["status_growth_leg"] == "not_met"
    assert "宛城农村商业银行（示例）：" in text  # addressed to it
    shortfall = paragraph(document, "（一）“两增”中的贷款增速未达标")
    assert row["inclusive_ytd_growth_pct"] > 0 and row["growth_margin_pp"] < 0
    assert f"较年初增长{row['inclusive_ytd_growth_pct']:.2f}%" in shortfall
    assert f"各项贷款较年初增长{row['total_loans_ytd_growth_pct']:.2f}%" in shortfall
    assert f"低{-row['growth_margin_pp']:.2f}个百分点" in shortfall  # the gap said in words
    assert shortfall.count("要求") == 1
    assert f"{POLICY['notice']}{POLICY['two_increases']['clause']}" in shortfall
    assert f"整改要求：{POLICY['recommendations']['growth_leg']}" in text
    # its borrowers leg is met: not listed as a shortfall
    assert "贷款户数未达标" not in text
    others = state.dataset.institutions.set_index("institution_id")
    for iid, name in others["name"].items():
        if iid != "B017":
            assert name not in text, iid
            assert iid not in text, iid
    # its own figures, formatted as in the reports
    table = {r.cells[0].text: r.cells[1].text for r in document.tables[0].rows}
    assert table["普惠型小微企业贷款余额（考核口径）"] == f"{row['inclusive_balance_assessed']:,.2f}万元"
    assert table["利率较上年变化"] == f"{row['rate_change_bp']:+.0f}个基点"


def test_a_letter_that_is_no_longer_due_is_removed(state, tmp_path):
    out = tmp_path / PERIOD
    write_documents(state, PERIOD, out, ROOT / "params", issued=ISSUED)
    (out / "提示函" / "B021.docx").write_bytes(b"an old letter")
    written = write_documents(state, PERIOD, out, ROOT / "params", issued=ISSUED)
    assert not (out / "提示函" / "B021.docx").exists()
    assert {p.stem for p in (out / "提示函").iterdir()} == set(written.letters)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging folder left


def test_fields_listed_are_the_fields_given(state):
    """BULLETIN_FIELDS / LETTER_FIELDS (what the check accepts, what the README lists) match the
    contexts both ways, nested records included."""

    def same(schema, value, where=""):
        if where == ".financing" and value == {}:
            return  # no 推荐清单 in this data: the section is left out (its fields: test_document_wording)
        if isinstance(schema, dict):
            assert isinstance(value, dict) and set(value) == set(schema), (where, set(value) ^ set(schema))
            for key in schema:
                same(schema[key], value[key], f"{where}.{key}")
        elif isinstance(schema, list):
            assert isinstance(value, list), where
            for item in value:
                same(schema[0], item, f"{where}[]")
        else:
            assert isinstance(value, (str, int)), (where, value)

    settings = load_settings(ROOT / "params")
    same(BULLETIN_FIELDS, bulletin_context(state, PERIOD, ISSUED, settings))
    letter = letter_context(institution_context("B034", PERIOD, state=state), ISSUED, settings)
    assert letter is not None and letter["watch"] and letter["shortfalls"]
    same(LETTER_FIELDS, letter)
    assert letter_context(institution_context("B021", PERIOD, state=state), ISSUED, settings) is None


# ---------------------------------------------------------------- a bad template


def _params_with_template(tmp_path: Path, name: str, *lines: str) -> Path:
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(params / "templates" / name))
    return params


@pytest.mark.parametrize(
    ("name", "line", "field"),
    [
        ("通报.docx", "完成率{{ figures.legal_plan_completon }}", "figures.legal_plan_completon"),
        ("通报.docx", "{{ jurisdiction_name }}", "jurisdiction_name"),
        ("提示函.docx", "{%p for s in shortfalls %}", "s.clause_text"),
        ("提示函.docx", "{{ institution.name|uper }}", "|uper"),
    ],
)
def test_template_with_an_unknown_field_is_refused_before_anything_is_written(state, tmp_path, name, line, field):
    extra = ["{{ s.clause_text }}", "{%p endfor %}"] if line.startswith("{%p for") else []
    params = _params_with_template(tmp_path, name, "{{ office }}", line, *extra)
    out = tmp_path / "reports" / PERIOD
    with pytest.raises(TemplateFieldError) as caught:
        write_documents(state, PERIOD, out, params, issued=ISSUED)
    message = str(caught.value)
    assert f"'{field}'" in message and str(params / "templates" / name) in message
    assert "{{ office }}" not in message and "'office'" not in message  # a known field is not reported
    assert not out.exists()  # nothing written, not even the other document


def test_cli_docs_refuses_a_bad_template_and_batch_plan_too(tmp_path, demo_csv_dir):
    params = _params_with_template(tmp_path, "提示函.docx", "{{ institution.nmae }}")
    reports = tmp_path / "reports"
    result = cli(
        "docs", "--period", PERIOD, "--data", str(demo_csv_dir), "--params", str(params), "--reports", str(reports)
    )
    assert result.returncode == 1
    assert "institution.nmae" in result.stderr and "提示函.docx" in result.stderr
    assert not reports.exists()

    from analysis.batch import BatchRequest, plan

    with pytest.raises(TemplateFieldError, match="institution.nmae"):
        plan(BatchRequest(PERIOD, data_dir=demo_csv_dir, params_dir=params, reports_dir=reports, formats=("docx",)))
    assert not reports.exists()


# ---------------------------------------------------------------- wording helpers


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("2023-03", "2023年一季度"),
        ("2023-06", "2023年上半年"),
        ("2023-09", "2023年前三季度"),
        ("2023-12", "2023年"),
        ("2023-05", "2023年1—5月"),
    ],  # fmt: skip
)
def test_period_name(period, expected):
    assert period_name(pd.Timestamp(period + "-01") + pd.offsets.MonthEnd(0)) == expected


@pytest.mark.parametrize(
    ("n", "expected"), [(1, "一"), (5, "五"), (10, "十"), (11, "十一"), (20, "二十"), (23, "二十三")]
)
def test_chinese_number(n, expected):
    assert chinese_number(n) == expected


# ---------------------------------------------------------------- optional: how it looks


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed (optional visual check)")
def test_visual_check_with_libreoffice(rendered):
    """The 通报 and a letter converted to PDF and PNG for a look (test-artifacts/)."""
    out, _ = rendered
    artifacts = ROOT / "test-artifacts" / "documents"
    artifacts.mkdir(parents=True, exist_ok=True)
    for source in (out / f"通报-{PERIOD}.docx", out / "提示函" / "B017.docx"):
        subprocess.run(
            ["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(artifacts), str(source)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        pdf = artifacts / f"{source.stem}.pdf"
        assert pdf.exists() and pdf.stat().st_size > 0
        if shutil.which("pdftoppm"):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(pdf.with_suffix(""))],
                           check=True)  # fmt: skip


# ---------------------------------------------------------------- through the batch's exporter registry


def test_docx_is_a_period_exporter_recorded_on_the_entries(state, tmp_path):
    """``--formats …,docx``: written once for the period after the reports, each file recorded on
    the manifest entry it belongs to; an entry of older data, or without a letter, gets no link."""
    from datetime import datetime

    from analysis.batch import write_period_outputs
    from analysis.core.manifest import Manifest, ManifestEntry
    from analysis.outputs.registry import EXPORTERS, parse_formats, period_formats, report_formats

    assert report_formats(parse_formats("html,pdf,docx")) == ("html", "pdf")
    assert period_formats(parse_formats("html,docx")) == ("docx",)
    assert EXPORTERS["docx"].scope == "period"
    manifest = Manifest(
        period=PERIOD,
        generation="g",
        entries={
            "overview": ManifestEntry(key="overview", status="done", generation="g", outputs={"html": "overview.html"}),
            "B017": ManifestEntry(key="B017", status="done", generation="g"),
            "B021": ManifestEntry(key="B021", status="done", generation="g", outputs={"docx": "提示函/B021.docx"}),
            "B018": ManifestEntry(key="B018", status="done", generation="old"),
        },
    )
    out = tmp_path / PERIOD
    results = write_period_outputs(state, PERIOD, out, ("docx",), datetime(2026, 12, 7, 9, 0), manifest)
    assert [r.status for r in results] == ["note"]  # nothing failed; the summary is told the date
    assert "2023年7月20日" in results[0].warnings[0] and "issue_date" in results[0].warnings[0]
    outputs = {k: e.outputs.get("docx") for k, e in manifest.entries.items()}
    assert outputs == {"overview": f"通报-{PERIOD}.docx", "B017": "提示函/B017.docx", "B021": None, "B018": None}
    assert manifest.entries["overview"].outputs["html"] == "overview.html"  # the report's own outputs stay
    assert (out / "提示函" / "B018.docx").exists()  # written; linked once B018's report is of this data
    # dated by the period (the 20th of the month after 2023-06: a Thursday), not by the run's clock
    text = all_text(docx.Document(str(out / f"通报-{PERIOD}.docx")))
    assert "2023年7月20日" in text and "2026" not in text


def test_the_date_of_issue_comes_from_the_period_never_the_clock():
    """documents.yaml's rule worked by hand on calendars: the 20th of the month after the period,
    a Saturday or Sunday moved to the Monday after."""
    from analysis.outputs.documents.templates import IssueDateRule
    from analysis.outputs.documents.write import issue_date

    rule = IssueDateRule(months_after=1, day=20)
    assert rule.date_for(date(2023, 6, 30)) == date(2023, 7, 20)  # Thursday
    assert rule.date_for(date(2023, 12, 31)) == date(2024, 1, 22)  # 20 January 2024 is a Saturday
    assert rule.date_for(date(2024, 6, 30)) == date(2024, 7, 22)  # 20 July 2024 is a Saturday
    assert rule.date_for(date(2025, 9, 30)) == date(2025, 10, 20)  # Monday
    assert IssueDateRule(months_after=0, day=5).date_for(date(2023, 6, 30)) == date(2023, 7, 3)  # never before the end
    settings = type("S", (), {"issue_date": rule})()
    day, why = issue_date(settings, pd.Timestamp("2023-12-31"), None)
    assert day == date(2024, 1, 22) and "issue_date" in why
    day, why = issue_date(settings, pd.Timestamp("2023-12-31"), date(2024, 2, 1))
    assert day == date(2024, 2, 1) and "--issued" in why


def test_cli_docs_records_the_documents_for_the_site(state, demo_csv_dir, tmp_path):
    """``analysis docs`` after a run on the same data: the manifest links them and the index is rebuilt."""
    from analysis.batch import data_generation
    from analysis.core.manifest import Manifest, ManifestEntry

    reports = tmp_path / "reports"
    (reports / PERIOD).mkdir(parents=True)
    Manifest(
        period=PERIOD,
        generation=data_generation(state),
        entries={"B017": ManifestEntry(key="B017", status="done", generation=data_generation(state))},
    ).save(reports / PERIOD / "manifest.json")
    result = cli(
        "docs", "--period", PERIOD, "--data", str(demo_csv_dir), "--reports", str(reports),
        "--issued", "2023-07-10", "--reply-by", "2023-07-31",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "6 份" in result.stdout
    manifest = Manifest.load(reports / PERIOD / "manifest.json")
    assert manifest.entries["B017"].outputs["docx"] == "提示函/B017.docx"
    assert 'href="提示函/B017.docx"' in (reports / PERIOD / "index.html").read_text(encoding="utf-8")
    letter = all_text(docx.Document(str(reports / PERIOD / "提示函" / "B017.docx")))
    assert "于2023年7月31日前" in letter and "2023年7月10日" in letter


@pytest.mark.slow
def test_run_with_docx_writes_the_documents_beside_the_reports(demo_csv_dir, tmp_path, monkeypatch):
    """``analysis run --formats html,docx``: the reports, then the 通报 and letters for the period;
    the index links them, the institution's own report does not."""
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    reports = tmp_path / "reports"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "analysis.cli",
            "run",
            "--period",
            "2023-12",
            "--data",
            str(demo_csv_dir),
            "--params",
            str(ROOT / "params"),
            "--reports",
            str(reports),
            "--institution",
            "B017",
            "--institution",
            "B021",
            "--formats",
            "html,docx",
            "--workers",
            "2",
            "--quiet",
        ],  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = reports / "2023-12"
    assert (out / "通报-2023-12.docx").exists()
    assert (out / "提示函" / "B017.docx").exists() and not (out / "提示函" / "B021.docx").exists()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="通报-2023-12.docx"' in index and 'href="提示函/B017.docx"' in index
    assert "提示函/B021" not in index
    own = (out / "B017.html").read_text(encoding="utf-8")
    assert "提示函" not in own and ".docx" not in own
    assert not list(out.glob("*.docx.part")) and not (out / "B017.docx").exists()


def test_letter_watch_items_are_formatted_as_in_the_report(state):
    """A structure check shown as 关注 in the letter: counts whole with 户, percentages with %."""
    settings = load_settings(ROOT / "params")
    letter = letter_context(institution_context("B034", "2023-12", state=state), ISSUED, settings)
    assert letter is not None
    row = rows_of(state, "2023-12").set_index("institution_id").loc["B034"]
    watch = {w["key"]: w["text"] for w in letter["watch"]}
    assert row["status_first_loan_borrowers_yoy_change"] == "watch"
    # signs said in words, after the item's name (a fall of first-loan borrowers, a fall of the balance)
    first, mfg = row["first_loan_borrowers_yoy_change"], row["mfg_midlong_ytd_growth_pct"]
    assert first < 0 and mfg < 0
    assert watch["first_loan_borrowers_yoy_change"] == f"首贷户数较上年同期减少{-first:,.0f}户"
    assert watch["mfg_midlong_ytd_growth_pct"] == f"制造业小微企业中长期贷款较年初下降{-mfg:.2f}%"
    assert [s["key"] for s in letter["shortfalls"]] == ["growth_leg", "borrowers_leg", "plan"]
    assert [s["number"] for s in letter["shortfalls"]] == ["一", "二", "三"]


def test_one_letter_failing_never_loses_the_others(state, tmp_path, monkeypatch):
    import analysis.outputs.documents.write as documents  # where write_documents looks it up

    real = documents.letter_context

    def broken(ictx, *args, **kwargs):
        if ictx.institution_id == "B018":
            raise ValueError("boom")
        return real(ictx, *args, **kwargs)

    monkeypatch.setattr(documents, "letter_context", broken)
    written = write_documents(state, PERIOD, tmp_path / PERIOD, ROOT / "params", issued=ISSUED)
    assert written.failed == {"B018": "ValueError: boom"}
    assert set(written.letters) == {"B017", "B019", "B030", "B033", "B034"}
    assert {p.stem for p in (tmp_path / PERIOD / "提示函").iterdir()} == {"B017", "B019", "B030", "B033", "B034"}
    assert (tmp_path / PERIOD / f"通报-{PERIOD}.docx").exists()
