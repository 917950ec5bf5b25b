"""S71 intake (S71 导入): the returns banks file, read as the reporting system exports them.

Two shapes are read:

* the **cell-code long format** of banks' reporting marts: one row per cell, columns
  ``DATA_DATE, ORG_NUM, REP_NUM, ITEM_NUM, TOTAL_VALUE`` (or 数据日期/机构编码/报表编号/项目编码/数值),
  item codes ``<row>.<column><band>`` such as ``6.A5`` (``S71_I_6..A5.2018`` is accepted too);
* the **form layout**: one Excel sheet per institution and month as a person sees the form —
  title rows (机构编码, 数据日期, 单位), merged two-level headers (column letter A–F over the credit
  bands), item numbers and names down the left.

Which cell feeds which column of the monitoring table (月度监测) is stated per form version in
``params/s71/form-YYYY.yaml`` (chosen by the return's data date), never in code. The figures S71
does not carry come from the tidy monitoring table; a figure given by both must agree. Amounts are
converted once to 万元, and every figure written keeps a provenance record (file, sheet, cell or
row, item code, unit) so that a report's number can be traced to the bank's return.

Every problem is collected and raised together (:class:`~analysis.errors.DataValidationError`);
nothing is written when there is one.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis.contract import MONTHLY
from analysis.errors import RULES, DataValidationError, Issue, ParamsError
from analysis.files import replace_folder

#: Rules of the S71 importer live with every other rule in :data:`analysis.errors.RULES`.
S71_RULES: dict[str, tuple[str, str]] = {k: v for k, v in RULES.items() if k.startswith("s71_")}

#: 万元 per unit: values are multiplied by this to give 万元.
UNIT_TO_WAN: dict[str, float] = {"元": 1e-4, "万元": 1.0, "亿元": 1e4}

_ITEM = re.compile(
    r"^\s*(?:S71(?:_I)?_)?(?P<row>\d+(?:\.(?:\d+|[a-z]))*)\.{1,2}(?P<col>[A-Z])(?P<band>\d)(?:\.(?P<ver>\d{4}))?\s*$"
)
_UNIT_LINE = re.compile(r"单位\s*[:：]\s*(?P<unit>[^\s、,，;；)）]+)")
_ORG_LINE = re.compile(r"(?:机构编码|机构代码|报送机构代码)\s*[:：]\s*(?P<org>[0-9A-Za-z_\-]+)")
_DATE_LINE = re.compile(
    r"(?:数据日期|报表日期|报告期)\s*[:：]\s*(?P<date>\d{4}\s*[-/.年]?\s*\d{1,2}\s*[-/.月]?\s*(?:\d{1,2}\s*日?)?)"
)
_HEADER_LETTER = re.compile(r"^\s*(?P<letter>[A-Z])(?:\s|[.、．:：]|$)")
_HEADER_BAND = re.compile(r"^\s*(?P<band>\d)(?:\s|[.、．:：]|$)")


def params_root() -> Path:
    """The project's params folder (``params/`` beside ``src/``)."""
    return Path(__file__).resolve().parents[2] / "params"


# --- form versions (params/s71/form-YYYY.yaml) ------------------------------------------------


@dataclass(frozen=True)
class FormVersion:
    """One version of the S71 form: its cells and the mapping to the monitoring table."""

    version: int
    valid_from: pd.Timestamp
    report: str
    title: str
    report_codes: tuple[str, ...]
    columns: dict[str, tuple[str, str]]  # letter -> (label, kind)
    bands: dict[str, str]
    rows: dict[str, str]
    #: monitoring column -> ((sign, cell), ...)
    mapping: dict[str, tuple[tuple[int, str], ...]]
    plausibility: dict
    path: str = ""

    def has_cell(self, cell: str) -> bool:
        match = _ITEM.match(cell)
        return (
            match is not None
            and match["row"] in self.rows
            and match["col"] in self.columns
            and match["band"] in self.bands
        )

    @property
    def needed_cells(self) -> tuple[str, ...]:
        cells = {c for terms in self.mapping.values() for _, c in terms}
        cells |= {self.plausibility["balance"], self.plausibility["borrowers"]}
        return tuple(sorted(cells))

    def column_kind(self, cell: str) -> str:
        match = _ITEM.match(cell)
        if match is None:
            raise KeyError(cell)
        return self.columns[match["col"]][1]


def _all_cells(form: FormVersion) -> list[str]:
    return [f"{r}.{c}{b}" for r in form.rows for c in form.columns for b in form.bands]


def _parse_expression(text: str) -> tuple[tuple[int, str], ...]:
    terms = []
    for sign, cell in re.findall(r"([+-]?)\s*([0-9][0-9a-z.]*\.[A-Z]\d)", str(text)):
        terms.append((-1 if sign == "-" else 1, cell))
    return tuple(terms)


def _month_start(value) -> pd.Timestamp:
    return pd.Timestamp(str(value)[:7] + "-01")


def load_form_versions(params_dir: Path | str | None = None) -> list[FormVersion]:
    """Every ``form-YYYY.yaml`` of ``params/s71``, oldest first; ParamsError when one is invalid."""
    folder = Path(params_dir or params_root()) / "s71"
    versions = []
    monthly_columns = {c.name for c in MONTHLY.columns}
    for path in sorted(folder.glob("form-*.yaml")):
        problems: list[str] = []
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("version", "valid_from", "report", "columns", "bands", "rows", "mapping", "plausibility"):
            if key not in data:
                problems.append(f"missing key {key!r}")
        if problems:
            raise ParamsError(str(path), problems)
        columns = {str(k): (v["label"], v["kind"]) for k, v in data["columns"].items()}
        for letter, (_, kind) in columns.items():
            if kind not in ("amount", "count"):
                problems.append(f"column {letter}: kind must be amount or count, not {kind!r}")
        form = FormVersion(
            version=int(data["version"]),
            valid_from=_month_start(data["valid_from"]),
            report=str(data["report"]),
            title=str(data.get("title", "")),
            report_codes=tuple(str(c) for c in data.get("report_codes", [data["report"]])),
            columns=columns,
            bands={str(k): str(v) for k, v in data["bands"].items()},
            rows={str(k): str(v) for k, v in data["rows"].items()},
            mapping={str(k): _parse_expression(v) for k, v in data["mapping"].items()},
            plausibility=dict(data["plausibility"]),
            path=str(path),
        )
        for column, terms in form.mapping.items():
            if column not in monthly_columns:
                problems.append(f"mapping: {column!r} is not a column of the monitoring table (月度监测)")
            if not terms:
                problems.append(f"mapping: {column!r} has no cell")
            for _, cell in terms:
                if not form.has_cell(cell):
                    problems.append(f"mapping: {column!r} uses {cell!r}, not a cell of this form")
        for key in ("balance", "borrowers"):
            if not form.has_cell(str(form.plausibility.get(key, ""))):
                problems.append(f"plausibility.{key} is not a cell of this form")
        if problems:
            raise ParamsError(str(path), problems)
        versions.append(form)
    if not versions:
        raise ParamsError(str(folder), ["no form-YYYY.yaml found"])
    return sorted(versions, key=lambda f: f.valid_from)


def form_for(versions: list[FormVersion], period: pd.Timestamp) -> FormVersion | None:
    """The latest version whose ``valid_from`` is not after the data date."""
    chosen = None
    for form in versions:
        if form.valid_from <= period:
            chosen = form
    return chosen


@dataclass(frozen=True)
class ImportSettings:
    long_headers: dict[str, tuple[str, ...]]
    default_unit: dict[str, str]
    amount_decimals: int
    conflict_tolerance: dict[str, float]
    org_map: dict


def load_import_settings(params_dir: Path | str | None = None) -> ImportSettings:
    path = Path(params_dir or params_root()) / "s71" / "import.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    problems = [
        f"missing key {k!r}"
        for k in ("long_headers", "default_unit", "amount_decimals", "conflict_tolerance", "org_map")
        if k not in data
    ]
    if not problems:
        for shape, unit in data["default_unit"].items():
            if unit not in UNIT_TO_WAN:
                problems.append(f"default_unit.{shape}: {unit!r} is not one of {list(UNIT_TO_WAN)}")
    if problems:
        raise ParamsError(str(path), problems)
    return ImportSettings(
        long_headers={k: tuple(str(x) for x in v) for k, v in data["long_headers"].items()},
        default_unit=dict(data["default_unit"]),
        amount_decimals=int(data["amount_decimals"]),
        conflict_tolerance={k: float(v) for k, v in data["conflict_tolerance"].items()},
        org_map=dict(data["org_map"]),
    )


# --- reading cells ----------------------------------------------------------------------------

#: columns of the cell table every reader produces
CELL_COLUMNS = ["org_num", "period", "item", "cell", "value", "unit", "unit_basis", "file", "sheet", "location"]


def normalise_item(code: str) -> str | None:
    """``6.A5`` for ``6.A5``, ``6..A5``, ``S71_I_6..A5.2018``; None when not a cell code."""
    match = _ITEM.match(str(code))
    if not match:
        return None
    return f"{match['row']}.{match['col']}{match['band']}"


def parse_period(value) -> tuple[pd.Timestamp | None, str | None]:
    """Month-end of a data date (20230630, 2023-06-30, 2023-06, 2023年6月30日); else the rule broken."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, "invalid_period"
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "year"):
        stamp = pd.Timestamp(value)
    else:
        text = str(value).strip()
        if re.fullmatch(r"\d+\.0", text):
            text = text[:-2]
        digits = re.findall(r"\d+", text)
        try:
            if len(digits) == 1 and len(digits[0]) == 8:
                stamp = pd.Timestamp(year=int(digits[0][:4]), month=int(digits[0][4:6]), day=int(digits[0][6:]))
            elif len(digits) == 1 and len(digits[0]) == 6:
                stamp = pd.Timestamp(year=int(digits[0][:4]), month=int(digits[0][4:]), day=1) + pd.offsets.MonthEnd(0)
            elif len(digits) == 3:
                stamp = pd.Timestamp(year=int(digits[0]), month=int(digits[1]), day=int(digits[2]))
            elif len(digits) == 2:
                stamp = pd.Timestamp(year=int(digits[0]), month=int(digits[1]), day=1) + pd.offsets.MonthEnd(0)
            else:
                return None, "invalid_period"
        except ValueError:
            return None, "invalid_period"
    if not stamp.is_month_end:
        return None, "period_not_month_end"
    return stamp.normalize(), None


def _to_float(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return None if np.isnan(float(value)) else float(value)
    text = str(value).replace(",", "").replace("，", "").strip()
    if text in ("", "-", "—", "--"):
        return None
    try:
        return float(text)
    except ValueError:
        return np.nan


def _read_text_table(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path).astype(object)
    if path.suffix.lower() == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(path, dtype=object, encoding=encoding, keep_default_na=False)
            except UnicodeDecodeError:
                continue
        raise ValueError("neither UTF-8 nor GB18030 / 编码无法识别")
    return pd.read_excel(path, sheet_name=0, dtype=object, engine="openpyxl")


def _match_headers(columns, wanted: dict[str, tuple[str, ...]]) -> dict[str, str]:
    norm = {re.sub(r"\s+", "", str(c)).upper(): c for c in columns}
    found = {}
    for key, spellings in wanted.items():
        for spelling in spellings:
            hit = norm.get(re.sub(r"\s+", "", spelling).upper())
            if hit is not None:
                found[key] = hit
                break
    return found


def read_long(
    path: Path,
    settings: ImportSettings,
    versions: list[FormVersion],
    unit: str | None,
    issues: list[Issue],
    frame: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cells of a long-format return (CSV, XLSX or Parquet)."""
    name = path.name
    if frame is None:
        try:
            frame = _read_text_table(path)
        except Exception as exc:  # noqa: BLE001 — corrupt or not a table at all
            issues.append(Issue(name, None, None, "file_unreadable", str(exc)[:200]))
            return pd.DataFrame(columns=CELL_COLUMNS)
    header_row = 1 if path.suffix.lower() in (".csv", ".xlsx") else 0
    found = _match_headers(frame.columns, settings.long_headers)
    missing = [k for k in settings.long_headers if k not in found]
    if missing:
        for key in missing:
            issues.append(
                Issue(
                    name,
                    None,
                    "/".join(settings.long_headers[key][:2]),
                    "missing_column",
                    f"表头/headers found: {', '.join(map(str, frame.columns[:8]))}",
                )
            )
        return pd.DataFrame(columns=CELL_COLUMNS)
    data = frame.rename(columns={v: k for k, v in found.items()})[list(settings.long_headers)]
    line = np.arange(len(data)) + header_row + 1
    codes = {c.upper() for f in versions for c in f.report_codes}
    is_s71 = data["rep_num"].map(lambda v: str(v).strip().upper() in codes)
    if not is_s71.any():
        issues.append(
            Issue(
                name,
                None,
                found["rep_num"],
                "s71_wrong_report",
                f"报表编号/report numbers: {sorted(set(map(str, data['rep_num'])))[:5]}",
            )
        )
        return pd.DataFrame(columns=CELL_COLUMNS)
    data, line = data[is_s71.to_numpy()], line[is_s71.to_numpy()]
    declared = unit or settings.default_unit["long"]
    basis = "declared/声明" if unit else "default/默认"
    rows = []
    for (date, org, item, value), ln in zip(
        data[["data_date", "org_num", "item_num", "value"]].itertuples(index=False, name=None), line
    ):
        period, rule = parse_period(date)
        if rule:
            issues.append(Issue(name, int(ln), found["data_date"], rule, f"值/value: {date!r}"))
            continue
        org_text = _id_text(org)
        if not org_text:
            issues.append(Issue(name, int(ln), found["org_num"], "empty_id"))
            continue
        cell = normalise_item(item)
        number = _to_float(value)
        if number is not None and np.isnan(number):
            issues.append(Issue(name, int(ln), found["value"], "not_a_number", f"{item}: {value!r}"))
            continue
        rows.append(
            (org_text, period, str(item).strip(), cell, number, declared, basis, name, "", f"第{ln}行/row {ln}")
        )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _id_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sheet_grid(ws) -> list[list]:
    grid = [list(r) for r in ws.iter_rows(values_only=True)]
    width = max((len(r) for r in grid), default=0)
    grid = [r + [None] * (width - len(r)) for r in grid]
    for merged in ws.merged_cells.ranges:  # a merged header's text belongs to every cell under it
        top = grid[merged.min_row - 1][merged.min_col - 1]
        for r in range(merged.min_row, merged.max_row + 1):
            for c in range(merged.min_col, merged.max_col + 1):
                grid[r - 1][c - 1] = top
    return grid


def read_form_sheet(
    ws, file_name: str, settings: ImportSettings, versions: list[FormVersion], unit: str | None, issues: list[Issue]
) -> pd.DataFrame:
    """Cells of one form-layout sheet (one institution, one month)."""
    from openpyxl.utils import get_column_letter

    where = f"{file_name}[{ws.title}]"
    grid = _sheet_grid(ws)
    letters_all = {k for f in versions for k in f.columns}
    header = None
    for r, row in enumerate(grid[:30]):
        letters = {
            m["letter"]
            for v in row
            if isinstance(v, str) and (m := _HEADER_LETTER.match(v)) and m["letter"] in letters_all
        }
        if len(letters) >= 3:
            header = r
            break
    title_text = " ".join(str(v) for row in grid[: header if header is not None else 10] for v in row if v)
    org = _ORG_LINE.search(title_text)
    date = _DATE_LINE.search(title_text)
    if header is None or org is None or date is None or header + 1 >= len(grid):
        missing = [
            n
            for n, ok in (
                ("表头/header A–F", header is not None),
                ("机构编码", org is not None),
                ("数据日期", date is not None),
            )
            if not ok
        ]
        issues.append(Issue(where, None, None, "s71_layout", "未找到/not found: " + "、".join(missing)))
        return pd.DataFrame(columns=CELL_COLUMNS)
    period, rule = parse_period(date["date"])
    if rule:
        issues.append(Issue(where, None, "数据日期", rule, date["date"]))
        return pd.DataFrame(columns=CELL_COLUMNS)
    form = form_for(versions, period)
    found_unit = _UNIT_LINE.search(title_text)
    if found_unit:
        stated = found_unit["unit"]
        stated = next((u for u in sorted(UNIT_TO_WAN, key=len, reverse=True) if stated.startswith(u)), stated)
        if stated not in UNIT_TO_WAN:
            issues.append(Issue(where, None, "单位", "s71_unknown_unit", found_unit.group(0)))
            return pd.DataFrame(columns=CELL_COLUMNS)
        if unit and unit != stated:
            issues.append(
                Issue(where, None, "单位", "s71_unit_conflict", f"表内/in form: {stated}; 声明/declared: {unit}")
            )
            return pd.DataFrame(columns=CELL_COLUMNS)
        declared, basis = stated, f"form title/表内：{found_unit.group(0)}"
    else:
        declared = unit or settings.default_unit["form"]
        basis = "declared/声明" if unit else "default/默认"
    band_labels = {}
    for f in versions if form is None else [form]:
        band_labels.update({label: band for band, label in f.bands.items()})
    top, second = grid[header], grid[header + 1]
    columns: dict[int, tuple[str, str]] = {}
    item_col = None
    for c, (v1, v2) in enumerate(zip(top, second)):
        if isinstance(v1, str) and ("编号" in v1 or "序号" in v1) and item_col is None:
            item_col = c
        m1 = _HEADER_LETTER.match(v1) if isinstance(v1, str) else None
        if not m1 or m1["letter"] not in letters_all:
            continue
        band = None
        if isinstance(v2, (int, float)) and not isinstance(v2, bool):
            band = str(int(v2))
        elif isinstance(v2, str):
            m2 = _HEADER_BAND.match(v2)
            band = m2["band"] if m2 else band_labels.get(v2.strip())
        if band is None:
            issues.append(
                Issue(
                    where,
                    header + 2,
                    get_column_letter(c + 1),
                    "s71_layout",
                    f"分档表头无法识别/band header not recognised: {v2!r}",
                )
            )
            continue
        columns[c] = (m1["letter"], band)
    item_col = 0 if item_col is None else item_col
    rows = []
    for r in range(header + 2, len(grid)):
        raw_item = grid[r][item_col]
        if raw_item is None or str(raw_item).strip() == "":
            continue
        item = str(raw_item).strip()
        if isinstance(raw_item, float) and raw_item.is_integer():
            item = str(int(raw_item))
        if not re.fullmatch(r"\d+(?:\.(?:\d+|[a-z]))*", item):
            continue  # notes under the form (填报说明, 负责人 …)
        for c, (letter, band) in columns.items():
            value = grid[r][c]
            number = _to_float(value)
            ref = f"{get_column_letter(c + 1)}{r + 1}"
            code = f"{item}.{letter}{band}"
            if number is None:
                continue
            if np.isnan(number):
                issues.append(Issue(where, r + 1, ref, "not_a_number", f"{code}: {value!r}"))
                continue
            rows.append(
                (org["org"], period, code, code, number, declared, basis, file_name, ws.title, f"单元格/cell {ref}")
            )
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _is_long_workbook(path: Path, settings: ImportSettings) -> bool:
    head = pd.read_excel(path, sheet_name=0, nrows=0, engine="openpyxl")
    found = _match_headers(head.columns, settings.long_headers)
    return "item_num" in found and "value" in found


def read_sources(
    sources: list[Path], settings: ImportSettings, versions: list[FormVersion], unit: str | None, issues: list[Issue]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Cells of every S71 file under ``sources`` (files or folders); and SHA-256 per file."""
    from openpyxl import load_workbook

    from analysis.loading import file_sha256

    files: list[Path] = []
    for source in sources:
        source = Path(source)
        if source.is_dir():
            files += sorted(
                p
                for p in source.rglob("*")
                if p.suffix.lower() in (".csv", ".xlsx", ".parquet") and not p.name.startswith(("~$", "."))
            )
        elif source.exists():
            files.append(source)
        else:
            issues.append(Issue(str(source), None, None, "file_unreadable", "路径不存在 / path does not exist"))
    frames, hashes = [], {}
    for path in files:
        hashes[path.name] = file_sha256(path)
        if path.suffix.lower() != ".xlsx":
            frames.append(read_long(path, settings, versions, unit, issues))
            continue
        try:
            if _is_long_workbook(path, settings):
                frames.append(read_long(path, settings, versions, unit, issues))
                continue
            workbook = load_workbook(path, data_only=True)
        except Exception as exc:  # noqa: BLE001 — a corrupt workbook
            issues.append(Issue(path.name, None, None, "file_unreadable", str(exc)[:200]))
            continue
        for ws in workbook.worksheets:
            frames.append(read_form_sheet(ws, path.name, settings, versions, unit, issues))
    frames = [f for f in frames if not f.empty]
    cells = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CELL_COLUMNS)
    return cells, hashes


# --- checking and converting cells ------------------------------------------------------------


def _issue_at(row, rule: str, column: str | None, detail: str) -> Issue:
    file = f"{row.file}[{row.sheet}]" if row.sheet else row.file
    line = re.search(r"row (\d+)", row.location)
    cell = re.search(r"cell (\w+)", row.location)
    return Issue(
        file, int(line.group(1)) if line else None, f"{cell.group(1)} ({column})" if cell else column, rule, detail
    )


def check_cells(
    cells: pd.DataFrame,
    versions: list[FormVersion],
    org_to_id: dict[str, str],
    known_ids: set[str] | None,
    settings: ImportSettings,
    issues: list[Issue],
) -> pd.DataFrame:
    """Resolve institutions and versions, refuse unknown/duplicate/missing cells, convert units.

    Returns the cells with ``institution_id``, ``version`` and ``value_wan`` (amounts in 万元,
    counts in 户) added.
    """
    if cells.empty:
        return cells.assign(institution_id=[], version=[], value_wan=[])
    cells = cells.copy()
    cells["institution_id"] = cells["org_num"].map(lambda o: org_to_id.get(o, o))
    periods = {p: form_for(versions, p) for p in cells["period"].unique()}
    versions_of = {p: (f.version if f is not None else None) for p, f in periods.items()}
    cells["version"] = cells["period"].map(versions_of)
    by_version = {f.version: f for f in versions}
    valid = {(f.version, c) for f in versions for c in _all_cells(f)}
    unknown_inst = (
        (~cells["institution_id"].isin(known_ids)) if known_ids is not None else pd.Series(False, index=cells.index)
    )
    no_version = ~unknown_inst & cells["version"].isna()
    unknown_item = (
        ~unknown_inst
        & ~no_version
        & ~pd.Series([(v, c) in valid for v, c in zip(cells["version"], cells["cell"])], index=cells.index)
    )
    bad_unit = ~unknown_inst & ~no_version & ~unknown_item & ~cells["unit"].isin(list(UNIT_TO_WAN))
    for row in cells[unknown_inst].itertuples(index=False):
        issues.append(_issue_at(row, "unknown_institution", "ORG_NUM", f"{row.org_num} → {row.institution_id}"))
    for row in cells[no_version].itertuples(index=False):
        issues.append(_issue_at(row, "s71_no_form_version", row.item, str(row.period.date())))
    for row in cells[unknown_item].itertuples(index=False):
        issues.append(
            _issue_at(
                row, "s71_unknown_item", row.item, f"{row.item}（{row.period.date()} 适用/uses form-{row.version}）"
            )
        )
    for row in cells[bad_unit].itertuples(index=False):
        issues.append(_issue_at(row, "s71_unknown_unit", row.item, str(row.unit)))
    keep = ~(unknown_inst | no_version | unknown_item | bad_unit).to_numpy()
    cells = cells[keep].reset_index(drop=True)
    if cells.empty:
        return cells.assign(value_wan=pd.Series(dtype=float))
    key = ["institution_id", "period", "cell"]
    dup = cells.duplicated(key, keep="first")
    if dup.any():
        first = cells[~dup].set_index(key)["location"]
        for row in cells[dup].itertuples(index=False):
            other = first.loc[(row.institution_id, row.period, row.cell)]
            issues.append(
                _issue_at(
                    row,
                    "s71_duplicate_cell",
                    row.item,
                    f"{row.institution_id} {row.period.date()} {row.cell}；另见/also {other}",
                )
            )
        cells = cells[~dup].reset_index(drop=True)
    kind_of = {(f.version, c): f.column_kind(c) for f in versions for c in _all_cells(f)}
    kinds = pd.Series([kind_of[(v, c)] for v, c in zip(cells["version"], cells["cell"])], index=cells.index)
    factor = cells["unit"].map(UNIT_TO_WAN)
    is_amount = (kinds == "amount").to_numpy()
    value = cells["value"].astype(float)
    cells["value_wan"] = np.where(is_amount, (value * factor).round(settings.amount_decimals), value)
    for row in cells[~is_amount & (value != np.round(value))].itertuples(index=False):
        issues.append(_issue_at(row, "not_whole_number", row.item, f"{row.cell}: {row.value}"))
    # every cell the version's mapping needs, for every institution-month present
    present = set(zip(cells["institution_id"], cells["period"], cells["cell"]))
    first_row = cells.drop_duplicates(["institution_id", "period"])
    for row in first_row.itertuples(index=False):
        for cell in by_version[row.version].needed_cells:
            if (row.institution_id, row.period, cell) not in present:
                issues.append(
                    _issue_at(
                        row._replace(location=""),
                        "s71_missing_cell",
                        cell,
                        f"{row.institution_id} {row.period.date()}: {cell}",
                    )
                )
    return cells


def _plausibility(cells: pd.DataFrame, versions: list[FormVersion], issues: list[Issue]) -> None:
    """Average balance per borrower must be possible under single credit ≤1000万 in the stated unit."""
    for form in versions:
        rules = form.plausibility
        mine = cells[cells["version"] == form.version]
        bal = mine[mine["cell"] == rules["balance"]].set_index(["institution_id", "period"])
        borr = mine[mine["cell"] == rules["borrowers"]].set_index(["institution_id", "period"])["value_wan"]
        bal = bal.join(borr.rename("borrowers"), how="inner")
        bal = bal[(bal["borrowers"] > 0) & (bal["value_wan"] > 0)]
        avg = bal["value_wan"] / bal["borrowers"]
        low, high = float(rules["min_avg_per_borrower"]), float(rules["max_avg_per_borrower"])
        for (inst, period), row in bal[(avg < low) | (avg > high)].iterrows():
            a = row["value_wan"] / row["borrowers"]
            declared = row["unit"]
            likely = [
                u for u, f in UNIT_TO_WAN.items() if u != declared and low <= a / UNIT_TO_WAN[declared] * f <= high
            ]
            cause = (
                f"可能单位为{likely[0]} / likely in {likely[0]}"
                if likely
                else "各单位下均不合理，请核对余额与户数 / implausible in every unit: check balance and borrowers"
            )
            issues.append(
                _issue_at(
                    row,
                    "s71_unit_implausible",
                    rules["balance"],
                    f"{inst} {period.date()}: 按{declared}（{row['unit_basis']}）户均余额 "
                    f"{a:,.4f} 万元，合理范围 {low}–{high} 万元 / average per borrower outside "
                    f"{low}–{high} 万元; {cause}",
                )
            )


def cells_to_monthly(cells: pd.DataFrame, versions: list[FormVersion]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monitoring-table columns from S71 cells, and the provenance of every figure."""
    key = ["institution_id", "period"]
    records, provenance = [], []
    for form in versions:
        mine = cells[cells["version"] == form.version]
        if mine.empty:
            continue
        wide = mine.pivot(index=key, columns="cell", values="value_wan")
        meta = mine.set_index(key + ["cell"])
        out = pd.DataFrame(index=wide.index)
        for column, terms in form.mapping.items():
            total = sum(sign * wide[cell] for sign, cell in terms)
            kind = form.column_kind(terms[0][1])
            out[column] = total.round(2) if kind == "amount" else total
            first = meta.xs(terms[0][1], level="cell")
            where = first["location"]
            written = first["item"].astype(str)
            for _, cell in terms[1:]:
                other = meta.xs(cell, level="cell")
                where = where + "; " + other["location"].reindex(where.index).fillna("")
                written = written + "; " + other["item"].astype(str).reindex(written.index).fillna("")
            item = " ".join(("-" if s < 0 else ("+" if i else "")) + c for i, (s, c) in enumerate(terms)).strip()
            prov = pd.DataFrame(
                {
                    "value": out[column],
                    "column": column,
                    "source": "S71",
                    "form_version": form.version,
                    "item": item,
                    "item_as_written": written,
                    "file": first["file"],
                    "sheet": first["sheet"],
                    "location": where,
                    "unit": first["unit"] if kind == "amount" else "户",
                    "unit_basis": first["unit_basis"],
                    "factor_to_wan": first["unit"].map(UNIT_TO_WAN) if kind == "amount" else 1.0,
                }
            )
            provenance.append(prov[out[column].notna()].reset_index())
        records.append(out.reset_index())
    monthly = pd.concat(records, ignore_index=True) if records else pd.DataFrame(columns=key)
    prov_cols = [
        "institution_id",
        "period",
        "column",
        "value",
        "source",
        "form_version",
        "item",
        "item_as_written",
        "file",
        "sheet",
        "location",
        "unit",
        "unit_basis",
        "factor_to_wan",
    ]
    prov = pd.concat(provenance, ignore_index=True)[prov_cols] if provenance else pd.DataFrame(columns=prov_cols)
    return monthly, prov


# --- merging with the tidy monitoring table ---------------------------------------------------


@dataclass
class ImportResult:
    """What :func:`import_s71` produced."""

    monthly: pd.DataFrame
    cells: pd.DataFrame
    provenance: pd.DataFrame
    out_dir: Path | None
    files: list[Path] = field(default_factory=list)
    source_hashes: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        s71 = self.provenance[self.provenance["source"] == "S71"]
        return (
            f"S71 导入完成 / imported: {s71['institution_id'].nunique()} 家机构/institutions, "
            f"{s71[['institution_id', 'period']].drop_duplicates().shape[0]} 个机构月/institution-months, "
            f"{len(self.cells)} 个单元格/cells → {self.out_dir}"
        )


def _read_org_map(tidy_dir: Path, settings: ImportSettings, issues: list[Issue]) -> dict[str, str]:
    spec = settings.org_map
    for path in sorted(tidy_dir.iterdir()) if tidy_dir.is_dir() else []:
        if path.stem not in spec["names"] or path.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
            continue
        frame = _read_text_table(path)
        found = _match_headers(
            frame.columns, {"org_num": tuple(spec["org_num"]), "institution_id": tuple(spec["institution_id"])}
        )
        if len(found) < 2:
            issues.append(Issue(path.name, None, "ORG_NUM/机构编码", "missing_column"))
            return {}
        return {_id_text(o): _id_text(i) for o, i in zip(frame[found["org_num"]], frame[found["institution_id"]])}
    return {}


def _tidy_monthly(raw) -> pd.DataFrame:
    """The tidy monitoring table with typed key and numbers (full validation comes later)."""
    frame = raw.frame.copy()
    frame["source_row"] = [raw.row_number(i) for i in range(len(frame))]
    frame["institution_id"] = frame["institution_id"].map(_id_text)
    frame["period"] = frame["period"].map(lambda v: parse_period(v)[0])
    for col in MONTHLY.columns:
        if col.kind in ("amount", "count"):
            frame[col.name] = frame[col.name].map(_to_float).astype(float)
    return frame


def merge_with_tidy(
    s71_monthly: pd.DataFrame, s71_provenance: pd.DataFrame, tidy, settings: ImportSettings, issues: list[Issue]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One monitoring table: S71 figures, plus tidy figures S71 does not carry; conflicts refused."""
    names = [c.name for c in MONTHLY.columns]
    key = ["institution_id", "period"]
    if tidy is None:
        merged = s71_monthly.reindex(columns=names)
        return merged, s71_provenance
    t = _tidy_monthly(tidy)
    t = t[t["institution_id"].ne("") & t["period"].notna()]
    s = s71_monthly.copy()
    both = s.merge(t, on=key, how="outer", suffixes=("", "_tidy"), indicator=True)
    kinds = {c.name: c.kind for c in MONTHLY.columns}
    tol = settings.conflict_tolerance
    s71_cols = [c for c in names if c in s.columns and c not in key]
    prov_index = s71_provenance.set_index(["institution_id", "period", "column"]) if len(s71_provenance) else None
    for col in s71_cols:
        a, b = both[col], both[f"{col}_tidy"]
        limit = tol["amount"] if kinds[col] == "amount" else tol["count"]
        clash = a.notna() & b.notna() & ((a - b).abs() > limit + 1e-9)
        for row in both[clash].itertuples(index=False):
            where = prov_index.loc[(row.institution_id, row.period, col)] if prov_index is not None else None
            src = (
                f"{where['file']} {where['sheet']} {where['location']} ({where['item']})"
                if where is not None
                else "S71"
            )
            issues.append(
                Issue(
                    tidy.source,
                    int(row.source_row),
                    col,
                    "s71_conflicting_value",
                    f"{row.institution_id} {row.period.date()}: 月度监测/monitoring "
                    f"{getattr(row, col + '_tidy')} ≠ S71 {getattr(row, col)} ← {src}",
                )
            )
        both[col] = a.where(a.notna(), b)
    merged = both.reindex(columns=names)
    # provenance of the tidy figures (those S71 did not give)
    given = set(
        zip(
            s71_provenance.get("institution_id", []), s71_provenance.get("period", []), s71_provenance.get("column", [])
        )
    )
    tidy_rows = []
    for col in names:
        if col in key:
            continue
        tidy_value = both[f"{col}_tidy"] if col in s71_cols else both[col]
        sel = both[tidy_value.notna()]
        for inst, period, line, value in zip(
            sel["institution_id"], sel["period"], sel["source_row"], tidy_value[tidy_value.notna()]
        ):
            if (inst, period, col) in given:
                continue
            tidy_rows.append(
                {
                    "institution_id": inst,
                    "period": period,
                    "column": col,
                    "value": value,
                    "source": "月度监测/monitoring",
                    "form_version": None,
                    "item": "",
                    "item_as_written": "",
                    "file": tidy.source,
                    "sheet": "",
                    "location": f"第{int(line)}行/row {int(line)}",
                    "unit": MONTHLY.column(col).unit,
                    "unit_basis": "contract/数据规范",
                    "factor_to_wan": 1.0,
                }
            )
    provenance = pd.concat([s71_provenance, pd.DataFrame(tidy_rows)], ignore_index=True)
    merged = merged.sort_values(key).reset_index(drop=True)
    return merged, provenance.sort_values(["institution_id", "period", "column"]).reset_index(drop=True)


def _write_outputs(
    staging: Path,
    monthly: pd.DataFrame,
    provenance: pd.DataFrame,
    cells: pd.DataFrame,
    tidy_dir: Path | None,
    tidy_monthly_file: str | None,
    fmt: str = "xlsx",
) -> list[Path]:
    written = []
    out = monthly.copy()
    out["period"] = out["period"].dt.strftime("%Y-%m-%d")
    out = out.rename(columns={c.name: c.label_zh for c in MONTHLY.columns})
    path = staging / f"monthly.{fmt}"
    if fmt == "csv":
        out.to_csv(path, index=False, encoding="utf-8-sig")
    else:
        from analysis.workbook import write_workbook  # text as text, never a formula

        write_workbook(path, {MONTHLY.label_zh: out})
    written.append(path)
    prov = provenance.copy()
    prov["period"] = pd.to_datetime(prov["period"]).dt.strftime("%Y-%m-%d")
    prov.to_csv(staging / "s71-provenance.csv", index=False, encoding="utf-8-sig")
    written.append(staging / "s71-provenance.csv")
    cell_out = cells[
        [
            "institution_id",
            "period",
            "cell",
            "value_wan",
            "org_num",
            "item",
            "version",
            "unit",
            "file",
            "sheet",
            "location",
        ]
    ].copy()
    cell_out["period"] = cell_out["period"].dt.strftime("%Y-%m-%d")
    cell_out.to_csv(staging / "s71-cells.csv", index=False, encoding="utf-8-sig")
    written.append(staging / "s71-cells.csv")
    if tidy_dir is not None and tidy_dir.is_dir():  # the rest of the data folder, unchanged
        for item in sorted(tidy_dir.iterdir()):
            if item.is_file() and item.name != tidy_monthly_file and not item.name.startswith((".", "~$")):
                shutil.copy2(item, staging / item.name)
                written.append(staging / item.name)
    return written


def import_s71(
    sources: list[Path],
    tidy_dir: Path | None,
    out_dir: Path,
    unit: str | None = None,
    params_dir: Path | str | None = None,
    validate: bool = True,
    fmt: str = "xlsx",
) -> ImportResult:
    """Read S71 returns, merge them with the tidy tables, write a complete data folder to ``out_dir``.

    ``sources``: S71 files or folders (long format CSV/XLSX/Parquet, or form-layout workbooks).
    ``tidy_dir``: the tidy tables (机构名录, 信贷计划, 转贷款, and 月度监测 with the figures S71 does
    not carry); copied to ``out_dir`` with the monitoring table replaced by ``monthly.xlsx``.
    ``unit``: 元, 万元 or 亿元 when the returns' amounts are in that unit (else per
    ``params/s71/import.yaml`` and the forms' own unit lines).
    Writes ``monthly.xlsx`` (``fmt="csv"``: monthly.csv), ``s71-provenance.csv`` (which file and cell each figure came from) and
    ``s71-cells.csv``; with ``validate`` the folder must pass :func:`analysis.validation.load_dataset`.
    Raises DataValidationError (nothing written) listing every problem.
    """
    from analysis.loading import read_tables

    params_dir = Path(params_dir or params_root())
    versions = load_form_versions(params_dir)
    settings = load_import_settings(params_dir)
    issues: list[Issue] = []
    if unit is not None and unit not in UNIT_TO_WAN:
        issues.append(Issue("--unit", None, None, "s71_unknown_unit", repr(unit)))
        raise DataValidationError(issues)
    out_dir = Path(out_dir)
    tidy_dir = Path(tidy_dir) if tidy_dir else None
    if tidy_dir is not None and out_dir.resolve() == tidy_dir.resolve():
        raise ValueError("out_dir must differ from tidy_dir / 输出目录不能与整洁数据目录相同")
    tidy = None
    known_ids = None
    org_to_id: dict[str, str] = {}
    tidy_monthly_file = None
    if tidy_dir is not None:
        raw, _, read_issues = read_tables(tidy_dir)
        # columns S71 supplies may be absent from the tidy monitoring table
        issues += [
            i
            for i in read_issues
            if not (i.rule == "missing_column" and i.file == getattr(raw.get("monthly"), "source", None))
            and not (i.rule == "missing_table" and "monthly" in i.detail)
        ]
        tidy = raw.get("monthly")
        if tidy is not None:
            tidy_monthly_file = tidy.source.split("[")[0]
        if "institutions" in raw:
            known_ids = {_id_text(v) for v in raw["institutions"].frame["institution_id"] if _id_text(v)}
        org_to_id = _read_org_map(tidy_dir, settings, issues)
    cells, hashes = read_sources(sources, settings, versions, unit, issues)
    cells = check_cells(cells, versions, org_to_id, known_ids, settings, issues)
    if not cells.empty:
        _plausibility(cells, versions, issues)
    if issues:
        raise DataValidationError(issues)
    s71_monthly, provenance = cells_to_monthly(cells, versions)
    monthly, provenance = merge_with_tidy(s71_monthly, provenance, tidy, settings, issues)
    if issues:
        raise DataValidationError(issues)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        _write_outputs(staging, monthly, provenance, cells, tidy_dir, tidy_monthly_file, fmt)
        if validate and tidy_dir is not None:
            from analysis.validation import load_dataset

            load_dataset(staging, params_dir)
        replace_folder(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    files = sorted(p for p in out_dir.iterdir() if p.is_file())
    return ImportResult(monthly, cells, provenance, out_dir, files, hashes)


__all__ = [
    "s71_cells",
    "S71_RULES",
    "UNIT_TO_WAN",
    "FormVersion",
    "ImportResult",
    "form_for",
    "import_s71",
    "load_form_versions",
    "normalise_item",
    "read_sources",
]


def _form_of(versions: list[FormVersion], period: pd.Timestamp) -> FormVersion:
    form = form_for(versions, period)
    if form is None:
        raise ValueError(f"no S71 form version for {period:%Y-%m} / 该数据期无适用的S71报表版本")
    return form


def s71_cells(monthly: pd.DataFrame, versions: list[FormVersion]) -> pd.DataFrame:
    """The S71 cells (万元 / 户) that give back ``monthly`` through each period's mapping.

    A mapped column is one cell, or a cell minus others already set (``6.A0 - 6.A5``): the first
    term is solved for. Returns institution_id, period, cell, value.
    """
    frames = []
    for version in sorted({_form_of(versions, p).version for p in monthly["period"].unique()}):
        form = next(f for f in versions if f.version == version)
        rows = monthly[monthly["period"].map(lambda p, v=version: _form_of(versions, p).version == v)]
        values: dict[str, pd.Series] = {}
        # single cells first, then expressions solved for their first term
        for column, terms in sorted(form.mapping.items(), key=lambda kv: len(kv[1])):
            target = rows[column]
            if len(terms) == 1:
                values[terms[0][1]] = target
                continue
            (sign0, first), rest = terms[0], terms[1:]
            others = sum(s * values[c] for s, c in rest)
            values[first] = ((target - others) * sign0).round(2)
        for cell, series in values.items():
            frames.append(
                pd.DataFrame(
                    {
                        "institution_id": rows["institution_id"],
                        "period": rows["period"],
                        "cell": cell,
                        "value": series.to_numpy(),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)
