"""The records a run passes between its steps (作业与结果): a job, its result, the settings every
job of a run shares, the run's summary, and the rule that keeps every output inside the period folder.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from analysis.core.errors import ReportInputError
from analysis.outputs.registry import DEFAULT_FORMATS, EXPORTERS

OVERVIEW_KEY = "overview"
NOTEBOOK_FILES = {
    "bank": "institution_report.ipynb",
    "insurer": "insurer_report.ipynb",
    OVERVIEW_KEY: "city_overview.ipynb",
}
HEADLINE_STATUSES = {
    "two_increases": "status_two_increases",
    "plan": "status_plan",
    "rate": "status_rate_change",
    "npl": "status_npl",
}
#: indicator columns shown as an institution's headline figures (manifest meta, JSON summary)
HEADLINE_FIGURES = (
    "inclusive_balance_assessed",
    "inclusive_ytd_growth_pct",
    "growth_margin_pp",
    "borrowers_change",
    "plan_completion_pct",
    "rate_change_bp",
    "inclusive_npl_ratio_pct",
    "premium_yoy_pct",
)
LOCK_NAME = ".lock"
#: files removed when a new generation of data starts: they would show the old data
PERIOD_SUMMARIES = ("index.html", "indicators.xlsx")
#: a report past its timeout gets this much longer (for the kernel to be stopped) before its worker is killed
KILL_GRACE_SECONDS = 30.0
DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EDQUOT, errno.EPERM}
#: a job result's status -> its manifest entry's (aborted: the run stopped before it began)
ENTRY_STATUS: dict[str, Literal["done", "failed", "not_started"]] = {
    "done": "done",
    "failed": "failed",
    "aborted": "not_started",
}


# ---------------------------------------------------------------- jobs and results


@dataclass
class Job:
    key: str
    title: str
    notebook: str
    parameters: dict
    out_dir: str
    fingerprint: str
    meta: dict = field(default_factory=dict)
    cover: dict = field(default_factory=dict)

    @property
    def notebook_path(self) -> Path:
        return inside(Path(self.out_dir) / "notebooks", Path(self.out_dir) / "notebooks" / f"{self.key}.ipynb")

    @property
    def failed_notebook_path(self) -> Path:
        folder = Path(self.out_dir) / "notebooks" / "failed"
        return inside(folder, folder / f"{self.key}.ipynb")

    def output_path(self, fmt: str) -> Path:
        return inside(Path(self.out_dir), Path(self.out_dir) / EXPORTERS[fmt].filename(self.key))


@dataclass
class JobResult:
    key: str
    status: str  # done | skipped | failed | aborted (not run: the run stopped)
    seconds: float = 0.0
    error: str = ""
    failed_notebook: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    attempts: int = 1
    retryable: bool = False  # the kernel died: worth one more attempt
    fatal: bool = False  # the folder is full or read-only: stop the run
    warnings: list[str] = field(default_factory=list)  # what the exporters' libraries logged (WeasyPrint)


@dataclass
class WorkerSettings:
    """What every job of a run shares (sent to workers with each job)."""

    cwd: str
    footer: str
    period: str
    formats: tuple[str, ...] = DEFAULT_FORMATS
    timeout: float | None = None
    warm_kernels: bool = True
    #: the run was told to go on without HarfBuzz-subset and has said so once
    allow_slow_pdf: bool = False


@dataclass
class BatchSummary:
    period: str
    out_dir: Path
    results: list[JobResult]
    seconds: float
    #: why the manifest could not be saved at the end (empty when it was)
    manifest_error: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[JobResult]:
        return [r for r in self.results if r.status in ("failed", "aborted")]

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)


def inside(folder: Path, path: Path) -> Path:
    """``path`` if, once resolved, it is a file directly in ``folder``; refuses anything else (an id
    such as ``../../x`` must never write or delete outside the period folder, nor ``a/b`` make a
    subfolder)."""
    resolved, root = path.resolve(), folder.resolve()
    if not resolved.is_relative_to(root) or resolved.parent != root:
        raise ReportInputError(
            f"输出路径超出数据期文件夹 / output path outside the period folder: {path} "
            f"(folder {folder}); 机构编码不得含路径字符 / ids must not contain path characters"
        )
    return path
