"""Training and evaluation feed the model the same query text.

A tiny BERT is saved with a query prompt (as snowflake-arctic-embed-l is) and another without.
Spying on the BERT forward pass while ``helpers.training.runs.train`` runs shows exactly which token
sequences reach the model: train anchors come only from the Trainer's collator, val questions
only from the evaluator (``MatryoshkaIREvaluator`` -> ``encode_ir`` -> ``encode_query``). Both
must be the tokens of prompt + question when the model has a prompt, and of the bare question
when it has none; passages never carry the prompt.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from gpu_check_loader import load_gpu_check

ROOT = Path(__file__).resolve().parents[1]
PROMPT = "Represent this sentence for searching relevant passages: "

ANCHORS = [f"which training question number {w} asks about retrieval" for w in
           ("one", "two", "three", "four", "five", "six", "seven", "eight")]
POSITIVES = [f"passage {w} explains inverted indexes and ranking in detail" for w in
             ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta")]
VAL_IR = {
    "queries": {"v1": "which validation question asks about bm25", "v2": "which validation question asks about tfidf",
                "v3": "which validation question asks about embeddings"},
    "corpus": {"c1": "bm25 weighs term frequency with saturation", "c2": "tfidf multiplies term and inverse document "
               "frequency", "c3": "dense embeddings map text to vectors", "c4": "an unrelated passage about cooking"},
    "relevant_docs": {"v1": {"c1"}, "v2": {"c2"}, "v3": {"c3"}},
}



@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    gpu_check = load_gpu_check()
    tmp = tmp_path_factory.mktemp("prompts")
    shape = dict(gpu_check.TINY_SHAPE)
    return {
        "with": gpu_check.build_random_bert(shape, tmp / "with-prompt", pooling="mean", prompts={"query": PROMPT}),
        "without": gpu_check.build_random_bert(shape, tmp / "no-prompt", pooling="mean"),
    }


def run_training_and_capture(model_dir: Path, out_dir: Path, monkeypatch) -> list[tuple[int, ...]]:
    """Train one epoch with ``helpers.training.runs.train``; return every token sequence (padding
    removed) that went through the BERT forward pass, in training and in evaluation."""
    from transformers import BertModel

    from helpers.config import get_profile
    from helpers.lessons.recipe import fine_tune as train

    seen: list[tuple[int, ...]] = []
    real_forward = BertModel.forward

    def spy(self, *args, **kwargs):
        ids = kwargs.get("input_ids", args[0] if args else None)
        mask = kwargs.get("attention_mask")
        for row, keep in zip(ids.tolist(), mask.tolist()):
            seen.append(tuple(t for t, m in zip(row, keep) if m))
        return real_forward(self, *args, **kwargs)

    monkeypatch.setattr(BertModel, "forward", spy)
    profile = get_profile("smoke", model=str(model_dir), epochs=1, batch_size=4, max_seq_length=64)
    pairs = [{"anchor": a, "positive": p} for a, p in zip(ANCHORS, POSITIVES)]
    val_ir = {**VAL_IR, "relevant_docs": {q: set(d) for q, d in VAL_IR["relevant_docs"].items()}}
    train(profile, pairs, val_ir, out_dir, progress=False)
    return seen


def sequences_containing(seen, texts: list[str], tokenizer) -> dict[str, set[tuple[int, ...]]]:
    """For each text, the distinct sequences seen that contain its tokens (without [CLS]/[SEP])."""
    found = {}
    for text in texts:
        core = ",".join(map(str, tokenizer(text, add_special_tokens=False)["input_ids"]))
        found[text] = {row for row in seen if f",{core}," in "," + ",".join(map(str, row)) + ","}
    return found


def expected(tokenizer, text: str) -> set[tuple[int, ...]]:
    return {tuple(tokenizer(text)["input_ids"])}


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(load_gpu_check().bundled_model_path())


def test_loaded_model_keeps_its_query_prompt(tiny_models):
    from helpers.training.modeling import load_model, query_prompt

    assert query_prompt(load_model(str(tiny_models["with"]), device="cpu")) == PROMPT
    assert query_prompt(load_model(str(tiny_models["without"]), device="cpu")) is None


def test_trainer_and_evaluator_both_prefix_queries(tiny_models, tokenizer, tmp_path, monkeypatch):
    seen = run_training_and_capture(tiny_models["with"], tmp_path / "run", monkeypatch)
    anchors = sequences_containing(seen, ANCHORS, tokenizer)
    questions = sequences_containing(seen, list(VAL_IR["queries"].values()), tokenizer)
    # The Trainer (anchors) and the evaluator (val questions) feed prompt + question, and nothing else.
    for text, found in {**anchors, **questions}.items():
        assert found == expected(tokenizer, PROMPT + text), f"{text!r}: {found}"
    # Passages (training positives, val corpus) go in without the query prompt.
    for text, found in sequences_containing(seen, POSITIVES + list(VAL_IR["corpus"].values()), tokenizer).items():
        assert found == expected(tokenizer, text), f"{text!r}: {found}"


def test_model_without_prompt_gets_plain_questions(tiny_models, tokenizer, tmp_path, monkeypatch):
    seen = run_training_and_capture(tiny_models["without"], tmp_path / "run", monkeypatch)
    anchors = sequences_containing(seen, ANCHORS, tokenizer)
    questions = sequences_containing(seen, list(VAL_IR["queries"].values()), tokenizer)
    for text, found in {**anchors, **questions}.items():
        assert found == expected(tokenizer, text), f"{text!r}: {found}"
    prompt_core = tuple(tokenizer(PROMPT, add_special_tokens=False)["input_ids"])
    assert not any(row[1 : 1 + len(prompt_core)] == prompt_core for row in seen)
