"""Write a published-format set (``training/val/test_dataset.jsonl``) with ~2,500-character passages, built from the
course's own data by joining neighbouring chunks, so that ``python -m helpers replicate`` can be measured on
passages as long as some users bring (peak memory grows with passage length up to the model's token limit).

    python benchmarks/long_passages.py outputs/long-passages     # then:
    /usr/bin/time -v python -m helpers replicate --data outputs/long-passages

Each passage joins consecutive chunks of one document until it holds ``--chars`` characters; a question's relevant passage is the one that
holds its evidence chunk. The split follows the course's held-out-chunks split (train/val/test by chunk groups).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from helpers.config import get_profile
from helpers.lessons.splits import split_questions
from helpers.pipeline import load_course_data, step_load_corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chars", type=int, default=2500,
                        help="characters per passage at least (default 2500; 0 keeps the course's chunks)")
    parser.add_argument("--train-pairs", type=int, default=None, help="a seeded subset of the training questions")
    args = parser.parse_args()
    profile = get_profile("default")
    step_load_corpus(profile)
    data = load_course_data(profile, route="shipped")
    passage_of, corpus = {}, {}
    by_document: dict[str, list] = {}
    for chunk in data.chunks:
        by_document.setdefault(chunk.document, []).append(chunk)
    for document, chunks in by_document.items():
        group: list = []
        for i, chunk in enumerate(chunks):
            group.append(chunk)
            if sum(len(c.text) for c in group) >= args.chars or i == len(chunks) - 1:
                pid = f"{document}#p{len(corpus)}"
                corpus[pid] = " ".join(c.text for c in group)  # neighbours overlap by a few characters: harmless
                passage_of.update({c.id: pid for c in group})
                group = []
    splits = split_questions(data, "chunks", profile.val_fraction, profile.test_fraction, profile.seed)
    if args.train_pairs:  # a small set, as users bring: the same val and test
        splits["train"] = sorted(random.Random(profile.seed).sample(splits["train"], args.train_pairs))
    text_of = {q.id: q.question for q in data.questions}
    args.folder.mkdir(parents=True, exist_ok=True)
    for name, split in (("training", "train"), ("val", "val"), ("test", "test")):
        qids = splits[split]
        relevant = {q: sorted({passage_of[c] for c in data.relevant[q]}) for q in qids}
        used = sorted({p for ids in relevant.values() for p in ids})
        record = {"questions": {q: text_of[q] for q in qids}, "relevant_contexts": relevant,
                  "corpus": {p: corpus[p] for p in used}}
        (args.folder / f"{name}_dataset.jsonl").write_text(json.dumps(record), encoding="utf-8")
    lengths = sorted(len(t) for t in corpus.values())
    print(f"{len(corpus)} passages, median {lengths[len(lengths) // 2]} characters; "
          f"{', '.join(f'{s} {len(splits[s])}' for s in ('train', 'val', 'test'))} questions -> {args.folder}")


if __name__ == "__main__":
    main()
