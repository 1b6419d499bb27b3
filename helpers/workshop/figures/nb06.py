"""Notebook 06's concept figure: one test question's top passages from the base model, the fine-tune and BM25.

It draws retrieved passages, so it reads a committed snapshot (``notebooks/figures/source/06-one-question.csv``) taken
from a course run with the playground's own ``search()``, never ``outputs/``. Refresh it after a new run with
``python -m helpers.workshop.figures.nb06 default`` (loads both models: about a minute on a CPU), then
``python -m helpers figures``.
"""

from __future__ import annotations

import math
import sys
import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from helpers.workshop.figures import FIGURE_DIR
from helpers.workshop.figures.style import INK, NEUTRAL, TARGET, new_figure

SOURCE = FIGURE_DIR / "source" / "06-one-question.csv"
SYSTEMS = {"base": "base model", "matryoshka": "fine-tuned (Matryoshka)", "BM25": "BM25"}
TOP = 3
SNIPPET = 150  # characters of each passage kept in the snapshot


def choose(first_ranks: dict[str, dict[str, float]]) -> str:
    """The question to show: the first (in test-set order) whose three systems put its relevant chunk at three
    different ranks, preferring one where all three are in the top ``TOP``. ``first_ranks``: question id ->
    system -> rank of the first relevant chunk."""
    def distinct(ranks: dict[str, float]) -> bool:
        values = [ranks[s] for s in SYSTEMS]
        return all(not math.isnan(v) for v in values) and len(set(values)) == len(values)

    candidates = [q for q, ranks in first_ranks.items() if distinct(ranks)]
    if not candidates:
        raise ValueError("no test question on which the three systems disagree")
    in_top = [q for q in candidates if max(first_ranks[q].values()) <= TOP]
    return (in_top or candidates)[0]


def snapshot(profile_name: str = "default", target: Path = SOURCE) -> Path:
    """Search every test question at full dim with the playground of ``profile_name`` and keep the top passages of
    the question :func:`choose` picks."""
    from helpers.config import get_profile
    from helpers.workshop.playground import load_playground

    pg = load_playground(get_profile(profile_name))
    first_ranks, hits = {}, {}
    for qid, question in pg.questions.items():
        found = pg.search(question, pg.dims[0], k=TOP)
        found = found[found.system.isin(list(SYSTEMS))]
        hits[qid] = found
        first_ranks[qid] = found.groupby("system")["relevant_rank"].first().to_dict()
    qid = choose(first_ranks)
    table = hits[qid].assign(question_id=qid, question=pg.questions[qid], dim=pg.dims[0],
                             text=lambda t: t.text.str.slice(0, SNIPPET))
    columns = ["question_id", "question", "dim", "system", "rank", "score", "chunk_id", "document", "relevant",
               "relevant_rank", "text"]
    target.parent.mkdir(parents=True, exist_ok=True)
    table[columns].round({"score": 4}).to_csv(target, index=False)
    return target


def one_question() -> Figure:
    """Three columns (base, fine-tuned, BM25) of the top passages for one test question; the relevant passage
    outlined in green, each column's rank of the first relevant passage under it."""
    table = pd.read_csv(SOURCE)
    question, dim = table.question.iloc[0], int(table.dim.iloc[0])
    fig = new_figure(9.6, 4.6)
    axes = fig.subplots(1, len(SYSTEMS))
    fig.suptitle(textwrap.fill(f"Test question: {question}", 120), fontsize=9, x=0.01, ha="left")
    for ax, (system, label) in zip(axes, SYSTEMS.items()):
        rows = table[table.system == system].sort_values("rank")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.35, TOP)
        ax.axis("off")
        ax.set_title(label + ("" if system == "BM25" else f", {dim} dims"), fontsize=9)
        for row in rows.itertuples():
            top = TOP - row.rank + 1
            hit = bool(row.relevant)
            ax.add_patch(FancyBboxPatch((0.02, top - 0.93), 0.96, 0.86, boxstyle="round,pad=0.01",
                                        facecolor="#e5f5ef" if hit else "white", edgecolor=TARGET if hit else NEUTRAL,
                                        linewidth=1.6 if hit else 0.6))
            header = f"{row.rank}. {row.document}  (score {row.score:.3g})" + ("  relevant" if hit else "")
            ax.text(0.05, top - 0.14, header, fontsize=6.5, fontweight="bold", va="top", color=INK)
            ax.text(0.05, top - 0.3, textwrap.fill(str(row.text).replace("\n", " ") + "...", 52), fontsize=6,
                    va="top", color=INK)
        rank = rows.relevant_rank.iloc[0]
        ax.text(0.5, -0.25, f"first relevant passage at rank {int(rank)}" if not math.isnan(rank)
                else "relevant passage not found", ha="center", fontsize=7.5, color=TARGET if rank == 1 else INK)
    return fig


FIGURES = {"06-one-question.svg": one_question}

if __name__ == "__main__":  # python -m helpers.workshop.figures.nb06 default
    print(snapshot(sys.argv[1] if len(sys.argv) > 1 else "default"))
