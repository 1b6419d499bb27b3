"""Draw docs/figures/matryoshka-prefixes.svg, the README's and the site's concept figure:
`.venv/bin/python docs/figures/draw.py`. Only arithmetic is shown (dims and float32 bytes), no measured number."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OUT = Path(__file__).with_name("matryoshka-prefixes.svg")
DIMS = [32, 64, 128, 256, 384]
COLOURS = ["#08306b", "#2171b5", "#6baed6", "#c6dbef", "#f0f5fb"]  # light-to-dark blues, darkest = first numbers


def size(dim: int) -> str:
    nbytes = dim * 4
    return f"{nbytes} B" if nbytes < 1024 else f"{nbytes / 1024:g} KiB"


def main() -> None:
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": "matryoshka-lab", "font.size": 9})
    fig, ax = plt.subplots(figsize=(6.4, 2.7))
    start = 0
    for dim, colour in zip(DIMS, COLOURS):
        ax.barh(0, dim - start, left=start, height=0.5, color=colour, edgecolor="#08306b", linewidth=0.6)
        start = dim
    for level, dim in enumerate(DIMS):
        y = 0.42 + 0.3 * level
        ax.plot([0, 0, dim, dim], [y - 0.07, y, y, y - 0.07], color="#08306b", linewidth=0.8)
        ax.text(dim + 4, y, f"first {dim} numbers: {size(dim)} a vector (float32)", va="center", fontsize=8)
    ax.text(0, -0.48, "one embedding of the fine-tuned model (384 numbers)", va="center", fontsize=8)
    ax.text(0, -0.78, "training: the ranking loss scores every prefix (MatryoshkaLoss)", va="center", fontsize=8,
            color="#444444")
    ax.text(0, -1.06, "deployment: keep the prefix your memory allows, re-normalise it, search", va="center",
            fontsize=8, color="#444444")
    ax.set_xlim(0, 600)
    ax.set_ylim(-1.2, 2.0)
    ax.axis("off")
    ax.set_title("Every prefix of a Matryoshka embedding is an embedding too", fontsize=10, loc="left")
    fig.tight_layout()
    fig.savefig(OUT, metadata={"Date": None})
    print(OUT)


if __name__ == "__main__":
    main()
