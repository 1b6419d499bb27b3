"""The course-level commands of ``python -m helpers``: course, train, evaluate, bench-eval, replicate."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

from helpers.config import ROOT, get_profile

NOTEBOOKS = [
    "01_load_corpus", "02_build_pairs", "03_train_matryoshka", "04_evaluate_retrieval", "05_plot_dims_vs_ndcg",
]


def register(sub, profiles: list[str]) -> None:
    p = sub.add_parser("course", help="execute notebooks 01-05 top to bottom and print where tables and plots are")
    p.add_argument("--profile", choices=profiles, default=None, help="default: $LAB_PROFILE or 'default'")
    p.add_argument("--split", choices=["chunks", "questions"], default=None, help="split regime (default: chunks)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    p.set_defaults(func=cmd_course)

    p = sub.add_parser("train", help="prepare pairs if needed, then train (same code as notebook 03)")
    p.add_argument("--profile", choices=profiles, default=None)
    p.add_argument("--plain-mnrl", action="store_true", help="train the plain MNRL ablation instead of Matryoshka")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate base, fine-tuned and BM25 on the test questions (notebook 04)")
    p.add_argument("--profile", choices=profiles, default=None)
    p.add_argument("--protocol", choices=["whole-corpus", "test-chunks-only"], default="whole-corpus")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("bench-eval", help="time one encode for all dims against one dim (ratio printed last)")
    p.add_argument("--repeats", type=int, default=3)
    p.set_defaults(func=cmd_bench_eval)

    p = sub.add_parser("replicate", help="train and evaluate on the published system's three files in a folder")
    p.add_argument("--data", required=True, help="folder with training_dataset.jsonl, val_dataset.jsonl, test_dataset.jsonl")
    p.add_argument("--epochs", type=int, default=None, help="default: the default profile's")
    p.add_argument("--model", default=None, help="default: the bundled all-MiniLM-L6-v2")
    p.add_argument("--output", default=None, help="default: outputs/replicate/<folder name>")
    p.set_defaults(func=cmd_replicate)


def _use_profile(args) -> None:
    if getattr(args, "profile", None):
        os.environ["LAB_PROFILE"] = args.profile
    if getattr(args, "split", None):
        os.environ["LAB_SPLIT"] = args.split


def cmd_course(args: argparse.Namespace) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    _use_profile(args)
    profile = get_profile()
    executed = profile.outputs / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    print(f"profile={profile.name} model={profile.model} split={profile.split_regime} -> {profile.outputs}")
    start = time.perf_counter()
    for name in NOTEBOOKS:
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        print(f"  running {name} ...", end="", flush=True)
        client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as err:
            nbformat.write(nb, executed / f"{name}.ipynb")
            print(f" FAILED\n{err}\nThe executed notebook is in {executed / f'{name}.ipynb'}", file=sys.stderr)
            return 1
        nbformat.write(nb, executed / f"{name}.ipynb")
        print(f" {time.perf_counter() - t0:.0f} s")
    peak_kernel = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"done in {time.perf_counter() - start:.0f} s; peak kernel memory {peak_kernel:.0f} MiB")
    results = profile.outputs / "results"
    print(f"tables: {results / 'summary.csv'}, {results / 'bootstrap.csv'}")
    print(f"plots:  {profile.outputs / 'plots'}")
    print(f"models: {profile.outputs / 'matryoshka' / 'model'}, {profile.outputs / 'mnrl' / 'model'}")
    print(f"executed notebooks: {executed}")
    _print_ndcg(results / "summary.csv")
    return 0


def _print_ndcg(summary_csv: Path) -> None:
    import pandas as pd

    if summary_csv.exists():
        table = pd.read_csv(summary_csv).pivot(index="dim", columns="system", values="ndcg@10")
        print("\nndcg@10 on test questions, whole corpus (dim 0 = BM25):")
        print(table.sort_index(ascending=False).round(3).to_string())


def cmd_train(args: argparse.Namespace) -> int:
    from helpers.distributed import is_main_process, main_process_first
    from helpers.pipeline import step_build_pairs, step_load_corpus, step_train

    _use_profile(args)
    profile = get_profile()
    with main_process_first():  # under torchrun / accelerate launch: rank 0 prepares, the others wait
        if not (profile.outputs / "pairs" / "train.jsonl").exists():
            step_load_corpus(profile)
            step_build_pairs(profile)
    result = step_train(profile, matryoshka=not args.plain_mnrl)
    if is_main_process():
        print(result.val_history.round(4).to_string(index=False))
        print(f"best epoch {result.best_epoch}; model saved to {result.model_dir} ({result.seconds:.0f} s on {result.device})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from helpers.pipeline import step_evaluate

    _use_profile(args)
    profile = get_profile()
    out = step_evaluate(profile, args.protocol)
    print(out["summary"][["system", "dim", "ndcg@10", "mrr@10", "recall@10"]].round(4).to_string(index=False))
    return 0


def cmd_bench_eval(args: argparse.Namespace) -> int:
    from helpers.benchmarks import bench_eval

    bench_eval(repeats=args.repeats)
    return 0


def cmd_replicate(args: argparse.Namespace) -> int:
    from helpers.replicate import replicate

    replicate(Path(args.data), epochs=args.epochs, model=args.model,
              output=Path(args.output) if args.output else None)
    return 0
