"""benchmarks/gpu_check.py keeps working: its --tiny CPU run, its figures and its goal logic."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gpu_check_loader import load_gpu_check

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"



@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check") / "figures.json"
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--batches", "2", "3", "--steps", "1", "--warmup", "1",
           "--query-tokens", "6", "--passage-tokens", "16", "--published-pairs", "10", "--published-epochs", "2",
           "--published-batch", "4", "--json", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc.stdout, json.loads(out.read_text())


def test_tiny_run_writes_and_prints_its_summary(tiny_run):
    stdout, summary = tiny_run
    # The JSON printed last is the one written to --json.
    lines = stdout.splitlines()
    start = max(i for i, line in enumerate(lines) if line == "{")
    assert json.loads("\n".join(lines[start:])) == summary
    assert summary["tiny"] is True and summary["device"] == "cpu"
    assert "samples/s" in stdout and "published-size run" in stdout


def test_tiny_run_measures_every_model_and_batch(tiny_run):
    _, summary = tiny_run
    rows = {(r["model"], r["batch"]): r for r in summary["throughput"]}
    assert set(rows) == {(m, b) for m in ("tiny-bert", "minilm") for b in (2, 3)}
    for (_, batch), row in rows.items():
        assert row["status"] == "ok", row
        # Synthetic texts are exactly the requested lengths: 6-token queries, 16-token passages.
        assert row["tokens_per_step"] == batch * (6 + 16), row
        assert row["samples_per_s"] > 0 and row["tokens_per_s"] > 0
        assert row["mfu"] is None  # no peak FLOP/s on a CPU
        assert row["peak_memory_gib"] > 0
    for name, info in summary["models"].items():
        assert info["weights_dtype"] == "torch.float32", name
        assert info["attention"] == "sdpa", name
        assert 0 < info["params_dense"] < info["params"]


def test_tiny_run_times_a_published_size_run(tiny_run):
    _, summary = tiny_run
    run = summary["published_run"]
    assert run["status"] == "ok", run
    assert run["steps"] == math.ceil(10 / 4) * 2  # every pair seen each epoch, batches of 4
    assert run["wall_s"] > 0
    assert run["weights_dtype_after"] == "torch.float32"
    assert run["trainer_args"]["optim"] == "adamw_torch" and run["trainer_args"]["bf16"] is False
    assert summary["goals"]["judged"] is False


@pytest.mark.parametrize(("name", "peak"), [
    ("NVIDIA H100 80GB HBM3", 989.0), ("NVIDIA H100 PCIe", 756.0), ("NVIDIA H200", 989.0),
    ("NVIDIA A100-SXM4-80GB", 312.0), ("Tesla T4", None), (None, None),
])
def test_peak_detection(name, peak):
    assert load_gpu_check().detect_peak_tflops(name) == peak


def _gpu_summary(wall_s: float, mfus: dict[int, float], gpu: str = "NVIDIA H100 80GB HBM3") -> dict:
    return {
        "tiny": False, "device": "cuda", "gpu_name": gpu,
        "published_run": {"status": "ok", "wall_s": wall_s},
        "throughput": [{"model": "arctic-l-shape", "batch": b, "status": "ok", "mfu": m} for b, m in mfus.items()]
        + [{"model": "arctic-l-shape", "batch": 256, "status": "oom"}],
    }


def test_goals_met_and_missed():
    gpu_check = load_gpu_check()
    met = gpu_check.judge_goals(_gpu_summary(24.0, {10: 0.1, 64: 0.36, 128: 0.41}))
    assert met["judged"] and met["published_run_met"] is True and met["mfu_met"] is True
    # A high MFU at a small batch does not count; batch >= 64 must reach 35%.
    missed = gpu_check.judge_goals(_gpu_summary(31.0, {32: 0.5, 64: 0.30, 128: 0.34}))
    assert missed["published_run_met"] is False and missed["mfu_met"] is False
    other = gpu_check.judge_goals(_gpu_summary(20.0, {64: 0.4}, gpu="NVIDIA A100-SXM4-80GB"))
    assert "not an H100" in other["note"]


def test_out_of_memory_is_reported_and_the_next_batch_still_runs(tmp_path, monkeypatch):
    import torch

    from helpers.training.modeling import load_model

    gpu_check = load_gpu_check()
    model = load_model(str(gpu_check.build_random_bert(dict(gpu_check.TINY_SHAPE), tmp_path / "tiny")), device="cpu")
    real = gpu_check._time_steps

    def fail_at_three(model, loss, features, device, steps, warmup, bf16):
        if features[0]["input_ids"].shape[0] == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real(model, loss, features, device, steps, warmup, bf16)

    monkeypatch.setattr(gpu_check, "_time_steps", fail_at_three)
    rows = [gpu_check.measure_throughput(model, "tiny-bert", batch, 4, 8, "cpu", 1, 0, False, None)
            for batch in (3, 2)]
    assert rows[0]["status"] == "oom" and "out of memory" in rows[0]["error"]
    assert rows[1]["status"] == "ok" and rows[1]["samples_per_s"] > 0


def test_half_precision_checkpoint_loads_with_fp32_weights(tmp_path):
    """bf16 must come from autocast only: a checkpoint saved in bf16 still trains on fp32 weights
    (transformers 5 otherwise loads a checkpoint in the dtype it was saved in)."""
    import torch

    from helpers.training.modeling import load_model

    gpu_check = load_gpu_check()
    saved = load_model(str(gpu_check.build_random_bert(dict(gpu_check.TINY_SHAPE), tmp_path / "fp32")), device="cpu")
    saved.to(torch.bfloat16).save(str(tmp_path / "bf16"))
    assert {p.dtype for p in load_model(str(tmp_path / "bf16"), device="cpu").parameters()} == {torch.float32}
