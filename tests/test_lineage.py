"""Lineage: every output records the content it was made from, and ``require`` refuses one whose inputs changed.

Unit tests build a hand-made chain on temp folders; the course tests run notebooks 01-02's steps under ``smoke`` on
a fixture corpus, with the bundled model saved and recorded as notebook 03's training records it (no training).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from helpers.data.lineage import (
    LINEAGE_DIR,
    LineageWarning,
    MissingStepError,
    StaleOutputError,
    check,
    content_digest,
    folder_files,
    record,
)

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "tests" / "fixtures" / "wrapped_docs"
PAIR_FILES = ["train.jsonl", "val_ir.json", "test_ir.json", "splits.json"]


def make_chain(outputs: Path, chunk_size: int = 750) -> Path:
    """corpus.jsonl -> chunks.jsonl -> pairs/ -> matryoshka/model -> results/summary.csv, each recorded."""
    outputs.mkdir(parents=True, exist_ok=True)
    (outputs / "corpus.jsonl").write_text('{"name": "a.md", "text": "alpha beta"}\n')
    record(outputs, "corpus.jsonl", settings={"documents": 1})
    remake_chunks(outputs, chunk_size)
    remake_pairs(outputs, test="q1")
    model = outputs / "matryoshka" / "model"
    (model / "1_Pooling").mkdir(parents=True)
    (model / "model.safetensors").write_bytes(b"weights" * 100)
    (model / "1_Pooling" / "config.json").write_text("{}")
    record(outputs, "matryoshka/model", ["pairs/train.jsonl", "pairs/val_ir.json"], {"epochs": 1})
    (outputs / "results").mkdir()
    (outputs / "results" / "summary.csv").write_text("system,dim\nbase,384\n")
    record(outputs, "results/summary.csv", ["pairs/test_ir.json", "matryoshka/model"], {"protocol": "whole-corpus"})
    return outputs


def remake_chunks(outputs: Path, chunk_size: int) -> None:
    (outputs / "chunks.jsonl").write_text(f'{{"id": "a.md#0", "size": {chunk_size}}}\n')
    record(outputs, "chunks.jsonl", ["corpus.jsonl"], {"chunk_size": chunk_size})


def remake_pairs(outputs: Path, test: str) -> None:
    pairs = outputs / "pairs"
    pairs.mkdir(exist_ok=True)
    for name in PAIR_FILES:
        (pairs / name).write_text(f"{name}: {test if name == 'test_ir.json' else 'same'}\n")
    record(outputs, "pairs", ["chunks.jsonl", "corpus.jsonl"], {"route": "ict"}, files=PAIR_FILES)


def test_a_fingerprint_is_of_content_not_of_place_time_checkpoints_or_card(tmp_path):
    a = tmp_path / "a"
    (a / "sub").mkdir(parents=True)
    (a / "config.json").write_text("{}")
    (a / "sub" / "weights.bin").write_bytes(b"\0\1\2")
    (a / "checkpoints" / "checkpoint-1").mkdir(parents=True)
    (a / "checkpoints" / "checkpoint-1" / "optimizer.pt").write_bytes(b"state")
    (a / "README.md").write_text("model card")
    (a / "train.log").write_text("log")
    assert folder_files(a) == ["config.json", "sub/weights.bin"]
    digest = content_digest(a)
    b = tmp_path / "elsewhere" / "b"
    shutil.copytree(a, b)
    os.utime(b / "config.json", (1, 1))
    (b / "checkpoints" / "checkpoint-1" / "optimizer.pt").write_bytes(b"other state")
    (b / "README.md").write_text("edited card")
    assert content_digest(b) == digest
    (b / "sub" / "weights.bin").write_bytes(b"\0\1\3")  # one byte
    assert content_digest(b) != digest


def test_an_unchanged_chain_passes_and_stays_valid_when_moved(tmp_path):
    outputs = make_chain(tmp_path / "outputs" / "smoke")
    for relative in ("corpus.jsonl", "chunks.jsonl", "pairs/test_ir.json", "matryoshka/model", "results/summary.csv"):
        check(outputs, relative)
    moved = tmp_path / "renamed" / "smoke"
    shutil.move(str(tmp_path / "outputs"), str(tmp_path / "renamed"))
    check(moved, "results/summary.csv")


def test_a_changed_byte_makes_the_output_and_what_follows_stale(tmp_path):
    outputs = make_chain(tmp_path / "smoke")
    text = (outputs / "chunks.jsonl").read_text()
    (outputs / "chunks.jsonl").write_text(text.replace("750", "751"))  # same size, edited by hand
    with pytest.raises(StaleOutputError, match="chunks.jsonl changed after 01_load_corpus wrote it"):
        check(outputs, "chunks.jsonl")
    with pytest.raises(StaleOutputError, match=r"notebooks/01_load_corpus\.ipynb, then 02_build_pairs, "
                                               r"03_train_matryoshka"):
        check(outputs, "matryoshka/model", "with LAB_PROFILE=smoke")
    fresh = make_chain(tmp_path / "fresh")
    (fresh / "matryoshka" / "model" / "model.safetensors").write_bytes(b"other" * 100)
    with pytest.raises(StaleOutputError, match=r"matryoshka/model/ changed after .* \(model\.safetensors\)"):
        check(fresh, "matryoshka/model/1_Pooling/config.json")  # a file in it: the whole model is checked
    (fresh / "matryoshka" / "model" / "1_Pooling" / "config.json").unlink()
    with pytest.raises(StaleOutputError, match=r"\(1_Pooling/config\.json, model\.safetensors\)"):
        check(fresh, "matryoshka/model")


def test_a_re_made_input_says_what_changed_and_which_notebook_to_re_run(tmp_path):
    outputs = make_chain(tmp_path / "smoke")
    remake_chunks(outputs, chunk_size=400)  # notebook 01 ran again with other settings
    check(outputs, "chunks.jsonl")
    with pytest.raises(StaleOutputError) as stale:
        check(outputs, "matryoshka/model", "with LAB_PROFILE=smoke")
    message = str(stale.value)
    assert "pairs/ was made from chunks.jsonl" in message and "notebook 01 ran again" in message
    assert "settings then: chunk_size=750; now: chunk_size=400" in message
    assert "Re-run notebooks/02_build_pairs.ipynb, then 03_train_matryoshka" in message
    assert message.endswith("with LAB_PROFILE=smoke.")


def test_a_new_test_set_leaves_the_model_valid_but_not_the_results(tmp_path):
    outputs = make_chain(tmp_path / "smoke")
    remake_pairs(outputs, test="q2")  # notebook 02 again: only the test set differs
    check(outputs, "matryoshka/model")  # trained on train and val only
    with pytest.raises(StaleOutputError, match=r"(?s)results/summary\.csv was made from pairs/test_ir\.json .*"
                                               r"Re-run notebooks/04_evaluate_retrieval"):
        check(outputs, "results/summary.csv")


def test_an_output_without_a_record_is_stale_in_a_recorded_folder_and_a_warning_in_an_old_one(tmp_path):
    outputs = make_chain(tmp_path / "smoke")
    (outputs / LINEAGE_DIR / "matryoshka" / "model.json").unlink()
    with pytest.raises(StaleOutputError, match="matryoshka/model has no lineage record"):
        check(outputs, "matryoshka/model")
    with pytest.raises(StaleOutputError, match="no lineage record"):
        check(outputs, "results/summary.csv")  # its input is the unrecorded model
    check(outputs, "plots/ndcg_vs_dim.png")  # not an output that steps record
    shutil.rmtree(outputs / LINEAGE_DIR)  # a folder made before lineage existed
    with pytest.warns(LineageWarning, match="made before the course recorded"):
        check(outputs, "matryoshka/model")


def test_a_model_trained_on_pairs_that_match_no_folder_is_stale(tmp_path):
    outputs = make_chain(tmp_path / "smoke")
    record(outputs, "matryoshka/model", [], unknown_inputs="was trained on pairs that match none under pairs/ now")
    with pytest.raises(StaleOutputError, match=r"(?s)match none under pairs/.*notebooks/03_train_matryoshka"):
        check(outputs, "matryoshka/model")


def test_stale_is_a_missing_step_for_existing_except_clauses():
    from helpers import pipeline

    assert issubclass(StaleOutputError, MissingStepError) and issubclass(StaleOutputError, FileNotFoundError)
    assert pipeline.MissingStepError is MissingStepError and pipeline.StaleOutputError is StaleOutputError


def test_a_finished_run_chosen_on_another_val_set_is_not_reused(tmp_path, capsys):
    from helpers.training.runs import TrainingRun, same_val_or_afresh

    checkpoints = tmp_path / "checkpoints" / "key"
    (checkpoints / "checkpoint-3").mkdir(parents=True)
    run = TrainingRun(tmp_path, {}, "key", checkpoints, str(checkpoints / "checkpoint-3"))
    val = SimpleNamespace(ir={"queries": {"q": "a question"}, "corpus": {"c": "a passage"},
                              "relevant_docs": {"q": {"c"}}})
    same_val_or_afresh(run, val)  # first sight of this val set
    same_val_or_afresh(run, SimpleNamespace(ir={**val.ir, "relevant_docs": {"q": ["c"]}}))  # the same, as a list
    assert run.resume_from
    other = SimpleNamespace(ir={**val.ir, "queries": {"q": "another question"}})
    same_val_or_afresh(run, other)
    assert run.resume_from is None and not (checkpoints / "checkpoint-3").exists()
    assert "the val set changed" in capsys.readouterr().out


def test_other_training_pairs_give_another_recipe_key(tmp_path):
    from helpers.config import get_profile
    from helpers.lessons.recipe import training_arguments
    from helpers.training.runs import recipe_of

    args = training_arguments(get_profile("smoke"), tmp_path, prompt=None)
    keys = {start_key(tmp_path, recipe_of(args, object(), "m", [{"anchor": a, "positive": "p"}], True))
            for a in ("a question", "another question")}
    assert len(keys) == 2


def start_key(tmp_path: Path, recipe: dict) -> str:
    from helpers.training.runs import start_run

    return start_run(tmp_path / "run", recipe).key


# ----------------------------------------------------------------------------- the course's steps

@pytest.fixture(scope="module")
def course(tmp_path_factory, bundled_model):
    """Notebooks 01-02's steps on the fixture corpus, and a stand-in for 03: the bundled model saved and recorded
    by the function ``finish_run`` calls, with a trainer that read notebook 02's files."""
    from helpers.config import get_profile
    from helpers.data.dataset import load_ir, load_pairs
    from helpers.pipeline import step_build_pairs, step_load_corpus
    from helpers.training.runs import TrainingRun, record_model

    patch = pytest.MonkeyPatch()
    for name in [k for k in os.environ if k.startswith(("LAB_", "OPENAI_"))]:
        patch.delenv(name)
    root = tmp_path_factory.mktemp("lineage")
    for name, value in {"LAB_PROFILE": "smoke", "LAB_CORPUS": str(DOCS), "LAB_QUESTIONS": "ict",
                        "LAB_OUTPUTS": str(root / "outputs"), "HF_HUB_OFFLINE": "1"}.items():
        patch.setenv(name, value)
    profile = get_profile("smoke")
    step_load_corpus(profile)
    step_build_pairs(profile)
    out = profile.outputs / "matryoshka"
    bundled_model.save(str(out / "model"))
    pairs, val_ir = load_pairs(out.parent / "pairs" / "train.jsonl"), load_ir(out.parent / "pairs" / "val_ir.json")
    trainer = SimpleNamespace(evaluator=SimpleNamespace(ir=val_ir), train_dataset={"anchor": [p["anchor"] for p in pairs]})
    run = TrainingRun(out, {"matryoshka": True, "train_pairs": len(pairs)}, "stand-in", out / "checkpoints", None)
    record_model(run, trainer, profile, out / "model")
    yield profile
    patch.undo()


def test_unchanged_outputs_pass_require_and_evaluate_and_so_does_a_copy(course, tmp_path, monkeypatch):
    from helpers.cli import main
    from helpers.config import get_profile
    from helpers.pipeline import require

    for relative in ("corpus.jsonl", "chunks.jsonl", "pairs/test_ir.json", "matryoshka/model"):
        require(course, relative)
    assert main(["evaluate", "--profile", "smoke"]) == 0
    require(course, "results/per_query.csv")
    shutil.copytree(course.outputs, tmp_path / "copy" / "smoke")  # (outputs follows $LAB_OUTPUTS)
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "copy"))
    for relative in ("pairs/val_ir.json", "matryoshka/model", "results/summary.csv"):
        require(get_profile("smoke"), relative)


def test_re_running_01_02_on_another_corpus_makes_the_model_stale(course, tmp_path, monkeypatch):
    from helpers.config import get_profile
    from helpers.pipeline import require, step_build_pairs, step_load_corpus

    shutil.copytree(course.outputs, tmp_path / "outputs" / "smoke")
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path / "outputs"))
    other = tmp_path / "other_docs"
    other.mkdir()
    for name in ("commands.md", "configuration.md", "install.md", "storage.md"):
        shutil.copy(DOCS / name, other / name)
    monkeypatch.setenv("LAB_CORPUS", str(other))
    profile = get_profile("smoke")
    step_load_corpus(profile)  # notebook 01 again, another corpus
    with pytest.raises(StaleOutputError, match=r"(?s)pairs/ was made from chunks\.jsonl .*corpus=wrapped_docs.*"
                                               r"corpus=other_docs.*Re-run notebooks/02_build_pairs\.ipynb"):
        require(profile, "pairs/test_ir.json")
    step_build_pairs(profile)  # and notebook 02
    require(profile, "pairs/test_ir.json")
    with pytest.raises(StaleOutputError, match=r"(?s)matryoshka/model/ was made from pairs/train\.jsonl .*"
                                               r"Re-run notebooks/03_train_matryoshka\.ipynb"):
        require(profile, "matryoshka/model")
    run = subprocess.run([sys.executable, "-m", "helpers", "evaluate", "--profile", "smoke"], capture_output=True,
                         text=True, cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=600)
    assert run.returncode == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "matryoshka/model is stale" in run.stderr and "notebooks/03_train_matryoshka.ipynb" in run.stderr
    assert "Traceback" not in run.stderr
