"""The form versions (报表版本) and import settings: which S71 cell feeds which column of the
monitoring table in each version (``params/s71/form-YYYY.yaml``, chosen by data date) and how files
are recognised (``params/s71/import.yaml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from analysis.core.contract import MONTHLY
from analysis.core.errors import RULES, ParamsError
from analysis.inputs.s71.form import (
    FormCells,
    load_form_definition,
    parse_item,
)

#: Rules of the S71 importer live with every other rule in :data:`analysis.core.errors.RULES`.
S71_RULES: dict[str, tuple[str, str]] = {k: v for k, v in RULES.items() if k.startswith("s71_")}

#: the table-check findings (表内校验) and the detail rows an import writes beside the monitoring table
CHECKS_FILE = "s71-checks.csv"
DETAIL_FILE = "s71-detail.csv"

#: 万元 per unit: values are multiplied by this to give 万元.
UNIT_TO_WAN: dict[str, float] = {"元": 1e-4, "万元": 1.0, "亿元": 1e4}

_UNIT_LINE = re.compile(r"单位\s*[:：]\s*(?P<unit>[^\s、,，;；)）]+)")
_ORG_LINE = re.compile(r"(?:机构编码|机构代码|报送机构代码)\s*[:：]\s*(?P<org>[0-9A-Za-z_\-]+)")
_DATE_LINE = re.compile(
    r"(?:数据日期|报表日期|报告期)\s*[:：]\s*(?P<date>\d{4}\s*[-/.年]?\s*\d{1,2}\s*[-/.月]?\s*(?:\d{1,2}\s*日?)?)"
)
_HEADER_LETTER = re.compile(r"^\s*(?P<letter>[A-Z])(?:\s|[.、．:：]|$)")
_HEADER_BAND = re.compile(r"^\s*(?P<band>\d)(?:\s|[.、．:：]|$)")


def params_root() -> Path:
    """The project's params folder (``params/`` beside ``src/``)."""
    return Path(__file__).resolve().parents[4] / "params"


# --- form versions (params/s71/form-YYYY.yaml) ------------------------------------------------


@dataclass(frozen=True)
class FormVersion:
    """One version of the S71 form: its cells (:mod:`analysis.inputs.s71.form`) and the mapping to the
    monitoring table (``params/s71/form-YYYY.yaml``)."""

    version: int
    valid_from: pd.Timestamp
    report: str
    title: str
    report_codes: tuple[str, ...]
    columns: dict[str, tuple[str, str]]  # letter -> (label, kind)
    bands: dict[str, str]  # band ('' = none, the ≤3000万 total) -> label
    rows: dict[str, str]  # row code -> name(s) in force
    #: monitoring column -> ((sign, cell), ...)
    mapping: dict[str, tuple[tuple[int, str], ...]]
    plausibility: dict
    #: every cell in force, with its year, and the form's totals and limits
    form: FormCells
    path: str = ""
    #: columns whose cells may be negative (``signed: true`` in ``form.yaml``; none in S71_I)
    signed_columns: frozenset[str] = frozenset()

    def has_cell(self, cell: str) -> bool:
        item = parse_item(cell)
        return item is not None and item.code in self.form.cells

    @property
    def needed_cells(self) -> tuple[str, ...]:
        cells = {c for terms in self.mapping.values() for _, c in terms}
        cells |= {self.plausibility["balance"], self.plausibility["borrowers"]}
        return tuple(sorted(cells))

    def column_kind(self, cell: str) -> str:
        item = parse_item(cell)
        if item is None:
            raise KeyError(cell)
        return self.columns[item.column][1]


def _all_cells(form: FormVersion) -> list[str]:
    return list(form.form.cells)


def _parse_expression(text: str) -> tuple[tuple[int, str], ...]:
    terms = []
    for sign, cell in re.findall(r"([+-]?)\s*([0-9][0-9a-z.]*\.[A-Z]\d?)(?![\w.])", str(text)):
        terms.append((-1 if sign == "-" else 1, cell))
    return tuple(terms)


def _month_start(value) -> pd.Timestamp:
    return pd.Timestamp(str(value)[:7] + "-01")


def load_form_versions(params_dir: Path | str | None = None) -> list[FormVersion]:
    """Every ``form-YYYY.yaml`` of ``params/s71``, oldest first, with the cells of ``form.yaml`` in
    force in each; ParamsError when one is invalid."""
    root = Path(params_dir or params_root())
    folder = root / "s71"
    definition = load_form_definition(root)
    versions = []
    from analysis.core.indicator_defs import load_indicator_params

    # a form version may map a cell to a column declared in params/indicators.yaml (e.g. 无还本续贷)
    monthly_columns = {c.name for c in MONTHLY.columns} | {c.name for c in load_indicator_params(root).columns}
    for path in sorted(folder.glob("form-*.yaml")):
        problems: list[str] = []
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key in ("version", "valid_from", "mapping", "plausibility"):
            if key not in data:
                problems.append(f"missing key {key!r}")
        if problems:
            raise ParamsError(str(path), problems)
        cells = definition.cells_in(int(data["version"]))
        rows: dict[str, str] = {}
        for r in cells.rows:
            rows[r.row] = r.name if r.row not in rows or rows[r.row] == r.name else f"{rows[r.row]} / {r.name}"
        form = FormVersion(
            version=int(data["version"]),
            valid_from=_month_start(data["valid_from"]),
            report=definition.report,
            title=definition.title,
            report_codes=definition.report_codes,
            columns=definition.columns,
            bands=definition.bands,
            rows=rows,
            mapping={str(k): _parse_expression(v) for k, v in data["mapping"].items()},
            plausibility=dict(data["plausibility"]),
            form=cells,
            path=str(path),
            signed_columns=definition.signed_columns,
        )
        for column, terms in form.mapping.items():
            if column not in monthly_columns:
                problems.append(f"mapping: {column!r} is not a column of the monitoring table (月度监测)")
            if not terms:
                problems.append(f"mapping: {column!r} has no cell")
            for _, cell in terms:
                if not form.has_cell(cell):
                    problems.append(f"mapping: {column!r} uses {cell!r}, not a cell of form version {form.version}")
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
    #: detail exports: column_pattern, files, columns, loan_column, customer_column
    detail: dict = field(default_factory=dict)

    def is_detail(self, path: Path, columns) -> bool:
        """A detail export: ``COL_n`` columns, or a file name declared in ``detail.files``."""
        pattern = re.compile(str(self.detail.get("column_pattern", r"^COL_\d+$")), re.IGNORECASE)
        if any(pattern.match(str(c).strip()) for c in columns):
            return True
        return any(path.match(glob) for glob in self.detail.get("files", []) or [])


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
        detail=dict(data.get("detail") or {}),
    )
