"""The shipped 通报 and 监管提示函 templates laid out as GB/T 9704-2012 asks, read back as the office
sees them: rendered with small hand-made contexts (:func:`bulletin_fields`, :func:`letter_fields`),
converted with LibreOffice headless (``tests/outputs/office.py``) and read from the PDF.

Checked: the 通报's 版记 (抄送, 印发机关 and 印发日期) on its last page; page numbers "— N —" on every page
but the letter's first; 28 characters a line of body text and 22 lines a page; no figure of the
context split across two lines; the title broken at its planned place, never inside a word; the
letter in 信函格式 (the issuer's full name on its first page, no page number there); headings and
body in different Chinese faces; the document properties (author the issuer, language zh-CN,
the theme and defaults in Chinese). Every year's templates pass the template check.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest

from analysis.outputs.documents import BULLETIN_FIELDS, LETTER_FIELDS, check_templates, render_document
from analysis.outputs.documents.templates import load_settings, template_problems
from tests.outputs.office import NO_SOFFICE, convert, soffice

ROOT = Path(__file__).resolve().parents[2]
PARAMS = ROOT / "params"
TEMPLATES = PARAMS / "templates"
YEARS = (2023, 2024, 2025)

# ---------------------------------------------------------------- hand-made contexts

#: a long paragraph's figures: long enough for several full lines of body text
LONG = "各银行业金融机构要" + "认真落实小微企业金融服务监管要求持续加大信贷投放力度" * 6 + "。"


def _common(document: str, year: int = 2023, year_end: bool = False) -> dict:
    month = 12 if year_end else 6
    return {
        "office": "南阳银保监分局",
        "notice": "宛银保监办发〔2023〕15号",
        "notice_title": "关于做好2023年小微企业金融服务工作的通知",
        "jurisdiction": "南阳市",
        "period": f"{year}-{month:02d}",
        "period_end": f"{year}年{month}月末",
        "period_name": f"{year}年" if year_end else f"{year}年上半年",
        "year": year,
        "year_end": year_end,
        "issued": f"{year + (1 if year_end else 0)}年{1 if year_end else 7}月22日",
        "issue_year": year + (1 if year_end else 0),
        "reply_deadline": f"{year + (1 if year_end else 0)}年{2 if year_end else 8}月6日",
        "reply_days": 15,
        "issuer": "南阳银保监分局办公室",
        "issuer_mark": "南阳银保监分局办公室文件"
        if document == "bulletin"
        else "中国银行保险监督管理委员会南阳监管分局办公室",
        "doc_number": f"宛银保监办{'发' if document == 'bulletin' else '函'}〔{year}〕　　号",
        "printed": f"{year + (1 if year_end else 0)}年{1 if year_end else 7}月22日印发",
        "copy_to": "河南银保监局普惠金融处，南阳市地方金融监督管理局",
        "contact_name": "张三",
        "contact_phone": "0377-63212345",
    }


def bulletin_fields(year: int = 2023, year_end: bool = False, copy_to: bool = True) -> dict:
    """Every field of BULLETIN_FIELDS, with figures as wide as the demo city's."""
    rows = [
        {
            "number": str(n),
            "id": f"B{n:03d}",
            "name": f"第{n}农村商业银行股份有限公司",
            "category": "农村商业银行",
            "division": "城市商业银行监管科",
            "measure": "8.90%",
            "detail": "普惠型小微企业贷款较年初增长3.21%，低于各项贷款增速6.52个百分点；有贷款余额户数较年初减少1,234户",
        }
        for n in range(1, 13)
    ]
    context = {
        **_common("bulletin", year, year_end),
        "n_banks": 45,
        "n_insurers": 12,
        "clauses": {"two_increases": "第（一）条", "plan": "第（二）条", "cost": "第（三）条", "quality": "第（四）条"},
        "figures": {
            "basis": "剔除票据贴现和转贴现",
            "time_progress": "" if year_end else "50.00%",
            "city_balance": "1,546.46亿元",
            "city_change": "较年初增加123.45亿元",
            "city_growth": "增长8.66%",
            "legal_two_increases": "完成",
            "legal_count": "28",
            "legal_inclusive_growth": "增长12.99%",
            "legal_total_loans_growth": "增长7.03%",
            "legal_growth_margin": "高5.96个百分点",
            "legal_borrowers_change": "增加23,676户",
            "legal_plan_completion": "109.38%",
            "legal_plan_increase": "154.65亿元",
            "legal_planned_increase": "141.39亿元",
            "legal_plan_count": "28",
            "branch_plan_completion": "96.12%",
            "branch_plan_increase": "40.17亿元",
            "branch_planned_increase": "41.79亿元",
            "branch_plan_count": "17",
        },
        "highlights": [
            {"text": "宛城农村商业银行普惠型小微企业贷款较年初增长25.31%，增速居辖内法人银行首位。" + LONG},
            {"text": "中国工商银行南阳分行信贷计划完成率168.20%，居大型银行首位。"},
        ],
        "structure": [
            {"label": "普惠型涉农贷款余额", "value": "4,017,185.35万元", "change": "增加12,345.67万元"},
            {"label": "中长期贷款占比", "value": "31.20%", "change": "上升1.10个百分点"},
        ],
        "categories": [
            {
                "category": name,
                "count": "12",
                "balance": "11,116,822.41",
                "growth": "-12.34",
                "total_loans_growth": "7.03",
                "plan_completion": "109.38",
                "rate": "5.12",
                "npl_ratio": "2.34",
                "two_increases_missed": "1",
                "plan_missed": "1",
                "plan_behind": "0",
                "rate_rise": "0",
                "npl_over": "0",
            }
            for name in ("大型商业银行", "股份制商业银行", "城市商业银行", "农村商业银行", "村镇银行", "政策性银行")
        ],
        "insurers": {
            "count": "12",
            "premium": "3,456.78万元",
            "premium_growth": "增长11.20%",
            "sum_insured_growth": "下降2.30%",
            "claims_ratio": "45.60%",
            "below_count": "2",
            "below": "甲财产保险南阳中心支公司、乙财产保险南阳中心支公司",
        },
        "insurer_rows": [
            {
                "number": str(n),
                "name": f"第{n}财产保险股份有限公司南阳中心支公司",
                "category": "财产保险",
                "premium": "1,234,567.89",
                "premium_growth": "-11.20",
                "sum_insured_growth": "2.30",
                "status": "需关注",
            }
            for n in range(1, 4)
        ],
        "misses": [
            {
                "number": "一",
                "title": "“两增”未达标",
                "count": str(len(rows)),
                "measure": "未达标项",
                "rows": rows,
                "behind": "甲银行、乙银行",
                "behind_count": "2",
            },
            {
                "number": "二",
                "title": "信贷计划未完成",
                "count": "0",
                "measure": "计划完成率",
                "rows": [],
                "behind": "",
                "behind_count": "0",
            },
        ],
        "watch": [
            {
                "number": "三",
                "title": "个别利率较高的银行机构",
                "count": "1",
                "rows": [
                    {
                        "number": "1",
                        "name": "第三十三村镇银行",
                        "category": "村镇银行",
                        "detail": "新发放普惠型小微企业贷款利率高于同类机构中位数361个基点",
                    }
                ],
            }
        ],
        "counties": [
            {
                "county": county,
                "count": "5",
                "balance": "4,017,185.35",
                "increase": "-123,456.78",
                "growth": "-3.21",
                "borrowers_change": "-1,234",
            }
            for county in ("宛城区", "卧龙区", "南召县", "方城县", "西峡县", "镇平县", "内乡县", "淅川县")
        ],
        # the financing mechanism's section (2024 on): a county of a province's size, a bank below
        "financing": {
            "summary": "2025年以来，全市推荐清单推送企业98,765户次，银行对接98,700户次，按时办结率99.38%。",
            "period_end": "2025年6月末",
            "decision_days": "30",
            "clause": "关于深化小微企业融资协调工作机制的要求",
            "has_targets": "是",
            "reasons_text": "企业无融资需求（60户次）、经营状况不佳（43户次）、缺乏有效担保（36户次）",
            "city": {},
            "counties": [
                {
                    "code": "411302",
                    "county": "宛城区",
                    "pushed": "12,345",
                    "contacted": "12,300",
                    "decided": "12,001",
                    "granted": "9,876",
                    "credit_amount": "1,234,567.89",
                    "lent": "8,765",
                    "loan_amount": "1,111,111.11",
                    "decided_within": "99.38%",
                    "overdue": "1,234",
                }
            ],
            "banks_below": [
                {
                    "number": "1",
                    "id": "B020",
                    "name": "方城农村商业银行股份有限公司",
                    "target": "推荐企业按时办结率",
                    "standard": "不低于100.00%",
                    "value": "80.00%",
                }
            ],
            "reasons": [],
        },
    }
    if not copy_to:
        context["copy_to"] = ""
    return context


def letter_fields(year: int = 2023, year_end: bool = False, differentiated: str = "") -> dict:
    """Every field of LETTER_FIELDS for one bank with two shortfalls and one item to watch."""
    item = {
        "key": "growth_leg",
        "label": "普惠型小微企业贷款增速",
        "heading": "普惠型小微企业贷款增速未达标",
        "text": "你行普惠型小微企业贷款较年初增长3.21%，低于各项贷款增速6.52个百分点",
        "clause": "第（一）条",
        "citation": "宛银保监办发〔2023〕15号第（一）条",
        "recommendation": LONG,
    }
    return {
        **_common("letter", year, year_end),
        "institution": {
            "id": "B017",
            "name": "宛城农村商业银行股份有限公司",
            "category": "农村商业银行",
            "entity_type": "法人机构",
            "division": "城市商业银行监管科",
            "county": "宛城区",
            "you": "你行",
        },
        "differentiated": differentiated,
        "shortfalls": [{**item, "number": "一"}, {**item, "number": "二", "label": "信贷计划"}],
        "watch": [{**item, "number": "一", "label": "贷款利率", "text": "高于同类机构中位数361个基点"}],
        "financing_overdue": [
            {
                "number": "1",
                "name": "方城印务兴有限公司",
                "code": "91411322MA8G5UMMRC",
                "list_date": "2024-10-05",
                "days": "238",
            }
        ],
        "financing_overdue_count": "1",
        "figures": [
            {"label": "普惠型小微企业贷款余额（考核口径）", "value": "11,116,822.41万元"},
            {"label": "较年初增速", "value": "3.21%"},
            {"label": "利率较上年变化", "value": "+25个基点"},
        ],
    }


# ---------------------------------------------------------------- without LibreOffice


def test_every_years_templates_pass_the_template_check():
    settings = load_settings(PARAMS)
    for year in YEARS:
        entry = settings.for_year(year)
        assert template_problems(TEMPLATES / entry.bulletin, BULLETIN_FIELDS) == []
        assert template_problems(TEMPLATES / entry.letter, LETTER_FIELDS) == []
    check_templates(PARAMS)


def _part(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name).decode("utf-8")


@pytest.mark.parametrize("year", YEARS)
def test_page_grid_fonts_and_language_are_gbt9704s(year):
    entry = load_settings(PARAMS).for_year(year)
    for name in (entry.bulletin, entry.letter):
        path = TEMPLATES / name
        document = _part(path, "word/document.xml")
        # A4, 天头 37 mm, 订口 28 mm, 版心 156 mm × 225 mm; 22 lines of 28 characters
        assert '<w:pgSz w:w="11906" w:h="16838"/>' in document
        margins = dict(re.findall(r'w:(top|right|bottom|left)="(\d+)"', re.search(r"<w:pgMar [^>]*>", document)[0]))
        assert round(int(margins["top"]) / 56.693) == 37 and round(int(margins["left"]) / 56.693) == 28
        assert round((11906 - int(margins["left"]) - int(margins["right"])) / 56.693) == 156
        assert round((16838 - int(margins["top"]) - int(margins["bottom"])) / 56.693) == 225
        grid = re.search(r"<w:docGrid [^>]*>", document)[0]
        assert 'w:type="linesAndChars"' in grid and 'w:linePitch="579"' in grid
        pitch = 16 + int(re.search(r'w:charSpace="(-?\d+)"', grid)[1]) / 4096
        assert int(156 / 25.4 * 72 / pitch) == 28
        # odd and even pages' footers apart; the theme and the defaults Chinese, not Japanese
        settings = _part(path, "word/settings.xml")
        assert "<w:evenAndOddHeaders/>" in settings and 'w:eastAsia="zh-CN"' in settings
        assert "ja-JP" not in settings + _part(path, "word/styles.xml")
        assert "Jpan" not in _part(path, "word/theme/theme1.xml")
        fonts = _part(path, "word/fontTable.xml")
        for font in ("仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"):
            assert re.search(
                rf'<w:font w:name="{font}"><w:altName [^>]*/><w:panose1 [^>]*/><w:charset w:val="86"/>', fonts
            )
        properties = docx.Document(str(path)).core_properties
        assert properties.author == "{{ issuer }}" and properties.language == "zh-CN"
        assert "python-docx" not in (properties.comments + properties.last_modified_by)


def test_table_grids_agree_with_their_cells_and_rows_never_split():
    """The grid's column widths are the cells' widths (LibreOffice and Word lay a fixed table out by
    its grid: a grid that contradicts the cells broke "4,017,185 / .35" inside a cell)."""
    for name in ("通报.docx", "提示函.docx"):
        document = docx.Document(str(TEMPLATES / name))
        for table in document.tables:
            grid = [int(c.get(docx.oxml.ns.qn("w:w"))) for c in table._tbl.tblGrid.iterchildren()]
            for row in table._tbl.tr_lst:
                assert row.trPr is not None and row.trPr.find(docx.oxml.ns.qn("w:cantSplit")) is not None
                cells = row.tc_lst
                if len(cells) == len(grid):
                    assert [int(c.tcPr.tcW.get(docx.oxml.ns.qn("w:w"))) for c in cells] == grid


# ---------------------------------------------------------------- with LibreOffice

pytestmark_office = pytest.mark.skipif(soffice() is None, reason=NO_SOFFICE)

#: a page number as GB/T 9704 writes it, "— 1 —", on the page's last line (pdftotext keeps the
#: narrow spaces beside the number or not, as their width falls)
PAGE_NUMBER = re.compile(r"^—\s?(\d+)\s?—$")


def page_number(page: str) -> int | None:
    lines = [line.strip() for line in page.splitlines() if line.strip()]
    found = PAGE_NUMBER.match(lines[-1]) if lines else None
    return int(found[1]) if found else None


FIGURE = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:%|亿元|万元|户|个百分点|个基点)?")


def _figures(value) -> set[str]:
    """Every figure with digits in a context's texts (a figure is what a reader must see whole)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= _figures(item)
    elif isinstance(value, list):
        for item in value:
            found |= _figures(item)
    elif isinstance(value, str):
        found |= {m for m in re.findall(r"\d[\d,]*\.\d+|\d{1,3}(?:,\d{3})+", value)}
    return found


@pytest.fixture(scope="module")
def laid_out(tmp_path_factory):
    """Each year's 通报 and letter, and the 2023 ones at year-end, without 抄送 and with a
    differentiated bank, rendered and converted in one LibreOffice call."""
    if soffice() is None:
        pytest.skip(NO_SOFFICE)
    folder = tmp_path_factory.mktemp("layout")
    settings = load_settings(PARAMS)
    cases = {}
    for year in YEARS:
        entry = settings.for_year(year)
        cases[f"bulletin-{year}"] = (TEMPLATES / entry.bulletin, bulletin_fields(year))
        cases[f"letter-{year}"] = (TEMPLATES / entry.letter, letter_fields(year))
    cases["bulletin-2023-12"] = (TEMPLATES / "通报.docx", bulletin_fields(2023, year_end=True, copy_to=False))
    cases["letter-2023-differentiated"] = (
        TEMPLATES / "提示函.docx",
        letter_fields(differentiated="你行2023年执行差异化考核，普惠型小微企业贷款增速不与各项贷款增速比较。"),
    )
    paths = {}
    for key, (template, context) in cases.items():
        paths[key] = folder / f"{key}.docx"
        paths[key].write_bytes(render_document(template, context))
    converted = convert(list(paths.values()), folder / "pdf")
    return {key: (converted[paths[key]], cases[key][1], paths[key]) for key in cases}


@pytestmark_office
@pytest.mark.parametrize("key", ["bulletin-2023", "bulletin-2024", "bulletin-2025", "bulletin-2023-12"])
def test_bulletin_record_page_numbers_and_signature(laid_out, key):
    converted, context, _ = laid_out[key]
    pages = converted.pages
    assert len(pages) >= 3
    # page numbers "— N —" on every page: odd pages at the right, even pages at the left
    for number, page in enumerate(pages, start=1):
        assert page_number(page) == number, (number, page[-200:])
        bottom = max(converted.words(number), key=lambda w: w[1])
        assert "—" in bottom[4] and ((bottom[0] > 400) == (number % 2 == 1)), (number, bottom)
    last = pages[-1]
    # the 版记 on the last page: 抄送 when there is any, 印发机关 and 印发日期 on one line
    flat = [re.sub(r"\s+", "", line) for line in last.splitlines()]
    record = [line for line in flat if context["printed"] in line]
    assert len(record) == 1 and record[0] == context["issuer"] + context["printed"], record
    assert ("抄送：" + context["copy_to"] + "。" in "".join(flat)) == bool(context["copy_to"])
    # the 版记 below the signature and the date
    assert context["issuer"] in flat, last
    assert flat.index(context["issuer"]) < flat.index(context["issued"]) < flat.index(record[0])
    assert "联系人：张三；联系电话：0377-63212345" in "".join(flat)
    # the title broken where planned, 金融 whole
    first = re.sub(r"[ \t]+", "", pages[0])
    assert f"关于{context['period_name']}辖内银行业金融机构\n" in first and "\n小微企业金融服务情况的通报" in first
    # the 发文机关标志 and the 发文字号 on the first page
    assert context["issuer_mark"] in first and context["doc_number"].replace("　", "") in first.replace("　", "")


@pytestmark_office
@pytest.mark.parametrize("key", ["bulletin-2023", "letter-2023", "bulletin-2024", "letter-2025"])
def test_no_figure_is_split_across_lines(laid_out, key):
    converted, context, _ = laid_out[key]
    # a line of the PDF's text; a table's cells apart (pdftotext -layout: two spaces or more)
    lines = [
        cell.replace(" ", "") for line in converted.text.splitlines() for cell in re.split(r"\s{2,}", line.strip())
    ]
    joined = "".join(lines)
    shown = [f for f in _figures(context) if f in joined]
    assert len(shown) >= (12 if key.startswith("bulletin") else 3), shown  # a year may leave some out
    split = sorted(f for f in shown if not any(f in line for line in lines))
    assert not split, split


@pytestmark_office
def test_body_text_runs_28_characters_a_line_and_22_lines_a_page(laid_out):
    converted, _, _ = laid_out["letter-2023"]
    # the recommendation (LONG) fills whole lines: its full lines hold 28 characters
    lines = [line.strip() for page in converted.pages for line in page.splitlines()]
    full = [line for line in lines if line and set(line) <= set(LONG) and len(line) >= 20]
    assert full, lines
    assert max(len(line) for line in full) == 28, full
    words = converted.words(2)
    tops = sorted({round(w[1]) for w in words if w[4] and w[4][0] in LONG})
    pitches = {round(b - a, 1) for a, b in zip(tops, tops[1:]) if b - a < 40}
    assert pitches and all(abs(p - 28.95) < 1 for p in pitches), pitches


@pytestmark_office
@pytest.mark.parametrize("key", ["letter-2023", "letter-2024", "letter-2025"])
def test_the_letter_is_in_letter_format(laid_out, key):
    converted, context, _ = laid_out[key]
    pages = converted.pages
    assert len(pages) >= 2
    first = [line for line in pages[0].splitlines() if line.strip()]
    # the issuer's full name on top of the first page, no page number on it; numbers from page 2
    assert first[0].strip().replace(" ", "") == context["issuer_mark"]
    assert page_number(pages[0]) is None
    for number, page in enumerate(pages[1:], start=2):
        assert page_number(page) == number
    # the mark's top 30 mm (85 pt) from the page's top edge; the 发文字号 at the right
    top = min(w[1] for w in converted.words(1) if w[4] and w[4][0] in context["issuer_mark"])
    assert abs(top - 30 / 25.4 * 72) < 6, top
    number = [w for w in converted.words(1) if w[4].startswith(context["doc_number"][:4])]
    right_edge = max(w[2] for w in converted.words(1) if w[1] > number[0][1] - 2 and w[3] < number[0][3] + 2)
    assert number and number[0][0] > 250 and abs(right_edge - (28 + 156) / 25.4 * 72) < 8, number
    # no 版记 of a 文件: no 印发
    assert "印发" not in converted.text


@pytestmark_office
def test_the_bulletins_mark_stands_35_mm_below_the_top_of_the_text_block(laid_out):
    converted, context, _ = laid_out["bulletin-2023"]
    top = min(w[1] for w in converted.words(1) if w[4] and w[4][0] in context["issuer_mark"])
    assert abs(top - (37 + 35) / 25.4 * 72) < 6, top


@pytestmark_office
def test_a_differentiated_bank_is_said_so_before_its_shortfalls(laid_out):
    converted, context, _ = laid_out["letter-2023-differentiated"]
    text = re.sub(r"\s+", "", converted.text)
    assert text.index("执行差异化考核") < text.index("一、未达标事项")
    assert "差异化考核" not in re.sub(r"\s+", "", laid_out["letter-2023"][0].text)


@pytestmark_office
def test_headings_and_body_come_out_in_different_chinese_faces(laid_out):
    fonts = laid_out["bulletin-2023"][0].fonts()
    serif = [f for f in fonts if f.startswith("NotoSerifCJK")]
    sans = [f for f in fonts if f.startswith("NotoSansCJK")]
    assert serif and sans, fonts


@pytestmark_office
def test_rendered_properties_name_the_issuer_in_chinese(laid_out):
    _, context, path = laid_out["bulletin-2023"]
    properties = docx.Document(str(path)).core_properties
    assert properties.author == context["issuer"] and properties.language == "zh-CN"
    assert properties.title == f"关于{context['period_name']}辖内银行业金融机构小微企业金融服务情况的通报"


@pytestmark_office
def test_year_end_wording_does_not_ask_to_complete_the_year(laid_out):
    mid = re.sub(r"\s+", "", laid_out["bulletin-2023"][0].text)
    end = re.sub(r"\s+", "", laid_out["bulletin-2023-12"][0].text)
    assert "确保完成全年" in mid and "确保完成全年" not in end


# ---------------------------------------------------------------- the demo's documents


@pytest.fixture(scope="module")
def demo_documents(demo_csv_dir, tmp_path_factory):
    """The demo's 2023 year-end 通报 and every letter, written as ``analysis docs`` writes them and
    converted in one LibreOffice call."""
    if soffice() is None:
        pytest.skip(NO_SOFFICE)
    from datetime import date

    from analysis.outputs.documents import write_documents
    from analysis.state import compute_state

    state = compute_state(demo_csv_dir, PARAMS)
    out = tmp_path_factory.mktemp("demo-documents")
    written = write_documents(state, "2023-12", out, PARAMS, issued=date(2024, 1, 22))
    assert not written.failed
    paths = [out / name for name in written.files.values()]
    converted = convert(paths, out / "pdf")
    return {key: converted[out / name] for key, name in written.files.items()}


@pytestmark_office
def test_the_demos_documents_keep_every_number_whole_and_carry_their_page_numbers(demo_documents):
    demo_documents = dict(demo_documents)  # the fixture is the module's: leave it whole
    bulletin = demo_documents.pop("overview")
    flat = [re.sub(r"\s+", "", line) for line in bulletin.pages[-1].splitlines()]
    assert any(line.startswith("抄送：") for line in flat) and any(line.endswith("2024年1月22日印发") for line in flat)
    assert [page_number(page) for page in bulletin.pages] == list(range(1, len(bulletin.pages) + 1))
    for key, letter in demo_documents.items():
        assert [page_number(page) for page in letter.pages] == [None, *range(2, len(letter.pages) + 1)], key
    # a number never ends a line to go on at the next: no line ends inside a figure (a digit, or a
    # comma or point followed by a digit on the next line)
    for key, document in {"overview": bulletin, **demo_documents}.items():
        lines = [line.strip() for page in document.pages for line in page.splitlines() if line.strip()]
        for line, following in zip(lines, lines[1:]):
            cells, next_cells = re.split(r"\s{2,}", line), re.split(r"\s{2,}", following)
            if len(cells) == 1 and len(next_cells) == 1 and page_number(line) is None:
                assert not (re.search(r"[\d,.]$", line) and re.match(r"[\d,.%]", following)), (key, line, following)


@pytestmark_office
def test_the_demos_letters_as_printed_say_each_shortfall_once(demo_documents):
    """Read back from LibreOffice's PDFs (whitespace and line breaks removed): B036, under 差异化考核,
    is charged once, under its plan; B001's on-lending miss of 2023Q3 is in its letter though its
    2023Q4 quarter met the rule; B033, far above its peers' rate but cutting it, gets a 关注 item only."""
    flat = {key: re.sub(r"\s+", "", document.text) for key, document in demo_documents.items()}
    b036 = flat["B036"]
    assert b036.count("整改要求：") == 1 and "信贷计划未完成（差异化考核）。" in b036
    assert "贷款增速未达标" not in b036 and "适用差异化考核" in b036
    assert "2023年第三季度通过转贷款发放的小微企业贷款终端平均利率" in flat["B001"]
    assert (
        "未达标。" not in flat["B033"] and "一、需关注事项" in flat["B033"] and "属利率明显偏高的机构" in flat["B033"]
    )


@pytestmark_office
def test_every_table_figure_of_the_demos_documents_is_one_word_when_printed(demo_documents):
    """Every table cell holding a figure, a date or a code (as python-docx reads the .docx) is one
    word of LibreOffice's PDF (pdftotext -bbox): none broken inside its cell ("11,116,822. / 41",
    "2024-10- / 05"), whatever face stands in for Times New Roman on this machine."""
    import docx

    figure = re.compile(r"^[-+]?[\d,.]+[%]?$|^\d{4}-\d{2}-\d{2}$|^[0-9A-Z]{18}$")
    for key, document in demo_documents.items():
        cells = {
            cell.text.strip()
            for table in docx.Document(str(document.source)).tables
            for row in table.rows[1:]
            for cell in row.cells
            if figure.match(cell.text.strip()) and len(cell.text.strip()) > 3
        }
        words = {w[4] for page in range(1, len(document.pages) + 1) for w in document.words(page)}
        assert cells, key
        assert cells <= words, (key, sorted(cells - words)[:5])
