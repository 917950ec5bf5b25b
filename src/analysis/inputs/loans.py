"""Loan-level supervision with DuckDB (贷款明细核查): recompute S71, reconcile, supervisory checks.

Input: loan-level tables in the shape of the supervisory data standard (EAST), Parquet or CSV, one
folder per bank or one per city (files are found recursively and read together); amounts in 元,
rates in % a year. Headers may be the English names below or the Chinese ones.

* receipts (借据): data_date, bank_id, receipt_id, customer_id, contract_id, subject, amount,
  balance, five_class, disbursement_date, maturity_date, rate, purpose_area, purpose_industry,
  disbursement_type (新增/借新还旧/重组/无还本续贷), overdue_days, guarantee_type;
* customers (客户): bank_id, customer_id (统一社会信用代码, the same at every bank), customer_type
  (企业/个体工商户/小微企业主/其他个人), enterprise_size, region, industry, founding_date,
  first_credit_month, equity_transfer_date (optional);
* credit_lines (授信): bank_id, customer_id, line_amount, line_start, line_end.

DuckDB reads the files in place (pandas never loads a loan table whole); the rules are the
readable queries in ``analysis/sql/*.sql`` (one comment per rule) with their thresholds from
``params/loans.yaml``. Results are small DataFrames for the reports: :func:`bank_findings` (one
bank, its own findings only) and :func:`overview_findings` (all banks).

Why this module is long: the loan-level pipeline in one place — reading the files into DuckDB
views, recomputing S71 cells, reconciling and running each check of ``sql/`` — whose steps share
one connection and one set of views; the rules themselves are the ``.sql`` files.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import yaml

from analysis.core.errors import DataValidationError, Issue, ParamsError

SQL_DIR = Path(__file__).with_name("sql")
_ROOT = Path(__file__).resolve().parents[3]

#: table -> column -> accepted headers (English first). Optional columns are marked below.
TABLE_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "receipts": {
        "data_date": ("data_date", "采集日期", "数据日期"),
        "bank_id": ("bank_id", "机构编码"),
        "receipt_id": ("receipt_id", "借据号"),
        "customer_id": ("customer_id", "客户统一编号", "客户号"),
        "contract_id": ("contract_id", "合同号"),
        "subject": ("subject", "科目号", "科目"),
        "amount": ("amount", "借据金额", "贷款金额"),
        "balance": ("balance", "贷款余额", "借据余额"),
        "five_class": ("five_class", "五级分类"),
        "disbursement_date": ("disbursement_date", "发放日期", "贷款发放日期"),
        "maturity_date": ("maturity_date", "到期日期", "贷款到期日期"),
        "rate": ("rate", "实际利率", "执行利率"),
        "purpose_area": ("purpose_area", "贷款投向地区"),
        "purpose_industry": ("purpose_industry", "贷款投向行业"),
        "disbursement_type": ("disbursement_type", "发放类型", "贷款发放类型"),
        "overdue_days": ("overdue_days", "逾期天数"),
        "guarantee_type": ("guarantee_type", "担保方式", "主要担保方式"),
        "inclusive_flag": ("inclusive_flag", "是否普惠型小微企业贷款"),
    },
    "customers": {
        "bank_id": ("bank_id", "机构编码"),
        "customer_id": ("customer_id", "客户统一编号", "客户号"),
        "party_id": ("id_number", "证件号码"),
        "customer_type": ("customer_type", "客户类型"),
        "enterprise_size": ("enterprise_size", "企业规模"),
        "region": ("region", "地区代码", "注册地行政区划"),
        "industry": ("industry", "行业", "行业类型"),
        "founding_date": ("founding_date", "成立日期"),
        "first_credit_month": ("first_credit_month", "首次建立信贷关系年月"),
        "equity_transfer_date": ("equity_transfer_date", "股权受让日期"),
    },
    "credit_lines": {
        "bank_id": ("bank_id", "机构编码"),
        "customer_id": ("customer_id", "客户统一编号", "客户号"),
        "party_id": ("id_number", "客户证件号码", "证件号码"),
        "line_amount": ("line_amount", "授信额度"),
        "line_start": ("line_start", "授信起始日期"),
        "line_end": ("line_end", "授信到期日期"),
    },
}
OPTIONAL = {
    ("customers", "equity_transfer_date"),
    ("customers", "first_credit_month"),
    ("customers", "region"),
    ("customers", "industry"),
    ("receipts", "purpose_area"),
    ("receipts", "purpose_industry"),
    ("receipts", "contract_id"),
    ("receipts", "inclusive_flag"),
    ("customers", "party_id"),
    ("credit_lines", "party_id"),
}
#: the bank's own customer number (客户统一编号): a table keyed by it needs a 证件号码 column
#: (party_id) for the city-wide rules; keyed by ``customer_id`` (the USCC, simplified shape) it is its own
BANK_OWN_CUSTOMER_HEADER = "客户统一编号"
#: file stems (before any suffix like _B017) that hold each table
TABLE_FILES: dict[str, tuple[str, ...]] = {
    "receipts": ("receipts", "借据"),
    "customers": ("customers", "客户"),
    "credit_lines": ("credit_lines", "授信"),
}
_TYPES = {
    "data_date": "DATE",
    "disbursement_date": "DATE",
    "maturity_date": "DATE",
    "founding_date": "DATE",
    "equity_transfer_date": "DATE",
    "line_start": "DATE",
    "line_end": "DATE",
    "amount": "DOUBLE",
    "balance": "DOUBLE",
    "rate": "DOUBLE",
    "line_amount": "DOUBLE",
    "overdue_days": "INTEGER",
    "inclusive_flag": "BOOLEAN",
}
_DATES = {col for col, kind in _TYPES.items() if kind == "DATE"}


# --- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoanRules:
    raw: dict
    path: str = ""

    @property
    def sql_params(self) -> dict:
        r = self.raw
        bands = r["bands"]
        return {
            "band1_max": float(bands["1"][1]),
            "band2_max": float(bands["2"][1]),
            "band3_max": float(bands["3"][1]),
            "band4_max": float(bands["4"][1]),
            "bill_prefixes": [str(p) for p in r["bill_subject_prefixes"]],
            "restructured": r["restructured_type"],
            "enterprise_type": r["enterprise_type"],
            "small_micro": list(r["small_micro_sizes"]),
            "indiv_type": r["individual_business_type"],
            "owner_type": r["business_owner_type"],
            "npl_classes": list(r["npl_classes"]),
            "midlong_min_days": int(r["midlong_min_days"]),
        }


def load_loan_rules(path: Path | str | None = None) -> LoanRules:
    """``params/loans.yaml``, checked."""
    path = Path(path or Path(__file__).resolve().parents[3] / "params" / "loans.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    required = (
        "bands",
        "bill_subject_prefixes",
        "small_micro_sizes",
        "enterprise_type",
        "individual_business_type",
        "business_owner_type",
        "restructured_type",
        "renewal_type",
        "credit_guarantee_type",
        "npl_classes",
        "midlong_min_days",
        "reconcile",
        "checks",
    )
    problems = [f"missing key {k!r}" for k in required if k not in data]
    if not problems:
        if sorted(data["bands"]) != ["1", "2", "3", "4"]:
            problems.append("bands must be 1–4")
        for name in ("overdue_not_npl", "over_crediting", "new_borrower", "renewal_share"):
            if name not in data["checks"] or "basis" not in data["checks"][name]:
                problems.append(f"checks.{name} (with its basis) is missing")
        cited = [("reconcile", data["reconcile"]), *((f"checks.{k}", v) for k, v in data["checks"].items())]
        for where, rule in cited:  # what a rule cites, by policy year (rule_clause)
            clauses = rule.get("clauses", {})
            if "basis" not in rule or "clause" in rule or not isinstance(clauses, dict):
                problems.append(f"{where}: basis (the requirement) and clauses by policy year, e.g. {{2023: <clause>}}")
            elif not all(isinstance(y, int) and isinstance(c, str) for y, c in clauses.items()):
                problems.append(f"{where}.clauses: policy year -> clause text, e.g. {{2023: <clause>}}")
        for item in data["reconcile"].get("items", []):
            if not re.fullmatch(r"\d+(\.\d+)*\.[A-F][0-5]", str(item)):
                problems.append(f"reconcile.items: {item!r} is not a cell code like 6.A5")
    if problems:
        raise ParamsError(str(path), problems)
    return LoanRules(data, str(path))


def rule_clause(rule: dict, year: int) -> str:
    """What a rule of ``params/loans.yaml`` cites for a month of policy year ``year``: that year's
    clause and the requirement (``<clauses[year]>：<basis>``), or the requirement alone when the
    year's notice numbers no such clause."""
    clause = (rule.get("clauses") or {}).get(int(year))
    return f"{clause}：{rule['basis']}" if clause else str(rule["basis"])


def _clauses(rule: dict, periods: pd.Series) -> pd.Series:
    """:func:`rule_clause` for each row, by the year of its period."""
    return pd.to_datetime(periods).dt.year.map(lambda year: rule_clause(rule, year), na_action="ignore")


# --- reading the loan tables -----------------------------------------------------------------


def _files(folder: Path, table: str) -> list[Path]:
    stems = TABLE_FILES[table]
    out = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".parquet", ".csv") or path.name.startswith("."):
            continue
        stem = path.stem.split("_")[0].split("-")[0]
        if stem in stems or path.stem in stems:
            out.append(path)
    return out


def _reader(files: list[Path]) -> str:
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    if all(f.suffix.lower() == ".parquet" for f in files):
        return f"read_parquet([{listed}], union_by_name = true)"
    return f"read_csv([{listed}], union_by_name = true, header = true, all_varchar = true)"


def connect(
    folder: Path | str,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_dir: Path | str | None = None,
    bank: str | None = None,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views ``receipts``, ``customers``, ``credit_lines`` over the files.

    The files are the EAST 5.0 tables as banks deliver them (:mod:`analysis.inputs.east`, when any file is
    named after one; the org map 报送机构编码对照 is looked for beside them, then in ``data_dir``), or
    the simplified tables of this module's docstring (hand-made tests).

    With ``bank`` (one institution id), ``receipts`` and ``customers`` hold that bank's rows only;
    the city-wide views that the cross-bank rule needs stay whole: ``city_customers``,
    ``city_receipt_dates`` and ``credit_lines``. Without it, the city views are the full tables.

    Raises DataValidationError naming the file and the missing column, unreadable file or refused value.
    """
    from analysis.inputs.east import create_east_views, is_east_folder

    folder = Path(folder)
    con = duckdb.connect()
    try:  # no progress bar on the terminal; inside a Jupyter kernel without ipywidgets DuckDB already
        con.execute("SET enable_progress_bar = false")  # has none and refuses the setting (duckdb#7590)
    except duckdb.InvalidInputException:
        pass
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    # out of core: what exceeds memory_limit spills under the cache folder (ANALYSIS_CACHE_DIR)
    # unless the caller names a temp directory
    spill = (
        Path(temp_dir) if temp_dir else Path(os.environ.get("ANALYSIS_CACHE_DIR") or _ROOT / ".cache") / "duckdb-tmp"
    )
    if not temp_dir:  # what spills is bank data: private like the other caches (0700, this user's)
        from analysis.core.files import ForeignFolder, private_folder
        from analysis.inputs.east import _foreign

        try:
            private_folder(spill)
        except ForeignFolder as exc:
            con.close()
            raise _foreign(exc) from None
    con.execute("SET temp_directory = '" + str(spill).replace("'", "''") + "'")
    con.execute("SET preserve_insertion_order = false")
    try:
        east = is_east_folder(folder, params_dir)
        if east:
            # checked, then customers, contracts and lines parsed once into tables; the receipts are
            # parsed in the one pass of sql/scope.sql (with ``bank``, that bank's only)
            views = create_east_views(
                con, folder, data_dir=data_dir, params_dir=params_dir, temp_dir=temp_dir, bank=bank
            )
            wholes = {table: f"SELECT * FROM {view}" for table, view in views.items()}
        else:
            wholes = _simple_views(con, folder)
        own = "'" + str(bank).replace("'", "''") + "'"
        for table, whole in wholes.items():
            if bank is not None and table != "credit_lines":
                con.execute(f"CREATE OR REPLACE TEMP VIEW city_{table} AS {whole}")
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS SELECT * FROM city_{table} WHERE bank_id = {own}")
            else:
                con.execute(f"CREATE OR REPLACE TEMP VIEW {table} AS {whole}")
                con.execute(f"CREATE OR REPLACE TEMP VIEW city_{table} AS SELECT * FROM {table}")
        # with one bank under EAST, the receipts read are that bank's: the city's dates are read
        # from every bank's files (create_east_views)
        dates = "east_receipt_dates" if east else "city_receipts"
        con.execute(f"CREATE OR REPLACE TEMP VIEW city_receipt_dates AS SELECT DISTINCT data_date FROM {dates}")
    except Exception:
        con.close()
        raise
    return con


def _simple_views(con: duckdb.DuckDBPyConnection, folder: Path) -> dict[str, str]:
    """The SELECT of each internal table over the simplified files (every date and amount checked
    first; a 证件号码 read as the office matches it across banks, as for EAST)."""
    from analysis.inputs.east import file_order, simple_date_sql, simple_fragment

    issues: list[Issue] = []
    wholes: dict[str, str] = {}
    for table, columns in TABLE_COLUMNS.items():
        files = _files(folder, table)
        if not files:
            issues.append(Issue(str(folder), None, None, "missing_table", f"{table} / {TABLE_FILES[table][1]}"))
            continue
        described: dict[Path, dict[str, str]] = {}
        for f in files:
            try:
                rows = con.execute(f"DESCRIBE SELECT * FROM {_reader([f])}").fetchall()
            except Exception as exc:  # noqa: BLE001 — any reader error means an unreadable file
                issues.append(Issue(f.name, None, None, "file_unreadable", str(exc).splitlines()[0][:200]))
                continue
            described[f] = {str(r[0]): str(r[1]) for r in rows}
            names = described[f]
            for col, spellings in columns.items():
                if not any(s in names for s in spellings) and (table, col) not in OPTIONAL:
                    issues.append(Issue(f.name, None, col, "missing_column", "/".join(spellings[1:])))
            no_party = "party_id" in columns and not any(s in names for s in columns["party_id"])
            if no_party and BANK_OWN_CUSTOMER_HEADER in names and "customer_id" not in names:
                issues.append(Issue(f.name, None, "证件号码", "missing_id_number", BANK_OWN_CUSTOMER_HEADER))
        if issues:
            continue
        types: dict[str, str] = {}
        for names in described.values():
            types.update(names)
        select, checks = [], []
        for col, spellings in columns.items():
            found = next((s for s in spellings if s in types), None)
            kind = _TYPES.get(col, "VARCHAR")
            if col == "party_id" and found is None:  # customer_id is the USCC in the simplified shape
                found = next(s for s in columns["customer_id"] if s in types)
            if found and col in _DATES:
                expr, bad = simple_date_sql(found, types[found])
                if bad:
                    checks.append((found, "east_bad_date", bad))
            elif found and col == "party_id":
                expr = simple_fragment("identifier", found)
            elif found:
                expr = f'TRY_CAST("{found}" AS {kind})'
                if kind == "DOUBLE":  # inf and NaN are numbers to DuckDB, never amounts
                    checks.append((found, "east_not_finite", simple_fragment("not_finite", found)))
            else:
                expr = f"CAST(NULL AS {kind})"
            select.append(f"{expr} AS {col}")
            if col == "party_id":  # as written where the office's reading differs (the coverage lists it)
                written = simple_fragment("identifier_written", found) if found else "CAST(NULL AS VARCHAR)"
                select.append(f"{written} AS party_id_written")
        for f in files:  # a date neither YYYY-MM-DD nor YYYYMMDD, an amount inf or NaN: refused, never read
            for found, rule, bad in checks:
                with file_order(con):
                    row = con.execute(
                        f'SELECT _row, "{found}" FROM (SELECT row_number() OVER () + 1 AS _row, * '
                        f"FROM {_reader([f])}) WHERE {bad} ORDER BY _row LIMIT 1"
                    ).fetchone()
                if row:
                    issues.append(Issue(f.name, int(row[0]), found, rule, str(row[1])))
        wholes[table] = f"SELECT {', '.join(select)} FROM {_reader(files)}"
    if issues:
        raise DataValidationError(issues)
    return wholes


def _sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _used(sql: str, params: dict) -> dict:
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _query(con, name: str, params: dict) -> pd.DataFrame:
    sql = _sql(name)
    return con.execute(sql, _used(sql, params)).df()


# --- recompute, reconcile, checks ------------------------------------------------------------


def recompute_s71(con, rules: LoanRules, query: str = "recompute_s71") -> pd.DataFrame:
    """S71 cells from the receipts: bank_id, period, item (e.g. 6.A5), value (万元 or 户).

    ``query`` names the SQL of the cells: ``recompute_s71`` (reduced early, the one in use) or
    ``recompute_s71_expanded`` (the former query, every receipt expanded into its cells; kept as
    the reference of the equivalence test).
    """
    params = dict(
        rules.sql_params, credit_type=rules.raw["credit_guarantee_type"], renewal_type=rules.raw["renewal_type"]
    )
    # The joins of the scope pass run as written: the receipts probe the hash tables of their
    # contracts and customers. DuckDB estimates the parsed receipts far off (8·10¹⁰ rows at 10⁷) and
    # otherwise builds the customer join's table on the 10⁷ wide receipts, which spills: 18.5 → 15.1 s.
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        for statement in con.extract_statements(_sql("scope")):  # parameters bind one statement at a time
            con.execute(statement.query, _used(statement.query, params))
    finally:
        con.execute("RESET disabled_optimizers")
    wide = _query(con, query, params)
    if wide.empty:  # no receipt in scope of S71: no cell (reconcile counts every item as 0)
        return pd.DataFrame(
            {
                "bank_id": pd.Series(dtype=object),
                "period": pd.Series(dtype="datetime64[ns]"),
                "item": pd.Series(dtype=object),
                "value": pd.Series(dtype=float),
            }
        )
    long = wide.melt(
        id_vars=["bank_id", "data_date", "row_code", "band"],
        value_vars=list("ABCDEF"),
        var_name="column",
        value_name="value",
    )
    long["item"] = long["row_code"] + "." + long["column"] + long["band"].astype(int).astype(str)
    amount = long["column"].isin(list("ACDF"))
    long["value"] = np.where(amount, (long["value"].astype(float) / 10_000).round(2), long["value"].astype(float))
    long["period"] = pd.to_datetime(long["data_date"])
    return (
        long[["bank_id", "period", "item", "value"]].sort_values(["bank_id", "period", "item"]).reset_index(drop=True)
    )


def reconcile(
    recomputed: pd.DataFrame, reported: pd.DataFrame, rules: LoanRules, snapshots: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Data-quality table: per institution, item and month, reported vs recomputed.

    ``reported``: institution_id, period, cell (or item), value_wan (or value) — e.g.
    ``s71-cells.csv`` written by the importer. Only (bank, month) pairs with loan data
    (``snapshots``: bank_id, period; default those in ``recomputed``) and the items of
    ``params/loans.yaml`` are compared; an item with no loans recomputes to 0.
    """
    cfg = rules.raw["reconcile"]
    items = list(cfg["items"])
    if "cell" in reported.columns:  # the importer's s71-cells.csv: "cell" is the code, "item" as written
        extra = ["item"] + (["value"] if "value_wan" in reported.columns else [])
        reported = reported.drop(columns=[c for c in extra if c in reported.columns])
    rep = reported.rename(columns={"cell": "item", "value_wan": "value", "institution_id": "bank_id"})
    rep = rep[["bank_id", "period", "item", "value"]].assign(period=lambda d: pd.to_datetime(d["period"]))
    if snapshots is None:
        snapshots = recomputed[["bank_id", "period"]].drop_duplicates()
    grid = snapshots.assign(_k=1).merge(pd.DataFrame({"item": items, "_k": 1}), on="_k").drop(columns="_k")
    out = grid.merge(rep.rename(columns={"value": "reported"}), on=["bank_id", "period", "item"], how="left")
    out = out.merge(recomputed.rename(columns={"value": "recomputed"}), on=["bank_id", "period", "item"], how="left")
    out["recomputed"] = out["recomputed"].fillna(0.0)
    out["difference"] = (out["recomputed"] - out["reported"]).round(2)
    is_count = out["item"].str.contains(r"\.[BE]\d$")
    tol = np.where(
        is_count,
        float(cfg["tolerance_count"]),
        np.maximum(
            float(cfg["tolerance_amount_wan"]), float(cfg["tolerance_relative"]) * out["reported"].abs().fillna(0)
        ),
    )
    out["tolerance"] = tol
    out["within_tolerance"] = out["reported"].notna() & (out["difference"].abs() <= tol + 1e-9)
    out["unit"] = np.where(is_count, "户", "万元")
    out["clause"] = _clauses(cfg, out["period"])
    out = out.rename(columns={"bank_id": "institution_id"})
    return (
        out[
            [
                "institution_id",
                "period",
                "item",
                "reported",
                "recomputed",
                "difference",
                "tolerance",
                "within_tolerance",
                "unit",
                "clause",
            ]
        ]
        .sort_values(["institution_id", "period", "item"])
        .reset_index(drop=True)
    )


def run_checks(con, rules: LoanRules, done: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """Every supervisory check (requires :func:`recompute_s71` to have built ``scoped``).

    ``done`` is called with each check's name when it has run (progress of long runs)."""
    checks = rules.raw["checks"]
    base = rules.sql_params
    caps = pd.DataFrame(
        [(k, float(v)) for k, v in checks["over_crediting"]["line_cap"].items()], columns=["kind", "line_cap"]
    )
    con.register("line_caps", caps)
    params = {
        "overdue_not_npl": dict(base, min_overdue_days=int(checks["overdue_not_npl"]["min_overdue_days"])),
        "over_crediting": dict(base, min_banks=int(checks["over_crediting"]["min_banks"])),
        "new_borrower": dict(base, max_months=int(checks["new_borrower"]["max_months"])),
        "renewal_share": dict(base, renewal_type=rules.raw["renewal_type"]),
    }
    out = {}
    for name, values in params.items():
        out[name] = _query(con, f"check_{name}", values)
        if done is not None:
            done(f"check {name}")
    share = out["renewal_share"]
    share["watch"] = share["renewal_share_pct"] > float(checks["renewal_share"]["watch_share_pct"])
    for name, frame in out.items():
        frame.insert(0, "rule", name)
        frame["clause"] = _clauses(checks[name], frame["data_date"] if "data_date" in frame else frame["period"])
        if "data_date" in frame:
            frame["period"] = pd.to_datetime(frame.pop("data_date"))
        out[name] = frame.rename(columns={"bank_id": "institution_id"})
    return out


@dataclass
class LoanFindings:
    """Everything the loan-level checks found, as small tables for reports and exports."""

    recomputed: pd.DataFrame
    reconciliation: pd.DataFrame
    checks: dict[str, pd.DataFrame]
    rules: LoanRules
    timings: dict[str, float] = field(default_factory=dict)
    #: per institution, month and rule: receipts / lines judged, not judged, and why (核查覆盖面)
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)


def analyse_loans(
    folder: Path | str,
    reported: pd.DataFrame,
    rules: LoanRules | None = None,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_dir: Path | str | None = None,
    bank: str | None = None,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
    progress: Callable[[str, float, float], None] | None = None,
) -> LoanFindings:
    """Recompute S71 from the loan tables under ``folder``, reconcile, and run every check.

    ``bank`` limits the work to one institution (a notebook opened for one bank): its findings are
    exactly its rows of the city-wide run — the over-crediting rule still counts every bank's lines
    — at a fraction of the cost.
    ``progress`` is called after each phase (read, recompute, reconcile, each check, coverage) with
    the phase, its seconds and the seconds since the start; the same figures are ``timings``.
    """
    import time

    rules = rules or load_loan_rules()
    timings: dict[str, float] = {}
    start = last = time.perf_counter()

    def done(phase: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[phase] = now - last
        last = now
        if progress is not None:
            progress(phase, timings[phase], now - start)

    if bank is not None:
        own = reported["institution_id"] if "institution_id" in reported.columns else reported["bank_id"]
        reported = reported[own == bank]
    con = connect(
        folder,
        threads=threads,
        memory_limit=memory_limit,
        temp_dir=temp_dir,
        bank=bank,
        data_dir=data_dir,
        params_dir=params_dir,
    )
    done("read")
    try:
        recomputed = recompute_s71(con, rules)
        done("recompute")
        snapshots = (
            con.execute("SELECT DISTINCT bank_id, data_date FROM scoped_all")
            .df()
            .rename(columns={"data_date": "period"})
            .assign(period=lambda d: pd.to_datetime(d["period"]))
        )
        table = reconcile(recomputed, reported, rules, snapshots)
        done("reconcile")
        checks = run_checks(con, rules, done)
        if bank is not None:  # the city-wide rule returns a row for every bank holding a flagged line
            checks = {
                name: frame[frame["institution_id"] == bank].reset_index(drop=True) for name, frame in checks.items()
            }
        coverage = coverage_table(con)
        if bank is not None:
            coverage = coverage[coverage["institution_id"] == bank].reset_index(drop=True)
        done("coverage")
    finally:
        con.close()
    return LoanFindings(recomputed, table, checks, rules, timings, coverage)


def print_progress(phase: str, seconds: float, elapsed: float) -> None:
    """One progress line of a long run (``analysis loans`` and the batch), to standard error."""
    import sys

    print(f"借据核查 / loans: {phase} {seconds:.1f} s（累计 / elapsed {elapsed:.1f} s）", file=sys.stderr, flush=True)


def coverage_table(con) -> pd.DataFrame:
    """How many receipts / lines each rule could judge per bank and month, and why not the rest
    (``sql/coverage.sql``; requires :func:`recompute_s71` to have built ``scoped``)."""
    frame = _query(con, "coverage", {})
    frame["period"] = pd.to_datetime(frame.pop("data_date"))
    frame = frame.rename(columns={"bank_id": "institution_id"})
    frame[["judged", "not_judged"]] = frame[["judged", "not_judged"]].astype(int)
    return frame[["institution_id", "period", "rule", "judged", "not_judged", "reason"]]


# --- tables for the reports -------------------------------------------------------------------


def summary(findings: LoanFindings) -> pd.DataFrame:
    """One row per institution, month and rule: findings count and amount (for the overview)."""
    checks = findings.rules.raw["checks"]
    rec = findings.reconciliation
    frames = [
        rec.assign(n=~rec["within_tolerance"])
        .groupby(["institution_id", "period"], as_index=False)
        .agg(findings=("n", "sum"))
        .assign(
            rule="reconcile",
            label="S71与借据重算不一致",
            clause=lambda d: _clauses(findings.rules.raw["reconcile"], d["period"]),
            amount=np.nan,
        )
    ]
    for name, frame in findings.checks.items():
        if name == "renewal_share":
            g = frame.assign(findings=frame["watch"].astype(int), amount=frame["renewal_share_pct"])
            g = g[["institution_id", "period", "findings", "amount"]]
        else:
            amount_col = {"overdue_not_npl": "balance", "over_crediting": "own_line", "new_borrower": "amount"}[name]
            g = frame.groupby(["institution_id", "period"], as_index=False).agg(
                findings=("rule", "size"), amount=(amount_col, "sum")
            )
            g["amount"] = g["amount"] / 10_000
        frames.append(g.assign(rule=name, label=checks[name]["label"], clause=_clauses(checks[name], g["period"])))
    out = pd.concat(frames, ignore_index=True)
    return (
        out[["institution_id", "period", "rule", "label", "clause", "findings", "amount"]]
        .sort_values(["institution_id", "period", "rule"])
        .reset_index(drop=True)
    )


def bank_findings(findings: LoanFindings, institution_id: str, period) -> dict[str, pd.DataFrame]:
    """One bank's own findings for one month: reconciliation, each check, and a summary.

    Over-crediting rows show the city-wide number of banks and total line, never other banks' ids.
    """
    period = pd.Timestamp(period) + pd.offsets.MonthEnd(0)

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[(frame["institution_id"] == institution_id) & (frame["period"] == period)].reset_index(drop=True)

    out = {"reconciliation": own(findings.reconciliation)}
    out.update({name: own(frame) for name, frame in findings.checks.items()})
    out["summary"] = own(summary(findings))
    out["coverage"] = own(findings.coverage) if not findings.coverage.empty else findings.coverage
    return out


def overview_findings(findings: LoanFindings, period) -> pd.DataFrame:
    """All banks for one month: one row per bank and rule (the city overview)."""
    period = pd.Timestamp(period) + pd.offsets.MonthEnd(0)
    table = summary(findings)
    return table[table["period"] == period].reset_index(drop=True)


#: Chinese headers of the report tables (列名中文)
HEADERS_ZH: dict[str, str] = {
    "institution_id": "机构编码",
    "period": "数据期",
    "item": "S71项目",
    "reported": "报送值",
    "recomputed": "借据重算值",
    "difference": "差额",
    "tolerance": "容差",
    "within_tolerance": "在容差内",
    "unit": "单位",
    "clause": "通知条款",
    "rule": "规则",
    "label": "核查内容",
    "findings": "发现数",
    "amount": "涉及金额（万元）/占比（%）",
    "receipt_id": "借据号",
    "customer_id": "客户统一编号",
    "balance": "贷款余额（元）",
    "five_class": "五级分类",
    "overdue_days": "逾期天数",
    "own_line": "本行授信（元）",
    "banks": "授信银行数（全市）",
    "total_line": "全市授信合计（元）",
    "line_cap": "授信上限（元）",
    "many_banks": "多头授信",
    "above_cap": "超过上限",
    "amount_yuan": "借据金额（元）",
    "disbursement_date": "发放日期",
    "founding_date": "成立日期",
    "equity_transfer_date": "股权受让日期",
    "reason": "原因",
    "renewal_amount": "无还本续贷累放（元）",
    "ytd_amount": "普惠累放（元）",
    "renewal_share_pct": "无还本续贷占比（%）",
    "renewed_npl_balance": "续贷后不良余额（元）",
    "watch": "关注",
    "id_number": "证件号码",
    "judged": "可判断笔数",
    "not_judged": "无法判断笔数",
}
SHEETS_ZH: dict[str, str] = {
    "summary": "借据核查汇总",
    "reconciliation": "S71与借据核对",
    "overdue_not_npl": "逾期未入不良",
    "over_crediting": "多头过度授信",
    "new_borrower": "新设主体贷款",
    "renewal_share": "无还本续贷占比",
    "coverage": "核查覆盖面",
}


def load_reported_cells(data_dir: Path | str) -> pd.DataFrame:
    """The S71 cells written by :func:`analysis.inputs.s71.import_s71` (``s71-cells.csv``) in a data folder."""
    path = Path(data_dir) / "s71-cells.csv"
    if not path.exists():
        raise DataValidationError(
            [
                Issue(
                    str(path),
                    None,
                    None,
                    "missing_table",
                    "s71-cells.csv（请先运行 analysis import-s71 / run import-s71 first）",
                )
            ]
        )
    cells = pd.read_csv(path, dtype={"institution_id": str, "cell": str, "sheet": str}, encoding="utf-8-sig")
    cells["period"] = pd.to_datetime(cells["period"])
    return cells


#: the tables of the city workbook (every bank, one row per bank or cell); each bank's own
#: workbook carries these for itself and the detail of every check
CITY_TABLES = ("summary", "reconciliation", "renewal_share", "coverage")


def _tables(findings: LoanFindings, period=None) -> dict[str, pd.DataFrame]:
    """Every findings table under its internal name, of one month when ``period`` is given."""
    tables = {"summary": summary(findings), "reconciliation": findings.reconciliation, **findings.checks}
    if not findings.coverage.empty:
        tables["coverage"] = findings.coverage
    if period is not None:
        month = pd.Timestamp(period) + pd.offsets.MonthEnd(0)
        tables = {name: frame[frame["period"] == month] for name, frame in tables.items()}
    return tables


def _sheet(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A findings table as its sheet: Chinese headers, the rule column only in the summary."""
    frame = frame.drop(columns=["rule"], errors="ignore") if name != "summary" else frame
    if "amount" in frame and name != "summary":
        frame = frame.rename(columns={"amount": "amount_yuan"})
    return frame.rename(columns=HEADERS_ZH).reset_index(drop=True)


def findings_sheets(
    findings: LoanFindings, period=None, institution_id: str | None = None, tables: tuple[str, ...] | None = None
) -> dict[str, pd.DataFrame]:
    """The findings as sheets with Chinese names and headers, for ``indicators.xlsx`` or a report.

    ``institution_id`` limits them to one bank (its own findings only); ``period`` to one month;
    ``tables`` to those tables (e.g. :data:`CITY_TABLES`).
    """
    out = {}
    for name, frame in _tables(findings, period).items():
        if tables is not None and name not in tables:
            continue
        if institution_id is not None:
            frame = frame[frame["institution_id"] == institution_id]
        out[SHEETS_ZH[name]] = _sheet(name, frame)
    return out


def write_findings_xlsx(
    findings: LoanFindings, path: Path | str, period=None, tables: tuple[str, ...] | None = None
) -> Path:
    """The findings sheets (Chinese names and headers; ``tables`` only, if given) to one workbook,
    written atomically."""
    from analysis.core.workbook import write_workbook  # text as text, never a formula

    return write_workbook(path, findings_sheets(findings, period, tables=tables))


def bank_sheets(findings: LoanFindings, period=None) -> dict[str, dict[str, pd.DataFrame]]:
    """Each bank's own findings as its sheets (:func:`findings_sheets` for every bank at once):
    {institution id: {sheet: frame}}; a table where the bank has no row is an empty sheet."""
    tables = _tables(findings, period)
    parts = {name: dict(iter(frame.groupby("institution_id", sort=False))) for name, frame in tables.items()}
    banks = sorted({bank for by_bank in parts.values() for bank in by_bank})
    return {
        bank: {SHEETS_ZH[name]: _sheet(name, parts[name].get(bank, frame.iloc[0:0])) for name, frame in tables.items()}
        for bank in banks
    }


def bank_folder(out: Path | str) -> Path:
    """Where ``analysis loans --out F.xlsx`` puts each bank's own workbook: ``F-机构/`` beside it."""
    out = Path(out)
    return out.with_name(f"{out.stem}-机构")


def _write_one(job: tuple[Path, dict[str, pd.DataFrame]]) -> Path:
    from analysis.core.workbook import write_workbook

    path, sheets = job
    return write_workbook(path, sheets)


def write_bank_workbooks(
    findings: LoanFindings, folder: Path | str, period=None, workers: int | None = None
) -> dict[str, Path]:
    """One workbook per bank, ``<folder>/<institution id>.xlsx``: its own findings in full (the file
    sent to that bank: no other bank is named), each written atomically, ``workers`` processes
    at a time (default: the machine's cores).

    A bank whose workbook fails does not stop the others; the failures are raised together at the
    end (DataValidationError naming each file, rule ``write_failed``). The folder then holds this
    run's workbooks only: a failed bank's file of an earlier run, or the file of a bank this run
    has no findings for, is removed, so that nothing in it reads as current when it is not."""
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool
    from multiprocessing import get_context

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    jobs = {bank: (folder / f"{bank}.xlsx", sheets) for bank, sheets in bank_sheets(findings, period).items()}
    workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    written: dict[str, Path] = {}
    failed: dict[str, Issue] = {}

    def fail(bank: str, exc: Exception) -> None:
        failed[bank] = Issue(str(jobs[bank][0]), None, None, "write_failed", f"{type(exc).__name__}: {exc}")

    if workers > 1:
        # spawned, not forked: the parent has run DuckDB's threads. A pool that cannot start (a
        # __main__ a child cannot import, e.g. a script read from standard input) leaves its banks
        # to the loop below.
        try:
            with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
                futures = {pool.submit(_write_one, job): bank for bank, job in jobs.items()}
                for future in as_completed(futures):
                    try:
                        written[futures[future]] = future.result()
                    except BrokenProcessPool:
                        raise
                    except Exception as exc:  # this bank's file only: the others go on
                        fail(futures[future], exc)
        except BrokenProcessPool:
            warnings.warn("并行写出不可用，逐个写出 / parallel writing unavailable: writing one by one", stacklevel=2)
    for bank, job in jobs.items():
        if bank not in written and bank not in failed:
            try:
                written[bank] = _write_one(job)
            except Exception as exc:  # this bank's file only: the others go on
                fail(bank, exc)
    current = set(written.values())
    for stale in folder.glob("*.xlsx"):
        if stale.is_file() and stale not in current:
            stale.unlink()
    if failed:
        raise DataValidationError(sorted(failed.values(), key=lambda issue: issue.file))
    return dict(sorted(written.items()))


__all__ = [
    "CITY_TABLES",
    "LoanFindings",
    "LoanRules",
    "analyse_loans",
    "bank_findings",
    "bank_folder",
    "bank_sheets",
    "connect",
    "coverage_table",
    "findings_sheets",
    "load_loan_rules",
    "load_reported_cells",
    "overview_findings",
    "print_progress",
    "recompute_s71",
    "reconcile",
    "run_checks",
    "summary",
    "write_bank_workbooks",
    "write_findings_xlsx",
]
