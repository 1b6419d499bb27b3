"""Sphinx settings of the course site. Run through ``make site`` (docs/build.py stages the pages, then calls
``sphinx-build -c docs outputs/site-src outputs/site``); notebooks are rendered with the outputs they already have,
never executed here."""

from __future__ import annotations

import json
from pathlib import Path

site = json.loads((Path.cwd() / "outputs" / "site-src" / "site.json").read_text(encoding="utf-8")) \
    if (Path.cwd() / "outputs" / "site-src" / "site.json").exists() else {}

project = "matryoshka-lab"
author = "the matryoshka-lab authors"
copyright = "the matryoshka-lab authors; code MIT, data CC BY 4.0"
html_title = "matryoshka-lab"

extensions = ["myst_nb"]
exclude_patterns = ["site.json", "**/.ipynb_checkpoints"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

# Notebooks arrive executed (outputs/<profile>/executed/) or, where none was, without outputs.
nb_execution_mode = "off"
nb_merge_streams = True
myst_heading_anchors = 3  # GitHub's anchors (#time-and-memory-measured), so README links work on the site too
myst_enable_extensions = ["colon_fence", "html_image"]
suppress_warnings = ["myst.header"]  # a notebook's "### Exercise" under a "##" section is fine

html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": site.get("repository", ""),
    "repository_branch": "main",
    "path_to_docs": "",
    "use_repository_button": bool(site.get("repository")),
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
# The theme derives these from repository_url; given here too, since with Sphinx 9 its launch buttons do not see them.
_owner, _name = (site.get("repository", "").removeprefix("https://github.com/").split("/") + ["", ""])[:2]
html_context = {"default_mode": "light", "github_url": "https://github.com", "github_user": _owner,
                "github_repo": _name, "github_version": "main", "doc_path": ""}
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = True  # the download button offers each page's source (a notebook with its outputs)
