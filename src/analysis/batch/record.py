"""Recording (记录): a new generation of data withdraws the period's old summaries; each finished
report is written into the manifest the moment it lands, so a killed run resumes where it stopped.
"""

from __future__ import annotations

from datetime import datetime

from analysis.batch.jobs import PERIOD_SUMMARIES, Job, JobResult
from analysis.batch.plan import BatchPlan, _plain, data_generation
from analysis.core.manifest import ManifestEntry, ReportMeta
from analysis.core.periods import CHINA_TZ, parse_period

# ---------------------------------------------------------------- record


def start_generation(batch: BatchPlan) -> None:
    """Stamp the manifest with this run's generation; if the data changed, withdraw the period's
    index and workbook first, so the site never shows old and new reports side by side."""
    manifest = batch.manifest
    generation = data_generation(batch.state)
    if manifest.generation != generation:
        for name in PERIOD_SUMMARIES:
            (batch.out_dir / name).unlink(missing_ok=True)
    manifest.generation = generation
    manifest.period = batch.period
    manifest.updated = batch.generated.isoformat(timespec="seconds")
    if batch.period in {f"{p:%Y-%m}" for p in batch.state.citywide.index}:
        period_end = parse_period(batch.period)
        manifest.citywide = {k: _plain(v) for k, v in batch.state.citywide.loc[period_end].items()}
    manifest.save(batch.manifest_path)


def record(batch: BatchPlan, job: Job, result: JobResult) -> None:
    """Write one finished report into the manifest, atomically, the moment it lands."""
    if result.status not in ("done", "failed"):
        return
    entry = ManifestEntry(
        key=job.key,
        title=job.title,
        status="done" if result.status == "done" else "failed",
        outputs=result.outputs,
        notebook=f"notebooks/{job.key}.ipynb" if result.status == "done" else "",
        fingerprint=job.fingerprint if result.status == "done" else "",
        generation=batch.manifest.generation,
        seconds=round(result.seconds, 2),
        attempts=result.attempts,
        generated=datetime.now(CHINA_TZ).isoformat(timespec="seconds"),
        error=result.error,
        failed_notebook=result.failed_notebook,
        meta=ReportMeta.model_validate(job.meta),
    )
    batch.manifest.record(entry)
    batch.manifest.save(batch.manifest_path)
