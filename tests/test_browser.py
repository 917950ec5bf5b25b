"""The site in headless Chromium (Debian's chromium driven by Playwright): filter, sort, search,
follow a link, no console errors; screenshots are saved under test-artifacts/."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def server(demo_reports):
    from analysis.outputs.site import make_server

    httpd = make_server(demo_reports, port=0)  # the handler `analysis serve` uses
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "chromium is missing: run `make system-deps-test`"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pg = browser.new_page(viewport={"width": 1280, "height": 900})
        pg.console_errors = []
        pg.on("console", lambda m: pg.console_errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
        yield pg
        browser.close()


def visible_ids(pg) -> list[str]:
    return pg.eval_on_selector_all("#institutions tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.id)")


def test_index_filter_sort_search_and_follow(server, page):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{server}/2023-12/index.html")
    assert "2023年12月" in page.title()
    assert sorted(visible_ids(page)) == ["B001", "B017", "B030", "I003"]
    page.screenshot(path=str(ARTIFACTS / "site-index.png"), full_page=True)

    page.select_option("#f-category", "农村商业银行")
    assert visible_ids(page) == ["B017"]
    page.select_option("#f-category", "")
    page.select_option("#f-verdict", "npl-not_met")
    assert visible_ids(page) == ["B030"]
    page.select_option("#f-verdict", "any-not_met")
    assert sorted(visible_ids(page)) == ["B017", "B030"]
    assert page.inner_text("#visible-count") == "2"
    page.select_option("#f-verdict", "")
    page.select_option("#f-division", "财产险科")
    assert visible_ids(page) == ["I003"]
    page.select_option("#f-division", "")
    page.fill("#q", "信用合作")
    assert visible_ids(page) == ["B030"]
    page.fill("#q", "")

    page.click("th:nth-child(1) button")  # 机构编码 ascending
    assert visible_ids(page) == ["B001", "B017", "B030", "I003"]
    page.click("th:nth-child(1) button")  # descending
    assert visible_ids(page) == ["I003", "B030", "B017", "B001"]
    page.click("th:nth-child(6) button")  # 两增: not met first
    assert visible_ids(page)[0] == "B017"
    page.screenshot(path=str(ARTIFACTS / "site-index-sorted.png"), full_page=True)

    page.click("a[href='B017.html']")
    page.wait_for_load_state()
    assert "宛城农村商业银行（示例）" in page.title()
    assert page.locator(".verdict-not_met").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "report-B017.png"), full_page=True)
    assert page.console_errors == []


def test_index_works_from_disk(demo_reports, page):
    page.goto((demo_reports / "2023-12" / "index.html").as_uri())
    page.fill("#q", "宛城")
    assert visible_ids(page) == ["B017"]
    page.goto((demo_reports / "index.html").as_uri())
    page.wait_for_url("**/2023-12/index.html")
    assert page.console_errors == []


# ---------------------------------------------------------------- a phone: 390 px wide

PHONE = {"width": 390, "height": 844}

#: for each table cell: its width, its kind and how many lines its text takes
CELL_LINES = """cells => cells.map(td => {
  const tops = [];
  const walker = document.createTreeWalker(td, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects()) {
      if (r.width > 0 && !tops.some(t => Math.abs(t - r.top) < r.height / 2)) { tops.push(r.top); }
    }
  }
  return {cls: td.className, text: td.textContent, width: td.getBoundingClientRect().width, lines: tops.length};
})"""


def page_width(pg) -> dict:
    return pg.evaluate(
        "() => ({scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth})"
    )


@pytest.mark.parametrize("path", ["2023-12/B017.html", "2023-12/overview.html", "2023-12/I003.html"])
def test_a_report_fits_a_phone_and_its_tables_scroll_instead_of_collapsing(server, page, path):
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/{path}")
    width = page_width(page)
    assert width["scroll"] <= width["client"], width  # the page itself never scrolls sideways
    cells = page.eval_on_selector_all("table td", CELL_LINES)
    assert cells
    # figures, dates, codes and badges on one line; no text cell one character wide
    broken = [c for c in cells if c["cls"] in ("num", "fig", "badge", "label") and c["text"].strip() and c["lines"] > 1]
    assert not broken, broken[:5]
    narrow = [c for c in cells if c["cls"] == "text" and c["text"].strip() and c["width"] < 40]
    assert not narrow, narrow[:5]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"phone-{path.replace('/', '-')}.png"), full_page=True)
    assert page.console_errors == []


def test_b017_indicator_table_reads_on_a_phone(server, page):
    """At 390 px B017's 指标明细 keeps its columns readable (no cell a character a line): the
    table is wider than the screen and scrolls inside its wrapper."""
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/2023-12/B017.html")
    wrap = page.evaluate(
        """() => { const t = document.querySelector('table.indicators'); const w = t.parentElement;
        return {cls: w.className, table: t.getBoundingClientRect().width, wrap: w.clientWidth,
                overflow: getComputedStyle(w).overflowX}; }"""
    )
    assert wrap["cls"] == "table-wrap" and wrap["overflow"] == "auto"
    assert wrap["table"] >= wrap["wrap"]
    cells = page.eval_on_selector_all("table.indicators td", CELL_LINES)
    # no cell of the table is taller than a few lines: "普惠型小微企业贷款余额（剔除票据）" is 17 characters
    assert max(c["lines"] for c in cells) <= 6, sorted(cells, key=lambda c: -c["lines"])[:3]


def test_the_site_index_fits_a_phone(server, page):
    page.set_viewport_size(PHONE)
    page.goto(f"{server}/2023-12/index.html")
    width = page_width(page)
    assert width["scroll"] <= width["client"], width
    overflow = page.evaluate("() => getComputedStyle(document.querySelector('#institutions').parentElement).overflowX")
    assert overflow == "auto"
    page.fill("#q", "宛城")  # the controls still work at this width
    assert visible_ids(page) == ["B017"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone-site-index.png"), full_page=True)
    assert page.console_errors == []
