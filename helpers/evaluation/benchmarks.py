"""``python -m helpers bench-eval``: what one encode for all dims costs against one dim."""

from __future__ import annotations

import time

from helpers.config import get_profile, matryoshka_dims
from helpers.data.dataset import build_course_data, ir_split, split_questions
from helpers.evaluation.metrics import encode_ir, evaluate_encoded
from helpers.training.modeling import embedding_dim, load_model


def _interleaved_best(fns, repeats: int) -> list[float]:
    """Best time of each function, running them in turn so that background load hits all alike."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for i, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def bench_eval(repeats: int = 3) -> dict[str, float]:
    """Time, side by side: one dim; all dims from one encode; the library's evaluator once per dim."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    profile = get_profile("default")
    data = build_course_data()
    test = split_questions(data, "chunks", profile.val_fraction, profile.test_fraction, profile.seed)["test"]
    ir = ir_split(data, test)
    model = load_model(profile.model)
    dims = matryoshka_dims(embedding_dim(model))
    print(f"{len(ir['queries'])} queries x {len(ir['corpus'])} chunks, dims {dims}, best of {repeats}")

    def one_dim():
        evaluate_encoded(encode_ir(model, ir), ir["relevant_docs"], dims[:1])

    def all_dims():
        evaluate_encoded(encode_ir(model, ir), ir["relevant_docs"], dims)

    def library_per_dim():
        for dim in dims:
            InformationRetrievalEvaluator(ir["queries"], ir["corpus"], ir["relevant_docs"], truncate_dim=dim,
                                          write_csv=False)(model)

    one_dim()  # warm-up
    t_one, t_all, t_lib = _interleaved_best([one_dim, all_dims, library_per_dim], repeats)
    print(f"one dim, one encode:              {t_one:7.2f} s")
    print(f"{len(dims)} dims, one encode:             {t_all:7.2f} s")
    print(f"{len(dims)} dims, library evaluator per dim: {t_lib:7.2f} s  ({t_lib / t_one:.2f}x one dim)")
    print(f"ratio all dims / one dim: {t_all / t_one:.2f}x")
    return {"one_dim": t_one, "all_dims": t_all, "library_per_dim": t_lib}
