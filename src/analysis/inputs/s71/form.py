"""The S71 form itself (S71表样): its cells by year and its arithmetic (表内关系), from ``params/s71/form.yaml``.

A cell code is ``S71_I_<row>.<column><band>.<year>`` as banks' reporting marts write it
(``S71_I_2..A4.2018``, ``S71_I_3.3.1.B2.2018``, ``S71_I_1.1.D.2018`` without a band, ``6.A5`` as
people write it). The year is the form version in which the cell was defined: ``1.4.A1.2018``
(农村集体经济组织) and ``1.4.A5.2025`` (中长期) are different cells. :func:`parse_item` reads a code,
:class:`FormDefinition` holds every row and cell with its year, and :meth:`FormDefinition.cells_in`
gives the cells in force in one form version, with the totals a return may leave out.

The arithmetic — row 6 = rows 1 + 3, row 3 A–C = 3.1 + 3.2, band 0 = bands 1 + 2 + 3, the band-less
≤3000万 cell = bands 1–4, and part ≤ whole limits (band 5 ≤ band 0, sub-rows ≤ their row) — is data
in the same file. :func:`complete_cells` uses it both ways: a total a return does not write is
**derived** from its parts; a total it does write, and every limit, is **checked** (表内校验), each
finding located to the file and cell of the return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.core.errors import Issue, ParamsError

#: ``S71_I_6..A5.2018``, ``6.A5``, ``1.1.D.2018``, ``S71_I_1.b.D0.2025``: row, column, band (may be
#: empty: the ≤3000万 total), year (may be absent)
ITEM = re.compile(
    r"^\s*(?:S71(?:_I)?_)?(?P<row>\d+(?:\.(?:\d+|[a-z]))*)\.{1,2}(?P<col>[A-Z])(?P<band>\d?)(?:\.(?P<year>\d{4}))?\s*$"
)
#: the band written "none" in the params: the cell without a band (单户授信3000万元（含）以下合计)
NO_BAND = ""

#: rules of the table checks (表内校验) and their texts live in :data:`analysis.core.errors.RULES`
CHECK_TOTAL = "s71_check_total"
CHECK_LIMIT = "s71_check_limit"

#: columns of the table-check findings (``s71-checks.csv``)
CHECK_COLUMNS = [
    "institution_id",
    "period",
    "rule",
    "check",
    "cell",
    "value",
    "expected",
    "difference",
    "tolerance",
    "file",
    "sheet",
    "location",
    "detail",
]


@dataclass(frozen=True)
class ItemCode:
    row: str
    column: str
    band: str
    year: int | None

    @property
    def code(self) -> str:
        """The short code without the year: ``6.A5``, ``1.1.D``."""
        return cell_code(self.row, self.column, self.band)


def parse_item(text) -> ItemCode | None:
    """The parts of an item code in any of its spellings; None when it is not a cell code."""
    match = ITEM.match(str(text))
    if match is None:
        return None
    return ItemCode(match["row"], match["col"], match["band"], int(match["year"]) if match["year"] else None)


def column_of(code) -> str | None:
    """The column letter of a cell code (``6.A5`` → ``A``); None when it is not a cell code."""
    item = parse_item(code) if code is not None else None
    return None if item is None else item.column


def cell_code(row: str, column: str, band: str) -> str:
    return f"{row}.{column}{band}"


def mart_spelling(code: str, year: int, report: str = "S71_I") -> str:
    """How a reporting mart writes a cell: ``S71_I_2..A4.2018``, ``S71_I_1.1.D.2018``, ``S71_I_7.A.2025``."""
    item = parse_item(code)
    assert item is not None, code
    sep = ".." if "." not in item.row and item.band != NO_BAND else "."
    return f"{report}_{item.row}{sep}{item.column}{item.band}.{year}"


@dataclass(frozen=True)
class CellDef:
    """One cell of a form version: written by the bank (``derived`` False) or a total it may leave out."""

    code: str
    row: str
    column: str
    band: str
    year: int
    kind: str  # amount | count
    derived: bool = False
    inferred: bool = False


@dataclass(frozen=True)
class Formula:
    """``target = sum(parts)``, one of the form's totals."""

    target: str
    parts: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Limit:
    """``part ≤ whole``."""

    part: str
    whole: str
    name: str


@dataclass(frozen=True)
class RowDef:
    row: str
    year: int
    name: str
    cells: tuple[tuple[str, str], ...]  # (column, band)
    until: int | None = None
    inferred: bool = False

    def in_force(self, version: int) -> bool:
        return self.year <= version and (self.until is None or version <= self.until)


@dataclass(frozen=True)
class FormCells:
    """The cells in force in one form version, the totals among them and the limits."""

    version: int
    cells: dict[str, CellDef]
    #: (target, formula) in an order where every part is known before its target
    formulas: tuple[Formula, ...]
    limits: tuple[Limit, ...]
    rows: tuple[RowDef, ...]
    tolerance: dict[str, float] = field(default_factory=dict)
    #: a part a return does not write counts as 0 when another part of the total is written
    absent_parts_are_zero: bool = True

    def formulas_of(self, target: str) -> list[Formula]:
        return [f for f in self.formulas if f.target == target]


_CELLS_GROUP = re.compile(r"^(?P<cols>[A-Z](?:-[A-Z])?(?:\s+[A-Z](?:-[A-Z])?)*)\s+(?P<bands>.+)$")


def _letters(spec: str, columns: list[str]) -> list[str]:
    out: list[str] = []
    for part in spec.split():
        if "-" in part:
            a, b = part.split("-")
            if a not in columns or b not in columns:
                raise ValueError(f"unknown column in {spec!r}")
            out += columns[columns.index(a) : columns.index(b) + 1]
        elif part in columns:
            out.append(part)
        else:
            raise ValueError(f"unknown column {part!r}")
    return out


def _bands(spec: str, bands: list[str]) -> list[str]:
    out: list[str] = []
    for part in spec.split():
        if part == "none":
            out.append(NO_BAND)
        elif "-" in part:
            a, b = part.split("-")
            out += [str(x) for x in range(int(a), int(b) + 1)]
        else:
            out.append(part)
    for band in out:
        if band not in bands:
            raise ValueError(f"unknown band {band!r} in {spec!r}")
    return out


def parse_cells(spec: str, columns: list[str], bands: list[str]) -> tuple[tuple[str, str], ...]:
    """``"A-C 1-4; D-F none"`` → ((A, 1), …, (C, 4), (D, ''), (E, ''), (F, ''))."""
    out: list[tuple[str, str]] = []
    for group in filter(None, (g.strip() for g in str(spec or "").split(";"))):
        match = _CELLS_GROUP.match(group)
        if match is None:
            raise ValueError(f"cells {group!r}: expected '<columns> <bands>', e.g. 'A-F 1-4'")
        for col in _letters(match["cols"], columns):
            out += [(col, band) for band in _bands(match["bands"], bands)]
    return tuple(out)


@dataclass(frozen=True)
class FormDefinition:
    """``params/s71/form.yaml``: every row and cell of the form with its year, and the arithmetic."""

    report: str
    title: str
    report_codes: tuple[str, ...]
    columns: dict[str, tuple[str, str]]  # letter -> (label, kind)
    bands: dict[str, str]  # band ('' = none) -> label
    rows: tuple[RowDef, ...]
    totals: tuple[dict, ...]
    limits: tuple[dict, ...]
    tolerance: dict[str, float]
    absent_parts_are_zero: bool = True
    path: str = ""
    #: columns whose cells may be negative (``signed: true``: a change since the start of the year);
    #: every other cell is a balance, a count or a year-to-date sum, and a negative one is refused
    signed_columns: frozenset[str] = frozenset()

    def cells_in(self, version: int) -> FormCells:
        """The cells in force in form version ``version``: those defined in its year or before (and
        not retired), and every total that follows from them by :attr:`totals`."""
        rows = tuple(r for r in self.rows if r.in_force(version))
        cells: dict[str, CellDef] = {}
        for r in rows:
            for col, band in r.cells:
                code = cell_code(r.row, col, band)
                cells[code] = CellDef(code, r.row, col, band, r.year, self.columns[col][1], inferred=r.inferred)
        row_codes = list(dict.fromkeys(r.row for r in self.rows))
        formulas: list[Formula] = []
        seen: set[tuple[str, tuple[str, ...]]] = set()
        while True:  # add the totals whose parts are all known, until none is new
            known = dict(cells)
            new = []
            for rule in self.totals:
                for target, parts in _candidates(rule, row_codes, list(self.columns), list(self.bands)):
                    if (target, parts) in seen or target in parts or not all(p in known for p in parts):
                        continue
                    seen.add((target, parts))
                    new.append(Formula(target, parts, rule["name"]))
            if not new:
                break
            for f in new:
                formulas.append(f)
                if f.target not in cells:
                    item = parse_item(f.target)
                    assert item is not None
                    year = max(cells[p].year for p in f.parts)
                    cells[f.target] = CellDef(
                        f.target, item.row, item.column, item.band, year, self.columns[item.column][1], derived=True
                    )
        limits = []
        for rule in self.limits:
            for part, whole in _limit_candidates(rule, row_codes, list(self.columns), list(self.bands)):
                if part in cells and whole in cells and ("year" not in rule or cells[part].year == int(rule["year"])):
                    limits.append(Limit(part, whole, rule["name"]))
        return FormCells(
            version, cells, tuple(formulas), tuple(limits), rows, dict(self.tolerance), self.absent_parts_are_zero
        )


def _columns_of(rule: dict, columns: list[str]) -> list[str]:
    return _letters(str(rule["columns"]), columns) if "columns" in rule else columns


def _band_key(value) -> str:
    return NO_BAND if str(value) == "none" else str(value)


def _candidates(rule: dict, rows: list[str], columns: list[str], bands: list[str]):
    cols = _columns_of(rule, columns)
    if "row" in rule:
        for col in cols:
            for band in bands:
                yield (
                    cell_code(rule["row"], col, band),
                    tuple(cell_code(p, col, band) for p in rule["parts"]),
                )
    else:
        band = _band_key(rule["band"])
        for row in rows:
            for col in cols:
                yield cell_code(row, col, band), tuple(cell_code(row, col, _band_key(p)) for p in rule["parts"])


def _limit_candidates(rule: dict, rows: list[str], columns: list[str], bands: list[str]):
    cols = _columns_of(rule, columns)
    if "row" in rule:
        for col in cols:
            for band in bands:
                yield cell_code(rule["row"], col, band), cell_code(rule["within"], col, band)
    else:
        for row in rows:
            for col in cols:
                yield (
                    cell_code(row, col, _band_key(rule["band"])),
                    cell_code(row, col, _band_key(rule["within_band"])),
                )


def load_form_definition(params_dir: Path | str) -> FormDefinition:
    """``params/s71/form.yaml``; ParamsError naming the key when it is not valid."""
    path = Path(params_dir) / "s71" / "form.yaml"
    if not path.exists():
        raise ParamsError(str(path), ["file not found"])
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = [
        f"missing key {k!r}" for k in ("report", "columns", "bands", "rows", "totals", "limits") if k not in data
    ]
    if problems:
        raise ParamsError(str(path), problems)
    columns = {str(k): (str(v["label"]), str(v["kind"])) for k, v in data["columns"].items()}
    for letter, (_, kind) in columns.items():
        if kind not in ("amount", "count"):
            problems.append(f"columns.{letter}: kind must be amount or count, not {kind!r}")
    signed = frozenset(str(k) for k, v in data["columns"].items() if bool((v or {}).get("signed", False)))
    bands = {_band_key(k): str(v) for k, v in data["bands"].items()}
    rows = []
    for code, definitions in (data["rows"] or {}).items():
        for i, d in enumerate(definitions or []):
            where = f"rows.{code}[{i}]"
            try:
                cells = parse_cells(d.get("cells", ""), list(columns), list(bands))
                rows.append(
                    RowDef(
                        str(code),
                        int(d["year"]),
                        str(d["name"]),
                        cells,
                        int(d["until"]) if d.get("until") is not None else None,
                        bool(d.get("inferred", False)),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                problems.append(f"{where}: {exc}")
    for i, rule in enumerate(data["totals"] or []):
        if "name" not in rule or "parts" not in rule or ("row" in rule) == ("band" in rule):
            problems.append(f"totals[{i}]: needs name, parts and one of row / band")
    for i, rule in enumerate(data["limits"] or []):
        if "name" not in rule or not (
            ("row" in rule and "within" in rule) or ("band" in rule and "within_band" in rule)
        ):
            problems.append(f"limits[{i}]: needs name and row + within, or band + within_band")
    # one cell code may carry one year at a time: two definitions in force together must not share a cell
    for a in rows:
        for b in rows:
            if a is not b and a.row == b.row and a.year < b.year and (a.until is None or a.until >= b.year):
                clash = set(a.cells) & set(b.cells)
                if clash:
                    col, band = sorted(clash)[0]
                    problems.append(
                        f"rows.{a.row}: cell {cell_code(a.row, col, band)} defined in {a.year} and {b.year}, both in force"
                    )
    if problems:
        raise ParamsError(str(path), problems)
    tolerance = {k: float(v) for k, v in (data.get("tolerance") or {"amount_per_cell": 0.005, "count": 0}).items()}
    return FormDefinition(
        report=str(data["report"]),
        title=str(data.get("title", "")),
        report_codes=tuple(str(c) for c in data.get("report_codes", [data["report"]])),
        columns=columns,
        bands=bands,
        rows=tuple(rows),
        totals=tuple(data["totals"] or []),
        limits=tuple(data["limits"] or []),
        tolerance=tolerance,
        absent_parts_are_zero=bool(data.get("absent_parts_are_zero", True)),
        path=str(path),
        signed_columns=signed,
    )


# --- deriving and checking a return's totals ------------------------------------------------------


def locate(file: str, sheet: str, location: str, column: str | None, detail: str, rule: str) -> Issue:
    """An Issue at a cell of a return: file[sheet], the row and cell read from ``location``."""
    where = f"{file}[{sheet}]" if sheet else file
    line = re.search(r"row (\d+)", location or "")
    cell = re.search(r"cell ([A-Z]+)(\d+)", location or "")
    col = f"{cell.group(1)}{cell.group(2)} ({column})" if cell else column
    row = int(line.group(1)) if line else int(cell.group(2)) if cell else None  # a form cell's row
    return Issue(where, row, col, rule, detail)


def _tolerance(kind: str, n_parts: int, tol: dict[str, float]) -> float:
    if kind == "count":
        return float(tol.get("count", 0.0))
    return float(tol.get("amount_per_cell", 0.005)) * (n_parts + 1)


def complete_cells(
    cells: pd.DataFrame, forms: dict[int, FormCells], decimals: int = 2
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Derive the totals a return leaves out and check those it writes.

    ``cells``: the importer's checked cells (institution_id, period, version, cell, value_wan, item,
    file, sheet, location, unit, unit_basis, org_num). Returns the cells with every derivable total
    added (``derived`` True, ``item`` empty, ``location`` the formula with its parts' locations),
    and the table-check findings (:data:`CHECK_COLUMNS`): a written total that differs from the sum
    of its parts, a part above its whole. A part missing from a row the return writes counts as 0
    for a derivation (``absent_parts_are_zero``), but only figures that are written, or derived from
    written parts alone, are checked.
    """
    cells = cells.assign(derived=False)
    added, findings = [], []
    for version, form in forms.items():
        mine = cells[cells["version"] == version]
        if not mine.empty:
            more, found = _complete_version(mine, form, decimals)
            added += more
            findings += found
    out = pd.concat([cells, *added], ignore_index=True) if added else cells
    checks = pd.DataFrame(findings, columns=CHECK_COLUMNS)
    if not checks.empty:
        checks = checks.sort_values(["institution_id", "period", "rule", "cell"]).reset_index(drop=True)
    return out, checks


def _complete_version(mine: pd.DataFrame, form: FormCells, decimals: int) -> tuple[list[pd.DataFrame], list[dict]]:
    """:func:`complete_cells` for the cells of one form version: numpy arrays, one column per cell."""
    key = ["institution_id", "period"]
    every = list(form.cells)
    col = {c: i for i, c in enumerate(every)}
    index = pd.MultiIndex.from_frame(mine[key].drop_duplicates())
    r = index.get_indexer(pd.MultiIndex.from_frame(mine[key]))
    c = mine["cell"].map(col).to_numpy()
    n = len(index)
    value = np.full((n, len(every)), np.nan)
    value[r, c] = mine["value_wan"].to_numpy(dtype=float)
    where = np.full((n, len(every)), "", dtype=object)
    where[r, c] = mine["location"].astype(str).to_numpy()
    file = np.full((n, len(every)), None, dtype=object)
    file[r, c] = mine["file"].to_numpy()
    sheet = np.full((n, len(every)), None, dtype=object)
    sheet[r, c] = mine["sheet"].to_numpy()
    written = ~np.isnan(value)
    # exact: written, or derived from exact parts only (no part taken as 0); only exact figures
    # are checked, so a return that leaves cells out is never accused of a difference
    exact = written.copy()
    # which rows each institution-month writes at all (a part of a written row may be absent = 0)
    row_codes = sorted({d.row for d in form.cells.values()})
    row_of = {code: i for i, code in enumerate(row_codes)}
    row_written = np.zeros((n, len(row_codes)), dtype=bool)
    row_written[r, mine["cell"].map(lambda x: row_of[form.cells[x].row]).to_numpy()] = True
    first = mine.drop_duplicates(key).set_index(key).loc[index, ["unit", "unit_basis", "org_num"]]
    derived = np.zeros_like(written)
    formula = np.full((n, len(every)), "", dtype=object)  # the derivation of a derived cell, in brief
    findings: list[dict] = []

    def trail(i, parts: tuple[str, ...]) -> str:
        return " + ".join(
            f"{p}〔{where[i, col[p]] if not np.isnan(value[i, col[p]]) else '未报送，按0计/not written: 0'}〕"
            for p in parts
        )

    for f in form.formulas:
        t, ps = col[f.target], [col[p] for p in f.parts]
        parts = value[:, ps]
        known = ~np.isnan(parts)
        if form.absent_parts_are_zero:  # a cell missing from a row the return writes is 0
            known |= row_written[:, [row_of[form.cells[p].row] for p in f.parts]]
        available = known.all(axis=1)
        if not available.any():
            continue
        total = np.round(np.nansum(parts, axis=1), decimals)
        parts_exact = exact[:, ps].all(axis=1)
        kind = form.cells[f.target].kind
        tol = _tolerance(kind, len(f.parts), form.tolerance)
        check = parts_exact & written[:, t]
        diff = np.round(value[:, t] - total, decimals)
        for i in np.flatnonzero(check & (np.abs(np.nan_to_num(diff)) > tol + 1e-9)):
            findings.append(
                _finding(index[i], CHECK_TOTAL, f.name, f.target, value[i, t], total[i], diff[i], tol)
                | {
                    "file": file[i, t],
                    "sheet": sheet[i, t],
                    "location": where[i, t],
                    "detail": f"{f.name}: {f.target} 报送/written {value[i, t]:,.2f} ≠ {' + '.join(f.parts)} = "
                    f"{total[i]:,.2f}（差/difference {diff[i]:+,.2f}）← {trail(i, f.parts)}",
                }
            )
        fill = available & np.isnan(value[:, t])
        for i in np.flatnonzero(fill):
            where[i, t] = "推算/derived = " + trail(i, f.parts)
            src = next((p for p in ps if file[i, p] is not None), ps[0])
            file[i, t], sheet[i, t] = file[i, src], sheet[i, src]
        value[fill, t] = total[fill]
        formula[fill, t] = f"推算/derived = {' + '.join(f.parts)}"
        exact[fill, t] = parts_exact[fill]
        derived[fill, t] = True
    for lim in form.limits:
        p, w = col[lim.part], col[lim.whole]
        tol = _tolerance(form.cells[lim.part].kind, 1, form.tolerance)
        over = exact[:, p] & exact[:, w] & (np.nan_to_num(value[:, p] - value[:, w]) > tol + 1e-9)
        for i in np.flatnonzero(over):
            a, b = value[i, p], value[i, w]
            findings.append(
                _finding(index[i], CHECK_LIMIT, lim.name, lim.part, a, b, round(a - b, decimals), tol)
                | {
                    "file": file[i, p],
                    "sheet": sheet[i, p],
                    "location": where[i, p],
                    "detail": f"{lim.name}: {lim.part} {a:,.2f} > {lim.whole} {b:,.2f}〔{where[i, w]}〕",
                }
            )
    rows, cols = np.nonzero(derived)
    if not len(rows):
        return [], findings
    meta = first.iloc[rows]
    frame = pd.DataFrame(
        {
            "institution_id": index.get_level_values(0)[rows],
            "period": index.get_level_values(1)[rows],
            "version": form.version,
            "cell": np.array(every, dtype=object)[cols],
            "value": value[rows, cols],
            "value_wan": value[rows, cols],
            "item": "",
            "file": file[rows, cols],
            "sheet": sheet[rows, cols],
            "location": where[rows, cols],
            "unit": meta["unit"].to_numpy(),
            "unit_basis": meta["unit_basis"].to_numpy(),
            "org_num": meta["org_num"].to_numpy(),
            "derived": True,
            "formula": formula[rows, cols],
        }
    )
    frame["year"] = pd.array([form.cells[x].year for x in frame["cell"]], dtype="Int64")
    return [frame], findings


def _finding(idx, rule, name, cell, value, expected, difference, tol) -> dict:
    return {
        "institution_id": idx[0],
        "period": idx[1],
        "rule": rule,
        "check": name,
        "cell": cell,
        "value": float(value),
        "expected": float(expected),
        "difference": float(difference),
        "tolerance": tol,
    }


def check_issues(checks: pd.DataFrame) -> list[Issue]:
    """The table-check findings as located Issues (for the command line's 提示 list)."""
    return [
        locate(
            str(r.file),
            str(r.sheet or ""),
            str(r.location or ""),
            r.cell,
            f"{r.institution_id} {r.period:%Y-%m}: {r.detail}",
            r.rule,
        )
        for r in checks.itertuples(index=False)
    ]


def derivation_hint(form: FormCells, cell: str, present: set[str]) -> str:
    """Why a needed cell could not be derived: its formulas and which of their parts are missing."""
    hints = []
    for f in form.formulas_of(cell):
        missing = [p for p in f.parts if p not in present]
        if missing:
            hints.append(f"{cell} = {' + '.join(f.parts)}：缺/missing {', '.join(missing)}")
    return "；".join(hints)


__all__ = [
    "CHECK_COLUMNS",
    "CellDef",
    "FormCells",
    "FormDefinition",
    "Formula",
    "ItemCode",
    "Limit",
    "cell_code",
    "column_of",
    "check_issues",
    "complete_cells",
    "derivation_hint",
    "load_form_definition",
    "mart_spelling",
    "parse_cells",
    "parse_item",
]
