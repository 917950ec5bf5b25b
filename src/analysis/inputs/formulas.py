"""Formula cells in a worksheet (公式单元格), found without opening the workbook as a whole: the
tables a bank or a county 工作专班 fill by hand (the contract's ``no_formulas`` tables, 推荐清单 and
银行反馈) must hold values, so every formula cell is refused, located (formula_cell)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from analysis.core.errors import Issue

#: a formula cell in a worksheet's XML: ``<c r="E5" …><f>…`` (the formula is the cell's first child)
_FORMULA_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})(\d+)"[^>]*>\s*<(?:\w+:)?f[\s>/]')
#: formula cells named one by one in the refusal; the rest are counted
FORMULAS_SHOWN = 20
_CHUNK = 1 << 20


def _sheet_member(book: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip member of ``sheet`` (None: the first sheet), read from the workbook's relations."""
    import xml.etree.ElementTree as ET

    main = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    rel_ns = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
    try:
        workbook = ET.fromstring(book.read("xl/workbook.xml"))
        rels = ET.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return None
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    for element in workbook.iter(f"{main}sheet"):
        if sheet is None or element.get("name") == sheet:
            target = targets.get(element.get(f"{rel_ns}id"), "")
            target = target.lstrip("/")
            return target if target.startswith("xl/") else f"xl/{target}"
    return None


def formula_cells(path: Path, sheet: str | None = None) -> tuple[list[tuple[str, int]], int]:
    """Formula cells of a worksheet of the ``.xlsx`` file ``path``: the first
    :data:`FORMULAS_SHOWN` as (column letter, row) and the count of all. The sheet's XML is scanned
    in 1 MB pieces (a 10⁶-row sheet is never held whole); nothing is evaluated."""
    shown: list[tuple[str, int]] = []
    count = 0
    try:
        with zipfile.ZipFile(path) as book:
            member = _sheet_member(book, sheet)
            if member is None or member not in book.namelist():
                return shown, 0
            with book.open(member) as handle:
                tail = b""
                while True:
                    block = handle.read(_CHUNK)
                    text = tail + block
                    # a cell tag cut at the end of the piece is scanned with the next one
                    cut = text.rfind(b"<", max(len(text) - 4096, 0)) if block else len(text)
                    cut = len(text) if cut <= 0 else cut
                    for match in _FORMULA_CELL.finditer(text, 0, cut):
                        count += 1
                        if len(shown) < FORMULAS_SHOWN:
                            shown.append((match.group(1).decode(), int(match.group(2))))
                    if not block:
                        break
                    tail = text[cut:]
    except (zipfile.BadZipFile, OSError, EOFError):
        return shown, 0
    return shown, count


def formula_issues(source: str, path: Path, sheet: str | None) -> list[Issue]:
    """One refusal per formula cell shown (row and column letter), one more counting the rest."""
    shown, count = formula_cells(path, sheet)
    issues = [Issue(source, row, letter, "formula_cell", f"单元格 / cell {letter}{row}") for letter, row in shown]
    if count > len(shown):
        issues.append(
            Issue(
                source,
                None,
                None,
                "formula_cell",
                f"另有 {count - len(shown):,} 个公式单元格（共 {count:,} 个）/ {count - len(shown):,} more formula cells "
                f"({count:,} in all)",
            )
        )
    return issues


__all__ = ["FORMULAS_SHOWN", "formula_cells", "formula_issues"]
