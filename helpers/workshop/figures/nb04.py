"""Notebook 04's concept figure: ndcg@10's discount 1/log2(rank + 1), and one ranked list scored by hand.

Only arithmetic is drawn (the gains of ranks 1-20 and a made-up list with two relevant chunks), no measured number.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from helpers.workshop.figures.style import INK, NEUTRAL, TARGET, TRAIN, new_figure

CUT = 10  # ndcg@10: ranks below the tenth earn nothing
RANKS = 20
EXAMPLE = (2, 5)  # the ranks of the relevant chunks in the hand-scored list
N_RELEVANT = 2  # how many relevant chunks the example question has (both are in its top 10)


def gain(rank: int) -> float:
    """What a relevant chunk at ``rank`` adds to the DCG."""
    return 1 / math.log2(rank + 1)


def worked_example(ranks: tuple[int, ...] = EXAMPLE, n_relevant: int = N_RELEVANT, k: int = CUT) -> dict[str, float]:
    """DCG, ideal DCG and ndcg@k of one list whose relevant chunks sit at ``ranks``."""
    dcg = sum(gain(r) for r in ranks if r <= k)
    ideal = sum(gain(r) for r in range(1, min(n_relevant, k) + 1))
    return {"dcg": dcg, "idcg": ideal, "ndcg": dcg / ideal}


def ndcg_discount() -> Figure:
    """Left: the gain of a relevant chunk at ranks 1-20, with the cut at 10. Right: one top 10 scored by hand."""
    fig = new_figure(9.2, 3.3)
    left, right = fig.subplots(1, 2, width_ratios=[1, 1.3])
    ranks = list(range(1, RANKS + 1))
    left.bar(ranks[:CUT], [gain(r) for r in ranks[:CUT]], color=TRAIN, width=0.7, label="counted by ndcg@10")
    left.bar(ranks[CUT:], [gain(r) for r in ranks[CUT:]], color=NEUTRAL, width=0.7, label="rank > 10: counts 0")
    left.axvline(CUT + 0.5, color=INK, linewidth=0.8, linestyle="--")
    for r in (1, 2, 3, 5, 10):
        left.text(r, gain(r) + 0.02, f"{gain(r):.2f}", ha="center", fontsize=7)
    left.set_xlabel("rank r of a relevant chunk")
    left.set_ylabel("gain 1 / log2(r + 1)")
    left.set_xticks([1, 2, 3, 5, 10, 15, 20])
    left.set_ylim(0, 1.12)
    left.legend(frameon=False, fontsize=7, loc="upper right")
    left.set_title("Gain of a relevant chunk at rank r", fontsize=9)

    right.axis("off")
    right.set_xlim(0, 10.6)
    right.set_ylim(-3.7, 2.2)
    right.set_title("One question's top 10, scored by hand", fontsize=9)
    right.text(0.3, 1.75, f"ranks 1-10; green = relevant (this question has {N_RELEVANT} relevant chunks)",
               fontsize=7.5)
    for r in range(1, CUT + 1):
        hit = r in EXAMPLE
        x = r - 0.7
        right.add_patch(Rectangle((x, 0.6), 0.85, 0.85, facecolor=TARGET if hit else "white", edgecolor=INK,
                                  linewidth=0.6))
        right.text(x + 0.42, 1.02, str(r), ha="center", va="center", color="white" if hit else INK, fontsize=8)
        if hit:
            right.text(x + 0.42, 0.3, f"1/log2({r + 1})\n= {gain(r):.3f}", ha="center", va="top", fontsize=7)
    score = worked_example()
    lines = [
        f"DCG  = {' + '.join(f'1/log2({r + 1})' for r in EXAMPLE)} = {score['dcg']:.3f}",
        f"IDCG = {' + '.join(f'1/log2({r + 1})' for r in range(1, N_RELEVANT + 1))} = {score['idcg']:.3f}",
        f"ndcg@10 = DCG / IDCG = {score['dcg']:.3f} / {score['idcg']:.3f} = {score['ndcg']:.3f}",
    ]
    for i, line in enumerate(lines):
        right.text(0.3, -1.5 - 0.7 * i, line, fontsize=8, family="DejaVu Sans Mono",
                   fontweight="bold" if i == 2 else "normal")
    right.text(0.3, -3.6, "IDCG is the DCG of the best possible order: every relevant chunk at the top",
               fontsize=7, color="#444444")
    return fig


FIGURES = {"04-ndcg-discount.svg": ndcg_discount}
