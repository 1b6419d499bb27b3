"""Build the course site: the notebooks with their executed outputs, the results page, the instructor notes, the
glossary (when notebooks/GLOSSARY.md exists) and the reference pages, rendered by Sphinx + myst-nb into
``outputs/site/``. ``make site [PROFILE=smoke]`` runs this; its last line is the path of ``index.html``.

Executed notebooks come from ``outputs/<profile>/executed/``, where ``python -m helpers course`` writes them (and
where ``make test`` leaves the ones nbval ran). A copy is reused when its cells' sources are the notebook's and no
cell failed; otherwise ``--execute auto`` (the default) runs ``python -m helpers course --until 7`` and executes
00 and ``solutions`` itself, and ``--execute never`` renders that notebook without outputs, saying so on its page.

The pages are staged in ``outputs/site-src/`` with their repository paths (README.md becomes the home page), so
relative links between them keep working; a link to a repository file that is not a page points to the file on
GitHub (pyproject.toml's Repository URL). Widgets cannot run on a static page: each widget output is replaced by a
static copy of the state it was in when the notebook ran. After the build, every internal link and image of every
page is checked (:func:`broken_links`); a broken one fails the build.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from helpers.config import get_profile  # noqa: E402
from helpers.workshop.colab import BRANCH, repository_url  # noqa: E402

CONF_DIR = ROOT / "docs"
SITE = ROOT / "outputs" / "site"
STAGE = ROOT / "outputs" / "site-src"
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
COURSE_NOTEBOOKS = [n for n in NOTEBOOKS if re.match(r"0[1-7]_", n)]  # what `course --until 7` executes
PAGES = {  # repository path -> (section of the navigation, include only when present)
    "docs/results.md": ("Results and reference", False),
    "docs/reference.md": ("Results and reference", False),
    "benchmarks/README.md": ("Results and reference", False),
    "data/README.md": ("Results and reference", False),
    "notebooks/README.md": ("Teaching", False),
    "notebooks/GLOSSARY.md": ("Teaching", True),
}
ASSET_DIRS = ("docs/figures", "notebooks/figures")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
LINK = re.compile(r"(!?\[[^\]]*\])\(([^)\s]+)((?:\s+\"[^\"]*\")?)\)")
HTML_LINK = re.compile(r"((?:src|href)=\")([^\"]+)(\")")


# ----------------------------------------------------------------------------- executed notebooks
def _sources(nb: dict) -> list[tuple[str, str]]:
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def _failed(nb: dict) -> bool:
    return any(o.get("output_type") == "error" for c in nb["cells"] for o in c.get("outputs", []))


def fresh_copy(name: str, executed: Path) -> dict | None:
    """The executed copy of notebook ``name`` if it ran the notebook as it is now, without an error; else None."""
    path = executed / name
    if not path.exists():
        return None
    nb = json.loads(path.read_text(encoding="utf-8"))
    source = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
    return nb if _sources(nb) == _sources(source) and not _failed(nb) else None


def execute_missing(profile, executed: Path) -> None:
    """Run what has no fresh executed copy: the course's 01-07 in one `course` run, 00 and solutions one by one.

    The kernels get this profile (LAB_PROFILE, LAB_SPLIT) and LAB_PREPARE=0: the course has just run, so an input
    still missing is an error to show, not something to prepare again.
    """
    os.environ.update({"LAB_PROFILE": profile.name, "LAB_SPLIT": profile.split_regime, "LAB_PREPARE": "0"})
    if any(fresh_copy(n, executed) is None for n in COURSE_NOTEBOOKS):
        command = [sys.executable, "-m", "helpers", "course", "--profile", profile.name, "--until", "7"]
        if profile.split_regime != "chunks":
            command += ["--split", profile.split_regime]
        print(f"executing 01-07: {' '.join(['python', *command[1:]])}", flush=True)
        subprocess.run(command, cwd=ROOT, check=True)
    others = [n for n in NOTEBOOKS if n not in COURSE_NOTEBOOKS and fresh_copy(n, executed) is None]
    if others:
        from helpers.cli.course import _run_notebook

        log_path = profile.outputs / "logs" / "site.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log:
            for name in others:
                ok, seconds, _ = _run_notebook(ROOT / "notebooks" / name, executed / name, log, timeout=3600)
                if not ok:
                    raise SystemExit(f"{name} failed after {seconds:.0f} s: the error is at the end of {log_path}")


# ----------------------------------------------------------------------------- static widgets
def _widget(model_id: str, state: dict, depth: int = 0) -> str:
    model = state.get(model_id)
    if model is None or depth > 20:
        return ""
    name, s = model.get("model_name", ""), model.get("state", {})
    label = html.escape(s.get("description", ""))
    label = f"<b>{label}</b> " if label else ""
    labels, index = s.get("_options_labels", []), s.get("index")
    chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else ""
    if name in ("VBoxModel", "HBoxModel", "BoxModel", "GridBoxModel"):
        kids = [_widget(c.removeprefix("IPY_MODEL_"), state, depth + 1) for c in s.get("children", [])]
        direction = "row" if name == "HBoxModel" else "column"
        return f'<div style="display:flex;flex-direction:{direction};gap:6px">{"".join(kids)}</div>'
    if name in ("HTMLModel", "HTMLMathModel"):
        return f"<div>{s.get('value', '')}</div>"
    if name == "LabelModel":
        return f"<div>{html.escape(str(s.get('value', '')))}</div>"
    if name in ("TextModel", "TextareaModel"):
        value = html.escape(str(s.get("value", "")))
        return f'<div>{label}<input type="text" value="{value}" disabled style="width:70%"></div>'
    if name in ("DropdownModel", "SelectionSliderModel", "SelectModel", "ToggleButtonsModel", "RadioButtonsModel"):
        return f"<div>{label}{html.escape(chosen)}</div>"
    if name in ("IntSliderModel", "FloatSliderModel", "IntTextModel", "FloatTextModel", "CheckboxModel"):
        return f"<div>{label}{html.escape(str(s.get('value', '')))}</div>"
    if name in ("FloatProgressModel", "IntProgressModel"):  # a progress bar (tqdm), as it ended
        return f'<progress value="{s.get("value", 0)}" max="{s.get("max", 100)}" style="align-self:center"></progress>'
    if name == "ButtonModel":
        return f"<div><button disabled>{html.escape(s.get('description', ''))}</button></div>"
    return ""


def _is_progress(model_id: str, state: dict) -> bool:
    children = state.get(model_id, {}).get("state", {}).get("children", [])
    return any(state.get(c.removeprefix("IPY_MODEL_"), {}).get("model_name", "").endswith("ProgressModel")
               for c in children)


def static_widget(model_id: str, state: dict, own_html: str = "") -> str:
    """A widget on a page with no kernel: the static copy it displayed with itself (``own_html``), else one rebuilt
    from its saved state, else a note."""
    body = own_html or _widget(model_id, state)
    if body and not own_html and _is_progress(model_id, state):
        return f'<div class="static-progress" style="font-size:85%">{body}</div>'
    if not body:
        return ("<p><em>An interactive widget: it needs a running kernel, which a static page does not have. Run the "
                "notebook (locally or on Colab) to use it; the tables on this page come from the same search.</em></p>")
    return ("<p><em>A static copy of the widget as it stood when this page was built (the example question); run the "
            "notebook, locally or on Colab, to type your own.</em></p>"
            f'<div class="static-widget" style="border:1px solid #ccc;padding:8px">{body}</div>')


def freeze_widgets(nb: dict) -> int:
    """Replace every widget output by a static HTML copy of its saved state; drop the state. Returns the count."""
    state = nb.get("metadata", {}).pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    count = 0
    for cell in nb["cells"]:
        kept = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data:
                model_id = data.pop(WIDGET_VIEW).get("model_id", "")
                own_html = "".join(data.get("text/html", ""))
                if not own_html and model_id not in state and "%|" in "".join(data.get("text/plain", "")):
                    continue  # a progress bar whose end state was not saved (nbval's copies): nothing to show
                data.clear()
                data["text/html"] = static_widget(model_id, state, own_html)
                count += 1
            kept.append(output)
        if "outputs" in cell:
            cell["outputs"] = kept
    return count


# ----------------------------------------------------------------------------- staging
def staged_name(repo_path: str) -> str:
    return "index.md" if repo_path == "README.md" else repo_path


def rewrite_links(text: str, page: str, pages: set[str], repository: str) -> str:
    """Relative links of the page at repository path ``page``: to a page -> its staged path (README -> index);
    to another repository file -> the file on GitHub. Fenced code is left alone; so is a target that does not exist."""
    base = Path(page).parent

    def target(url: str) -> str:
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or url.startswith(("#", "mailto:")):
            return url
        relative = os.path.normpath(base / unquote(parts.path))
        path = ROOT / relative
        anchor = f"#{parts.fragment}" if parts.fragment else ""
        if relative in PAGES and PAGES[relative][1] and not path.exists():
            return f"{repository}/blob/{BRANCH}/{relative}{anchor}"  # an optional page not written yet
        if relative.startswith("..") or not path.exists():
            return url
        if relative in pages:
            return os.path.relpath(staged_name(relative), os.path.dirname(staged_name(page)) or ".") + anchor
        if any(relative.startswith(d + "/") for d in ASSET_DIRS):
            return url  # copied next to the pages
        kind = "tree" if path.is_dir() else "blob"
        return f"{repository}/{kind}/{BRANCH}/{relative}{anchor}"

    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced:
            line = LINK.sub(lambda m: f"{m.group(1)}({target(m.group(2))}{m.group(3)})", line)
            line = HTML_LINK.sub(lambda m: f"{m.group(1)}{target(m.group(2))}{m.group(3)}", line)
        out.append(line)
    return "\n".join(out)


UNEXECUTED_NOTE = ("*This page shows the notebook without its outputs: no executed copy of it was found for the "
                   "`{profile}` profile. `make site PROFILE={profile}` runs it first.*")
TOCTREE = """

```{{toctree}}
:caption: {caption}
:hidden:

{entries}
```
"""


def stage(profile, executed: Path, execute: str) -> dict:
    """Write the site's sources to STAGE; returns what went in (for the summary)."""
    repository = repository_url()
    pages = {"README.md"} | {p for p, (_, optional) in PAGES.items() if (ROOT / p).exists()}
    pages |= {f"notebooks/{n}" for n in NOTEBOOKS}
    shutil.rmtree(STAGE, ignore_errors=True)
    STAGE.mkdir(parents=True)
    for folder in ASSET_DIRS:
        if (ROOT / folder).is_dir():
            shutil.copytree(ROOT / folder, STAGE / folder)
    summary = {"executed": [], "without outputs": [], "widgets frozen": 0}
    for name in NOTEBOOKS:
        nb = fresh_copy(name, executed)
        if nb is None:
            nb = json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8"))
            note = {"cell_type": "markdown", "metadata": {}, "source": UNEXECUTED_NOTE.format(profile=profile.name)}
            nb["cells"].insert(1, note)
            summary["without outputs"].append(name)
        else:
            summary["executed"].append(name)
        summary["widgets frozen"] += freeze_widgets(nb)
        for number, cell in enumerate(nb["cells"]):
            cell.setdefault("id", f"cell-{number}")  # nbformat 4.5 wants ids; the course's notebooks have none
        setup = next(c for c in nb["cells"] if c["cell_type"] == "code")
        setup.setdefault("metadata", {}).setdefault("tags", []).append("hide-input")  # the setup cell, folded
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                cell["source"] = rewrite_links("".join(cell["source"]), f"notebooks/{name}", pages, repository)
        target = STAGE / "notebooks" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(nb, ensure_ascii=False), encoding="utf-8")
    sections: dict[str, list[str]] = {"The course": [f"notebooks/{Path(n).stem}" for n in NOTEBOOKS]}
    for page in sorted(pages - {"README.md"} - {f"notebooks/{n}" for n in NOTEBOOKS}, key=list(PAGES).index):
        text = rewrite_links((ROOT / page).read_text(encoding="utf-8"), page, pages, repository)
        (STAGE / page).parent.mkdir(parents=True, exist_ok=True)
        (STAGE / page).write_text(text, encoding="utf-8")
        sections.setdefault(PAGES[page][0], []).append(page.removesuffix(".md"))
    home = rewrite_links((ROOT / "README.md").read_text(encoding="utf-8"), "README.md", pages, repository)
    for caption, entries in sections.items():
        home += TOCTREE.format(caption=caption, entries="\n".join(entries))
    (STAGE / "index.md").write_text(home, encoding="utf-8")
    (STAGE / "site.json").write_text(json.dumps({"profile": profile.name, "repository": repository}), encoding="utf-8")
    summary["pages"] = ["index.md", *sorted(pages - {"README.md"} - {f"notebooks/{n}" for n in NOTEBOOKS})]
    return summary


# ----------------------------------------------------------------------------- checking
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and key == "href" and attrs.get("rel") == "preload"):
                self.links.append((tag, attrs[key]))


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return parser


def broken_links(site: Path, pages: list[Path] | None = None) -> list[str]:
    """Internal links and images of the given HTML pages (default: all) whose file or #anchor does not exist."""
    parsed: dict[Path, _Links] = {}
    problems = []
    for page in pages or sorted(p for p in site.rglob("*.html") if "_static" not in p.relative_to(site).parts):
        links = parsed.setdefault(page, _parse(page))
        for tag, url in links.links:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(site)}: <{tag}> {url} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = parsed.setdefault(target, _parse(target)).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{page.relative_to(site)}: <{tag}> {url} (no #{parts.fragment} there)")
    return problems


# ----------------------------------------------------------------------------- main
def build(profile_name: str | None = None, execute: str = "auto", site: Path = SITE) -> Path:
    profile = get_profile(profile_name)
    executed = profile.outputs / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if execute == "auto":
        execute_missing(profile, executed)
    summary = stage(profile, executed, execute)
    shutil.rmtree(site, ignore_errors=True)
    warnings_file = STAGE.parent / "site-warnings.txt"
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(CONF_DIR), "-w", str(warnings_file),
               "-d", str(STAGE.parent / "site-doctrees"), str(STAGE), str(site)]
    subprocess.run(command, cwd=ROOT, check=True)
    problems = broken_links(site)
    warnings = [w for w in warnings_file.read_text(encoding="utf-8").splitlines() if w.strip()]
    print(f"site of the {profile.name} profile in {time.perf_counter() - start:.0f} s: {len(summary['pages'])} pages "
          f"+ {len(NOTEBOOKS)} notebooks ({len(summary['executed'])} with outputs"
          + (f"; without: {', '.join(summary['without outputs'])}" if summary["without outputs"] else "")
          + f"), {summary['widgets frozen']} widget output(s) made static, {len(warnings)} Sphinx warning(s)"
          + (f" (see {warnings_file})" if warnings else ""))
    if problems:
        print("broken internal links:\n  " + "\n  ".join(problems[:50]), file=sys.stderr)
        raise SystemExit(1)
    index = site / "index.html"
    print(index)
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", default=os.environ.get("LAB_PROFILE") or None,
                        help="whose executed notebooks to render (default: $LAB_PROFILE or 'default')")
    parser.add_argument("--execute", choices=["auto", "never"], default="auto",
                        help="auto: run notebooks that have no fresh executed copy; never: render them without outputs")
    parser.add_argument("--out", type=Path, default=SITE, help=f"default: {SITE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    build(args.profile, args.execute, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
