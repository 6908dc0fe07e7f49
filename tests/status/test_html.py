"""The status page: self-contained, escaped, and right in a real browser (headless Chromium from
Debian's ``chromium`` package, driven by Playwright's Python package; no browser download).

The browser is found at $RAYFLEET_CHROMIUM or as ``chromium`` on PATH; without one the browser
tests are skipped, unless RAYFLEET_REQUIRE_BROWSER=1 (CI, .ci/run) makes that a failure.
RAYFLEET_UPDATE_EXAMPLES=1 rewrites docs/status.png."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from rayfleet.report import status_html
from rayfleet.status import HEALTHY, collect_status, load_snapshot

from tests.kube.fake_kube import multikueue_cluster
from tests.status.scenario import EXAMPLE_SNAPSHOT, REPO, fake_fleet

SCREENSHOT = REPO / "docs" / "status.png"
VIEWPORT = {"width": 1360, "height": 900}


def _chromium() -> str | None:
    return os.environ.get("RAYFLEET_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser():
    executable = _chromium()
    if executable is None:
        if os.environ.get("RAYFLEET_REQUIRE_BROWSER") == "1":
            pytest.fail("no chromium found (RAYFLEET_REQUIRE_BROWSER=1): apt-get install chromium")
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def example():
    return load_snapshot(EXAMPLE_SNAPSHOT)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def open_page(browser, path: Path, **options):
    page = browser.new_page(viewport=VIEWPORT, **options)
    seen = {"errors": [], "requests": []}
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.goto(path.as_uri(), wait_until="load")
    return page, seen


# --- without a browser ----------------------------------------------------------------------------

def test_page_is_self_contained(example):
    page = status_html.format_status(example)
    assert not re.search(r"""(src|href)=["']?(https?:|//)""", page)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the browser refuses any load the page might still try
    for region in example.regions:
        assert f'id="{status_html.region_id(region.name)}"' in page
        assert f'href="#{status_html.region_id(region.name)}"' in page


def test_everything_from_the_snapshot_is_escaped(example):
    hostile = '<img src="https://evil.example/x.png" onerror="alert(1)">'
    west = next(r for r in example.regions if r.facts is None)
    status = replace(example, fleet=hostile, regions=tuple(
        replace(r, message=hostile, name=r.name + "<b>") if r is west else r for r in example.regions))
    page = status_html.format_status(status)
    assert "<img" not in page and "&lt;img src=&quot;https://evil.example/x.png&quot;" in page
    assert "westus3&lt;b&gt;" in page


# --- in Chromium --------------------------------------------------------------------------------

def test_example_page_in_chromium(browser, example, tmp_path):
    path = tmp_path / "status.html"
    path.write_text(status_html.format_status(example), encoding="utf-8")
    page, seen = open_page(browser, path)
    assert seen["errors"] == []
    assert seen["requests"] == [path.as_uri()]  # nothing but the page itself
    rows = page.locator("table.summary tbody tr")
    assert rows.count() == len(example.regions)
    for region in example.regions:
        assert rows.filter(has_text=region.name).count() == 1
        assert page.locator(f"details#{status_html.region_id(region.name)}").count() == 1
    # Regions needing attention start open, healthy ones closed; a summary link opens its region.
    is_open = "d => d.open"
    assert not page.locator("#region-eastus2").evaluate(is_open)
    assert page.locator("#region-swedencentral").evaluate(is_open)
    page.click("a[href='#region-eastus2']")
    assert page.locator("#region-eastus2").evaluate(is_open)
    page.click("button[data-open=false]")
    assert page.locator("details.region[open]").count() == 0
    page.click("button[data-open=true]")
    assert page.locator("details.region[open]").count() == len(example.regions)
    # GPU bars: requested is drawn inside allocatable, both inside the quota track.
    bar = page.locator("table.summary tbody tr").first.locator(".bar")
    track, alloc, used = (bar.bounding_box()["width"], bar.locator(".alloc").bounding_box()["width"],
                          bar.locator(".used").bounding_box()["width"])
    assert 0 < used < alloc < track  # eastus2: 3 of 4 allocatable, quota 10
    assert abs(alloc / track - 0.4) < 0.02
    # The summary fits the window: no horizontal scrolling at a laptop width.
    assert page.evaluate("document.documentElement.scrollWidth") <= VIEWPORT["width"]
    assert seen["errors"] == [] and seen["requests"] == [path.as_uri()]
    page.close()


def test_screenshot_keeps_its_size_and_structure(browser, example, tmp_path):
    path = tmp_path / "status.html"
    path.write_text(status_html.format_status(example), encoding="utf-8")
    page, seen = open_page(browser, path)
    shot = page.screenshot(full_page=True)
    layout = page.evaluate("""() => [...document.querySelectorAll('header, table.summary, details.region')]
        .map(e => [e.tagName, Math.round(e.getBoundingClientRect().height)])""")
    page.close()
    if os.environ.get("RAYFLEET_UPDATE_EXAMPLES") == "1":
        SCREENSHOT.write_bytes(shot)
    width, height = png_size(shot)
    kept_width, kept_height = png_size(SCREENSHOT.read_bytes())
    assert width == kept_width == VIEWPORT["width"]
    # Fonts differ between machines: the height may move a little, the layout may not.
    assert abs(height - kept_height) / kept_height < 0.15, (height, kept_height)
    assert [tag for tag, _ in layout] == ["HEADER", "TABLE"] + ["DETAILS"] * len(example.regions)
    # Healthy regions (eastus2, the manager) start closed, one summary line; the others open.
    closed = layout[2][1]
    heights = {r.name: h for r, (_, h) in zip(example.regions, layout[2:], strict=True)}
    assert all(h > 0 for _, h in layout)
    assert {name: h > closed * 2 for name, h in heights.items()} == {
        r.name: r.state != HEALTHY for r in example.regions}
    assert seen["errors"] == []


def test_dark_mode_has_its_own_colours(browser, example, tmp_path):
    path = tmp_path / "status.html"
    path.write_text(status_html.format_status(example), encoding="utf-8")
    colours = []
    for scheme in ("light", "dark"):
        page, seen = open_page(browser, path, color_scheme=scheme)
        colours.append(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        assert seen["errors"] == []
        page.close()
    assert colours[0] != colours[1]


def test_manager_shows_workers_and_where_jobs_went(tmp_path):
    with fake_fleet(tmp_path) as fake:
        manager = fake.clusters["manager"]
        manager.kueue.multikueueclusters[2] = multikueue_cluster("westus3", active=False,
                                                                 message="dial tcp: i/o timeout")
        status = collect_status(fake.fleet, kubeconfig=fake.kubeconfig, timeout=10)
    page = status_html.format_status(status)
    details = page[page.index('id="region-manager"'):]
    assert "centralus · cluster aks-ray-manager · context rayfleet-manager · manager" in details
    assert "MultiKueue workers" in details and "dial tcp: i/o timeout" in details
    assert "2/3 workers connected" in page
    # Each dispatched RayJob names its worker cluster (here named after the region it stands for).
    assert "ray/train-llama-eus2</td><td>gpu-batch</td><td>admitted</td><td>eastus2" in details
    assert "nominated: swedencentral, westus3" in details
