"""The published report site (发布站点): static files only, usable from disk or any web server.

``reports/<period>/index.html`` lists the overview first, then every institution in a table that
can be sorted, filtered (category, division, verdict) and searched by name, linking each HTML and
PDF report; a period switcher links the other periods under ``reports/``. ``reports/index.html``
opens the latest period. The period's Word drafts (the 通报 on the overview card, each
institution's 监管提示函 in its row) are linked from this index only — the office's own page —
never from a report an institution receives. The table is rendered on the server side, every value escaped; the
small inline script only sorts and hides rows, so the page works without a network.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import re
import urllib.parse
from html import escape
from http import HTTPStatus
from pathlib import Path

from analysis.content.display import status_badge
from analysis.core.contract import CATEGORIES, DIVISIONS
from analysis.core.files import atomic_write_text
from analysis.core.manifest import MANIFEST_NAME, Manifest, ManifestEntry
from analysis.core.status import NOT_MET, STATUS_LABELS, WATCH
from analysis.outputs.registry import EXPORTERS

PERIOD_DIR = re.compile(r"^\d{4}-\d{2}$")
VERDICT_COLUMNS = [("two_increases", "两增"), ("plan", "信贷计划"), ("rate", "利率"), ("npl", "不良")]
SITE_TITLE = "小微企业金融服务监管评价报告"

STYLE = """
:root { --ink:#1d2330; --muted:#5c6370; --line:#d7dbe2; --accent:#1f4e9a; }
body { margin:0; background:#f6f7f9; color:var(--ink); line-height:1.6;
  font-family:"Noto Sans CJK SC","Source Han Sans SC","PingFang SC","Microsoft YaHei","WenQuanYi Zen Hei",sans-serif; }
header.site { background:var(--accent); color:#fff; padding:1rem 2rem; display:flex; align-items:center;
  justify-content:space-between; flex-wrap:wrap; gap:1rem; }
header.site h1 { margin:0; font-size:1.35rem; }
header.site .office { opacity:0.85; font-size:0.9rem; }
header.site select { font:inherit; padding:0.2rem 0.4rem; }
main { max-width:1200px; margin:1.2rem auto; padding:0 1.2rem 3rem; }
.card { background:#fff; border:1px solid var(--line); border-radius:6px; padding:1rem 1.2rem; margin-bottom:1.2rem; }
.overview h2 { margin:0 0 0.4rem; font-size:1.15rem; }
.links a { margin-right:1rem; }
.controls { display:flex; flex-wrap:wrap; gap:0.6rem 1rem; align-items:center; margin-bottom:0.8rem; }
.controls label { font-size:0.9rem; color:var(--muted); }
.controls input, .controls select { font:inherit; padding:0.25rem 0.45rem; border:1px solid var(--line); border-radius:4px; }
.controls input[type=search] { min-width:16rem; }
table { border-collapse:collapse; width:100%; font-size:0.9rem; background:#fff; }
th, td { border-bottom:1px solid var(--line); padding:0.45rem 0.5rem; text-align:left; vertical-align:middle; }
th { background:#eef2f8; position:sticky; top:0; white-space:nowrap; }
td:nth-child(1), td:nth-child(5), td:last-child { white-space:nowrap; }
.kpis { display:flex; flex-wrap:wrap; gap:1.5rem; margin:0.4rem 0; }
.kpi .v { font-size:1.4rem; font-weight:700; color:var(--accent); }
.kpi .l { font-size:0.85rem; color:var(--muted); }
th button { all:unset; cursor:pointer; font-weight:700; }
th button::after { content:" ⇅"; color:#9aa3b2; font-size:0.8em; }
th[aria-sort=ascending] button::after { content:" ↑"; color:var(--accent); }
th[aria-sort=descending] button::after { content:" ↓"; color:var(--accent); }
tr:hover td { background:#f8fafc; }
.status { display:inline-block; padding:0 0.45rem; border-radius:0.8rem; font-size:0.8rem; white-space:nowrap; font-weight:600; }
.status-met { color:#1e7b45; background:#e6f4ec; } .status-not_met { color:#b42318; background:#fdecea; }
.status-watch { color:#a15c00; background:#fff4e0; } .status-na { color:#6b7280; background:#f1f2f4; }
.count { color:var(--muted); font-size:0.9rem; }
.failed td { color:#b42318; }
footer { text-align:center; color:var(--muted); font-size:0.8rem; margin-top:2rem; }
a { color:var(--accent); }
/* on a phone (390 px) the page keeps its width: the table scrolls sideways inside its wrapper,
   names wrap (never narrower than a few characters), codes, dates and badges stay whole */
.table-wrap { max-width:100%; overflow:auto; }
td:nth-child(2) { min-width:8em; }
h1, h2, .office, td { overflow-wrap:anywhere; }
@media (max-width: 700px) {
  header.site { padding:0.8rem 1rem; }
  main { padding:0 0.6rem 2rem; margin-top:0.8rem; }
  .card { padding:0.8rem; }
  .controls input[type=search] { min-width:0; width:100%; box-sizing:border-box; }
  .controls label { flex:1 1 100%; }
  .controls select { max-width:100%; }
}
"""

SCRIPT = """
(function () {
  var table = document.getElementById('institutions');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var q = document.getElementById('q'), cat = document.getElementById('f-category'),
      div = document.getElementById('f-division'), ver = document.getElementById('f-verdict'),
      count = document.getElementById('visible-count');
  function apply() {
    var text = q.value.trim().toLowerCase(), shown = 0;
    rows.forEach(function (r) {
      var ok = (!text || r.dataset.name.toLowerCase().indexOf(text) >= 0 || r.dataset.id.toLowerCase() === text)
        && (!cat.value || r.dataset.category === cat.value)
        && (!div.value || r.dataset.division === div.value)
        && (!ver.value || (' ' + r.dataset.flags + ' ').indexOf(' ' + ver.value + ' ') >= 0);
      r.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown;
  }
  [q, cat, div, ver].forEach(function (el) { el.addEventListener('input', apply); el.addEventListener('change', apply); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    var button = th.querySelector('button');
    if (!button) { return; }
    button.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = a.cells[index].dataset.sort || a.cells[index].textContent,
            y = b.cells[index].dataset.sort || b.cells[index].textContent;
        var c = x.localeCompare(y, 'zh-Hans-CN', { numeric: true });
        return ascending ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  var switcher = document.getElementById('period');
  if (switcher) {
    switcher.addEventListener('change', function () { window.location.href = switcher.value; });
  }
  apply();
})();
"""

#: sort order of statuses: failures first when sorting ascending
STATUS_ORDER = {NOT_MET: "0", WATCH: "1", "met": "2", "n/a": "3"}


def periods(reports_dir: Path) -> list[str]:
    """Periods with a manifest under ``reports_dir``, newest first."""
    found = (
        [
            p.name
            for p in reports_dir.iterdir()
            if p.is_dir() and PERIOD_DIR.match(p.name) and (p / MANIFEST_NAME).exists()
        ]
        if reports_dir.exists()
        else []
    )
    return sorted(found, reverse=True)


def _link(href: str, text: str) -> str:
    return f'<a href="{escape(href, quote=True)}">{escape(text)}</a>' if href else ""


def verdict_columns(manifest: Manifest) -> list[tuple[str, str]]:
    """The verdict columns of the period's policy year, in its words (a manifest written before the
    year's names were recorded: the 2023 columns)."""
    if not manifest.labels:
        return VERDICT_COLUMNS
    return [(key, manifest.labels[key]) for key, _ in VERDICT_COLUMNS if key in manifest.labels]


def _flags(verdicts: dict, columns: list[tuple[str, str]] = VERDICT_COLUMNS) -> str:
    flags = []
    for key, _ in columns:
        status = verdicts.get(key)
        if status == NOT_MET:
            flags += [f"{key}-not_met", "any-not_met"]
        elif status == WATCH:
            flags += [f"{key}-watch", "any-watch"]
    return " ".join(sorted(set(flags)))


def _period_label(period: str) -> str:
    year, month = period.split("-")
    return f"{year}年{int(month)}月"


def _kpis(city: dict, labels: dict[str, str] | None = None) -> str:
    if not city:
        return ""
    labels = labels or {}
    items = []
    met = city.get("legal_two_increases_met")
    if met is not None:
        items.append(
            (labels.get("city:legal_two_increases_met", "辖内法人银行总体“两增”"), "完成" if met else "未完成")
        )
    for key, label in (
        ("legal_plan_completion_pct", "法人银行总体信贷计划完成率"),
        ("branch_plan_completion_pct", "分支银行总体信贷计划完成率"),
    ):
        label = labels.get(f"city:{key}", label)
        value = city.get(key)
        if isinstance(value, (int, float)):
            items.append((label, f"{value:.1f}%"))
    return (
        '<div class="kpis">'
        + "".join(
            f'<div class="kpi"><div class="v">{escape(v)}</div><div class="l">{escape(k)}</div></div>' for k, v in items
        )
        + "</div>"
    )


#: what a period-scope output is on the overview's entry and on an institution's (analysis.outputs.documents)
PERIOD_OUTPUT_KINDS = {"overview": "通报", "institution": "提示函"}


def _output_links(entry: ManifestEntry, suffix: str = "", period_only: bool = False) -> str:
    """A link per recorded output, in the registry's order, labelled by the exporter; a period
    output is named by what it is (通报 / 提示函). ``period_only``: those alone (a failed report
    still has its letter, made from the data, not from the notebook)."""
    links = []
    for name, exporter in EXPORTERS.items():
        href = entry.outputs.get(name)
        if not href or (period_only and exporter.scope != "period"):
            continue
        if exporter.scope == "period":
            kind = PERIOD_OUTPUT_KINDS["overview" if entry.key == "overview" else "institution"]
            links.append(_link(href, f"{kind}（{exporter.label}）"))
        else:
            links.append(_link(href, f"{exporter.label}{suffix}"))
    return " ".join(links)


def render_index(reports_dir: Path, period: str, office: str = "") -> str:
    manifest = Manifest.load(reports_dir / period / MANIFEST_NAME)
    current = manifest.current()  # reports of the latest data only: never two versions side by side
    stale = len(manifest.entries) - len(current)
    overview = current.get("overview")
    institutions = [(k, v) for k, v in current.items() if k != "overview"]
    order = {c: i for i, c in enumerate(CATEGORIES)}
    institutions.sort(key=lambda kv: (order.get(kv[1].meta.category, 99), kv[0]))

    options = "".join(
        f'<option value="../{escape(p)}/index.html"{" selected" if p == period else ""}>{escape(_period_label(p))}</option>'
        for p in periods(reports_dir)
    )
    switcher = (
        f'<label>数据期 <select id="period" aria-label="切换数据期">{options}</select></label>' if options else ""
    )

    columns = verdict_columns(manifest)
    rows = []
    for key, job in institutions:
        meta = job.meta
        verdicts = meta.verdicts
        failed = job.status != "done"  # failed, or not started (the run stopped)
        name = meta.name or key
        main_link = "" if failed else job.outputs.get("html", "")
        cells = [
            f'<td data-sort="{escape(key)}">{escape(key)}</td>',
            f"<td>{_link(main_link, name) or escape(name)}</td>",
            f'<td data-sort="{order.get(meta.category, 99):02d}">{escape(meta.category)}</td>',
            f"<td>{escape(meta.division)}</td>",
            f"<td>{escape(meta.county)}</td>",
        ]
        for vk, _ in columns:
            status = verdicts.get(vk, "n/a")
            status = status if status in STATUS_LABELS else "n/a"
            cells.append(f'<td data-sort="{STATUS_ORDER[status]}">{status_badge(status)}</td>')
        score = meta.score
        cells.append(
            f'<td data-sort="{(999 - score) if isinstance(score, (int, float)) else 9999:08.2f}">'
            f"{escape(meta.grade or '—')}"
            f"{f' <span class=count>{score:g}</span>' if isinstance(score, (int, float)) else ''}</td>"
        )
        if failed:
            cells.append(f'<td colspan="1">生成失败：{escape(job.error)} {_output_links(job, period_only=True)}</td>')
        else:
            cells.append(f"<td>{_output_links(job)}</td>")
        rows.append(
            f'<tr class="{"failed" if failed else ""}" data-id="{escape(key)}" data-name="{escape(meta.name)}" '
            f'data-category="{escape(meta.category)}" data-division="{escape(meta.division)}" '
            f'data-flags="{escape(_flags(verdicts, columns))}">' + "".join(cells) + "</tr>"
        )

    present_categories = [c for c in CATEGORIES if any(j.meta.category == c for _, j in institutions)]
    present_divisions = [d for d in DIVISIONS if any(j.meta.division == d for _, j in institutions)]
    cat_options = "".join(f'<option value="{escape(c)}">{escape(c)}</option>' for c in present_categories)
    div_options = "".join(f'<option value="{escape(d)}">{escape(d)}</option>' for d in present_divisions)
    verdict_options = '<option value="any-not_met">任一项未达标</option><option value="any-watch">任一项需关注</option>'
    for key, label in columns:
        verdict_options += (
            f'<option value="{key}-not_met">{label}未达标</option>'
            f'<option value="{key}-watch">{label}需关注/进度落后</option>'
        )
    headers = (
        ["机构编码", "机构名称", "机构类型", "监管科室", "县区"]
        + [label for _, label in columns]
        + ["评价等级", "报告"]
    )
    head = "".join(
        f'<th scope="col"><button type="button">{escape(h)}</button></th>'
        if h != "报告"
        else f'<th scope="col">{escape(h)}</th>'
        for h in headers
    )
    overview_links = _output_links(overview, " 版", period_only=overview.status != "done") if overview else ""
    label = _period_label(period)
    kpis = _kpis(manifest.citywide, manifest.labels)
    period_outputs = [n for n, x in EXPORTERS.items() if x.scope == "period"]
    documents_note = (
        '<p class="count">通报与监管提示函为 Word 草稿，仅在本页列出，供办公室修改、签发；机构收到的报告不链接它们。</p>'
        if any(e.outputs.get(n) for e in current.values() for n in period_outputs)
        else ""
    )
    stale_note = (
        f'<p class="count">另有 {stale} 份报告基于旧版数据，已不列出，重新运行后更新 / {stale} report(s) made '
        f"from older data are not listed until they are run again.</p>"
        if stale
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(SITE_TITLE)} · {escape(label)}</title>
<style>{STYLE}</style>
</head>
<body>
<header class="site">
  <div><div class="office">{escape(office)}</div><h1>{escape(SITE_TITLE)} · {escape(label)}</h1></div>
  {switcher}
</header>
<main>
  <section class="card overview">
    <h2>全市总览</h2>
    {kpis}
    <p>全市三项重点通报指标、分类别与分科室情况、未达标机构名单及县域增长。</p>
    <p class="links">{overview_links or '<span class="count">本期总览未生成</span>'}</p>
    {documents_note}
  </section>
  <section class="card">
    <h2>机构评价报告（<span id="visible-count">{len(rows)}</span> / {len(rows)} 家）</h2>
    <div class="controls">
      <label>搜索 <input type="search" id="q" placeholder="机构名称或编码" aria-label="按名称搜索"></label>
      <label>机构类型 <select id="f-category"><option value="">全部</option>{cat_options}</select></label>
      <label>监管科室 <select id="f-division"><option value="">全部</option>{div_options}</select></label>
      <label>考核结论 <select id="f-verdict"><option value="">全部</option>{verdict_options}</select></label>
    </div>
    <div class="table-wrap"><table id="institutions">
      <thead><tr>{head}</tr></thead>
      <tbody>{"".join(rows)}</tbody>
    </table></div>
    {stale_note}
  </section>
  <footer>更新于 {escape(manifest.updated)} · 本站为静态页面，可直接打开或部署于任意静态网站服务器</footer>
</main>
<script>{SCRIPT}</script>
</body>
</html>
"""


def build_site(reports_dir: Path | str, period: str | None = None, office: str = "") -> list[Path]:
    """(Re)write the index of every period under ``reports_dir`` (so each switcher lists all
    periods) and the root ``reports/index.html``. Returns the files written."""
    reports_dir = Path(reports_dir)
    written = []
    available = periods(reports_dir)
    if period is not None and period not in available:
        raise FileNotFoundError(
            f"{reports_dir / period / 'manifest.json'} 不存在：请先运行 analysis run --period "
            f"{period} / run the reports of this period first"
        )
    for p in available:
        written.append(atomic_write_text(reports_dir / p / "index.html", render_index(reports_dir, p, office)))
    if available:
        latest = available[0]
        root = (
            f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="0; url={escape(latest)}/index.html"><link rel="icon" href="data:,">'
            f"<title>{escape(SITE_TITLE)}</title></head><body>"
            f'<p><a href="{escape(latest)}/index.html">{escape(_period_label(latest))} 报告</a></p></body></html>'
        )
        written.append(atomic_write_text(reports_dir / "index.html", root))
    return written


class SiteRequestHandler(http.server.SimpleHTTPRequestHandler):
    """Static files of the site only: no directory listings (a folder without ``index.html`` is
    404), nothing whose path has a segment starting with ``.`` (``.cache/``, ``.lock``,
    temporary ``.part`` files), and nothing whose real path (symlinks followed) is outside the
    reports folder."""

    #: longer request paths are answered 414 at once (the site's own paths are well under 200 characters)
    MAX_PATH = 1024

    def send_head(self):
        if len(self.path) > self.MAX_PATH:
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG, "Request path too long")
            return None
        try:
            return self._send_site_file()
        except (OSError, ValueError):  # a segment too long for the file system, a NUL byte, …: not a file here
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None

    def _send_site_file(self):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if "\x00" in path or any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        local = Path(self.translate_path(self.path))
        root = Path(self.directory).resolve()
        target = local / "index.html" if local.is_dir() else local
        if not target.resolve().is_relative_to(root):  # a symlink planted in reports/ that leads out of it
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        if local.is_dir() and not (local / "index.html").is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):  # never reached after send_head's check; refuse anyway
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def log_message(self, format, *args):
        pass


def make_server(reports_dir: Path | str, port: int = 8000, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    handler = functools.partial(SiteRequestHandler, directory=str(reports_dir))
    return http.server.ThreadingHTTPServer((host, port), handler)


def serve(reports_dir: Path | str, port: int = 8000, host: str = "127.0.0.1") -> None:
    """Preview the site on localhost (Ctrl-C to stop)."""
    with make_server(reports_dir, port, host) as server:
        print(f"预览地址 / preview: http://{host}:{server.server_address[1]}/  (Ctrl-C 退出 / to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
