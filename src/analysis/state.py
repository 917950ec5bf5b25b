"""The computed state every report starts from, cached on disk by content.

Loading and validating the workbooks and computing every indicator takes about half a second;
a batch of sixty notebooks would repeat it sixty times. :func:`load_state` keys a pickle on the
SHA-256 of the input files, the params files and the package's own source, so any change to
data, rules or code recomputes it, and nothing else does. The cache lives outside the published
``reports/`` folder and a pickle is loaded only if this user wrote it (:func:`read_cache`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import stat
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from analysis.core.dataset import Dataset
from analysis.core.files import atomic_path
from analysis.core.policy import Policy, load_policies
from analysis.inputs.loading import file_sha256
from analysis.inputs.validation import load_dataset, require_params_dir
from analysis.rules.indicators import citywide_figures, compute_indicators, onlending_indicators

PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The workbook folder: the nearest parent of the working directory with params/ and
    pyproject.toml, else the checkout this package was installed from."""
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "pyproject.toml").exists() and (folder / "params").is_dir():
            return folder
    candidate = PACKAGE_DIR.parents[1]
    if (candidate / "params").is_dir():
        return candidate
    return Path.cwd()


def resolve(path: Path | str) -> Path:
    """A path as given if it exists (absolute or relative to the working directory), else
    relative to the project root — so notebooks run from notebooks/ or from the root alike."""
    path = Path(path)
    if path.is_absolute() or path.exists():
        return path.resolve()
    return (project_root() / path).resolve()


#: the package's files whose content a cached state depends on: code, the loan rules' SQL, templates
CODE_SUFFIXES = (".py", ".sql", ".j2", ".css", ".json", ".js")


def _code_fingerprint(package_dir: Path) -> str:
    digest = hashlib.sha256()
    for file in sorted(package_dir.rglob("*")):
        if file.is_file() and file.suffix in CODE_SUFFIXES and "__pycache__" not in file.parts:
            digest.update(file.relative_to(package_dir).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """Digest of the package's code, SQL and templates: part of every cache key, so a changed rule
    (a ``.sql`` file of the loan checks included) is never answered from an old cache."""
    return _code_fingerprint(PACKAGE_DIR)


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("analysis")
    except PackageNotFoundError:
        return "unknown"


def git_commit() -> str:
    """HEAD of the project checkout, with '+dirty' when files differ; 'unknown' outside git."""
    root = project_root()
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def input_hashes(data_dir: Path, params_dir: Path) -> dict[str, str]:
    """SHA-256 of every data file and every params file."""
    hashes: dict[str, str] = {}
    files = sorted(data_dir.iterdir()) if data_dir.is_dir() else [data_dir]
    for file in files:
        if file.is_file() and file.suffix in (".xlsx", ".csv", ".parquet") and not file.name.startswith(("~$", ".")):
            hashes[f"data/{file.name}"] = file_sha256(file)
    loans = data_dir / LOANS_FOLDER if data_dir.is_dir() else None
    if loans is not None and loans.is_dir():  # loan-level tables, one folder per bank (借据级数据)
        for file in sorted(loans.rglob("*")):
            if file.is_file() and file.suffix in (".csv", ".parquet") and not file.name.startswith(("~$", ".")):
                hashes[f"data/{file.relative_to(data_dir).as_posix()}"] = file_sha256(file)
    for file in sorted(params_dir.glob("*.yaml")):
        hashes[f"params/{file.name}"] = file_sha256(file)
    for file in sorted(params_dir.glob("s71/*.yaml")):
        hashes[f"params/s71/{file.name}"] = file_sha256(file)
    for file in sorted(params_dir.glob("east/*.yaml")):  # the EAST column and value mappings, rates
        hashes[f"params/east/{file.name}"] = file_sha256(file)
    return hashes


#: the loan-level folder inside a data folder (receipts, customers, credit lines; one subfolder per bank)
LOANS_FOLDER = "loans"


def has_loan_data(data_dir: Path) -> bool:
    """The data folder has loan-level tables (``loans/``) and the importer's ``s71-cells.csv``."""
    return (Path(data_dir) / LOANS_FOLDER).is_dir() and (Path(data_dir) / "s71-cells.csv").exists()


def compute_loan_findings(data_dir: Path, params_dir: Path, bank: str | None = None, progress=None):
    """Reconciliation of the S71 returns with the loan-level data and the supervisory checks
    (:mod:`analysis.inputs.loans`), when :func:`has_loan_data`; None otherwise. DuckDB reads the loan
    files in place. ``bank``: that institution's findings only (its rows of the city-wide run).
    ``progress``: called after each phase (``analysis.inputs.loans.analyse_loans``)."""
    if not has_loan_data(data_dir):
        return None
    from analysis.inputs.loans import analyse_loans, load_loan_rules, load_reported_cells

    rules = load_loan_rules(Path(params_dir) / "loans.yaml")
    return analyse_loans(
        Path(data_dir) / LOANS_FOLDER,
        load_reported_cells(data_dir),
        rules,
        threads=2,
        bank=bank,
        data_dir=data_dir,
        params_dir=params_dir,
        progress=progress,
    )


@dataclass
class State:
    dataset: Dataset
    policies: dict[int, Policy]
    indicators: pd.DataFrame
    citywide: pd.DataFrame
    onlending: pd.DataFrame
    data_dir: Path
    params_dir: Path
    hashes: dict[str, str] = field(default_factory=dict)
    #: scoring tables by year (params/scoring-YYYY.yaml) and the analysts' qualitative scores
    scoring: dict = field(default_factory=dict)
    qualitative: pd.DataFrame | None = None
    #: loan-level reconciliation and supervisory checks (analysis.inputs.loans.LoanFindings), when loan data
    #: exist and the state was loaded with them (``load_state(loans=False)`` leaves them to
    #: :meth:`loan_findings_for`, one bank at a time)
    loans: Any = None
    _score_cache: dict = field(default_factory=dict, repr=False, compare=False)
    _financing_cache: dict = field(default_factory=dict, repr=False, compare=False)
    _bank_loans: dict = field(default_factory=dict, repr=False, compare=False)

    def loan_findings_for(self, institution_id: str):
        """Loan-level findings that hold this bank's own (analysis.inputs.loans.LoanFindings), or None
        without loan data: the city-wide findings when the state has them, else this bank's alone,
        computed once per state (the same rows; ``analysis.inputs.loans.bank_findings`` picks them out)."""
        if self.loans is not None or not has_loan_data(self.data_dir):
            return self.loans
        if institution_id not in self._bank_loans:
            self._bank_loans[institution_id] = compute_loan_findings(
                self.data_dir, self.params_dir, bank=institution_id
            )
        return self._bank_loans[institution_id]

    def scores(self, period: pd.Timestamp):
        """(scoring table, item points, totals) of every evaluated bank at ``period``, computed
        once per state and period; (None, None, None) when the year has no scoring table."""
        table = self.scoring.get(period.year)
        if table is None:
            return None, None, None
        if period not in self._score_cache:
            from analysis.rules.scoring import score_cards

            self._score_cache[period] = score_cards(self.indicators, table, period, self.qualitative)
        items, totals = self._score_cache[period]
        return table, items, totals

    def has_financing(self) -> bool:
        """The data folder has the financing coordination mechanism's tables (推荐清单, 银行反馈)."""
        return getattr(self.dataset, "financing", None) is not None

    def financing(self, period: pd.Timestamp | str):
        """The financing coordination mechanism's figures at ``period`` (融资协调工作机制,
        :class:`analysis.rules.financing.FinancingFigures`), judged by that year's policy; None when
        the data have no 推荐清单 (the reports then say nothing of the mechanism). Computed once per
        state and period."""
        tables = getattr(self.dataset, "financing", None)
        if tables is None:
            return None
        end = pd.Timestamp(period) + pd.offsets.MonthEnd(0)
        if end not in self._financing_cache:
            from analysis.core.financing import load_financing_params
            from analysis.rules.financing import financing_figures

            self._financing_cache[end] = financing_figures(
                tables,
                end,
                self.policies.get(end.year),
                load_financing_params(self.params_dir),
            )
        return self._financing_cache[end]

    def policy(self, year: int) -> Policy:
        if year not in self.policies:
            from analysis.core.errors import ParamsError
            from analysis.core.policy import policy_path

            raise ParamsError(
                str(policy_path(self.params_dir, year)),
                [f"no policy parameters for {year} / 缺少{year}年度考核参数文件"],
            )
        return self.policies[year]


def cache_dir() -> Path:
    """Folder of the pickle cache: ``ANALYSIS_CACHE_DIR`` if set, else ``<project root>/.cache``.

    Never inside ``reports/``: that folder is published (``analysis serve``, a web server) and a
    pickle runs code when loaded. Created private (0700) when missing; an existing folder is left
    as it is, and :func:`read_cache` refuses it unless only its owner — this user — can write it.
    """
    folder = Path(os.environ.get("ANALYSIS_CACHE_DIR") or project_root() / ".cache")
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        pass  # read-only location: read_cache/write_cache then find nothing and skip
    return folder


def _owned_and_private(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else (no group or world write bit)."""
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        return False
    return not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def cache_folder_trusted(folder: Path) -> bool:
    """The cache folder is a directory owned by this user that no one else can write to."""
    try:
        info = os.stat(folder)  # a symlink is judged by the folder it points to
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and _owned_and_private(info)


def read_cache(path: Path) -> object | None:
    """The object pickled at ``path``, or None when absent, unreadable or not trusted.

    Unpickling runs code chosen by whoever wrote the file, so a cache entry is loaded only when
    this user wrote it: the file must be a regular file (not a symlink) owned by this user and not
    writable by group or others, in a folder that passes :func:`cache_folder_trusted`. Anyone
    able to plant a file that passes is already this user and could run code anyway, so an HMAC
    with a key kept beside the cache would add key handling but no protection. Anything else is
    ignored and the caller recomputes (and :func:`write_cache` replaces it).
    """
    path = Path(path)
    if not cache_folder_trusted(path.parent):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())  # the file actually opened, not a name checked earlier
        if not (stat.S_ISREG(info.st_mode) and _owned_and_private(info)):
            return None
        try:
            return pickle.load(handle)
        except Exception:  # a corrupt or incompatible cache entry is simply recomputed
            return None


def write_cache(path: Path, value: object) -> bool:
    """Pickle ``value`` to ``path`` (mode 0600) if the cache folder is trusted; False when skipped."""
    path = Path(path)
    if not cache_folder_trusted(path.parent):
        return False
    try:
        with atomic_path(path, mode=0o600) as tmp, open(tmp, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError:
        return False  # a read-only location: work without the cache
    return True


def load_scoring_inputs(data_dir: Path, params_dir: Path, dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    """Scoring tables of every year and the qualitative workbooks found for them; bad entries raise.
    A qualitative workbook no scoring table reads (a year without one) is added to the dataset's
    warnings (qualitative_without_scoring)."""
    from analysis.core.errors import DataValidationError
    from analysis.rules.scoring import (
        QUALITATIVE_COLUMNS,
        find_qualitative,
        load_scoring,
        qualitative_without_scoring,
        read_qualitative,
    )

    tables = {}
    for path in sorted(Path(params_dir).glob("scoring-*.yaml")):
        table = load_scoring(path)
        tables[table.year] = table
    unread = qualitative_without_scoring(Path(data_dir), Path(params_dir), set(tables))
    dataset.warnings.extend(w for w in unread if w not in dataset.warnings)
    frames, issues = [], []
    known = set(dataset.institutions["institution_id"])
    for year, table in tables.items():
        found_path = find_qualitative(Path(data_dir), year)
        if found_path is not None:
            path = found_path
            frame, found = read_qualitative(path, table, known)
            frames.append(frame[frame["year"] == year])
            issues += found
    if issues:
        raise DataValidationError(issues)
    qualitative = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(QUALITATIVE_COLUMNS))
    return tables, qualitative


def state_from_dataset(
    dataset: Dataset, policies: dict[int, Policy], data_dir: Path, params_dir: Path, **extra: Any
) -> State:
    """Every indicator, the city-wide figures and on-lending of a validated dataset, as a State
    (the one place they are derived; ``extra`` fills hashes, scoring, qualitative, loans)."""
    from analysis.core.indicator_defs import load_indicator_params

    indicators = compute_indicators(dataset, policies, load_indicator_params(params_dir))
    return State(
        dataset=dataset,
        policies=dict(policies),
        indicators=indicators,
        citywide=citywide_figures(indicators, policies),
        onlending=onlending_indicators(dataset, indicators, policies),
        data_dir=data_dir,
        params_dir=params_dir,
        **extra,
    )


def compute_state(
    data_dir: Path, params_dir: Path, hashes: dict[str, str] | None = None, *, loans: bool = True, progress=None
) -> State:
    """Validate the data and derive everything; ``loans=False`` leaves the city-wide loan-level
    checks to :meth:`State.loan_findings_for` (one bank at a time). ``progress`` hears of each phase
    of the loan-level checks (a batch prints them)."""
    policies = load_policies(params_dir)
    dataset = load_dataset(data_dir, params_dir)
    scoring, qualitative = load_scoring_inputs(data_dir, params_dir, dataset)
    return state_from_dataset(
        dataset,
        policies,
        data_dir,
        params_dir,
        hashes=hashes if hashes is not None else input_hashes(data_dir, params_dir),
        scoring=scoring,
        qualitative=qualitative,
        loans=compute_loan_findings(data_dir, params_dir, progress=progress) if loans else None,
    )


def load_state(
    data_dir: Path | str = "data/demo",
    params_dir: Path | str = "params",
    use_cache: bool = True,
    *,
    loans: bool = True,
    progress=None,
) -> State:
    """Validated data, policies and every indicator; from the content-keyed cache when fresh.

    ``loans=False`` is for one institution's notebook: a cached state is used whether or not it
    holds the city-wide loan-level checks, and a state computed afresh leaves them out (about
    6 s of DuckDB on the demo data; the bank's own are computed when its report asks, ~1 s).
    It is cached apart, so a batch or the overview never takes it for the whole state.
    ``progress`` hears of each phase of the loan-level checks when they are computed (not cached).
    """
    data_dir, params_dir = resolve(data_dir), resolve(params_dir)
    require_params_dir(params_dir)  # without it every verdict would be 不适用: refused, naming the folder
    hashes = input_hashes(data_dir, params_dir)
    key = hashlib.sha256(json.dumps([hashes, code_fingerprint(), pd.__version__], sort_keys=True).encode()).hexdigest()[
        :24
    ]
    whole, partial = cache_dir() / f"state-{key}.pkl", cache_dir() / f"state-{key}-without-loans.pkl"
    if use_cache:
        for path in (whole,) if loans else (whole, partial):
            cached = read_cache(path)
            if isinstance(cached, State):
                cached.data_dir, cached.params_dir = data_dir, params_dir
                return cached
    state = compute_state(data_dir, params_dir, hashes, loans=loans, progress=progress)
    if use_cache:
        write_cache(whole if loans else partial, state)
    return state
