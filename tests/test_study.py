"""``python -m helpers study`` under smoke: a two-recipe grid on val, its cache, and the one-off test comparison."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.__main__ import main
from helpers.config import STUDY_BASE, get_profile
from helpers.training.study import GRID, best_on_val, config_profile, decide, grid


def test_grid_names_and_overrides():
    assert GRID[0].name == "current"
    assert len({c.name for c in GRID}) == len(GRID)
    with pytest.raises(ValueError, match="unknown configuration"):
        grid(["current", "no-such-recipe"])
    hn = config_profile(get_profile("default"), grid(["hn1"])[0])
    assert hn.hard_negatives == 1 and hn.epochs == STUDY_BASE["epochs"]
    # "current" is the recipe before the study, whatever the profile's own defaults become
    current = config_profile(get_profile("default", learning_rate=1e-3, hard_negatives=3), grid(["current"])[0])
    assert (current.learning_rate, current.hard_negatives) == (2e-5, 0)


def test_lab_recipe_applies_a_grid_configuration(monkeypatch):
    monkeypatch.setenv("LAB_RECIPE", "current")
    current = get_profile("default")
    assert (current.learning_rate, current.hard_negatives, current.batch_size) == (2e-5, 0, 16)
    monkeypatch.setenv("LAB_RECIPE", "hn1-lr1e-4-b32")
    assert (get_profile("default").hard_negatives, get_profile("default").batch_size) == (1, 32)
    monkeypatch.setenv("LAB_RECIPE", "best-ever")
    with pytest.raises(ValueError, match="LAB_RECIPE='best-ever'"):
        get_profile("default")


def test_best_on_val_uses_the_mean_over_dims():
    table = pd.DataFrame({"config": ["a", "b"], "val_mean_ndcg@10": [0.70, 0.72], "val_ndcg@10_384": [0.9, 0.8]})
    assert best_on_val(table) == "b"


def test_the_rule_picks_the_cheapest_recipe_near_the_best_that_gains_at_small_dims_and_fits_memory():
    rows = pd.DataFrame({
        "config": ["best", "cheap-but-worse", "cheap-no-gain", "too-big", "fine", "finer"],
        "cpu_s": [900, 100, 120, 130, 400, 300],
        "peak_gib": [3.5, 2.0, 2.0, 6.0, 2.5, 2.6],
        "minus_best_low": [0.0, -0.05, -0.01, -0.01, -0.02, -0.03],
        "minus_best_high": [0.0, -0.01, 0.02, 0.02, 0.01, 0.005],
        "gain_64_low": [0.05, 0.04, 0.01, 0.03, 0.02, 0.02],
        "gain_32_low": [0.05, 0.04, -0.01, 0.03, 0.02, 0.01],
    })
    verdict = decide(rows).set_index("config")
    assert verdict.chosen.sum() == 1 and verdict.chosen["finer"]
    assert not verdict.qualifies["cheap-but-worse"]  # its interval against the best excludes 0
    assert not verdict.qualifies["cheap-no-gain"]  # no real gain at 32 dims
    assert not verdict.qualifies["too-big"]  # over the 4 GiB budget
    assert not decide(rows.assign(peak_gib=9.0)).chosen.any()  # nothing fits: nothing is chosen
    near_tie = rows.assign(cpu_s=[900, 100, 120, 130, 290, 300], peak_gib=[3.5, 2.0, 2.0, 6.0, 3.9, 2.6])
    assert decide(near_tie).set_index("config").chosen["finer"]  # within 10% in cost: the lower peak memory wins


def test_study_trains_caches_and_tests(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LAB_OUTPUTS", str(tmp_path))
    assert main(["study", "--profile", "smoke", "--regime", "chunks", "--configs", "current", "hn1"]) == 0
    out = capsys.readouterr().out
    assert "best on val" in out and "chosen:" in out
    rule = pd.read_csv(tmp_path / "smoke" / "study" / "rule.csv")
    assert list(rule.config) == ["current", "hn1"] and rule.cpu_s.gt(0).all() and rule.peak_gib.gt(0).all()
    val = pd.read_csv(tmp_path / "smoke" / "study" / "val.csv")
    assert list(val.config) == ["current", "hn1"]
    assert (val.wall_s > 0).all() and val["val_ndcg@10_384"].between(0, 1).all()
    assert list(val.hard_negatives) == [0, 1]
    # The hn1 run trained on (anchor, positive, negative_1) rows
    recipe = next((tmp_path / "smoke" / "study" / "hn1").glob("train_summary.json")).read_text()
    assert '"hard_negatives": 1' in recipe

    # A second call with the same data and settings reuses the rows instead of training again
    assert main(["study", "--profile", "smoke", "--regime", "chunks", "--configs", "current", "hn1"]) == 0
    again = capsys.readouterr().out
    assert "training from scratch" not in again and "resuming" not in again
    assert pd.read_csv(tmp_path / "smoke" / "study" / "val.csv").equals(val)

    assert main(["study", "--profile", "smoke", "--regime", "chunks", "--test", "current", "best"]) == 0
    boot = pd.read_csv(tmp_path / "smoke" / "study" / "test_bootstrap.csv")
    summary = pd.read_csv(tmp_path / "smoke" / "study" / "test.csv")
    assert {"base", "current", "BM25"} <= set(summary.system)
    assert set(boot.baseline) >= {"base"}
    assert "paired bootstrap" in capsys.readouterr().out
