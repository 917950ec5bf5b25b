"""EAST 5.0 loan-level tables as banks deliver them (EAST 5.0 借据、合同、客户、授信) -> the internal views.

The checks of :mod:`analysis.inputs.loans` read three views — ``receipts``, ``customers``, ``credit_lines``.
This module builds them as DuckDB views over the banks' own EAST tables, found in a folder by their
table code or Chinese name (``IE_005_504.csv``, ``对公信贷业务借据表.parquet``): 对公客户信息表
IE_002_203, 个人基础信息表 IE_002_201, 对公/个人信贷业务借据表 IE_005_504/503, 信贷合同表 IE_005_501,
授信信息表 IE_007_701. Headers may be the column codes or their Chinese names, files GBK or UTF-8
CSV or Parquet. What each column means and which internal value each written value maps to is data:
``params/east/east-<version>.yaml``; the views are the SQL of ``sql/east_views.sql`` and every value
is first checked by the conditions of ``sql/east_refusals.sql``. Nothing is read silently wrong: an
unparsable date or number, a value the mapping does not list, a 金融许可证号 not in the
报送机构编码对照 table, a currency without a rate — each is refused with file, row, column and rule.

pandas never holds a loan table: the checks are aggregate queries, and only the refused values
(a few per column) are fetched.

Why this module is long: one reader for six EAST tables — finding the files, their encodings and
headers, the org map, the refusals and the views — whose steps share the mapping of
``params/east/`` and one DuckDB connection; the rules themselves are the ``.sql`` files.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from analysis.core.errors import DataValidationError, Issue, ParamsError

SQL_DIR = Path(__file__).with_name("sql")
PARAMS_DIR = Path(__file__).resolve().parents[3] / "params"

#: internal view -> the EAST roles (params ``tables`` keys) it is built from
VIEW_ROLES: dict[str, tuple[str, ...]] = {
    "customers": ("corporate_customers", "personal_customers"),
    "contracts": ("contracts",),
    "receipts": ("corporate_receipts", "personal_receipts"),
    "credit_lines": ("credit_lines",),
}
#: the SQL section (sql/east_views.sql) of each role
_ROLE_SQL = {
    "corporate_customers": "corporate_customers",
    "personal_customers": "personal_customers",
    "contracts": "contracts",
    "corporate_receipts": "receipts",
    "personal_receipts": "receipts",
    "credit_lines": "credit_lines",
}
#: at most this many distinct refused values are listed per column
_LISTED = 10


# --- parameters ------------------------------------------------------------------------------


@dataclass(frozen=True)
class EastTable:
    role: str
    code: str
    name: str
    columns: dict[str, str]  # code -> Chinese name
    required: tuple[str, ...]


@dataclass(frozen=True)
class EastSpec:
    """One EAST version's tables, columns and value mappings (``params/east/east-<version>.yaml``)."""

    version: str
    valid_from: pd.Timestamp
    tables: dict[str, EastTable]
    values: dict[str, dict]
    open_dates: tuple[str, ...]
    open_months: tuple[str, ...]
    required_dates: frozenset[str]
    numbers: frozenset[str]
    dates: frozenset[str]
    months: frozenset[str]
    fx: pd.DataFrame  # currency, data_date, rate (元 per unit)
    path: str = ""


def load_east_specs(params_dir: Path | str | None = None) -> list[EastSpec]:
    """Every ``params/east/east-*.yaml``, checked, oldest version first."""
    folder = Path(params_dir or PARAMS_DIR) / "east"
    fx = _load_fx(folder / "fx-rates.yaml")
    specs = [_load_spec(path, fx) for path in sorted(folder.glob("east-*.yaml"))]
    if not specs:
        raise ParamsError(str(folder), ["no east-<version>.yaml"])
    return sorted(specs, key=lambda s: s.valid_from)


def _load_fx(path: Path) -> pd.DataFrame:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
    rows, problems = [], []
    for date, rates in ((data or {}).get("rates") or {}).items():
        for currency, rate in (rates or {}).items():
            if not re.fullmatch(r"[A-Z]{3}", str(currency)) or not isinstance(rate, (int, float)) or rate <= 0:
                problems.append(f"rates.{date}.{currency}: {rate!r} is not a positive rate of a 3-letter currency")
            rows.append((str(currency), pd.Timestamp(str(date)).date(), float(rate)))
    if problems:
        raise ParamsError(str(path), problems)
    return pd.DataFrame(rows, columns=["currency", "data_date", "rate"])


def _load_spec(path: Path, fx: pd.DataFrame) -> EastSpec:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    keys = ("version", "valid_from", "tables", "values", "open_dates", "open_months", "dates", "months", "numbers")
    problems = [f"missing key {k!r}" for k in keys if k not in data]
    tables: dict[str, EastTable] = {}
    if not problems:
        roles = {r for roles in VIEW_ROLES.values() for r in roles}
        for role in sorted(roles - set(data["tables"])):
            problems.append(f"tables.{role} is missing")
        for role, t in data["tables"].items():
            columns = {str(k): str(v) for k, v in (t.get("columns") or {}).items()}
            required = tuple(str(c) for c in t.get("required") or ())
            problems += [f"tables.{role}.required: {c} is not a column" for c in required if c not in columns]
            tables[role] = EastTable(role, str(t.get("code", "")), str(t.get("name", "")), columns, required)
        for name, v in data["values"].items():
            if "column" not in v or not isinstance(v.get("map"), dict):
                problems.append(f"values.{name} needs a column and a map")
            elif "priority" in v and not set(v["map"].values()) <= set(v["priority"]):
                problems.append(f"values.{name}.priority must list every mapped value")
    if problems:
        raise ParamsError(str(path), problems)
    return EastSpec(
        version=str(data["version"]),
        valid_from=pd.Timestamp(str(data["valid_from"])),
        tables=tables,
        values={k: dict(v) for k, v in data["values"].items()},
        open_dates=tuple(str(d) for d in data["open_dates"]),
        open_months=tuple(str(d) for d in data["open_months"]),
        required_dates=frozenset(str(d) for d in data.get("required_dates") or ()),
        numbers=frozenset(str(c) for c in data["numbers"]),
        dates=frozenset(str(c) for c in data["dates"]),
        months=frozenset(str(c) for c in data["months"]),
        fx=fx,
        path=str(path),
    )


# --- finding and reading the files -------------------------------------------------------------


def _table_of(path: Path, spec: EastSpec) -> EastTable | None:
    """The EAST table a file holds, by its code or Chinese name in the file name."""
    stem = path.stem.upper()
    for table in spec.tables.values():
        if table.code.upper() in stem or table.name in path.stem:
            return table
    return None


def find_east_files(folder: Path, spec: EastSpec) -> dict[str, list[Path]]:
    """role -> files, for every CSV/Parquet file under ``folder`` named after an EAST table."""
    found: dict[str, list[Path]] = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.suffix.lower() not in (".csv", ".parquet") or path.name.startswith((".", "~$")):
            continue
        table = _table_of(path, spec)
        if table is not None:
            found.setdefault(table.role, []).append(path)
    return found


def _utf8_copy(path: Path, cache: Path) -> Path:
    """``path`` itself when it is UTF-8, else a UTF-8 copy of the GBK (GB18030) file under ``cache``
    (reused while the file is unchanged). DuckDB reads UTF-8 only; the file is streamed, never loaded.
    Raises UnicodeDecodeError when it is neither."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as f:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        return path
    except UnicodeDecodeError:
        pass
    st = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    out = cache / f"{key}.csv"
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        part = out.with_name(out.name + ".part")
        with path.open("r", encoding="gb18030", newline="") as src, part.open("w", encoding="utf-8", newline="") as dst:
            while text := src.read(1 << 20):
                dst.write(text)
        part.replace(out)
    return out


def _columnar_copy(con: duckdb.DuckDBPyConnection, csv: Path, reader: str, cache: Path) -> Path:
    """A Parquet copy of one CSV file under ``cache`` (reused while the file is unchanged): the CSV
    is tokenised once, here, and not by each pass over it (the refusal filter, the tables, the
    receipts' scope, their dates). ``reader`` is the file's CSV reader; every column stays text."""
    st = csv.stat()
    key = hashlib.sha256(f"{csv.resolve()}|{st.st_size}|{st.st_mtime_ns}|{reader}".encode()).hexdigest()[:24]
    out = cache / f"{key}.parquet"
    if not out.exists():
        cache.mkdir(parents=True, exist_ok=True)
        part = out.with_name(f"{out.name}.{os.getpid()}.part")
        try:
            con.execute(f"COPY (SELECT * FROM {reader}) TO {_literal(str(part))} (FORMAT parquet)")
            part.replace(out)
        finally:
            part.unlink(missing_ok=True)
    return out


def _reader(files: list[Path]) -> str:
    listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
    if all(f.suffix.lower() == ".parquet" for f in files):
        return f"read_parquet([{listed}], union_by_name = true)"
    return f"read_csv([{listed}], union_by_name = true, header = true, all_varchar = true)"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


@dataclass
class _Source:
    """Files of one EAST table with the same headers: one SELECT of the view."""

    table: EastTable
    files: list[Path]  # as found (named in messages)
    readable: list[Path]  # what DuckDB reads (UTF-8 copies of GBK files)
    headers: dict[str, str]  # code -> the header as written (code or Chinese name)
    types: dict[str, str]  # header -> DuckDB type, in the file's column order
    delim: str = ""  # CSV only: the delimiter sniffed once per file
    #: CSV only: a Parquet copy of each file (every column text), which every pass reads instead of
    #: tokenising the CSV again; the refused values are still located in the CSV itself
    columnar: list[Path] = field(default_factory=list)

    def reader(self, readable: list[Path] | None = None) -> str:
        """The DuckDB reader of the files. CSV is read with the sniffed delimiter and columns
        given, every column text: sniffing on every bind of every view made connect 116 s on the demo, 15 s without."""
        if readable is None and self.columnar:
            return _reader(self.columnar)
        files = readable or self.readable
        if not self.delim:
            return _reader(files)
        listed = ", ".join(_literal(str(f)) for f in files)
        columns = ", ".join(f"{_literal(h)}: 'VARCHAR'" for h in self.types)
        return (
            f"read_csv([{listed}], auto_detect = false, header = true, delim = {_literal(self.delim)}, "
            f"quote = '\"', escape = '\"', columns = {{{columns}}})"
        )


def _sections(name: str) -> dict[str, str]:
    text = (SQL_DIR / name).read_text(encoding="utf-8")
    out: dict[str, str] = {}
    for part in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        key, _, body = part.partition("\n")  # comment lines are for the reader: kept out of the query
        lines = [line for line in body.splitlines() if not line.lstrip().startswith("--")]
        out[key.strip()] = "\n".join(lines).strip().rstrip(";")
    return out


_PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([A-Za-z_]+))?\}")


class _Filler:
    """Fills the placeholders of the SQL templates for one source."""

    def __init__(self, spec: EastSpec, source: _Source):
        self.spec, self.source = spec, source
        self.fragments = _sections("east_refusals.sql")

    def col(self, code: str) -> str:
        header = self.source.headers.get(code)
        return _quote(header) if header else "CAST(NULL AS VARCHAR)"

    def fragment(self, name: str, code: str) -> str:
        return self.fill(
            self.fragments[name]
            .replace("{x}", self.col(code))
            .replace("{open}", ", ".join(_literal(d) for d in self.spec.open_dates))
            .replace("{open_month}", ", ".join(_literal(d) for d in self.spec.open_months))
            .replace("{data_date}", "{date:CJRQ}")
        )

    def date(self, code: str) -> str:
        header = self.source.headers.get(code)
        if header is None:
            return "CAST(NULL AS DATE)"
        if self.source.types.get(header, "VARCHAR").upper().startswith(("DATE", "TIMESTAMP")):
            return f"CAST({_quote(header)} AS DATE)"  # a Parquet date column: a date already
        return self.fragment("date", code)

    def value(self, name: str) -> str:
        """The CASE of the value mapping ``name`` (NULL for a value it does not list)."""
        v = self.spec.values[name]
        header = self.source.headers.get(str(v["column"]))
        if header is None:
            return "CAST(NULL AS VARCHAR)"
        x = f"trim({_quote(header)})"
        mapping = {str(k): str(t) for k, t in v["map"].items()}
        if "separator" in v:  # several values in one cell: the first in priority order wins
            rank = {t: i + 1 for i, t in enumerate(v["priority"])}
            ranked = self._case("trim(s)", {k: str(rank[t]) for k, t in mapping.items()}, quote=False)
            order = "[" + ", ".join(_literal(t) for t in v["priority"]) + "]"
            parts = f"list_filter(string_split({x}, {_literal(v['separator'])}), lambda s: trim(s) <> '')"
            each = f"list_transform({parts}, lambda s: {ranked})"
            return (
                f"CASE WHEN len({parts}) = 0 OR list_bool_or(list_transform({each}, lambda r: r IS NULL)) THEN NULL "
                f"ELSE list_extract({order}, list_min({each})) END"
            )
        return self._case(x, mapping)

    @staticmethod
    def _case(x: str, mapping: dict[str, str], quote: bool = True) -> str:
        out = (lambda t: _literal(t)) if quote else (lambda t: t)
        exact = " ".join(f"WHEN {_literal(k)} THEN {out(t)}" for k, t in mapping.items() if not k.endswith("*"))
        prefix = " ".join(
            f"WHEN starts_with({x}, {_literal(k[:-1])}) THEN {out(t)}" for k, t in mapping.items() if k.endswith("*")
        )
        inner = f"CASE {prefix} END" if prefix else "NULL"
        return f"CASE {x} {exact} ELSE {inner} END" if exact else inner

    def fill(self, sql: str) -> str:
        def one(m: re.Match) -> str:
            kind, arg = m.group(1), m.group(2)
            if kind == "src":
                return f"({self.source.reader()})"
            if kind == "c":
                return self.col(arg)
            if kind == "date":
                return self.date(arg)
            if kind == "month":
                return self.fragment("month", arg) if arg in self.source.headers else "CAST(NULL AS VARCHAR)"
            if kind == "number":
                return self.fragment("number", arg) if arg in self.source.headers else "CAST(NULL AS DOUBLE)"
            if kind == "value":
                return self.value(arg)
            return m.group(0)

        return _PLACEHOLDER.sub(one, sql)


# --- refusals ---------------------------------------------------------------------------------


def _conditions(spec: EastSpec, filler: _Filler) -> list[tuple[str, str, str]]:
    """(column code, rule, SQL condition true for a refused row) for one source."""
    src = filler.source
    out = []
    for code in src.headers:
        if code in spec.dates and filler.date(code).startswith("CASE"):
            out.append((code, "east_bad_date", filler.fragment("bad_date", code)))
        if code in spec.months:
            out.append((code, "east_bad_date", filler.fragment("bad_month", code)))
        if code in spec.numbers:
            out.append((code, "east_bad_number", filler.fragment("bad_number", code)))
        if code in spec.required_dates:
            out.append((code, "east_missing_date", filler.fragment("missing_date", code)))
    out.append(("JRXKZH", "east_unknown_licence", filler.fragment("unknown_licence", "JRXKZH")))
    if "BZ" in src.headers:
        out.append(("BZ", "east_unknown_currency", filler.fragment("unknown_currency", "BZ")))
    for name, v in spec.values.items():
        code = str(v["column"])
        if code in src.headers and code in src.table.columns and v.get("complete", True):
            out.append((code, f"east_unknown_value:{name}", f"({filler.value(name)}) IS NULL"))
    return out


def _refusals(con, spec: EastSpec, filler: _Filler) -> list[Issue]:
    """Every refused value of one source, located. One filtering pass over the files asks whether
    any row breaks any condition (the usual answer, no); only then is each condition counted, and
    the files of the conditions that fired are read again for the rows."""
    conds = _conditions(spec, filler)
    source = filler.fill("{src}")
    if not con.execute(f"SELECT count(*) FROM {source} WHERE " + " OR ".join(f"({c})" for _, _, c in conds)).fetchone()[
        0
    ]:
        return []
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, _, c in conds) + f" FROM {source}"
    ).fetchone()
    src = filler.source
    issues: list[Issue] = []
    for (code, rule, cond), n in zip(conds, counts):
        if n:
            with file_order(con):
                issues += _located(con, spec, src, code, rule, cond, src.headers[code])
    return issues


@contextlib.contextmanager
def file_order(con: duckdb.DuckDBPyConnection):
    """``row_number() OVER ()`` in file order: one thread, insertion order kept (refusal path only)."""
    (threads,) = con.execute("SELECT current_setting('threads')").fetchone() or (1,)
    con.execute("SET threads = 1; SET preserve_insertion_order = true")
    try:
        yield
    finally:
        con.execute(f"SET threads = {int(threads)}; SET preserve_insertion_order = false")


def _located(con, spec: EastSpec, src: _Source, code: str, rule: str, cond: str, header: str) -> list[Issue]:
    issues: list[Issue] = []
    for file, readable in zip(src.files, src.readable):
        one = _Filler(spec, _Source(src.table, [file], [readable], src.headers, src.types, src.delim))
        located = con.execute(
            f"SELECT CAST({_quote(header)} AS VARCHAR) AS value, count(*) AS n, min(_row) AS first_row "
            f"FROM (SELECT *, row_number() OVER () + 1 AS _row FROM {one.fill('{src}')}) "
            f"WHERE {one.fill(cond)} GROUP BY ALL ORDER BY first_row LIMIT {_LISTED}"
        ).fetchall()
        for value, count, row in located:
            shown = "（空）" if value is None or str(value).strip() == "" else str(value)
            detail = f"{src.table.code} {src.table.name}.{code} {src.table.columns.get(code, '')}: {shown}"
            rule_code, _, name = rule.partition(":")
            if name:
                detail += f"（参数 values.{name} 未列出 / not in the mapping of {Path(spec.path).name}）"
            issues.append(Issue(file.name, int(row), header, rule_code, f"{detail} × {count}"))
    return issues


# --- org map ----------------------------------------------------------------------------------


def read_org_map(folders: list[Path], params_dir: Path | str | None = None) -> tuple[pd.DataFrame, str]:
    """The 报送机构编码对照 table (金融许可证号 -> 机构编码) the S71 importer reads (its names and
    headers in ``params/s71/import.yaml``: ``org_map``), found in the first of ``folders`` that has
    it (beside the loan files, then the data folder). Returns (licence, institution_id) and its file."""
    spec = yaml.safe_load((Path(params_dir or PARAMS_DIR) / "s71" / "import.yaml").read_text(encoding="utf-8"))[
        "org_map"
    ]
    names = {str(n) for n in spec["names"]}
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*") if folder == folders[0] else Path(folder).iterdir()):
            if path.stem not in names or path.suffix.lower() not in (".csv", ".xlsx", ".parquet"):
                continue
            frame = _small_table(path)
            headers = {str(c).strip().lower(): c for c in frame.columns}
            org = next((headers[h.lower()] for h in spec["org_num"] if h.lower() in headers), None)
            inst = next((headers[h.lower()] for h in spec["institution_id"] if h.lower() in headers), None)
            if org is None or inst is None:
                raise DataValidationError([Issue(path.name, None, "ORG_NUM/机构编码", "missing_column")])
            out = pd.DataFrame(
                {"licence": frame[org].astype(str).str.strip(), "institution_id": frame[inst].astype(str).str.strip()}
            )
            return out[out["licence"].ne("") & out["licence"].ne("nan")].drop_duplicates("licence"), str(path)
    return pd.DataFrame({"licence": pd.Series(dtype=str), "institution_id": pd.Series(dtype=str)}), ""


def _small_table(path: Path) -> pd.DataFrame:
    """A small lookup table (never a loan table): CSV in UTF-8 or GBK, XLSX or Parquet, as text."""
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path).astype(str)
    if path.suffix.lower() == ".xlsx":
        return pd.read_excel(path, dtype=str, engine="calamine")
    try:
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except UnicodeDecodeError:
        return pd.read_csv(path, dtype=str, encoding="gb18030")


# --- the views --------------------------------------------------------------------------------


def _cache_dir(temp_dir: Path | str | None) -> Path:
    if temp_dir:
        return Path(temp_dir) / "east-utf8"
    return Path(os.environ.get("ANALYSIS_CACHE_DIR") or PARAMS_DIR.parent / ".cache") / "east-utf8"


def _sources(con, table: EastTable, files: list[Path], cache: Path, issues: list[Issue]) -> list[_Source]:
    """The files of one table grouped by their headers; missing columns and unreadable files listed."""
    groups: dict[tuple, _Source] = {}
    by_name = {name: code for code, name in table.columns.items()}
    sniffed_by_header: dict[bytes, tuple[str, list]] = {}  # one sniff per header line, not per file
    for f in files:
        delim = ""
        try:
            if f.suffix.lower() == ".csv":
                readable = _utf8_copy(f, cache)
                with readable.open("rb") as head:
                    header_line = head.readline(1 << 16)
                if header_line not in sniffed_by_header:
                    sniffed_by_header[header_line] = con.execute(
                        "SELECT Delimiter, Columns FROM sniff_csv(?, header = true, all_varchar = true)",
                        [str(readable)],
                    ).fetchone()
                delim, sniffed = sniffed_by_header[header_line]
                described = [(c["name"], "VARCHAR") for c in sniffed]
            else:
                readable = f
                described = con.execute(f"DESCRIBE SELECT * FROM {_reader([readable])}").fetchall()
        except UnicodeDecodeError as exc:
            issues.append(
                Issue(f.name, None, None, "file_unreadable", f"既非UTF-8也非GBK / neither UTF-8 nor GBK: {exc}")
            )
            continue
        except Exception as exc:  # noqa: BLE001 — any reader error means an unreadable file
            issues.append(Issue(f.name, None, None, "file_unreadable", str(exc).splitlines()[0][:200]))
            continue
        types = {str(r[0]): str(r[1]) for r in described}
        headers: dict[str, str] = {}
        for written in types:
            code = written.strip().upper() if written.strip().upper() in table.columns else by_name.get(written.strip())
            if code is not None:
                headers.setdefault(code, written)
        missing = [c for c in table.required if c not in headers]
        for code in missing:
            issues.append(
                Issue(f.name, None, code, "missing_column", f"{table.code} {table.name}: {code} {table.columns[code]}")
            )
        if missing:
            continue
        columnar: list[Path] = []
        if delim:
            one = _Source(table, [f], [readable], headers, types, delim)
            try:
                columnar = [_columnar_copy(con, readable, one.reader([readable]), cache.with_name("east-parquet"))]
            except duckdb.Error as exc:  # a row the CSV reader cannot split (DuckDB names its line)
                issues.append(Issue(f.name, None, None, "file_unreadable", str(exc).splitlines()[0][:300]))
                continue
        key = (tuple(types.items()), delim, f.suffix.lower() == ".parquet")
        if key in groups:
            groups[key].files.append(f)
            groups[key].readable.append(readable)
            groups[key].columnar += columnar
        else:
            groups[key] = _Source(table, [f], [readable], headers, types, delim, columnar)
    return list(groups.values())


def simple_date_sql(header: str, kind: str) -> tuple[str, str]:
    """(parse expression, refusal condition or "") of a date column of the simplified tables."""
    x = _quote(header)
    if kind.upper().startswith(("DATE", "TIMESTAMP")):
        return f"CAST({x} AS DATE)", ""
    fragments = _sections("east_refusals.sql")
    return fragments["simple_date"].replace("{x}", x), fragments["simple_bad_date"].replace("{x}", x)


def is_east_folder(folder: Path | str, params_dir: Path | str | None = None) -> bool:
    """The folder holds at least one file named after an EAST table."""
    return bool(find_east_files(Path(folder), load_east_specs(params_dir)[-1]))


def create_east_views(
    con: duckdb.DuckDBPyConnection,
    folder: Path | str,
    data_dir: Path | str | None = None,
    params_dir: Path | str | None = None,
    temp_dir: Path | str | None = None,
    bank: str | None = None,
) -> dict[str, str]:
    """Create the views ``east_receipts``, ``east_customers``, ``east_credit_lines`` (and the
    contracts they need) over the EAST files under ``folder``; return {internal table: view name}.

    Every value of every file is checked first (``sql/east_refusals.sql``: one filtering pass per
    group of files; the conditions are counted and located only when one fired), then customers,
    contracts and lines are parsed once into DuckDB tables (``sql/east_views.sql``). The receipts
    stay a view, parsed in the one pass that puts them in scope (``sql/scope.sql``); with ``bank``
    it holds that bank's receipts only. Customers, contracts and lines are the city's either way
    (the cross-bank rule reads every bank's lines), and so are the receipts' data dates
    (``east_receipt_dates``).

    Raises DataValidationError listing every missing table or column, unreadable file and refused
    value (file, row, column, rule).
    """
    folder = Path(folder)
    specs = load_east_specs(params_dir)
    spec = specs[-1]  # the newest version; the data dates are checked against it below
    files = find_east_files(folder, spec)
    org, org_file = read_org_map([folder, Path(data_dir) if data_dir else folder.parent], params_dir)
    issues: list[Issue] = []
    if not org_file:
        issues.append(
            Issue(str(folder), None, "JRXKZH 金融许可证号", "east_no_org_map", "报送机构编码对照 / s71-org-map")
        )
    con.register("east_org_map_df", org)
    con.execute("CREATE OR REPLACE TEMP TABLE east_org_map AS SELECT * FROM east_org_map_df")
    con.register("east_fx_df", spec.fx)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE east_fx AS SELECT currency, CAST(data_date AS DATE) AS data_date, rate FROM east_fx_df"
    )
    cache = _cache_dir(temp_dir)
    sources: dict[str, list[_Source]] = {}
    for roles in VIEW_ROLES.values():
        present = [r for r in roles if files.get(r)]
        if not present:
            names = " / ".join(f"{spec.tables[r].code} {spec.tables[r].name}" for r in roles)
            issues.append(Issue(str(folder), None, None, "missing_table", names))
        for role in present:
            sources[role] = _sources(con, spec.tables[role], files[role], cache, issues)
    if issues:
        raise DataValidationError(issues)
    for group in sources.values():  # every value of every file checked before any table is made
        for source in group:
            issues += _refusals(con, spec, _Filler(spec, source))
    if issues:
        raise DataValidationError(issues)
    views = _sections("east_views.sql")

    def union(view: str, sql: str | None = None) -> str:
        """The SQL of ``view`` (its section of east_views.sql, or ``sql``) over every group of its files."""
        return " UNION ALL BY NAME ".join(
            f"({_Filler(spec, source).fill(sql or views[_ROLE_SQL[role]])})"
            for role in VIEW_ROLES[view]
            for source in sources.get(role, [])
        )

    def read(view: str) -> None:
        """Parse the files of ``view`` once, into the table ``east_<view>_all``."""
        con.execute(f"CREATE OR REPLACE TEMP TABLE east_{view}_all AS {union(view)}")

    def dates_of(table: str) -> set:
        return {d for (d,) in con.execute(f"SELECT DISTINCT data_date FROM {table}").fetchall() if d is not None}

    def settle(view: str, several: bool) -> None:
        """``east_<view>``: each row once — the latest snapshot of each key when the folder holds
        several data dates, else the table as it is (no window over it)."""
        if several:
            con.execute(f"CREATE OR REPLACE TEMP TABLE east_{view} AS {views['latest_' + view]}")
        else:
            drop = "data_date, line_id" if view == "credit_lines" else "data_date"
            con.execute(f"CREATE OR REPLACE TEMP VIEW east_{view} AS SELECT * EXCLUDE ({drop}) FROM east_{view}_all")

    # customers and contracts first: the lines and the receipts join them
    read("customers")
    read("contracts")
    dates = dates_of("east_customers_all") | dates_of("east_contracts_all")
    settle("customers", len(dates) > 1)
    settle("contracts", len(dates) > 1)
    read("credit_lines")
    dates |= dates_of("east_credit_lines_all")
    settle("credit_lines", len(dates) > 1)
    # the receipts stay a view: analysis.inputs.loans reads them once (sql/scope.sql), one bank's
    # only when asked
    receipts = union("receipts")
    if bank is not None:
        receipts = f"SELECT * FROM ({receipts}) WHERE bank_id = {_literal(bank)}"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW east_receipts AS {views['receipts_guarantee'].replace('{receipts}', receipts)}"
    )
    # the city's data dates (the cross-bank rule's) from every bank's files: 采集日期 only
    dates_sql = union("receipts", "SELECT DISTINCT {date:CJRQ} AS data_date FROM {src}")
    receipt_dates = {d for (d,) in con.execute(f"SELECT DISTINCT data_date FROM ({dates_sql})").fetchall() if d}
    dates |= receipt_dates
    # the receipts' data dates: a one-bank run needs the city's (city_receipt_dates of analysis.inputs.loans)
    listed = ", ".join(f"(DATE '{pd.Timestamp(d):%Y-%m-%d}')" for d in sorted(receipt_dates)) or "(NULL)"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE east_receipt_dates AS SELECT CAST(d AS DATE) AS data_date FROM (VALUES {listed}) v(d)"
    )
    if dates and pd.Timestamp(min(dates)) < spec.valid_from:
        raise DataValidationError(
            [
                Issue(
                    str(folder),
                    None,
                    "CJRQ 采集日期",
                    "east_no_version",
                    f"{min(dates)} < EAST {spec.version} {spec.valid_from:%Y-%m-%d}",
                )
            ]
        )
    doubled = con.execute(
        "SELECT bank_id, customer_id, count(*) FROM east_customers_all GROUP BY bank_id, customer_id, data_date "
        f"HAVING count(*) > 1 ORDER BY ALL LIMIT {_LISTED}"
    ).fetchall()
    if doubled:
        raise DataValidationError(
            [
                Issue(str(folder), None, "KHTYBH 客户统一编号", "east_duplicate_customer", f"{b} {c} × {n}")
                for b, c, n in doubled
            ]
        )
    return {"receipts": "east_receipts", "customers": "east_customers", "credit_lines": "east_credit_lines"}


__all__ = [
    "EastSpec",
    "EastTable",
    "create_east_views",
    "find_east_files",
    "is_east_folder",
    "load_east_specs",
    "read_org_map",
    "simple_date_sql",
]
