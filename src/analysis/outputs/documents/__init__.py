"""What the office sends out (监管文书): the period's 通报 and each institution's 监管提示函, as Word drafts.

Each year's notice has the office publish the year's figures (通报) and follow up on the institutions
that fall short (督导整改). Both documents are rendered with docxtpl from ``.docx`` templates in
``params/templates/``, one set per policy year (``documents.yaml`` names them: ``years.<year>``), whose
fixed prose speaks that year's notice — its frame, targets, 发文字号 and the clauses it cites — and
which the office edits in Word or WPS — letterhead, wording, fonts, layout — without touching Python:

- ``reports/<period>/通报-<period>.docx``: the three published figures with their basis, banks by
  category, the institutions missing each target (the overview's lists,
  :func:`analysis.content.overview.target_lists`), the counties and the closing requirements;
- ``reports/<period>/提示函/<id>.docx`` for every institution with at least one 未达标 verdict: its
  own figures only (the verdict texts of its evaluation report, :func:`analysis.content.institution.verdicts`),
  each shortfall with the notice's clause and the policy's recommendation text, and the reply
  deadline (``reply_days`` in ``params/templates/documents.yaml``).

Every figure comes from the same :class:`~analysis.state.State` the overview reads, formatted as in
the reports (万元 with two decimals, percentages, 个百分点, 个基点). The fields a template may use are
:data:`BULLETIN_FIELDS` and :data:`LETTER_FIELDS`; :func:`check_templates` refuses a template naming
any other field (or a misspelt filter) with the field and the template's path, and a policy year
without templates naming the key to add, before any document is written; rendering runs with Jinja's
``StrictUndefined`` so nothing is silently left blank.
Everything is rendered in memory first; the 通报 is written atomically and the letters folder is
swapped in whole, so a stale letter never survives a run (an institution that has caught up gets
none). ``analysis run --formats …,docx`` writes them through :data:`analysis.outputs.registry.EXPORTERS`;
``analysis docs --period P`` on their own.

The modules: ``templates`` (the settings — each year's templates and the words of its notice the
reports cite, :func:`notice_requirement` — the fields a template may use and the check of a
template against them), ``context`` (what both share: numbers as the reports show them, dates, the
letterhead), ``bulletin`` (the 通报's fields from the state), ``letter`` (a letter's fields from an
institution's context), ``write`` (rendering in memory and writing atomically).
"""

from analysis.outputs.documents.bulletin import bulletin_context
from analysis.outputs.documents.context import chinese_number, period_name
from analysis.outputs.documents.letter import letter_context
from analysis.outputs.documents.templates import (
    BULLETIN_FIELDS,
    LETTER_FIELDS,
    DocumentSettings,
    TemplateFieldError,
    YearDocuments,
    check_templates,
    load_settings,
    notice_requirement,
    template_problems,
    year_documents,
)
from analysis.outputs.documents.write import (
    PeriodDocuments,
    render_document,
    write_documents,
    write_period_docx,
)

__all__ = [
    "BULLETIN_FIELDS",
    "DocumentSettings",
    "LETTER_FIELDS",
    "PeriodDocuments",
    "TemplateFieldError",
    "YearDocuments",
    "bulletin_context",
    "check_templates",
    "chinese_number",
    "letter_context",
    "load_settings",
    "notice_requirement",
    "period_name",
    "render_document",
    "template_problems",
    "write_documents",
    "write_period_docx",
    "year_documents",
]
