"""Matryoshka fine-tuning with sentence-transformers' Trainer: one function shared by
notebook 03 and ``python -m helpers train``."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from helpers.config import Profile, matryoshka_dims
from helpers.distributed import is_main_process, world_size
from helpers.evaluation import MatryoshkaIREvaluator
from helpers.modeling import device_name, embedding_dim, load_model, query_prompt

BEST_METRIC = "eval_val_mean_ndcg@10"


@dataclass
class TrainResult:
    model_dir: Path
    dims: list[int]
    val_history: pd.DataFrame  # one row per evaluation (epoch 0 = before training)
    best_epoch: float
    seconds: float
    device: str
    resumed: bool


def build_loss(model, dims: list[int], matryoshka: bool = True, base: str = "mnrl", mini_batch_size: int = 32):
    """MultipleNegativesRankingLoss (or its cached variant), wrapped in MatryoshkaLoss when asked.

    Under ``torchrun`` / ``accelerate launch`` (world size > 1) the in-batch negatives are gathered
    from every device, so each anchor is ranked against ``world_size * batch_size`` passages, as
    on one device with the combined batch.
    """
    from sentence_transformers.sentence_transformer.losses import (
        CachedMultipleNegativesRankingLoss,
        MatryoshkaLoss,
        MultipleNegativesRankingLoss,
    )

    gather = world_size() > 1
    if base == "cached_mnrl":
        inner = CachedMultipleNegativesRankingLoss(model, mini_batch_size=mini_batch_size, gather_across_devices=gather)
    elif base == "mnrl":
        inner = MultipleNegativesRankingLoss(model, gather_across_devices=gather)
    else:
        raise ValueError(f"unknown loss {base!r}; use 'mnrl' or 'cached_mnrl'")
    return MatryoshkaLoss(model, inner, matryoshka_dims=dims) if matryoshka else inner


def training_arguments(profile: Profile, output_dir: Path, prompt: str | None):
    """Trainer arguments: the profile's recipe plus the published system's corrections.

    On a CUDA GPU: bf16 autocast over fp32 weights (the model itself stays fp32), TF32 matmuls
    on Ampere or newer, fused AdamW, and two pinned, persistent dataloader workers per process
    (the collator tokenizes, so workers keep the GPU fed). Under a launcher (world size > 1)
    incomplete batches are dropped: every rank then runs the same number of equal-sized steps,
    which DDP and the cross-device gather of negatives both need.
    """
    import torch
    from sentence_transformers import SentenceTransformerTrainingArguments
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers.utils import is_torch_tf32_available

    on_gpu = device_name() == "cuda"
    # including_emulation=False: a pre-Ampere card (e.g. a T4) "supports" bf16 only by slow emulation.
    bf16 = on_gpu and profile.bf16_on_gpu and torch.cuda.is_bf16_supported(including_emulation=False)
    workers = 2 if on_gpu else 0
    return SentenceTransformerTrainingArguments(
        output_dir=str(output_dir),
        num_train_epochs=profile.epochs,
        per_device_train_batch_size=profile.batch_size,
        per_device_eval_batch_size=profile.batch_size,
        learning_rate=profile.learning_rate,
        warmup_steps=profile.warmup_ratio,  # a float below 1 is a ratio in transformers >= 5
        # Several questions per chunk would put the same positive twice in a batch: a false negative.
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        # The Trainer only adds prompts given here; the evaluator adds the model's own query prompt.
        prompts={"anchor": prompt} if prompt else None,
        eval_strategy="epoch",
        save_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model=BEST_METRIC,
        greater_is_better=True,
        bf16=bf16,
        # transformers sets TF32 through torch's fp32_precision switch; None leaves torch's default.
        tf32=True if on_gpu and is_torch_tf32_available() else None,
        optim="adamw_torch_fused" if on_gpu else "adamw_torch",
        # Say "CPU" outright: only then does transformers set up multi-process (gloo) training on CPUs.
        use_cpu=device_name() == "cpu",
        dataloader_num_workers=workers,
        dataloader_pin_memory=on_gpu,
        dataloader_persistent_workers=workers > 0,
        dataloader_drop_last=world_size() > 1,
        logging_steps=5,
        report_to="none",
        seed=profile.seed,
        data_seed=profile.seed,
    )


def train(
    profile: Profile,
    train_pairs: list[dict[str, str]],
    val_ir: dict,
    output_dir: Path,
    matryoshka: bool = True,
    progress: bool = True,
) -> TrainResult:
    """Fine-tune ``profile.model`` on (anchor, positive) pairs; keep the checkpoint best on val.

    A run interrupted after an epoch resumes from its last checkpoint when called again.
    """
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer
    from transformers.trainer_utils import get_last_checkpoint

    output_dir = Path(output_dir)
    checkpoints = output_dir / "checkpoints"
    checkpoints.mkdir(parents=True, exist_ok=True)
    model = load_model(profile.model, profile.max_seq_length)
    dims = matryoshka_dims(embedding_dim(model))
    prompt = query_prompt(model)
    evaluator = MatryoshkaIREvaluator(val_ir, dims, name="val", batch_size=max(profile.batch_size, 32))
    args = training_arguments(profile, checkpoints, prompt)
    args.disable_tqdm = not progress
    dataset = Dataset.from_list(train_pairs).select_columns(["anchor", "positive"])
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=build_loss(model, dims, matryoshka, profile.loss, profile.mini_batch_size),
        evaluator=evaluator,
    )
    last = get_last_checkpoint(str(checkpoints))
    start = time.perf_counter()
    epoch0 = output_dir / "val_epoch0.json"
    if last is None or not epoch0.exists():
        # The starting point of the val curve, saved so that a resumed run still has it.
        before_training = evaluator(model, epoch=0, steps=0)
        if is_main_process():  # under torchrun every rank evaluates; one writes
            epoch0.write_text(json.dumps(before_training), encoding="utf-8")
    else:
        before_training = json.loads(epoch0.read_text(encoding="utf-8"))
    trainer.train(resume_from_checkpoint=last)
    seconds = time.perf_counter() - start
    model_dir = output_dir / "model"
    history = _val_history(trainer, before_training)
    best = trainer.state.best_model_checkpoint
    best_epoch = _epoch_of(trainer, best)
    if is_main_process():  # every rank ends with the same weights and history; one writes them
        model.save(str(model_dir))
        history.to_csv(output_dir / "val_history.csv", index=False)
        summary = {
            "profile": asdict(profile) | {"outputs": str(profile.outputs)},
            "matryoshka": matryoshka, "dims": dims, "query_prompt": prompt, "train_pairs": len(train_pairs),
            "best_checkpoint": best, "best_epoch": best_epoch, "seconds": round(seconds, 1),
            "device": device_name(), "world_size": world_size(), "resumed_from": last,
        }
        (output_dir / "train_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    return TrainResult(model_dir, dims, history, best_epoch, seconds, device_name(), last is not None)


def _val_history(trainer, before_training: dict[str, float]) -> pd.DataFrame:
    """Val metrics per epoch from the trainer's log (survives a resume), epoch 0 first."""
    rows = [{"epoch": 0.0, **before_training}]
    for entry in trainer.state.log_history:
        if BEST_METRIC in entry:
            rows.append({"epoch": entry["epoch"], **{k[5:]: v for k, v in entry.items() if k.startswith("eval_val_")}})
    return pd.DataFrame(rows)


def _epoch_of(trainer, checkpoint: str | None) -> float:
    if not checkpoint:
        return float(trainer.state.epoch or 0)
    step = int(Path(checkpoint).name.split("-")[-1])
    for entry in trainer.state.log_history:
        if entry.get("step") == step and BEST_METRIC in entry:
            return float(entry["epoch"])
    return float("nan")
