"""Rendering and writing (生成文书): each document rendered in memory with docxtpl, then the 通报
written atomically and the letters folder swapped in whole; one failed letter never loses the others.
"""

from __future__ import annotations

import io
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from analysis.core.files import atomic_path, replace_folder
from analysis.core.periods import chinese_date, parse_period
from analysis.outputs.documents.bulletin import bulletin_context
from analysis.outputs.documents.letter import letter_context
from analysis.outputs.documents.templates import (
    BULLETIN_KEY,
    LETTERS_FOLDER,
    TemplateFieldError,
    _environment,
    archive_problem,
    check_templates,
    templates_dir,
)

# ---------------------------------------------------------------- rendering and writing


def render_document(template: Path, context: Mapping[str, Any], issued: date | None = None) -> bytes:
    """The rendered .docx as bytes (nothing is written), rendered in the documents' Jinja sandbox
    (no code run, loops and output capped). A field the context lacks, a template too large once
    unpacked, or anything the sandbox refuses raises :class:`TemplateFieldError` naming the template.
    ``issued``: the date of issue, set as the document's created and modified dates."""
    from docxtpl import DocxTemplate

    too_large = archive_problem(template)  # checked by check_templates too; here before docxtpl opens it
    if too_large:
        raise TemplateFieldError([f"{template}: 模板文件过大 / template too large: {too_large}"])
    sandbox = _environment()
    document = DocxTemplate(str(template))
    try:
        document.render(sandbox.sandboxed_context(context), jinja_env=sandbox, autoescape=True)
    except Exception as exc:  # noqa: BLE001 - whatever a template makes the render raise is the template's
        raise TemplateFieldError([f"{template}: {type(exc).__name__}: {exc}"]) from None
    if issued is not None:  # docxtpl renders the text properties (author, title); the dates are set here
        properties = document.docx.core_properties
        properties.created = properties.modified = datetime(issued.year, issued.month, issued.day, 9, 0)
        properties.revision = 1
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@dataclass
class PeriodDocuments:
    """What :func:`write_documents` wrote: paths relative to the period folder, by manifest key
    (``overview`` for the 通报, the institution id for its letter), and letters that failed."""

    files: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    #: the date of issue the drafts carry (成文日期), and where it came from, for the run's summary
    issued: date | None = None
    issued_from: str = ""

    @property
    def notes(self) -> list[str]:
        """What the run's summary says of these documents: the date they carry and why."""
        if self.issued is None:
            return []
        return [f"成文日期 / date of issue: {chinese_date(self.issued)}（{self.issued_from}）"]

    @property
    def letters(self) -> dict[str, str]:
        return {k: v for k, v in self.files.items() if k != BULLETIN_KEY}


def bulletin_name(period: str) -> str:
    return f"通报-{period}.docx"


def issue_date(settings, period_end, issued: date | datetime | None) -> tuple[date, str]:
    """The date of issue (成文日期) of a period's drafts and where it came from: ``issued`` when given,
    else the rule of ``documents.yaml`` (``issue_date``) applied to the period, never the machine's
    clock, so a run for a past period dates its drafts as the office would have then."""
    if issued is not None:
        return (issued.date() if isinstance(issued, datetime) else issued), "按 --issued 指定 / as given by --issued"
    rule = settings.issue_date
    return rule.date_for(period_end.date()), (
        f"按 documents.yaml issue_date 由数据期推定：{rule.describe()}；--issued 可另行指定 / "
        f"from the period by documents.yaml's issue_date rule; --issued sets another"
    )


def write_documents(
    state,
    period: str,
    out_dir: Path | str,
    params_dir: Path | str | None = None,
    issued: date | datetime | None = None,
    reply_by: date | None = None,
) -> PeriodDocuments:
    """Render the 通报 and every letter of ``period`` from ``state`` and write them to ``out_dir``.

    The templates are those ``documents.yaml`` names for the period's policy year (``years.<year>``;
    a year without an entry is refused, naming the key to add). They are checked first
    (:func:`check_templates`): a bad one stops everything before a file is written. A letter that
    fails to render is reported in ``failed`` and the others are written; the 通报 failing raises.
    """
    from analysis.content.institution import institution_context

    params_dir = Path(params_dir if params_dir is not None else state.params_dir)
    period_end = parse_period(period)
    period_text = f"{period_end:%Y-%m}"
    settings = check_templates(params_dir, period_text)  # the templates of the period's policy year
    year = settings.for_year(period_end.year)
    folder = templates_dir(params_dir)
    day, day_from = issue_date(settings, period_end, issued)
    out_dir = Path(out_dir)

    bulletin = render_document(
        folder / year.bulletin, bulletin_context(state, period_text, day, settings, reply_by), issued=day
    )
    letters: dict[str, bytes] = {}
    failed: dict[str, str] = {}
    rows = state.indicators[state.indicators["period"] == period_end]
    for iid in rows["institution_id"]:
        try:
            ictx = institution_context(str(iid), period_text, state=state)
            context = letter_context(ictx, day, settings, reply_by)
            if context is not None:
                letters[str(iid)] = render_document(folder / year.letter, context, issued=day)
        except Exception as exc:  # noqa: BLE001 - one institution's letter failing never loses the others
            failed[str(iid)] = f"{type(exc).__name__}: {exc}"

    out_dir.mkdir(parents=True, exist_ok=True)
    written = PeriodDocuments(failed=failed, issued=day, issued_from=day_from)
    staging = out_dir / f".{LETTERS_FOLDER}.{secrets.token_hex(4)}.part"
    for stale in out_dir.glob(f".{LETTERS_FOLDER}.*.part"):
        shutil.rmtree(stale, ignore_errors=True)
    staging.mkdir()
    target_folder = out_dir / LETTERS_FOLDER
    try:
        for iid, content in letters.items():
            target = staging / f"{iid}.docx"
            if target.resolve().parent != staging.resolve():  # ids are checked on load; never write elsewhere
                failed[iid] = f"机构编码不能用作文件名 / id cannot be a file name: {iid!r}"
                continue
            target.write_bytes(content)
            written.files[iid] = f"{LETTERS_FOLDER}/{iid}.docx"
        if written.files:
            replace_folder(staging, target_folder)
        elif target_folder.exists():
            shutil.rmtree(target_folder)  # no institution falls short: no letter, and no stale one
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    with atomic_path(out_dir / bulletin_name(period_text)) as tmp:
        tmp.write_bytes(bulletin)
    written.files = {BULLETIN_KEY: bulletin_name(period_text), **written.files}
    return written


def write_period_docx(state, period: str, out_dir: Path, params_dir: Path, generated: datetime) -> PeriodDocuments:
    """The period exporter of :data:`analysis.outputs.registry.EXPORTERS` (``docx``). The drafts are
    dated by the period (``documents.yaml``'s ``issue_date``), not by ``generated``, the run's clock."""
    return write_documents(state, period, out_dir, params_dir)
