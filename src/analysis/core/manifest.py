"""The run manifest (运行清单) ``reports/<period>/manifest.json``: one typed model, written by the
batch and read by the site.

Each report has an entry: its status, the file of each output format (by the names of
:data:`analysis.outputs.registry.EXPORTERS`), the fingerprint that decides whether it is up to date, the
*generation* (a hash of the input data, params and package code it was made from), what the
site shows about it (``meta``) and, for a failure, the reason and the kept notebook.

The manifest is saved atomically after every finished report, so a run that is killed can be
resumed, and the site lists only the entries of the manifest's current generation, so it never
shows reports made from two versions of the data side by side.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from analysis.core.files import atomic_write_text

MANIFEST_NAME = "manifest.json"
SCHEMA_VERSION = 2

Figure = bool | int | float | None


class ReportMeta(BaseModel):
    """What the site index and the JSON summary show about one report."""

    model_config = ConfigDict(extra="forbid")

    name: str = ""
    category: str = ""
    entity_type: str = ""
    division: str = ""
    county_code: str = ""
    county: str = ""
    sector: str = ""
    #: headline verdicts by short key (two_increases, plan, rate, npl) → status value
    verdicts: dict[str, str] = Field(default_factory=dict)
    score: float | None = None
    grade: str | None = None
    #: headline figures by indicator column (analysis.core.columns.INDICATOR_COLUMNS) or citywide key
    figures: dict[str, Figure] = Field(default_factory=dict)


class ManifestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str
    title: str = ""
    #: not_started: the run stopped (a full disk) before this report began; ``error`` says why
    status: Literal["done", "failed", "not_started"]
    #: format name → file name inside the period folder
    outputs: dict[str, str] = Field(default_factory=dict)
    notebook: str = ""
    fingerprint: str = ""
    generation: str = ""
    seconds: float = 0.0
    attempts: int = 1
    generated: str = ""
    error: str = ""
    failed_notebook: str = ""
    meta: ReportMeta = Field(default_factory=ReportMeta)


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = SCHEMA_VERSION
    period: str = ""
    #: hash of the data, params and code of the latest run: entries of another generation are stale
    generation: str = ""
    updated: str = ""
    citywide: dict[str, Figure] = Field(default_factory=dict)
    #: the period's policy year's names, for the site: its verdict columns (by key of the headline
    #: verdicts: only the rules the year has) and ``city:<citywide key>`` for its city figures
    labels: dict[str, str] = Field(default_factory=dict)
    entries: dict[str, ManifestEntry] = Field(default_factory=dict)

    @classmethod
    def load(cls, path: Path | str) -> Manifest:
        """The manifest at ``path``; an empty one if it is missing, unreadable or of an older layout
        (every report is then simply re-run)."""
        path = Path(path)
        try:
            return cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError):
            return cls()

    def save(self, path: Path | str) -> Path:
        return atomic_write_text(path, self.model_dump_json(indent=1))

    def current(self) -> dict[str, ManifestEntry]:
        """Entries made from this generation's data (all entries when no generation is set)."""
        return {k: e for k, e in self.entries.items() if not self.generation or e.generation == self.generation}

    def record(self, entry: ManifestEntry) -> None:
        self.entries[entry.key] = entry


__all__ = ["MANIFEST_NAME", "Manifest", "ManifestEntry", "ReportMeta"]
