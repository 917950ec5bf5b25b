"""Output formats of a report (输出格式登记表): one registry, read by the batch, the CLI and the site.

Each exporter is a name, a file suffix, a label shown on the site and the function that writes
the file. The batch asks the registry which files a report has, ``--formats`` accepts its names,
the up-to-date check and the manifest record outputs by name, and the site links every recorded
output with its label. Adding a format is one new module with a ``write(report, target)``
function and one line in :data:`EXPORTERS` (``json`` below, :mod:`analysis.outputs.summary_json`, is the
example). Functions are named as ``"module:function"`` and imported only when a report is
written, so the parent process never loads nbconvert or WeasyPrint.

An exporter of ``scope="period"`` writes once per period rather than once per report: the batch
calls ``write(state, period, out_dir, params_dir, generated)`` in the parent, after the reports,
and records each file it returns (:class:`analysis.outputs.documents.PeriodDocuments`) on the manifest
entry it belongs to; its ``check(params_dir)`` runs before any work, so a bad template stops the
run before anything is written. ``docx`` (the 通报 and the 监管提示函, :mod:`analysis.outputs.documents`) is
one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from analysis.core.errors import AnalysisError


@dataclass
class RenderedReport:
    """What an exporter gets: the executed notebook and what the batch knows about the report."""

    key: str
    title: str
    notebook: Any  # nbformat.NotebookNode, executed
    footer: str = ""
    cover: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    period: str = ""
    #: the run already warned that PDFs are made without HarfBuzz-subset (``--allow-slow-pdf``)
    slow_pdf_reported: bool = False
    #: what the exporters' libraries reported while writing (WeasyPrint's warnings), for the summary
    warnings: list[str] = field(default_factory=list)

    @cached_property
    def html(self) -> str:
        """The self-contained HTML report, rendered once and shared by the HTML and PDF exporters."""
        from analysis.outputs.html import notebook_to_html

        return notebook_to_html(self.notebook, title=self.title, footer=self.footer)


@dataclass(frozen=True)
class Exporter:
    name: str
    suffix: str
    label: str
    target: str  # "module:function"; the function is (report: RenderedReport, path: Path) -> None
    #: "report": one file per report, written by the worker; "period": written once per period
    #: from the state, after the reports (``target`` is then (state, period, out_dir, params_dir,
    #: generated) -> PeriodDocuments)
    scope: str = "report"
    #: "module:function" called with the params folder and the run's period before any work ("" for none)
    check: str = ""

    @property
    def write(self) -> Callable[..., Any]:
        return _load(self.target)

    def check_params(self, params_dir: Path, period: str | None = None) -> None:
        """Refuse bad params before any work (``period``: the run's; None: every year's)."""
        if self.check:
            _load(self.check)(params_dir, period)

    def filename(self, key: str) -> str:
        return f"{key}{self.suffix}"


def _load(target: str) -> Callable[..., Any]:
    module, function = target.split(":")
    return getattr(importlib.import_module(module), function)


def write_html(report: RenderedReport, target: Path) -> None:
    from analysis.core.files import atomic_write_text

    atomic_write_text(target, report.html)


def write_pdf(report: RenderedReport, target: Path) -> None:
    from analysis.outputs.pdf import report_pdf

    logged = report_pdf(report.html, target, **report.cover, slow_pdf_reported=report.slow_pdf_reported)
    report.warnings.extend(f"PDF (WeasyPrint): {message}" for message in logged)


#: every output format, in the order the site shows their links
EXPORTERS: dict[str, Exporter] = {
    "html": Exporter("html", ".html", "HTML", "analysis.outputs.registry:write_html"),
    "pdf": Exporter("pdf", ".pdf", "PDF", "analysis.outputs.registry:write_pdf"),
    "json": Exporter("json", ".json", "JSON", "analysis.outputs.summary_json:write_summary_json"),
    "docx": Exporter(
        "docx",
        ".docx",
        "Word",
        "analysis.outputs.documents:write_period_docx",
        "period",
        "analysis.outputs.documents:check_templates",
    ),
}
DEFAULT_FORMATS: tuple[str, ...] = ("html", "pdf")


def report_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats written once per report (by the workers)."""
    return tuple(f for f in formats if EXPORTERS[f].scope == "report")


def period_formats(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats written once per period (by the parent, after the reports)."""
    return tuple(f for f in formats if EXPORTERS[f].scope == "period")


class UnknownFormatError(AnalysisError, ValueError):
    pass


def parse_formats(text: str | Iterable[str]) -> tuple[str, ...]:
    """``"html,pdf"`` → ``("html", "pdf")`` in registry order; unknown names are refused."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in EXPORTERS]
    if unknown or not names:
        raise UnknownFormatError(
            f"未知输出格式 / unknown output format: {', '.join(unknown) or '(none)'}; "
            f"可选 / one of: {', '.join(EXPORTERS)}"
        )
    return tuple(n for n in EXPORTERS if n in names)


__all__ = [
    "DEFAULT_FORMATS",
    "EXPORTERS",
    "Exporter",
    "RenderedReport",
    "UnknownFormatError",
    "parse_formats",
    "period_formats",
    "report_formats",
]
