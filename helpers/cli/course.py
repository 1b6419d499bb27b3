"""The course-level commands of ``python -m helpers``: course, train, evaluate, bench-eval, replicate."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from helpers.config import ROOT, get_profile

NOTEBOOKS = [
    "01_load_corpus", "02_build_pairs", "03_train_matryoshka", "04_evaluate_retrieval", "05_plot_dims_vs_ndcg",
    "06_search_playground", "07_deploy_index",
]
COURSE_END = 5  # `course` runs 01-05 unless --until says otherwise


def register(sub, profiles: list[str]) -> None:
    p = sub.add_parser("course", help="execute notebooks 01-05 (or 01 to --until N) and print where results are")
    p.add_argument("--profile", choices=profiles, default=None, help="default: $LAB_PROFILE or 'default'")
    p.add_argument("--until", type=int, default=COURSE_END, choices=range(1, len(NOTEBOOKS) + 1), metavar="N",
                   help=f"run notebooks 01..N (1-{len(NOTEBOOKS)}; default {COURSE_END}); to open notebook N in a "
                        "workshop without the ones before, prepare it with --until N-1")
    p.add_argument("--split", choices=["chunks", "questions"], default=None, help="split regime (default: chunks)")
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    p.set_defaults(func=cmd_course)

    p = sub.add_parser("train", help="prepare pairs if needed, then train (same code as notebook 03)")
    p.add_argument("--profile", choices=profiles, default=None)
    p.add_argument("--plain-mnrl", action="store_true", help="train the plain MNRL ablation instead of Matryoshka")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="evaluate base, fine-tuned, BM25 and their hybrids on the test questions "
                                        "(notebook 04)")
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
    p.add_argument("--learning-rate", type=float, default=None, help="default: the default profile's")
    p.add_argument("--hard-negatives", type=int, default=None,
                   help="mined hard negatives per pair (notebook 03; default: the profile's, or $LAB_HARD_NEGATIVES)")
    p.add_argument("--ict-pairs", action=argparse.BooleanOptionalAction, default=None,
                   help="add one ICT pair per training passage (default: the profile's)")
    p.add_argument("--dim-weights", choices=["equal", "small-heavy"], default=None,
                   help="MatryoshkaLoss weights (default: the profile's)")
    p.add_argument("--min-steps", type=int, default=None,
                   help="more epochs until the set gives this many optimizer steps (default: the profile's; 0 = off)")
    p.set_defaults(func=cmd_replicate)


def _use_profile(args) -> None:
    if getattr(args, "profile", None):
        os.environ["LAB_PROFILE"] = args.profile
    if getattr(args, "split", None):
        os.environ["LAB_SPLIT"] = args.split


def cmd_course(args: argparse.Namespace) -> int:
    _use_profile(args)
    profile = get_profile()
    executed = profile.outputs / "executed"
    executed.mkdir(parents=True, exist_ok=True)
    log_path = profile.outputs / "logs" / "course.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    names = NOTEBOOKS[: args.until]
    print(f"profile={profile.name} model={profile.model} split={profile.split_regime} -> {profile.outputs}")
    print(f"notebooks {names[0][:2]}-{names[-1][:2]}; full log: {log_path}")
    start = time.perf_counter()
    peak_mib = 0.0
    with log_path.open("w", encoding="utf-8") as log:
        for name in names:
            ok, seconds, kernel_mib = _run_notebook(ROOT / "notebooks" / f"{name}.ipynb", executed / f"{name}.ipynb",
                                                    log, args.timeout)
            peak_mib = max(peak_mib, kernel_mib)
            if not ok:
                print(f"{name} FAILED after {seconds:.0f} s: the error is at the end of {log_path}; the executed "
                      f"notebook is {executed / f'{name}.ipynb'}", file=sys.stderr)
                return 1
    memory = f"{peak_mib / 1024:.1f} GiB" if peak_mib else "unknown (read from /proc on Linux)"
    print(f"done in {time.perf_counter() - start:.0f} s; peak kernel memory {memory}")
    print(f"executed notebooks: {executed}")
    if args.until >= 3:
        print(f"models: {profile.outputs / 'matryoshka' / 'model'}, {profile.outputs / 'mnrl' / 'model'}")
    if args.until >= 4:
        results = profile.outputs / "results"
        print(f"tables: {results / 'summary.csv'}, {results / 'bootstrap.csv'}")
        print(f"plots:  {profile.outputs / 'plots'}")
        _print_ndcg(results / "summary.csv", profile.outputs / "pairs" / "test_ir.json")
    return 0


def _peak_rss_mib(pid: int | None) -> float:
    """The highest resident memory a process has used so far (Linux's VmHWM), in MiB; 0 where unknown."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def _run_notebook(path: Path, executed_path: Path, log, timeout: int) -> tuple[bool, float, float]:
    """Execute one notebook with one progress bar over its code cells; cell outputs go to ``log``.
    Returns whether it ran through, its seconds, and the kernel's peak memory in MiB.

    The kernel talks over IPC (Unix sockets) rather than TCP: nothing listens on a port, and ipykernel has no
    reason to warn about unencrypted TCP. Whatever the kernel process itself prints goes to the log too.
    """
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
    kernel_dir = Path(tempfile.mkdtemp(prefix="lab-kernel-"))
    manager = KernelManager(kernel_name="python3", transport="ipc", ip=str(kernel_dir / "kernel"))
    bar = tqdm(total=code_cells, desc=path.stem, unit="cell", leave=True)
    peak = [0.0]

    def cell_done(cell, cell_index, execute_reply=None, **kwargs):
        bar.update(1)
        provisioner = getattr(manager, "provisioner", None)
        peak[0] = max(peak[0], _peak_rss_mib(getattr(provisioner, "pid", None)))
        log.write(f"--- {path.stem} [{cell_index}]\n")
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                log.write(output.get("text", ""))
            elif output.get("output_type") == "error":
                log.write("\n".join(output.get("traceback", [])) + "\n")
            elif "text/plain" in output.get("data", {}):
                log.write(output["data"]["text/plain"] + "\n")
        log.flush()

    client = NotebookClient(nb, km=manager, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_executed=cell_done)
    t0 = time.perf_counter()
    ok = True
    try:
        client.execute(stdout=log, stderr=log)
    except CellExecutionError as err:
        log.write(f"\n{err}\n")
        ok = False
    finally:
        bar.set_postfix_str(f"{time.perf_counter() - t0:.0f} s, {peak[0] / 1024:.1f} GiB" if ok else "FAILED")
        bar.close()
        if manager.has_kernel:  # nbclient leaves a kernel it did not create running: stop it before the next one
            manager.shutdown_kernel(now=True)
        shutil.rmtree(kernel_dir, ignore_errors=True)
    nbformat.write(nb, executed_path)
    return ok, time.perf_counter() - t0, peak[0]


def _print_ndcg(summary_csv: Path, test_ir_json: Path) -> None:
    import json

    import pandas as pd

    from helpers.lessons.hybrid import HYBRID_SUFFIX

    if summary_csv.exists():
        summary = pd.read_csv(summary_csv)
        systems = list(dict.fromkeys(summary.system))  # dense systems, BM25, then the hybrids: notebook 04's order
        table = summary.pivot(index="dim", columns="system", values="ndcg@10")[systems]
        label = json.loads(test_ir_json.read_text(encoding="utf-8")).get("label") if test_ir_json.exists() else None
        print("\nndcg@10 on test questions, whole corpus (dim 0 = BM25):")
        if label:  # the ICT route's proxy test set says so wherever its scores are shown
            print(label)
        choice_json = summary_csv.parent / "hybrid_choice.json"
        if choice_json.exists() and any(s.endswith(HYBRID_SUFFIX) for s in systems):
            choice = json.loads(choice_json.read_text(encoding="utf-8"))
            print(f"<system>{HYBRID_SUFFIX}: fused with BM25 by {choice['method']} "
                  f"{choice['parameter']}={choice['setting']:g}, chosen on val ({choice['criterion']})")
        print(table.sort_index(ascending=False).round(3).to_string())


def cmd_train(args: argparse.Namespace) -> int:
    from helpers.pipeline import step_build_pairs, step_load_corpus, step_train
    from helpers.training.distributed import is_main_process, main_process_first

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
    from helpers.evaluation.benchmarks import bench_eval

    bench_eval(repeats=args.repeats)
    return 0


def cmd_replicate(args: argparse.Namespace) -> int:
    from helpers.training.replicate import replicate

    replicate(Path(args.data), epochs=args.epochs, model=args.model,
              output=Path(args.output) if args.output else None, learning_rate=args.learning_rate,
              hard_negatives=args.hard_negatives, ict_pairs=args.ict_pairs, dim_weights=args.dim_weights,
              min_steps=args.min_steps)
    return 0
