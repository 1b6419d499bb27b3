"""Training plumbing: a crashed run resumes from its checkpoint (the val curve survives), and only the same recipe
resumes: a changed setting trains afresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers import TrainerCallback

from helpers.config import get_profile
from helpers.data.dataset import ir_split, split_questions, training_pairs
from helpers.lessons.recipe import fine_tune
from helpers.training.runs import start_run


class CrashAfterFirstSave(TrainerCallback):
    """Stands for a crash (power cut, Ctrl-C) right after epoch 1's checkpoint is written."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt("simulated crash after the first checkpoint")


@pytest.fixture(scope="module")
def small_run(course_data):
    splits = split_questions(course_data, "chunks", 0.15, 0.2, seed=3)
    return training_pairs(course_data, splits["train"][:32]), ir_split(course_data, splits["val"][:16])


def test_crashed_run_resumes_from_its_checkpoint(small_run, tmp_path: Path):
    pairs, val_ir = small_run
    out = tmp_path / "run"
    profile = get_profile("smoke", epochs=2, max_seq_length=64)
    with pytest.raises(KeyboardInterrupt):
        fine_tune(profile, pairs, val_ir, out, progress=False, callbacks=[CrashAfterFirstSave()])
    second = fine_tune(profile, pairs, val_ir, out, progress=False)
    assert second.resumed
    assert list(second.val_history.epoch) == [0.0, 1.0, 2.0]
    assert second.best_epoch in (1.0, 2.0)
    assert (out / "model" / "model.safetensors").exists()
    assert (out / "val_history.csv").read_text().count("\n") == 4


def test_a_changed_setting_trains_afresh(small_run, tmp_path: Path, capsys):
    pairs, val_ir = small_run
    out = tmp_path / "run"
    first = fine_tune(get_profile("smoke", epochs=1, max_seq_length=64), pairs, val_ir, out, progress=False)
    assert not first.resumed
    again = fine_tune(get_profile("smoke", epochs=1, max_seq_length=64), pairs, val_ir, out, progress=False)
    assert again.resumed and again.recipe_key == first.recipe_key  # same recipe: picks up the finished run
    changed = fine_tune(get_profile("smoke", epochs=1, max_seq_length=64, batch_size=8), pairs, val_ir, out,
                        progress=False)
    assert not changed.resumed and changed.recipe_key != first.recipe_key
    assert "new settings, training from scratch" in capsys.readouterr().out
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == sorted([first.recipe_key, changed.recipe_key])


def test_recipe_key_ignores_where_files_go_but_not_what_is_learned(tmp_path: Path):
    from helpers.lessons.recipe import training_arguments
    from helpers.training.runs import recipe_of

    pairs = [{"anchor": "a question", "positive": "a passage"}]
    profile = get_profile("smoke")

    def key(output_dir: Path, **overrides) -> str:
        args = training_arguments(get_profile("smoke", **overrides), output_dir, prompt=None)
        return start_run(tmp_path / "run", recipe_of(args, object(), profile.model, pairs, True)).key

    assert key(tmp_path / "a") == key(tmp_path / "b")
    assert key(tmp_path / "a") != key(tmp_path / "a", learning_rate=3e-5)
    assert key(tmp_path / "a") != key(tmp_path / "a", epochs=2)
