"""The change-request report (opsproof/change_report.py) on a realistic hand-built record (report_sample.py): what
it says and in what order, and, in a real headless Chromium, that it renders, loads nothing from anywhere, prints to
PDF, and shows a failure on its first screen. The screenshot stays in reports/test-artifacts/change-request.png."""

import re
import shutil
import socket
import subprocess
import threading

import pytest

from opsproof import ROOT, change_report, runbook

from tests.unit.report_sample import record, window_run

ARTIFACTS = ROOT / "reports" / "test-artifacts"
BROWSER_HOSTS = ("google.com", "googleapis.com", "gvt1.com", "gstatic.com")
"""Chromium's own background services (time, component updates, accounts): not requests of the page."""


def _html(**kw) -> str:
    cov = runbook.coverage({}, {}) if kw.pop("no_checks", False) else None
    from opsproof import check_index

    cov = cov or runbook.Coverage(runbook.SECTIONS, check_index.checks())
    inp = change_report.Inputs(record=kw.pop("rec", None) or record(), coverage=cov.as_rows(), run=window_run(),
                               links={"Full pytest-html report": "report.html", "Raw evidence": "evidence.json"},
                               totals=cov.totals(), checks=cov.checks)
    return change_report.render(inp)


def test_verdict_and_failures_come_first():
    html = _html()
    verdict = html.index('aria-label="verdict"')
    failed = html.index('aria-label="what failed"')
    first_section = html.index('<h2 id="window">') if '<h2 id="window">' in html else html.index("<h2 id=")
    assert verdict < failed < first_section
    head = html[:first_section]
    for text in ("FAILED", "210987654321", "CHG0030001", "j.doe", "2026-01-11 02:00 UTC", "2026-01-11 05:14 UTC",
                 "public.idx_jobs_status_ccnew", "DROP INDEX CONCURRENTLY public.idx_jobs_status_ccnew",
                 "cdn.aifilmstudio.test", "step 3 (reindex) took 1 h 12 min"):
        assert text in head, text


def test_sections_in_the_runbooks_order_with_sentences_status_and_measured_value():
    html = _html()
    ids = re.findall(r'<h2 id="(\w+)"', html)
    keys = [s.key for s in runbook.SECTIONS]
    assert [i for i in ids if i in keys] == keys
    # a check as its whole sentence, its runbook step, its measured value and limit
    assert "Each TLS endpoint serves a certificate valid for more than certificates.min_days_left days." in html
    assert "364.9 days (limit ≥ 30 days)" in html
    assert "runbook: 24 Hours Before: Verify backup integrity" in html


def test_before_after_waivers_window_coverage_and_links():
    html = _html()
    assert "Metrics Before/After" in html and "182 ms" in html and "171 ms" in html
    assert "security@aifilmstudio.test" in html and "2026-12-20" in html
    assert "Reindex large tables" in html and "Deviations from the plan" in html and "1 h 12 min" in html
    assert "Runbook coverage" in html and "by a person: people join a call" in html
    assert 'href="report.html"' in html and 'href="evidence.json"' in html


def test_history_fragment_is_a_section_when_present():
    rec = record()
    assert "<h2 id=\"history\">" not in _html(rec=rec)
    rec["history"] = {"html": "<table><tr><td>last 5 runs</td></tr></table>"}
    assert "<h2 id=\"history\">History</h2>\n<table><tr><td>last 5 runs</td></tr></table>" in _html(rec=rec)


def test_a_passing_run_says_so_and_escapes_what_it_shows():
    rec = record()
    for c in rec["checks"]:
        if c["outcome"] == "failed":
            c.update(outcome="passed", findings=[])
    rec["checks"][0]["doc"] = "<script>alert(1)</script>"
    html = change_report.render(change_report.Inputs(record=rec))
    assert "PASSED WITH WAIVERS" in html and 'aria-label="what failed"' not in html
    assert "<script>" not in html


def test_nothing_is_loaded_from_anywhere():
    html = _html()
    assert "default-src 'none'" in html
    assert not re.search(r"<(script|link|iframe|object|embed)\b", html, re.I)
    assert not re.search(r"""\bsrc\s*=\s*["'](?!data:)""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?(?!data:)", html, re.I)


# ---- a real browser --------------------------------------------------------------------------------------------
def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    pytest.fail("no Chromium: scripts/setup installs Debian's chromium (apt-get install chromium)")


class Proxy:
    """A proxy that answers nothing and writes down every request the browser sends through it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            c.settimeout(2)
            try:
                self.seen.append(c.recv(400).decode(errors="replace").split("\r\n")[0])
            except OSError:
                pass
            c.close()

    def page_requests(self) -> list[str]:
        hosts = [re.sub(r"^\w+ (https?://)?([^/: ]+).*$", r"\2", line) for line in self.seen]
        return [line for line, h in zip(self.seen, hosts) if not h.endswith(BROWSER_HOSTS)]


def _chromium(browser, proxy, profile, *args) -> subprocess.CompletedProcess:
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
           "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
           f"--user-data-dir={profile}", f"--proxy-server=http://127.0.0.1:{proxy.port}",
           "--proxy-bypass-list=<-loopback>", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_in_headless_chromium(tmp_path):
    browser = _browser()
    report = tmp_path / "change-request.html"
    report.write_text(_html())
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png, pdf = ARTIFACTS / "change-request.png", ARTIFACTS / "change-request.pdf"
    png.unlink(missing_ok=True)
    pdf.unlink(missing_ok=True)
    proxy = Proxy()
    p = _chromium(browser, proxy, tmp_path / "profile", "--window-size=1280,900", f"--screenshot={png}",
                  report.as_uri())
    assert png.is_file(), p.stderr[-2000:]
    p = _chromium(browser, proxy, tmp_path / "profile", "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                  report.as_uri())
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF-"), p.stderr[-2000:]
    assert pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page ") + \
        len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) >= 2, "the report prints on several pages"
    assert proxy.page_requests() == [], f"the report made requests: {proxy.page_requests()}"
    _assert_failure_on_first_screen(png)


def _assert_failure_on_first_screen(png):
    from matplotlib import image

    img = (image.imread(png)[:, :, :3] * 255).astype(int)
    assert img.shape[:2] == (900, 1280), img.shape

    def share(rgb, tol=12):
        return ((abs(img - rgb) <= tol).all(axis=2)).mean()

    assert share((179, 38, 30)) > 0.002, "the failure red (verdict, 'What failed') is not on the first screen"
    assert share((253, 236, 234)) > 0.10, "the pink 'What failed' panel does not fill the first screen"
