"""After the notebooks ran (nbval, smoke profile), their outputs are what the next steps need."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.config import get_profile


@pytest.fixture
def outputs(request):
    if not getattr(request.config, "notebooks_collected", False):
        pytest.skip("the notebooks were not executed in this pytest run (run `make test` or include notebooks/)")
    return get_profile().outputs


def test_fine_tuned_models_exist(outputs):
    for name in ("matryoshka", "mnrl"):
        model = outputs / name / "model"
        assert (model / "model.safetensors").stat().st_size > 1_000_000
        assert "MatryoshkaLoss" in (outputs / "matryoshka" / "model" / "README.md").read_text()


def test_metrics_table_has_a_row_per_dim_and_system(outputs):
    summary = pd.read_csv(outputs / "results" / "summary.csv")
    dims = [384, 256, 128, 64, 32]
    expected = {(s, d) for s in ("base", "matryoshka", "mnrl") for d in dims} | {("BM25", 0)}
    expected |= {(f"{s}+bm25", d) for s in ("base", "matryoshka", "mnrl") for d in dims}  # each fused with BM25
    assert set(zip(summary.system, summary.dim)) == expected
    assert summary["ndcg@10"].between(0, 1).all() and summary["ndcg@10"].max() > 0.3


def test_plots_were_written(outputs):
    for name in ("chunk_lengths.png", "val_curve.png", "ndcg_vs_dim.png", "paired_differences.png", "bytes_vs_ndcg.png"):
        assert (outputs / "plots" / name).stat().st_size > 10_000
