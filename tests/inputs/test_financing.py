"""The financing coordination mechanism's tables (推荐清单, 银行反馈): reading, the check digit, the
checks across both tables, and hostile lists. The fixture ``tests/fixtures/financing/`` is written by
hand in the shapes the office receives (the list in GBK with a title row above the header and dates
in four spellings, the feedback in UTF-8 with a BOM); every expected row below is counted in those
files by hand."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.errors import RULES, WARNING_RULES, DataValidationError
from analysis.core.financing import credit_code_check_character, credit_code_problems
from analysis.inputs.validation import load_dataset

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
FIXTURE = ROOT / "tests" / "fixtures" / "financing"
LIST = "推荐清单.csv"
FEEDBACK = "银行反馈.csv"


@pytest.fixture
def folder(data) -> Path:
    """The demo data (CSV) with the hand-written lists beside it."""
    for name in (LIST, FEEDBACK):
        shutil.copy(FIXTURE / name, data / name)
    return data


# ---------------------------------------------------------------- the check digit, by hand


def test_check_character_of_published_codes_worked_by_hand():
    # 91110000100014071Q: values 9,1,1,1,0,0,0,0,1,0,0,0,1,4,0,7,1 × weights 3^i mod 31 =
    # 1,3,9,27,19,26,16,17,20,29,25,13,8,24,10,30,28 → 9+3+9+27+0+0+0+0+20+0+0+0+8+96+0+210+28 = 410;
    # 410 mod 31 = 7 (31 × 13 = 403); 31 − 7 = 24 → the 25th character of 0-9A-H J-N P-R T-U W-Y: Q.
    assert credit_code_check_character("91110000100014071") == "Q"
    # 914403001922038216: 9·1+1·3+4·9+4·27+0·19+3·26+0·16+0·17+1·20+9·29+2·25+2·13+0·8+3·24+8·10+2·30+1·28
    # = 9+3+36+108+0+78+0+0+20+261+50+26+0+72+80+60+28 = 831; 831 mod 31 = 25 (31 × 26 = 806); 31 − 25 = 6.
    assert credit_code_check_character("91440300192203821") == "6"
    codes = pd.Series(["91110000100014071Q", "914403001922038216", "91110000100014071R", "9111000010001407", None])
    problems = credit_code_problems(codes)
    assert problems.iloc[0] == "" and problems.iloc[1] == ""
    assert "Q" in problems.iloc[2]  # says which character it should be
    assert "18" in problems.iloc[3]
    # I, O, Z, S, V are not in the alphabet
    assert "I、O、Z、S、V" in credit_code_problems(pd.Series(["91110000100O14071Q"])).iloc[0]


def test_a_check_character_of_thirty_one_is_zero():
    # a body whose weighted sum is a multiple of 31 gets 0: '1' at position 16 (weight 28) and '1' at
    # position 1 (weight 3): 28 + 3 = 31 → 31 − 0 = 31 → written 0
    body = "01000000000000001"
    assert credit_code_check_character(body) == "0"


# ---------------------------------------------------------------- the fixture, row by row


def test_the_fixture_is_read_and_its_bad_rows_left_out_with_located_warnings(folder):
    ds = load_dataset(folder, PARAMS)
    fin = ds.financing
    assert fin is not None
    # 9 list rows: row 9 (己建材, bad check character), row 10 (庚养殖场: credit 50 > 3 × need 10) and
    # row 11 (辛电子: credit before contact) are out; 6 pairs stay, 4 of them fed back
    assert len(fin.pairs) == 6
    assert sorted(fin.pairs["list_row"]) == [3, 4, 5, 6, 7, 8]
    assert int(fin.pairs["has_feedback"].sum()) == 4
    found = {(w.rule, w.file, w.row, w.column) for w in ds.warnings if w.rule in WARNING_RULES}
    assert ("invalid_credit_code", LIST, 9, "credit_code") in found
    assert ("credit_above_need", FEEDBACK, 6, "credit_amount") in found
    assert ("feedback_not_pushed", FEEDBACK, 7, "institution_id") in found  # a firm on no list
    assert ("feedback_not_pushed", FEEDBACK, 8, "institution_id") in found  # 甲商贸 pushed to B017, B018 only
    assert ("dates_out_of_order", FEEDBACK, 9, "contact_date") in found
    assert ("no_feedback", LIST, 8, "institution_id") in found  # 戊合作社, pushed 2025-04-01, never fed back
    excluded = fin.excluded[fin.excluded["table"] == "银行反馈"].set_index("row")
    assert set(fin.excluded["rule"]) == {
        "invalid_credit_code",
        "credit_above_need",
        "feedback_not_pushed",
        "dates_out_of_order",
    }
    assert "B017、B018" in excluded.loc[8, "detail"]
    assert "2025-05-18" in excluded.loc[9, "detail"] and "2025-05-20" in excluded.loc[9, "detail"]
    # dates in four spellings read as the same kind of day
    days = fin.pairs.set_index("list_row")["list_date"]
    assert days[3] == pd.Timestamp("2025-05-06") and days[6] == pd.Timestamp("2025-06-03")
    assert days[7] == pd.Timestamp("2025-06-25")
    # every warning is bilingual and located
    for w in ds.warnings:
        if w.rule in RULES and w.rule.startswith(("invalid_credit", "dates_", "feedback_", "credit_above")):
            text = w.format()
            assert RULES[w.rule][0] in text and RULES[w.rule][1] in text and f"第{w.row}行" in text


def test_without_the_tables_the_data_load_as_before(data):
    assert load_dataset(data, PARAMS).financing is None


def test_feedback_without_its_list_is_not_read(folder):
    (folder / LIST).unlink()
    ds = load_dataset(folder, PARAMS)
    assert ds.financing is None
    assert [w.rule for w in ds.warnings if w.rule == "financing_tables_unpaired"] == ["financing_tables_unpaired"]


def test_english_headers_and_parquet_are_read(folder):
    from analysis.core.contract import FINANCING_FEEDBACK

    feedback = pd.read_csv(folder / FEEDBACK, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    feedback.columns = [c.name for c in FINANCING_FEEDBACK.columns]
    (folder / FEEDBACK).unlink()
    feedback.to_parquet(folder / "financing_feedback.parquet")
    assert len(load_dataset(folder, PARAMS).financing.pairs) == 6


# ---------------------------------------------------------------- refusals


def _edit_feedback(folder: Path, row: int, column: str, value: str) -> None:
    frame = pd.read_csv(folder / FEEDBACK, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    frame.loc[row - 2, column] = value  # the header is row 1
    frame.to_csv(folder / FEEDBACK, index=False, encoding="utf-8-sig")


def _issues(folder: Path):
    with pytest.raises(DataValidationError) as info:
        load_dataset(folder, PARAMS)
    return info.value.issues


@pytest.mark.parametrize(
    ("column", "value", "rule", "english"),
    [
        ("授信金额", "一百万", "not_a_number", "credit_amount"),
        ("放款日期", "2052-05-25", "future_date", "loan_date"),
        ("对接日期", "2025-02-30", "invalid_date", "contact_date"),
        ("是否首贷户", "大概", "invalid_flag", "first_loan"),
        ("未授信原因", "行长不同意", "invalid_reason", "refusal_reason"),
    ],
)
def test_a_bad_cell_refuses_the_data_with_its_location(folder, column, value, rule, english):
    _edit_feedback(folder, 3 if english == "refusal_reason" else 2, column, value)
    issues = _issues(folder)
    hits = [i for i in issues if i.rule == rule]
    row = 3 if english == "refusal_reason" else 2
    assert [(i.file, i.row, i.column) for i in hits] == [(FEEDBACK, row, english)], [i.format() for i in issues]


def test_a_future_date_is_judged_against_the_day_of_the_check(folder):
    from analysis.inputs.loading import read_tables
    from analysis.inputs.validation import validate_tables

    raw, _, issues = read_tables(folder)
    with pytest.raises(DataValidationError) as info:  # checked on 2025-06-27: the loan of 06-28 is future
        validate_tables(raw, issues=issues, today=date(2025, 6, 27))
    future = [(i.file, i.row, i.column) for i in info.value.issues if i.rule == "future_date"]
    assert future == [(FEEDBACK, 4, "loan_date")]


# ---------------------------------------------------------------- hostile workbooks, written member by member

_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _column(j: int) -> str:
    return chr(ord("A") + j)


def _xlsx(path: Path, rows_xml: str, dimension: str | None = None) -> None:
    """A minimal workbook with one sheet 银行反馈 holding ``rows_xml`` (``<row>`` elements)."""
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = f"{_HEAD}{dim}<sheetData>{rows_xml}</sheetData></worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        book.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
            'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.worksheet+xml"/></Types>',
        )
        book.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )
        book.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            '<sheet name="银行反馈" sheetId="1" r:id="rId1"/></sheets></workbook>',
        )
        book.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
            '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        )
        book.writestr("xl/worksheets/sheet1.xml", sheet)


def _cell(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


HEADER = ("统一社会信用代码", "机构编码", "对接日期", "授信日期", "授信金额")


def _row(n: int, values: tuple[str, ...], formula_in: int | None = None) -> str:
    cells = []
    for j, v in enumerate(values):
        ref = f"{_column(j)}{n}"
        cells.append(
            f'<c r="{ref}"><f>VLOOKUP(A{n},Sheet2!A:B,2,0)</f><v>{v}</v></c>' if j == formula_in else _cell(ref, v)
        )
    return f'<row r="{n}">' + "".join(cells) + "</row>"


def test_a_hostile_list_is_refused_with_located_messages_and_nothing_written(folder, tmp_path):
    """Formulas, text in an amount and a future date in one feedback sheet: each refused at its cell."""
    (folder / FEEDBACK).unlink()
    rows = [_row(1, HEADER)]
    rows.append(_row(2, ("91411302MA40A1B2CH", "B017", "2025-05-08", "2025-05-20", "100"), formula_in=4))
    rows.append(_row(3, ("91411302MA40A1B2CH", "B018", "2025-05-10", "", "")))
    rows.append(_row(4, ("91411302MA40B3D4EB", "B017", "2025-05-22", "2052-06-25", "五十万")))
    rows.append(_row(5, ("92411303MA40C5F6GG", "B018", "2025-06-05", "", "")))
    _xlsx(folder / "银行反馈.xlsx", "".join(rows))
    issues = _issues(folder)
    located = {(i.rule, i.row, i.column) for i in issues}
    assert ("formula_cell", 2, "E") in located
    assert ("not_a_number", 4, "credit_amount") in located
    assert ("future_date", 4, "credit_date") in located
    for issue in issues:
        if issue.rule in ("formula_cell", "not_a_number", "future_date"):
            assert issue.file == "银行反馈.xlsx" and RULES[issue.rule][1] in issue.format()
    # the command that writes the county workbooks writes nothing
    from analysis.cli.main import main

    reports = tmp_path / "reports"
    code = main(["financing", "--period", "2025-06", "--data", str(folder), "--reports", str(reports)])
    assert code == 1 and not reports.exists()


def test_a_million_row_sheet_is_refused_before_it_is_read(folder):
    """A 10⁶-row feedback sheet (formulas in every row) is refused from its declared size, unread."""
    (folder / FEEDBACK).unlink()
    n = 1_000_000
    body = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>91411302MA40A1B2CH</t></is></c>'
        f'<c r="B{r}"><f>1+1</f><v>2</v></c><c r="C{r}"><f>TODAY()</f><v>99999</v></c></row>'
        for r in range(2, n + 2)
    )
    _xlsx(folder / "银行反馈.xlsx", _row(1, HEADER) + body, dimension=f"A1:M{n + 1}")
    issues = _issues(folder)
    big = [i for i in issues if i.rule == "file_too_large"]
    assert [i.file for i in big] == ["银行反馈.xlsx"] and "13,000,013" in big[0].detail
    assert not [i for i in issues if i.rule == "formula_cell"]  # not opened: the size is the first refusal


def test_formula_cells_are_counted_past_the_first_twenty(tmp_path):
    from analysis.inputs.formulas import FORMULAS_SHOWN, formula_cells

    rows = _row(1, HEADER) + "".join(
        _row(r, ("91411302MA40A1B2CH", "B017", "2025-05-08", "2025-05-20", "1"), formula_in=4) for r in range(2, 52)
    )
    _xlsx(tmp_path / "x.xlsx", rows)
    shown, count = formula_cells(tmp_path / "x.xlsx", "银行反馈")
    assert count == 50 and len(shown) == FORMULAS_SHOWN and shown[0] == ("E", 2)
