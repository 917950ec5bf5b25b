"""Recording (记录): a new generation of data withdraws the period's old summaries; each finished
report is written into the manifest the moment it lands, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

from analysis.batch.jobs import ENTRY_STATUS, PERIOD_SUMMARIES, Job, JobResult
from analysis.batch.plan import BatchPlan, _plain, data_generation
from analysis.batch.worker import _error_text
from analysis.core.manifest import Manifest, ManifestEntry, ReportMeta
from analysis.core.periods import CHINA_TZ, parse_period
from analysis.outputs.registry import EXPORTERS
from analysis.state import State

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
    period_end = parse_period(batch.period)
    policy = batch.state.policies.get(period_end.year)
    manifest.labels = site_labels(policy) if policy is not None else {}
    if batch.period in {f"{p:%Y-%m}" for p in batch.state.citywide.index}:
        city = {k: _plain(v) for k, v in batch.state.citywide.loc[period_end].items()}
        # the city figures of rules the year has, only (a year without the plan rule publishes no plan figure)
        manifest.citywide = {
            k: v
            for k, v in city.items()
            if not manifest.labels or f"city:{k}" in manifest.labels or not k.endswith(_FIGURES)
        }
    manifest.save(batch.manifest_path)


#: the city figures the site shows as cards (the rest of ``state.citywide`` is kept as it is)
_FIGURES = ("two_increases_met", "plan_completion_pct")


def site_labels(policy) -> dict[str, str]:
    """The year's names of the site's verdict columns and city cards (:attr:`Manifest.labels`)."""
    from analysis.content.overview import quantity_group_name

    labels: dict[str, str] = {}
    if policy.in_force("two_increases"):
        labels["two_increases"] = policy.label("two_increases").strip("“”")
        labels["city:legal_two_increases_met"] = f"辖内{quantity_group_name(policy)}总体{policy.label('two_increases')}"
    if policy.in_force("plan"):
        labels["plan"] = "信贷计划"
        labels["city:legal_plan_completion_pct"] = "法人银行总体信贷计划完成率"
        labels["city:branch_plan_completion_pct"] = "分支银行总体信贷计划完成率"
    if policy.in_force("rate_change") or policy.in_force("high_rate"):
        labels["rate"] = "利率"
    if policy.in_force("npl"):
        labels["npl"] = "不良"
    return labels


def record(batch: BatchPlan, job: Job, result: JobResult) -> None:
    """Write one finished report into the manifest, atomically, the moment it lands."""
    if result.status not in ("done", "failed", "aborted"):
        return
    batch.manifest.record(_entry(batch, job, result))
    batch.manifest.save(batch.manifest_path)


def _entry(batch: BatchPlan, job: Job, result: JobResult) -> ManifestEntry:
    return ManifestEntry(
        key=job.key,
        title=job.title,
        status=ENTRY_STATUS[result.status],
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


def record_period_files(manifest: Manifest, fmt: str, files: dict[str, str]) -> None:
    """Record a period exporter's files on the entries they belong to (``overview`` for the 通报,
    an institution for its letter); an entry that got none this time loses its old link."""
    current = manifest.current()
    for key, entry in manifest.entries.items():
        if key in files and key in current:
            entry.outputs[fmt] = files[key]
        else:
            entry.outputs.pop(fmt, None)


def write_period_outputs(
    state: State, period: str, out_dir: Path, formats: tuple[str, ...], generated: datetime, manifest: Manifest
) -> list[JobResult]:
    """Write the period-scope outputs (:func:`analysis.outputs.registry.period_formats`) from the
    state and record them in the manifest; returns what failed (a failure never loses the reports)
    and the exporters' notes for the summary (the drafts' date of issue)."""
    results = []
    for fmt in formats:
        exporter = EXPORTERS[fmt]
        start = time.perf_counter()
        try:
            written = exporter.write(state, period, out_dir, state.params_dir, generated)
        except Exception as exc:  # noqa: BLE001 - reported with the run's other failures
            results.append(
                JobResult(f"{fmt} ({exporter.label})", "failed", time.perf_counter() - start, _error_text(exc))
            )
            continue
        record_period_files(manifest, fmt, written.files)
        notes = getattr(written, "notes", [])
        if notes:
            results.append(JobResult(f"{fmt} ({exporter.label})", "note", warnings=notes))
        results += [
            JobResult(f"{key} ({exporter.label})", "failed", error=error) for key, error in written.failed.items()
        ]
    return results
