"""JSON summary of one report (``<id>.json``): headline figures and verdicts, for other systems.

Added as the proof that an output format is one module and one registry line: the line
``"json": Exporter("json", ".json", "JSON", "analysis.outputs.summary_json:write_summary_json")`` in
:data:`analysis.outputs.registry.EXPORTERS`; nothing else in the batch, CLI, manifest or site changed.
``analysis run --formats html,pdf,json`` writes it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from analysis.core.columns import INDICATOR_COLUMNS
from analysis.core.files import atomic_write_text
from analysis.core.status import STATUS_LABELS
from analysis.outputs.registry import RenderedReport


def _number(value):
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def summary(report: RenderedReport) -> dict:
    meta = report.meta
    figures = {}
    for column, value in (meta.get("figures") or {}).items():
        label, unit = INDICATOR_COLUMNS.get(column, (column, ""))
        figures[column] = {"label": label, "unit": unit, "value": _number(value)}
    verdicts = {
        key: {"status": status, "label": STATUS_LABELS.get(status, status)}
        for key, status in (meta.get("verdicts") or {}).items()
    }
    return {
        "id": report.key,
        "name": meta.get("name", report.title),
        "period": report.period,
        "category": meta.get("category", ""),
        "division": meta.get("division", ""),
        "verdicts": verdicts,
        "score": meta.get("score"),
        "grade": meta.get("grade"),
        "figures": figures,
    }


def write_summary_json(report: RenderedReport, target: Path) -> None:
    atomic_write_text(target, json.dumps(summary(report), ensure_ascii=False, indent=1))
