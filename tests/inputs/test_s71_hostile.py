"""``analysis import-s71`` against hostile and careless inputs (issue 30): the office's data folder,
a zip bomb as a form workbook, negative cells, mixed encodings, a return for an unknown bank, the
table-check message.

The returns are hand-written in the real shapes (the mart fixtures of ``tests/fixtures/s71-real``,
form sheets built cell by cell with openpyxl, zip members and bytes written by hand), never by the
workbook's own writers; expected rows, byte offsets and counts are worked out from those inputs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.contract import MAX_UNPACKED_MB
from analysis.core.errors import DataValidationError
from analysis.inputs.s71 import import_s71
from tests.inputs.test_s71 import _form_workbook, _tidy

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "s71-real"
RETURN = "mart-no-row6.csv"  # a mart's aggregated return of B101, June 2023, amounts in 元


def _return(folder: Path, replace: dict[str, str] | None = None, name: str = RETURN) -> Path:
    """The hand-written mart return, copied into ``folder`` with lines replaced."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (FIXTURES / RETURN).read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        assert old in text, old
        text = text.replace(old, new)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _import(tmp_path: Path, sources: list[Path], out: Path, **kw):
    return import_s71(sources, tmp_path / "tidy", out, validate=False, fmt="csv", **kw)


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones too) and its SHA-256."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _office_files(data: Path, loans: int = 12) -> None:
    """What the office keeps beside an import: loan tables copied in (README, Daily use), a note."""
    for i in range(loans):
        bank = data / "loans" / f"B10{i % 3}"
        bank.mkdir(parents=True, exist_ok=True)
        (bank / f"IE_005_504_{i}.csv").write_text(f"借据号,贷款余额\nL{i},{i}00\n", encoding="utf-8")
    (data / "备注.txt").write_text("6月数据已与B101核对，张三\n", encoding="utf-8")
    (data / "分析底稿.xlsx").write_bytes(b"an analyst's own workbook")


def _visible(tree: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in tree.items() if not k.startswith(".")}


# --------------------------------------------------------------------------- the office's folder


def test_a_reimport_replaces_only_the_imports_files(tmp_path):
    _tidy(tmp_path / "tidy")
    data = tmp_path / "data"
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    _office_files(data)
    office = {k: v for k, v in _tree(data).items() if k.startswith("loans/") or k in ("备注.txt", "分析底稿.xlsx")}
    assert len(office) == 14
    old_monthly = (data / "monthly.csv").read_bytes()

    # the bank resubmits: 1.A5 5800 万元 → 5900 万元, so 6.A5 = 5900 + 1000 + 400 = 7300
    fixed = _return(tmp_path / "s71", {"S71_I_1..A5.2021,58000000.00": "S71_I_1..A5.2021,59000000.00"})
    result = _import(tmp_path, [fixed], data)
    assert result.monthly.iloc[0]["inclusive_balance"] == 7300.00
    assert pd.read_csv(data / "monthly.csv")["普惠型小微企业贷款余额"].tolist() == [7300.00]
    after = _tree(data)
    assert {k: after.get(k) for k in office} == office  # loans/, the note, the analyst's file: untouched
    # the replaced files are kept until the next import
    assert (data / ".s71-import-previous" / "monthly.csv").read_bytes() == old_monthly
    assert "monthly.csv" in result.kept and ".s71-import-previous" in result.summary()
    assert sorted(p.name for p in result.files) == sorted(
        ["monthly.csv", "s71-provenance.csv", "s71-cells.csv", "s71-checks.csv", "机构名录.csv", "信贷计划.csv"]
    )
    assert not [k for k in after if k.startswith(".s71-import-new-") or "pending" in k]


def test_an_edited_file_of_the_last_import_is_refused_not_overwritten(tmp_path):
    _tidy(tmp_path / "tidy")
    data = tmp_path / "data"
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    _office_files(data)
    with open(data / "机构名录.csv", "a", encoding="utf-8") as handle:  # an analyst's edit in the data folder
        handle.write("B102,乙村镇银行（测试）,村镇银行,法人机构,411321,农村银行机构监管科\n")
    before = _tree(data)
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [_return(tmp_path / "s71")], data)
    assert [(i.rule, i.file) for i in err.value.issues] == [("s71_out_edited", f"{data}/机构名录.csv")]
    assert "--tidy" in err.value.issues[0].detail  # where the change belongs
    assert "上次导入写出的文件此后被修改过" in str(err.value) and "changed since" in str(err.value)
    assert _tree(data) == before  # nothing written, nothing removed


def test_a_first_import_into_a_folder_of_other_files_is_refused(tmp_path):
    _tidy(tmp_path / "tidy")
    data = tmp_path / "data"
    _office_files(data, loans=30)
    (data / "月度监测-旧.xlsx").write_bytes(b"last year's table")
    before = _tree(data)
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [_return(tmp_path / "s71")], data)
    [issue] = err.value.issues
    assert (issue.rule, issue.file) == ("s71_out_foreign", str(data))
    assert "loans/（30 个文件/files）" in issue.detail and "备注.txt" in issue.detail
    assert "未写入任何文件" in str(err.value) and "nothing written" in str(err.value)
    assert _tree(data) == before

    # an import's folder, where the tidy folder now brings a file the analyst put there by hand
    shutil.rmtree(data)
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    (data / "说明.txt").write_text("科室自己的说明\n", encoding="utf-8")
    (tmp_path / "tidy" / "说明.txt").write_text("整洁数据说明\n", encoding="utf-8")
    before = _tree(data)
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [_return(tmp_path / "s71")], data)
    assert [(i.rule, i.file) for i in err.value.issues] == [("s71_out_foreign", f"{data}/说明.txt")]
    assert _tree(data) == before


def test_an_import_failing_midway_leaves_the_last_import_intact(tmp_path, monkeypatch):
    _tidy(tmp_path / "tidy")
    data = tmp_path / "data"
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    _office_files(data)
    before = _visible(_tree(data))
    fixed = _return(tmp_path / "s71", {"S71_I_1..A5.2021,58000000.00": "S71_I_1..A5.2021,59000000.00"})

    # the disk fills while the new files are moved in: the second move into the folder fails
    real_rename, real_replace = os.rename, os.replace
    moves = []

    def failing(real):
        def move(src, dst, *a, **kw):
            dst = Path(dst)
            if dst == data or (dst.parent == data and not dst.name.startswith(".")):
                moves.append(dst)
                if len(moves) == 2:
                    raise OSError(28, "No space left on device")
            return real(src, dst, *a, **kw)

        return move

    monkeypatch.setattr(os, "rename", failing(real_rename))
    monkeypatch.setattr(os, "replace", failing(real_replace))
    with pytest.raises(OSError, match="No space left"):
        _import(tmp_path, [fixed], data)
    monkeypatch.undo()
    assert _visible(_tree(data)) == before  # the last import and the office's files, as they were
    assert not [p for p in data.iterdir() if p.name.startswith(".s71-import-") and p.name != ".s71-import.json"]
    # and the next import goes through
    assert _import(tmp_path, [fixed], data).monthly.iloc[0]["inclusive_balance"] == 7300.00
    assert (data / "loans" / "B100" / "IE_005_504_0.csv").exists()


def test_an_import_killed_while_moving_its_files_in_is_recognised_next_time(tmp_path):
    """Killed (no clean-up ran) after one file of the new import was moved in: the folder holds a mix
    and the new import's pending record; the next import takes both imports' files as its own."""
    _tidy(tmp_path / "tidy")
    data, other = tmp_path / "data", tmp_path / "other"
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    _office_files(data)
    fixed = _return(tmp_path / "s71", {"S71_I_1..A5.2021,58000000.00": "S71_I_1..A5.2021,59000000.00"})
    _import(tmp_path, [fixed], other)  # what the killed import had written
    shutil.copy2(other / "monthly.csv", data / "monthly.csv")
    shutil.copy2(other / ".s71-import.json", data / ".s71-import-pending-killed.json")
    result = _import(tmp_path, [fixed], data)
    assert result.monthly.iloc[0]["inclusive_balance"] == 7300.00
    assert not list(data.glob(".s71-import-pending-*")) and (data / "备注.txt").exists()


def test_a_folder_imported_before_the_record_existed_is_reimported_keeping_the_rest(tmp_path):
    """data/2023 as the office has it: written by an earlier import-s71 (no .s71-import.json), loans/
    copied in beside it, a note, and an analyst's edit to a file the import writes."""
    _tidy(tmp_path / "tidy")
    data = tmp_path / "data"
    _import(tmp_path, [_return(tmp_path / "s71")], data)
    (data / ".s71-import.json").unlink(missing_ok=True)  # as an import before the record wrote it
    _office_files(data)
    (data / "信贷计划.csv").write_text("机构编码,年度,计划新增额\nB101,2023,1200\n", encoding="utf-8")
    office = {k: v for k, v in _tree(data).items() if k.startswith("loans/") or k in ("备注.txt", "分析底稿.xlsx")}
    result = _import(tmp_path, [_return(tmp_path / "s71")], data)
    after = _tree(data)
    assert {k: after.get(k) for k in office} == office
    # the edit is not lost: every replaced file is kept, and the summary names them
    kept = (data / ".s71-import-previous" / "信贷计划.csv").read_text(encoding="utf-8")
    assert "B101,2023,1200" in kept and "信贷计划.csv" in result.summary()
    assert (data / ".s71-import.json").exists()


# --------------------------------------------------------------------------- the zip bomb


def _bomb(path: Path, padding_mb: int) -> Path:
    """A real form sheet whose worksheet XML goes on with ``padding_mb`` MB of empty-looking rows,
    compressed to a few hundred KB: the shape of a zip bomb that a reader parses row by row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = _form_workbook(path.with_name("plain.xlsx"))
    filler = b"<row><c><v>0</v></c></row>" * (2**20 // 26)
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
        for member in src.infolist():
            data = src.read(member)
            if member.filename != "xl/worksheets/sheet1.xml":
                out.writestr(member.filename, data)
                continue
            head, tail = data.split(b"</sheetData>")
            with out.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for _ in range(padding_mb):
                    sheet.write(filler)
                sheet.write(b"</sheetData>" + tail)
    plain.unlink()
    return path


def test_a_zip_bomb_form_workbook_is_refused_in_seconds(tmp_path):
    _tidy(tmp_path / "tidy")
    bomb = _bomb(tmp_path / "s71" / "S71_B101_表样.xlsx", MAX_UNPACKED_MB + 8)
    assert bomb.stat().st_size < 3 * 2**20
    started = time.perf_counter()
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [tmp_path / "s71"], tmp_path / "data")
    assert time.perf_counter() - started < 10
    [issue] = err.value.issues
    assert (issue.rule, issue.file) == ("file_too_large", "S71_B101_表样.xlsx")
    assert f"{MAX_UNPACKED_MB:,} MB" in issue.detail and "zip bomb" in issue.format()
    assert not (tmp_path / "data").exists()


# --------------------------------------------------------------------------- negative cells


def _form_with_rows_2_and_4(path: Path, a1_row2, b1_row4) -> Path:
    """The hand-made form sheet of tests/inputs/test_s71.py with band-1 columns for A and B (P, Q)
    and rows 2 (其它组织) and 4 (其他个人) below it."""
    from openpyxl import load_workbook

    _form_workbook(path)
    wb = load_workbook(path)
    ws = wb.active
    ws["P4"], ws["P5"] = "A 贷款余额", "1 单户授信100万元（含）以下"
    ws["Q4"], ws["Q5"] = "B 贷款余额户数", "1 单户授信100万元（含）以下"
    # the signature line (A11) moves below the new rows
    ws["A11"], ws["B11"], ws["P11"] = "2", "普惠型其它组织贷款", a1_row2
    ws["A12"], ws["B12"], ws["Q12"] = "4", "普惠型其他个人（非农户）经营性贷款", b1_row4
    ws["A13"] = "单位负责人：          填表人："
    wb.save(path)
    return path


def test_negative_cells_are_refused_located(tmp_path):
    _tidy(tmp_path / "tidy")
    (tmp_path / "s71").mkdir()
    form = _form_with_rows_2_and_4(tmp_path / "s71" / "neg.xlsx", -500, -3)
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [form], tmp_path / "data")
    found = [(i.rule, i.file, i.row, i.column) for i in err.value.issues]
    assert found == [
        ("s71_negative_cell", "neg.xlsx[2023年6月]", 11, "P11 (2.A1)"),
        ("s71_negative_cell", "neg.xlsx[2023年6月]", 12, "Q12 (4.B1)"),
    ]
    assert "2.A1（贷款余额）= -500.00 万元" in err.value.issues[0].detail
    assert "4.B1（贷款余额户数）= -3 户" in err.value.issues[1].detail
    assert "不得为负数" in str(err.value) and "cannot be negative" in str(err.value)

    # the long format: -500万元 written as -5000000.00 元 on line 15
    mart = _return(tmp_path / "mart", {"S71_I_2..A1.2018,500000.00": "S71_I_2..A1.2018,-5000000.00"})
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [mart], tmp_path / "data")
    assert [(i.rule, i.file, i.row) for i in err.value.issues] == [("s71_negative_cell", RETURN, 15)]
    assert "-5,000,000.00 元" in err.value.issues[0].detail

    # a column the form declares signed (a change since the start of the year) may be negative
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params" / "s71", params / "s71")
    spec = (params / "s71" / "form.yaml").read_text(encoding="utf-8")
    spec = spec.replace("A: {label: 贷款余额, kind: amount}", "A: {label: 贷款余额, kind: amount, signed: true}")
    (params / "s71" / "form.yaml").write_text(spec, encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [form], tmp_path / "data", params_dir=params)
    assert [(i.rule, i.column) for i in err.value.issues] == [("s71_negative_cell", "Q12 (4.B1)")]


# --------------------------------------------------------------------------- mixed encodings


def _gbk_export(path: Path, department: str, utf8_lines: range) -> tuple[int, int] | None:
    """The mart return in GBK with a department on every row, lines ``utf8_lines`` (counted from 1,
    the header is line 1) pasted in as UTF-8. Returns the first UTF-8 line and the byte offset of its
    first non-ASCII byte in the file (None when there is none)."""
    lines = (FIXTURES / RETURN).read_text(encoding="utf-8").splitlines()
    raw, first = b"", None
    for number, line in enumerate(lines, start=1):
        text = (line + department if number > 1 else line) + "\n"
        encoded = text.encode("utf-8" if number in utf8_lines else "gbk")
        if number in utf8_lines and first is None:
            first = (number, len(raw) + len(line.encode("ascii")))
        raw += encoded
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(raw)
    return first


@pytest.mark.parametrize(
    "department",
    [
        "普惠金融部",  # 15 UTF-8 bytes: GB18030 fails on them
        "普惠金融",  # 12 UTF-8 bytes: GB18030 reads them without an error, as other characters
    ],
)
def test_a_gbk_export_with_utf8_lines_is_refused_at_the_line_and_byte(tmp_path, department):
    _tidy(tmp_path / "tidy")
    src = tmp_path / "s71" / "S71_B101.csv"
    first = _gbk_export(src, department, range(20, 25))
    assert first is not None
    line, offset = first
    assert line == 20
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [src], tmp_path / "data")
    [issue] = err.value.issues
    assert (issue.rule, issue.file, issue.row) == ("encoding_error", "S71_B101.csv", 20)
    in_line = len((FIXTURES / RETURN).read_text(encoding="utf-8").splitlines()[19]) + 1
    assert f"byte offset {offset} in the file" in issue.detail and f"byte {in_line} of the line" in issue.detail
    assert "第20行" in issue.detail and "GBK" in issue.detail


def test_a_gbk_export_alone_still_reads(tmp_path):
    _tidy(tmp_path / "tidy")
    src = tmp_path / "s71" / "S71_B101.csv"
    _gbk_export(src, "普惠金融部", range(0))
    assert _import(tmp_path, [src], tmp_path / "data").monthly.iloc[0]["inclusive_balance"] == 7200.00


# --------------------------------------------------------------------------- one message per problem


def test_an_unknown_bank_is_one_message_per_file(tmp_path):
    _tidy(tmp_path / "tidy")
    body = (FIXTURES / RETURN).read_text(encoding="utf-8").splitlines()
    month_ends = pd.date_range("2023-01-31", periods=12, freq="ME").strftime("%Y%m%d")
    rows = [line.replace("20230630,B101", f"{day},B999") for day in month_ends for line in body[1:]]
    (tmp_path / "s71").mkdir()
    (tmp_path / "s71" / "S71_B999.csv").write_text("\n".join([body[0], *rows]) + "\n", encoding="utf-8")
    (tmp_path / "s71" / "S71_B999_6月.csv").write_text("\n".join([body[0], *rows[-31:]]) + "\n", encoding="utf-8")
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [tmp_path / "s71"], tmp_path / "data")
    issues = [i for i in err.value.issues if i.rule == "unknown_institution"]
    assert [(i.file, i.row) for i in issues] == [("S71_B999.csv", 2), ("S71_B999_6月.csv", 2)]
    assert "B999" in issues[0].detail and "384" in issues[0].detail  # 12 months × 32 cells
    assert "31" in issues[1].detail
    assert len(err.value.issues) == 2


def test_a_wrong_year_suffix_is_printed_as_written(tmp_path):
    _tidy(tmp_path / "tidy")
    # 1.A1 is a 2018 cell; one item spelled without a year, as people write it, beside the mart's
    src = _return(
        tmp_path / "s71",
        {
            "S71_I_1..A1.2018,30000000.00": "S71_I_1..A1.2021,30000000.00",
            "S71_I_1.1.A1.2018,4000000.00": "1.1.A1,4000000.00",
        },
    )
    with pytest.raises(DataValidationError) as err:
        _import(tmp_path, [src], tmp_path / "data")
    [issue] = [i for i in err.value.issues if i.rule == "s71_unknown_item"]
    assert issue.row == 2 and "后缀 .2021 不符" in issue.detail and "not .2021" in issue.detail
    assert ".2021.0" not in issue.detail


# --------------------------------------------------------------------------- the table-check message


def test_the_table_check_message_says_what_happens_to_the_figures(tmp_path, capsys):
    """6.A5 written 7300 万元 where rows 1 + 3 give 7200: imported, the indicators use 7300."""
    from analysis.cli.realdata import add_parsers

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    out = tmp_path / "data"
    args = parser.parse_args(
        ["import-s71", str(FIXTURES / "platform-row6-wrong.csv"), "--tidy", str(_tidy(tmp_path / "tidy"))]
        + ["--out", str(out), "--format", "csv", "--no-validate", "--params", str(ROOT / "params")]
    )
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "不适用" not in printed.replace("不标为不适用", "") and "n/a" not in printed.replace("nor marked n/a", "")
    assert "按报表报送值计算" in printed and "computed from the figures as written" in printed
    assert str(out / "s71-checks.csv") in printed and "S71 报表表内校验" in printed
    assert "platform-row6-wrong.csv 第7行/row 7 列/column 6.A5: [s71_check_total]" in printed
    assert pd.read_csv(out / "monthly.csv")["普惠型小微企业贷款余额"].tolist() == [7300.00]
