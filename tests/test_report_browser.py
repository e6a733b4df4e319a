"""The report in a real browser: headless Chromium (Debian `chromium` and `chromium-driver`, installed by
`make setup`) opens the page from disk, and every section must have rendered: images decoded with a size,
tables with rows, audio players with a source Chromium can decode. A full-page screenshot of each page is
saved beside the test's output (the path is printed)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nanokws.report import write_report
from report_helpers import clone_run, write_bench, write_hil, write_loeo

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
DEMO_RUN = Path(__file__).resolve().parents[1] / "runs" / "demo"
SECTIONS = ("data", "training", "accuracy", "distillation", "loeo", "budget", "misclassified")

# What each section holds, read from the rendered page (not from the HTML source).
INSPECT = """
const out = [];  // a list: the order of the sections matters, and object keys come back sorted
for (const s of document.querySelectorAll('main > section')) {
  out.push({
    id: s.id,
    measured: s.dataset.measured,
    visible: s.getBoundingClientRect().height > 0,
    title: (s.querySelector('h2') || {}).textContent || '',
    notes: [...s.querySelectorAll('p.note')].map(p => p.textContent),
    codes: [...s.querySelectorAll('code')].map(c => c.textContent),
    tables: [...s.querySelectorAll('table')].map(t => t.tBodies.length ? t.tBodies[0].rows.length : 0),
    images: [...s.querySelectorAll('img')].map(i => ({
      kind: i.className, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight})),
    audio: [...s.querySelectorAll('audio')].map(a => a.getAttribute('src') || ''),
  });
}
return out;
"""

# Ask Chromium to decode the first clip: its duration proves the embedded WAV is playable.
AUDIO_DURATION = """
const done = arguments[arguments.length - 1];
const a = document.querySelector('#misclassified audio');
if (!a) { done(null); return; }
a.addEventListener('loadedmetadata', () => done(a.duration));
a.addEventListener('error', () => done(-1));
a.preload = 'auto';
a.load();
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if missing:
        pytest.fail(f"headless Chromium is needed: {', '.join(missing)} missing (`make setup` installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()


def open_page(browser: Any, page: Path) -> dict[str, Any]:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(page.resolve().as_uri())
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return [...document.images].every(i => i.complete)"))
    return {s["id"]: s for s in browser.execute_script(INSPECT)}


def screenshot(browser: Any, path: Path) -> Path:
    """The whole page, not just the window (Chrome DevTools' capture beyond the viewport)."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}},
    )  # fmt: skip
    path.write_bytes(base64.b64decode(shot["data"]))
    print(f"screenshot: {path} ({size['width']:.0f}x{size['height']:.0f} CSS px)")
    return path


def check_page(browser: Any, sections: dict[str, Any], measured: set[str]) -> None:
    assert tuple(sections) == SECTIONS, f"sections on the page: {list(sections)}"
    for sid, s in sections.items():
        assert s["visible"] and s["title"].strip(), f"{sid}: not rendered"
        assert (s["measured"] == "yes") == (sid in measured), f"{sid}: measured={s['measured']}"
        assert s["notes"] or s["tables"] or s["images"], f"{sid}: empty"
        assert all(rows > 0 for rows in s["tables"]), f"{sid}: a table has no rows {s['tables']}"
        for img in s["images"]:
            assert img["complete"] and img["width"] > 0 and img["height"] > 0, f"{sid}: image not decoded {img}"
        assert all(src for src in s["audio"]), f"{sid}: an <audio> without a source"
        if sid not in measured:  # says what to run
            assert "not run" in s["title"] and any(c.startswith("host ") for c in s["codes"]), (sid, s["codes"])
    assert sections["data"]["tables"] and sections["data"]["tables"][0] >= 12  # a row per class
    assert [i["kind"] for i in sections["training"]["images"]] == ["curves", "curves"]  # student and teacher
    assert sum(i["kind"] == "confusion" for i in sections["accuracy"]["images"]) >= 2  # float and int8
    assert sections["misclassified"]["audio"], "no clip to listen to"
    duration = browser.execute_async_script(AUDIO_DURATION)
    assert duration == pytest.approx(1.0, abs=0.01), f"Chromium could not decode the first clip ({duration})"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors


def test_report_of_a_freshly_trained_run_renders(browser: Any, report_run: tuple[Path, str], tmp_path: Path) -> None:
    """As `host train` leaves a run: the firmware, the budget and leave-one-engine-out are not run yet."""
    page = write_report(report_run[0], tmp_path / "report.html").path
    sections = open_page(browser, page)
    screenshot(browser, tmp_path / "report.png")
    check_page(browser, sections, {"data", "training", "accuracy", "misclassified"})
    firmware = [n for n in sections["accuracy"]["notes"] if n.startswith("Firmware: not run")]
    assert firmware and any(c.startswith("host hil") for c in sections["accuracy"]["codes"])


def test_report_with_every_measurement_renders(browser: Any, report_run: tuple[Path, str], tmp_path: Path) -> None:
    run = clone_run(report_run[0], tmp_path / "run")
    write_hil(run)
    write_bench(run)
    write_loeo(run)
    page = write_report(run, tmp_path / "report.html").path
    sections = open_page(browser, page)
    screenshot(browser, tmp_path / "report.png")
    check_page(browser, sections, set(SECTIONS))
    assert [i["kind"] for i in sections["accuracy"]["images"]] == ["confusion"] * 3  # float, int8, firmware
    assert len(sections["budget"]["tables"]) == 5  # models, frontend, image, load, known from the run
    assert len(sections["loeo"]["tables"]) == 3  # every setting, then loeo.json's engines and classes


@pytest.mark.skipif(not (DEMO_RUN / "metrics.json").is_file(), reason="no default run (make demo) here")
def test_report_of_the_default_run_renders(browser: Any, tmp_path: Path) -> None:
    """The run `make demo` makes (runs/demo), as it is on this machine; its page goes to the test's folder."""
    page = write_report(DEMO_RUN, tmp_path / "report.html").path
    sections = open_page(browser, page)
    screenshot(browser, tmp_path / "report.png")
    assert tuple(sections) == SECTIONS
    for sid, s in sections.items():
        assert s["visible"] and (s["notes"] or s["tables"]), sid
        assert all(rows > 0 for rows in s["tables"]), sid
        assert all(i["complete"] and i["width"] > 0 for i in s["images"]), sid
    assert sum(i["kind"] == "confusion" for i in sections["accuracy"]["images"]) >= 2
    assert sections["misclassified"]["audio"] and all(sections["misclassified"]["audio"])
