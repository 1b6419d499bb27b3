"""The playground's views (notebook 06): a widget-free table, HTML result tables, and the ipywidgets UI."""

from __future__ import annotations

import html
import time

import pandas as pd

from helpers.evaluation.plots import LABELS
from helpers.workshop.playground.search import BM25, CSS, HYBRID, RERANKED, SYSTEM_ORDER, Playground

HYBRID_LABEL = "fine-tuned + BM25 (hybrid)"
RERANKED_LABEL = "hybrid, reranked"


def label(system: str) -> str:
    """A system's name for a column title: the plots' labels, and the hybrid's and the reranked hybrid's own."""
    return {HYBRID: HYBRID_LABEL, RERANKED: RERANKED_LABEL}.get(system) or LABELS.get(system, system)


def side_by_side(hits: pd.DataFrame, width: int = 70) -> pd.DataFrame:
    """The hits as one column per system and one row per rank: 'score [*] document: text...'.

    ``*`` marks a relevant chunk. This is the widget-free view of the playground.
    """
    def cell(row) -> str:
        star = " *" if row.relevant else ""
        text = " ".join(row.text.split())
        text = text if len(text) <= width else text[: width - 1] + "…"
        return f"{row.score:.3f}{star} {row.document}: {text}"

    table = hits.assign(cell=hits.apply(cell, axis=1)).pivot(index="rank", columns="system", values="cell")
    order = [s for s in SYSTEM_ORDER if s in table.columns] + [s for s in table.columns if s not in SYSTEM_ORDER]
    return table[order].rename(columns=label)


def milliseconds(ms: float) -> str:
    """'12 ms', or '0.05 ms' below 10 ms (an index search takes a fraction of one)."""
    return f"{ms:.0f} ms" if ms >= 10 else f"{ms:.2f} ms"


def render_html(hits: pd.DataFrame, query: str, dim: int, snippet: int = 220) -> str:
    """Three result tables side by side (relevant chunks highlighted), with per-system latency."""
    columns = []
    for system, group in hits.groupby("system", sort=False):
        # BM25 has no dim; a saved index has its own, named in its column title
        own_dims = system == BM25 or system.startswith("fine-tuned via ")
        title = html.escape(label(system)) + ("" if own_dims else f" · dim {dim}")
        rows = []
        for row in group.itertuples():
            text = " ".join(row.text.split())
            text = text if len(text) <= snippet else text[: snippet - 1] + "…"
            css = "playground-hit playground-relevant" if row.relevant else "playground-hit"
            style = ' style="background:#fff3b0"' if row.relevant else ""
            mark = "★ " if row.relevant else ""
            rows.append(
                f'<tr class="{css}" data-chunk="{html.escape(row.chunk_id)}"{style}>'
                f'<td style="vertical-align:top">{row.rank}</td><td style="vertical-align:top">{row.score:.3f}</td>'
                f'<td style="text-align:left" title="{html.escape(row.chunk_id)}">{mark}<b>{html.escape(row.document)}'
                f'</b><br>{html.escape(text)}</td></tr>'
            )
        first = group["relevant_rank"].iloc[0]
        note = "" if pd.isna(first) else f"<div>relevant chunk at rank {int(first)}</div>"
        columns.append(
            f'<div class="playground-column" data-system="{html.escape(system)}" style="flex:1;min-width:0">'
            f'<h4 style="margin:4px 0">{title}</h4><div>{milliseconds(group["ms"].iloc[0])}</div>{note}'
            f'<table style="font-size:85%;width:100%;line-height:1.3"><tr><th>#</th><th>score</th>'
            f'<th style="text-align:left">chunk (hover for its id)</th></tr>'
            f'{"".join(rows)}</table></div>'
        )
    return (f'<div style="line-height:1.3"><div class="playground-echo">results for: <i>{html.escape(query)}</i></div>'
            f'<div style="display:flex;gap:12px">{"".join(columns)}</div></div>')


def widgets_available() -> tuple[bool, str]:
    """Whether ipywidgets can be shown here, and why not when it cannot."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False, "ipywidgets is not installed (pip install -r requirements.txt)"
    try:
        from IPython import get_ipython
    except ImportError:
        return False, "not running under IPython"
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return False, "no notebook frontend (not a Jupyter kernel)"
    return True, ""


def build_ui(playground: Playground, k: int = 5, initial: str | None = None):
    """The ipywidgets playground: question list, text box, dim and top-k sliders, a tick box per system (all
    ticked) and one result column per ticked system, each with its search time.

    ``initial`` (a test question's text) is selected and searched at once, so results show on opening.
    """
    import ipywidgets as widgets

    options = [("(type your own question)", "")] + [
        (text if len(text) <= 90 else text[:89] + "…", text) for text in playground.questions.values()
    ]
    questions = widgets.Dropdown(options=options, value="", description="Test set:",
                                 layout=widgets.Layout(width="95%"))
    query = widgets.Text(placeholder="Type a question and press Enter", description="Question:",
                         continuous_update=False, layout=widgets.Layout(width="80%"))
    button = widgets.Button(description="Search", button_style="primary")
    dim = widgets.SelectionSlider(options=sorted(playground.dims), value=playground.dims[0], description="Dim:",
                                  continuous_update=False)
    top_k = widgets.IntSlider(value=k, min=1, max=min(20, len(playground.corpus_ids)), description="Top-k:",
                              continuous_update=False)
    ticks = {system: widgets.Checkbox(value=True, description=label(system), indent=False,
                                      layout=widgets.Layout(width="auto"))
             for system in playground.systems}
    systems = widgets.HBox(list(ticks.values()))
    status = widgets.HTML(value="Pick a test question or type one.")
    results = widgets.HTML(value="")
    for name, widget in (("questions", questions), ("query", query), ("search", button), ("dim", dim),
                         ("k", top_k), ("systems", systems), ("status", status), ("results", results)):
        widget.add_class(CSS[name])

    def run(*_):
        if questions.value and questions.value != query.value:
            questions.value = ""  # a typed question: the list no longer describes it
        if not query.value.strip():
            status.value = "Type a question first."
            return
        chosen = [system for system, tick in ticks.items() if tick.value]
        if not chosen:
            status.value = "Tick at least one system."
            return
        start = time.perf_counter()
        try:
            hits = playground.search(query.value, dim.value, top_k.value, systems=chosen)
        except ValueError as err:
            status.value = html.escape(str(err))
            return
        total = (time.perf_counter() - start) * 1000  # the whole search: an encode two columns share counts once
        timing = hits.groupby("system", sort=False)["ms"].first()
        status.value = ("query time: " + ", ".join(f"{html.escape(label(s))} {milliseconds(ms)}"
                                                   for s, ms in timing.items()) + f" (total {total:.0f} ms)")
        if HYBRID in timing:
            choice = playground.hybrid
            status.value += (f"; the hybrid fuses the fine-tuned and BM25 rankings by {choice['method']} "
                             f"{choice['parameter']}={choice['setting']:g} (chosen on val in notebook 04), its time "
                             "counts its own query encode and both searches")
        if RERANKED in timing:
            status.value += (f"; the reranked column reorders the hybrid's top {playground.rerank_depth} with notebook "
                             "08's cross-encoder (depth chosen on val), its time includes the hybrid's")
        if playground.index_system and playground.index_system in timing:
            status.value += (f"; the index column was answered by {html.escape(playground.index.name)} "
                             f"({html.escape(str(playground.index.folder))}) in {milliseconds(playground.index_search_ms)}"
                             " of index search, with the fine-tuned column's query vector")
        results.value = render_html(hits, query.value.strip(), dim.value)

    def pick(change):
        if not change["new"]:
            return
        if query.value == change["new"]:
            run()
        else:
            query.value = change["new"]  # the observer below runs the search

    query.observe(run, names="value")
    dim.observe(run, names="value")
    top_k.observe(run, names="value")
    for tick in ticks.values():
        tick.observe(run, names="value")
    button.on_click(run)
    questions.observe(pick, names="value")
    class PlaygroundBox(widgets.VBox):
        def _repr_mimebundle_(self, **kwargs):
            # Next to the widget view, a static copy of what it shows now: a page with no kernel (the course site,
            # nbconvert) renders this; a frontend with widgets shows the live controls instead.
            data = super()._repr_mimebundle_(**kwargs)
            data["text/html"] = (f'<div class="playground-static"><div><b>Question:</b> {html.escape(query.value)} '
                                 f'<b>Dim:</b> {dim.value} <b>Top-k:</b> {top_k.value}</div>'
                                 f"<div>{status.value}</div>{results.value}</div>")
            return data

    box = PlaygroundBox([questions, widgets.HBox([query, button]), widgets.HBox([dim, top_k]), systems, status,
                         results])
    box.add_class(CSS["box"])
    if initial:
        if initial in playground.questions.values():
            questions.value = initial
        else:
            query.value = initial
    return box
