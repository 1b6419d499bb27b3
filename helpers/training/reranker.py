"""Plumbing around notebook 08's reranker (``helpers/lessons/rerank.py``, generated from the notebook): where the
trained cross-encoder lives, when a finished run is reused, and what is written at the end.

A run is named by a fingerprint of everything that decides the model: the reranker settings, the model it starts
from, and the *content* of its inputs (the training pairs, the val set, the bi-encoder and the fusion setting that
mine its negatives and rank its val candidates), as ``helpers.data.lineage`` fingerprints outputs. Under
``outputs/<profile>/reranker/``:

- ``model/``: the checkpoint best on val, and ``train_summary.json`` (its fingerprint, the time it took);
- ``val_history.csv``: val ndcg@10 at each evaluation; ``train_rows.jsonl``: the rows it was trained on
  (question, passage, mined negatives);
- ``checkpoints/<key>/`` while it trains (removed once the model is saved).

Same fingerprint: the saved model is loaded and nothing trains. An interrupted run resumes from its last checkpoint.
A changed input or setting gets another key and trains afresh. ``LAB_RERANKER`` (``helpers.config``) skips all of
this and loads a pretrained cross-encoder.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from transformers import TrainerCallback

from helpers.config import Profile, RerankerSettings
from helpers.data.jsonl import write_jsonl
from helpers.data.lineage import content_digest, ir_digest, record
from helpers.training.modeling import device_name, resolve_model_path

FOLDER = "reranker"
BEST_METRIC = "eval_val_ndcg@10"  # CrossEncoderRerankingEvaluator(name="val")'s ndcg@10, prefixed by the Trainer
SUMMARY = "train_summary.json"


@dataclass
class RerankerRun:
    """One reranker run: its folder, fingerprint, checkpoints, and whether a finished model can be reused."""

    folder: Path
    recipe: dict
    key: str
    checkpoints: Path
    resume_from: str | None
    finished: bool

    @property
    def model_dir(self) -> Path:
        return self.folder / "model"

    @property
    def output_dir(self) -> Path:  # where ``compact_progress`` appends the training log
        return self.folder


class EvaluateAtEnd(TrainerCallback):
    """Evaluate and save at the last step too, so the final weights are one of the checkpoints val chooses from
    (evaluations every ``eval_steps`` can stop short of the end)."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= state.max_steps:
            control.should_evaluate = True
            control.should_save = True
        return control


def pairs_digest(pairs: list[dict]) -> str:
    """sha256 of the training pairs' content (key order ignored)."""
    return hashlib.sha256(json.dumps(pairs, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def reranker_recipe(settings: RerankerSettings, base_model: str, pairs: list[dict], val_ir: dict, fusion: dict,
                    mining_model: Path | str) -> dict:
    """Everything that decides what the reranker learns, as plain values: settings, start model, fingerprints of the
    pairs, the val set and the bi-encoder that mines negatives (a folder: by content), and the fusion setting."""
    mining = Path(mining_model)
    return {
        "settings": asdict(settings),
        "base_model": base_model,
        "train_pairs": len(pairs),
        "train_pairs_sha256": pairs_digest(pairs),
        "val_ir_sha256": ir_digest(val_ir),
        "mining_model": content_digest(mining) if mining.exists() else str(mining_model),
        "fusion": {k: fusion.get(k) for k in ("method", "setting", "depth")},
    }


def fingerprint(recipe: dict) -> str:
    """The run's key: a short sha256 of its recipe."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:12]


def start_reranker_run(folder: Path, recipe: dict) -> RerankerRun:
    """Reuse the saved model when its fingerprint is this recipe's; else resume this recipe's checkpoints, or start.

    Prints one line saying which, so that a learner who changed an input sees that a new run starts.
    """
    from transformers.trainer_utils import get_last_checkpoint

    folder = Path(folder)
    key = fingerprint(recipe)
    summary = read_summary(folder)
    if summary and summary.get("key") == key and (folder / "model").is_dir():
        print(f"reranker {key}: reusing the model trained on these inputs ({summary.get('seconds', '?')} s of "
              f"training, {folder / 'model'})")
        return RerankerRun(folder, recipe, key, folder / "checkpoints" / key, None, True)
    checkpoints = folder / "checkpoints" / key
    checkpoints.mkdir(parents=True, exist_ok=True)
    (checkpoints / "recipe.json").write_text(json.dumps(recipe, indent=1, default=str), encoding="utf-8")
    last = get_last_checkpoint(str(checkpoints))
    if not last:  # a fresh run: its training log starts empty (a resumed run keeps appending to its own)
        (folder / "train_log.jsonl").unlink(missing_ok=True)
    if last:
        print(f"reranker {key}: resuming from {Path(last).name} (the same inputs and settings were run before)")
    elif summary:
        print(f"reranker {key}: the inputs or settings changed since the saved model ({summary.get('key')}): "
              "training from scratch")
    else:
        print(f"reranker {key}: training from scratch")
    return RerankerRun(folder, recipe, key, checkpoints, last, False)


def read_summary(folder: Path) -> dict | None:
    """``train_summary.json`` of a reranker folder, or None."""
    path = Path(folder) / SUMMARY
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def val_history(log_history: list[dict]) -> pd.DataFrame:
    """Val metrics at each evaluation from a Trainer's log: step, epoch, ndcg@10, mrr@10 and map."""
    rows = [{"step": entry.get("step"), "epoch": entry.get("epoch"),
             **{k.removeprefix("eval_val_"): v for k, v in entry.items() if k.startswith("eval_val_")}}
            for entry in log_history if BEST_METRIC in entry]
    return pd.DataFrame(rows)


def finish_reranker_run(run: RerankerRun, trainer, rows: list[dict], seconds: float,
                        profile: Profile | None = None) -> dict:
    """Save the model best on val, its val curve, its training rows and a summary; record its lineage when it lies
    in the profile's outputs; drop the checkpoints (the optimizer states are large). Returns the summary."""
    trainer.model.save_pretrained(str(run.model_dir))
    history = val_history(trainer.state.log_history)
    history.to_csv(run.folder / "val_history.csv", index=False)
    write_jsonl(run.folder / "train_rows.jsonl", rows)
    best = trainer.state.best_model_checkpoint
    losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
    summary = {
        "key": run.key, "seconds": round(seconds, 1), "steps": int(trainer.state.global_step),
        "train_rows": len(rows), "best_checkpoint": Path(best).name if best else None,
        "best_val_ndcg@10": trainer.state.best_metric, "device": device_name(),
        "first_loss": losses[0] if losses else None, "last_loss": losses[-1] if losses else None,
        "resumed_from": Path(run.resume_from).name if run.resume_from else None, "recipe": run.recipe,
    }
    (run.folder / SUMMARY).write_text(json.dumps(summary, indent=1, default=str), encoding="utf-8")
    shutil.rmtree(run.checkpoints, ignore_errors=True)
    if run.checkpoints.parent.is_dir() and not any(run.checkpoints.parent.iterdir()):
        run.checkpoints.parent.rmdir()  # no other recipe's checkpoints left either
    if profile is not None:
        record_reranker(profile, run)
    return read_summary(run.folder)  # as a later run reads it back (plain JSON values)


def record_reranker(profile: Profile, run: RerankerRun) -> None:
    """Lineage of ``reranker/model`` (when it lies in the profile's outputs): the pairs, the val set and the
    bi-encoder it was made from; the fusion setting is in its settings (04's choice file also holds timings, which
    change on every run of 04 without changing the choice)."""
    try:
        name = run.model_dir.resolve().relative_to(profile.outputs.resolve()).as_posix()
    except ValueError:
        return  # trained elsewhere (a test): not one of the course's outputs
    parents = ["pairs/train.jsonl", "pairs/val_ir.json", "matryoshka/model"]
    record(profile.outputs, name, parents=parents,
           settings={"key": run.key, "fusion": run.recipe["fusion"], **run.recipe["settings"]})


def load_cross_encoder(source: str | Path, max_length: int | None = None, device: str | None = None):
    """A CrossEncoder from a hub id or a folder (a folder loads with no network access), float32 weights.

    A folder that holds a plain encoder (the bundled bi-encoder) gets a new one-logit classification head: the
    starting point of a reranker to train.
    """
    import torch
    from sentence_transformers.cross_encoder import CrossEncoder

    source = resolve_model_path(str(source))  # "bundled:..." -> the folder the package ships
    if Path(source).is_dir():
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return CrossEncoder(str(source), num_labels=1, max_length=max_length, device=device or device_name(),
                        model_kwargs={"dtype": torch.float32})
