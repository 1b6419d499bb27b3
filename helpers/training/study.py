"""``python -m helpers study``: choose a training recipe on val, then test the choice once.

Each configuration is the profile plus a few overrides (notebook 03's knobs: hard negatives, epochs with the
best-on-val checkpoint, learning rate, ICT pairs, Matryoshka dim weights). ``run_study`` trains each one with
notebook 03's ``fine_tune`` on notebook 02's pairs and records val ndcg@10 per dim at the checkpoint chosen on val,
with the wall time of the run (mining included). ``test_study`` evaluates chosen configurations once on the test
set with paired bootstrap CIs per dim, against the base model and against each other.

Files: ``outputs/<profile>[-questions]/study/{val.csv, test.csv, test_bootstrap.csv, <config>/...}``.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from helpers.config import STUDY_BASE, STUDY_RECIPES, Profile


@dataclass(frozen=True)
class StudyConfig:
    """One recipe of the grid: a name, the profile fields it changes, and why it is in the grid."""

    name: str
    overrides: dict
    why: str

    def profile_fields(self) -> dict:
        """The profile fields this configuration sets: the grid's base values, then its own overrides."""
        return {**STUDY_BASE, **self.overrides}


# The grid's configurations, from config's plain data (LAB_RECIPE reads the same table).
GRID: tuple[StudyConfig, ...] = tuple(StudyConfig(name, overrides, why) for name, (overrides, why) in STUDY_RECIPES.items())


def grid(names: list[str] | None = None) -> list[StudyConfig]:
    """The grid, or the named configurations of it (in the order given)."""
    by_name = {c.name: c for c in GRID}
    if not names:
        return list(GRID)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown configuration(s) {', '.join(unknown)}; choose from {', '.join(by_name)}")
    return [by_name[n] for n in names]


def config_profile(profile: Profile, config: StudyConfig) -> Profile:
    """The profile with the grid's base values and then the configuration's overrides."""
    return replace(profile, **config.profile_fields())


def _digest(*paths: Path) -> str:
    hasher = hashlib.sha256()
    for path in paths:
        hasher.update(Path(path).read_bytes())
    return hasher.hexdigest()[:16]


def prepare_study_pairs(profile: Profile) -> None:
    """Run notebooks 01-02's steps, so the study trains on the pairs the current data gives (a few seconds)."""
    from helpers.pipeline import step_build_pairs, step_load_corpus

    step_load_corpus(profile)
    step_build_pairs(profile)


def run_config(profile: Profile, config: StudyConfig, keep_checkpoints: bool = False) -> dict:
    """Train one configuration on the profile's pairs (or reuse its saved row) and return its val row."""
    from helpers.data.dataset import load_ir, load_pairs
    from helpers.lessons.recipe import fine_tune

    pairs_file, val_file = profile.outputs / "pairs" / "train.jsonl", profile.outputs / "pairs" / "val_ir.json"
    trained = config_profile(profile, config)
    settings = asdict(trained) | {"outputs": str(profile.outputs)}
    key = hashlib.sha256(json.dumps([settings, _digest(pairs_file, val_file)], sort_keys=True).encode()).hexdigest()[:12]
    out = profile.outputs / "study" / config.name
    row_file = out / "study_row.json"
    if row_file.exists():
        saved = json.loads(row_file.read_text(encoding="utf-8"))
        if saved.get("key") == key and (out / "model").exists():
            return {**{k: settings[k] for k in STUDY_BASE}, **saved}  # rows saved before a knob joined the grid
    start = time.perf_counter()
    result = fine_tune(trained, load_pairs(pairs_file), load_ir(val_file), out, progress=True)
    seconds = time.perf_counter() - start
    best = result.val_history.loc[(result.val_history.epoch - result.best_epoch).abs().idxmin()]
    row = {"config": config.name, "why": config.why, "regime": profile.split_regime, "key": key,
           **{k: v for k, v in settings.items() if k in STUDY_BASE},
           "best_epoch": float(result.best_epoch),
           **{f"val_ndcg@10_{d}": float(best[f"val_dim{d}_ndcg@10"]) for d in result.dims},
           "val_mean_ndcg@10": float(best["val_mean_ndcg@10"]),
           "wall_s": round(seconds, 1), "device": result.device}
    if not keep_checkpoints:  # the chosen model is saved in model/; optimizer states are large
        shutil.rmtree(out / "checkpoints", ignore_errors=True)
    row_file.write_text(json.dumps(row, indent=1), encoding="utf-8")
    return row


def run_study(profile: Profile, configs: list[StudyConfig]) -> pd.DataFrame:
    """Train every configuration on this profile's split regime; write and return ``study/val.csv``."""
    prepare_study_pairs(profile)
    rows = []
    for config in configs:
        print(f"[study {profile.split_regime}] {config.name}: {config.why}")
        rows.append(run_config(profile, config))
    table = pd.DataFrame(rows).drop(columns=["key"])
    out = profile.outputs / "study"
    out.mkdir(parents=True, exist_ok=True)
    previous = out / "val.csv"
    if previous.exists():  # keep rows of configurations not run this time
        old = pd.read_csv(previous)
        table = pd.concat([old[~old.config.isin(table.config)], table], ignore_index=True)
    table.to_csv(previous, index=False)
    return table


def best_on_val(table: pd.DataFrame) -> str:
    """The configuration with the highest val mean ndcg@10 over dims (the metric that picks checkpoints)."""
    return str(table.sort_values("val_mean_ndcg@10", ascending=False).iloc[0]["config"])


def test_study(profile: Profile, names: list[str]) -> dict[str, pd.DataFrame]:
    """Evaluate the base model and the named configurations once on the test set, with paired bootstrap CIs.

    Each configuration is compared with the base model and with every configuration named before it (the first
    name is the reference recipe).
    """
    from helpers.config import matryoshka_dims
    from helpers.data.dataset import load_ir
    from helpers.evaluation.metrics import encode_ir, evaluate_bm25, evaluate_encoded, paired_bootstrap, summarize
    from helpers.training.modeling import load_model

    test_ir = load_ir(profile.outputs / "pairs" / "test_ir.json")
    frames = []
    for system in ["base", *names]:
        path = profile.model if system == "base" else str(profile.outputs / "study" / system / "model")
        if system != "base" and not Path(path).exists():
            raise FileNotFoundError(f"{path} is missing: run `python -m helpers study --configs {system}` first")
        encoded = encode_ir(load_model(path, profile.max_seq_length if system == "base" else None), test_ir)
        dims = matryoshka_dims(encoded.queries.shape[1])
        frames.append(evaluate_encoded(encoded, test_ir["relevant_docs"], dims).assign(system=system))
    frames.append(evaluate_bm25(test_ir))
    per_query = pd.concat(frames, ignore_index=True)
    boot = [paired_bootstrap(per_query, baseline="base", seed=profile.seed)]
    for i, reference in enumerate(names[:-1]):  # every later configuration against every earlier one
        pair = per_query[per_query.system.isin(names[i:])]
        boot.append(paired_bootstrap(pair, baseline=reference, seed=profile.seed))
    bootstrap = pd.concat(boot, ignore_index=True)
    summary = summarize(per_query)
    out = profile.outputs / "study"
    per_query.to_csv(out / "test_per_query.csv", index=False)
    summary.to_csv(out / "test.csv", index=False)
    bootstrap.to_csv(out / "test_bootstrap.csv", index=False)
    return {"summary": summary, "bootstrap": bootstrap, "per_query": per_query}


def describe(row: dict) -> str:
    """A configuration's knobs in a few words: epochs, learning rate, batch, negatives, extras."""
    rate = f"{row['learning_rate']:.0e}".replace("e-0", "e-")  # 1e-4, not 0.0001
    parts = [f"{int(row['epochs'])} ep", f"lr {rate}", f"batch {int(row['batch_size'])}"]
    if row.get("hard_negatives"):
        parts.append(f"{int(row['hard_negatives'])} hard neg")
    if row.get("ict_pairs") in (True, "True"):
        parts.append("+ICT")
    if row.get("dim_weights", "equal") != "equal":
        parts.append(str(row["dim_weights"]))
    return ", ".join(parts)


def val_table(table: pd.DataFrame) -> str:
    """The val table as printed: ndcg@10 per dim, the mean, best epoch and wall time per configuration."""
    dims = [c for c in table.columns if c.startswith("val_ndcg@10_")]
    shown = table[["config", *dims, "val_mean_ndcg@10", "best_epoch", "wall_s"]].copy()
    shown.columns = ["config", *[c.split("_")[-1] for c in dims], "mean", "best epoch", "wall s"]
    shown.insert(1, "recipe", [describe(row) for row in table.to_dict("records")])
    return shown.round(3).to_string(index=False)
