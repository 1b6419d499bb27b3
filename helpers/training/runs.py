"""Training plumbing around notebook 03's recipe (``helpers/lessons/recipe.py``, generated from the notebook).

The recipe (dataset, loss, arguments, evaluator, Trainer, ``trainer.train()``) is taught and written in
notebook 03; this module keeps what a learner should not have to read: where a run's checkpoints live, when a
run may resume, the val curve that survives a resume, and what is written at the end.

A run resumes only the recipe that was interrupted: checkpoints live under ``checkpoints/<recipe key>/``, where
the key hashes everything that changes the result (the Trainer's arguments, the loss and its settings, the model,
the training pairs). Change a setting and re-run: the key changes and training starts afresh. The val set, which
chooses the checkpoint, is checked by content too: when notebook 02 made another one, the run starts afresh.

The saved model gets a lineage record (``helpers.data.lineage``): the fingerprints of the pairs it was trained on,
found by content, so notebooks 04-07 refuse it once notebook 02 ran again.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from transformers import TrainerCallback

from helpers.config import Profile
from helpers.data.jsonl import read_jsonl
from helpers.data.lineage import ir_digest, record
from helpers.training.distributed import barrier, is_main_process, world_size
from helpers.training.modeling import device_name

BEST_METRIC = "eval_val_mean_ndcg@10"
# Trainer arguments that say where files go or how much is printed, not what is learned.
_NOT_RECIPE = {
    "output_dir", "logging_dir", "disable_tqdm", "logging_steps", "logging_strategy", "report_to",
    "save_total_limit", "dataloader_num_workers", "dataloader_persistent_workers", "dataloader_pin_memory",
    "log_level", "log_level_replica", "run_name", "hub_token",
}


@dataclass
class TrainResult:
    model_dir: Path
    dims: list[int]
    val_history: pd.DataFrame  # one row per evaluation (epoch 0 = before training)
    best_epoch: float
    seconds: float
    device: str
    resumed: bool
    recipe_key: str = ""
    steps: int = 0  # optimizer steps of the whole run


@dataclass
class TrainingRun:
    """Where one recipe's checkpoints live, and the checkpoint to resume from (None: start afresh)."""

    output_dir: Path
    recipe: dict
    key: str
    checkpoints: Path
    resume_from: str | None

    @property
    def epoch0_file(self) -> Path:
        return self.checkpoints / "val_epoch0.json"


def recipe_of(args, loss, model_path: str, train_pairs: list[dict], matryoshka: bool) -> dict:
    """Everything that changes what training learns, as plain JSON-able values."""
    arguments = {k: v for k, v in json.loads(args.to_json_string()).items() if k not in _NOT_RECIPE}
    get_config = getattr(loss, "get_config_dict", None)
    loss_config = get_config() if get_config else {}
    inner = getattr(loss, "loss", None)  # MatryoshkaLoss wraps the ranking loss
    pairs_digest = hashlib.sha256(json.dumps(train_pairs, sort_keys=True).encode()).hexdigest()[:16]
    return {
        "model": model_path,
        "matryoshka": matryoshka,
        "loss": type(loss).__name__,
        "inner_loss": type(inner).__name__ if inner is not None else None,
        "loss_config": json.loads(json.dumps(loss_config, default=str)),
        "train_pairs": len(train_pairs),
        "train_pairs_sha256": pairs_digest,
        "arguments": arguments,
    }


def start_run(output_dir: Path, recipe: dict) -> TrainingRun:
    """Find this recipe's checkpoints: resume when the same recipe was interrupted, else start afresh.

    Prints one line saying which, so a learner who changed a setting sees that a new run starts.
    """
    from transformers.trainer_utils import get_last_checkpoint

    output_dir = Path(output_dir)
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:10]
    checkpoints = output_dir / "checkpoints" / key
    checkpoints.mkdir(parents=True, exist_ok=True)
    (checkpoints / "recipe.json").write_text(json.dumps(recipe, indent=1, default=str), encoding="utf-8")
    last = get_last_checkpoint(str(checkpoints))
    others = [p.name for p in (output_dir / "checkpoints").iterdir() if p.is_dir() and p.name != key]
    if last:
        print(f"recipe {key}: resuming from {Path(last).name} (the same settings were run before)")
    elif others:
        print(f"recipe {key}: new settings, training from scratch (other recipes' checkpoints: {', '.join(others)})")
    else:
        print(f"recipe {key}: training from scratch")
    return TrainingRun(output_dir, recipe, key, checkpoints, last)


def initial_metrics(run: TrainingRun, evaluator, model) -> dict[str, float]:
    """Val metrics before training (epoch 0), saved so that a resumed run still has its start point.

    A checkpoint trained with another val set is not resumed (see :func:`same_val_or_afresh`).
    """
    same_val_or_afresh(run, evaluator)
    if run.resume_from and run.epoch0_file.exists():
        return json.loads(run.epoch0_file.read_text(encoding="utf-8"))
    metrics = evaluator(model, epoch=0, steps=0)
    if is_main_process():  # under torchrun every rank evaluates; one writes
        run.epoch0_file.write_text(json.dumps(metrics), encoding="utf-8")
    return metrics


def finish_run(run: TrainingRun, trainer, profile: Profile, dims: list[int], prompt: str | None,
               before_training: dict[str, float], seconds: float) -> TrainResult:
    """Save the best model (with its model card), the val curve and a summary; return the result."""
    model_dir = run.output_dir / "model"
    history = val_history(trainer, before_training)
    best = trainer.state.best_model_checkpoint
    best_epoch = epoch_of(trainer, best)
    if is_main_process():  # every rank ends with the same weights and history; one writes them
        trainer.model.save(str(model_dir))
        history.to_csv(run.output_dir / "val_history.csv", index=False)
        summary = {
            "profile": asdict(profile) | {"outputs": str(profile.outputs)},
            "recipe_key": run.key, "matryoshka": run.recipe["matryoshka"], "dims": dims, "query_prompt": prompt,
            "train_pairs": run.recipe["train_pairs"], "best_checkpoint": best, "best_epoch": best_epoch,
            "seconds": round(seconds, 1), "steps": int(trainer.state.global_step),
            "epochs": trainer.args.num_train_epochs, "device": device_name(), "world_size": world_size(),
            "resumed_from": run.resume_from,
        }
        (run.output_dir / "train_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
        record_model(run, trainer, profile, model_dir)
    return TrainResult(model_dir, dims, history, best_epoch, seconds, device_name(), run.resume_from is not None,
                       run.key, int(trainer.state.global_step))


VAL_DIGEST = "val_ir.sha256"


def same_val_or_afresh(run: TrainingRun, evaluator) -> None:
    """Resume (or reuse a finished run) only when its checkpoints were chosen on this val set: the recipe key covers
    the training rows, and this covers val by content. Otherwise the old checkpoints go and training starts afresh."""
    ir = getattr(evaluator, "ir", None)
    if ir is None:
        return
    digest, saved = ir_digest(ir), run.checkpoints / VAL_DIGEST
    before = saved.read_text(encoding="utf-8").strip() if saved.exists() else None
    barrier()  # every rank has read the file before rank 0 rewrites it
    if run.resume_from and before not in (None, digest):
        print(f"recipe {run.key}: the val set changed since {Path(run.resume_from).name} was saved (notebook 02 ran "
              "again): training from scratch")
        run.resume_from = None
        if is_main_process():
            for old in run.checkpoints.glob("checkpoint-*"):
                shutil.rmtree(old, ignore_errors=True)
            run.epoch0_file.unlink(missing_ok=True)
    if is_main_process() and before != digest:
        saved.write_text(digest, encoding="utf-8")


def pairs_folder(profile: Profile, trainer) -> str | None:
    """The folder of notebook 02's pairs (``pairs`` or one under it) this run was trained on, found by content: its
    val set is the evaluator's and, without ICT pairs, its questions include every training question. None if none."""
    ir = getattr(getattr(trainer, "evaluator", None), "ir", None)
    if ir is None:
        return None
    want = ir_digest(ir)
    anchors = set() if profile.ict_pairs else set(trainer.train_dataset["anchor"])
    for val_file in sorted(profile.outputs.glob("pairs/**/val_ir.json")):
        train_file = val_file.with_name("train.jsonl")
        if not train_file.exists() or ir_digest(json.loads(val_file.read_text(encoding="utf-8"))) != want:
            continue
        if anchors <= {row["anchor"] for row in read_jsonl(train_file)}:
            return val_file.parent.relative_to(profile.outputs).as_posix()
    return None


def record_model(run: TrainingRun, trainer, profile: Profile, model_dir: Path) -> None:
    """The saved model's lineage record, when it lies in the profile's outputs (notebook 03's models, the study's):
    the pairs it was trained on and the recipe. Pairs that match no folder there make it stale (re-run 03)."""
    try:
        name = Path(model_dir).resolve().relative_to(profile.outputs.resolve()).as_posix()
    except ValueError:
        return  # saved elsewhere (replicate, a test): not one of the course's outputs
    folder = pairs_folder(profile, trainer)
    settings = asdict(profile) | {"matryoshka": run.recipe["matryoshka"], "recipe_key": run.key,
                                  "train_rows": run.recipe["train_pairs"]}
    settings.pop("name", None)
    record(profile.outputs, name, parents=[f"{folder}/train.jsonl", f"{folder}/val_ir.json"] if folder else [],
           settings=settings, unknown_inputs=None if folder else (
               "was trained on pairs that match none under pairs/ now (loaded before notebook 02 ran again, or "
               "changed in the notebook)"))


def val_history(trainer, before_training: dict[str, float]) -> pd.DataFrame:
    """Val metrics per epoch from the trainer's log (survives a resume), epoch 0 first."""
    rows = [{"epoch": 0.0, **before_training}]
    for entry in trainer.state.log_history:
        if BEST_METRIC in entry:
            rows.append({"epoch": entry["epoch"], **{k[5:]: v for k, v in entry.items() if k.startswith("eval_val_")}})
    return pd.DataFrame(rows)


def epoch_of(trainer, checkpoint: str | None) -> float:
    """The epoch at which ``checkpoint`` was saved (the last epoch when there is none)."""
    if not checkpoint:
        return float(trainer.state.epoch or 0)
    step = int(Path(checkpoint).name.split("-")[-1])
    for entry in trainer.state.log_history:
        if entry.get("step") == step and BEST_METRIC in entry:
            return float(entry["epoch"])
    return float("nan")


def compact_progress(trainer, run: TrainingRun, label: str, show: bool = True) -> None:
    """One progress bar per training (loss and val score in its postfix) instead of the Trainer's printed dicts;
    every log entry is appended to ``<output_dir>/train_log.jsonl``."""
    from transformers import PrinterCallback, ProgressCallback

    trainer.args.disable_tqdm = True  # the Trainer's own bar and dict printing are replaced below
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(CompactProgress(label, run.output_dir / "train_log.jsonl", show))


class CompactProgress(TrainerCallback):
    """A tqdm bar over training steps; the full log goes to a JSON Lines file."""

    def __init__(self, label: str, log_file: Path, show: bool):
        self.label, self.log_file, self.show, self.bar = label, log_file, show, None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.show and is_main_process():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.label, unit="step")

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if is_main_process():
            with self.log_file.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"step": state.global_step, **logs}) + "\n")
        if self.bar is not None:
            if "loss" in logs:
                self.bar.set_postfix_str(f"loss {logs['loss']:.3f}", refresh=False)
            if BEST_METRIC in logs:
                self.bar.set_postfix_str(f"epoch {logs.get('epoch', 0):.0f} val ndcg@10 {logs[BEST_METRIC]:.3f}")

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
