"""Hostile loan-level inputs and caches (issue 30), on the hand-written EAST city of test_east.py.

Four banks, June 2023; K1 delivers GBK CSV by table code (its receipts J1 200万, J2 50万, J3 USD
100,000 × 7.2258, J4 15万: 6.A5 = 337.26万 by hand, see test_east.py), K3 UTF-8 CSV by Chinese name,
K2 and K4 Parquet. The firm 91411300MA00000001 is at all four banks. Each case below is one way a
delivery, or the cache of converted copies, can go wrong; each must be refused (naming the bank, its
file and the line) or read right.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import stat
import threading
import unicodedata
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from analysis.core.errors import RULES, DataValidationError
from analysis.inputs.loans import analyse_loans
from tests.inputs.test_east import (
    FIRM,
    K1_CORPORATE,
    K1_CORPORATE_RECEIPTS,
    K1_LINES,
    K1_PERSONAL,
    K1_PERSONAL_RECEIPTS,
    K2_CORPORATE,
    K2_LINES,
    K2_RECEIPTS,
    K3_CORPORATE,
    K3_LINES,
    K4_CORPORATE,
    K4_LINES,
    L1,
    _csv,
    _parquet,
    _reported,
    write_city,
)

K1_6A5 = 337.26  # 200 + 50 + 72.258 + 15 (test_east.py)


def _run(folder: Path, tmp: Path):
    return analyse_loans(folder, _reported(), temp_dir=tmp)


def _refused(folder: Path, tmp: Path) -> list:
    with pytest.raises(DataValidationError) as err:
        _run(folder, tmp)
    return err.value.issues


def _k1_cell(found, item: str = "6.A5") -> float:
    return found.recomputed.query("bank_id == 'K1' and item == @item")["value"].item()


def _utf8_copy_of(tmp: Path, text: str) -> Path:
    """The UTF-8 copy in the cache whose content is ``text`` (the bank's GBK file converted)."""
    found = [p for p in (tmp / "east-utf8").glob("*.csv") if p.read_bytes() == text.encode("utf-8")]
    assert len(found) == 1, found
    return found[0]


def _k1_receipts_parquet(tmp: Path) -> Path:
    """The Parquet copy in the cache of K1's IE_005_504.csv (the one holding J1 of licence L1)."""
    found = []
    for path in (tmp / "east-parquet").glob("*.parquet"):
        columns = [c for (c, *_) in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()]
        if "XDJJH" in columns and duckdb.sql(f"SELECT count(*) FROM '{path}' WHERE XDJJH = 'J1'").fetchall()[0][0]:
            found.append(path)
    assert len(found) == 1, found
    return found[0]


# --- 3. the same 借据号 twice in one bank's snapshot --------------------------------------------


def test_the_same_receipt_twice_in_one_file_is_refused_with_bank_file_line_and_key(tmp_path):
    """J1 written again as line 5 of K1's file would count 200万 twice. The same 借据号 at another
    bank (K2 numbers its receipt J1 too) is no repeat: only K1's is refused."""
    folder = write_city(tmp_path / "c")
    j1 = K1_CORPORATE_RECEIPTS.splitlines(keepends=True)[1]
    _csv(folder / "K1" / "IE_005_504.csv", K1_CORPORATE_RECEIPTS + j1, "gbk")
    _parquet(folder / "K2" / "对公信贷业务借据表_202306.parquet", dict(K2_RECEIPTS, 信贷借据号=["J1"]))
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [("IE_005_504.csv", 5, "XDJJH", "east_duplicate_key")]
    detail = issues[0].detail
    for said in ("K1/IE_005_504.csv", "机构/bank K1", L1, "J1", "20230630", "第2行", "第5行", "× 2"):
        assert said in detail, (said, detail)


def test_the_same_receipt_in_the_corporate_and_the_personal_file_is_refused(tmp_path):
    """A 借据号 is one loan whichever table holds it: J1 in IE_005_504 line 2 and again in
    IE_005_503 line 3 is refused at its second place."""
    folder = write_city(tmp_path / "c")
    j1 = K1_CORPORATE_RECEIPTS.splitlines(keepends=True)[1]
    _csv(folder / "K1" / "IE_005_503.csv", K1_PERSONAL_RECEIPTS + j1, "gbk")
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.rule) for i in issues] == [("IE_005_503.csv", 3, "east_duplicate_key")]
    assert "K1/IE_005_504.csv 第2行" in issues[0].detail and "K1/IE_005_503.csv 第3行" in issues[0].detail


def test_a_line_twice_in_one_snapshot_is_refused(tmp_path):
    """The key check is every view's: 授信协议号 S1 twice would double K1's 800万 line."""
    folder = write_city(tmp_path / "c")
    s1 = K1_LINES.splitlines(keepends=True)[1]
    _csv(folder / "K1" / "IE_007_701.csv", K1_LINES + s1, "gbk")
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [("IE_007_701.csv", 6, "SXXYH", "east_duplicate_key")]


# --- 4. inf and NaN ----------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["inf", "NaN", "-Infinity", "1e999"])
def test_a_non_finite_amount_is_refused_and_located(tmp_path, written):
    """DuckDB reads these as DOUBLE; one of them makes 6.A5 inf or NaN (or, summed with others, 0)."""
    folder = write_city(tmp_path / "c")
    text = K1_CORPORATE_RECEIPTS.replace("3000000.00,2000000.00,", f"3000000.00,{written},")
    _csv(folder / "K1" / "IE_005_504.csv", text, "gbk")
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [("IE_005_504.csv", 2, "DKYE", "east_not_finite")]
    assert written in issues[0].detail and "机构/bank K1" in issues[0].detail and L1 in issues[0].detail


def test_a_non_finite_amount_in_a_parquet_double_column_is_refused(tmp_path):
    """A bank's Parquet with 贷款余额 typed DOUBLE: NaN is refused as well as the text 'NaN'."""
    folder = write_city(tmp_path / "c")
    columns = {k: pa.array(v) for k, v in K2_RECEIPTS.items()}
    columns["贷款余额"] = pa.array([float("nan")], from_pandas=False)  # NaN itself, not NULL
    pq.write_table(pa.table(columns), folder / "K2" / "对公信贷业务借据表_202306.parquet")
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [
        ("对公信贷业务借据表_202306.parquet", 2, "贷款余额", "east_not_finite")
    ]
    assert "机构/bank K2" in issues[0].detail


def test_a_non_finite_amount_in_the_simplified_tables_is_refused(tmp_path):
    from tests.inputs.test_loans import CUSTOMERS, LINES, RECEIPTS

    folder = tmp_path / "s"
    folder.mkdir()
    RECEIPTS.assign(balance=RECEIPTS["balance"].astype(float).where(RECEIPTS.index != 2, float("inf"))).to_csv(
        folder / "receipts.csv", index=False
    )
    CUSTOMERS.to_csv(folder / "customers.csv", index=False)
    LINES.to_csv(folder / "credit_lines.csv", index=False)
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [("receipts.csv", 4, "balance", "east_not_finite")]


# --- 5. 证件号码 in full-width digits or with a lower-case x --------------------------------------

FIRM_X = "91411300MA0000001X"  # a firm whose check character is a letter


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _firm_written(folder: Path, firm: str, written: dict[str, str]) -> None:
    """The firm's 证件号码 as each bank writes it in its customers and lines (``firm`` where not given)."""

    def at(bank: str) -> str:
        return written.get(bank, firm)

    def swap(columns: dict, bank: str) -> dict:
        return {k: [at(bank) if v == FIRM else v for v in values] for k, values in columns.items()}

    _csv(folder / "K1" / "IE_002_203.csv", K1_CORPORATE.replace(FIRM, at("K1")), "gbk")
    _csv(folder / "K1" / "IE_007_701.csv", K1_LINES.replace(FIRM, at("K1")), "gbk")
    _parquet(folder / "K2" / "对公客户信息表_202306.parquet", swap(K2_CORPORATE, "K2"))
    _parquet(folder / "K2" / "授信信息表_202306.parquet", swap(K2_LINES, "K2"))
    _csv(folder / "K3" / "对公客户信息表.csv", K3_CORPORATE.replace(FIRM, at("K3")), "utf-8")
    _csv(folder / "K3" / "授信信息表.csv", K3_LINES.replace(FIRM, at("K3")), "utf-8")
    _parquet(folder / "K4" / "K4-IE_002_203.parquet", swap(K4_CORPORATE, "K4"))
    _parquet(folder / "K4" / "K4-IE_007_701.parquet", swap(K4_LINES, "K4"))


@pytest.mark.parametrize(
    ("firm", "written"),
    [
        (FIRM, {"K3": _fullwidth(FIRM)}),  # K3 (UTF-8 CSV) in full-width digits and letters
        (FIRM, {"K1": _fullwidth(FIRM) + "\u3000"}),  # K1 (GBK CSV) full-width, an ideographic space after
        (FIRM_X, {"K4": FIRM_X[:-1] + "x"}),  # K4 (Parquet) with a lower-case check character
        (FIRM_X, {"K2": _fullwidth(FIRM_X[:-1]) + "ｘ"}),  # K2 full-width, its x full-width lower case
    ],
    ids=["fullwidth-K3", "fullwidth-K1-gbk", "lower-x-K4", "fullwidth-lower-x-K2"],
)
def test_an_id_number_written_otherwise_is_matched_and_said_in_the_coverage(tmp_path, firm, written):
    """The firm is at four banks however one of them writes its 证件号码: 多头授信 at all four
    (lines 800 + 100 + 100 + 100万), and the coverage sheet of that bank lists the number as written."""
    folder = write_city(tmp_path / "c")
    _firm_written(folder, firm, written)
    found = _run(folder, tmp_path / "tmp")
    rows = found.checks["over_crediting"].set_index("institution_id")
    assert set(rows["id_number"]) == {firm}
    assert sorted(rows.index) == ["K1", "K2", "K3", "K4"]
    assert (rows["banks"] == 4).all() and (rows["total_line"] == 11_000_000).all() and rows["many_banks"].all()
    cov = found.coverage[found.coverage["rule"] == "id_normalised"]
    (bank,) = written
    assert cov["institution_id"].tolist() == [bank]
    assert cov["judged"].tolist() == [1] and cov["not_judged"].tolist() == [0]
    assert written[bank].strip() in cov["reason"].item() and firm in cov["reason"].item()


def test_the_fold_of_full_width_forms_is_what_nfkc_does_with_them():
    """The SQL folds U+3000 and U+FF01–U+FF5E with translate() (NFKC itself is not in DuckDB): the
    pairs are exactly NFKC's."""
    from analysis.inputs.east import _FULLWIDTH, _HALFWIDTH

    assert len(_FULLWIDTH) == len(_HALFWIDTH) == 95
    assert [unicodedata.normalize("NFKC", c) for c in _FULLWIDTH] == list(_HALFWIDTH)


# --- 6. two processes converting the same files at once -------------------------------------------


def _convert_in_child(folder: str, tmp: str, start, meet, results) -> None:
    """One `analysis loans` of two started together: both line up at ``start``; the first copy one
    of them moves into east-utf8/ waits (up to 5 s) at ``meet`` for the other to get there too."""
    import os as child_os

    real_replace = child_os.replace
    waited: list[int] = []

    def replace(src, dst, *args, **kwargs):
        if not waited and "east-utf8" in str(dst) and str(dst).endswith(".csv"):
            waited.append(1)
            try:
                meet.wait(timeout=5)
            except threading.BrokenBarrierError:
                pass  # the other process waits for this one's copy (it is never made twice at once)
        return real_replace(src, dst, *args, **kwargs)

    child_os.replace = replace
    start.wait(timeout=120)
    try:
        found = analyse_loans(Path(folder), _reported(), temp_dir=Path(tmp))
        results.put(("ok", _k1_cell(found)))
    except Exception as exc:  # noqa: BLE001 — reported to the parent, which fails the test
        results.put(("failed", f"{type(exc).__name__}: {exc}"[:2000]))


def test_two_runs_started_together_both_read_the_banks_files(tmp_path):
    """`analysis loans` and `analysis run` at once used to write the same east-utf8/<key>.csv.part:
    the second to finish found it moved away and blamed the bank's file."""
    folder = write_city(tmp_path / "c")
    ctx = multiprocessing.get_context("spawn")
    start, meet, results = ctx.Barrier(2), ctx.Barrier(2), ctx.Queue()
    children = [
        ctx.Process(target=_convert_in_child, args=(str(folder), str(tmp_path / "tmp"), start, meet, results))
        for _ in range(2)
    ]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=300) for _ in children]
    for child in children:
        child.join(timeout=60)
    assert outcomes == [("ok", K1_6A5), ("ok", K1_6A5)], outcomes
    assert not list((tmp_path / "tmp").rglob("*.part"))


def _temporary_name(target: str, names) -> None:
    from analysis.core.files import atomic_private_path

    with atomic_private_path(Path(target)) as tmp:
        names.put((os.getpid(), tmp.name))


def test_temporaries_are_named_after_the_process_and_a_random_token(tmp_path):
    from analysis.core.files import atomic_private_path

    target = tmp_path / "x.csv"
    ctx = multiprocessing.get_context("spawn")
    names = ctx.Queue()
    child = ctx.Process(target=_temporary_name, args=(str(target), names))
    child.start()
    child_pid, child_name = names.get(timeout=120)
    child.join(timeout=60)
    with atomic_private_path(target) as tmp:
        mine = tmp.name
        assert stat.S_IMODE(tmp.stat().st_mode) == 0o600
    with atomic_private_path(target) as tmp:
        again = tmp.name
    assert child_name.startswith(f".x.csv.{child_pid}-") and mine.startswith(f".x.csv.{os.getpid()}-")
    assert len({child_name, mine, again}) == 3 and all(n.endswith(".part") for n in (child_name, mine, again))


# --- 7. the caches are checked before use ----------------------------------------------------------


def test_a_truncated_parquet_copy_is_made_again_without_a_traceback(tmp_path):
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    first = _run(folder, tmp)
    for copy in (tmp / "east-parquet").glob("*.parquet"):
        with copy.open("r+b") as f:
            f.truncate(copy.stat().st_size // 2)
    again = _run(folder, tmp)
    assert _k1_cell(again) == _k1_cell(first) == K1_6A5
    for copy in (tmp / "east-parquet").glob("*.parquet"):
        duckdb.sql(f"SELECT count(*) FROM '{copy}'").fetchall()  # whole again


def test_a_doctored_parquet_copy_of_another_owner_is_not_used(tmp_path):
    """K1's receipts copy replaced by one with every balance doubled, mode 0666 (and, as root,
    owned by nobody): 6.A5 would be twice the truth."""
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    _run(folder, tmp)
    copy = _k1_receipts_parquet(tmp)
    doctored = tmp_path / "doctored.parquet"
    duckdb.sql(
        f"COPY (SELECT * REPLACE (CAST(CAST(DKYE AS DOUBLE) * 2 AS VARCHAR) AS DKYE) FROM '{copy}') "
        f"TO '{doctored}' (FORMAT parquet)"
    )
    shutil.copyfile(doctored, copy)
    os.chmod(copy, 0o666)
    if os.geteuid() == 0:
        os.chown(copy, 65534, 65534)
    assert _k1_cell(_run(folder, tmp)) == K1_6A5
    info = copy.stat()
    assert info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) == 0o600


def test_a_utf8_copy_rewritten_to_the_same_size_and_time_is_made_again(tmp_path):
    """J1's balance 2000000.00 → 4000000.00 in K1's UTF-8 copy, size kept and its times set back:
    the change time still differs, and the copy is made again from the bank's file."""
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    _run(folder, tmp)
    copy = _utf8_copy_of(tmp, K1_CORPORATE_RECEIPTS)
    before = copy.stat()
    text = copy.read_text(encoding="utf-8")
    doctored = text.replace("3000000.00,2000000.00", "3000000.00,4000000.00")
    assert len(doctored.encode()) == len(text.encode()) and doctored != text
    copy.write_text(doctored, encoding="utf-8")
    os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns))
    for parquet in (tmp / "east-parquet").glob("*"):  # so that a Parquet copy is made from it again
        parquet.unlink()
    assert _k1_cell(_run(folder, tmp)) == K1_6A5
    assert copy.read_text(encoding="utf-8") == K1_CORPORATE_RECEIPTS


def test_a_utf8_copy_cut_in_half_is_made_again(tmp_path):
    """K1's UTF-8 copy cut after its first receipt (a well-formed, shorter CSV): J2–J3 would vanish."""
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    _run(folder, tmp)
    copy = _utf8_copy_of(tmp, K1_CORPORATE_RECEIPTS)
    copy.write_text("".join(K1_CORPORATE_RECEIPTS.splitlines(keepends=True)[:2]), encoding="utf-8")
    assert _k1_cell(_run(folder, tmp)) == K1_6A5
    assert copy.read_text(encoding="utf-8") == K1_CORPORATE_RECEIPTS


def test_the_caches_are_private(tmp_path):
    """Folders 0700, copies and sidecars 0600 — also where a former run left 0755 and 0644."""
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    (tmp / "east-utf8").mkdir(parents=True, mode=0o755)
    os.chmod(tmp / "east-utf8", 0o755)
    _run(folder, tmp)
    for name in ("east-utf8", "east-parquet"):
        assert stat.S_IMODE((tmp / name).stat().st_mode) == 0o700, name
        entries = list((tmp / name).iterdir())
        assert entries and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in entries), name
        for sidecar in (tmp / name).glob("*.json"):
            record = json.loads(sidecar.read_text(encoding="utf-8"))
            assert set(record["origin"]) == {"path", "size", "mtime_ns", "sha256"}
            assert set(record["copy"]) == {"sha256", "fingerprint"}


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown to another user needs root")
def test_a_cache_folder_of_another_user_is_refused_naming_it(tmp_path):
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    foreign = tmp / "east-utf8"
    foreign.mkdir(parents=True)
    os.chown(foreign, 65534, 65534)
    with pytest.raises(DataValidationError) as err:
        _run(folder, tmp)
    assert [(i.file, i.rule) for i in err.value.issues] == [(str(foreign), "east_cache_foreign")]
    text = str(err.value)
    assert str(foreign) in text and RULES["east_cache_foreign"][0] in text and RULES["east_cache_foreign"][1] in text
    assert list(foreign.iterdir()) == []  # nothing written into it


# --- 10. the bank's own file, the bank and the true offset in every refusal -----------------------


def test_a_gbk_file_cut_inside_a_character_names_the_banks_file_and_the_byte(tmp_path):
    """K1's receipts cut after the first byte of 正常 in its last row: the byte offset is that of the
    file, not of a decoder's buffer ('position 0'), and the file is the bank's, not a cache copy."""
    folder = write_city(tmp_path / "c")
    data = K1_CORPORATE_RECEIPTS.encode("gbk")
    offset = data.rindex("正常".encode("gbk"))
    (folder / "K1" / "IE_005_504.csv").write_bytes(data[: offset + 1])
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.rule) for i in issues] == [("IE_005_504.csv", 4, "east_file_cut")]
    detail = issues[0].detail
    assert f"{offset:,}" in detail and "position 0" not in detail
    assert "K1/IE_005_504.csv" in detail and "机构/bank K1" in detail and L1 in detail
    assert "east-utf8" not in detail and ".part" not in detail


def test_a_utf8_file_cut_inside_a_character_is_refused_as_cut(tmp_path):
    """K3's UTF-8 lines cut after two lines and two bytes of 授 (three in UTF-8): refused as cut at
    that byte, line 4, not read as GBK (it would be mojibake)."""
    folder = write_city(tmp_path / "c")
    kept = "".join(K3_LINES.splitlines(keepends=True)[:3]).encode("utf-8")
    (folder / "K3" / "授信信息表.csv").write_bytes(kept + "授".encode()[:2])
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.rule) for i in issues] == [("授信信息表.csv", 4, "east_file_cut")]
    assert f"{len(kept):,}" in issues[0].detail and "K3/授信信息表.csv" in issues[0].detail


def test_a_gbk_file_cut_inside_a_row_names_the_banks_file_and_line(tmp_path):
    """Cut at a character boundary inside its last row, K1's file converts, but the row has too few
    fields: DuckDB's message about the UTF-8 copy is told about the bank's file, with where the line
    starts in it."""
    folder = write_city(tmp_path / "c")
    data = K1_CORPORATE_RECEIPTS.encode("gbk")
    (folder / "K1" / "IE_005_504.csv").write_bytes(data[: data.rindex("正常".encode("gbk"))])
    line_4 = len("".join(K1_CORPORATE_RECEIPTS.splitlines(keepends=True)[:3]).encode("gbk"))
    issues = _refused(folder, tmp_path / "tmp")
    # (DuckDB's sniffer, meeting the short row, took the file for one column: every column missing)
    assert [(i.file, i.row, i.rule) for i in issues] == [("IE_005_504.csv", 4, "file_unreadable")]
    detail = issues[0].detail
    assert "K1/IE_005_504.csv" in detail and "机构/bank K1" in detail and f"{line_4:,}" in detail
    assert "east-utf8" not in detail and str(tmp_path / "tmp") not in detail


def test_a_refusal_names_the_bank_and_its_licence(tmp_path):
    """Every bank may deliver an IE_002_201.csv: the refusal says which (folder, id and licence)."""
    folder = write_city(tmp_path / "c")
    _csv(folder / "K1" / "IE_002_201.csv", K1_PERSONAL.replace("个体工商户;小微企业主", "个体户"), "gbk")
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.row, i.rule) for i in issues] == [("IE_002_201.csv", 2, "east_unknown_value")]
    assert "K1/IE_002_201.csv（机构/bank K1，金融许可证号/licence B1191H241130001）" in issues[0].detail


def test_a_missing_column_names_the_bank_even_in_a_folder_not_named_by_it(tmp_path):
    """A whole-file refusal has no row to take the licence from: the folder gives it when named by
    the institution id, else the file's first row."""
    folder = write_city(tmp_path / "c")
    (folder / "K1").rename(folder / "第一家银行")
    _csv(
        folder / "第一家银行" / "IE_005_501.csv",
        "JRXKZH,XDHTH,KHTYBH,HTJE,DBFS,CJRQ\n" + f"{L1},H1,1,1,抵押,20230630\n",
        "gbk",
    )
    issues = _refused(folder, tmp_path / "tmp")
    assert [(i.file, i.column, i.rule) for i in issues] == [("IE_005_501.csv", "DBLX", "missing_column")]
    assert "第一家银行/IE_005_501.csv（机构/bank K1，金融许可证号/licence B1191H241130001）" in issues[0].detail


def test_duckdbs_spill_folder_is_private_too(tmp_path, monkeypatch):
    """What DuckDB spills past its memory limit is bank data: under the cache folder, 0700 like the
    copies (a former run's 0755 folder is set private), and one of another user refused."""
    from analysis.inputs.loans import connect

    folder = write_city(tmp_path / "c")
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache" / "duckdb-tmp").mkdir(parents=True, mode=0o755)
    os.chmod(tmp_path / "cache" / "duckdb-tmp", 0o755)
    connect(folder).close()
    assert stat.S_IMODE((tmp_path / "cache" / "duckdb-tmp").stat().st_mode) == 0o700
    if os.geteuid() == 0:
        os.chown(tmp_path / "cache" / "duckdb-tmp", 65534, 65534)
        with pytest.raises(DataValidationError) as err:
            connect(folder)
        assert [i.rule for i in err.value.issues] == ["east_cache_foreign"]
