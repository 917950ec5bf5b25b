"""The computed state every report starts from, cached on disk by content.

Loading and validating the workbooks and computing every indicator takes about half a second;
a batch of sixty notebooks would repeat it sixty times. :func:`load_state` keys a pickle on the
SHA-256 of the input files, the params files and the package's own source, so any change to
data, rules or code recomputes it, and nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from analysis.files import atomic_path
from analysis.indicators import citywide_figures, compute_indicators, onlending_indicators
from analysis.loading import file_sha256
from analysis.policy import Policy, load_policies
from analysis.dataset import Dataset
from analysis.validation import load_dataset

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


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    digest = hashlib.sha256()
    for file in sorted(PACKAGE_DIR.rglob("*")):
        if file.is_file() and file.suffix in (".py", ".j2", ".css", ".json", ".js") and "__pycache__" not in file.parts:
            digest.update(file.relative_to(PACKAGE_DIR).as_posix().encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


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
        head = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                               capture_output=True, text=True, timeout=10).stdout.strip()
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
    for file in sorted(params_dir.glob("*.yaml")):
        hashes[f"params/{file.name}"] = file_sha256(file)
    return hashes


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
    _score_cache: dict = field(default_factory=dict, repr=False, compare=False)

    def scores(self, period: pd.Timestamp):
        """(scoring table, item points, totals) of every evaluated bank at ``period``, computed
        once per state and period; (None, None, None) when the year has no scoring table."""
        table = self.scoring.get(period.year)
        if table is None:
            return None, None, None
        if period not in self._score_cache:
            from analysis.scoring import score_cards

            self._score_cache[period] = score_cards(self.indicators, table, period, self.qualitative)
        items, totals = self._score_cache[period]
        return table, items, totals

    def policy(self, year: int) -> Policy:
        if year not in self.policies:
            from analysis.errors import ParamsError
            from analysis.policy import policy_path

            raise ParamsError(str(policy_path(self.params_dir, year)),
                              [f"no policy parameters for {year} / 缺少{year}年度考核参数文件"])
        return self.policies[year]


def cache_dir() -> Path:
    return Path(os.environ.get("ANALYSIS_CACHE_DIR") or project_root() / "reports" / ".cache")


def load_scoring_inputs(data_dir: Path, params_dir: Path, dataset: Dataset) -> tuple[dict, pd.DataFrame]:
    """Scoring tables of every year and the qualitative workbooks found for them; bad entries raise."""
    from analysis.errors import DataValidationError
    from analysis.scoring import QUALITATIVE_COLUMNS, find_qualitative, load_scoring, read_qualitative

    tables = {}
    for path in sorted(Path(params_dir).glob("scoring-*.yaml")):
        table = load_scoring(path)
        tables[table.year] = table
    frames, issues = [], []
    known = set(dataset.institutions["institution_id"])
    for year, table in tables.items():
        path = find_qualitative(Path(data_dir), year)
        if path is not None:
            frame, found = read_qualitative(path, table, known)
            frames.append(frame[frame["year"] == year])
            issues += found
    if issues:
        raise DataValidationError(issues)
    qualitative = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(QUALITATIVE_COLUMNS))
    return tables, qualitative


def compute_state(data_dir: Path, params_dir: Path, hashes: dict[str, str] | None = None) -> State:
    policies = load_policies(params_dir)
    dataset = load_dataset(data_dir, params_dir)
    scoring, qualitative = load_scoring_inputs(data_dir, params_dir, dataset)
    indicators = compute_indicators(dataset, policies)
    return State(dataset=dataset, policies=policies, indicators=indicators,
                 citywide=citywide_figures(indicators, policies),
                 onlending=onlending_indicators(dataset, indicators, policies),
                 data_dir=data_dir, params_dir=params_dir,
                 hashes=hashes if hashes is not None else input_hashes(data_dir, params_dir),
                 scoring=scoring, qualitative=qualitative)


def load_state(data_dir: Path | str = "data/demo", params_dir: Path | str = "params",
               use_cache: bool = True) -> State:
    """Validated data, policies and every indicator; from the content-keyed cache when fresh."""
    data_dir, params_dir = resolve(data_dir), resolve(params_dir)
    hashes = input_hashes(data_dir, params_dir)
    key = hashlib.sha256(json.dumps([hashes, code_fingerprint(), pd.__version__], sort_keys=True)
                         .encode()).hexdigest()[:24]
    path = cache_dir() / f"state-{key}.pkl"
    if use_cache and path.exists():
        try:
            with open(path, "rb") as handle:
                state = pickle.load(handle)
            state.data_dir, state.params_dir = data_dir, params_dir
            return state
        except Exception:  # a corrupt or incompatible cache entry is simply recomputed
            pass
    state = compute_state(data_dir, params_dir, hashes)
    if use_cache:
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as handle:
                pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError:
            pass  # a read-only location: work without the cache
    return state
