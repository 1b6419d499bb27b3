"""Why notebook 08's cross-encoder trains with MultipleNegativesRankingLoss: the two losses on the same data.

Notebook 08 first trained its reranker with ``BinaryCrossEntropyLoss`` on (question, passage, 0/1) rows: each
training question with its own passage (label 1) and the first stage's best training passage that does not answer
it (label 0). The loss stayed at its constant-score level and reranking fell far below the hybrid. This script
trains both losses from the bundled model's weights on the same questions and mined negatives (notebook 08's own
functions), without checkpoints, and prints the training loss every 5 steps and val ndcg@10 of reranking the
hybrid's top 5 at full dim, four times a run, beside the hybrid's own order:

    python benchmarks/reranker_loss.py                            # both losses, the default profile (about 12 min)
    python benchmarks/reranker_loss.py --loss mnrl --epochs 2 --lr 2e-4

``bce``: one mined negative a question, ``pos_weight`` 1 (both labels weigh alike), ``--epochs`` (4) over
2 rows a question. ``mnrl``: the cross-encoder's MultipleNegativesRankingLoss, one mined negative and
``--in-batch`` (3) drawn in-batch negatives a question, ``--epochs`` (2). Batch 16, warm-up 10%, 160 tokens, seed 42.
Needs notebooks 02-04 for the profile (the pairs, the fine-tuned model that mines the negatives, the fusion).
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from datasets import Dataset
from sentence_transformers.base.sampler import BatchSamplers
from sentence_transformers.cross_encoder import CrossEncoderTrainer, CrossEncoderTrainingArguments
from sentence_transformers.cross_encoder.losses import BinaryCrossEntropyLoss, MultipleNegativesRankingLoss

from helpers.config import get_profile
from helpers.data.dataset import load_ir, load_pairs
from helpers.evaluation import encode_ir
from helpers.lessons.rerank import first_stage, first_stage_negatives, reranker_rows, training_ir, val_evaluator
from helpers.pipeline import load_hybrid_choice, require
from helpers.training import load_cross_encoder, load_model


def binary_rows(rows: list[dict]) -> list[dict]:
    """notebook 08's (query, positive, negative_1) rows as BinaryCrossEntropyLoss's labelled pairs."""
    out = []
    for row in rows:
        out.append({"query": row["query"], "passage": row["positive"], "label": 1.0})
        out.append({"query": row["query"], "passage": row["negative_1"], "label": 0.0})
    return out


def run(loss_name: str, epochs: int, lr: float, in_batch: int, rows: list[dict], evaluator, base_model: str) -> dict:
    """Train one cross-encoder and return its logged losses and val evaluations."""
    model = load_cross_encoder(base_model, 160)
    if loss_name == "bce":
        data, loss, sampler = binary_rows(rows), BinaryCrossEntropyLoss(model), BatchSamplers.BATCH_SAMPLER
    else:
        data = rows
        loss, sampler = MultipleNegativesRankingLoss(model, num_negatives=in_batch), BatchSamplers.NO_DUPLICATES
    steps = math.ceil(len(data) / 16) * epochs
    args = CrossEncoderTrainingArguments(
        output_dir="/tmp/reranker_loss", num_train_epochs=epochs, per_device_train_batch_size=16, learning_rate=lr,
        warmup_steps=0.1, logging_steps=5, report_to="none", save_strategy="no", eval_strategy="steps",
        eval_steps=max(1, steps // 4), use_cpu=not torch.cuda.is_available(), seed=42, data_seed=42,
        batch_sampler=sampler, disable_tqdm=True)
    trainer = CrossEncoderTrainer(model=model, args=args, train_dataset=Dataset.from_list(data), loss=loss,
                                  evaluator=evaluator)
    start = time.perf_counter()
    trainer.train()
    log = trainer.state.log_history
    return {"seconds": time.perf_counter() - start, "steps": trainer.state.global_step,
            "loss": [round(e["loss"], 3) for e in log if "loss" in e],
            "val": [(e["step"], round(e["eval_val_ndcg@10"], 4)) for e in log if "eval_val_ndcg@10" in e],
            "hybrid": next(e["eval_val_base_ndcg@10"] for e in log if "eval_val_base_ndcg@10" in e),
            "constant": math.log(2) if loss_name == "bce" else math.log(2 + in_batch)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None)
    parser.add_argument("--loss", choices=["bce", "mnrl", "both"], default="both")
    parser.add_argument("--epochs", type=int, default=None, help="default: 4 for bce, 2 for mnrl")
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--in-batch", type=int, default=3)
    args = parser.parse_args()
    profile = get_profile(args.profile)
    pairs = load_pairs(require(profile, "pairs/train.jsonl"))
    val_ir = load_ir(require(profile, "pairs/val_ir.json"))
    tuned = load_model(str(require(profile, "matryoshka/model")))
    fusion = load_hybrid_choice(profile)
    enc = encode_ir(tuned, val_ir)
    evaluator = val_evaluator(val_ir, enc.query_ids, first_stage(enc, val_ir, enc.queries.shape[1], fusion), 5)
    train_ir = training_ir(pairs)
    rows = reranker_rows(train_ir, first_stage_negatives(tuned, train_ir, fusion, 1), 1)
    print(f"{profile.name}: {len(rows)} training questions, 1 mined negative each; val: {len(val_ir['queries'])} "
          "questions, the hybrid's top 5 at full dim reranked")
    for name in (["bce", "mnrl"] if args.loss == "both" else [args.loss]):
        epochs = args.epochs or (4 if name == "bce" else 2)
        result = run(name, epochs, args.lr, args.in_batch, rows, evaluator, profile.model)
        print(f"\n{name}: {epochs} epochs, lr {args.lr:g}, {result['steps']} steps, {result['seconds']:.0f} s; "
              f"constant-score loss {result['constant']:.3f}")
        print("  training loss every 5 steps:", result["loss"])
        print("  val ndcg@10 (step, reranked top 5):", result["val"], f"; the hybrid's order: {result['hybrid']:.4f}")


if __name__ == "__main__":
    main()
