"""Hostile Word templates (issue 30, cases 1 and 8): a template that reaches past its fields for
Python (``cycler.__init__.__globals__.os``, ``lipsum``, ``namespace``, ``''.__class__.__mro__``) or
that would exhaust memory or time (a zip bomb, ``range(10**9)``, nested loops, ``'A'*10**10``) is
refused by the template check, naming the template and the placeholder, before any document is
written; and rendered past the check anyway, Jinja's sandbox and the render limits stop it quickly
with a located message. Each template is the shipped one with a payload paragraph written into its
``word/document.xml`` by hand (or a minimal python-docx document)."""

from __future__ import annotations

import io
import shutil
import time
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pytest
from docxtpl import DocxTemplate
from jinja2 import Environment, StrictUndefined

from analysis.core.contract import MAX_UNPACKED_MB
from analysis.outputs.documents import (
    BULLETIN_FIELDS,
    LETTER_FIELDS,
    TemplateFieldError,
    bulletin_context,
    check_templates,
    letter_context,
    load_settings,
    render_document,
    template_problems,
    write_documents,
)
from analysis.outputs.documents import templates as template_rules
from tests.cli.test_cli import run as cli  # the command line as a subprocess, from the project folder

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "params" / "templates"
PERIOD = "2023-06"
ISSUED = date(2023, 7, 10)
QUICK = 10  # seconds: "refused quickly" (the audit's cases ran for 82 s to 300 s)


def with_payload(dst: Path, payload: str, source: str = "通报.docx") -> Path:
    """The shipped template ``source`` with one paragraph holding ``payload`` (as typed in Word)
    first in its body."""
    paragraph = f"<w:p><w:r><w:t>{escape(payload)}</w:t></w:r></w:p>".encode()
    with zipfile.ZipFile(SHIPPED / source) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for member in src.infolist():
            data = src.read(member)
            if member.filename == "word/document.xml":
                data = data.replace(b"<w:body>", b"<w:body>" + paragraph, 1)
            out.writestr(member, data)
    return dst


def params_with(tmp_path: Path, name: str, payload: str) -> Path:
    """A copy of ``params/`` whose template ``name`` holds ``payload``."""
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    with_payload(params / "templates" / name, payload, source=name)
    return params


def minimal_template(dst: Path, *lines: str) -> Path:
    document = docx.Document()
    for line in lines:
        document.add_paragraph(line)
    document.save(str(dst))
    return dst


def bomb(dst: Path, padding_mb: int, source: str = "通报.docx") -> Path:
    """The shipped template ``source`` with ``padding_mb`` MB of empty paragraphs in its document.xml, each
    after a run of spaces: highly compressible, so a few hundred KB on disk (the audit's was 5 MB
    unpacking to 2.2 GB), and XML any reader parses (no text node past libxml2's 10 MB limit)."""
    with zipfile.ZipFile(SHIPPED / source) as src, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for member in src.infolist():
            data = src.read(member)
            if member.filename != "word/document.xml":
                out.writestr(member, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            with out.open("word/document.xml", "w", force_zip64=True) as part:
                part.write(head + b"<w:body>")
                block = b" " * (2**20 - 6) + b"<w:p/>"
                for _ in range(padding_mb):
                    part.write(block)
                part.write(tail)
    return dst


def marker_payloads(marker: Path) -> list[str]:
    """The audit's ways out of the template to a shell, each touching ``marker``."""
    command = f"touch {marker}"
    return [
        f"{{{{ cycler.__init__.__globals__.os.popen('{command}').read() }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{command}').read() }}}}",
        f"{{{{ namespace.__init__.__globals__.os.popen('{command}').read() }}}}",
        f"{{{{ joiner.__init__.__globals__.os.popen('{command}').read() }}}}",
    ]


# ---------------------------------------------------------------- refused by the check


REFUSED = [
    # (payload, the placeholder as the message shows it)
    ("{{ cycler.__init__.__globals__.os.popen('id').read() }}", "{{ cycler.__init__.__globals__.os.popen('id').read() }}"),
    ("{{ lipsum.__globals__['os'].popen('id').read() }}", "{{ lipsum.__globals__['os'].popen('id').read() }}"),
    ("{{ namespace.__init__.__globals__ }}", "{{ namespace.__init__.__globals__ }}"),
    ("{{ ''.__class__.__mro__ }}", "{{ ''.__class__.__mro__ }}"),
    ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}"),
    ("{{ office['__class__'] }}", "{{ office['__class__'] }}"),
    ("{{ office|attr('__class__') }}", "{{ office|attr('__class__') }}"),
    ("{{ self }}", "{{ self }}"),
    ("{{ cycler }}", "{{ cycler }}"),
    ("{% for i in range(10**9) %}x{% endfor %}", "{{ range(10 ** 9) }}"),
    ("{% for a in counties %}{% for b in categories %}x{% endfor %}{% endfor %}", "{% for b in categories %}"),
    ("{% for m in misses %}{% for r in m.rows %}{% for q in m.rows %}x{% endfor %}{% endfor %}{% endfor %}",
     "{% for q in m.rows %}"),
    ("{% for c in office %}{{ c }}{% endfor %}", "{% for c in office %}"),
    ("{{ 'A'*10**10 }}", "{{ 'A' * 10 ** 10 }}"),
    ("{{ office * 100000000 }}", "{{ office * 100000000 }}"),
    ("{{ '%0999999999d' % 1 }}", "{{ '%0999999999d' % 1 }}"),
    ("{{ office|center(1000000000) }}", "{{ office|center(1000000000) }}"),
    ("{% set a = office ~ office %}{{ a }}", "{% set %}"),
    ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
]  # fmt: skip


@pytest.mark.parametrize(("payload", "placeholder"), REFUSED)
def test_a_template_reaching_past_its_fields_is_refused_by_the_check(tmp_path, payload, placeholder):
    template = with_payload(tmp_path / "通报.docx", payload)
    started = time.monotonic()
    problems = template_problems(template, BULLETIN_FIELDS)
    assert time.monotonic() - started < QUICK
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{template}: 不允许 / not allowed {placeholder} — ")
    assert "/" in problems[0].split(" — ", 1)[1]  # the reason in Chinese and English


def test_what_the_documents_need_still_passes_the_check(tmp_path):
    """The other side: fields, allowed filters and tests, if/else, a loop over a list field and,
    inside it, over a list of its item, ``loop.index``, ``~`` and ``+``."""
    template = with_payload(
        tmp_path / "通报.docx",
        "{{ office|upper }}{{ figures.basis|default('—') ~ '；' }}{% if figures.time_progress is defined %}"
        "{{ figures.time_progress|trim }}{% else %}x{% endif %}{{ n_banks|int + 1 }}"
        "{% for m in misses %}{{ loop.index }}{% for r in m.rows if r.name %}{{ r.name|truncate(10) }}"
        "{% endfor %}{% else %}无{% endfor %}{{ '三' if misses else '二' }}",
    )
    assert template_problems(template, BULLETIN_FIELDS) == []
    assert template_problems(SHIPPED / "通报.docx", BULLETIN_FIELDS) == []
    assert template_problems(SHIPPED / "提示函.docx", LETTER_FIELDS) == []


def test_a_payload_in_the_document_properties_is_checked_too(tmp_path):
    """docxtpl renders the title, subject … of the document as templates as well."""
    document = docx.Document(str(SHIPPED / "提示函.docx"))
    document.core_properties.title = "{{ cycler.__init__.__globals__.os.popen('id').read() }}"
    document.save(str(tmp_path / "提示函.docx"))
    problems = template_problems(tmp_path / "提示函.docx", LETTER_FIELDS)
    assert len(problems) == 1 and "cycler.__init__.__globals__.os.popen('id').read()" in problems[0]


# ---------------------------------------------------------------- nothing written, no command run


@pytest.fixture(scope="module")
def state(demo_csv_dir):
    from analysis.state import compute_state

    return compute_state(demo_csv_dir, ROOT / "params")


@pytest.mark.parametrize("name", ["通报.docx", "提示函.docx"])
def test_write_documents_runs_no_command_and_writes_nothing(state, tmp_path, name):
    marker = tmp_path / "marker"
    params = params_with(tmp_path, name, "".join(marker_payloads(marker)))
    out = tmp_path / "reports" / PERIOD
    with pytest.raises(TemplateFieldError) as caught:
        write_documents(state, PERIOD, out, params, issued=ISSUED)
    message = str(caught.value)
    assert message.startswith("文书模板无效，未生成任何文书 / invalid document template, no document written (4):")
    assert str(params / "templates" / name) in message
    for what in ("cycler.__init__", "lipsum.__globals__", "namespace.__init__", "joiner.__init__"):
        assert what in message
    assert not marker.exists()
    assert not out.exists()


def test_analysis_run_with_docx_refuses_the_template_before_any_work(tmp_path, demo_csv_dir):
    marker = tmp_path / "marker"
    params = params_with(tmp_path, "提示函.docx", marker_payloads(marker)[0])
    reports = tmp_path / "reports"
    result = cli(
        "run", "--period", PERIOD, "--data", str(demo_csv_dir), "--params", str(params),
        "--reports", str(reports), "--formats", "html,docx", "--quiet",
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "提示函.docx" in result.stderr and "cycler.__init__.__globals__.os.popen" in result.stderr
    assert "不允许 / not allowed" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()
    assert not reports.exists()


# ---------------------------------------------------------------- a template bomb


def test_a_template_unpacking_past_the_limit_is_refused_unopened(tmp_path):
    template = bomb(tmp_path / "通报.docx", padding_mb=MAX_UNPACKED_MB + 44)  # 300 MB of spaces
    assert template.stat().st_size < 2**20  # about 300 KB on disk
    started = time.monotonic()
    problems = template_problems(template, BULLETIN_FIELDS)
    assert time.monotonic() - started < 1  # the zip directory only, never the 300 MB
    assert problems == [
        f"{template}: 模板文件过大 / template too large: 解压后 {MAX_UNPACKED_MB + 45:,} MB（文件 0.3 MB），"
        f"上限 {MAX_UNPACKED_MB:,} MB，疑似压缩炸弹 / unpacks to {MAX_UNPACKED_MB + 45:,} MB (file 0.3 MB), "
        f"limit {MAX_UNPACKED_MB:,} MB: a zip bomb?"
    ]  # 300 MB of spaces plus the template's own 0.8 MB
    with pytest.raises(TemplateFieldError, match="template too large"):
        render_document(template, {})  # and refused when rendered without the check


def test_one_part_unpacking_past_its_limit_is_refused_and_named(tmp_path):
    template = bomb(tmp_path / "通报.docx", padding_mb=17)  # under the archive's limit
    problems = template_problems(template, BULLETIN_FIELDS)
    assert len(problems) == 1
    limit = template_rules.TEMPLATE_PART_MAX_MB
    assert limit < 17 < MAX_UNPACKED_MB
    assert "word/document.xml unpacks to 17 MB" in problems[0] and f"limit {limit:,} MB per part" in problems[0]


def test_the_params_check_refuses_a_bomb_and_no_document_is_written(state, tmp_path):
    params = tmp_path / "params"
    shutil.copytree(ROOT / "params", params)
    bomb(params / "templates" / "提示函.docx", padding_mb=17, source="提示函.docx")  # one part past its limit
    with pytest.raises(TemplateFieldError, match="提示函.docx: 模板文件过大"):
        check_templates(params)
    with pytest.raises(TemplateFieldError, match="提示函.docx: 模板文件过大"):
        write_documents(state, PERIOD, tmp_path / "out", params, issued=ISSUED)
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- rendered past the check: the sandbox


def render_refused(template: Path, context: dict) -> str:
    """Render ``template`` without the check; the message it is refused with, quickly."""
    started = time.monotonic()
    with pytest.raises(TemplateFieldError) as caught:
        render_document(template, context)
    assert time.monotonic() - started < QUICK
    message = str(caught.value)
    assert str(template) in message
    return message


def test_the_sandbox_runs_no_command(tmp_path):
    marker = tmp_path / "marker"
    for n, payload in enumerate(marker_payloads(marker)):
        render_refused(with_payload(tmp_path / f"{n}.docx", payload), {"office": "x"})
    assert not marker.exists()


def test_the_sandbox_hides_python_internals(tmp_path):
    for n, payload in enumerate(["{{ ''.__class__.__mro__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}"]):
        assert "SecurityError" in render_refused(minimal_template(tmp_path / f"{n}.docx", payload), {})


def test_the_sandbox_has_no_range_and_no_huge_repeat(tmp_path):
    for n, payload in enumerate(
        ["{% for i in range(10**9) %}x{% endfor %}", "{{ 'A'*10**10 }}", "{{ 'A'*10000000000 }}", "{{ 2**100000 }}"]
    ):
        message = render_refused(minimal_template(tmp_path / f"{n}.docx", payload), {})
        assert "MemoryError" not in message


def test_the_sandbox_stops_nested_loops_at_the_iteration_limit(tmp_path):
    template = minimal_template(
        tmp_path / "t.docx",
        "{% for a in rows %}{% for b in rows %}{% for c in rows %}x{% endfor %}{% endfor %}{% endfor %}",
    )
    message = render_refused(template, {"rows": list(range(1000))})  # 10^9 iterations asked for
    assert f"{template_rules.MAX_LOOP_ITERATIONS:,}" in message and "SecurityError" in message


def test_the_sandbox_caps_the_rendered_length(tmp_path, monkeypatch):
    monkeypatch.setattr(template_rules, "RENDERED_PART_MAX_MB", 1, raising=False)
    template = minimal_template(tmp_path / "t.docx", "{% for r in rows %}{{ r }}{% endfor %}")
    message = render_refused(template, {"rows": ["x" * 1000] * 2000})  # 2 M characters
    assert "1 MB" in message and "SecurityError" in message


def test_the_shipped_templates_render_the_same_in_the_sandbox(state):
    """The sandbox changes nothing for the real templates: every part of the 通报 and a letter
    equals what plain Jinja renders from the same context."""
    settings = load_settings(ROOT / "params")
    from analysis.content.institution import institution_context

    letter = letter_context(institution_context("B034", PERIOD, state=state), ISSUED, settings)
    for template, context in [
        (SHIPPED / "通报.docx", bulletin_context(state, PERIOD, ISSUED, settings)),
        (SHIPPED / "提示函.docx", letter),
    ]:
        plain = DocxTemplate(str(template))
        plain.render(dict(context), jinja_env=Environment(undefined=StrictUndefined, autoescape=True), autoescape=True)
        buffer = io.BytesIO()
        plain.save(buffer)
        with zipfile.ZipFile(buffer) as a, zipfile.ZipFile(io.BytesIO(render_document(template, context))) as b:
            assert a.namelist() == b.namelist()
            for name in a.namelist():
                assert a.read(name) == b.read(name), (template.name, name)
