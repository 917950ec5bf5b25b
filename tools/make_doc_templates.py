"""Build the first version of the Word templates in ``params/templates/`` (通报.docx, 提示函.docx).

**The committed .docx files are the source, not this script.** The office edits them in Word or
WPS — letterhead, wording, fonts, layout — and commits them; running this script again would
overwrite those edits, so it refuses to replace an existing template unless given ``--force``.
It is kept so the first version can be rebuilt (or compared with) after a bad edit.

The templates use docxtpl's Jinja placeholders: ``{{ field }}`` in text, ``{%tr for r in rows %}``
rows in tables, ``{%p if … %}`` / ``{%p for … %}`` paragraphs. The fields each template may use are
listed in :mod:`analysis.outputs.documents` (``BULLETIN_FIELDS``, ``LETTER_FIELDS``) and in the README; a
template naming any other field is refused before a document is written.

Fonts follow the usual layout of official documents (GB/T 9704): the title in 方正小标宋简体, the
body in 仿宋_GB2312 三号 (16 pt) with a fixed 28 pt line, headings in 黑体 and 楷体_GB2312, A4 with
3.7/3.5/2.8/2.6 cm margins. They are named in the styles (正文, 公文标题, 一级标题, …), so a change of
font is one style edit in Word. Where a named font is not installed, the font table points each to
an East-Asian fallback (``w:altName``: Noto Serif CJK SC / Noto Sans CJK SC, installed with
``fonts-noto-cjk``) and declares the GB2312 character set, and the text is tagged zh-CN, so Word,
WPS and LibreOffice substitute a Chinese font rather than a Latin one.

    .venv/bin/python tools/make_doc_templates.py [--out params/templates] [--force]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor

ROOT = Path(__file__).resolve().parents[1]

FANGSONG, XIAOBIAOSONG, HEITI, KAITI = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"
#: the East-Asian fallback of each named font (fonts-noto-cjk)
FALLBACKS = {
    FANGSONG: "Noto Serif CJK SC",
    XIAOBIAOSONG: "Noto Serif CJK SC",
    HEITI: "Noto Sans CJK SC",
    KAITI: "Noto Serif CJK SC",
}
LATIN = "Times New Roman"
#: the banks the notice is addressed to (宛银保监办发〔2023〕15号), the 通报's 主送机关
ADDRESSEES = (
    "农发行南阳市分行、各大型银行南阳分行、各股份制银行南阳分行、各城商行南阳分行、河南省联社南阳办公室、"
    "各农商银行、各农信社、各村镇银行"
)
#: the styles the templates use, with the ASCII id each has in the XML
STYLE_IDS = {
    "正文": "GwBody",
    "发文机关标志": "GwIssuer",
    "发文字号": "GwNumber",
    "公文标题": "GwTitle",
    "主送机关": "GwAddressee",
    "一级标题": "GwHeading1",
    "二级标题": "GwHeading2",
    "落款": "GwSignature",
    "表格文字": "GwTableText",
    "表头文字": "GwTableHead",
    "附注": "GwNote",
}
RED = RGBColor(0xE6, 0x00, 0x12)


# ---------------------------------------------------------------- styles and fonts


def _set_fonts(rpr_parent, east_asia: str) -> None:
    """Name ``east_asia`` for Chinese text and Times New Roman for Latin text and digits."""
    rpr = rpr_parent.find(qn("w:rPr"))
    if rpr is None:
        rpr = parse_xml(f"<w:rPr {nsdecls('w')}/>")
        rpr_parent.append(rpr)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = parse_xml(f"<w:rFonts {nsdecls('w')}/>")
        rpr.insert(0, fonts)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)
    fonts.set(qn("w:ascii"), LATIN)
    fonts.set(qn("w:hAnsi"), LATIN)
    fonts.set(qn("w:eastAsia"), east_asia)
    fonts.set(qn("w:cs"), LATIN)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = parse_xml(f"<w:lang {nsdecls('w')}/>")
        rpr.append(lang)
    lang.set(qn("w:eastAsia"), "zh-CN")


def _paragraph_style(doc, name: str, font: str, size: float, *, bold=False, color=None, align=None, indent=True,
                     line: float | None = 28.0, before: float = 0, after: float = 0):  # fmt: skip
    styles = doc.styles
    style = styles[name] if name in [s.name for s in styles] else styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    if name != "Normal":
        style.style_id = STYLE_IDS[name]  # ASCII ids, as Word writes them for Chinese style names
        style.base_style = styles["Normal"]
        style.quick_style = True
    style.font.size = Pt(size)
    style.font.bold = bold
    if color is not None:
        style.font.color.rgb = color
    _set_fonts(style.element, font)
    fmt = style.paragraph_format
    fmt.alignment = align if align is not None else WD_ALIGN_PARAGRAPH.JUSTIFY
    fmt.first_line_indent = Pt(size * 2) if indent else Pt(0)
    if line is None:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    return style


def _font_table(doc) -> None:
    """Declare the named fonts with their East-Asian fallback and the GB2312 character set."""
    part = doc.part.part_related_by(RT.FONT_TABLE)
    xml = part.blob.decode("utf-8")
    entries = "".join(
        f'<w:font w:name="{name}"><w:altName w:val="{fallback}"/><w:charset w:val="86"/>'
        f'<w:family w:val="{"swiss" if name == HEITI else "roman"}"/><w:pitch w:val="variable"/></w:font>'
        for name, fallback in FALLBACKS.items()
    )
    part._blob = xml.replace("</w:fonts>", entries + "</w:fonts>").encode("utf-8")


def _styles(doc) -> None:
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    rpr_default = defaults.find(qn("w:rPrDefault"))
    _set_fonts(rpr_default, FANGSONG)
    _paragraph_style(doc, "Normal", FANGSONG, 16)
    _paragraph_style(doc, "正文", FANGSONG, 16)
    _paragraph_style(doc, "发文机关标志", XIAOBIAOSONG, 30, color=RED, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False,
                     line=None, before=24, after=12)  # fmt: skip
    _paragraph_style(doc, "发文字号", FANGSONG, 16, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
    _paragraph_style(doc, "公文标题", XIAOBIAOSONG, 22, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=36,
                     before=18, after=18)  # fmt: skip
    _paragraph_style(doc, "主送机关", FANGSONG, 16, indent=False)
    _paragraph_style(doc, "一级标题", HEITI, 16)
    _paragraph_style(doc, "二级标题", KAITI, 16)
    _paragraph_style(doc, "落款", FANGSONG, 16, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph_style(doc, "表格文字", FANGSONG, 10.5, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=None)
    _paragraph_style(doc, "表头文字", HEITI, 10.5, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=None)
    _paragraph_style(doc, "附注", FANGSONG, 14, indent=False)
    _font_table(doc)


def _page(doc) -> None:
    """A4, GB/T 9704 margins, a centred page number "— N —" in the footer."""
    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.add_run("— ")
    footer._p.append(parse_xml(f'<w:fldSimple {nsdecls("w")} w:instr="PAGE"><w:r><w:t>1</w:t></w:r></w:fldSimple>'))
    footer.add_run(" —")


def _rule(paragraph) -> None:
    """A red line under the letterhead (paragraph bottom border)."""
    ppr = paragraph._p.get_or_add_pPr()
    ppr.append(
        parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="18" w:space="6" w:color="E60012"/></w:pBdr>')
    )


def _new() -> Document:
    doc = Document()
    _styles(doc)
    _page(doc)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    return doc


def _p(doc, text: str, style: str = "正文"):
    return doc.add_paragraph(text, style=style)


def _table(doc, headers: list[str], loop: str, cells: list[str], widths: list[float]):
    """A table: a header row, then one row per item of ``loop`` (docxtpl ``{%tr for … %}``)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    rows = table.rows
    for i, text in enumerate(headers):
        rows[0].cells[i].paragraphs[0].text = text
        rows[0].cells[i].paragraphs[0].style = doc.styles["表头文字"]
    rows[1].cells[0].paragraphs[0].text = f"{{%tr for r in {loop} %}}"
    for i, text in enumerate(cells):
        rows[2].cells[i].paragraphs[0].text = text
        rows[2].cells[i].paragraphs[0].style = doc.styles["表格文字"]
    rows[3].cells[0].paragraphs[0].text = "{%tr endfor %}"
    for row in rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)
    # the header row repeats on every page
    rows[0]._tr.get_or_add_trPr().append(parse_xml(f"<w:tblHeader {nsdecls('w')}/>"))
    return table


# ---------------------------------------------------------------- 通报


def bulletin() -> Document:
    doc = _new()
    _p(doc, "{{ office }}文件", "发文机关标志")
    _rule(_p(doc, "宛银保监办发〔{{ issue_year }}〕　　号", "发文字号"))
    _p(doc, "关于{{ period_name }}辖内银行业金融机构小微企业金融服务情况的通报", "公文标题")
    _p(doc, ADDRESSEES + "：", "主送机关")
    _p(
        doc,
        "为落实《{{ notice_title }}》（{{ notice }}）要求，按照通知{{ clauses.plan }}关于重点通报三项指标的部署，"
        "现将截至{{ period_end }}辖内{{ n_banks }}家银行业金融机构小微企业金融服务情况通报如下。",
    )
    _p(doc, "一、三项重点通报指标", "一级标题")
    _p(
        doc,
        "（一）辖内法人银行总体“两增”{{ figures.legal_two_increases }}。{{ figures.legal_count }}家法人银行普惠型小微企业贷款"
        "较年初增长{{ figures.legal_inclusive_growth }}，各项贷款较年初增长{{ figures.legal_total_loans_growth }}，"
        "增速差{{ figures.legal_growth_margin }}；有贷款余额户数较年初{{ figures.legal_borrowers_change }}。",
    )
    _p(
        doc,
        "（二）辖内法人银行总体普惠型小微企业信贷计划完成率{{ figures.legal_plan_completion }}。{{ figures.legal_plan_count }}家"
        "法人银行较年初增加{{ figures.legal_plan_increase }}，全年计划{{ figures.legal_planned_increase }}。",
    )
    _p(
        doc,
        "（三）辖内分支银行总体普惠型小微企业信贷计划完成率{{ figures.branch_plan_completion }}。{{ figures.branch_plan_count }}家"
        "分支银行较年初增加{{ figures.branch_plan_increase }}，全年计划{{ figures.branch_planned_increase }}。",
    )
    _p(
        doc,
        "以上指标按各机构余额、计划加总计算，非各机构比率的简单平均；普惠型小微企业贷款{{ figures.basis }}。"
        "{% if figures.time_progress %}本期时序进度{{ figures.time_progress }}。{% endif %}",
        "附注",
    )
    _p(doc, "二、分机构类型情况", "一级标题")
    _table(
        doc,
        [
            "机构类型",
            "机构数",
            "普惠贷款余额（万元）",
            "较年初增速（%）",
            "各项贷款增速（%）",
            "计划完成率（%）",
            "累放加权利率（%）",
            "普惠不良率（%）",
        ],  # fmt: skip
        "categories",
        [
            "{{ r.category }}",
            "{{ r.count }}",
            "{{ r.balance }}",
            "{{ r.growth }}",
            "{{ r.total_loans_growth }}",
            "{{ r.plan_completion }}",
            "{{ r.rate }}",
            "{{ r.npl_ratio }}",
        ],  # fmt: skip
        [2.4, 1.2, 2.6, 1.8, 1.8, 1.8, 1.8, 1.8],
    )
    _p(doc, "三、未达标机构名单", "一级标题")
    _p(doc, "{%p for m in misses %}", "正文")
    _p(doc, "（{{ m.number }}）{{ m.title }}（{{ m.count }}家）", "二级标题")
    _p(doc, "{%p if m.rows %}", "正文")
    _table(
        doc,
        ["序号", "机构名称", "机构类型", "监管科室", "情况"],
        "m.rows",
        ["{{ r.number }}", "{{ r.name }}", "{{ r.category }}", "{{ r.division }}", "{{ r.detail }}"],
        [1.2, 4.6, 2.4, 3.4, 4.0],
    )
    _p(doc, "{%p else %}", "正文")
    _p(doc, "无。", "正文")
    _p(doc, "{%p endif %}", "正文")
    _p(doc, "{%p if m.behind %}", "正文")
    _p(doc, "另有{{ m.behind_count }}家机构计划完成进度落后于时序进度：{{ m.behind }}。", "正文")
    _p(doc, "{%p endif %}", "正文")
    _p(doc, "{%p endfor %}", "正文")
    _p(doc, "四、分县区情况", "一级标题")
    _table(
        doc,
        ["县区", "机构数", "普惠贷款余额（万元）", "较年初增量（万元）", "较年初增速（%）", "户数较年初（户）"],
        "counties",
        [
            "{{ r.county }}",
            "{{ r.count }}",
            "{{ r.balance }}",
            "{{ r.increase }}",
            "{{ r.growth }}",
            "{{ r.borrowers_change }}",
        ],  # fmt: skip
        [2.6, 1.4, 3.2, 3.0, 2.4, 2.6],
    )
    _p(doc, "按机构注册所在县区归集；市区分支机构的业务可能覆盖多个县区。", "附注")
    _p(doc, "五、有关要求", "一级标题")
    _p(
        doc,
        "（一）各银行业金融机构要对照通知要求，认真分析本机构小微企业金融服务存在的差距，"
        "加大信贷投放力度，确保完成全年“两增”和信贷计划目标，推动新发放贷款利率在上年基础上总体保持平稳。",
    )
    _p(
        doc,
        "（二）未达标机构要深入查找原因，制定切实可行的整改措施，于{{ reply_deadline }}前将整改方案书面报送对口监管科室。",
    )
    _p(
        doc,
        "（三）各机构监管科要按照通知第（十五）条至第（十七）条要求，将监测评价结果运用到监管全过程，"
        "对未达标机构加强督导，针对性督导整改。",
    )
    _p(doc, "{{ office }}", "落款")
    _p(doc, "{{ issued }}", "落款")
    return doc


# ---------------------------------------------------------------- 监管提示函


def letter() -> Document:
    doc = _new()
    _p(doc, "{{ office }}", "发文机关标志")
    _rule(_p(doc, "监管提示函　宛银保监提示〔{{ issue_year }}〕　　号", "发文字号"))
    _p(doc, "关于{{ institution.name }}{{ period_name }}小微企业金融服务情况的监管提示函", "公文标题")
    _p(doc, "{{ institution.name }}：", "主送机关")
    _p(
        doc,
        "根据《{{ notice_title }}》（{{ notice }}）要求，我分局对{{ institution.you }}截至{{ period_end }}的小微企业"
        "金融服务情况进行了监测评价。经核查，{{ institution.you }}存在以下未达标事项，现予以提示。",
    )
    _p(doc, "一、未达标事项", "一级标题")
    _p(doc, "{%p for s in shortfalls %}", "正文")
    _p(doc, "（{{ s.number }}）{{ s.label }}未达标。{{ s.text }}，不符合{{ s.citation }}的要求。", "正文")
    _p(doc, "整改要求：{{ s.recommendation }}", "正文")
    _p(doc, "{%p endfor %}", "正文")
    _p(doc, "{%p if watch %}", "正文")
    _p(doc, "二、需关注事项", "一级标题")
    _p(doc, "{%p for w in watch %}", "正文")
    _p(doc, "（{{ w.number }}）{{ w.label }}：{{ w.text }}（{{ w.citation }}）。{{ w.recommendation }}", "正文")
    _p(doc, "{%p endfor %}", "正文")
    _p(doc, "{%p endif %}", "正文")
    _p(doc, "{{ '三' if watch else '二' }}、主要监测指标", "一级标题")
    _table(doc, ["指标", "本期数值"], "figures", ["{{ r.label }}", "{{ r.value }}"], [9.0, 6.0])
    _p(doc, "以上数据来自{{ institution.you }}报送的监管统计数据，截至{{ period_end }}。", "附注")
    _p(doc, "{{ '四' if watch else '三' }}、有关要求", "一级标题")
    _p(
        doc,
        "请{{ institution.you }}高度重视，按照通知第（十五）条至第（十七）条要求，对照上述事项逐项查找原因、"
        "制定整改措施，于{{ reply_deadline }}前将整改措施及进展情况书面报送{{ institution.division }}。",
    )
    _p(doc, "联系人：　　　　联系电话：", "正文")
    _p(doc, "{{ office }}", "落款")
    _p(doc, "{{ issued }}", "落款")
    return doc


TEMPLATES = {"通报.docx": bulletin, "提示函.docx": letter}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "params" / "templates")
    parser.add_argument("--force", action="store_true", help="overwrite existing templates (loses the office's edits)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, build in TEMPLATES.items():
        target = args.out / name
        if target.exists() and not args.force:
            print(f"exists, left as it is (--force to overwrite): {target}", file=sys.stderr)
            continue
        build().save(str(target))
        print(f"written {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
