"""``python -m helpers replicate``: the course's recipe on the published system's own files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.config import ROOT, get_profile, matryoshka_dims
from helpers.data.readers import PairSet, read_published
from helpers.evaluation.metrics import evaluate_model, paired_bootstrap, question_clusters, summarize
from helpers.training.modeling import embedding_dim, load_model

FILES = ("training_dataset.jsonl", "val_dataset.jsonl", "test_dataset.jsonl")


def _ir(split: PairSet, corpus: dict[str, str]) -> dict:
    return {"queries": split.queries, "corpus": corpus,
            "relevant_docs": {q: set(ids) for q, ids in split.relevant_docs.items()}}


def replicate(folder: Path, epochs: int | None = None, model: str | None = None, output: Path | None = None,
              **recipe) -> pd.DataFrame:
    """Train on ``training_dataset.jsonl``, pick the checkpoint on val, and report base vs fine-tuned
    ndcg@10 per dim on the test questions under both protocols.

    ``recipe`` overrides profile fields, as notebook 03's switches do: ``learning_rate``, ``hard_negatives``,
    ``ict_pairs``, ``dim_weights`` (None leaves the default profile's value).
    """
    from helpers.lessons.recipe import fine_tune

    missing = [f for f in FILES if not (folder / f).exists()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: replicate needs the three published files")
    train_set, val_set, test_set = (read_published(folder / f) for f in FILES)
    whole = {**train_set.corpus, **val_set.corpus, **test_set.corpus}
    overrides = {k: v for k, v in {"epochs": epochs, "model": model, **recipe}.items() if v is not None}
    profile = get_profile("default", **overrides)
    output = output or ROOT / "outputs" / "replicate" / folder.resolve().name
    result = fine_tune(profile, train_set.pairs(), _ir(val_set, whole), output)
    protocols = {"whole-corpus": _ir(test_set, whole), "test-chunks-only": _ir(test_set, test_set.corpus)}
    base, tuned = load_model(profile.model, profile.max_seq_length), load_model(str(result.model_dir))
    dims = matryoshka_dims(embedding_dim(base))
    rows, intervals = [], []
    for protocol, ir in protocols.items():
        per_query = pd.concat(
            [evaluate_model(st_model, ir, dims, system) for system, st_model in (("base", base), ("fine-tuned", tuned))],
            ignore_index=True,
        )
        rows.append(summarize(per_query).assign(protocol=protocol))
        clusters = question_clusters(ir["relevant_docs"])  # questions about one test chunk are resampled together
        intervals.append(paired_bootstrap(per_query, "base", metrics=("ndcg@10",), clusters=clusters)
                         .assign(protocol=protocol))
    table = pd.concat(rows, ignore_index=True)
    table.to_csv(output / "replicate_summary.csv", index=False)
    ci = pd.concat(intervals, ignore_index=True)
    ci.to_csv(output / "replicate_bootstrap.csv", index=False)
    wide = table.pivot_table(index=["protocol", "dim"], columns="system", values="ndcg@10").sort_index(
        level=[0, 1], ascending=[False, False])
    print(f"data: {folder}  epochs: {profile.epochs}  lr: {profile.learning_rate:g}  hard negatives: "
          f"{profile.hard_negatives}  ICT pairs: {profile.ict_pairs}  dim weights: {profile.dim_weights}")
    print(f"best epoch on val: {result.best_epoch}  trained in {result.seconds:.0f} s  "
          f"train pairs: {len(train_set.pairs())}  test questions: {len(test_set.queries)}")
    print("ndcg@10 (test questions):")
    print(wide.round(3).to_string())
    print(f"fine-tuned - base, ndcg@10, paired bootstrap 95% CI (resampling {ci.n_units.iloc[0]} test chunks with "
          "all their questions):")
    print(ci[["protocol", "dim", "difference", "ci_low", "ci_high", "significant"]].round(3).to_string(index=False))
    return table
