"""DDP on CPU: two gloo processes run `python -m helpers train` on a tiny BERT.

``torchrun`` starts two copies of a small entry script. Each copy prepares the smoke pairs
under ``main_process_first`` (only rank 0 should build them), spies on ``build_loss`` to
record what the process saw (rank, world size, whether negatives are gathered across devices,
a checksum of the weights before training), runs the real CLI command, then records the
checksum after training. DDP keeps the two replicas identical, so equal checksums on both
ranks, different from the starting one, show the gradients were shared.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from gpu_check_loader import load_gpu_check

ROOT = Path(__file__).resolve().parents[1]

ENTRY = '''
import json, sys
from pathlib import Path

import helpers.lessons.recipe as training
from helpers.config import get_profile
from helpers.training.distributed import main_process_first, rank, world_size
from helpers.pipeline import step_build_pairs, step_load_corpus

out = Path(sys.argv[1])
record = {"prepared_pairs": False}


def checksum(model):
    return float(sum(p.detach().double().sum() for p in model.parameters()))


real_build_loss = training.build_loss


def spy_build_loss(model, *args, **kwargs):
    loss = real_build_loss(model, *args, **kwargs)
    inner = getattr(loss, "loss", loss)  # MatryoshkaLoss keeps the wrapped loss in .loss
    record.update(world_size=world_size(), rank=rank(), gather=bool(inner.gather_across_devices),
                  before=checksum(model))
    record["_model"] = model
    return loss


training.build_loss = spy_build_loss

with main_process_first():
    profile = get_profile("smoke")
    if not (profile.outputs / "pairs" / "train.jsonl").exists():
        step_load_corpus(profile)
        step_build_pairs(profile)
        record["prepared_pairs"] = True

from helpers.__main__ import main  # noqa: E402

code = main(["train", "--profile", "smoke"])

import torch.distributed as dist  # noqa: E402

model = record.pop("_model")
record.update(code=code, after=checksum(model), backend=dist.get_backend() if dist.is_initialized() else None)
(out / f"rank{record['rank']}.json").write_text(json.dumps(record))
'''



@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddp")
    gpu_check = load_gpu_check()
    model_dir = gpu_check.build_random_bert(dict(gpu_check.TINY_SHAPE), tmp / "tiny-bert", pooling="mean")
    entry = tmp / "entry.py"
    entry.write_text(ENTRY, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("LAB_PROFILE", "LAB_SPLIT", "RANK", "WORLD_SIZE")}
    env.update(LAB_MODEL=str(model_dir), LAB_OUTPUTS=str(tmp / "outputs"), HF_HUB_OFFLINE="1",
               OMP_NUM_THREADS="1", TOKENIZERS_PARALLELISM="false", CUDA_VISIBLE_DEVICES="",
               # This test is about gradient sync. With a mined negative per row, the no-duplicates sampler fits
               # the 64 smoke pairs into fewer full batches per rank, too few steps to leave warm-up (lr 0).
               LAB_HARD_NEGATIVES="0")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(entry), str(tmp)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    records = {}
    for path in sorted(tmp.glob("rank*.json")):
        record = json.loads(path.read_text())
        records[record["rank"]] = record
    return proc, records, tmp / "outputs" / "smoke"


def _failure(proc) -> str:
    return f"torchrun exited {proc.returncode}\n--- stderr tail ---\n{proc.stderr[-4000:]}"


def test_both_ranks_train_one_ddp_model(ddp_run):
    proc, records, _ = ddp_run
    assert proc.returncode == 0, _failure(proc)
    assert sorted(records) == [0, 1], f"ranks that finished: {sorted(records)}\n{_failure(proc)}"
    for rank, record in records.items():
        assert record["world_size"] == 2, record
        assert record["backend"] == "gloo", record
        assert record["gather"] is True, f"rank {rank} did not gather negatives across devices"
        assert record["code"] == 0, record
    assert records[0]["before"] == records[1]["before"]
    # DDP averages gradients, so both replicas take the same steps and end identical...
    assert records[0]["after"] == pytest.approx(records[1]["after"], rel=0, abs=1e-9)
    # ...and the steps did change the weights.
    assert records[0]["after"] != pytest.approx(records[0]["before"], rel=0, abs=1e-9)


def test_only_rank_zero_prepares_the_data(ddp_run):
    proc, records, outputs = ddp_run
    assert sorted(records) == [0, 1], _failure(proc)
    assert records[0]["prepared_pairs"] is True
    assert records[1]["prepared_pairs"] is False, "rank 1 rebuilt the pairs instead of waiting for rank 0"
    assert (outputs / "pairs" / "train.jsonl").exists()


def test_model_and_summary_saved(ddp_run):
    from helpers.training.modeling import load_model

    proc, _, outputs = ddp_run
    assert proc.returncode == 0, _failure(proc)
    summary = json.loads((outputs / "matryoshka" / "train_summary.json").read_text())
    assert summary["dims"] == [32]
    model = load_model(str(outputs / "matryoshka" / "model"), device="cpu")
    assert model.encode(["a saved model encodes"]).shape == (1, 32)


def test_only_rank_zero_reports(ddp_run):
    proc, _, outputs = ddp_run
    assert proc.returncode == 0, _failure(proc)
    assert proc.stdout.count("best epoch") == 1, (
        "the end-of-training summary should be printed by rank 0 only; got:\n" + proc.stdout[-2000:]
    )
    summary = json.loads((outputs / "matryoshka" / "train_summary.json").read_text())
    assert summary.get("world_size") == 2, "train_summary.json should record how many processes trained"
