"""Training: a run stopped after an epoch resumes from its checkpoint; the val curve survives."""

from __future__ import annotations

from pathlib import Path

from helpers.config import get_profile
from helpers.dataset import ir_split, split_questions, training_pairs
from helpers.training import train


def test_interrupted_run_resumes_from_its_checkpoint(course_data, tmp_path: Path):
    splits = split_questions(course_data, "chunks", 0.15, 0.2, seed=3)
    pairs = training_pairs(course_data, splits["train"][:32])
    val_ir = ir_split(course_data, splits["val"][:16])
    out = tmp_path / "run"
    # The first run stands for a crash after epoch 1 of 2: it leaves only the epoch-1 checkpoint.
    first = train(get_profile("smoke", epochs=1, max_seq_length=64), pairs, val_ir, out, progress=False)
    assert not first.resumed
    assert list(first.val_history.epoch) == [0.0, 1.0]
    second = train(get_profile("smoke", epochs=2, max_seq_length=64), pairs, val_ir, out, progress=False)
    assert second.resumed
    assert list(second.val_history.epoch) == [0.0, 1.0, 2.0]
    assert second.best_epoch in (1.0, 2.0)
    assert (out / "model" / "model.safetensors").exists()
    assert (out / "val_history.csv").read_text().count("\n") == 4
