"""The browser tests drive JupyterLab in headless Chromium; select them with `-m browser`, skip them with
`-m "not browser"`. See run_browser_test.sh for their requirements."""

from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives JupyterLab in headless Chromium (needs chromium + playwright)")
