"""Build the Word templates in ``params/templates/`` — the 通报 and the 监管提示函 of each policy year —
laid out as GB/T 9704-2012 (党政机关公文格式) asks.

**The committed .docx files are the source, not this script.** The office edits them in Word or
WPS — letterhead, wording, fonts, layout — and commits them; running this script again would
overwrite those edits, so it refuses to replace an existing template unless given ``--force``.
It is kept so the templates can be rebuilt (or compared with) after a bad edit, and so the layout
below is written down once.

The templates use docxtpl's Jinja placeholders: ``{{ field }}`` in text, ``{%tr for r in rows %}``
rows in tables, ``{%p if … %}`` / ``{%p for … %}`` paragraphs. The fields each template may use are
listed in :mod:`analysis.outputs.documents.templates` (``BULLETIN_FIELDS``, ``LETTER_FIELDS``) and in
the README; a template naming any other field is refused before a document is written. The notice's
number and clause numbers are in each year's prose here (and ``params/policy-<year>.yaml``), never in
``src/``.

Layout (GB/T 9704-2012): A4, 版心 156 mm × 225 mm (天头 37 mm, 订口 28 mm); 正文 3号仿宋 (16 pt), 22
lines of 28 characters (the document grid ``w:docGrid`` linesAndChars, line pitch 579 twips, and
each character set 0.4 pt closer); the 通报 in 文件格式 (发文机关标志 red 小标宋, its top 35 mm below
the 版心's; 发文字号 two lines below, centred; the red 版头 line 4 mm under it); the 提示函 in 信函格式
(10.1: the issuer's full name 30 mm from the page's top edge in the first page's header, a red
double line under it and another 20 mm above the page's bottom edge, each 170 mm long; 发文字号 at
the right under the line; no page number on the first page); 标题 2号小标宋 centred, broken by hand at
a planned place; headings 一、 3号黑体 and （一） 3号楷体 kept with the next paragraph; 署名 centred over
the 成文日期, which stands four characters from the right (7.3.5.1); 附注 (联系人, 联系电话) under it;
the 通报's 版记 (抄送, 印发机关 and 印发日期 between a thick, a thin and a thick line) at the foot of its
last page; page numbers "— 1 —" 4号 半角宋体, odd pages right (one character in), even pages left.
Tables: rows never split across pages, the header row repeated, the grid's widths those of the
cells, figures right-aligned and never wrapped.

Fonts: styles name 仿宋_GB2312 (正文), 方正小标宋简体 (标志, 标题), 黑体 (一级标题), 楷体_GB2312 (二级标题) and
宋体 (页码); the font table gives each its Windows name (``w:altName``: 仿宋, 宋体, SimHei, 楷体),
PANOSE class and the GB2312 character set (86), so Word and WPS substitute the right Chinese face
where the named one is missing. Every text is tagged zh-CN (the defaults, the styles, the theme's
East-Asian font language), so LibreOffice uses Simplified Chinese glyphs. LibreOffice ignores the
font table's alternatives and asks fontconfig for the name alone: on a machine without the Windows
fonts every Chinese face falls back to one font unless fontconfig has aliases for the names — the
README's "Document templates" section gives them, and the layout tests use them.

    .venv/bin/python tools/make_doc_templates.py [--out params/templates] [--force] [NAME.docx …]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------- GB/T 9704-2012 in twips (1/20 pt)

MM = 1440 / 25.4  # twips per millimetre
PAGE_W, PAGE_H = 11906, 16838  # A4
MARGIN_TOP, MARGIN_LEFT = round(37 * MM), round(28 * MM)  # 天头 37 mm, 订口 28 mm
TEXT_W, TEXT_H = round(156 * MM), round(225 * MM)  # 版心
MARGIN_RIGHT, MARGIN_BOTTOM = PAGE_W - MARGIN_LEFT - TEXT_W, PAGE_H - MARGIN_TOP - TEXT_H
LINE = 579  # 22 lines on 225 mm: 28.95 pt
#: the grid's character pitch for Word: 16 pt (三号) plus charSpace/4096 pt = 15.79 pt, 28 a line
CHAR_SPACE = -849
#: 28 characters of 16 pt need 158 mm, the 版心 is 156: each character is set 0.4 pt closer (in
#: twentieths of a point), so Word and LibreOffice alike fit 28 on a line. The grid tells Word the
#: same (页面设置: 每行28字, 每页22行); paragraphs do not snap to it, as LibreOffice would give every
#: 16 pt character two cells of 15.79 pt (14 a line).
TRACKING = -8
BODY, TABLE, RECORD = 32, 21, 28  # half-points: 三号 16 pt, 五号 10.5 pt, 四号 14 pt
CHAR = 320  # one character of 三号 text in twips (indents: 左空二字 = 640)

FANGSONG, XIAOBIAOSONG, HEITI, KAITI, SONG = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312", "宋体"
LATIN = "Times New Roman"
#: the font table: name → (Windows name Word and WPS substitute, PANOSE, family, pitch)
FONTS = {
    FANGSONG: ("仿宋", "02010609060101010101", "modern", "fixed"),
    XIAOBIAOSONG: ("宋体", "02010600030101010101", "auto", "variable"),
    HEITI: ("SimHei", "02010609060101010101", "modern", "fixed"),
    KAITI: ("楷体", "02010609030101010101", "modern", "fixed"),
    SONG: ("SimSun", "02010600030101010101", "auto", "variable"),
}
RED = "E60012"

#: the banks the notice is addressed to, the 通报's 主送机关
ADDRESSEES = (
    "农发行南阳市分行、各大型银行南阳分行、各股份制银行南阳分行、各城商行南阳分行、河南省联社南阳办公室、"
    "各农商银行、各农信社、各村镇银行"
)

W = nsdecls("w")


def x(xml: str):
    """An element from WordprocessingML (its root declares the ``w:`` namespace: ``{W}``)."""
    return parse_xml(xml)


# ---------------------------------------------------------------- styles


def _rfonts(east_asia: str, latin: str = LATIN) -> str:
    return f'<w:rFonts w:ascii="{latin}" w:hAnsi="{latin}" w:eastAsia="{east_asia}" w:cs="{latin}"/>'


LANG = '<w:lang w:val="en-US" w:eastAsia="zh-CN" w:bidi="ar-SA"/>'
FLAT = '<w:spacing w:val="0"/>'  # text outside the 版心's 28-a-line grid: tables, 版记, page numbers
TABLE_PPR = (
    '<w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>'
    '<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="{align}"/>'
)

#: style id → (name, font, half-points, paragraph properties, run properties between the fonts and
#: the size; empty: the 0.25 pt tracking); every paragraph style is based on Normal
STYLES: dict[str, tuple[str, str, int, str, str]] = {
    # 正文: 左空二字, justified, one grid line a line
    "GwBody": ("正文", FANGSONG, BODY, '<w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/>', ""),
    "GwIssuer": (
        "发文机关标志",
        XIAOBIAOSONG,
        72,
        # its top 35 mm below the 版心's (文件格式): the space before is the rest of that
        f'<w:spacing w:before="{round(35 * MM) - 180}" w:after="0" w:line="960" w:lineRule="exact"/>'
        '<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="center"/>',
        f'<w:color w:val="{RED}"/><w:spacing w:val="0"/><w:w w:val="90"/>',
    ),
    "GwNumber": (
        "发文字号",
        FANGSONG,
        BODY,
        # two lines below the 标志; the red 版头 line 4 mm under it, as wide as the 版心
        f'<w:pBdr><w:bottom w:val="single" w:sz="12" w:space="11" w:color="{RED}"/></w:pBdr>'
        f'<w:spacing w:before="{2 * LINE}" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="center"/>',
        "",
    ),
    "GwLetterNumber": (
        "信函发文字号",
        FANGSONG,
        BODY,
        # 信函格式: at the right edge, 7/8 of a 三号 character's height under the double line
        f'<w:spacing w:before="280" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="right"/>',
        "",
    ),
    "GwTitle": (
        "公文标题",
        XIAOBIAOSONG,
        44,
        # 2号, two lines under the red line, a blank line before the 主送机关
        f'<w:keepNext/><w:keepLines/><w:spacing w:before="{2 * LINE}" w:after="{LINE}" w:line="720" '
        'w:lineRule="exact"/><w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="center"/>',
        FLAT,
    ),
    "GwAddressee": (
        "主送机关",
        FANGSONG,
        BODY,
        '<w:keepNext/><w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="both"/>',
        "",
    ),
    "GwHeading1": (
        "一级标题",
        HEITI,
        BODY,
        '<w:keepNext/><w:keepLines/><w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/>'
        '<w:outlineLvl w:val="0"/>',
        "",
    ),
    "GwHeading2": (
        "二级标题",
        KAITI,
        BODY,
        '<w:keepNext/><w:keepLines/><w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/>'
        '<w:outlineLvl w:val="1"/>',
        "",
    ),
    "GwLead": (
        "引导段",  # a body paragraph introducing a table: kept with it
        FANGSONG,
        BODY,
        '<w:keepNext/><w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/>',
        "",
    ),
    "GwSignature": (
        "发文机关署名",
        FANGSONG,
        BODY,
        # centred over the 成文日期 (7.3.5.1) by a centre tab stop; a blank line above
        '<w:keepNext/><w:keepLines/><w:tabs><w:tab w:val="center" w:pos="{tab}"/></w:tabs>'
        f'<w:spacing w:before="{LINE}" w:after="0" w:line="{LINE}" w:lineRule="exact"/>'
        '<w:ind w:left="0" w:right="0" w:firstLine="0"/><w:jc w:val="left"/>',
        "",
    ),
    "GwDate": (
        "成文日期",
        FANGSONG,
        BODY,
        # 右空四字
        f'<w:keepNext/><w:keepLines/><w:ind w:left="0" w:right="{4 * CHAR}" w:firstLine="0"/><w:jc w:val="right"/>',
        "",
    ),
    "GwNote": (
        "附注",
        FANGSONG,
        BODY,
        # 居左空二字加圆括号编排在成文日期下一行
        '<w:ind w:firstLineChars="200" w:firstLine="640"/><w:jc w:val="both"/>',
        "",
    ),
    "GwSmallNote": (
        "表注",
        FANGSONG,
        RECORD,
        '<w:ind w:firstLineChars="200" w:firstLine="560"/><w:jc w:val="both"/>',
        "",
    ),
    "GwTableText": ("表格文字", FANGSONG, TABLE, TABLE_PPR.format(align="left"), FLAT),
    "GwTableNumber": ("表格数字", FANGSONG, TABLE, TABLE_PPR.format(align="right"), FLAT),
    "GwTableHead": ("表头文字", HEITI, TABLE, TABLE_PPR.format(align="center"), FLAT),
    "GwRecord": (
        "版记",
        FANGSONG,
        RECORD,
        # 4号, 左右各空一字
        '<w:spacing w:before="0" w:after="0" w:line="560" w:lineRule="exact"/>'
        '<w:ind w:left="280" w:right="280" w:hanging="0"/><w:jc w:val="left"/>',
        FLAT,
    ),
    "GwPageNumber": (
        "页码",
        SONG,
        RECORD,
        '<w:spacing w:before="0" w:after="280" w:line="280" w:lineRule="exact"/>',
        FLAT,
    ),
    "GwHeader": (
        "页眉",
        FANGSONG,
        4,
        '<w:spacing w:before="0" w:after="0" w:line="40" w:lineRule="exact"/>',
        FLAT,
    ),
}


def _styles_xml(tab: int) -> str:
    """styles.xml: the document defaults (仿宋 三号, zh-CN, exact 28.95 pt lines), Normal, the
    paragraph styles above and two table styles."""
    tracking = f'<w:spacing w:val="{TRACKING}"/>'
    styles = []
    for sid, (name, font, size, ppr, rpr) in STYLES.items():
        ppr = ppr.replace("{tab}", str(tab))
        latin = "SimSun" if font == SONG else LATIN
        styles.append(
            f'<w:style w:type="paragraph" w:customStyle="1" w:styleId="{sid}"><w:name w:val="{name}"/>'
            f'<w:basedOn w:val="Normal"/><w:qFormat/><w:pPr>{ppr}</w:pPr>'
            f'<w:rPr>{_rfonts(font, latin)}{rpr or tracking}<w:sz w:val="{size}"/><w:szCs w:val="{size}"/>'
            "</w:rPr></w:style>"
        )
    border = 'w:val="single" w:sz="4" w:space="0" w:color="000000"'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:styles {W}>'
        f"<w:docDefaults><w:rPrDefault><w:rPr>{_rfonts(FANGSONG)}{tracking}"
        f'<w:kern w:val="2"/><w:sz w:val="{BODY}"/><w:szCs w:val="{BODY}"/>{LANG}</w:rPr></w:rPrDefault>'
        f'<w:pPrDefault><w:pPr><w:widowControl/><w:snapToGrid w:val="0"/><w:spacing w:before="0" w:after="0" '
        f'w:line="{LINE}" w:lineRule="exact"/></w:pPr></w:pPrDefault></w:docDefaults>'
        '<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/>'
        '<w:pPr><w:widowControl/><w:snapToGrid w:val="0"/><w:jc w:val="both"/></w:pPr>'
        f'<w:rPr>{_rfonts(FANGSONG)}{tracking}<w:sz w:val="{BODY}"/><w:szCs w:val="{BODY}"/>{LANG}</w:rPr></w:style>'
        '<w:style w:type="character" w:default="1" w:styleId="DefaultParagraphFont">'
        '<w:name w:val="Default Paragraph Font"/><w:uiPriority w:val="1"/><w:semiHidden/></w:style>'
        '<w:style w:type="table" w:default="1" w:styleId="TableNormal"><w:name w:val="Normal Table"/>'
        '<w:semiHidden/><w:tblPr><w:tblInd w:w="0" w:type="dxa"/><w:tblCellMar><w:top w:w="0" w:type="dxa"/>'
        '<w:left w:w="85" w:type="dxa"/><w:bottom w:w="0" w:type="dxa"/><w:right w:w="85" w:type="dxa"/>'
        "</w:tblCellMar></w:tblPr></w:style>"
        '<w:style w:type="table" w:styleId="GwTable"><w:name w:val="公文表格"/><w:basedOn w:val="TableNormal"/>'
        f"<w:tblPr><w:tblBorders><w:top {border}/><w:left {border}/><w:bottom {border}/><w:right {border}/>"
        f"<w:insideH {border}/><w:insideV {border}/></w:tblBorders></w:tblPr></w:style>"
        + "".join(styles)
        + "</w:styles>"
    )


def _font_table_xml() -> str:
    entries = [
        f'<w:font w:name="{LATIN}"><w:panose1 w:val="02020603050405020304"/><w:charset w:val="00"/>'
        '<w:family w:val="roman"/><w:pitch w:val="variable"/></w:font>'
    ]
    for name, (alt, panose, family, pitch) in FONTS.items():
        entries.append(
            f'<w:font w:name="{name}"><w:altName w:val="{alt}"/><w:panose1 w:val="{panose}"/>'
            f'<w:charset w:val="86"/><w:family w:val="{family}"/><w:pitch w:val="{pitch}"/>'
            '<w:sig w:usb0="00000001" w:usb1="080E0000" w:usb2="00000010" w:usb3="00000000" w:csb0="00040000" '
            'w:csb1="00000000"/></w:font>'
        )
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:fonts {W}>{"".join(entries)}</w:fonts>'


def _replace_blob(part, text: str) -> None:
    part._blob = text.encode("utf-8")


def _chinese_theme(doc) -> None:
    """The theme's East-Asian fonts Chinese (python-docx's default names Japanese ones) and the
    settings' theme language zh-CN."""
    theme = next((p for p in doc.part.package.parts if p.partname.endswith("/theme/theme1.xml")), None)
    if theme is not None:
        text = theme.blob.decode("utf-8")
        minor = text.index("<a:minorFont>")
        major_part, minor_part = text[:minor], text[minor:]
        major_part = major_part.replace('<a:ea typeface=""/>', f'<a:ea typeface="{HEITI}"/>', 1)
        minor_part = minor_part.replace('<a:ea typeface=""/>', f'<a:ea typeface="{SONG}"/>', 1)
        text = major_part + minor_part
        text = text.replace('<a:font script="Jpan" typeface="ＭＳ ゴシック"/>', "")
        text = text.replace('<a:font script="Jpan" typeface="ＭＳ 明朝"/>', "")
        _replace_blob(theme, text)
    settings = doc.settings.element
    lang = settings.find(qn("w:themeFontLang"))
    if lang is None:
        lang = x(f"<w:themeFontLang {W}/>")
        settings.append(lang)
    lang.set(qn("w:val"), "en-US")
    lang.set(qn("w:eastAsia"), "zh-CN")


def _settings(doc) -> None:
    """Odd and even pages' footers apart; tab stops every two characters; punctuation full-width."""
    settings = doc.settings.element
    doc.settings.odd_and_even_pages_header_footer = True
    tab = settings.find(qn("w:defaultTabStop"))
    if tab is not None:
        tab.set(qn("w:val"), str(2 * CHAR))
    spacing = settings.find(qn("w:characterSpacingControl"))
    if spacing is not None:
        spacing.set(qn("w:val"), "doNotCompress")


# ---------------------------------------------------------------- the page, headers and footers


def _page_number(part, align: str) -> None:
    """The page number "— N —" in 4号 半角宋体: odd pages right, 右空一字; even pages left, 左空一字."""
    for p in list(part._element.iterchildren(qn("w:p"))):
        part._element.remove(p)
    indent = '<w:ind w:right="280"/>' if align == "right" else '<w:ind w:left="280"/>'
    part._element.append(
        x(
            f'<w:p {W}><w:pPr><w:pStyle w:val="GwPageNumber"/>{indent}<w:jc w:val="{align}"/></w:pPr>'
            '<w:r><w:t xml:space="preserve">— </w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>'
            '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t>1</w:t></w:r>'
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>'
            '<w:r><w:t xml:space="preserve"> —</w:t></w:r></w:p>'
        )
    )


def _empty(part, *, ppr: str = "") -> None:
    for p in list(part._element.iterchildren(qn("w:p"))):
        part._element.remove(p)
    part._element.append(x(f'<w:p {W}><w:pPr><w:pStyle w:val="GwHeader"/>{ppr}</w:pPr></w:p>'))


def _page(doc, *, letter: bool) -> None:
    """A4, the 版心 of GB/T 9704 with its grid, page numbers at alternating sides; the letter: its
    first page's letterhead (信函格式) in the first page's header and footer."""
    section = doc.sections[0]
    sect = section._sectPr
    for tag in ("w:pgSz", "w:pgMar", "w:cols", "w:docGrid", "w:titlePg"):
        for el in sect.findall(qn(tag)):
            sect.remove(el)
    # footers 18 mm above the bottom edge: the page number's top 7 mm under the 版心 (its line and
    # the space after it), the letter's bottom double line 20 mm above the edge
    sect.append(x(f'<w:pgSz {W} w:w="{PAGE_W}" w:h="{PAGE_H}"/>'))
    sect.append(
        x(
            f'<w:pgMar {W} w:top="{MARGIN_TOP}" w:right="{MARGIN_RIGHT}" w:bottom="{MARGIN_BOTTOM}" '
            f'w:left="{MARGIN_LEFT}" w:header="{round(30 * MM)}" w:footer="{round(18 * MM)}" w:gutter="0"/>'
        )
    )
    sect.append(x(f'<w:cols {W} w:space="425"/>'))
    if letter:
        sect.append(x(f"<w:titlePg {W}/>"))
    sect.append(x(f'<w:docGrid {W} w:type="linesAndChars" w:linePitch="{LINE}" w:charSpace="{CHAR_SPACE}"/>'))
    section.header.is_linked_to_previous = False
    section.even_page_header.is_linked_to_previous = False
    _empty(section.header)
    _empty(section.even_page_header)
    _page_number(section.footer, "right")
    _page_number(section.even_page_footer, "left")
    if not letter:
        return
    first_header = section.first_page_header
    first_header.is_linked_to_previous = False
    for p in list(first_header._element.iterchildren(qn("w:p"))):
        first_header._element.remove(p)
    # the issuer's full name, red 小标宋, its top 30 mm from the page's top edge; under it (4 mm) a
    # red double line, thick above thin, 170 mm long (7 mm past the 版心 each side)
    first_header._element.append(
        x(
            f'<w:p {W}><w:pPr><w:pStyle w:val="GwIssuer"/><w:pBdr><w:bottom w:val="thickThinSmallGap" '
            f'w:sz="24" w:space="11" w:color="{RED}"/></w:pBdr><w:spacing w:before="0" w:after="0" '
            'w:line="600" w:lineRule="exact"/><w:ind w:left="-397" w:right="-397" w:firstLine="0"/></w:pPr>'
            '<w:r><w:rPr><w:sz w:val="44"/><w:szCs w:val="44"/></w:rPr><w:t>{{ issuer_mark }}</w:t></w:r></w:p>'
        )
    )
    first_footer = section.first_page_footer
    first_footer.is_linked_to_previous = False
    # the bottom double line, thin above thick, 20 mm above the page's bottom edge
    _empty(
        first_footer,
        ppr=f'<w:pBdr><w:top w:val="thinThickSmallGap" w:sz="24" w:space="1" w:color="{RED}"/></w:pBdr>'
        '<w:spacing w:before="0" w:after="40" w:line="40" w:lineRule="exact"/><w:ind w:left="-397" w:right="-397"/>',
    )


# ---------------------------------------------------------------- building blocks


def _new(*, letter: bool, title: str) -> Document:
    doc = Document()
    tab = TEXT_W - 4 * CHAR - 1700 // 2  # the centre of a 成文日期 standing 右空四字 (about 1700 twips long)
    _replace_blob(doc.part.part_related_by(RT.FONT_TABLE), _font_table_xml())
    doc.part.part_related_by(RT.STYLES)._element = parse_xml(_styles_xml(tab).encode("utf-8"))
    _chinese_theme(doc)
    _settings(doc)
    body = doc.element.body
    for p in list(body.iterchildren(qn("w:p"))):
        body.remove(p)
    _page(doc, letter=letter)
    _properties(doc, title)
    return doc


def _properties(doc, title: str) -> None:
    """Author the issuer, title the document's, language zh-CN (docxtpl renders these texts); the
    dates are the template's until a document is written with the date of issue."""
    props = doc.core_properties
    props.author = "{{ issuer }}"
    props.title = title
    props.subject = "{{ notice_title }}"
    props.language = "zh-CN"
    props.comments = ""
    props.keywords = ""
    props.category = ""
    props.last_modified_by = ""
    props.revision = 1
    props.created = props.modified = datetime(2024, 1, 1)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _p(doc, text: str, style: str = "GwBody", *, ppr: str = "") -> None:
    """A paragraph of ``style``; ``text``'s ``\\n`` are manual line breaks (a title broken at a
    planned place), ``\\t`` tabs."""
    runs = []
    for i, line in enumerate(text.split("\n")):
        if i:
            runs.append("<w:r><w:br/></w:r>")
        for j, piece in enumerate(line.split("\t")):
            if j:
                runs.append("<w:r><w:tab/></w:r>")
            if piece:
                runs.append(f'<w:r><w:t xml:space="preserve">{_escape(piece)}</w:t></w:r>')
    doc.element.body.append(x(f'<w:p {W}><w:pPr><w:pStyle w:val="{style}"/>{ppr}</w:pPr>{"".join(runs)}</w:p>'))


def _tag(doc, tag: str) -> None:
    """A docxtpl paragraph tag (``{%p … %}``): the paragraph itself disappears when rendered."""
    _p(doc, tag)


def _cell(text: str, width: int, style: str, *, numeric: bool = False, span: int = 1) -> str:
    run = f'<w:r><w:t xml:space="preserve">{_escape(text)}</w:t></w:r>' if text else ""
    extra = "<w:noWrap/>" if numeric else ""
    grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/>{grid}{extra}<w:vAlign w:val="center"/></w:tcPr>'
        f'<w:p><w:pPr><w:pStyle w:val="{style}"/></w:pPr>{run}</w:p></w:tc>'
    )


def _row(cells: str, *, header: bool = False) -> str:
    head = "<w:tblHeader/>" if header else ""
    return f"<w:tr><w:trPr><w:cantSplit/>{head}</w:trPr>{cells}</w:tr>"


def _table(doc, headers: list[str], loop: str, cells: list[str], widths_mm: list[float], numeric: list[bool]) -> None:
    """A table at most as wide as the 版心, centred: a header row repeated on every page, then one
    row per item of ``loop`` (docxtpl ``{%tr for … %}``). The grid's widths are the cells' (fixed
    layout), rows never split across pages, figures right-aligned and never wrapped."""
    widths = [round(w * MM) for w in widths_mm]
    total = sum(widths)
    if total > TEXT_W:
        raise ValueError(f"table wider than the 版心: {headers} {total} > {TEXT_W}")
    grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
    head = _row("".join(_cell(h, w, "GwTableHead") for h, w in zip(headers, widths, strict=True)), header=True)
    opening = _row(_cell(f"{{%tr for r in {loop} %}}", total, "GwTableText", span=len(widths)))
    body = _row(
        "".join(
            _cell(c, w, "GwTableNumber" if n else "GwTableText", numeric=n)
            for c, w, n in zip(cells, widths, numeric, strict=True)
        )
    )
    closing = _row(_cell("{%tr endfor %}", total, "GwTableText", span=len(widths)))
    doc.element.body.append(
        x(
            f'<w:tbl {W}><w:tblPr><w:tblStyle w:val="GwTable"/><w:tblW w:w="{total}" w:type="dxa"/>'
            '<w:jc w:val="center"/><w:tblLayout w:type="fixed"/><w:tblLook w:val="04A0" w:firstRow="1" '
            'w:lastRow="0" w:firstColumn="1" w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>{head}{opening}{body}{closing}</w:tbl>"
        )
    )


def _signature(doc, *, record: bool) -> None:
    """署名 centred over the 成文日期 (右空四字), then 联系人 and 联系电话 as the 附注; kept with the
    版记 that follows (``record``), so it is never alone on a page."""
    _p(doc, "\t{{ issuer }}", "GwSignature")
    _p(doc, "{{ issued }}", "GwDate")
    _p(
        doc,
        "（联系人：{{ contact_name }}；联系电话：{{ contact_phone }}）",
        "GwNote",
        ppr="<w:keepNext/>" if record else "",
    )


def _record(doc) -> None:
    """The 通报's 版记 at the foot of its last page: 抄送 (when any) and 印发机关 / 印发日期 between a
    thick top line, a thin line and a thick bottom line, as wide as the 版心; a table floating at the
    bottom of the 版心, so its last line sits on the 版心's lower edge."""
    width = TEXT_W
    half = width // 2
    thick = 'w:val="single" w:sz="8" w:space="0" w:color="000000"'  # 0.35 mm (推荐)
    thin = 'w:val="single" w:sz="6" w:space="0" w:color="000000"'  # 0.25 mm
    none = '<w:left w:val="nil"/><w:right w:val="nil"/>'

    def cell(text: str, w: int, align: str, borders: str, span: int = 1) -> str:
        grid = f'<w:gridSpan w:val="{span}"/>' if span > 1 else ""
        if text.startswith("抄送"):  # a long 抄送 list wraps under the names, not under 抄送：
            indent = '<w:ind w:left="1120" w:right="280" w:hanging="840"/>'
        elif align == "left":
            indent = '<w:ind w:left="280" w:right="0" w:hanging="0"/>'
        else:
            indent = '<w:ind w:left="0" w:right="280"/>'
        return (
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/>{grid}<w:tcBorders>{borders}</w:tcBorders>'
            f'<w:vAlign w:val="center"/></w:tcPr><w:p><w:pPr><w:pStyle w:val="GwRecord"/>{indent}'
            f'<w:jc w:val="{align}"/></w:pPr><w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p></w:tc>'
        )

    copy_borders = f"<w:top {thick}/><w:bottom {thin}/>{none}"
    copy_rows = "".join(
        _row(cell(text, width, "left", copy_borders, span=2))
        for text in ("{%tr if copy_to %}", "抄送：{{ copy_to }}。", "{%tr endif %}")
    )
    printed_borders = f"<w:top {thick}/><w:bottom {thick}/>{none}"
    printed = _row(
        cell("{{ issuer }}", half, "left", printed_borders)
        + cell("{{ printed }}", width - half, "right", printed_borders)
    )
    doc.element.body.append(
        x(
            f'<w:tbl {W}><w:tblPr><w:tblStyle w:val="TableNormal"/>'
            '<w:tblpPr w:leftFromText="0" w:rightFromText="0" w:topFromText="284" w:bottomFromText="0" '
            # placed from the page's left edge at the 版心's: LibreOffice keeps a table as wide as
            # the 版心 inline unless it is placed relative to the page
            f'w:vertAnchor="margin" w:horzAnchor="page" w:tblpX="{MARGIN_LEFT}" w:tblpYSpec="bottom"/>'
            '<w:tblOverlap w:val="never"/>'
            f'<w:tblW w:w="{width}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
            '<w:tblCellMar><w:left w:w="0" w:type="dxa"/><w:right w:w="0" w:type="dxa"/></w:tblCellMar>'
            f'</w:tblPr><w:tblGrid><w:gridCol w:w="{half}"/><w:gridCol w:w="{width - half}"/></w:tblGrid>'
            f"{copy_rows}{printed}</w:tbl>"
        )
    )
    # the paragraph the 版记 is anchored to (a document ends with a paragraph)
    _p(doc, "", "GwHeader")


# ---------------------------------------------------------------- 通报


#: what each year's 通报 says in its fixed prose (its notice's frame, targets and clauses)
BULLETIN_YEARS: dict[int, dict[str, str]] = {
    2023: {
        "intro": "为落实《{{ notice_title }}》（{{ notice }}）要求，按照通知{{ clauses.plan }}关于重点通报三项指标的部署，"
        "现将截至{{ period_end }}辖内{{ n_banks }}家银行业金融机构{% if insurer_rows %}和{{ insurers.count }}家保险机构{% endif %}"
        "小微企业金融服务情况通报如下。",
        "two_increases": "（一）辖内法人银行总体“两增”{{ figures.legal_two_increases }}。{{ figures.legal_count }}家法人银行"
        "普惠型小微企业贷款较年初{{ figures.legal_inclusive_growth }}，各项贷款较年初{{ figures.legal_total_loans_growth }}，"
        "普惠型小微企业贷款增速比各项贷款增速{{ figures.legal_growth_margin }}；"
        "有贷款余额户数较年初{{ figures.legal_borrowers_change }}。",
        "note_extra": "",
        "insurers": "按照通知第（十三）条关于保险机构加大小微企业保险服务的要求，",
        "require_1": "（一）各银行业金融机构要对照通知要求，"
        "{% if year_end %}认真总结{{ year }}年小微企业金融服务工作，对未完成“两增”和信贷计划目标的原因深入剖析，"
        "在新的年度持续加大信贷投放力度{% else %}认真分析本机构小微企业金融服务存在的差距，加大信贷投放力度，"
        "确保完成全年“两增”和信贷计划目标{% endif %}，推动新发放贷款利率在上年基础上总体保持平稳。",
        "require_3": "（三）各机构监管科要按照通知第（十五）条至第（十七）条要求，将监测评价结果运用到监管全过程，"
        "对未达标机构逐一督促整改，跟踪整改成效。",
    },
    2024: {
        "intro": "为落实《{{ notice_title }}》（{{ notice }}）关于“保量、稳价、优结构”的要求，现将截至{{ period_end }}辖内"
        "{{ n_banks }}家银行业金融机构{% if insurer_rows %}和{{ insurers.count }}家保险机构{% endif %}"
        "小微企业金融服务情况通报如下。",
        "two_increases": "（一）辖内地方法人银行总体普惠型小微企业贷款增速{{ figures.legal_two_increases }}“不低于各项贷款增速”的目标。"
        "{{ figures.legal_count }}家地方法人银行普惠型小微企业贷款较年初{{ figures.legal_inclusive_growth }}，"
        "各项贷款较年初{{ figures.legal_total_loans_growth }}，普惠型小微企业贷款增速比各项贷款增速"
        "{{ figures.legal_growth_margin }}。",
        "note_extra": "地方法人银行按总体考核，大型银行、股份制银行分支机构逐家考核；",
        "insurers": "按照通知关于保险机构做好小微企业保险服务的要求，",
        "require_1": "（一）各银行业金融机构要对照通知“保量、稳价、优结构”的要求，"
        "{% if year_end %}认真总结{{ year }}年小微企业金融服务工作，对未完成的目标深入剖析原因、在新的年度加以改进"
        "{% else %}认真分析本机构小微企业金融服务存在的差距{% endif %}：大型银行、股份制银行要力争全年普惠型小微企业贷款增速"
        "不低于各项贷款增速，地方法人银行要共同推动总体增速不低于各项贷款增速{% if clauses.plan %}{% if year_end %}，"
        "各机构要科学制定并完成新年度信贷计划{% else %}，各机构要完成全年信贷计划目标{% endif %}{% endif %}；"
        "合理确定贷款利率，规范第三方收费；加大首贷、续贷和中长期贷款投放，持续优化信贷结构。",
        "require_3": "（三）各机构监管科要按照通知要求，将监测评价结果运用到监管全过程，对未达标机构逐一督促整改，跟踪整改成效。",
    },
    2025: {
        "intro": "为落实《{{ notice_title }}》（{{ notice }}）关于“保量、提质、稳价、优结构”的要求，现将截至{{ period_end }}辖内"
        "{{ n_banks }}家银行业金融机构{% if insurer_rows %}和{{ insurers.count }}家保险机构{% endif %}"
        "小微企业金融服务情况通报如下。",
        "two_increases": "（一）辖内地方法人银行总体普惠型小微企业贷款增速{{ figures.legal_two_increases }}“不低于各项贷款增速”的目标。"
        "{{ figures.legal_count }}家地方法人银行普惠型小微企业贷款较年初{{ figures.legal_inclusive_growth }}，"
        "各项贷款较年初{{ figures.legal_total_loans_growth }}，普惠型小微企业贷款增速比各项贷款增速"
        "{{ figures.legal_growth_margin }}。",
        "note_extra": "地方法人银行按总体考核，大型银行、股份制银行分支机构逐家考核；",
        "insurers": "按照通知关于保险机构做好小微企业保险服务的要求，",
        "require_1": "（一）各银行业金融机构要对照通知“保量、提质、稳价、优结构”的要求，"
        "{% if year_end %}认真总结{{ year }}年小微企业金融服务工作，对未完成的目标深入剖析原因、在新的年度加以改进"
        "{% else %}认真分析本机构小微企业金融服务存在的差距{% endif %}：大型银行、股份制银行要力争全年普惠型小微企业贷款增速"
        "不低于各项贷款增速，地方法人银行要共同推动总体增速不低于各项贷款增速{% if clauses.plan %}{% if year_end %}，"
        "各机构要科学制定并完成新年度信贷计划{% else %}，各机构要完成全年信贷计划目标{% endif %}{% endif %}；"
        "根据LPR、资金成本、客群风险科学合理确定贷款利率；加大信用贷款和中长期贷款投放，"
        "加强对外贸、科技、消费相关小微企业的金融支持；持续深化小微企业融资协调工作机制。",
        "require_3": "（三）各机构监管科要按照通知要求，将监测评价结果运用到监管全过程，对未达标机构逐一督促整改，跟踪整改成效。",
    },
}

BULLETIN_TITLE = "关于{{ period_name }}辖内银行业金融机构小微企业金融服务情况的通报"
PLAN_FIGURES = (
    "（二）辖内法人银行总体普惠型小微企业信贷计划完成率{{ figures.legal_plan_completion }}。{{ figures.legal_plan_count }}家"
    "法人银行全年计划增加{{ figures.legal_planned_increase }}，实际较年初增量{{ figures.legal_plan_increase }}。",
    "（三）辖内分支银行总体普惠型小微企业信贷计划完成率{{ figures.branch_plan_completion }}。{{ figures.branch_plan_count }}家"
    "分支银行全年计划增加{{ figures.branch_planned_increase }}，实际较年初增量{{ figures.branch_plan_increase }}。",
)


#: the first policy year whose 通报 has a section on the financing coordination mechanism (融资协调工作机制)
FINANCING_FROM = 2024


def _financing_section(doc) -> None:
    """五、小微企业融资协调工作机制推进情况: the city's pipeline, by county, the banks below a target and
    the refusal reasons ranked; left out when the period has no 推荐清单 (``financing`` empty)."""
    _tag(doc, "{%p if financing %}")
    _p(doc, "五、小微企业融资协调工作机制推进情况", "GwHeading1")
    _p(doc, "{{ financing.summary }}")
    _p(doc, "分县区推进情况如下（户次；金额单位：万元）：", "GwLead")
    _table(
        doc,
        ["县区", "推送", "对接", "办结", "授信", "授信金额", "放款", "放款金额", "按时办结率", "超期"],
        "financing.counties",
        [
            "{{ r.county }}",
            "{{ r.pushed }}",
            "{{ r.contacted }}",
            "{{ r.decided }}",
            "{{ r.granted }}",
            "{{ r.credit_amount }}",
            "{{ r.lent }}",
            "{{ r.loan_amount }}",
            "{{ r.decided_within }}",
            "{{ r.overdue }}",
        ],  # fmt: skip
        [20, 12, 12, 12, 12, 20, 12, 20, 20, 12],
        [False, True, True, True, True, True, True, True, True, True],
    )
    _tag(doc, "{%p if financing.reasons_text %}")
    _p(doc, "未授信原因居前的是：{{ financing.reasons_text }}。")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if financing.banks_below %}")
    _p(doc, "未达到工作机制要求的银行机构（{{ financing.banks_below|length }}家）：", "GwLead")
    _table(
        doc,
        ["序号", "机构名称", "指标", "要求", "本期"],
        "financing.banks_below",
        ["{{ r.number }}", "{{ r.name }}", "{{ r.target }}", "{{ r.standard }}", "{{ r.value }}"],
        [12, 52, 40, 28, 24],
        [True, False, False, False, True],
    )
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endif %}")


def bulletin(year: int) -> Document:
    words = BULLETIN_YEARS[year]
    doc = _new(letter=False, title=BULLETIN_TITLE)
    _p(doc, "{{ issuer_mark }}", "GwIssuer")
    _p(doc, "{{ doc_number }}", "GwNumber")
    # broken by hand where the words allow: never inside 金融
    _p(doc, "关于{{ period_name }}辖内银行业金融机构\n小微企业金融服务情况的通报", "GwTitle")
    _p(doc, ADDRESSEES + "：", "GwAddressee")
    _p(doc, words["intro"])

    # 一、总体情况：全市, the notice's key figures, the structure indicators, banks by category
    _p(doc, "一、总体情况", "GwHeading1")
    _p(
        doc,
        "截至{{ period_end }}，全市普惠型小微企业贷款余额{{ figures.city_balance }}，{{ figures.city_change }}，"
        "{{ figures.city_growth }}。",
    )
    _p(doc, words["two_increases"])
    if year != 2023:  # the later notices' plan is the office's own, shown when the year's policy has one
        _tag(doc, "{%p if clauses.plan %}")
    for text in PLAN_FIGURES:  # the later notices say 地方法人银行, as their 两增 paragraph does
        _p(
            doc,
            text
            if year == 2023
            else text.replace("辖内法人银行", "辖内地方法人银行").replace("家法人银行", "家地方法人银行"),
        )
    if year != 2023:
        _tag(doc, "{%p endif %}")
    _p(
        doc,
        "以上指标按各机构余额、计划加总计算，非各机构比率的简单平均；" + words["note_extra"] + "普惠型小微企业贷款"
        "{{ figures.basis }}。{% if figures.time_progress %}本期时序进度{{ figures.time_progress }}。{% endif %}",
        "GwSmallNote",
    )
    _tag(doc, "{%p if structure %}")
    _p(doc, "全市小微企业金融服务结构指标如下：", "GwLead")
    _table(
        doc,
        ["指标", "本期", "变化"],
        "structure",
        ["{{ r.label }}", "{{ r.value }}", "{{ r.change }}"],
        [62, 34, 59.9],
        [False, True, False],  # the change is a phrase (较年初增加…): it may wrap, its figure whole
    )
    _tag(doc, "{%p endif %}")

    _p(doc, "分机构类型情况如下：", "GwLead")
    _table(
        doc,
        [
            "机构类型",
            "机构数",
            "普惠贷款余额（亿元）",
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
        [26, 13, 26, 18, 18, 18, 18, 19],
        [False, True, True, True, True, True, True, True],
    )
    # 二、工作成效: the best performers
    _p(doc, "二、工作成效", "GwHeading1")
    _tag(doc, "{%p for h in highlights %}")
    _p(doc, "{{ h.text }}")
    _tag(doc, "{%p endfor %}")
    # 三、保险机构 (a section of its own)
    _p(doc, "三、保险机构小微企业保险服务情况", "GwHeading1")
    _tag(doc, "{%p if insurer_rows %}")
    _p(
        doc,
        words["insurers"] + "截至{{ period_end }}，辖内{{ insurers.count }}家保险机构小微企业保险保费收入"
        "{{ insurers.premium }}，同比{{ insurers.premium_growth }}；保险金额同比{{ insurers.sum_insured_growth }}；"
        "赔付率{{ insurers.claims_ratio }}。{% if insurers.below %}{{ insurers.below_count }}家机构需关注："
        "{{ insurers.below }}。{% endif %}",
        "GwLead",
    )
    _table(
        doc,
        ["序号", "机构名称", "机构类型", "保费收入（万元）", "保费同比（%）", "保额同比（%）", "情况"],
        "insurer_rows",
        [
            "{{ r.number }}",
            "{{ r.name }}",
            "{{ r.category }}",
            "{{ r.premium }}",
            "{{ r.premium_growth }}",
            "{{ r.sum_insured_growth }}",
            "{{ r.status }}",
        ],  # fmt: skip
        [12, 40, 22, 26, 20, 20, 16],
        [True, False, False, True, True, True, False],
    )
    _tag(doc, "{%p else %}")
    _p(doc, "辖内无参评保险机构。")
    _tag(doc, "{%p endif %}")

    # 四、分县区情况
    _p(doc, "四、分县区情况", "GwHeading1")
    _table(
        doc,
        ["县区", "机构数", "普惠贷款余额（亿元）", "较年初增量（亿元）", "较年初增速（%）", "户数较年初（户）"],
        "counties",
        [
            "{{ r.county }}",
            "{{ r.count }}",
            "{{ r.balance }}",
            "{{ r.increase }}",
            "{{ r.growth }}",
            "{{ r.borrowers_change }}",
        ],  # fmt: skip
        [24, 14, 32, 32, 26, 28],
        [False, True, True, True, True, True],
    )
    _p(doc, "按机构注册所在县区归集；市区分支机构的业务可能覆盖多个县区。", "GwSmallNote")

    # 五、融资协调工作机制 (from 2024: the years whose notices have it; a section only with the lists)
    problems, next_steps = "五", "六"
    if year >= FINANCING_FROM:
        _financing_section(doc)
        problems = "{% if financing %}六{% else %}五{% endif %}"
        next_steps = "{% if financing %}七{% else %}六{% endif %}"

    # 五、存在的问题: the lists of misses, then the lists to watch (numbered on from the misses)
    _p(doc, problems + "、存在的问题", "GwHeading1")
    _tag(doc, "{%p for m in misses %}")
    _p(doc, "（{{ m.number }}）{{ m.title }}（{{ m.count }}家）", "GwHeading2")
    _tag(doc, "{%p if m.rows %}")
    _table(
        doc,
        ["序号", "机构名称", "机构类型", "监管科室", "情况"],
        "m.rows",
        ["{{ r.number }}", "{{ r.name }}", "{{ r.category }}", "{{ r.division }}", "{{ r.detail }}"],
        [12, 40, 22, 26, 56],
        [True, False, False, False, False],
    )
    _tag(doc, "{%p else %}")
    _p(doc, "无。")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if m.behind %}")
    _p(doc, "另有{{ m.behind_count }}家机构计划完成进度落后于时序进度：{{ m.behind }}。")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for w in watch %}")
    _p(doc, "（{{ w.number }}）{{ w.title }}（{{ w.count }}家）", "GwHeading2")
    _table(
        doc,
        ["序号", "机构名称", "机构类型", "情况"],
        "w.rows",
        ["{{ r.number }}", "{{ r.name }}", "{{ r.category }}", "{{ r.detail }}"],
        [12, 40, 22, 82],
        [True, False, False, False],
    )
    _tag(doc, "{%p endfor %}")

    # 六、下一步工作要求 (year-end: no "确保全年完成")
    _p(doc, next_steps + "、下一步工作要求", "GwHeading1")
    _p(doc, words["require_1"])
    _p(
        doc,
        "（二）未达标机构要深入查找原因，制定切实可行的整改措施，于{{ reply_deadline }}前将整改方案书面报送对口监管科室。",
    )
    _p(doc, words["require_3"], ppr="<w:keepNext/>")
    _signature(doc, record=True)
    _record(doc)
    return doc


# ---------------------------------------------------------------- 监管提示函


LETTER_YEARS: dict[int, dict[str, str]] = {
    2023: {
        "shortfall": "（{{ s.number }}）{{ s.heading }}。{{ s.text }}，不符合{{ s.citation }}的要求。",
        "require": "请{{ institution.you }}高度重视，按照通知第（十五）条至第（十七）条要求，对照上述事项逐项查找原因、"
        "制定整改措施，于{{ reply_deadline }}前将整改措施及进展情况书面报送{{ institution.division }}。",
    },
    2024: {
        "shortfall": "（{{ s.number }}）{{ s.heading }}。{{ s.text }}。依据：{{ s.citation }}。",
        "require": "请{{ institution.you }}高度重视，按照通知要求，对照上述事项逐项查找原因、制定整改措施，"
        "于{{ reply_deadline }}前将整改措施及进展情况书面报送{{ institution.division }}。",
    },
}
LETTER_YEARS[2025] = LETTER_YEARS[2024]
LETTER_TITLE = "关于{{ institution.name }}小微企业金融服务情况的监管提示函"


def letter(year: int) -> Document:
    words = LETTER_YEARS[year]
    doc = _new(letter=True, title=LETTER_TITLE)
    _p(doc, "{{ doc_number }}", "GwLetterNumber")
    # the institution's name on a line of its own: a long name never breaks the fixed words
    _p(doc, "关于{{ institution.name }}\n小微企业金融服务情况的监管提示函", "GwTitle")
    _p(doc, "{{ institution.name }}：", "GwAddressee")
    _p(
        doc,
        "根据《{{ notice_title }}》（{{ notice }}）要求，我分局对{{ institution.you }}截至{{ period_end }}的小微企业"
        "金融服务情况进行了监测评价。经核查，{{ institution.you }}存在以下{% if shortfalls %}未达标{% if watch %}"
        "及需关注{% endif %}{% else %}需关注{% endif %}事项，现予以提示。",
    )
    _tag(doc, "{%p if differentiated %}")
    _p(doc, "{{ differentiated }}")
    _tag(doc, "{%p endif %}")
    # a letter for a 关注 item only (a rate far above its peers') has no 未达标 section: the
    # sections are numbered by what the letter holds
    _tag(doc, "{%p if shortfalls %}")
    _p(doc, "一、未达标事项", "GwHeading1")
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for s in shortfalls %}")
    _p(doc, words["shortfall"])
    _p(doc, "整改要求：{{ s.recommendation }}")
    _tag(doc, "{%p endfor %}")
    if year >= FINANCING_FROM:
        # the firms the bank has left without a decision past the window: a list it can act on
        _tag(doc, "{%p if financing_overdue %}")
        _p(doc, "超期未作出授信决定的推荐企业（共{{ financing_overdue_count }}户次，列示如下）：", "GwLead")
        _table(
            doc,
            ["序号", "企业名称", "统一社会信用代码", "推荐日期", "超期天数"],
            "financing_overdue",
            ["{{ r.number }}", "{{ r.name }}", "{{ r.code }}", "{{ r.list_date }}", "{{ r.days }}"],
            [10, 53, 48, 27, 18],  # an 18-character code and a date whole even in a wide fallback face
            [True, False, False, False, True],
        )
        _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if watch %}")
    _p(doc, "{{ '二' if shortfalls else '一' }}、需关注事项", "GwHeading1")
    _tag(doc, "{%p for w in watch %}")
    # the item's text says its figure after its name (信用贷款占比较年初下降1.29个百分点)
    _p(doc, "（{{ w.number }}）{{ w.text }}（{{ w.citation }}）。{{ w.recommendation }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    _p(doc, "{% if shortfalls and watch %}三{% else %}二{% endif %}、主要监测指标", "GwHeading1")
    _table(doc, ["指标", "本期数值"], "figures", ["{{ r.label }}", "{{ r.value }}"], [100, 50], [False, True])
    _p(doc, "以上数据来自{{ institution.you }}报送的监管统计数据，截至{{ period_end }}。", "GwSmallNote")
    _p(doc, "{% if shortfalls and watch %}四{% else %}三{% endif %}、有关要求", "GwHeading1")
    _p(doc, words["require"], ppr="<w:keepNext/>")
    _signature(doc, record=False)
    return doc


#: template file → (builder, policy year)
TEMPLATES: dict[str, tuple[Callable[[int], Document], int]] = {
    "通报.docx": (bulletin, 2023),
    "提示函.docx": (letter, 2023),
    "通报-2024.docx": (bulletin, 2024),
    "提示函-2024.docx": (letter, 2024),
    "通报-2025.docx": (bulletin, 2025),
    "提示函-2025.docx": (letter, 2025),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="templates to build (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "params" / "templates")
    parser.add_argument("--force", action="store_true", help="overwrite existing templates (loses the office's edits)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list(TEMPLATES):
        build, year = TEMPLATES[name]
        target = args.out / name
        if target.exists() and not args.force:
            print(f"exists, left as it is (--force to overwrite): {target}", file=sys.stderr)
            continue
        build(year).save(str(target))
        print(f"written {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
