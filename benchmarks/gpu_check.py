"""GPU readiness check: training throughput, MFU, peak memory and a published-size run.

Runs unattended with no hub access. It builds a BERT with snowflake-arctic-embed-l's shape
(24 layers, hidden 1024, 16 heads, intermediate 4096, 30522-token vocabulary, CLS pooling)
from a config with random weights (speed and memory do not depend on the weights), and loads
the bundled all-MiniLM-L6-v2. For each model and batch size it times training steps of
MatryoshkaLoss(MultipleNegativesRankingLoss) under bf16 autocast over fp32 weights with fused
AdamW, on synthetic (query, passage) pairs of realistic length; then it times a run the size
of the published one (156 pairs x 10 epochs, batch 10) through the course's own
``training_arguments`` and the sentence-transformers Trainer.

Without CUDA (or with ``--tiny``) it swaps in a tiny BERT, small batches and short texts so
the whole check takes seconds on a CPU: CI runs it that way to keep the script working.

    python benchmarks/gpu_check.py --json outputs/gpu_check.json       # on the GPU machine
    python benchmarks/gpu_check.py --tiny                               # seconds, on a CPU

The last thing printed is a JSON summary (also written to ``--json`` when given).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere: make ``helpers`` importable
    sys.path.insert(0, str(ROOT))

ARCTIC_L_SHAPE = {
    "hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096,
    "max_position_embeddings": 512, "vocab_size": 30522,
}
TINY_SHAPE = {
    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64,
    "max_position_embeddings": 512, "vocab_size": 30522,
}
# Dense bf16 tensor-core peaks from the vendors' data sheets (TFLOP/s), matched against the
# CUDA device name in this order (the more specific names first).
PEAK_BF16_TFLOPS = [
    ("H100 PCIe", 756.0), ("H100 NVL", 835.0), ("GH200", 989.0), ("H200", 989.0), ("H100", 989.0),
    ("A100", 312.0), ("L40S", 362.0), ("A10G", 125.0), ("A10", 125.0), ("L4", 121.0),
]
GOAL_PUBLISHED_MAX_S = 30.0
GOAL_MFU = 0.35
GOAL_MFU_MIN_BATCH = 64
GOAL_DEVICE = "H100"


# ---------------------------------------------------------------------------------------------
# Models and data
# ---------------------------------------------------------------------------------------------
def bundled_model_path() -> str:
    """Folder of the bundled all-MiniLM-L6-v2 (its tokenizer is BERT's uncased 30522-token one)."""
    from helpers.config import BUNDLED_MODEL
    from helpers.training.modeling import resolve_model_path

    return resolve_model_path(BUNDLED_MODEL)


def build_random_bert(
    shape: dict[str, int],
    out_dir: Path,
    pooling: str = "cls",
    prompts: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Save a SentenceTransformer (BERT from ``shape``, random weights, the bundled tokenizer,
    ``pooling`` pooling, normalized output, optional ``prompts``) to ``out_dir``; returns it."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(bundled_model_path())
    if shape["vocab_size"] < len(tokenizer):
        raise ValueError(f"shape vocab_size {shape['vocab_size']} is smaller than the tokenizer's {len(tokenizer)}")
    torch.manual_seed(seed)
    backbone = BertModel(BertConfig(**shape))
    out_dir = Path(out_dir)
    with tempfile.TemporaryDirectory() as tmp:
        backbone.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        transformer = Transformer(tmp, max_seq_length=shape["max_position_embeddings"])
        model = SentenceTransformer(
            modules=[transformer, Pooling(shape["hidden_size"], pooling_mode=pooling), Normalize()],
            prompts=prompts, device="cpu",
        )
        model.save(str(out_dir))
    return out_dir


def synthetic_texts(tokenizer, count: int, words: int, seed: int) -> list[str]:
    """``count`` distinct texts of ``words`` whole-word vocabulary entries (one token each),
    so a text tokenizes to ``words`` + 2 tokens with [CLS] and [SEP]."""
    vocab = sorted(w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) >= 3)
    rng = random.Random(seed)
    return [" ".join(rng.choices(vocab, k=words)) for _ in range(count)]


def count_parameters(model) -> tuple[int, int]:
    """(all parameters, parameters outside embedding tables): the second is the ``N`` of 6N."""
    import torch

    total = sum(p.numel() for p in model.parameters())
    embeddings = sum(
        p.numel() for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters(recurse=False)
    )
    return total, total - embeddings


def attention_implementation(model) -> str | None:
    """The attention kernel family transformers chose for the backbone ('sdpa', 'eager', ...)."""
    backbone = getattr(model[0], "auto_model", None)
    config = getattr(backbone, "config", None)
    return getattr(config, "_attn_implementation", None)


# ---------------------------------------------------------------------------------------------
# Device facts
# ---------------------------------------------------------------------------------------------
def detect_peak_tflops(gpu_name: str | None) -> float | None:
    """Dense bf16 peak of a known GPU, from its name; None when unknown (pass --peak-tflops)."""
    if not gpu_name:
        return None
    for key, value in PEAK_BF16_TFLOPS:
        if key.lower() in gpu_name.lower():
            return value
    return None


def reset_peak_memory(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def peak_memory_gib(device: str) -> float:
    """Peak GPU memory allocated by tensors since the last reset (CUDA), or the process's peak
    resident memory so far (CPU, never resets)."""
    import torch

    if device == "cuda":
        return torch.cuda.max_memory_allocated() / 2**30
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def free_memory(device: str) -> None:
    import torch

    gc.collect()
    if device == "cuda":
        torch.cuda.empty_cache()


def is_oom(err: BaseException) -> bool:
    import torch

    return isinstance(err, torch.OutOfMemoryError) or "out of memory" in str(err).lower()


# ---------------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------------
def _time_steps(model, loss, features, device: str, steps: int, warmup: int, bf16: bool) -> float:
    """Seconds per optimizer step (forward, backward, fused AdamW) after ``warmup`` steps."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-5, fused=device == "cuda")
    autocast = torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=bf16)
    model.train()
    start = 0.0
    for step in range(warmup + steps):
        if step == warmup:
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            value = loss([dict(f) for f in features], None)  # fresh dicts: the model adds keys to them
        value.backward()
        optimizer.step()
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    optimizer.zero_grad(set_to_none=True)
    return seconds


def measure_throughput(
    model, name: str, batch: int, query_words: int, passage_words: int, device: str,
    steps: int, warmup: int, bf16: bool, peak_tflops: float | None,
) -> dict:
    """One (model, batch) training-throughput row; an out-of-memory error becomes a row too."""
    from helpers.config import matryoshka_dims
    from helpers.lessons.recipe import build_loss
    from helpers.training.modeling import embedding_dim

    row = {"model": name, "batch": batch, "status": "ok"}
    tokenizer = model.tokenizer
    queries = synthetic_texts(tokenizer, batch, query_words, seed=batch)
    passages = synthetic_texts(tokenizer, batch, passage_words, seed=batch + 1)
    loss = build_loss(model, matryoshka_dims(embedding_dim(model)), matryoshka=True, base="mnrl")
    features = [
        {k: v.to(device) if hasattr(v, "to") else v for k, v in model.preprocess(texts).items()}
        for texts in (queries, passages)
    ]
    tokens = sum(int(f["attention_mask"].sum()) for f in features)
    reset_peak_memory(device)
    try:
        step_s = _time_steps(model, loss, features, device, steps, warmup, bf16)
    except RuntimeError as err:  # torch.OutOfMemoryError is a RuntimeError
        if not is_oom(err):
            raise
        row.update(status="oom", error=str(err).splitlines()[0][:200])
    else:
        _, n_dense = count_parameters(model)
        tokens_per_s = tokens / step_s
        row.update(
            step_ms=round(step_s * 1000, 2), samples_per_s=round(batch / step_s, 1),
            tokens_per_step=tokens, tokens_per_s=round(tokens_per_s),
            mfu=round(6 * n_dense * tokens_per_s / (peak_tflops * 1e12), 4) if peak_tflops else None,
            peak_memory_gib=round(peak_memory_gib(device), 2),
        )
    for param in model.parameters():  # an OOM can leave gradients behind; free them for the next batch
        param.grad = None
    del features, loss
    free_memory(device)
    return row


def published_size_run(
    model_dir: Path, pairs: int, epochs: int, batch: int, query_words: int, passage_words: int, device: str,
) -> dict:
    """Wall time of ``pairs`` x ``epochs`` at ``batch`` through the course's training arguments and the
    sentence-transformers Trainer (data loading and tokenization included; evaluation and
    checkpoint saving switched off, since they depend on the val set and the disk)."""
    from datasets import Dataset
    from sentence_transformers import SentenceTransformerTrainer

    from helpers.config import get_profile, matryoshka_dims
    from helpers.lessons.recipe import build_loss, training_arguments
    from helpers.training.modeling import embedding_dim, load_model

    row: dict = {"pairs": pairs, "epochs": epochs, "batch": batch, "status": "ok"}
    profile = get_profile("full", model=str(model_dir), epochs=epochs, batch_size=batch)
    model = load_model(str(model_dir), device=device)
    tokenizer = model.tokenizer
    data = Dataset.from_dict({
        "anchor": synthetic_texts(tokenizer, pairs, query_words, seed=7),
        "positive": synthetic_texts(tokenizer, pairs, passage_words, seed=8),
    })
    with tempfile.TemporaryDirectory() as tmp:
        args = training_arguments(profile, Path(tmp), prompt=None)
        args = args.set_evaluate(strategy="no").set_save(strategy="no")
        args.load_best_model_at_end = False
        args.disable_tqdm = True
        args.logging_strategy = "no"
        row["trainer_args"] = {
            "bf16": bool(args.bf16), "tf32": args.tf32, "optim": str(getattr(args.optim, "value", args.optim)),
            "dataloader_num_workers": args.dataloader_num_workers,
            "dataloader_pin_memory": args.dataloader_pin_memory,
            "dataloader_persistent_workers": args.dataloader_persistent_workers,
        }
        loss = build_loss(model, matryoshka_dims(embedding_dim(model)), matryoshka=True, base=profile.loss)
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss)
        reset_peak_memory(device)
        start = time.perf_counter()
        try:
            output = trainer.train()
        except RuntimeError as err:
            if not is_oom(err):
                raise
            row.update(status="oom", error=str(err).splitlines()[0][:200])
        else:
            if device == "cuda":
                import torch

                torch.cuda.synchronize()
            row.update(
                wall_s=round(time.perf_counter() - start, 2), steps=int(output.global_step),
                peak_memory_gib=round(peak_memory_gib(device), 2),
                weights_dtype_after=str(next(model.parameters()).dtype),
            )
    del trainer, model, loss
    free_memory(device)
    return row


# ---------------------------------------------------------------------------------------------
# Goals and report
# ---------------------------------------------------------------------------------------------
def judge_goals(summary: dict) -> dict:
    """Compare the figures with the goals for an H100; judged only on a full (non-tiny) GPU run."""
    goals = {
        "device": GOAL_DEVICE, "published_run_max_s": GOAL_PUBLISHED_MAX_S,
        "mfu_min": GOAL_MFU, "mfu_min_batch": GOAL_MFU_MIN_BATCH,
        "judged": False, "published_run_met": None, "mfu_met": None, "note": "",
    }
    if summary["tiny"] or summary["device"] != "cuda":
        goals["note"] = "not judged: tiny/CPU run (the goals are for the arctic-l shape on an H100)"
        return goals
    goals["judged"] = True
    run = summary.get("published_run") or {}
    if run.get("status") == "ok":
        goals["published_run_met"] = run["wall_s"] <= GOAL_PUBLISHED_MAX_S
    big = [r for r in summary["throughput"] if r["model"] == "arctic-l-shape" and r["batch"] >= GOAL_MFU_MIN_BATCH
           and r["status"] == "ok" and r.get("mfu") is not None]
    if big:
        goals["mfu_met"] = max(r["mfu"] for r in big) >= GOAL_MFU
    if GOAL_DEVICE not in (summary.get("gpu_name") or ""):
        goals["note"] = f"measured on {summary.get('gpu_name')}, not an {GOAL_DEVICE}: compare with care"
    return goals


def _verdict(value: bool | None) -> str:
    return {True: "MET", False: "MISSED", None: "n/a"}[value]


def print_report(summary: dict) -> None:
    print(f"\ndevice: {summary['device']} ({summary.get('gpu_name') or 'no GPU'}); "
          f"peak bf16: {summary['peak_tflops']} TFLOP/s; tiny={summary['tiny']}")
    for name, info in summary["models"].items():
        print(f"model {name}: {info['params'] / 1e6:.2f} M parameters ({info['params_dense'] / 1e6:.2f} M outside "
              f"embeddings), weights {info['weights_dtype']}, attention {info['attention']}")
    print(f"\n{'model':<16}{'batch':>6}{'step ms':>10}{'samples/s':>11}{'tokens/s':>11}{'MFU':>8}{'peak GiB':>10}")
    for r in summary["throughput"]:
        if r["status"] != "ok":
            print(f"{r['model']:<16}{r['batch']:>6}  {r['status'].upper()}: {r.get('error', '')}")
            continue
        mfu = f"{r['mfu']:.1%}" if r.get("mfu") is not None else "n/a"
        print(f"{r['model']:<16}{r['batch']:>6}{r['step_ms']:>10.1f}{r['samples_per_s']:>11.1f}"
              f"{r['tokens_per_s']:>11}{mfu:>8}{r['peak_memory_gib']:>10.2f}")
    run = summary.get("published_run")
    if run:
        if run["status"] == "ok":
            print(f"\npublished-size run ({run['model']}, {run['pairs']} pairs x {run['epochs']} epochs, batch "
                  f"{run['batch']}): {run['wall_s']:.1f} s, {run['steps']} steps, peak {run['peak_memory_gib']:.2f} GiB")
        else:
            print(f"\npublished-size run: {run['status'].upper()} {run.get('error', '')}")
    goals = summary["goals"]
    print(f"\ngoal on an {GOAL_DEVICE}: published-size run <= {GOAL_PUBLISHED_MAX_S:.0f} s -> "
          f"{_verdict(goals['published_run_met'])}")
    print(f"goal on an {GOAL_DEVICE}: MFU >= {GOAL_MFU:.0%} at batch >= {GOAL_MFU_MIN_BATCH} (arctic-l shape) -> "
          f"{_verdict(goals['mfu_met'])}")
    if goals["note"]:
        print(f"({goals['note']})")


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tiny", action="store_true", help="tiny BERT, small batches, short texts (automatic without CUDA)")
    p.add_argument("--batches", type=int, nargs="+", default=None, help="default: 10 32 64 128 (tiny: 2 4)")
    p.add_argument("--query-tokens", type=int, default=None, help="tokens per query (default 20; tiny 8)")
    p.add_argument("--passage-tokens", type=int, default=None, help="tokens per passage (default 200; tiny 32)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per batch size (default 10; tiny 2)")
    p.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 3; tiny 1)")
    p.add_argument("--peak-tflops", type=float, default=None, help="dense bf16 peak of the GPU (default: from its name)")
    p.add_argument("--published-pairs", type=int, default=None, help="default 156 (tiny 24)")
    p.add_argument("--published-epochs", type=int, default=None, help="default 10 (tiny 2)")
    p.add_argument("--published-batch", type=int, default=None, help="default 10 (tiny 4)")
    p.add_argument("--skip-minilm", action="store_true", help="measure only the arctic-l-shaped model")
    p.add_argument("--skip-published", action="store_true", help="skip the published-size run")
    p.add_argument("--json", type=Path, default=None, help="also write the summary to this file")
    args = p.parse_args(argv)
    for name, value in (("--steps", args.steps), ("--published-pairs", args.published_pairs),
                        ("--published-epochs", args.published_epochs), ("--published-batch", args.published_batch)):
        if value is not None and value < 1:
            p.error(f"{name} must be at least 1, got {value}")
    if args.batches and min(args.batches) < 2:
        p.error("--batches: each batch needs at least 2 pairs (in-batch negatives)")
    return args


def settings(args: argparse.Namespace, device: str) -> dict:
    """The run's sizes: tiny defaults without CUDA or with --tiny, GPU defaults otherwise."""
    tiny = args.tiny or device != "cuda"

    def pick(value, full, small):
        return value if value is not None else (small if tiny else full)

    return {
        "tiny": tiny,
        "batches": pick(args.batches, [10, 32, 64, 128], [2, 4]),
        "query_tokens": pick(args.query_tokens, 20, 8),
        "passage_tokens": pick(args.passage_tokens, 200, 32),
        "steps": pick(args.steps, 10, 2),
        "warmup": pick(args.warmup, 3, 1),
        "published_pairs": pick(args.published_pairs, 156, 24),
        "published_epochs": pick(args.published_epochs, 10, 2),
        "published_batch": pick(args.published_batch, 10, 4),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import sentence_transformers
    import torch
    import transformers

    from helpers.training.modeling import load_model

    device = "cuda" if torch.cuda.is_available() else "cpu"
    cfg = settings(args, device)
    gpu_name = torch.cuda.get_device_name(0) if device == "cuda" else None
    peak = args.peak_tflops or detect_peak_tflops(gpu_name)
    bf16 = device == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False)
    if device == "cuda":
        torch.set_float32_matmul_precision("high")  # TF32 for any fp32 matmul left outside autocast
    elif cfg["tiny"]:
        # The tiny run checks the code path, not speed; one thread avoids spin-waiting on a busy CPU.
        torch.set_num_threads(1)
    summary: dict = {
        "device": device, "gpu_name": gpu_name, "peak_tflops": peak, "tiny": cfg["tiny"],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__,
                     "sentence_transformers": sentence_transformers.__version__},
        "settings": {**cfg, "bf16_autocast": bf16, "fused_adamw": device == "cuda", "loss": "Matryoshka(MNRL)",
                     "mfu_formula": "6 * parameters outside embeddings * tokens/s / peak"},
        "models": {}, "throughput": [], "published_run": None,
    }
    # Query/passage word counts: each word is one token, plus [CLS] and [SEP].
    q_words, p_words = max(1, cfg["query_tokens"] - 2), max(1, cfg["passage_tokens"] - 2)
    with tempfile.TemporaryDirectory() as tmp:
        shape_name = "tiny-bert" if cfg["tiny"] else "arctic-l-shape"
        shape_dir = build_random_bert(TINY_SHAPE if cfg["tiny"] else ARCTIC_L_SHAPE, Path(tmp) / shape_name)
        candidates = {shape_name: str(shape_dir)}
        if not args.skip_minilm:
            candidates["minilm"] = bundled_model_path()
        for name, path in candidates.items():
            model = load_model(path, device=device)
            total, dense = count_parameters(model)
            summary["models"][name] = {
                "params": total, "params_dense": dense, "weights_dtype": str(next(model.parameters()).dtype),
                "attention": attention_implementation(model),
            }
            for batch in cfg["batches"]:
                row = measure_throughput(model, name, batch, q_words, p_words, device,
                                         cfg["steps"], cfg["warmup"], bf16, peak)
                summary["throughput"].append(row)
                print(f"  measured {name} batch {batch}: {row['status']}", flush=True)
            del model
            free_memory(device)
        if not args.skip_published:
            run = published_size_run(shape_dir, cfg["published_pairs"], cfg["published_epochs"],
                                     cfg["published_batch"], q_words, p_words, device)
            summary["published_run"] = {"model": shape_name, **run}
    summary["goals"] = judge_goals(summary)
    print_report(summary)
    text = json.dumps(summary, indent=1)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
