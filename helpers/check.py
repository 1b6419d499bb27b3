"""Exercise checkers, one per exercise, each testing exactly what its exercise asks.

Every checker follows one contract, implemented by :func:`verdict`:

- the exercise ships blank (``None`` or ``...``): print ``[NOT ANSWERED YET]`` with a hint and
  return False, so a notebook run top to bottom (and nbval) passes;
- a right answer: print ``[OK]`` with what it means and return True;
- a wrong answer: raise :class:`ExerciseError` (an AssertionError) whose message is the hint.
"""

from __future__ import annotations

import math
import numbers
from pathlib import Path
from typing import Any

import pandas as pd


class ExerciseError(AssertionError):
    """A wrong answer to an exercise; the message says how to fix it."""


def is_blank(answer: Any) -> bool:
    """True for an exercise left as shipped (``None`` or ``...``)."""
    return answer is None or answer is Ellipsis


def verdict(answer: Any, ok: bool, success: str, hint: str) -> bool:
    """Apply the checkers' contract to one answer (see the module docstring)."""
    if is_blank(answer):
        print(f"[NOT ANSWERED YET] {hint}")
        return False
    if not ok:
        raise ExerciseError(f"[TRY AGAIN] {hint}")
    print(f"[OK] {success}")
    return True


def _pair_of_ints(answer: Any) -> tuple[int, int] | None:
    """``answer`` as a pair of whole numbers, or None when it is not one."""
    try:
        first, second = answer
        if any(isinstance(x, (bool, str)) or not float(x).is_integer() for x in (first, second)):
            return None
    except (TypeError, ValueError):
        return None
    return int(first), int(second)


def check_small_chunks(answer: Any, text: str, chunk_size: int = 400, chunk_overlap: int = 20) -> bool:
    """Notebook 01, exercise 1: (number of chunks, longest chunk in characters) of ``text`` at ``chunk_size``."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    pieces = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap).split_text(text)
    expected = (len(pieces), max(len(p) for p in pieces))
    given = _pair_of_ints(answer)
    hint = (f"run chunk_documents([example], {chunk_size}, {chunk_overlap}) and give (len(chunks), the largest "
            "len(c.text)) for the example document only; the longest chunk is rarely exactly the budget, because the "
            "splitter cuts at paragraph breaks, line breaks and spaces")
    if given is not None and given[0] == expected[0] and given[1] == chunk_size != expected[1]:
        hint = f"the count is right, but no chunk is {chunk_size} characters long: measure the longest one"
    return verdict(answer, given == expected,
                   f"{expected[0]} chunks, the longest {expected[1]} characters: under the budget of {chunk_size}, "
                   "because the splitter prefers a paragraph or word boundary to a full chunk.", hint)


def overlap_text(first: Any, second: Any) -> str:
    """The text two consecutive chunks of one document share, from their offsets."""
    if second.start >= first.end:
        return ""
    return first.text[second.start - first.start :]


def check_overlap_text(answer: Any, first: Any, second: Any) -> bool:
    """Notebook 01, exercise 2: the text ``first`` and ``second`` both hold."""
    expected = overlap_text(first, second)
    ok = isinstance(answer, str) and answer == expected and second.text.startswith(answer)
    return verdict(answer, ok,
                   f"{len(expected)} characters ({expected!r}) carried from one chunk to the next: context, not "
                   "lost words (with chunk_overlap=0 the splitter would still lose nothing).",
                   "the second chunk starts at second.start, before the first ends at first.end: take the first "
                   "chunk's text from position second.start - first.start to its end (a string; empty when "
                   "second.start >= first.end). The last chunk_overlap characters are not it: the overlap stops at a "
                   "word boundary")


def check_truncation_counts(answer: Any, token_counts: list[int], limit: int) -> bool:
    """Notebook 01, exercise 3: (chunks longer than ``limit`` tokens, tokens in the longest chunk)."""
    expected = (sum(n > limit for n in token_counts), max(token_counts))
    given = _pair_of_ints(answer)
    hint = (f"count the chunks with more than {limit} tokens (a chunk of exactly {limit} fits), and give the longest "
            "chunk's length in tokens, not characters; both are printed by the token-count cell")
    return verdict(answer, given == expected,
                   f"{expected[0]} chunk(s) over {limit} tokens; the longest has {expected[1]} tokens, so it loses "
                   f"{max(0, expected[1] - limit)} tokens the model never reads.", hint)


def check_leak_share(answer: Any, relevant: dict[str, list[str]], splits: dict[str, list[str]]) -> bool:
    """Notebook 02, exercise 1: share of test questions with a relevant chunk that a training question also has.

    The expected value is computed here from the chunk ids, not from the learner's formula.
    """
    trained = set().union(*(relevant[q] for q in splits["train"])) if splits["train"] else set()
    test = splits["test"]
    expected = sum(not trained.isdisjoint(relevant[q]) for q in test) / len(test) if test else 0.0
    ok = isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isclose(
        answer, expected, abs_tol=1e-9)
    hint = ("collect the chunks relevant to the training questions, then count the test questions with at least one "
            "relevant chunk in that set, and divide by the number of test questions (a share between 0 and 1)")
    if ok is False and isinstance(answer, (int, float)) and math.isclose(answer, 100 * expected, abs_tol=1e-6):
        hint = "give a share between 0 and 1, not a percentage"
    return verdict(answer, ok,
                   f"{expected:.0%} of the test questions ask about a chunk seen in training. In the 'chunks' regime "
                   "it is 0 by construction; in the 'questions' regime it is high, which is why that regime scores "
                   "higher.", hint)


def check_straddling(answer: Any, relevant: dict[str, list[str]], chunk_split: dict[str, str]) -> bool:
    """Notebook 02, exercise 2: the sorted ids of questions whose relevant chunks land in two or more splits."""
    expected = sorted(q for q, ids in relevant.items() if len({chunk_split[c] for c in ids}) > 1)
    ok = isinstance(answer, (list, tuple)) and list(answer) == expected
    return verdict(answer, ok,
                   f"{len(expected)} of {len(relevant)} questions would straddle two splits without grouping: each "
                   "would be trained on and tested at once. chunk_groups keeps their chunks together.",
                   "for each question, collect the splits of its relevant chunks (chunk_split[c] for c in its chunk "
                   "ids); keep the questions with more than one distinct split, as a sorted list of ids")


def check_ir_sizes(answer: Any, test_ir: dict) -> bool:
    """Notebook 02, exercise 3: (test questions, chunks each one searches) in the written test set."""
    expected = (len(test_ir["queries"]), len(test_ir["corpus"]))
    given = _pair_of_ints(answer)
    n_relevant = len({c for ids in test_ir["relevant_docs"].values() for c in ids})
    hint = "read the line 'test questions: ... | corpus searched at evaluation: ... chunks'"
    if given is not None and given[1] == n_relevant != expected[1]:
        hint = ("that is the number of chunks relevant to the test questions (the published 'test-chunks-only' "
                "protocol); here each question searches the whole corpus")
    return verdict(answer, given == expected,
                   f"{expected[0]} test questions, each searching all {expected[1]} chunks (whole corpus), as a "
                   "deployed retriever would.", hint)


def check_negatives(answer: int | None, batch_size: int = 16, accumulation: int = 4) -> bool:
    """03, exercise 2: in-batch negatives per question for a batch size and gradient accumulation."""
    expected = batch_size - 1
    if answer == batch_size * accumulation - 1:
        hint = ("gradient accumulation adds up the gradients of separate micro-batches; each question is only "
                "scored against the passages of its own micro-batch.")
    elif answer == batch_size:
        hint = "one of the batch's positives is the question's own chunk: it is the right answer, not a negative."
    else:
        hint = f"a question's negatives are the other positives in its batch of {batch_size}."
    return verdict(
        answer, answer == expected,
        f"{expected}: every other positive in the micro-batch of {batch_size}. Accumulation does not add negatives; "
        "CachedMultipleNegativesRankingLoss does.",
        hint,
    )


def check_hard_negative_candidates(answer: int | None, batch_size: int = 16, negatives_per_row: int = 1) -> bool:
    """03, exercise 3: wrong passages each question is ranked against when every row carries hard negatives."""
    expected = batch_size * (1 + negatives_per_row) - 1
    if answer == batch_size - 1 + negatives_per_row:
        hint = ("MultipleNegativesRankingLoss ranks each question against every passage of the batch: the other rows' "
                "hard negatives count too, not only its own.")
    elif answer == batch_size * (1 + negatives_per_row):
        hint = "one of the batch's passages is the question's own positive: it is the right answer, not a negative."
    elif answer == batch_size - 1:
        hint = "that is the count without hard negatives; each row now brings more passages into the batch."
    else:
        hint = f"count every passage in a batch of {batch_size} rows (positives and negatives), minus the right one."
    return verdict(
        answer, answer == expected,
        f"{expected}: {batch_size - 1} other positives and {batch_size * negatives_per_row} hard negatives of the "
        "batch. Each step encodes that many more passages, which is the time hard negatives cost.",
        hint,
    )


def check_loss(loss: Any, dims: list[int]) -> bool:
    """03, exercise 1: a MatryoshkaLoss around MultipleNegativesRankingLoss at exactly the model's dims."""
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    hint = ("build `MultipleNegativesRankingLoss(model)` and wrap it: `MatryoshkaLoss(model, inner, "
            "matryoshka_dims=dims)`.")
    if not is_blank(loss):
        if not isinstance(loss, MatryoshkaLoss):
            hint = f"that is a {type(loss).__name__}; the outer loss must be a MatryoshkaLoss. " + hint
        elif not isinstance(loss.loss, MultipleNegativesRankingLoss):
            hint = f"the MatryoshkaLoss wraps a {type(loss.loss).__name__}; wrap MultipleNegativesRankingLoss. " + hint
        elif sorted(loss.matryoshka_dims) != sorted(dims):
            missing = sorted(set(dims) - set(loss.matryoshka_dims), reverse=True)
            hint = (f"its dims are {list(loss.matryoshka_dims)}, the model's are {dims}"
                    + (f" (missing: {missing}; the full dim must be trained too)" if missing else "") + ".")
        else:
            hint = ""
    return verdict(
        loss, not hint,
        f"MatryoshkaLoss(MultipleNegativesRankingLoss) at dims {sorted(dims, reverse=True)}: the same loss "
        "`build_loss` makes.",
        hint,
    )


def check_peak_epoch(answer: float | None, history_csv) -> bool:
    """03, exercise 4: the epoch with the highest mean val ndcg@10 in a saved val curve."""
    import pandas as pd

    history = pd.read_csv(history_csv)
    best = history.loc[history["val_mean_ndcg@10"].idxmax()]
    last = history.iloc[-1]
    ok = not is_blank(answer) and math.isclose(float(answer), float(best.epoch))
    hint = ("read the `mean over dims` line (black) or the `val_mean_ndcg@10` column of the history table and "
            "find its highest row.")
    if not is_blank(answer) and math.isclose(float(answer), float(last.epoch)) and not ok:
        hint = "that is the last epoch; the peak comes earlier. " + hint
    return verdict(
        answer, ok,
        f"epoch {best.epoch:g}: mean val ndcg@10 {best['val_mean_ndcg@10']:.3f}, against "
        f"{last['val_mean_ndcg@10']:.3f} after the last epoch ({last.epoch:g}). Training past the peak made the model "
        "worse on new questions.",
        hint,
    )


def random_ndcg_at_10(n_chunks: int) -> float:
    """Expected ndcg@10 of a random ranking of ``n_chunks`` with one relevant chunk."""
    return sum(1 / math.log2(rank + 1) for rank in range(1, min(10, n_chunks) + 1)) / n_chunks


def check_random_ndcg(value: float | None, n_chunks: int = 12, corpus_chunks: int | None = None) -> bool:
    """04, exercise 3: the expected ndcg@10 of a random ranker over ``n_chunks`` candidates."""
    expected = random_ndcg_at_10(n_chunks)
    whole = (f"; over the whole corpus of {corpus_chunks} chunks a random ranker scores "
             f"{random_ndcg_at_10(corpus_chunks):.3f}" if corpus_chunks else "")
    ok = not is_blank(value) and math.isclose(float(value), expected, rel_tol=1e-6)
    hint = ("average 1/log2(rank+1) over the ranks 1..10 the relevant chunk can take (ranks 11 and beyond add 0); "
            f"each of the {n_chunks} ranks is equally likely, so divide the sum by {n_chunks}.")
    if not is_blank(value) and math.isclose(float(value), expected * n_chunks / 10, rel_tol=1e-6):
        hint = f"you divided by 10; the relevant chunk can land at any of {n_chunks} ranks. " + hint
    return verdict(
        value, ok,
        f"{expected:.3f}. A random ranker already scores {expected:.2f} when only {n_chunks} chunks compete, so 0.9 "
        f"or 1.0 under that protocol says little{whole}.",
        hint,
    )


def check_query_ndcg(value: float | None, hits: list[str], relevant: set[str], k: int = 10) -> bool:
    """04, exercise 1: ndcg@k of one ranked list, checked with the library's own DCG function."""
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    flags = [int(h in relevant) for h in hits]
    dcg = InformationRetrievalEvaluator.compute_dcg_at_k(flags, k)
    idcg = InformationRetrievalEvaluator.compute_dcg_at_k([1] * len(relevant), k)
    expected = dcg / idcg
    ok = not is_blank(value) and math.isclose(float(value), expected, abs_tol=1e-9)
    hint = ("DCG: add 1/log2(r+1) for each relevant chunk at rank r <= 10. IDCG: the DCG of the best ranking, all "
            "relevant chunks at ranks 1, 2, ...: add 1/log2(r+1) for r = 1..min(len(relevant), 10). Divide DCG by IDCG.")
    if not is_blank(value) and math.isclose(float(value), dcg, abs_tol=1e-9) and not math.isclose(dcg, expected):
        hint = "that is the DCG; divide it by the ideal DCG. " + hint
    return verdict(value, ok, f"ndcg@{k} = {dcg:.4f} / {idcg:.4f} = {expected:.4f}, as the library computes it.", hint)


def check_worse_count(answer: int | None, per_query_csv, dim: int, system: str = "matryoshka",
                      baseline: str = "base") -> bool:
    """04, exercise 2: how many test questions score a lower ndcg@10 with ``system`` than with ``baseline``."""
    import pandas as pd

    per_query = pd.read_csv(per_query_csv)
    at_dim = per_query[per_query.dim == dim].pivot(index="query_id", columns="system", values="ndcg@10")
    difference = at_dim[system] - at_dim[baseline]
    expected = int((difference < 0).sum())
    hint = (f"keep the rows at dim {dim}, put {system} and {baseline} side by side per query_id (e.g. `pivot`), and "
            "count the questions whose difference is below 0 (a tie is not worse).")
    if answer == int((difference <= 0).sum()) and answer != expected:
        hint = "you counted ties too; a question with the same score did not get worse. " + hint
    return verdict(
        answer, answer == expected,
        f"{expected} of {len(difference)} questions got worse at dim {dim}, {int((difference > 0).sum())} got better.",
        hint,
    )


# Notebook 05 ---------------------------------------------------------------------------------------------------------


def configs_within_budget(quant: pd.DataFrame, n_vectors: int, budget_bytes: int) -> pd.DataFrame:
    """The rows of notebook 05's quantization table whose ``n_vectors`` vectors fit in ``budget_bytes``."""
    return quant[quant["bytes"] * n_vectors <= budget_bytes]


def best_configs_within_budget(
    quant: pd.DataFrame, n_vectors: int, budget_bytes: int, metric: str = "ndcg@10"
) -> set[tuple[str, int, str]]:
    """Every (system, dim, precision) that fits and has the best ``metric`` among those that fit (ties kept)."""
    fits = configs_within_budget(quant, n_vectors, budget_bytes)
    if fits.empty:
        return set()
    best = fits[metric].max()
    top = fits[[math.isclose(v, best, abs_tol=1e-12) for v in fits[metric]]]
    return {(str(r.system), int(r.dim), str(r.precision)) for r in top.itertuples()}


def check_best_config_within_budget(
    answer: Any,
    quantization_csv: str | Path,
    n_vectors: int = 10_000_000,
    budget_bytes: int = 2**30,
    metric: str = "ndcg@10",
) -> bool:
    """Notebook 05: ``answer`` = (system, dim, precision) must be THE best-``metric`` row of the saved quantization
    table among those whose ``n_vectors`` vectors fit in ``budget_bytes``."""
    quant = pd.read_csv(quantization_csv)
    per_vector = budget_bytes / n_vectors
    hint = (f"{n_vectors:,} vectors in {budget_bytes / 2**30:.2f} GiB leave {per_vector:.0f} bytes per vector: keep "
            f"the rows of the table whose `bytes` fit, then take the one with the highest {metric}; answer "
            "(system, dim, precision), e.g. ('base', 128, 'float32').")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not (isinstance(answer, tuple | list) and len(answer) == 3):
        return verdict(answer, False, "", "answer a tuple (system, dim, precision). " + hint)
    system, dim, precision = answer
    row = quant[(quant.system == system) & (quant.dim == dim) & (quant.precision == precision)]
    if row.empty:
        return verdict(answer, False, "", (
            f"{answer} is not a row of the table: systems {sorted(set(quant.system))}, dims "
            f"{sorted(set(quant.dim), reverse=True)}, precisions {sorted(set(quant.precision))}."))
    size, score = int(row["bytes"].iloc[0]), float(row[metric].iloc[0])
    if size * n_vectors > budget_bytes:
        return verdict(answer, False, "", (
            f"{dim} dims in {precision} take {size} bytes per vector, {size * n_vectors / 2**30:.2f} GiB for "
            f"{n_vectors:,} vectors: over the budget of {budget_bytes / 2**30:.2f} GiB ({per_vector:.0f} bytes "
            "per vector). " + hint))
    best = best_configs_within_budget(quant, n_vectors, budget_bytes, metric)
    return verdict(
        answer,
        (system, int(dim), precision) in best,
        f"{system}, {dim} dims, {precision}: {size} bytes per vector ({size * n_vectors / 2**30:.2f} GiB) and "
        f"{metric} {score:.3f}, the best that fits. " + _budget_lesson(quant, n_vectors, budget_bytes, precision),
        f"{system}, {dim} dims, {precision} fits ({size} bytes per vector) with {metric} {score:.3f}, but another "
        "row that fits scores higher. " + hint,
    )


def _budget_lesson(quant: pd.DataFrame, n_vectors: int, budget_bytes: int, precision: str) -> str:
    """What the best configuration within a budget teaches, in one sentence."""
    fitting_float32 = configs_within_budget(quant[quant.precision == "float32"], n_vectors, budget_bytes)
    if fitting_float32.empty:
        return (f"No float32 row fits at any dim: truncation alone cannot meet this budget, truncation and "
                f"{precision} together can.")
    return "Compare it with the float32 rows that fit: fewer dims at full precision is not always the better trade."


def mean_by_dim(per_query: pd.DataFrame, system: str, metric: str = "ndcg@10") -> pd.Series:
    """Mean ``metric`` of one system per Matryoshka dim (BM25's dim 0 left out)."""
    rows = per_query[(per_query.system == system) & (per_query.dim > 0)]
    return rows.groupby("dim")[metric].mean()


def smallest_dim_keeping(per_query: pd.DataFrame, system: str, share: float = 0.95, metric: str = "ndcg@10") -> int:
    """The smallest dim whose mean ``metric`` is at least ``share`` of the system's own full-dim mean."""
    means = mean_by_dim(per_query, system, metric)
    full = means.loc[means.index.max()]
    return int(means[means >= share * full].index.min())


def check_dim_keeping_share(
    answer: Any, per_query_csv: str | Path, system: str = "matryoshka", share: float = 0.95, metric: str = "ndcg@10"
) -> bool:
    """Notebook 05: the smallest dim at which ``system`` keeps ``share`` of its full-dim ``metric``
    (notebook 04's per-query results)."""
    means = mean_by_dim(pd.read_csv(per_query_csv), system, metric)
    full_dim = int(means.index.max())
    hint = (f"in the ratio table, read the column '{system}' from the bottom (smallest dim) up and stop at the first "
            f"dim whose ratio to full dim is at least {share}; answer that dim, one of {sorted(means.index)}.")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not isinstance(answer, numbers.Real) or answer not in set(means.index):
        return verdict(answer, False, "", f"{answer!r} is not a Matryoshka dim of this model. " + hint)
    answer = int(answer)
    expected = smallest_dim_keeping(pd.read_csv(per_query_csv), system, share, metric)
    ratio = means.loc[answer] / means.loc[full_dim]
    if ratio < share:
        return verdict(answer, False, "", f"at dim {answer} {system} keeps {ratio:.1%} of its full-dim {metric}, "
                                          f"under {share:.0%}. " + hint)
    return verdict(
        answer,
        answer == expected,
        f"dim {expected} keeps {ratio:.1%} of the full-dim {metric} with {expected} of {full_dim} numbers per "
        "vector. The ratio is a point estimate: read it with the confidence bands before promising it to anyone.",
        f"dim {answer} keeps {ratio:.1%}, but a smaller dim also keeps {share:.0%}. " + hint,
    )


def dims_with_paired_difference(
    bootstrap: pd.DataFrame, system: str, baseline: str, metric: str = "ndcg@10"
) -> set[int]:
    """Dims where notebook 04's paired 95% interval of (system - baseline) excludes 0."""
    rows = bootstrap[(bootstrap.system == system) & (bootstrap.baseline == baseline) & (bootstrap.metric == metric)]
    return {int(r.dim) for r in rows.itertuples() if r.ci_low > 0 or r.ci_high < 0}


def dims_with_overlapping_bands(per_query: pd.DataFrame, system: str, baseline: str, metric: str = "ndcg@10") -> set[int]:
    """Dims where the per-system 95% bands of notebook 05's first plot overlap (same bootstrap, same seed)."""
    from helpers.plots import ndcg_by_dim

    pair = per_query[per_query.system.isin([system, baseline]) & (per_query.dim > 0)]
    if set(pair.system) != {system, baseline}:
        return set()
    bands = ndcg_by_dim(pair, metric).set_index(["system", "dim"])
    dims = {int(d) for d in bands.loc[system].index} & {int(d) for d in bands.loc[baseline].index}
    return {d for d in dims if bands.loc[(system, d), "ci_low"] <= bands.loc[(baseline, d), "ci_high"]
            and bands.loc[(baseline, d), "ci_low"] <= bands.loc[(system, d), "ci_high"]}


def check_paired_difference_dims(
    answer: Any,
    bootstrap_csv: str | Path,
    per_query_csv: str | Path,
    system: str = "matryoshka",
    baseline: str = "base",
    metric: str = "ndcg@10",
) -> bool:
    """Notebook 05: the set of dims where the paired interval of (``system`` - ``baseline``) excludes 0."""
    hint = (f"in the table of paired differences, keep the rows {system} − {baseline}; a dim belongs to the answer "
            "when its interval [ci_low, ci_high] does not contain 0 (both ends above 0, or both below). Answer a set "
            "of dims, e.g. {384, 64}, or set() if there is none.")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    try:
        chosen = {int(d) for d in answer}
    except (TypeError, ValueError):
        return verdict(answer, False, "", hint)
    expected = dims_with_paired_difference(pd.read_csv(bootstrap_csv), system, baseline, metric)
    if chosen != expected:
        extra, missing = sorted(chosen - expected, reverse=True), sorted(expected - chosen, reverse=True)
        detail = (f"at dim {extra[0]} the interval contains 0 (or that dim was not evaluated). " if extra
                  else f"{len(missing)} dim(s) with an interval clear of 0 are missing. ")
        return verdict(answer, False, "", detail + hint)
    overlap = expected & dims_with_overlapping_bands(pd.read_csv(per_query_csv), system, baseline, metric)
    return verdict(
        answer,
        True,
        f"{len(expected)} dim(s) {sorted(expected, reverse=True)} show a difference the test set supports; at "
        f"{len(overlap)} of them {sorted(overlap, reverse=True)} the per-system bands of the first plot overlap "
        "anyway. Both systems answer the same questions, so the paired interval removes the question-to-question "
        "spread that widens each band: overlapping bands do not mean 'no difference'.",
        hint,
    )


# Notebook 06 ---------------------------------------------------------------------------------------------------------


def _scores_by_chunk(playground: Any, question: str, dim: int, system: str) -> tuple[dict[str, float], list[str]]:
    """``system``'s score for every chunk, and its full ranking, from ``playground.search``."""
    hits = playground.search(question, dim, k=len(playground.corpus_ids))
    rows = hits[hits.system == system]
    return dict(zip(rows.chunk_id, rows.score)), list(rows.chunk_id)


def check_ranking_by_hand(
    positions: Any, playground: Any, question: str, dim: int, k: int, system: str = "matryoshka"
) -> bool:
    """Notebook 06: the corpus positions of the top-``k`` chunks for ``question`` at ``dim``, ranked by hand, must
    be ``search()``'s top ``k`` for ``system`` (chunks with equal scores may come in either order)."""
    hint = (f"cut the query vector and every corpus vector to their first {dim} numbers, divide each corpus row by "
            "its own length (a cut unit vector is no longer unit length), take the dot products, and return the "
            f"positions of the {k} highest scores, highest first (np.argsort sorts from lowest to highest).")
    if is_blank(positions):
        return verdict(positions, False, "", hint)
    try:
        chosen = [playground.corpus_ids[int(p)] for p in list(positions)]
    except (TypeError, ValueError, IndexError):
        return verdict(positions, False, "", f"return {k} corpus positions (integers). " + hint)
    if len(chosen) != k or len(set(chosen)) != k:
        return verdict(positions, False, "", f"return {k} different positions, got {len(chosen)}. " + hint)
    scores, ranking = _scores_by_chunk(playground, question, dim, system)
    expected = ranking[:k]
    same = chosen == expected or all(
        math.isclose(scores[c], scores[e], abs_tol=1e-5) for c, e in zip(chosen, expected)
    )
    return verdict(
        positions,
        same,
        f"your top {k} at dim {dim} is search()'s: a Matryoshka search is a slice, a re-normalisation, a dot product "
        "and a sort, nothing more.",
        hint,
    )


def check_bm25_beats_fine_tuned(answer: Any, playground: Any, system: str = "matryoshka") -> bool:
    """Notebook 06: ``answer`` = (test question, dim) where BM25 ranks the relevant chunk strictly higher than
    ``system`` at that dim."""
    hint = ("pick a question from the playground's test set (pg.questions) and a dim from pg.dims where BM25's "
            "'relevant chunk at rank' is smaller than the fine-tuned model's; answer (question text, dim).")
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not (isinstance(answer, tuple | list) and len(answer) == 2 and isinstance(answer[0], str)):
        return verdict(answer, False, "", hint)
    question, dim = answer
    if question.strip() not in {q.strip() for q in playground.questions.values()}:
        return verdict(answer, False, "", "that text is not one of the test questions (copy it exactly, so the "
                                          "playground knows its relevant chunk). " + hint)
    if dim not in playground.dims:
        return verdict(answer, False, "", f"dim {dim} is not one of {playground.dims}. " + hint)
    ranks = playground.search(question, dim, k=1).groupby("system", sort=False)["relevant_rank"].first()
    bm25_rank, tuned_rank = int(ranks["BM25"]), int(ranks[system])
    return verdict(
        answer,
        bm25_rank < tuned_rank,
        f"BM25 puts the relevant chunk at rank {bm25_rank}, the fine-tuned model at rank {tuned_rank} (dim {dim}). "
        "Look at the question's words: exact terms (names, numbers, rare words) shared with the chunk are what BM25 "
        "rewards and what a small embedding can blur.",
        f"at dim {dim}, BM25 ranks the relevant chunk {bm25_rank}, the fine-tuned model {tuned_rank}: BM25 must be "
        "strictly better (a smaller rank). " + hint,
    )


def check_accuracy_at_3_by_search(share: Any, playground: Any, dim: int, system: str = "matryoshka") -> bool:
    """Notebook 06: the share of test questions whose relevant chunk ``system`` ranks in the top 3 at ``dim``,
    recomputed with ``playground.search``."""
    hint = (f"call search(question, dim={dim}, k=3) for every test question, keep the rows of system '{system}', "
            "and count the questions where any row has relevant == True; divide by the number of test questions "
            f"({len(playground.questions)}): a number between 0 and 1.")
    if is_blank(share):
        return verdict(share, False, "", hint)
    hits = [playground.search(q, dim, 3) for q in playground.questions.values()]
    expected = sum(bool(h[h.system == system].relevant.any()) for h in hits) / len(hits)
    try:
        ok = math.isclose(float(share), expected, abs_tol=1e-9)
    except (TypeError, ValueError):
        ok = False
    return verdict(
        share,
        ok,
        f"{expected:.1%} of test questions have their chunk in the top 3 at dim {dim}: notebook 04's accuracy@3 for "
        f"{system} at dim {dim} in results/summary.csv, up to floating-point ties.",
        hint,
    )


def best_index_for_budget(scale: pd.DataFrame, n_vectors: int, budget_mib: float,
                          max_p95_ms: float) -> tuple[set[str], pd.DataFrame]:
    """Notebook 07: at the largest size timed, the configurations with the best ndcg@10 among those whose index,
    scaled to ``n_vectors``, fits ``budget_mib`` and whose p95 latency is at most ``max_p95_ms``."""
    from helpers.vector_index import budget_table

    table = budget_table(scale, n_vectors, budget_mib, max_p95_ms)
    fits = table[table.fits]
    if fits.empty:
        return set(), table
    best = fits["ndcg@10"].max()
    return set(fits.config[(fits["ndcg@10"] - best).abs() <= 1e-12]), table


def check_index_budget(answer: Any, scale: pd.DataFrame, n_vectors: int = 1_000_000, budget_mib: float = 256,
                       max_p95_ms: float = 5) -> bool:
    """Notebook 07, exercise 1: the best configuration (by ndcg@10 at scale) for a memory and latency budget."""
    largest = int(scale.vectors.max())
    hint = (f"keep the rows of `scale` at {largest:,} vectors whose index_mib / {largest:,} x {n_vectors:,} is at "
            f"most {budget_mib} MiB and whose p95_ms is at most {max_p95_ms}; among them, take the one with the "
            "highest ndcg@10. Answer with its `config` text.")
    best, table = best_index_for_budget(scale, n_vectors, budget_mib, max_p95_ms)
    if is_blank(answer):
        return verdict(answer, False, "", hint)
    if not best:
        return verdict(answer, False, "", "nothing fits this budget at these sizes: loosen it (more MiB or ms).")
    if isinstance(answer, str) and answer in set(table.config) and answer not in best:
        row = table.set_index("config").loc[answer]
        why = ("it does not fit: " + f"{row.index_mib_at_n:.0f} MiB, p95 {row.p95_ms:.2f} ms. "
               if not row.fits else f"it fits, but another that fits scores higher than its {row['ndcg@10']:.3f}. ")
        return verdict(answer, False, "", why + hint)
    pick = table.set_index("config").loc[sorted(best)[0]]
    return verdict(
        answer,
        isinstance(answer, str) and answer in best,
        f"{answer}: ndcg@10 {pick['ndcg@10']:.3f} at {largest:,} vectors, {pick.index_mib_at_n:.0f} MiB for "
        f"{n_vectors:,} vectors, p95 {pick.p95_ms:.2f} ms. Its re-ranking vectors, if any, stay on disk and are read "
        "for the shortlist only.",
        hint,
    )


def smallest_rescore_multiplier(enc: Any, target: float = 0.95, candidates: tuple[int, ...] = (1, 2, 4, 8, 16),
                                k: int = 10) -> int | None:
    """Notebook 07: the smallest multiplier whose binary-at-full-dim, rescored-at-full-dim top ``k`` has mean
    recall against exact float32 search of at least ``target``."""
    from helpers.evaluation import truncate_normalize
    from helpers.index_recipes import IndexConfig, build, search
    from helpers.vector_index import recall_against

    full = enc.corpus.shape[1]
    corpus = truncate_normalize(enc.corpus, full)
    exact, _ = search(IndexConfig("flat", full), build(IndexConfig("flat", full), corpus), enc.queries, k)
    binary = build(IndexConfig("binary", full), corpus)
    for multiplier in candidates:
        ids, _ = search(IndexConfig("binary", full, full, multiplier), binary, enc.queries, k, corpus)
        if recall_against(ids, exact).mean() >= target:
            return multiplier
    return None


def check_rescore_multiplier(answer: Any, enc: Any, target: float = 0.95,
                             candidates: tuple[int, ...] = (1, 2, 4, 8, 16)) -> bool:
    """Notebook 07, exercise 2: the smallest rescore multiplier reaching ``target`` recall@10 against exact search."""
    hint = (f"for each multiplier m in {list(candidates)}, search with IndexConfig('binary', {enc.corpus.shape[1]}, "
            f"{enc.corpus.shape[1]}, m) and compare its top 10 with IndexConfig('flat', {enc.corpus.shape[1]})'s using "
            f"recall_against; the answer is the first m whose mean is at least {target}.")
    expected = smallest_rescore_multiplier(enc, target, candidates)
    return verdict(
        answer,
        expected is not None and isinstance(answer, numbers.Integral) and int(answer) == expected,
        f"x{expected}: a shortlist of {10 * (expected or 0)} binary hits holds {target:.0%} of the exact top 10 here; "
        "a larger corpus has more near-ties and needs a deeper shortlist (see the scale table).",
        hint,
    )
