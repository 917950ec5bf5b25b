"""Export executed notebooks to self-contained HTML with the project's own nbconvert template."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import nbformat

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
#: cells with these tags never reach a published report
REMOVE_TAGS = {"remove_cell", "parameters", "injected-parameters"}


def report_css() -> str:
    return (TEMPLATE_DIR / "report" / "static" / "report.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _exporter():
    """One exporter per process: a batch worker converts one notebook after another, and building
    the exporter (its configuration, template environment, preprocessors) is half of a conversion."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATE_DIR)],
        template_name="report",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True), enabled=True)
    return exporter


def notebook_to_html(nb: nbformat.NotebookNode, title: str, footer: str = "") -> str:
    """HTML of an executed notebook: outputs only, images embedded, no scripts or CDN links."""
    body, _ = _exporter().from_notebook_node(
        nb, resources={"report_title": title, "report_css": report_css(), "report_footer": footer}
    )
    return body


def notebook_file_to_html(path: Path | str, title: str, footer: str = "") -> str:
    return notebook_to_html(nbformat.read(str(path), as_version=4), title, footer)
