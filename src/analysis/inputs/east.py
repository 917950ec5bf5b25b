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
import csv
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from analysis.core.errors import DataValidationError, Issue, ParamsError
from analysis.core.files import (
    PRIVATE_FILE_MODE,
    ForeignFolder,
    atomic_private_path,
    file_fingerprint,
    private_file,
    private_folder,
    read_sidecar,
    write_sidecar,
)

SQL_DIR = Path(__file__).with_name("sql")
PARAMS_DIR = Path(__file__).resolve().parents[3] / "params"

#: internal view -> the EAST roles (params ``tables`` keys) it is built from
VIEW_ROLES: dict[str, tuple[str, ...]] = {
    "customers": ("corporate_customers", "personal_customers"),
    "contracts": ("contracts",),
    "receipts": ("corporate_receipts", "personal_receipts"),
    "credit_lines": ("credit_lines",),
}
#: internal view -> the column that keys its rows in a bank's snapshot (the EAST primary keys:
#: 客户统一编号, 信贷合同号, 信贷借据号, 授信协议号; with 金融许可证号 and 采集日期)
VIEW_KEYS: dict[str, str] = {"customers": "KHTYBH", "contracts": "XDHTH", "receipts": "XDJJH", "credit_lines": "SXXYH"}
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
#: full-width forms and the ideographic space, and the ASCII NFKC makes of them (sql ``identifier``)
_FULLWIDTH = "\u3000" + "".join(chr(c) for c in range(0xFF01, 0xFF5F))
_HALFWIDTH = " " + "".join(chr(c) for c in range(0x21, 0x7F))


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


# --- the caches of the CSV files -----------------------------------------------------------------
# DuckDB reads UTF-8 only, and tokenising a CSV is the dearest step of a pass: a GBK file gets a UTF-8
# copy (east-utf8/) and every CSV a Parquet copy (east-parquet/), made once and reused while the
# bank's file is unchanged. The copies are bank data and are trusted only as far as they are checked:
#
# * the folders are private (0700, this user's; a folder of another user is refused, naming it —
#   never written into, never replaced), the copies and their sidecars 0600;
# * each copy has a sidecar (<copy>.json) recording what it was made from — the bank's file (path,
#   size, mtime, SHA-256) and how (the reader) — and the copy itself as written (its SHA-256, and its
#   size, mtime, ctime, inode and device);
# * before use, the bank's file is hashed (in the one read that also tells UTF-8 from GBK) and must
#   match the record; the copy must be a private file of this user whose size, times, inode and device
#   are those recorded. Anything else — no sidecar, another owner, a mode open to others, a copy cut
#   short, rewritten or replaced — and the copy is made again. Hashing the copy on every use would read
#   again, on every run, what the conversion saves: the metadata check is enough in a folder only
#   this user can write, since writing, truncating or replacing a file changes its size, mtime or
#   inode, and setting its times back changes its ctime, which only the kernel sets.
# * a copy is written to a temporary named after the process and a random token and moved into
#   place with os.replace; while one process makes a copy, another wanting it waits (flock) and
#   then finds it made.

#: the sidecar format; a sidecar of another version is not trusted (the copy is made again)
_CACHE_VERSION = 1
_CHUNK = 1 << 20
_OPEN_NOFOLLOW = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class _BadBytes(Exception):
    """A bank's CSV file whose bytes are not text: ``rule``, the byte offset and line of the first
    bad byte (in the bank's own file), and a detail."""

    def __init__(self, rule: str, path: Path, offset: int, detail: str):
        super().__init__(detail)
        self.rule, self.offset, self.detail = rule, offset, detail
        self.line = _line_at(path, offset)


def _line_at(path: Path, offset: int) -> int:
    """The line (1 = the header) holding byte ``offset`` of ``path`` (a refusal's path only)."""
    newlines, done = 0, 0
    with path.open("rb") as f:
        while done < offset and (chunk := f.read(min(_CHUNK, offset - done))):
            newlines += chunk.count(b"\n")
            done += len(chunk)
    return newlines + 1


def _line_start(path: Path, line: int) -> int | None:
    """The byte offset where ``line`` (1 = the header) of ``path`` starts (a refusal's path only)."""
    if line <= 1:
        return 0
    seen, done = 0, 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            at = -1
            while seen < line - 1 and (at := chunk.find(b"\n", at + 1)) >= 0:
                seen += 1
            if seen == line - 1:
                return done + at + 1
            done += len(chunk)
    return None


@dataclass(frozen=True)
class _Origin:
    """A bank's CSV file as read this run: size and mtime (of the opened file), SHA-256, UTF-8 or not."""

    path: Path
    size: int
    mtime_ns: int
    sha256: str
    utf8: bool

    def record(self, sha256: str | None = None) -> dict:
        return {
            "path": str(self.path.resolve()),
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "sha256": sha256 or self.sha256,
        }

    def key(self, how: str = "") -> str:
        """The name of its copies: the file's path, size and mtime (an edited file gets new ones)."""
        return hashlib.sha256(f"{self.path.resolve()}|{self.size}|{self.mtime_ns}|{how}".encode()).hexdigest()[:24]


def _read_origin(path: Path) -> _Origin:
    """One streamed read of a bank's CSV file: its SHA-256 and whether it is UTF-8 (never loaded
    whole). Raises _BadBytes when it is UTF-8 up to its last bytes, which end inside a character."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as f:
        info = os.fstat(f.fileno())
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            offset = info.st_size - pending
            raise _BadBytes(
                "east_file_cut",
                path,
                offset,
                f"UTF-8，字节偏移/byte offset {offset:,}：字符不完整 / incomplete character",
            ) from None
    return _Origin(path, info.st_size, info.st_mtime_ns, digest.hexdigest(), utf8)


def _entry_ok(entry: Path, origin: _Origin, how: str) -> bool:
    """The copy ``entry`` may be used: its sidecar records this very bank file and reader, and the
    copy is a private file of this user, as it was when written (size, times, inode, device)."""
    record = read_sidecar(entry)
    if not record or record.get("version") != _CACHE_VERSION or record.get("how") != how:
        return False
    if record.get("origin") != origin.record():
        return False
    try:
        info = os.stat(entry, follow_symlinks=False)
    except OSError:
        return False
    return private_file(info) and (record.get("copy") or {}).get("fingerprint") == file_fingerprint(info)


@contextlib.contextmanager
def _locked(folder: Path):
    """One process at a time makes copies in ``folder``; another waits, then finds the copy made."""
    try:
        import fcntl
    except ImportError:  # no flock: the temporaries are per process, the last whole copy stays
        yield
        return
    lock, flags = folder / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(lock, flags, PRIVATE_FILE_MODE)
    except OSError:  # not this user's (left before the folder was made private), or a link: replaced
        try:
            lock.unlink(missing_ok=True)
            fd = os.open(lock, flags, PRIVATE_FILE_MODE)
        except OSError:
            fd = None
    if fd is None:  # no lock to be had: the temporaries are per process, the last whole copy stays
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _cached(entry: Path, origin: _Origin, how: str, write) -> Path:
    """``entry`` when its check passes, else made again by ``write(temporary) -> (SHA-256 of the
    copy, SHA-256 of the bank's file as read, or None)`` and recorded in its sidecar."""
    if _entry_ok(entry, origin, how):
        return entry
    with _locked(entry.parent):
        if _entry_ok(entry, origin, how):  # made by another process while this one waited
            return entry
        fd = None
        try:
            with atomic_private_path(entry) as tmp:
                copy_sha, origin_sha = write(tmp)
                os.chmod(tmp, PRIVATE_FILE_MODE)  # DuckDB's COPY puts a new file in the temporary's place
                fd = os.open(tmp, _OPEN_NOFOLLOW)
            info = os.fstat(fd)  # the copy moved into place (the move changes its ctime)
        finally:
            if fd is not None:
                os.close(fd)
        write_sidecar(
            entry,
            {
                "version": _CACHE_VERSION,
                "how": how,
                "origin": origin.record(origin_sha),
                "copy": {"sha256": copy_sha, "fingerprint": file_fingerprint(info)},
            },
        )
    return entry


def _utf8_copy(origin: _Origin, cache: Path) -> Path:
    """A UTF-8 copy of a GBK (GB18030) file under ``cache``, reused while the file is unchanged
    and its check passes; streamed, never loaded. Raises _BadBytes naming the byte offset and line
    of the bank's file where it is neither UTF-8 nor GBK."""

    def write(tmp: Path) -> tuple[str, str]:
        decoder = codecs.getincrementaldecoder("gb18030")()
        copy_sha, origin_sha = hashlib.sha256(), hashlib.sha256()
        fed = 0
        with origin.path.open("rb") as src, open(tmp, "wb") as dst:
            while True:
                chunk = src.read(_CHUNK)
                pending = len(decoder.getstate()[0])
                try:
                    text = decoder.decode(chunk, final=not chunk)
                except UnicodeDecodeError as exc:
                    offset = fed - pending + exc.start
                    if not chunk:  # the file ends inside a character
                        raise _BadBytes(
                            "east_file_cut",
                            origin.path,
                            offset,
                            f"GBK，字节偏移/byte offset {offset:,}：字符不完整 / incomplete character",
                        ) from None
                    raise _BadBytes(
                        "file_unreadable",
                        origin.path,
                        offset,
                        f"既非UTF-8也非GBK / neither UTF-8 nor GBK：字节偏移/byte offset {offset:,}（{exc.reason}）",
                    ) from None
                data = text.encode("utf-8")
                copy_sha.update(data)
                origin_sha.update(chunk)
                dst.write(data)
                fed += len(chunk)
                if not chunk:
                    return copy_sha.hexdigest(), origin_sha.hexdigest()

    return _cached(private_folder(cache) / f"{origin.key()}.csv", origin, "utf-8 from gb18030", write)


def _columnar_copy(con: duckdb.DuckDBPyConnection, origin: _Origin, readable: Path, reader: str, cache: Path) -> Path:
    """A Parquet copy of one CSV file under ``cache`` (reused while the file is unchanged and its
    check passes): the CSV is tokenised once, here, and not by each pass over it (the refusal filter,
    the tables, the receipts' scope, their dates). ``reader`` is the file's CSV reader of
    ``readable`` (the file itself or its UTF-8 copy); every column stays text."""
    how = "parquet of " + reader.replace(_literal(str(readable)), "?")

    def write(tmp: Path) -> tuple[str, None]:
        con.execute(f"COPY (SELECT * FROM {reader}) TO {_literal(str(tmp))} (FORMAT parquet)")
        with tmp.open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest(), None

    return _cached(private_folder(cache) / f"{origin.key(how)}.parquet", origin, how, write)


def _cache_folders(root: Path) -> tuple[Path, Path]:
    """The two cache folders under ``root``; made when first written to (private_folder)."""
    return root / "east-utf8", root / "east-parquet"


# --- who delivered a file ------------------------------------------------------------------------


def _first_licence(path: Path) -> str | None:
    """The 金融许可证号 of the first row of a file (best effort, for a refusal of the whole file)."""
    try:
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            parquet = pq.ParquetFile(path)
            name = next((n for n in parquet.schema_arrow.names if n.strip() in ("JRXKZH", "金融许可证号")), None)
            if name is None:
                return None
            first = next(parquet.iter_batches(batch_size=1, columns=[name])).column(0)[0].as_py()
            return str(first).strip() or None
        with path.open("rb") as f:
            head = f.read(1 << 16)
        try:
            text = head[: head.rfind(b"\n") + 1 or len(head)].decode("utf-8")
        except UnicodeDecodeError:
            text = head.decode("gb18030", errors="replace")
        lines = text.lstrip("\ufeff").splitlines()[:2]
        delim = max(",|\t;", key=lambda d: lines[0].count(d))
        header, first = (next(csv.reader([line], delimiter=delim)) for line in lines)
        at = next(i for i, h in enumerate(header) if h.strip() in ("JRXKZH", "金融许可证号"))
        return first[at].strip() or None
    except Exception:  # noqa: BLE001 — a file that cannot say is named by its folder alone
        return None


@dataclass(frozen=True)
class _Banks:
    """Says who delivered a file in every refusal: its path under the loans folder (the bank's
    folder), the bank (institution id) and its 金融许可证号 — twelve banks may each deliver an
    ``IE_005_504.csv``. The licence is the refused row's, else the one the org map gives the
    folder (a folder named by the institution id), else the file's first row's."""

    root: Path
    bank_of: dict[str, str]  # 金融许可证号 -> institution id (the org map)

    def relative(self, path: Path) -> str:
        try:
            return Path(path).relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def where(self, path: Path, licence: str | None = None) -> str:
        rel = Path(self.relative(path))
        folder = rel.parts[0] if len(rel.parts) > 1 else ""
        if licence is None:
            own = sorted(lic for lic, bank in self.bank_of.items() if bank == folder)
            licence = own[0] if len(own) == 1 else _first_licence(path)
        bank = self.bank_of.get(licence or "")
        if bank is None:
            bank = f"?（文件夹/folder {folder}）" if folder else "?"
        return f"{rel.as_posix()}（机构/bank {bank}，金融许可证号/licence {licence or '?'}）"


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
        text = (
            self.fragments[name]
            .replace("{identifier}", self.fragments["identifier"])
            .replace("{plain_identifier}", self.fragments["plain_identifier"])
        )
        return self.fill(
            text.replace("{x}", self.col(code))
            .replace("{open}", ", ".join(_literal(d) for d in self.spec.open_dates))
            .replace("{open_month}", ", ".join(_literal(d) for d in self.spec.open_months))
            .replace("{data_date}", "{date:CJRQ}")
            .replace("{fullwidth}", _literal(_FULLWIDTH))
            .replace("{halfwidth}", _literal(_HALFWIDTH))
        )

    def key_date(self, code: str) -> str:
        """A date column as its YYYYMMDD text, unparsed (a key's part: a bad date has its own refusal)."""
        header = self.source.headers.get(code)
        if header is None:
            return "CAST(NULL AS VARCHAR)"
        if self.source.types.get(header, "VARCHAR").upper().startswith(("DATE", "TIMESTAMP")):
            return f"strftime(CAST({_quote(header)} AS DATE), '%Y%m%d')"
        return f"trim(CAST({_quote(header)} AS VARCHAR))"

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
            if kind in ("id", "id_written"):  # a 证件号码 as matched across banks / as written if not so
                name = "identifier" if kind == "id" else "identifier_written"
                return self.fragment(name, arg) if arg in self.source.headers else "CAST(NULL AS VARCHAR)"
            if kind == "key_date":
                return self.key_date(arg)
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
            out.append((code, "east_not_finite", filler.fragment("not_finite", code)))
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


def _first_pass(con, spec: EastSpec, view: str, sources: list[_Source]) -> tuple[int, int]:
    """The one filtering pass over every file of one view (sql/east_refusals.sql ``first_pass``):
    (rows some condition refuses, rows that repeat a key of the view in a bank's snapshot)."""
    fragments = _sections("east_refusals.sql")
    rows = []
    for source in sources:
        filler = _Filler(spec, source)
        refused = " OR ".join(f"({c})" for _, _, c in _conditions(spec, filler))
        key = filler.fragment("key", VIEW_KEYS[view])
        rows.append(f"SELECT ({refused}) AS refused, {key} AS row_key FROM {filler.fill('{src}')}")
    refused, repeated = con.execute(fragments["first_pass"].replace("{rows}", " UNION ALL ".join(rows))).fetchone()
    return int(refused or 0), int(repeated or 0)


def _refusals(con, spec: EastSpec, filler: _Filler, banks: _Banks) -> list[Issue]:
    """Every refused value of one source, located (the first pass found some in its view). Each
    condition is counted, and the files of the conditions that fired are read again for the rows."""
    conds = _conditions(spec, filler)
    source = filler.fill("{src}")
    counts = con.execute(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE {c})" for _, _, c in conds) + f" FROM {source}"
    ).fetchone()
    src = filler.source
    issues: list[Issue] = []
    for (code, rule, cond), n in zip(conds, counts):
        if n:
            with file_order(con):
                issues += _located(con, spec, src, code, rule, cond, src.headers[code], banks)
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


def _one_file(spec: EastSpec, src: _Source, file: Path, readable: Path) -> _Filler:
    """The filler of one file of a source, read from the CSV (or Parquet) itself: its rows in file order."""
    return _Filler(spec, _Source(src.table, [file], [readable], src.headers, src.types, src.delim))


def _located(
    con, spec: EastSpec, src: _Source, code: str, rule: str, cond: str, header: str, banks: _Banks
) -> list[Issue]:
    issues: list[Issue] = []
    for file, readable in zip(src.files, src.readable):
        one = _one_file(spec, src, file, readable)
        located = con.execute(
            f"SELECT trim(CAST({one.col('JRXKZH')} AS VARCHAR)) AS licence, CAST({_quote(header)} AS VARCHAR) AS value, "
            f"count(*) AS n, min(_row) AS first_row "
            f"FROM (SELECT *, row_number() OVER () + 1 AS _row FROM {one.fill('{src}')}) "
            f"WHERE {one.fill(cond)} GROUP BY ALL ORDER BY first_row LIMIT {_LISTED}"
        ).fetchall()
        for licence, value, count, row in located:
            shown = "（空）" if value is None or str(value).strip() == "" else str(value)
            detail = f"{src.table.code} {src.table.name}.{code} {src.table.columns.get(code, '')}: {shown}"
            rule_code, _, name = rule.partition(":")
            if name:
                detail += f"（参数 values.{name} 未列出 / not in the mapping of {Path(spec.path).name}）"
            where = banks.where(file, licence or "")
            issues.append(Issue(file.name, int(row), header, rule_code, f"{where}：{detail} × {count}"))
    return issues


def _duplicates(con, spec: EastSpec, view: str, sources: list[_Source], banks: _Banks) -> list[Issue]:
    """Each key repeated in one bank's snapshot (the first pass counted some), with every place it
    is found — file and line, across the files of the view (sql/east_refusals.sql ``duplicates``)."""
    fragments = _sections("east_refusals.sql")
    code = VIEW_KEYS[view]
    places: list[tuple[Path, _Source]] = []
    rows = []
    for src in sources:
        for file, readable in zip(src.files, src.readable):
            rows.append(
                _one_file(spec, src, file, readable).fragment("key_rows", code).replace("{file_no}", str(len(places)))
            )
            places.append((file, src))
    with file_order(con):
        found = con.execute(
            fragments["duplicates"].replace("{rows}", " UNION ALL ".join(rows)).replace("{listed}", str(_LISTED))
        ).fetchall()
    issues = []
    for licence, data_date, key, count, where in found:
        file, src = places[where[1]["file_no"]]  # the second place: the row that repeats the key
        listed = "、".join(f"{banks.relative(places[p['file_no']][0])} 第{p['row']}行/line {p['row']}" for p in where)
        more = "" if count <= len(where) else " …"
        table = src.table
        issues.append(
            Issue(
                file.name,
                int(where[1]["row"]),
                src.headers[code],
                "east_duplicate_key",
                f"{banks.where(file, licence or '')}：{table.code} {table.name}.{code} {table.columns[code]} "
                f"{key}，采集日期/data date {data_date} × {count}：{listed}{more}",
            )
        )
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
    """The folder of the copies of the CSV files (``east-utf8/``, ``east-parquet/`` in it)."""
    if temp_dir:
        return Path(temp_dir)
    return Path(os.environ.get("ANALYSIS_CACHE_DIR") or PARAMS_DIR.parent / ".cache")


def _duckdb_message(exc: Exception, readable: Path, origin: Path, banks: _Banks) -> tuple[int | None, str]:
    """DuckDB's message on a CSV file, about the bank's file: (its line, if DuckDB names one; the
    message's first line, the cache copy's path replaced by the bank's file, and where that line
    starts in the bank's file)."""
    text = str(exc)
    for path in {str(readable), str(readable.resolve())}:
        text = text.replace(path, banks.relative(origin))
    first = text.splitlines()[0][:300] if text else type(exc).__name__
    found = re.search(r"\bLine:? (\d+)", text)
    if not found:
        return None, first
    line = int(found.group(1))
    start = _line_start(origin, line)
    at = f"字节偏移/byte offset {start:,}" if start is not None else "文件结尾之后 / past the end of the file"
    return line, f"{first}（第{line}行起于/line {line} starts at {at}）"


def _sources(
    con, table: EastTable, files: list[Path], cache: Path, banks: _Banks, issues: list[Issue]
) -> list[_Source]:
    """The files of one table grouped by their headers; missing columns and unreadable files listed
    (each with the bank's file, the bank and its licence)."""
    groups: dict[tuple, _Source] = {}
    by_name = {name: code for code, name in table.columns.items()}
    sniffed_by_header: dict[bytes, tuple[str, list]] = {}  # one sniff per header line, not per file
    utf8_cache, parquet_cache = _cache_folders(cache)

    def sniff(readable: Path, relaxed: bool = False) -> tuple[str, list]:
        padding = ", null_padding = true" if relaxed else ""
        return con.execute(
            f"SELECT Delimiter, Columns FROM sniff_csv(?, header = true, all_varchar = true{padding})",
            [str(readable)],
        ).fetchone()

    def lacks(sniffed: list) -> bool:
        written = {str(c["name"]).strip() for c in sniffed}
        written |= {name.upper() for name in written}
        return any(c not in written and table.columns[c] not in written for c in table.required)

    for f in files:
        delim, origin, readable = "", None, f
        try:
            if f.suffix.lower() == ".csv":
                origin = _read_origin(f)
                readable = f if origin.utf8 else _utf8_copy(origin, utf8_cache)
                with readable.open("rb") as head:
                    header_line = head.readline(1 << 16)
                if header_line not in sniffed_by_header:
                    found = sniff(readable)
                    if lacks(found[1]):
                        # a row with too few fields (a file cut inside a row) makes DuckDB's sniffer
                        # guess another dialect, with one column: sniffed again letting short rows be,
                        # the header is read right, and the Parquet copy refuses the row by its line
                        relaxed = sniff(readable, relaxed=True)
                        found = found if lacks(relaxed[1]) else relaxed
                    sniffed_by_header[header_line] = found
                delim, sniffed = sniffed_by_header[header_line]
                described = [(c["name"], "VARCHAR") for c in sniffed]
            else:
                described = con.execute(f"DESCRIBE SELECT * FROM {_reader([readable])}").fetchall()
        except ForeignFolder as exc:
            raise _foreign(exc) from None
        except _BadBytes as exc:
            issues.append(Issue(f.name, exc.line, None, exc.rule, f"{banks.where(f)}：{exc.detail}"))
            continue
        except Exception as exc:  # noqa: BLE001 — any reader error means an unreadable file
            line, message = _duckdb_message(exc, readable, f, banks)
            issues.append(Issue(f.name, line, None, "file_unreadable", f"{banks.where(f)}：{message}"))
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
                Issue(
                    f.name,
                    None,
                    code,
                    "missing_column",
                    f"{banks.where(f)}：{table.code} {table.name}: {code} {table.columns[code]}",
                )
            )
        if missing:
            continue
        columnar: list[Path] = []
        if delim:
            assert origin is not None  # a delimiter is sniffed from a CSV file only, whose origin is read
            one = _Source(table, [f], [readable], headers, types, delim)
            try:
                columnar = [_columnar_copy(con, origin, readable, one.reader([readable]), parquet_cache)]
            except ForeignFolder as exc:
                raise _foreign(exc) from None
            except duckdb.Error as exc:  # a row the CSV reader cannot split (DuckDB names its line)
                line, message = _duckdb_message(exc, readable, f, banks)
                issues.append(Issue(f.name, line, None, "file_unreadable", f"{banks.where(f)}：{message}"))
                continue
        key = (tuple(types.items()), delim, f.suffix.lower() == ".parquet")
        if key in groups:
            groups[key].files.append(f)
            groups[key].readable.append(readable)
            groups[key].columnar += columnar
        else:
            groups[key] = _Source(table, [f], [readable], headers, types, delim, columnar)
    return list(groups.values())


def _foreign(exc: ForeignFolder) -> DataValidationError:
    """A cache folder of another user: the run is refused, naming it (nothing in it is used)."""
    try:
        owner = f"属主/owner uid {os.stat(str(exc)).st_uid}，本用户/this user uid {os.geteuid()}"
    except OSError:
        owner = "不是目录 / not a folder"
    return DataValidationError([Issue(str(exc), None, None, "east_cache_foreign", owner)])


def simple_date_sql(header: str, kind: str) -> tuple[str, str]:
    """(parse expression, refusal condition or "") of a date column of the simplified tables."""
    x = _quote(header)
    if kind.upper().startswith(("DATE", "TIMESTAMP")):
        return f"CAST({x} AS DATE)", ""
    fragments = _sections("east_refusals.sql")
    return fragments["simple_date"].replace("{x}", x), fragments["simple_bad_date"].replace("{x}", x)


def simple_fragment(name: str, header: str) -> str:
    """A fragment of ``sql/east_refusals.sql`` (``identifier``, ``identifier_written``,
    ``not_finite``) over the column ``header`` of the simplified tables."""
    fragments = _sections("east_refusals.sql")
    return (
        fragments[name]
        .replace("{identifier}", fragments["identifier"])
        .replace("{plain_identifier}", fragments["plain_identifier"])
        .replace("{x}", _quote(header))
        .replace("{fullwidth}", _literal(_FULLWIDTH))
        .replace("{halfwidth}", _literal(_HALFWIDTH))
    )


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

    Every value of every file is checked first (``sql/east_refusals.sql``: one filtering pass over
    the files of each view, which also counts the keys repeated in a bank's snapshot; the conditions
    are counted and located only when one fired), then customers,
    contracts and lines are parsed once into DuckDB tables (``sql/east_views.sql``). The receipts
    stay a view, parsed in the one pass that puts them in scope (``sql/scope.sql``); with ``bank``
    it holds that bank's receipts only. Customers, contracts and lines are the city's either way
    (the cross-bank rule reads every bank's lines), and so are the receipts' data dates
    (``east_receipt_dates``).

    A GBK file is read through a UTF-8 copy and every CSV file through a Parquet copy, kept in
    ``east-utf8/`` and ``east-parquet/`` under ``temp_dir`` (default: the cache folder), each checked
    before use and made again when the check fails (see "the caches of the CSV files" above).

    Raises DataValidationError listing every missing table or column, unreadable file, refused
    value and repeated key (file, row, column, rule; the bank's file under ``folder``, the bank and
    its 金融许可证号 in the detail), or naming a cache folder of another user.
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
    banks = _Banks(folder, dict(zip(org["licence"], org["institution_id"])))
    sources: dict[str, list[_Source]] = {}
    for roles in VIEW_ROLES.values():
        present = [r for r in roles if files.get(r)]
        if not present:
            names = " / ".join(f"{spec.tables[r].code} {spec.tables[r].name}" for r in roles)
            issues.append(Issue(str(folder), None, None, "missing_table", names))
        for role in present:
            sources[role] = _sources(con, spec.tables[role], files[role], cache, banks, issues)
    if issues:
        raise DataValidationError(issues)
    for view, roles in VIEW_ROLES.items():  # every value of every file checked before any table is made
        group = [source for role in roles for source in sources.get(role, [])]
        refused, repeated = _first_pass(con, spec, view, group) if group else (0, 0)
        if refused:
            for source in group:
                issues += _refusals(con, spec, _Filler(spec, source), banks)
        if repeated:
            issues += _duplicates(con, spec, view, group, banks)
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
    # (a 客户统一编号 twice in one bank's snapshot, in one table or across the corporate and the
    # personal one, was refused by the first pass: east_duplicate_key)
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
    "simple_fragment",
]
