#!/usr/bin/env bash
# Run the JupyterLab browser test (notebooks 05 and 06 in headless Chromium) and leave screenshots in
# outputs/$LAB_PROFILE/screenshots/. One-time requirements:
#   apt-get install -y chromium                 # Debian's Chromium, used at /usr/bin/chromium
#   .venv/bin/pip install playwright==1.65.2    # drives that browser; never run `playwright install`
# If notebooks 01-04 have not run for the profile, the test runs `python -m helpers course` first (~2 min for smoke).
set -euo pipefail
cd "$(dirname "$0")/../.."
export LAB_PROFILE="${LAB_PROFILE:-smoke}"
if [ ! -x "${LAB_CHROMIUM:-/usr/bin/chromium}" ]; then
    echo "Chromium is missing: apt-get install -y chromium" >&2
    exit 1
fi
if ! .venv/bin/python -c "import playwright.sync_api" 2>/dev/null; then
    echo "Playwright is missing: .venv/bin/pip install playwright==1.65.2" >&2
    exit 1
fi
exec .venv/bin/python -m pytest tests/browser -m browser -v -rs "$@"
