"""EAST 5.0 tables as banks deliver them (analysis.inputs.east), on hand-written files in the real shapes.

Four banks of a fictional city, June 2023. K1 delivers by table code with column codes in GBK CSV;
K2 by Chinese table and column names in Parquet, dates as YYYYMMDD strings; K3 Chinese names in
UTF-8 CSV; K4 codes in Parquet. The firm 91411300MA00000001 is customer 1 at K1, 7 at K2, C0003
at K3 and 12 at K4; K2–K4 also number other firms 1, 2, 3. Every expected figure is worked out by
hand below (amounts in 元, cells in 万元).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis.core.errors import DataValidationError
from analysis.inputs.loans import analyse_loans

FIRM = "91411300MA00000001"
ORG_MAP = "ORG_NUM,机构编码\nB1191H241130001,K1\nB1191H241130002,K2\nB1191H241130003,K3\nB1191H241130004,K4\n"
L1, L2, L3, L4 = "B1191H241130001", "B1191H241130002", "B1191H241130003", "B1191H241130004"

# --- K1: table codes, column codes, GBK CSV -------------------------------------------------
K1_CORPORATE = f"""JRXKZH,KHTYBH,ZJLB,ZJHM,KHMC,KHLX,QYFL,CLRQ,SCJLXDGXNY,XZQHDM,SSHY,CJRQ
{L1},1,统一社会信用代码,{FIRM},南阳甲机械有限公司,单一法人客户,小型企业,20100101,201005,411302,C34,20230630
{L1},2,统一社会信用代码,91411300MA00000002,南阳乙商贸有限公司,单一法人客户,微型企业,20230301,999912,411303,F51,20230630
"""
K1_PERSONAL = f"""JRXKZH,KHTYBH,KHXM,ZJLB,ZJHM,BXYGBZ,SCJLXDGXNY,CJRQ
{L1},3,张*,居民身份证,411302******0011,个体工商户;小微企业主,201801,20230630
"""
RECEIPT_HEADER = (
    "JRXKZH,MXKMBH,KHTYBH,XDHTH,XDJJH,XDYWZL,DKFFLX,BZ,DKJE,DKYE,DKWJFL,DKFFRQ,DKDQRQ,QBRQ,QXRQ,SJLL,"
    "DKTXDQ,DKTXHY,SFPHXXWQYDK,CJRQ"
)
K1_CORPORATE_RECEIPTS = f"""{RECEIPT_HEADER}
{L1},13030101,1,H1,J1,流动资金贷款,新增,CNY,3000000.00,2000000.00,正常,20220601,20240601,99991231,99991231,5.000000,411302,C34,是,20230630
{L1},13030101,1,H2,J2,流动资金贷款,重组贷款,CNY,500000.00,500000.00,关注,20230401,20231231,20230301,20230415,5.000000,411302,C34,是,20230630
{L1},13030101,2,H3,J3,流动资金贷款,新增,USD,100000.00,100000.00,正常,20230501,20240430,99991231,99991231,6.000000,411303,F51,是,20230630
"""
K1_PERSONAL_RECEIPTS = f"""{RECEIPT_HEADER}
{L1},13030201,3,H4,J4,个人经营性贷款,无还本续贷,CNY,200000.00,150000.00,正常,20230115,20231215,99991231,20230520,4.500000,411302,F52,是,20230630
"""
K1_CONTRACTS = f"""JRXKZH,XDHTH,KHTYBH,HTJE,DBLX,CJRQ
{L1},H1,1,3000000.00,抵押,20230630
{L1},H2,1,500000.00,保证,20230630
{L1},H3,2,800000.00,信用,20230630
{L1},H4,3,200000.00,信用,20230630
"""
K1_LINES = f"""JRXKZH,SXXYH,KHTYBH,KHZJLB,KHZJHM,SXED,YYED,BZ,SXKSRQ,SXDQRQ,SXZT,YHJGDM,CJRQ
{L1},S1,1,统一社会信用代码,{FIRM},8000000.00,2500000.00,CNY,20220101,99991231,有效,91411300000000001X,20230630
{L1},S2,2,统一社会信用代码,,1000000.00,722580.00,CNY,20230301,20260301,有效,91411300000000001X,20230630
{L1},S3,3,居民身份证,411302******0011,500000.00,150000.00,CNY,20230101,20251231,有效,91411300000000001X,20230630
{L1},S9,2,统一社会信用代码,91411300MA00000002,9000000.00,0,CNY,20200101,20221231,无效,91411300000000001X,20230630
"""

# --- K2: Chinese table and column names, Parquet with YYYYMMDD strings ------------------------
K2_CORPORATE = {
    "金融许可证号": [L2, L2, L2],
    "客户统一编号": ["7", "1", "2"],
    "证件号码": [FIRM, "91411300MA00000021", "91411300MA00000022"],
    "客户类型": ["单一法人客户", "单一法人客户", "同业客户"],
    "企业分类": ["小型企业", "中型企业", "其他-其他组织机构"],
    "成立日期": ["20100101", "20050101", "19990101"],
    "采集日期": ["20230630"] * 3,
}
K2_RECEIPTS = {
    "金融许可证号": [L2],
    "明细科目编号": ["13030101"],
    "客户统一编号": ["7"],
    "信贷合同号": ["H21"],
    "信贷借据号": ["J21"],
    "贷款发放类型": ["新增"],
    "币种": ["CNY"],
    "贷款金额": ["1000000.00"],
    "贷款余额": ["1000000.00"],
    "贷款五级分类": ["正常"],
    "贷款发放日期": ["20230210"],
    "贷款到期日期": ["20240209"],
    "欠本日期": ["99991231"],
    "欠息日期": ["99991231"],
    "实际利率": ["4.350000"],
    "是否普惠型小微企业贷款": ["是"],
    "采集日期": ["20230630"],
}
K2_CONTRACTS = {"金融许可证号": [L2], "信贷合同号": ["H21"], "担保类型": ["其他-联保"], "采集日期": ["20230630"]}
K2_LINES = {
    "金融许可证号": [L2] * 3,
    "授信协议号": ["T1", "T2", "T3"],
    "客户统一编号": ["7", "1", "2"],
    "客户证件号码": [FIRM, "91411300MA00000021", "91411300MA00000022"],
    "授信额度": ["1000000.00", "2000000.00", "3000000.00"],
    "币种": ["CNY"] * 3,
    "授信开始日期": ["20230101"] * 3,
    "授信到期日期": ["20231231"] * 3,
    "采集日期": ["20230630"] * 3,
}

# --- K3: Chinese names, UTF-8 CSV; K4: codes, Parquet (customers and lines only) ---------------
K3_CORPORATE = f"""金融许可证号,客户统一编号,证件号码,客户类型,企业分类,成立日期,采集日期
{L3},C0003,{FIRM},单一法人客户,小型企业,20100101,20230630
{L3},1,91411300MA00000031,单一法人客户,微型企业,20150101,20230630
{L3},2,91411300MA00000032,单一法人客户,小型企业,20150101,20230630
"""
K3_LINES = f"""金融许可证号,授信协议号,客户统一编号,客户证件号码,授信额度,币种,授信开始日期,授信到期日期,采集日期
{L3},X1,C0003,{FIRM},1000000.00,CNY,20230101,20240101,20230630
{L3},X2,1,91411300MA00000031,1000000.00,CNY,20230101,20240101,20230630
{L3},X3,2,91411300MA00000032,1000000.00,CNY,20230101,20240101,20230630
"""
K4_CORPORATE = {
    "JRXKZH": [L4] * 3,
    "KHTYBH": ["12", "1", "2"],
    "ZJHM": [FIRM, "91411300MA00000041", "91411300MA00000042"],
    "KHLX": ["单一法人客户"] * 3,
    "QYFL": ["小型企业", "小型企业", "中型企业"],
    "CLRQ": ["20100101", "20120101", "20130101"],
    "CJRQ": ["20230630"] * 3,
}
K4_LINES = {
    "JRXKZH": [L4] * 3,
    "SXXYH": ["Y1", "Y2", "Y3"],
    "KHTYBH": ["12", "1", "2"],
    "KHZJHM": [FIRM, "91411300MA00000041", "91411300MA00000042"],
    "SXED": ["1000000.00", "1000000.00", "1000000.00"],
    "BZ": ["CNY"] * 3,
    "SXKSRQ": ["20230101"] * 3,
    "SXDQRQ": ["99991231"] * 3,
    "CJRQ": ["20230630"] * 3,
}


def _csv(path: Path, text: str, encoding: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode(encoding))


def _parquet(path: Path, columns: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(columns).to_parquet(path, index=False)


def write_city(folder: Path) -> Path:
    _csv(folder / "报送机构编码对照.csv", ORG_MAP, "utf-8")
    k1 = folder / "K1"
    _csv(k1 / "IE_002_203.csv", K1_CORPORATE, "gbk")
    _csv(k1 / "IE_002_201.csv", K1_PERSONAL, "gbk")
    _csv(k1 / "IE_005_504.csv", K1_CORPORATE_RECEIPTS, "gbk")
    _csv(k1 / "IE_005_503.csv", K1_PERSONAL_RECEIPTS, "gbk")
    _csv(k1 / "IE_005_501.csv", K1_CONTRACTS, "gbk")
    _csv(k1 / "IE_007_701.csv", K1_LINES, "gbk")
    k2 = folder / "K2"
    _parquet(k2 / "对公客户信息表_202306.parquet", K2_CORPORATE)
    _parquet(k2 / "对公信贷业务借据表_202306.parquet", K2_RECEIPTS)
    _parquet(k2 / "信贷合同表_202306.parquet", K2_CONTRACTS)
    _parquet(k2 / "授信信息表_202306.parquet", K2_LINES)
    _csv(folder / "K3" / "对公客户信息表.csv", K3_CORPORATE, "utf-8")
    _csv(folder / "K3" / "授信信息表.csv", K3_LINES, "utf-8")
    _parquet(folder / "K4" / "K4-IE_002_203.parquet", K4_CORPORATE)
    _parquet(folder / "K4" / "K4-IE_007_701.parquet", K4_LINES)
    return folder


def _reported() -> pd.DataFrame:
    return pd.DataFrame(
        {"institution_id": "K1", "period": pd.Timestamp("2023-06-30"), "cell": ["6.A5"], "value_wan": [337.26]}
    )


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = write_city(tmp_path_factory.mktemp("east"))
    return folder, analyse_loans(folder, _reported(), temp_dir=folder.parent / "tmp")


def test_k1_cells_by_hand(city):
    """K1 (codes, GBK): J1 200万 band 3 (open line S1 800万), J2 restructured 50万 (balance counts,
    drawdown not), J3 USD 100,000 × 7.2258 = 722,580 元 (band 1, line S2 100万 from 2023-03-01),
    J4 个体工商户 (客户类型 "个体工商户;小微企业主": the first in priority) 15万, drawn 20万 as 无还本续贷."""
    got = city[1].recomputed.query("bank_id == 'K1'").set_index("item")["value"]
    assert got["6.A5"] == 337.26  # 200 + 50 + 72.258 + 15
    assert got["1.A5"] == 322.26  # the two firms
    assert got["6.B5"] == 3
    assert got["6.D5"] == 92.26  # J3 72.258 + J4 20; J2 重组贷款 is no drawdown
    assert got["6.E5"] == 2
    assert got["6.F5"] == 5.24  # 722,580 × 6% + 200,000 × 4.5% = 52,354.80 元
    assert got["6.1.A5"] == 87.26  # contracts H3, H4 信用 (J3 72.258 + J4 15)
    assert got["6.3.D5"] == 20.00
    assert got["3.1.A5"] == 15.00 and got["3.1.B5"] == 1
    assert got["6.A3"] == 250.00  # J1 + J2 under the open line
    assert got["6.A1"] == 87.26  # J3 + J4
    assert got["6.C5"] == 0


def test_k2_chinese_names_and_parquet_strings(city):
    """K2: 1,000,000 元 at 4.35% drawn 2023-02-10, line 100万 → band 1; the guarantee 其他-联保 is no 信用."""
    got = city[1].recomputed.query("bank_id == 'K2'").set_index("item")["value"]
    assert got["6.A5"] == 100.00 and got["6.A1"] == 100.00 and got["6.D5"] == 100.00
    assert got["6.F5"] == 4.35 and got["6.B5"] == 1 and "6.1.A5" not in got  # no 信用 receipt


def test_overdue_from_the_owed_dates(city):
    """J2 owes principal since 2023-03-01: 121 days at 2023-06-30, still 关注. J4 owes interest since
    2023-05-20: 41 days, not flagged; 99991231 owes nothing."""
    rows = city[1].checks["overdue_not_npl"]
    assert rows["receipt_id"].tolist() == ["J2"] and rows.iloc[0]["overdue_days"] == 121


def test_new_borrower_and_its_coverage(city):
    """J3 drawn 2023-05-01, two months after its borrower was founded (20230301). J4's borrower is in
    the personal table, which has no 成立日期: not judged, and the coverage says so."""
    findings = city[1]
    rows = findings.checks["new_borrower"]
    assert rows["receipt_id"].tolist() == ["J3"] and rows.iloc[0]["reason"] == "成立不久"
    cov = findings.coverage.set_index(["institution_id", "rule"])
    assert cov.at[("K1", "new_borrower"), "judged"] == 1  # J3 (J2 is restructured: no drawdown)
    assert cov.at[("K1", "new_borrower"), "not_judged"] == 1  # J4
    assert "成立日期" in cov.at[("K1", "new_borrower"), "reason"]
    assert cov.at[("K1", "guarantee"), "not_judged"] == 0  # every contract delivered


def test_same_firm_at_four_banks_under_four_numbers(city):
    """The firm is customer 1 / 7 / C0003 / 12: found at four banks by its 证件号码 (lines 800 + 100
    + 100 + 100万 = 1100万, under the small-firm cap of 3000万). Customers numbered 1 and 2 at
    K2–K4 are different firms: numbered alike, they must not be matched."""
    rows = city[1].checks["over_crediting"]
    assert set(rows["id_number"]) == {FIRM}
    mine = rows.set_index("institution_id")
    assert mine["customer_id"].to_dict() == {"K1": "1", "K2": "7", "K3": "C0003", "K4": "12"}
    assert (mine["banks"] == 4).all() and (mine["total_line"] == 11_000_000).all()
    assert mine["many_banks"].all() and not mine["above_cap"].any()
    assert mine.at["K1", "own_line"] == 8_000_000


def test_invalid_line_is_not_in_force(city):
    """S9 (9,000,000 元, 无效, ended 2022) would make 乙商贸 a micro firm above its 500万 cap."""
    assert "91411300MA00000002" not in set(city[1].checks["over_crediting"]["id_number"])


def _refused(folder: Path) -> list:
    with pytest.raises(DataValidationError) as err:
        analyse_loans(folder, _reported(), temp_dir=folder.parent / "tmp")
    return err.value.issues


def test_unknown_licence_refused_and_located(tmp_path):
    folder = write_city(tmp_path / "c")
    text = K1_CORPORATE_RECEIPTS.replace(f"{L1},13030101,2,H3", "B1191H241139999,13030101,2,H3")
    _csv(folder / "K1" / "IE_005_504.csv", text, "gbk")
    issues = _refused(folder)
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [
        ("IE_005_504.csv", 4, "JRXKZH", "east_unknown_licence")
    ]
    assert "B1191H241139999" in issues[0].detail


def test_unknown_customer_type_refused_not_read_as_other(tmp_path):
    folder = write_city(tmp_path / "c")
    _csv(folder / "K1" / "IE_002_201.csv", K1_PERSONAL.replace("个体工商户;小微企业主", "个体户"), "gbk")
    issues = _refused(folder)
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [
        ("IE_002_201.csv", 2, "BXYGBZ", "east_unknown_value")
    ]
    assert "个体户" in issues[0].detail and "personal_type" in issues[0].detail


def test_bad_yyyymmdd_string_in_parquet_refused_and_located(tmp_path):
    folder = write_city(tmp_path / "c")
    lines = dict(K2_LINES, 授信开始日期=["20230101", "2023011", "20230230"])
    _parquet(folder / "K2" / "授信信息表_202306.parquet", lines)
    issues = _refused(folder)
    assert [(i.file, i.row, i.column, i.rule) for i in issues] == [
        ("授信信息表_202306.parquet", 3, "授信开始日期", "east_bad_date"),
        ("授信信息表_202306.parquet", 4, "授信开始日期", "east_bad_date"),
    ]


@pytest.mark.parametrize(
    "written", ["2023-1-1", "2023/1/1", "2023.1.1", "２0230101", "2023-01-01", "202301011", "2023 101"]
)
def test_a_date_of_eight_characters_not_eight_digits_is_refused(tmp_path, written):
    """The date check is "eight characters that try_strptime('%Y%m%d') reads", not a regular
    expression: these, of eight characters or near it, are none of them YYYYMMDD."""
    folder = write_city(tmp_path / "c")
    lines = dict(K2_LINES, 授信开始日期=["20230101", written, "20230101"])
    _parquet(folder / "K2" / "授信信息表_202306.parquet", lines)
    issues = _refused(folder)
    assert [(i.row, i.column, i.rule) for i in issues] == [(3, "授信开始日期", "east_bad_date")]


def test_currency_without_a_rate_refused(tmp_path):
    folder = write_city(tmp_path / "c")
    _csv(folder / "K1" / "IE_005_504.csv", K1_CORPORATE_RECEIPTS.replace(",USD,", ",GBP,"), "gbk")
    issues = _refused(folder)
    assert [(i.row, i.column, i.rule) for i in issues] == [(4, "BZ", "east_unknown_currency")]


def test_org_map_in_the_data_folder_and_none_refused(tmp_path):
    data = tmp_path / "data"
    loans = write_city(data / "loans")
    shutil.move(loans / "报送机构编码对照.csv", data / "报送机构编码对照.csv")
    found = analyse_loans(loans, _reported(), data_dir=data, temp_dir=tmp_path / "tmp")
    assert found.recomputed.query("bank_id == 'K1' and item == '6.A5'")["value"].item() == 337.26
    (data / "报送机构编码对照.csv").unlink()
    assert [i.rule for i in _refused(loans)] == ["east_no_org_map"]


def test_missing_table_and_column_named(tmp_path):
    folder = write_city(tmp_path / "c")
    for path in folder.rglob("*"):
        if "701" in path.name or "授信信息表" in path.name:
            path.unlink()
    _csv(folder / "K1" / "IE_005_501.csv", K1_CONTRACTS.replace("DBLX", "DBFS"), "gbk")
    issues = _refused(folder)
    assert ("IE_005_501.csv", "DBLX", "missing_column") in [(i.file, i.column, i.rule) for i in issues]
    assert any(i.rule == "missing_table" and "IE_007_701" in i.detail for i in issues)


def test_simplified_shape_yyyymmdd_and_bad_dates(tmp_path):
    """The simplified tables accept YYYYMMDD text too, and refuse a date that is neither form."""
    from tests.inputs.test_loans import CUSTOMERS, LINES, RECEIPTS

    folder = tmp_path / "s"
    folder.mkdir()
    RECEIPTS.assign(data_date="20230630").to_csv(folder / "receipts.csv", index=False)
    CUSTOMERS.to_csv(folder / "customers.csv", index=False)
    LINES.to_csv(folder / "credit_lines.csv", index=False)
    found = analyse_loans(folder, _reported())
    assert found.recomputed.query("item == '6.A5'")["value"].item() == 280.00  # tests/test_loans.py
    buf = io.StringIO()
    RECEIPTS.assign(data_date=["2023-06-30"] * 6 + ["30/06/2023"]).to_csv(buf, index=False)
    (folder / "receipts.csv").write_text(buf.getvalue())
    with pytest.raises(DataValidationError) as err:
        analyse_loans(folder, _reported())
    assert [(i.file, i.row, i.column, i.rule) for i in err.value.issues] == [
        ("receipts.csv", 8, "data_date", "east_bad_date")
    ]


def test_a_csv_is_tokenised_once_into_a_parquet_copy_reused_while_unchanged(tmp_path):
    """Each CSV file gets one Parquet copy under the cache (every pass reads it, not the CSV); a
    second run reuses the copies; an edited file gets a new one, and its new row counts."""
    folder = write_city(tmp_path / "c")
    tmp = tmp_path / "tmp"
    first = analyse_loans(folder, _reported(), temp_dir=tmp)
    copies = sorted((tmp / "east-parquet").glob("*.parquet"))
    csvs = sorted(p for p in folder.rglob("*.csv") if "对照" not in p.name)  # the org map is no EAST table
    assert len(copies) == len(csvs) > 0
    stamps = {p: p.stat().st_mtime_ns for p in copies}
    again = analyse_loans(folder, _reported(), temp_dir=tmp)
    assert {p: p.stat().st_mtime_ns for p in sorted((tmp / "east-parquet").glob("*.parquet"))} == stamps
    pd.testing.assert_frame_equal(first.recomputed, again.recomputed)
    # K1 adds a fourth corporate receipt of 100万 (customer 1, line S1 800万 → band 3): 6.A5 grows by 100
    extra = (
        f"{L1},13030101,1,H1,J9,流动资金贷款,新增,CNY,1000000.00,1000000.00,正常,20230601,20240601,"
        "99991231,99991231,5.000000,411302,C34,是,20230630\n"
    )
    _csv(folder / "K1" / "IE_005_504.csv", K1_CORPORATE_RECEIPTS + extra, "gbk")
    edited = analyse_loans(folder, _reported(), temp_dir=tmp)
    assert len(list((tmp / "east-parquet").glob("*.parquet"))) == len(csvs) + 1

    def cell(found):
        return found.recomputed.query("bank_id == 'K1' and item == '6.A5'")["value"].item()

    assert cell(edited) == pytest.approx(cell(first) + 100.00)


def test_a_csv_row_that_cannot_be_split_is_refused_with_its_file_and_line(tmp_path):
    """A row with more fields than the header, past the rows DuckDB's sniffer samples (20,480):
    the copy into Parquet fails, and the file is refused as unreadable, DuckDB's message naming the line."""
    folder = write_city(tmp_path / "c")
    first = K1_CORPORATE_RECEIPTS.splitlines(keepends=True)[1]
    more = "".join(first.replace(",H1,J1,", f",H1,X{i},") for i in range(21_000))
    ragged = K1_CORPORATE_RECEIPTS + more + first.replace("20230630\n", "20230630,多余,字段\n")
    _csv(folder / "K1" / "IE_005_504.csv", ragged, "gbk")
    issues = _refused(folder)
    assert [(i.file, i.rule) for i in issues] == [("IE_005_504.csv", "file_unreadable")]
    assert "21005" in issues[0].detail  # the header, three rows, 21,000 more, then the ragged one
