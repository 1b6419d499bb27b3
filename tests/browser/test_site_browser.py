"""The course site in a real browser: `docs/build.py` (what `make site` runs) builds the site of the profile under test
(LAB_PROFILE, default smoke) from the executed notebooks it finds, then headless Chromium opens the home page and two
notebook pages: their local figures must load, and no internal link of theirs may be broken (external images such as
the Colab badges are not checked: the machine is offline). Search must find a course term; the playground page must
carry a static copy of its widgets. Screenshots go to outputs/<profile>/screenshots/site_*.png.

Under `make test` nbval has just executed every notebook and left its copy in outputs/smoke/executed/
(tests/executed_copies.py), so the build renders all of them with outputs and executes nothing. Run alone, notebooks
without an executed copy are rendered without outputs, and the figure checks of their pages are skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_jupyterlab_browser import CHROMIUM, CHROMIUM_FLAGS, _requirements_or_skip

from helpers.config import ROOT, get_profile

pytestmark = pytest.mark.browser

sys.path.insert(0, str(ROOT / "tests"))
from site_loader import load_site_builder  # noqa: E402

build = load_site_builder()
NOTEBOOK_PAGES = ("01_load_corpus", "05_plot_dims_vs_ndcg")

LOCAL_IMAGES = """() => [...document.images]
  .filter(img => img.src.startsWith('file:') && img.offsetParent !== null)
  .map(img => [img.getAttribute('src'), img.complete, img.naturalWidth, img.naturalHeight])"""
INTERNAL_LINKS = """() => [...document.querySelectorAll('a[href]')].map(a => a.href).filter(h => h.startsWith('file:'))"""


@pytest.fixture(scope="module")
def site():
    _requirements_or_skip()
    profile = get_profile(os.environ.get("LAB_PROFILE", "smoke"))
    executed = profile.outputs / "executed"
    start = time.perf_counter()
    run = subprocess.run([sys.executable, str(ROOT / "docs" / "build.py"), "--profile", profile.name,
                          "--execute", "never"], cwd=ROOT, capture_output=True, text=True, timeout=1200)
    seconds = time.perf_counter() - start
    assert run.returncode == 0, f"the site build failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    index = Path(run.stdout.strip().splitlines()[-1])
    assert index == build.SITE / "index.html" and index.exists(), run.stdout[-2000:]
    print(f"site built in {seconds:.0f} s: {run.stdout.strip().splitlines()[-2]}")
    with_outputs = {n for n in build.NOTEBOOKS if build.fresh_copy(n, executed) is not None}
    shots = profile.outputs / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    return SimpleNamespace(root=index.parent, profile=profile, with_outputs=with_outputs, shots=shots)


@pytest.fixture(scope="module")
def page(site):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1000})
        tab.set_default_timeout(60_000)
        try:
            yield tab
        finally:
            browser.close()


def _open(page, site, relative: str, query: str = ""):
    page.goto((site.root / relative).as_uri() + query)
    page.wait_for_load_state("load")


def _check_links(page, site, relative: str) -> None:
    problems = build.broken_links(site.root, [site.root / relative])
    assert not problems, "\n".join(problems)
    for href in page.evaluate(INTERNAL_LINKS):  # what the browser resolved, the theme's scripts included
        target = Path(href.removeprefix("file://").split("#")[0].split("?")[0])
        assert target.exists() or (target / "index.html").exists(), f"{relative}: link to {href} is broken"


def test_the_home_page_shows_its_figure_and_links_every_page(page, site):
    _open(page, site, "index.html")
    images = page.evaluate(LOCAL_IMAGES)
    figure = [img for img in images if img[0].endswith("matryoshka-prefixes.svg")]
    assert figure and figure[0][1] and figure[0][2] > 300, f"the concept figure did not load: {images}"
    nav = page.locator("nav.bd-links a").all_inner_texts()
    for title in ("00 ·", "07 ·", "Solutions", "Results", "Instructor notes"):
        assert any(title in text for text in nav), f"{title!r} is not in the navigation: {nav}"
    _check_links(page, site, "index.html")
    page.screenshot(path=str(site.shots / "site_home.png"), full_page=False)


@pytest.mark.parametrize("stem", NOTEBOOK_PAGES)
def test_a_notebook_page_shows_its_plots_and_has_no_broken_link(page, site, stem):
    relative = f"notebooks/{stem}.html"
    _open(page, site, relative)
    _check_links(page, site, relative)
    images = page.evaluate(LOCAL_IMAGES)
    broken = [img for img in images if not (img[1] and img[2] > 0)]
    assert not broken, f"{relative}: images that did not load: {broken}"
    page.screenshot(path=str(site.shots / f"site_{stem[:2]}.png"), full_page=False)
    if f"{stem}.ipynb" not in site.with_outputs:
        pytest.skip(f"{stem} has no executed copy for {site.profile.name}: its page has no outputs to check")
    plots = [img for img in images if img[2] > 300 and img[3] > 200]
    assert plots, f"{relative}: no plot among its images {images}"
    page.locator("img[src*='_images']").first.scroll_into_view_if_needed()
    page.screenshot(path=str(site.shots / f"site_{stem[:2]}_plot.png"), full_page=False)


def test_search_finds_a_course_term(page, site):
    _open(page, site, "search.html", "?q=MatryoshkaLoss")
    page.locator("#search-results ul.search li").first.wait_for(timeout=60_000)
    assert page.locator("#search-results ul.search li").count() >= 3


def test_the_playground_page_keeps_a_static_copy_of_its_widgets(page, site):
    _open(page, site, "notebooks/06_search_playground.html")
    text = page.locator("main").inner_text()
    if "06_search_playground.ipynb" not in site.with_outputs:
        pytest.skip("notebook 06 has no executed copy for this profile")
    assert "A static copy of the widget" in text, "notebook 06's playground left no static output"
    static = page.locator(".playground-static")
    assert static.count() == 1 and static.get_by_text("relevant chunk at rank").count() >= 3  # base, tuned, BM25
    static.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(site.shots / "site_06_playground.png"), full_page=False)
