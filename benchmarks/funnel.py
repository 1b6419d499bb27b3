"""The first stages of notebook 08's funnel at ``bench-index``'s scale: binary shortlist, then float rescoring.

Notebook 08 times the whole funnel (encode, binary shortlist, float rescoring, BM25, fusion, rerank) on the course
corpus, a few hundred chunks, where the shortlist holds every chunk. This script times its first two stages where
they matter: the fine-tuned model's real chunk vectors padded with synthetic distractors (the distractors of
``python -m helpers bench-index``: a Gaussian with the real vectors' mean and covariance) up to each size, and the
real test questions as queries, one at a time on one faiss thread, as a server answers them. Exact float32 search
(faiss ``IndexFlatIP``) at the same size is the reference for speed and for recall@10.

    python benchmarks/funnel.py                       # default profile; 10k, 100k and 1M vectors
    python benchmarks/funnel.py --sizes 10000 100000 --shortlist 400 --keep 100

It prints one table and writes it to ``outputs/<profile>/results/funnel_scale.csv``: per size, the p50 and p95 ms
per question of the shortlist (Hamming over sign bits, ``--shortlist`` rows), of the rescoring (float32 at full dim,
keeping ``--keep`` rows, the hybrid's dense depth), their sum, exact search's p50, the speed-up over exact search,
and recall@10 of the two stages against exact search. When notebook 08 has run for the profile, the later stages it
measured on the course corpus follow (their cost does not depend on the number of vectors, except BM25's).
Needs notebook 02's test set and notebook 03's model. At 1M vectors it holds about 3 GiB (float32 twice: the
rescoring vectors and the exact index).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from helpers.config import get_profile

DEFAULT_SIZES = [10_000, 100_000, 1_000_000]


def per_question(fn, queries: np.ndarray) -> tuple[list, np.ndarray]:
    """``fn(query row)`` for each query, one at a time (after an untimed warm-up): the results and ms of each."""
    fn(queries[:1])
    results, ms = [], []
    for query in queries:
        start = time.perf_counter()
        results.append(fn(query[None, :]))
        ms.append((time.perf_counter() - start) * 1000)
    return results, np.array(ms)


def stage_rows(real: np.ndarray, queries: np.ndarray, sizes: list[int], shortlist: int, keep: int, seed: int,
               threads: int = 1) -> pd.DataFrame:
    """One row per size: shortlist and rescoring latency (p50, p95), exact search's, and recall@10 against it."""
    from helpers.deploy import IndexConfig, build, recall_against, rerank, search, single_threaded
    from helpers.deploy.vector_index import synthetic_distractors

    full = real.shape[1]
    binary_config, flat_config = IndexConfig("binary", full), IndexConfig("flat", full)
    rows = []
    for size in sizes:
        extra = max(0, size - len(real))
        corpus = np.concatenate([real, synthetic_distractors(real, extra, seed)]) if extra else real
        binary, flat = build(binary_config, corpus), build(flat_config, corpus)
        depth = min(shortlist, len(corpus))
        with single_threaded(threads):
            shortlists, short_ms = per_question(
                lambda q, index=binary, n=depth: search(binary_config, index, q, n)[0], queries)
            rescored, rescore_ms = [], []
            for query, found in zip(queries, shortlists):
                start = time.perf_counter()
                ids, _ = rerank(found, query[None, :], corpus, min(keep, depth))
                rescore_ms.append((time.perf_counter() - start) * 1000)
                rescored.append(ids[0])
            exact, exact_ms = per_question(lambda q, index=flat: search(flat_config, index, q, 10)[0], queries)
        total = short_ms + np.array(rescore_ms)
        rows.append({
            "vectors": size, "shortlist": depth, "keep": min(keep, depth),
            "shortlist_p50_ms": np.percentile(short_ms, 50), "shortlist_p95_ms": np.percentile(short_ms, 95),
            "rescoring_p50_ms": np.percentile(rescore_ms, 50), "rescoring_p95_ms": np.percentile(rescore_ms, 95),
            "both_p50_ms": np.percentile(total, 50), "exact_p50_ms": np.percentile(exact_ms, 50),
            "speed-up_vs_exact": np.percentile(exact_ms, 50) / np.percentile(total, 50),
            "recall@10_vs_exact": recall_against(np.stack(rescored)[:, :10], np.concatenate(exact)).mean(),
        })
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="default: $LAB_PROFILE or 'default'")
    parser.add_argument("--sizes", type=int, nargs="+", default=DEFAULT_SIZES,
                        help="corpus sizes: the real chunks plus synthetic distractors (default: 10000 100000 1000000)")
    parser.add_argument("--shortlist", type=int, default=400, help="rows the binary index returns (notebook 08: 4 x 100)")
    parser.add_argument("--keep", type=int, default=100, help="rows the rescoring keeps (the hybrid's dense depth)")
    parser.add_argument("--threads", type=int, default=1, help="faiss threads per question (default 1)")
    args = parser.parse_args(argv)
    if args.profile:
        os.environ["LAB_PROFILE"] = args.profile

    from helpers.data.dataset import load_ir
    from helpers.evaluation import encode_ir, truncate_normalize
    from helpers.pipeline import require
    from helpers.training import load_model

    profile = get_profile()
    test_ir = load_ir(require(profile, "pairs/test_ir.json"))
    model_path = require(profile, "matryoshka/model")
    enc = encode_ir(load_model(str(model_path)), test_ir)
    full = enc.corpus.shape[1]
    real = truncate_normalize(enc.corpus, full).astype(np.float32)
    queries = truncate_normalize(enc.queries, full).astype(np.float32)
    started = time.perf_counter()
    table = stage_rows(real, queries, sorted(args.sizes), args.shortlist, args.keep, profile.seed, args.threads)
    out = profile.outputs / "results" / "funnel_scale.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)

    print(f"profile={profile.name}  model={model_path}  {len(enc.query_ids)} test questions, {full} dims; "
          f"{args.threads} faiss thread(s), one question at a time; {time.perf_counter() - started:.0f} s")
    print(f"binary shortlist of {args.shortlist} rows (Hamming over sign bits), then float32 rescoring keeping "
          f"{args.keep}; corpus = the real chunks plus synthetic distractors\n")
    print(table.round({c: 3 for c in table.columns if c.endswith("_ms")} | {"speed-up_vs_exact": 1,
                                                                            "recall@10_vs_exact": 3})
          .to_string(index=False))
    later = profile.outputs / "results" / "funnel_latency.csv"
    if later.exists():
        stages = pd.read_csv(later).set_index("stage")
        rest = stages.drop(index=[s for s in ("binary shortlist", "float rescoring", "total") if s in stages.index])
        print(f"\nthe other stages, as notebook 08 measured them on the course corpus ({later}):")
        print(rest[["p50_ms", "p95_ms"]].round(3).to_string())
    print(f"\ntable: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
