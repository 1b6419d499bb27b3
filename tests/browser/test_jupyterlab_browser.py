"""End to end in a real browser: JupyterLab on loopback, notebooks 05 and 06 run with Run > Run All Cells in
headless Chromium, the plots of 05 and the playground widgets of 06 must render, and the playground must answer a
typed question. Screenshots go to outputs/<profile>/screenshots/.

Requirements (skipped with the reason when missing): Debian's chromium at /usr/bin/chromium (or $LAB_CHROMIUM) and
Playwright for Python, which drives that browser; `playwright install` is never needed. Notebooks 01-04 must have run
for the profile (LAB_PROFILE, default smoke); when their outputs are missing this test runs
`python -m helpers course --profile <profile>` first (about two minutes for smoke).

Nothing is written to the notebooks: autosave is off in a throw-away JupyterLab settings folder, the test never
saves, and it checks the files' bytes afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from helpers.config import ROOT, get_profile
from helpers.workshop.playground.saved import newer_model_than

pytestmark = pytest.mark.browser

CHROMIUM = Path(os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
NOTEBOOK_05 = "notebooks/05_plot_dims_vs_ndcg.ipynb"
NOTEBOOK_06 = "notebooks/06_search_playground.ipynb"
NEEDED = ("pairs/test_ir.json", "matryoshka/model", "results/per_query.csv")
RUN_TIMEOUT_MS = 600_000
TYPED_QUESTION = "How does BM25 keep long documents from winning just by repeating words?"
# JupyterLab user settings for the test server: no autosave (the notebooks stay untouched), every cell in the DOM
# (no virtual scrolling), no news or update checks (no network).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
}


class Token(str):
    """A random server token that does not show its value in reprs (pytest prints arguments on failure)."""

    def __repr__(self) -> str:
        return "'<token>'"


def _requirements_or_skip():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium (or set LAB_CHROMIUM to a Chromium binary)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("Playwright for Python is missing: .venv/bin/pip install playwright==1.65.2")


@pytest.fixture(scope="module")
def profile():
    _requirements_or_skip()
    profile = get_profile(os.environ.get("LAB_PROFILE", "smoke"))
    missing = [rel for rel in NEEDED if not (profile.outputs / rel).exists()]
    if missing:
        print(f"outputs missing ({', '.join(missing)}): running the course with profile {profile.name} first")
        subprocess.run([sys.executable, "-m", "helpers", "course", "--profile", profile.name], cwd=ROOT, check=True,
                       timeout=3600)
    return profile


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _jupyter() -> str:
    venv = ROOT / ".venv" / "bin" / "jupyter"
    return str(venv if venv.exists() else Path(sys.executable).parent / "jupyter")


def _wait_for_server(url: str, token: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace").replace(token, "<token>")
            pytest.fail(f"JupyterLab exited with status {proc.returncode}:\n{text[-3000:]}")
        request = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer on {url} within {timeout:.0f} s")


@pytest.fixture(scope="module")
def jupyterlab(profile, tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 at a random port with a random token, rooted at the repository."""
    home = tmp_path_factory.mktemp("jupyterlab")
    for relative, values in LAB_SETTINGS.items():
        path = home / "settings" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port, token = _free_port(), Token(secrets.token_hex(16))
    env = {
        **os.environ, "JUPYTER_TOKEN": token, "LAB_PROFILE": profile.name, "HF_HUB_OFFLINE": "1",
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
    }
    command = [
        _jupyter(), "lab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0", f"--ServerApp.root_dir={ROOT}", "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        f"--FileCheckpoints.root_dir={home / 'checkpoints'}",  # JupyterLab checkpoints on open: keep them out of notebooks/
    ]
    if os.geteuid() == 0:  # containers often run as root; Jupyter refuses that unless told
        command.append("--allow-root")
    log = home / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(url, token, proc, log)
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser(jupyterlab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile_dir = tmp_path_factory.mktemp("chromium-profile")  # a fresh --user-data-dir
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile_dir), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1500, "height": 1400},
        )
        context.set_default_timeout(60_000)
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def screenshots(profile) -> Path:
    folder = profile.outputs / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module", autouse=True)
def notebooks_untouched():
    paths = [ROOT / NOTEBOOK_05, ROOT / NOTEBOOK_06]
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}
    yield
    changed = [str(p.relative_to(ROOT)) for p in paths if hashlib.sha256(p.read_bytes()).hexdigest() != before[p]]
    assert not changed, f"{changed} changed during the browser test: autosave must stay off (or someone edited them)"


# Done when the kernel has run something and no cell is queued or running any more (after an error, JupyterLab
# clears the queue, so the remaining cells keep an empty prompt).
RUN_FINISHED = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  if (!panel) return false;
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
  return prompts.some(t => /^\\[\\d+\\]:$/.test(t)) && !prompts.some(t => t === '[*]:');
}"""

KERNEL_IDLE = """() => [...document.querySelectorAll('#jp-main-statusbar span')]
  .some(e => /^\\S.*\\| Idle$/.test(e.textContent.trim()) && !e.textContent.includes('No Kernel'))"""


def open_and_run_all(context, url: str, token: str, notebook: str, screenshots: Path):
    """Open a notebook in a fresh workspace, wait for its kernel, then Run > Run All Cells and wait for the end."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = context.new_page()
    page.goto(f"{url}/lab/tree/{notebook}?reset&token={token}")
    panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    panel.locator(".jp-CodeCell").first.wait_for()
    stem = Path(notebook).stem[:2]
    try:
        page.wait_for_function(KERNEL_IDLE, timeout=180_000)  # Run All before the kernel exists runs nothing
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        page.wait_for_function(RUN_FINISHED, timeout=RUN_TIMEOUT_MS)
    except PlaywrightTimeout:
        page.screenshot(path=str(screenshots / f"{stem}_timeout.png"))
        prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        pytest.fail(f"{notebook} did not finish: prompts {prompts}; see {screenshots / f'{stem}_timeout.png'}")
    prompts = panel.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    tracebacks = panel.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)")
    if tracebacks.count() or not all(re.fullmatch(r"\[\d+\]:", t.strip()) for t in prompts):
        page.screenshot(path=str(screenshots / f"{stem}_error.png"))
        detail = tracebacks.first.inner_text()[-3000:] if tracebacks.count() else f"prompts {prompts}"
        pytest.fail(f"{notebook} did not run to the end in the browser:\n{detail}")
    return page, panel


def test_notebook_05_shows_its_plots(browser, jupyterlab, screenshots):
    page, panel = open_and_run_all(browser, *jupyterlab, NOTEBOOK_05, screenshots)
    images = panel.locator(".jp-OutputArea-output img")
    assert images.count() >= 2, "notebook 05 should display the dims plot and the bytes plot"
    first = images.first
    first.scroll_into_view_if_needed()
    size = first.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 300 and size[2] > 200, f"the first plot did not load: {size}"
    first.screenshot(path=str(screenshots / "05_ndcg_vs_dim_plot.png"))
    page.screenshot(path=str(screenshots / "05_notebook.png"))
    page.close()


def test_notebook_06_playground_answers_a_typed_question(browser, jupyterlab, screenshots):
    page, panel = open_and_run_all(browser, *jupyterlab, NOTEBOOK_06, screenshots)
    box = panel.locator(".playground")
    box.wait_for()
    box.scroll_into_view_if_needed()
    for name in ("playground-questions", "playground-query", "playground-dim", "playground-k", "playground-search"):
        assert panel.locator(f".{name}").count() == 1, f"widget .{name} is not rendered"
    hits = panel.locator(".playground-results tr.playground-hit")
    hits.first.wait_for()  # the notebook opens the playground on the first test question
    # base, fine-tuned and BM25, plus a column answered through notebook 07's saved index once that has run, and the
    # hybrid (fine-tuned + BM25) once notebook 04 has chosen its fusion, and that hybrid reranked once notebook 08 has
    # trained its cross-encoder on the current fine-tuned model
    profile = get_profile()
    outputs = profile.outputs
    hybrid = (outputs / "results" / "hybrid_choice.json").is_file()
    rerank_choice = outputs / "results" / "rerank_choice.json"
    reranked = hybrid and rerank_choice.is_file() and not newer_model_than(profile, rerank_choice)
    systems = 3 + (outputs / "index").is_dir() + hybrid + reranked
    assert panel.locator(".playground-results").get_by_text("relevant chunk at rank").count() == systems
    box.screenshot(path=str(screenshots / "06_playground_test_question.png"))

    query = panel.locator(".playground-query input")
    query.fill(TYPED_QUESTION)
    query.press("Enter")
    panel.locator(".playground-echo", has_text=TYPED_QUESTION).wait_for()
    top_k = int(panel.locator(".playground-k .widget-readout").inner_text().strip())
    columns = panel.locator(".playground-results .playground-column")
    assert columns.count() == systems
    assert hits.count() == systems * top_k, f"expected {top_k} rows per system, got {hits.count()} rows"
    assert panel.locator(".playground-results .playground-relevant").count() == 0  # a typed question has no label
    assert panel.locator(".playground-questions select").input_value().startswith("(type your own")
    status = panel.locator(".playground-status").inner_text()
    assert "ms" in status and "total" in status, status
    box.screenshot(path=str(screenshots / "06_playground_typed_question.png"))
    page.screenshot(path=str(screenshots / "06_notebook.png"))
    page.close()
